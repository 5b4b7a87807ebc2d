"""The UI's server process: Solara's ``solara run culturesim.ui.app`` without its farewell.

``culturesim ui`` starts this module (``python -m culturesim.ui.serve [solara run options]``)
and stops it with SIGINT. Solara's own command line answers that stop with "Aborted." and exit
status 1, as if something had gone wrong; here a stop that was asked for ends quietly with 0.
"""

from __future__ import annotations

import contextlib
import sys

import click  # Solara's command line is built on it


def main(argv: list[str]) -> int:
    """Serve the culturesim app with ``solara run`` and the given options; return the status.

    Args:
        argv: Options for ``solara run`` after the app's name (``--host``, ``--port`` ...).
    """
    from solara.__main__ import cli

    with contextlib.suppress(click.exceptions.Abort):  # SIGINT: the stop culturesim ui asks for
        cli.main(["run", "culturesim.ui.app", *argv], standalone_mode=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
