"""The culturesim web UI (Solara): a strategist page and a classroom page.

Start it with ``culturesim ui`` (or ``make demo``); the app module is :mod:`culturesim.ui.app`.
"""

#: The largest company (planned headcount by the horizon) and market (potential users) the UI
#: runs unless ``culturesim ui --max-employees`` and ``--max-users`` say otherwise: ten
#: replications of a setting this size take a minute or two on two cores; much larger ones take
#: many minutes and gigabytes a worker, on a server a class may share. The command line runs any
#: valid scenario. (Here, not in :mod:`culturesim.ui.runs`, so the CLI reads them cheaply.)
UI_MAX_EMPLOYEES = 100_000
UI_MAX_USERS = 2_000_000
#: The most events a setting of the strategist page may have: it lists each with its buttons
#: and marks each on every chart. 200 show in about 2 s; the 12,000 a 1 MB upload can hold kept
#: the server busy for a minute, every other visitor's page waiting. The command line runs any.
UI_MAX_EVENTS = 200


def configured_workers() -> int | None:
    """How many worker processes ``CULTURESIM_UI_WORKERS`` asks for; None if it is not set.

    Unset, the server starts one a core (:func:`culturesim.run.cores`); 0 runs inline.

    Raises:
        ValueError: If it is set to anything but a whole number, 0 or more.
    """
    import os

    text = os.environ.get("CULTURESIM_UI_WORKERS")
    if text is None:
        return None
    try:
        workers = int(text)
    except ValueError:
        workers = -1
    if workers < 0:
        raise ValueError(
            f"CULTURESIM_UI_WORKERS={text!r}: expected a whole number of worker processes, 0 or "
            "more (0 runs them in the server's process; unset: one a core)"
        )
    return workers


#: Both pages' style for a disabled button: greyed whatever its colour. Vuetify keeps a coloured
#: button's colour class (``bg-primary``, with ``!important``) when it is disabled, so a
#: disabled Run (a setting with a problem) or Setup (a lesson's question not yet answered)
#: looked as clickable as ever; now as an uncoloured disabled button does (Step before Setup).
DISABLED_BUTTON_CSS = """
.v-btn.v-btn--disabled[class*="bg-"] {
  background-color: rgb(var(--v-theme-surface)) !important;
  color: rgba(var(--v-theme-on-surface), 0.26) !important;
}
"""
