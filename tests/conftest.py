import contextlib
import io
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
import weakref
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import settings
from pydantic import BaseModel

from culturesim import Scenario, load_scenario
from culturesim.interrupts import remembered
from culturesim.levers import LEVERS
from culturesim.scenario import EVENT_DEFAULTS, EVENT_TYPES

# hypothesis draws the same examples every run (rule: tests stay deterministic), and keeps no
# database of failures in the checkout
settings.register_profile("culturesim", derandomize=True, database=None)
settings.load_profile("culturesim")

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
#: A tenth of the baseline's market, to keep runs fast where the market's size is not the
#: point, with cash enough that finance never interferes: investors size a round on revenue,
#: and would not fund 120 people selling to 20,000 potential users.
SMALL_MARKET = {
    "market.potential_users": 20_000,
    "market.initial_active_users": 1_500,
    "organization.cash": 1e9,
}


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test drew through pyplot (a report's, say): pyplot keeps every one
    until closed, and a test worker had more than 20 open (matplotlib warned)."""
    yield
    if pyplot := sys.modules.get("matplotlib.pyplot"):
        pyplot.close("all")


@pytest.fixture(scope="session")
def baseline():
    return load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def small(baseline):
    """A small, short variant of the baseline for fast tests."""
    return baseline.with_changes(
        {
            "organization.employees": 40,
            "meta.months": 24,
            "market.potential_users": 10_000,
            "market.initial_active_users": 750,
        }
    )


#: A small company with one event of each kind (each kind's starting fields), months 2 to 6.
ALL_EVENTS = Scenario().with_changes(
    {
        "meta.months": 6,
        "organization.employees": 30,
        "market.potential_users": 2_000,
        "market.initial_active_users": 200,
    }
)
ALL_EVENTS = ALL_EVENTS.with_changes(
    {
        "events": [
            {"month": 2 + i % 5, "kind": kind}
            | fields
            | (
                {"values": ALL_EVENTS.organization.core_values}
                if "values" in EVENT_TYPES[kind].model_fields
                else {}
            )
            for i, (kind, fields) in enumerate(EVENT_DEFAULTS.items())
        ]
    }
)


def number_range(model: type[BaseModel], name: str) -> tuple[float | None, float | None]:
    """The lowest and highest values a numeric field of ``model`` allows (``None``: no bound).

    ``gt=0`` gives 1 for a whole number and the next float above 0 for a float.
    """
    kind = model.model_fields[name].annotation
    lo = hi = None
    for m in model.model_fields[name].metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo = m.gt + 1 if kind is int else math.nextafter(m.gt, math.inf)
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi = m.lt - 1 if kind is int else math.nextafter(m.lt, -math.inf)
    return lo, hi


def scenario_numbers(scenario: Scenario) -> list[tuple[str, type, float | None, float | None]]:
    """Every number ``scenario`` holds: ``(dotted key, int or float, lowest, highest)``.

    Keys as :meth:`Scenario.with_changes` takes them (events by position); the bounds are
    :func:`number_range`'s (a ``set_lever`` event's value: its lever's range). An event's month
    is left out (the horizon bounds it).
    """

    def walk(model: type[BaseModel], prefix: str):
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                yield from walk(ann, f"{prefix}{name}.")
            elif ann in (int, float) and not (prefix.startswith("events.") and name == "month"):
                yield f"{prefix}{name}", ann, *number_range(model, name)

    out = list(walk(type(scenario), ""))
    for i, event in enumerate(scenario.events):
        for key, kind, lo, hi in walk(type(event), f"events.{i}."):
            if event.kind == "set_lever" and key.endswith(".value"):  # its lever's range
                lo, hi = LEVERS[event.lever].lo, LEVERS[event.lever].hi
            out.append((key, kind, lo, hi))
    return out


#: The warning filters a Python process starts with (no ``-W``, no ``PYTHONWARNINGS``; but
#: "default" for DeprecationWarning in ``__main__``, of no matter here).
PYTHON_WARNING_FILTERS = (
    ("ignore", DeprecationWarning),
    ("ignore", PendingDeprecationWarning),
    ("ignore", ImportWarning),
    ("ignore", ResourceWarning),
)


def culturesim_here(*args) -> subprocess.CompletedProcess:
    """``culturesim ARGS`` run in this process (:func:`culturesim.cli.main`, which the program
    runs), its output captured: what ``subprocess.run(..., capture_output=True, text=True)`` of
    the program gives, exit status, stdout and stderr.

    A new process takes 2-3 s before it does anything (importing culturesim and loading its
    kernels), and the suite ran over its 10 minutes on a slower machine; a test of what only a
    process shows (signals, how it ends, its environment, locale or terminal, a pipe) starts one.
    Warnings show as in a new process (once each where they are raised), whatever this process
    has shown before.
    """
    from culturesim.cli import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(),
    ):
        warnings.resetwarnings()  # then Python's own filters, as a new process has them
        for action, category in PYTHON_WARNING_FILTERS:
            warnings.simplefilter(action, category, append=True)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own errors (2) and --help (0)
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return subprocess.CompletedProcess(["culturesim", *argv], code, out.getvalue(), err.getvalue())


def culturesim_process(*args, cwd=None) -> subprocess.CompletedProcess:
    """``culturesim ARGS`` in a process of its own (in ``cwd``, if given), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "culturesim", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


#: The signals a program started from a terminal meets with their default disposition.
TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def terminal_signals() -> None:
    """In a child before exec: SIGINT, SIGTERM and SIGHUP with their default disposition, unblocked.

    A runner started in the background (``cmd &``) ignores SIGINT, one started with ``nohup``
    ignores SIGHUP, and their children inherit that (and a blocked mask); a test of Ctrl-C or of
    a closed terminal gives its process what a terminal's would meet.
    """
    for sig in TERMINAL_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(TERMINAL_SIGNALS))


