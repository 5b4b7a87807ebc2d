"""A progress line on stderr for commands that run many simulations (sweep, run, compare)."""

from __future__ import annotations

import collections
import datetime as dt
import os
import shutil
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
        self.shown = 0  # characters of the line drawn last (a shorter one blanks the rest)
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
                self._draw(f"{self.done}/{self.total} runs, ETA {eta}")
            elif (tenth := self.done * 10 // max(self.total, 1)) > self.tenth:
                self.tenth = tenth
                self.stream.write(f"{self.done}/{self.total} runs, ETA {eta}\n")
            self.stream.flush()

    def _draw(self, text: str) -> None:
        """Redraw the bar's line with ``text``, within the terminal's width.

        The bar narrows (down to 10 characters, then goes) so that the line never wraps: a
        wrapped line is not redrawn by a carriage return but repeated. What a longer line drew
        before (an ETA of 10:00:00 before 9:59:59) is blanked.
        """
        columns = self._columns() - 1  # the last column would move the cursor on some terminals
        width = min(30, columns - len(text) - 3)
        if width >= 10:
            fill = int(width * self.done / max(self.total, 1))
            text = f"[{'#' * fill}{'.' * (width - fill)}] {text}"
        text = text[:columns]
        self.stream.write("\r" + text.ljust(min(self.shown, columns)))
        self.shown, self.drawn = len(text), True

    def _columns(self) -> int:
        """The width of the stream's terminal: ``COLUMNS`` if set, else the terminal's, else 80.

        A terminal that reports 0 columns (a pseudo-terminal nobody sized, as ``docker run -t``
        or ``script`` may give) counts as unknown.
        """
        try:
            columns = int(os.environ.get("COLUMNS", ""))
        except ValueError:
            try:
                columns = os.get_terminal_size(self.stream.fileno()).columns
            except (AttributeError, OSError, ValueError):  # not a real terminal (a test's stream)
                columns = shutil.get_terminal_size().columns
        return max(columns, 20) if columns > 0 else 80

    def close(self) -> None:
        """End the bar's line on a terminal, if one is drawn (a later tick draws another)."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn, self.shown = False, 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()  # the bar's line ends whether the runs finished or not
