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
    """The frame around both pages: title bar and navigation tabs named by the routes' labels.

    Solara's own AppLayout tabs show the path ("HOME" for ``/``), so the tabs are made here.
    """
    route, all_routes = solara.use_route()
    router = solara.use_router()
    paths = [solara.resolve_path(r, level=0) for r in all_routes]
    index = all_routes.index(route) if route in all_routes else 0
    with solara.AppLayout(title="culturesim") as main:  # our Tabs replace its own
        with solara.AppBar():  # noqa: SIM117 (Tabs must be created inside the AppBar)
            with solara.lab.Tabs(value=index, on_value=lambda i: router.push(paths[i])):
                for r in all_routes:
                    solara.lab.Tab(r.label or r.path)
        for child in children:
            solara.display(child)
    return main


if os.environ.get("CULTURESIM_UI_WARMUP") == "1":  # set by `culturesim ui`: start workers now
    from culturesim.ui.runs import warm_up

    threading.Thread(target=warm_up, name="culturesim-warm-up", daemon=True).start()

# Solara wraps every page in the root route's layout (a module-level Layout is not used when
# the module defines routes)
routes = [
    solara.Route(path="/", component=StrategistPage, label="Strategist", layout=Layout),
    solara.Route(path="classroom", component=ClassroomPage, label="Classroom"),
]
