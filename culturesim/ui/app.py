"""The Solara app: ``solara run culturesim.ui.app`` serves it (``culturesim ui`` does that).

Two pages: the strategist's what-if dashboard at ``/`` and the classroom at ``/classroom``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import ipyvuetify as v
import solara

from culturesim.ui.classroom import ClassroomPage
from culturesim.ui.strategist import StrategistPage

__all__ = ["Layout", "routes"]


#: Window width (px) below which the sidebar floats over the page instead of standing beside it,
#: and starts closed (a phone). Vuetify's default is 1280, which put a grey overlay over the
#: charts on 1200-px screens.
SIDEBAR_OVERLAY_BELOW = 960


def _widgets(root):
    """``root`` and every widget under it (through ``children``)."""
    stack = [root]
    while stack:
        widget = stack.pop()
        yield widget
        children = getattr(widget, "children", None) or ()
        stack.extend(c for c in children if hasattr(c, "keys"))  # widgets, not text


@solara.component_vue("navigator_ready.vue")
def NavigatorReady(event_ready: Callable[[int], None]):
    """An invisible element: ``event_ready(window width in px)`` once Solara's navigator started."""


@solara.component
def Layout(children=()):
    """The frame around both pages: title bar and navigation tabs named by the routes' labels.

    Solara's own AppLayout tabs show the path ("HOME" for ``/``), so the tabs are made here.
    A tab clicked before Solara's navigator has started in the page is held until it has
    (:func:`NavigatorReady`): the navigator's first act is to report the address the page
    loaded with, which would undo a page change made before it. A page's sidebar stands beside
    it down to :data:`SIDEBAR_OVERLAY_BELOW` px of window width; below, it floats over the page
    and starts closed (the menu button in the title bar opens it), so a phone shows the page
    first. Solara's AppLayout shows that button without its icon: the icon is set here.
    """
    route, all_routes = solara.use_route()
    router = solara.use_router()
    ready = solara.use_ref(False)
    held = solara.use_ref(None)  # the path of a tab clicked before the navigator started
    narrow, set_narrow = solara.use_state(False)  # the window is narrower than a sidebar needs
    paths = [solara.resolve_path(r, level=0) for r in all_routes]
    index = all_routes.index(route) if route in all_routes else 0

    def go(i: int) -> None:
        if ready.current:
            router.push(paths[i])
        else:
            held.current = paths[i]

    def on_ready(width: int) -> None:
        ready.current = True
        set_narrow(width < SIDEBAR_OVERLAY_BELOW)
        if held.current is not None:
            path, held.current = held.current, None
            router.push(path)

    def mend_the_app_layout():
        # Solara's AppLayout makes the drawer when a page puts something in the sidebar, which
        # can be after this layout's render: so watch the layout's widgets for new children.
        root = solara.get_widget(main)

        def mend(_=None):
            for widget in _widgets(root):
                if isinstance(widget, v.NavigationDrawer) and widget.mobile_breakpoint is None:
                    widget.mobile_breakpoint = SIDEBAR_OVERLAY_BELOW
                if isinstance(widget, v.AppBarNavIcon) and not widget.children:
                    # Solara 1.64 leaves the sidebar's button blank
                    widget.children = [v.Icon(children=["mdi-menu"])]

        watched = list(_widgets(root))
        for widget in watched:
            widget.observe(mend, "children")
        mend()

        def stop():
            for widget in watched:
                widget.unobserve(mend, "children")

        return stop

    solara.use_effect(mend_the_app_layout, [])

    # our Tabs replace its own; a change of sidebar_open opens or closes the sidebar
    with solara.AppLayout(title="culturesim", sidebar_open=not narrow) as main:
        with solara.AppBar():  # the tabs and the navigator check live in the title bar
            with solara.lab.Tabs(value=index, on_value=go):
                for r in all_routes:
                    solara.lab.Tab(r.label or r.path)
            NavigatorReady(event_ready=on_ready)
        for child in children:
            solara.display(child)
    return main


if os.environ.get("CULTURESIM_UI_WARMUP") == "1":  # set by `culturesim ui`: start workers now
    from culturesim.ui.runs import start_warm_up

    start_warm_up()

if parent := os.environ.get("CULTURESIM_UI_PARENT"):  # `culturesim ui`: stop when it is gone
    from culturesim.interrupts import when_gone

    when_gone(int(parent), lambda: os.kill(os.getpid(), signal.SIGINT))  # as cli.cmd_ui

# Solara wraps every page in the root route's layout (a module-level Layout is not used when
# the module defines routes)
routes = [
    solara.Route(path="/", component=StrategistPage, label="Strategist", layout=Layout),
    solara.Route(path="classroom", component=ClassroomPage, label="Classroom"),
]
