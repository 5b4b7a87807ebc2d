"""The UI's server process: Solara's ``solara run culturesim.ui.app`` without its farewell.

Nor its calls out: ``solara run`` asks pypi.org for Solara's latest version as it starts
(printing advice to upgrade past culturesim's pins), and Solara's server reports its start,
stop and daily use to Mixpanel, with a fingerprint of the machine and the address api.ipify.org
gives it. Here the version is never asked for, and the reports are sent only where the
environment sets ``SOLARA_TELEMETRY_MIXPANEL_ENABLE`` (to ``True``).

``culturesim ui`` starts this module (``python -m culturesim.ui.serve [solara run options]``)
and stops it with SIGINT. Solara's own command line answers that stop with "Aborted." and exit
status 1, as if something had gone wrong; here a stop that was asked for ends quietly with 0.

A SIGINT that comes while the server is still starting (importing Solara, a second or two) is
held until the server handles SIGINT itself, then passed on (:func:`hold_sigint`): it used to
land in those imports, which printed a traceback, or was lost (where ``culturesim ui`` was
started with SIGINT ignored, as a script's ``cmd &`` is), and the server went on serving with
nobody to stop it. ``culturesim ui`` starts this process with SIGINT blocked, so that not even
one sent before this module runs is lost: it waits until :func:`hold_sigint` unblocks it.
"""

from __future__ import annotations

import os
import signal
import threading
import time

#: Not empty once a SIGINT came before the server could take it (:func:`hold_sigint`). A list,
#: not a ``threading.Event``: a second SIGINT's handler, run while the first's was setting an
#: Event, would wait for its lock for ever (``culturesim.interrupts`` keeps its records so too).
HELD: list[int] = []


def hold_sigint() -> None:
    """Hold a SIGINT until the server (uvicorn) handles SIGINT, then send it again.

    Installs a handler that only notes the signal (and unblocks SIGINT, which ``culturesim ui``
    starts this process with blocked), and a watcher thread that waits for the server to put
    its own handler in place (polling every 50 ms) and then sends SIGINT to this process if one
    was held. After the server has run, it puts this handler back and raises the signal it
    stopped for once more: that one is the stop itself and is dropped.
    """
    served = threading.Event()  # set by the watcher thread only, read without its lock

    def note(signum, frame) -> None:
        if not served.is_set():
            HELD.append(signum)

    def watch() -> None:
        while signal.getsignal(signal.SIGINT) is note:
            time.sleep(0.05)
        served.set()
        if HELD:
            os.kill(os.getpid(), signal.SIGINT)

    signal.signal(signal.SIGINT, note)  # also where SIGINT was ignored: this process's stop
    threading.Thread(target=watch, name="hold-sigint", daemon=True).start()
    if hasattr(signal, "pthread_sigmask"):  # one sent meanwhile is noted now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def main(argv: list[str]) -> int:
    """Serve the culturesim app with ``solara run`` and the given options; return the status.

    Args:
        argv: Options for ``solara run`` after the app's name (``--host``, ``--port`` ...).
    """
    import contextlib

    telemetry = "solara_telemetry_mixpanel_enable"  # Solara reads it in any case, on import
    if not any(name.lower() == telemetry for name in os.environ):
        os.environ[telemetry.upper()] = "False"
    import click  # Solara's command line is built on it
    from solara.__main__ import cli

    if HELD:  # stopped while importing Solara: nothing to start
        return 0
    with contextlib.suppress(click.exceptions.Abort):  # SIGINT: the stop culturesim ui asks for
        cli.main(["run", "culturesim.ui.app", "--no-check-version", *argv], standalone_mode=False)
    return 0


if __name__ == "__main__":
    hold_sigint()  # first: the imports below take a second or two

    import sys

    sys.exit(main(sys.argv[1:]))
