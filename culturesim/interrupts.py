"""Ctrl-C that is never lost: loops of runs stop at the next run even if Python swallowed it.

Python turns SIGINT into a ``KeyboardInterrupt`` wherever the main thread happens to be. Where
that is a weakref callback or a ``__del__`` method (Mesa's agent sets hold agents in weak
dictionaries, so a finished model's clean-up runs such callbacks), Python prints "Exception
ignored in ..." and carries on: the Ctrl-C is lost, and a sweep would run to its end.
:func:`noticing_ctrl_c` remembers the signal as well as raising it, and a loop asks after each
run. :func:`stop_on` makes other signals (SIGTERM, SIGHUP) stop the program the same way,
:func:`quiet_when_remembered` keeps Python from printing a traceback for an interrupt that is
remembered, and :func:`when_gone` lets a worker process end with the process it works for,
however that ended: :func:`work_for` starts a pool's worker so, and :func:`stop_workers` stops
a pool without waiting for its running work. Within a :func:`held` block a stop waits for the
block's end: for a few steps that must all happen or none.

A stop signal that comes again while the program is stopping (Ctrl-C pressed twice) is
absorbed for :data:`REPEAT_SECONDS`: raised again, it cut the first one's clean-up short, and a
sweep's pool, shut down half-way, could wait for its workers for ever.

A stop that lands while the main thread is importing a module waits for the import's end
(:data:`IMPORT_MACHINERY`): raised inside Python's import machinery it could leave the machinery's
global lock held, after which another thread's import (a run's, loading its compiled kernels)
waited for ever, and raised inside a compiled module's initialisation it came out as an
``ImportError`` traceback instead of "interrupted".
"""

from __future__ import annotations

import _thread
import contextlib
import functools
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from types import FrameType

__all__ = [
    "held",
    "noticing_ctrl_c",
    "quiet_when_remembered",
    "remembered",
    "stop_on",
    "stop_workers",
    "when_gone",
    "work_for",
]

#: Seconds after the stop signal that began a stop during which another is the same stop (a
#: Ctrl-C pressed again) and lets its clean-up go on; one after them interrupts it, as the first
#: did (a clean-up stuck that long can be cut short). A stop's clean-up takes under a second.
REPEAT_SECONDS = 5.0

#: The modules of Python's import machinery (frozen, as CPython ships it, or from source files).
#: A stop that lands in their code waits until the main thread has left it: CPython runs a
#: signal's handler between two bytecodes, and there is one between the machinery taking its
#: global lock (``_imp.acquire_lock()``) and the ``try`` that releases it, so a
#: ``KeyboardInterrupt`` raised there kept the lock for ever. The main thread, its owner, went on
#: importing; a run's thread then waited for it for ever, and so did the pool shutting down.
IMPORT_MACHINERY = frozenset(
    {
        "_frozen_importlib",
        "_frozen_importlib_external",
        "importlib._bootstrap",
        "importlib._bootstrap_external",
    }
)

#: Seconds between two looks at whether the main thread has left the import machinery.
IMPORT_POLL_SECONDS = 0.01

#: When (``time.monotonic()``) a signal given to :func:`stop_on` came, once one did: the
#: program is stopping. The records here are lists, not ``threading.Event`` objects: a signal
#: handler runs between two steps of the main thread, even of the handler before it, and a
#: second Ctrl-C setting an Event the first was setting waited for its lock for ever.
_STOPPED_AT: list[float] = []

#: The Ctrl-C records (as :data:`_STOPPED_AT`) of the :func:`noticing_ctrl_c` blocks open now.
_NOTICING: list[list[float]] = []

#: The stops held off (a list of True each) by the :func:`held` blocks open now.
_HOLDING: list[list[bool]] = []


def remembered() -> bool:
    """Whether an interrupt came that is remembered, even one Python swallowed where it landed.

    That is a signal given to :func:`stop_on`, or a Ctrl-C within a :func:`noticing_ctrl_c`
    block.
    """
    return bool(_STOPPED_AT) or any(_NOTICING)


