"""Benchmark: microseconds per employee-month, beside Mesa's BoltzmannWealth per agent-step.

Usage: python benchmarks/bench_model.py [--sizes 150 1000 10000 100000] [--months 60] [--repeat N]
       [--users 20000 200000 1000000] [--big 10000 1000000]

``--users`` with no sizes skips the users' table and ``--big 0 0`` the large run (e.g. to time
the employees' table alone).

For each size the baseline scenario is scaled to that many employees (one site per 2,000 people,
cash large enough that no layoffs interfere, no users: they are timed apart), built, then run for
the given months, several times (the fastest counts: the others were slowed by something else): by
default as often as fits in about a second of runs, 2 to 10 times (``--repeat`` fixes the number),
since a small company's run takes a few hundredths of a second and two tries of that are often both
disturbed. The figure is run time / employee-months actually simulated (the company grows, so
employee-months exceed size x months). Setup time is reported separately. Before the first size
a small company runs once untimed, so that Numba's kernels are loaded (or compiled) outside every
timing, even with ``--repeat 1``.
BoltzmannWealth (mesa.examples) is timed as the example ships it (100 agents on a 10 x 10 grid),
fresh models of 100 steps, the fastest counting too, on the same machine in the same run, per
agent-step, once at the start (10 models) and again just before each size (6; the machine's speed
can drift within a run), and each size's ratio uses the latter. The cost of one Mesa
``Employee`` handle's life is printed too: handles follow the staff lazily (made when
``model.agents`` is read), so the timed runs, which never read them, do not pay it; the last
column is what reading ``model.agents`` every month would add (churn times that cost). Then a
line splits a month's time into a fixed part and a part per employee (a straight line through the
sizes up to 10,000: a month's time against its mean staff).

Users: the users process alone is timed per user-month in a 150-person company with each market
size. Last, a company of ``--big`` employees and users runs the full horizon in a fresh process,
and its wall time and peak resident memory are printed.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time

import mesa
import numpy as np
from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

from culturesim import CultureModel, Scenario
from culturesim.agents import Employee

#: Sizes (founding employees) the fixed + per-employee fit uses: larger ones add memory effects.
FIT_UP_TO = 10_000


def company(n: int) -> Scenario:
    """The benchmark's company: the baseline with ``n`` founding employees and no users.

    One site per 2,000 people, and cash enough that no layoffs interfere.
    """
    return Scenario().with_changes(
        {
            "organization.employees": n,
            "organization.sites": max(1, n // 2000),
            "organization.cash": 1e12,
            "market.potential_users": 0,  # users are timed on their own, per user-month
            "market.initial_active_users": 0,
        }
    )


def culturesim_cost(n: int, months: int, seed: int = 1) -> dict:
    sc = company(n)
    t0 = time.perf_counter()
    model = CultureModel(scenario=sc, rng=seed)
    t1 = time.perf_counter()
    model.run(months)
    t2 = time.perf_counter()
    employee_months = float(np.sum(model.history["headcount"][1:]))
    churn = float(
        np.sum(model.flow_log["hires"]) + np.sum(model.flow_log["quits"])
        + np.sum(model.flow_log["layoffs"])
    )  # fmt: skip
    return {
        "handle_churn_per_employee_month": churn / employee_months,
        "employees": n,
        "setup_s": t1 - t0,
        "run_s": t2 - t1,
        "employee_months": employee_months,
        "us_per_employee_month": (t2 - t1) / employee_months * 1e6,
        "final_headcount": model.headcount,
    }


def fastest_run(n: int, months: int, repeat: int = 0) -> dict:
    """The fastest of ``repeat`` runs (0: 2 to 10, as many as fit in about a second)."""
    runs = []
    while True:
        runs.append(culturesim_cost(n, months))
        if repeat:
            if len(runs) >= repeat:
                break
        elif len(runs) >= 10 or (len(runs) >= 2 and sum(r["run_s"] for r in runs) >= 1.0):
            break
    return min(runs, key=lambda x: x["us_per_employee_month"])


def user_cost(users: int, months: int, seed: int = 1) -> dict:
    """Time the users process alone (wrapped) in a 150-person company with ``users`` users."""
    sc = Scenario().with_changes(
        {
            "market.potential_users": users,
            "market.initial_active_users": users // 13,
            "organization.employees": 150,
            "organization.cash": 1e12,
        }
    )
    t0 = time.perf_counter()
    model = CultureModel(scenario=sc, rng=seed)
    setup = time.perf_counter() - t0
    process = next(p for p in model.processes if p.name == "users")
    spent = 0.0
    step = process.step

    def timed(m):
        nonlocal spent
        t = time.perf_counter()
        step(m)
        spent += time.perf_counter() - t

    process.step = timed
    model.run(months)
    return {"users": users, "setup_s": setup, "us_per_user_month": spent / (users * months) * 1e6}


def big_run(employees: int, users: int, months: int) -> dict:
    """Run a large company and market in a fresh process; return its time and peak memory.

    The peak is the child's own high-water mark (``VmHWM``, which starts afresh at ``exec``).
    ``ru_maxrss`` would not do on Linux: it carries over from the parent (the benchmark's own
    process, large after the 100,000-employee run) into the child.
    """
    code = (
        "import resource, time\n"
        "def peak_kib():\n"
        "    try:\n"
        "        with open('/proc/self/status') as status:\n"
        "            return int(next(l for l in status if l.startswith('VmHWM:')).split()[1])\n"
        "    except OSError:  # no /proc (macOS): the maximum resident set, in KiB there too\n"
        "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
        "from culturesim import CultureModel, Scenario\n"
        "sc = Scenario().with_changes({"
        f"'organization.employees': {employees}, 'organization.sites': {max(1, employees // 2000)},"
        f"'organization.cash': 1e12, 'market.potential_users': {users},"
        f"'market.initial_active_users': {users // 13}}})\n"
        "t = time.perf_counter()\n"
        "m = CultureModel(scenario=sc, rng=1)\n"
        f"m.run({months})\n"
        "print(time.perf_counter() - t, peak_kib())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, kib = out.stdout.split()
    return {"seconds": float(seconds), "peak_gib": int(kib) / 2**20}


def handle_cost(count: int = 20_000) -> float:
    """Seconds to create and remove one Mesa ``Employee`` handle (the floor set by Mesa agents)."""

    class Bare(mesa.Model):
        pass

    model = Bare(rng=1)
    t0 = time.perf_counter()
    handles = [Employee(model, i) for i in range(count)]
    for h in handles:
        mesa.Agent.remove(h)  # as the model does for one who left (Employee.remove lets go)
    return (time.perf_counter() - t0) / count


def boltzmann_cost(models: int = 10, steps: int = 100) -> float:
    """Microseconds per agent-step of BoltzmannWealth as the example ships it.

    Its defaults (100 agents on a 10 x 10 grid), ``models`` fresh models of ``steps`` steps
    each (seeds 1, 2, ...), the fastest counting, as for culturesim's runs. More agents on the
    example's grid have more cellmates to choose among: with 1,000, what this script timed
    until 2026-12-06, an agent-step cost 4-6% more (benchmarks/RESULTS.md), which made the
    ratios look that much better.
    """
    best = float("inf")
    for seed in range(1, models + 1):
        model = BoltzmannWealth(scenario=BoltzmannScenario(rng=seed))
        t0 = time.perf_counter()
        for _ in range(steps):
            model.step()
        best = min(best, (time.perf_counter() - t0) / (model.num_agents * steps))
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 1000, 10_000, 100_000])
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="runs per size, the fastest counts (default: 2-10, about a second of runs)",
    )
    parser.add_argument(
        "--users",
        type=int,
        nargs="*",
        default=[20_000, 200_000, 1_000_000],
        help="market sizes for the users' table (none: skip it)",
    )
    parser.add_argument(
        "--big",
        type=int,
        nargs=2,
        default=[10_000, 1_000_000],
        metavar=("EMPLOYEES", "USERS"),
        help="the large run (0 0: skip it)",
    )
    args = parser.parse_args()
    boltz = boltzmann_cost()
    handle = min(handle_cost() for _ in range(3))
    print(f"Python {platform.python_version()}, Mesa {mesa.__version__}, {platform.machine()}")
    print(
        f"BoltzmannWealth (the example's 100 agents on 10 x 10, 100 steps, fastest of 10): "
        f"{boltz:.2f} us per agent-step"
    )
    print(f"Mesa Employee handle, create + remove: {handle * 1e6:.2f} us")
    print(
        f"{'employees':>10} {'final':>8} {'setup s':>8} {'run s':>8} "
        f"{'us/emp-month':>13} {'Boltzmann us':>13} {'x Boltzmann':>12} {'+handles us':>12}"
    )
    months_and_staff = []  # (us a month, mean staff) of each size
    culturesim_cost(150, 12)  # load (or compile) the kernels first: that is not their cost
    for n in args.sizes:
        boltz = boltzmann_cost(models=6)  # again beside each size: speed drifts
        r = fastest_run(n, args.months, args.repeat)
        handles_us = r["handle_churn_per_employee_month"] * handle * 1e6
        print(
            f"{n:>10,} {r['final_headcount']:>8,} {r['setup_s']:>8.2f} {r['run_s']:>8.2f} "
            f"{r['us_per_employee_month']:>13.2f} {boltz:>13.2f} "
            f"{r['us_per_employee_month'] / boltz:>12.2f} {handles_us:>12.2f}"
        )
        if n <= FIT_UP_TO:
            staff = r["employee_months"] / args.months
            months_and_staff.append((r["run_s"] / args.months * 1e6, staff))
    if len(months_and_staff) >= 2:
        month_us, staff = np.array(months_and_staff).T
        per_employee, fixed = np.polyfit(staff, month_us, 1)
        print(
            f"A month = {fixed:.0f} us + {per_employee:.3f} us per employee (least squares over "
            f"sizes up to {FIT_UP_TO:,}): the per-employee part is "
            f"{per_employee / boltz:.2f}x BoltzmannWealth; the fixed part adds "
            f"{fixed / staff.min():.2f} us an employee-month at {staff.min():,.0f} staff"
        )
    if args.users:
        print(f"{'users':>10} {'setup s':>8} {'us/user-month':>14}")
        user_cost(1_000, 2)  # compile (or load) the users' kernels first: that is not their cost
    for n in args.users:
        r = user_cost(n, args.months)
        print(f"{n:>10,} {r['setup_s']:>8.2f} {r['us_per_user_month']:>14.3f}")
    employees, users = args.big
    if employees == users == 0:
        return
    r = big_run(employees, users, args.months)
    print(
        f"{employees:,} employees + {users:,} users, {args.months} months: "
        f"{r['seconds']:.1f} s, peak memory {r['peak_gib']:.2f} GiB"
    )


if __name__ == "__main__":
    main()
