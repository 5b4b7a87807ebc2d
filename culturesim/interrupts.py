"""Ctrl-C that is never lost: loops of runs stop at the next run even if Python swallowed it.

Python turns SIGINT into a ``KeyboardInterrupt`` wherever the main thread happens to be. Where
that is a weakref callback or a ``__del__`` method (Mesa's agent sets hold agents in weak
dictionaries, so a finished model's clean-up runs such callbacks), Python prints "Exception
ignored in ..." and carries on: the Ctrl-C is lost, and a sweep would run to its end.
:func:`noticing_ctrl_c` remembers the signal as well as raising it, and a loop asks after each
run.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

__all__ = ["noticing_ctrl_c"]


@contextlib.contextmanager
def noticing_ctrl_c() -> Iterator[Callable[[], None]]:
    """Within the block, a Ctrl-C raises ``KeyboardInterrupt`` as usual and is also remembered.

    Yields:
        ``check()``: raises ``KeyboardInterrupt`` if a Ctrl-C came since the block began (call
        it between runs). It never raises where SIGINT is not Python's default handler (a
        thread other than the main one, or a program that handles SIGINT itself): those keep
        their own handling.
    """
    came = threading.Event()

    def check() -> None:
        if came.is_set():
            raise KeyboardInterrupt

    in_main = threading.current_thread() is threading.main_thread()
    if not in_main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield check
        return

    def handler(signum, frame):
        came.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield check
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
