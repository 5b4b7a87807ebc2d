"""Benchmark: per-run overhead of the process-pool path against the run itself.

Usage: python benchmarks/bench_batch.py [--runs 6] [--months 60]

The baseline scenario (its full size) runs ``--runs`` times in this process and ``--runs`` times
through a one-worker process pool exactly as ``culturesim sweep`` makes it and sends them
(scenario as a dict, changes, seed; KPI frame back), alternating one in-process run and one
pooled run so that drift in the machine's speed hits both alike. The pooled run's extra time
over the in-process run of the same task, summed and divided by the in-process time, is the
per-run overhead (target: at most 20%). The worker's start-up (from a fork server that imports
culturesim first) is timed apart and shown spread over the runs, as a sweep of that many runs
would pay it.

Then threads: two runs one after the other and two runs in two threads of this process (as a
Dask worker with two threads runs them), best of three each. The kernels release the GIL, so
the threads step on two cores at once; the speed-up is what that buys (2x at most).

Last, the end of a sweep: ``--parts`` copies of one run's frame (every KPI) are stored as a
sweep stores its finished runs, and gathered into ``runs.parquet`` and ``timeseries.parquet``
as a sweep does when its runs are done.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from culturesim import load_scenario
from culturesim.batch.sweep import PARTS, _consolidate, _store, process_pool, run_one
from culturesim.kpis import KPIS


def _ready() -> bool:
    """Runs in the worker first, so its start-up is timed on its own."""
    import culturesim.batch.sweep  # noqa: F401

    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--parts", type=int, default=2000, help="runs a sweep's end gathers")
    args = parser.parse_args()
    scenario = load_scenario("baseline").to_dict()
    outputs = list(KPIS)
    tasks = [({"levers.transparency": 0.3 + 0.05 * i}, i) for i in range(args.runs)]
    inline = pooled = 0.0
    with process_pool(1) as pool:
        t0 = time.perf_counter()
        pool.submit(_ready).result()
        startup = time.perf_counter() - t0
        for changes, seed in tasks:
            t0 = time.perf_counter()
            run_one(scenario, changes, seed, args.months, outputs)
            t1 = time.perf_counter()
            pool.submit(run_one, scenario, changes, seed, args.months, outputs).result()
            t2 = time.perf_counter()
            inline += t1 - t0
            pooled += t2 - t1
    n, extra = args.runs, pooled - inline
    print(f"baseline, {args.months} months, {n} runs, in process and pooled in turn")
    print(f"in process:     {inline / n:.3f} s per run")
    print(f"process pool:   {pooled / n:.3f} s per run (one worker, already started)")
    print(f"overhead:       {extra / n:+.3f} s per run = {extra / inline:+.1%}")
    print(f"worker start-up: {startup:.2f} s = {startup / inline:+.1%} of these {n} runs")
    two = tasks[:2]
    serial = threaded = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for changes, seed in two:
            run_one(scenario, changes, seed, args.months, outputs)
        serial = min(serial, time.perf_counter() - t0)
        threads = [
            threading.Thread(target=run_one, args=(scenario, c, s, args.months, outputs))
            for c, s in two
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        threaded = min(threaded, time.perf_counter() - t0)
    print(
        f"two runs: {serial:.2f} s one after the other, {threaded:.2f} s in two threads "
        f"(speed-up {serial / threaded:.2f}x)"
    )
    frame = run_one(scenario, {}, 0, args.months, outputs)
    stored, gathered = sweep_end(frame, args.parts)
    n = args.parts
    print(
        f"a sweep's own work a run ({len(frame.columns) - 1} KPIs x {len(frame)} months, "
        f"{n} runs): storing its part {stored / n * 1e3:.2f} ms, gathering it at the end "
        f"{gathered / n * 1e3:.2f} ms"
    )


def sweep_end(frame, parts: int) -> tuple[float, float]:
    """Seconds a sweep takes to store ``parts`` copies of ``frame`` and to gather them."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        (out / PARTS).mkdir()
        runs = [(run_id, run_id, 0, 0) for run_id in range(parts)]
        t0 = time.perf_counter()
        for run in runs:
            done = Future()
            done.set_result(frame.copy())
            _store(out / PARTS, run, done)
        t1 = time.perf_counter()
        _consolidate(out, runs, {run_id: {} for run_id in range(parts)})
        return t1 - t0, time.perf_counter() - t1


if __name__ == "__main__":
    main()
