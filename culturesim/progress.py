"""A progress line on stderr for commands that run many simulations (sweep, run, compare)."""

from __future__ import annotations

import collections
import datetime as dt
import sys
import threading
import time

__all__ = ["Progress"]

#: Runs whose pace gives the time left.
WINDOW = 10


class Progress:
    """Runs done and the time left, on stderr.

    On a terminal, a bar redrawn in place; in a log file (a batch job's, CI's), a line at each
    tenth of the runs (a redraw per run made one line of thousands of updates there), or
    nothing with ``log=False`` (for commands whose output is mostly read in a terminal, where a
    script's captured stderr should stay as it was). :meth:`tick` may be called from any thread;
    used as a context manager, the bar is closed on leaving it. The time left is reckoned from
    the last :data:`WINDOW` runs' pace, so that a wait (a Dask sweep's for a worker, say) does
    not weigh on it once runs come again.

    Args:
        total: Runs in all.
        done: Runs already done (a resumed sweep's).
        stream: Where to write (default: ``sys.stderr``).
        log: Whether to write to a stream that is not a terminal.
    """

    def __init__(self, total: int, done: int = 0, stream=None, log: bool = True):
        self.total, self.start_done, self.done = total, done, done
        self.times = collections.deque([time.monotonic()], maxlen=WINDOW + 1)
        self.stream = stream = sys.stderr if stream is None else stream
        self.terminal = hasattr(stream, "isatty") and stream.isatty()
        self.quiet = not (self.terminal or log)
        self.tenth = done * 10 // max(total, 1)  # the last tenth reported to a log
        self.drawn = False  # a bar's line drawn and not ended
        self._lock = threading.Lock()

    def tick(self) -> None:
        """Count one more run done and redraw."""
        with self._lock:
            self.done += 1
            self.times.append(time.monotonic())
            if self.quiet:
                return
            pace = (self.times[-1] - self.times[0]) / (len(self.times) - 1)  # seconds a run
            left = (self.total - self.done) * pace
            eta = str(dt.timedelta(seconds=int(left)))
            if self.terminal:
                width = 30
                fill = int(width * self.done / max(self.total, 1))
                bar = f"[{'#' * fill}{'.' * (width - fill)}]"
                self.stream.write(f"\r{bar} {self.done}/{self.total} runs, ETA {eta}")
                self.drawn = True
            elif (tenth := self.done * 10 // max(self.total, 1)) > self.tenth:
                self.tenth = tenth
                self.stream.write(f"{self.done}/{self.total} runs, ETA {eta}\n")
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line on a terminal, if one is drawn (a later tick draws another)."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()  # the bar's line ends whether the runs finished or not