def quiet_when_remembered() -> None:
    """From now on, say nothing of an interrupt Python swallowed if it is remembered.

    Where a Ctrl-C (or a signal given to :func:`stop_on`) lands in a weakref callback or a
    ``__del__`` method, Python hands the ``KeyboardInterrupt`` to ``sys.unraisablehook``, which
    prints "Exception ignored in ..." and a traceback. Once the interrupt is remembered, the
    next ``check()`` raises it again and the program stops as after any Ctrl-C, so that
    traceback is noise in the middle of its one-line "interrupted". This wraps the hook in place
    now: remembered interrupts are dropped, everything else (an interrupt nothing remembers, any
    other exception) still goes to it. For a program's entry point, which owns the process.
    """
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if issubclass(unraisable.exc_type, KeyboardInterrupt) and remembered():
            return
        previous(unraisable)

    sys.unraisablehook = hook


def stop_on(signals: tuple[int, ...], came: list[int]) -> None:
    """Make each of ``signals`` stop the program as a Ctrl-C does, and say which one came.

    Each raises ``KeyboardInterrupt`` in the main thread, is remembered for
    :func:`noticing_ctrl_c`'s check as a Ctrl-C is (even where SIGINT itself is ignored, as in
    a job started in the background), and appends its number to ``came`` (the first only).
    SIGINT given here is remembered from now on, not only within a :func:`noticing_ctrl_c`
    block: one swallowed before a loop's block opens (in an import's module-lock callback)
    still stops the loop. Signals whose handling is not the default (for SIGINT, Python's
    ``KeyboardInterrupt``) are left alone. Call it from the main thread.
    """
    for sig in signals:
        default = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
        if signal.getsignal(sig) is default:
            signal.signal(sig, functools.partial(_stop, came))


def _stop(came: list[int], signum: int, frame: FrameType | None) -> None:
    """:func:`stop_on`'s handler."""
    if not came:
        came.append(signum)
    _interrupt(_STOPPED_AT, signum, frame)


def _interrupt(record: list[float], signum: int, frame: FrameType | None) -> None:
    """Raise ``KeyboardInterrupt`` and note when in ``record``, unless this repeats a stop.

    A stop asked for again within :data:`REPEAT_SECONDS` of the first (noted in ``record``)
    returns instead: the first one's clean-up goes on. One that lands in an import (``frame``,
    where the main thread was, runs the import machinery's code or is called from it) comes
    again once the import has ended (:func:`_again_after_the_import`), unless a :func:`held`
    block would hold it anyway.
    """
    now = time.monotonic()
    if record and now - record[0] < REPEAT_SECONDS:
        return
    if not _HOLDING and _importing(frame):
        _again_after_the_import(signum)
        return
    if not record:
        record.append(now)
    if _HOLDING:  # remembered now, raised as the block ends
        _HOLDING[-1].append(True)
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Within the block, a stop waits: it is remembered at once and raised as the block ends.

    A stop is a signal given to :func:`stop_on` or a Ctrl-C within a :func:`noticing_ctrl_c`
    block. The block is for a few steps that must all happen or none and take moments: a
    command's files moved into its folder one by one, where a Ctrl-C between two of them left
    a mix of the new files and an earlier run's. Or for a loop that looks for the stop itself
    (:func:`noticing_ctrl_c`'s ``check()``) between calls a stop must not land inside: a
    sweep's waits for its pool, whose locks a ``KeyboardInterrupt`` can leave held. A block
    ended by an exception of its own lets that one go on instead (the stop stays remembered).
    A Ctrl-C that Python raises itself (SIGINT's default handling, outside the program's) is
    not held.
    """
    pending: list[bool] = []
    _HOLDING.append(pending)
    try:
        yield
    finally:
        _HOLDING.remove(pending)
    if pending:
        raise KeyboardInterrupt


@contextlib.contextmanager
def noticing_ctrl_c() -> Iterator[Callable[[], None]]:
    """Within the block, a Ctrl-C raises ``KeyboardInterrupt`` as usual and is also remembered.

    One again within :data:`REPEAT_SECONDS` of the first is absorbed, as a stop signal's is.

    Yields:
        ``check()``: raises ``KeyboardInterrupt`` if a Ctrl-C, or a signal given to
        :func:`stop_on`, came since the block began (call it between runs; the block's end
        calls it once more). It never raises in a thread other than the main one; where
        SIGINT is not Python's default handler (a program that handles or ignores SIGINT
        itself), a Ctrl-C keeps its own handling.
    """
    came: list[float] = []  # when the first Ctrl-C came, once one did

    def check() -> None:
        if came or _STOPPED_AT:
            raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield check
        check()
        return

    def handler(signum, frame):
        _interrupt(came, signum, frame)

    signal.signal(signal.SIGINT, handler)
    _NOTICING.append(came)
    try:
        yield check
        check()  # one swallowed after the block's last check is not lost either
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _NOTICING.remove(came)


def _importing(frame: FrameType | None) -> bool:
    """Whether ``frame`` or a frame that called it runs the import machinery's code."""
    while frame is not None:
        if frame.f_globals.get("__name__") in IMPORT_MACHINERY:
            return True
        frame = frame.f_back
    return False


