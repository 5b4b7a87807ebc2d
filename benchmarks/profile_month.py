"""Where a month goes: each process's time, the compiled kernels' share of it, and the rest.

Usage: python benchmarks/profile_month.py [--employees 150] [--months 60] [--runs 10] [--kernels N]

The benchmark's company (``bench_model.company``: the baseline scaled to ``--employees``
founding employees, no users, cash enough that no layoffs interfere) runs ``--runs`` times; every
process's step, the KPIs' record and every compiled kernel called from Python are timed, and
for each the fastest run's microseconds a month count. A process's "kernels" are the kernels it
calls from Python (a kernel's call overhead included: about 0.06 us an array argument and 0.5
us an array returned); the rest of its time, "Python", is the code around them. The timers add
about 0.3 us a call, so the month printed is a little slower than in ``bench_model.py``. With
``--kernels N`` the N costliest kernels are listed too.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import pkgutil
import time

import numpy as np
from bench_model import company  # the benchmark's company (this folder's script)
from numba.core.registry import CPUDispatcher

import culturesim
from culturesim import CultureModel
from culturesim.warm import warm

#: Packages whose kernels a month does not call (the web UI, batch runs, classic models, CLI).
NOT_THE_MONTH = ("ui", "batch", "classics", "cli", "__main__")


class Timers:
    """Seconds spent by each kernel, by each process, and by the kernels inside each process."""

    def __init__(self):
        self.kernel = collections.defaultdict(float)
        self.calls = collections.Counter()
        self.process = collections.defaultdict(float)
        self.inside = collections.defaultdict(float)
        self.running = ["set-up"]  # the process running now (the last one)

    def clear(self) -> None:
        """Forget what was timed (after the model's set-up)."""
        for timed in (self.kernel, self.calls, self.process, self.inside):
            timed.clear()


def time_kernels(timers: Timers) -> None:
    """Wrap every kernel that culturesim's modules call from Python in a timer.

    Every kernel is compiled (or loaded from the cache) first: a kernel compiled after the
    wrapping would find a timer, not a kernel, where it calls another kernel, and fail.
    """
    warm()
    wrapped = {}
    for info in pkgutil.walk_packages(culturesim.__path__, "culturesim."):
        if info.name.split(".")[1].startswith(NOT_THE_MONTH):
            continue
        module = importlib.import_module(info.name)
        for name, fn in list(vars(module).items()):
            if not isinstance(fn, CPUDispatcher):
                continue
            if id(fn) not in wrapped:
                key = f"{fn.py_func.__module__.split('.')[-1]}.{fn.__name__}"

                def timer(*args, fn=fn, key=key):
                    t = time.perf_counter()
                    out = fn(*args)
                    took = time.perf_counter() - t
                    timers.kernel[key] += took
                    timers.calls[key] += 1
                    timers.inside[timers.running[-1]] += took
                    return out

                wrapped[id(fn)] = timer
            setattr(module, name, wrapped[id(fn)])


def time_processes(model: CultureModel, timers: Timers) -> None:
    """Wrap ``model``'s process steps and its record in timers that mark who is running."""

    def timed(fn, name):
        def run(*args):
            timers.running.append(name)
            t = time.perf_counter()
            fn(*args)
            timers.process[name] += time.perf_counter() - t
            timers.running.pop()

        return run

    for process in model.processes:
        process.step = timed(process.step, process.name)
    model.record = timed(model.record, "record")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=150)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--kernels", type=int, default=0, help="list the N costliest kernels")
    args = parser.parse_args()
    n = args.employees
    scenario = company(n)
    timers = Timers()
    time_kernels(timers)
    month, fastest = float("inf"), {}  # the fastest run's month; each timer's fastest
    for run in range(args.runs):
        model = CultureModel(scenario=scenario, rng=run)
        time_processes(model, timers)
        timers.clear()
        t = time.perf_counter()
        model.run(args.months)
        month = min(month, time.perf_counter() - t)
        for kind in ("kernel", "process", "inside"):
            for key, seconds in getattr(timers, kind).items():
                fastest[kind, key] = min(fastest.get((kind, key), float("inf")), seconds)
    staff = float(np.mean(model.history["headcount"][1:]))

    def us(kind: str, key: str) -> float:
        return fastest.get((kind, key), 0.0) / args.months * 1e6

    kernels = sorted(timers.kernel, key=lambda k: -us("kernel", k))
    in_kernels = sum(us("kernel", k) for k in kernels)
    calls = sum(timers.calls.values()) / args.months
    print(
        f"{n:,} founding employees ({staff:,.0f} staff on average), {args.months} months, "
        f"fastest of {args.runs} run{'s' if args.runs != 1 else ''}: a month "
        f"{month / args.months * 1e6:,.0f} us, of it {in_kernels:,.0f} in {calls:.0f} kernel calls"
    )
    print(f"{'':14}{'us a month':>12}{'kernels':>10}{'Python':>10}")
    for name in sorted(timers.process, key=lambda p: -us("process", p)):
        total, inside = us("process", name), us("inside", name)
        print(f"{name:14}{total:12,.1f}{inside:10,.1f}{total - inside:10,.1f}")
    if args.kernels:
        print(f"\n{'kernel':40}{'us a month':>12}{'calls':>8}")
        for key in kernels[: args.kernels]:
            print(f"{key:40}{us('kernel', key):12,.1f}{timers.calls[key] / args.months:8.1f}")


if __name__ == "__main__":
    main()