def land_in_a_callback(sig: int = signal.SIGINT) -> None:
    """Send this process ``sig`` from inside a weakref callback, where Python swallows the
    exception its handler raises (as when a finished model's agents are collected). The
    callback ends once the handler has run there: raised (and swallowed), or remembered a
    stop it holds (:func:`culturesim.interrupts.held`)."""

    class Thing:
        pass

    def callback(_):
        os.kill(os.getpid(), sig)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not remembered():  # the handler runs here
            pass

    thing = Thing()
    ref = weakref.ref(thing, callback)
    del thing
    assert ref() is None


@pytest.fixture
def swallowed_ctrl_c(monkeypatch):
    """A function that makes a Ctrl-C land where Python swallows it, and the record of those.

    Calling it sends SIGINT to this process from inside a weakref callback
    (:func:`land_in_a_callback`): Python reports the ``KeyboardInterrupt`` to
    ``sys.unraisablehook``, here recorded in the list returned with the function, and goes on.
    SIGINT has Python's default handler meanwhile (a test runner may have set another).
    """
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    swallowed = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: swallowed.append(u.exc_type))
    yield land_in_a_callback, swallowed
    signal.signal(signal.SIGINT, before)


def ignore_sigint() -> None:
    """In a child before exec: SIGINT ignored, as in a job a script starts with ``&``."""
    terminal_signals()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def nohup() -> None:
    """In a child before exec: SIGHUP ignored, as ``nohup`` starts a program; the rest default."""
    terminal_signals()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def start_ui(
    workers: int, *args: str, timeout: float = 90.0, preexec_fn=terminal_signals, wait=True
) -> tuple[subprocess.Popen, str]:
    """Start ``culturesim ui ARGS`` on a free port in its own session; return it and its URL.

    ``preexec_fn`` sets its signals up (by default as a terminal's job has them). With
    ``wait``, returns once the page answers, and fails (never skips) if it does not within
    ``timeout`` seconds; without, at once.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CULTURESIM_UI_WORKERS": str(workers)}
    culturesim = shutil.which("culturesim", path=str(Path(sys.executable).parent))
    proc = subprocess.Popen(
        [culturesim, "ui", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=preexec_fn,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while wait:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"culturesim ui did not start:\n{out[-3000:]}")
        time.sleep(0.5)
    return proc, url


@contextlib.contextmanager
def reaped(proc: subprocess.Popen):
    """Run the ``with`` body; then kill ``proc`` if it still runs, and close its output pipe.

    A test that fails half-way leaves no process behind, and one that passes no open pipe
    (Python warns of an unclosed file when the ``Popen`` object goes).
    """
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def descendants(pid: int) -> dict[int, int]:
    """The processes below ``pid``, each with its depth (1: a child, 2: a grandchild ...)."""
    parent = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parent[int(stat.parent.name)] = int(fields[1])
    found, frontier, depth = {}, {pid}, 0
    while frontier:
        depth += 1
        frontier = {p for p, pp in parent.items() if pp in frontier}
        found |= dict.fromkeys(frontier, depth)
    return found


def wait_gone(pids: Iterable[int], timeout: float) -> set[int]:
    """Wait until none of ``pids`` runs; return those still running at the timeout."""
    deadline = time.monotonic() + timeout
    while (left := {p for p in pids if running(p)}) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left