def _again_after_the_import(signum: int) -> None:
    """Give the main thread signal ``signum`` again (to its handler) once it is not importing.

    A watching thread looks every :data:`IMPORT_POLL_SECONDS`; the handler, run again, raises
    then (or waits again, if the main thread has begun another import meanwhile).
    """
    main = threading.main_thread().ident

    def watch() -> None:
        while _importing(sys._current_frames().get(main)):
            time.sleep(IMPORT_POLL_SECONDS)
        _thread.interrupt_main(signum)  # as if the signal came now (none if no longer handled)

    threading.Thread(target=watch, name="stop-after-the-import", daemon=True).start()


def when_gone(pid: int, action: Callable[[], object]) -> None:
    """Call ``action`` (from a watching thread) once process ``pid`` has ended.

    For a worker whose master may end without stopping it (killed outright: ``kill -9``, the
    out-of-memory killer): a pool's worker waits for work on a queue whose pipe it holds both
    ends of, so it would never learn. On Linux the end is known at once (a ``pidfd`` turns
    readable); elsewhere the process is looked for twice a second.
    """

    def watch() -> None:
        try:
            watched = os.pidfd_open(pid)
        except (AttributeError, OSError):  # no pidfd here, or the process is gone already
            while _running(pid):
                time.sleep(0.5)
        else:
            select.select([watched], [], [])
            os.close(watched)
        action()

    threading.Thread(target=watch, name=f"when-{pid}-is-gone", daemon=True).start()


def work_for(parent: int) -> None:
    """A pool worker's initializer: ignore Ctrl-C, and exit as soon as process ``parent`` is gone.

    Ctrl-C reaches the terminal's whole process group, workers included, and is their
    parent's to handle: a worker interrupted while it waited for work printed a traceback, and
    one interrupted holding its pool's queue left the others waiting for ever. The parent stops
    its workers (:func:`stop_workers`); one that ended without doing so (killed outright, out
    of memory) would otherwise leave them running, orphaned, holding their memory.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    when_gone(parent, lambda: os._exit(1))


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool``'s worker processes at once, its running work with them, and shut it down.

    Work still running is of no use once the program stops (a sweep keeps only what has come
    back), and a shut-down pool waits for it: a minute or more for a large run. (Python 3.14's
    ``ProcessPoolExecutor.terminate_workers`` does the first half.)
    """
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    # RuntimeError: its manager thread never started (Python was already exiting)
    with contextlib.suppress(RuntimeError):
        pool.shutdown(wait=True, cancel_futures=True)


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists (and has not yet been reaped)."""
    if os.name == "nt":  # where os.kill would end it; workers there are spawned, its children
        return os.getppid() == pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: it exists
        pass
    return True
