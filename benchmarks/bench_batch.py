"""Benchmark: per-run overhead of the process-pool path against the run itself.

Usage: python benchmarks/bench_batch.py [--runs 6] [--months 60]

The baseline scenario (its full size) is run ``--runs`` times in this process, then the same runs
go through a one-worker ``ProcessPoolExecutor`` exactly as ``culturesim sweep`` sends them
(scenario as a dict, changes, seed; KPI frame back). The difference per run, divided by the time
of a run, is the overhead share (target: at most 20%). Worker start-up is included.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

from culturesim import load_scenario
from culturesim.batch.sweep import run_one
from culturesim.kpis import KPIS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--months", type=int, default=60)
    args = parser.parse_args()
    scenario = load_scenario("baseline").to_dict()
    outputs = list(KPIS)
    tasks = [({"levers.transparency": 0.3 + 0.05 * i}, i) for i in range(args.runs)]
    t0 = time.perf_counter()
    for changes, seed in tasks:
        run_one(scenario, changes, seed, args.months, outputs)
    inline = (time.perf_counter() - t0) / args.runs
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1) as pool:
        futures = [
            pool.submit(run_one, scenario, changes, seed, args.months, outputs)
            for changes, seed in tasks
        ]
        for f in futures:
            f.result()
    pooled = (time.perf_counter() - t0) / args.runs
    print(f"baseline, {args.months} months, {args.runs} runs")
    print(f"in process:   {inline:.3f} s per run")
    print(f"process pool: {pooled:.3f} s per run (one worker, start-up included)")
    print(f"overhead:     {pooled - inline:+.3f} s per run = {(pooled - inline) / inline:+.1%}")


if __name__ == "__main__":
    main()
