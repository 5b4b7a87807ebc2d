"""The Solara app: ``solara run culturesim.ui.app`` serves it (``culturesim ui`` does that).

Two pages: the strategist's what-if dashboard at ``/`` and the classroom at ``/classroom``.
"""

from __future__ import annotations

import os
import threading

import solara

from culturesim.ui.classroom import ClassroomPage
from culturesim.ui.strategist import StrategistPage

__all__ = ["Layout", "routes"]


@solara.component
def Layout(children=()):
    """The frame around both pages: title bar and navigation tabs."""
    return solara.AppLayout(children=children, title="culturesim")


if os.environ.get("CULTURESIM_UI_WARMUP") == "1":  # set by `culturesim ui`: start workers now
    from culturesim.ui.runs import warm_up

    threading.Thread(target=warm_up, name="culturesim-warm-up", daemon=True).start()

routes = [
    solara.Route(path="/", component=StrategistPage, label="Strategist"),
    solara.Route(path="classroom", component=ClassroomPage, label="Classroom"),
]
