"""Compile the model's kernels ahead of the first run: ``python -m culturesim.warm``.

Numba compiles a kernel the first time it runs and caches it on disk (:mod:`culturesim.compiled`):
the first run after an install or a change to the sources pays about half a minute to a minute
for all of them, every later process loads them in about a second. ``make demo`` and ``make
test`` run this once after installing, so that a strategist's first Run, and each of the test
suite's worker processes, load the kernels instead of compiling them (two workers compiled the
same kernels side by side before).

Every kernel is compiled by running what calls it: each shipped scenario made small, the baseline
with one event of every kind (:data:`culturesim.scenario.EVENT_DEFAULTS`), the users' other
network shapes, and the one classic model with a kernel (Axelrod's).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from culturesim.scenario import Scenario

__all__ = ["warm", "with_every_event"]

#: Each shipped scenario made small: the kernels' types do not depend on the sizes.
SMALL = {
    "organization.employees": 20,
    "market.potential_users": 2_000,
    "market.initial_active_users": 150,
}


def with_every_event(scenario: Scenario) -> Scenario:
    """Return ``scenario`` with one event of each kind, with the UI's starting parameters.

    The events come a month apart from month 1; the horizon ends a month after the last.
    """
    from culturesim.scenario import EVENT_DEFAULTS, EVENT_TYPES

    core = dict(scenario.organization.core_values)
    events = [
        {"month": month, "kind": kind, **EVENT_DEFAULTS[kind]}
        | ({"values": core} if "values" in model.model_fields else {})
        for month, (kind, model) in enumerate(EVENT_TYPES.items(), start=1)
    ]
    return scenario.with_changes({"events": events, "meta.months": len(events) + 1})


def warm() -> float:
    """Run every code path that calls a kernel, small, so that all are compiled and cached.

    Returns:
        Seconds taken (most of it compiling, on a first run; about a second once cached).
    """
    from culturesim.classics import axelrod, deffuant
    from culturesim.notices import notices_kept_quiet
    from culturesim.run import simulate
    from culturesim.scenario import SCENARIO_DIR, load_scenario

    start = time.perf_counter()
    # these runs only compile: what they would give notice of (a small company's cash running
    # out) is no news to whoever is installing
    with notices_kept_quiet():
        for path in sorted(SCENARIO_DIR.glob("*.toml")):
            simulate(load_scenario(path).with_changes(SMALL), seed=0)
        baseline = load_scenario(SCENARIO_DIR / "baseline.toml").with_changes(SMALL)
        simulate(with_every_event(baseline), seed=0)
        for network in ("scale_free", "mixed"):
            simulate(baseline.with_changes({"market.user_network": network}), seed=0, months=2)
    axelrod.simulate(width=4, height=4, max_events=20_000)
    deffuant.simulate(n=10, rounds=2)  # its update on one pair at a time (dock)
    return time.perf_counter() - start


if __name__ == "__main__":
    from culturesim.compiled import CACHE_ERRORS, CACHE_FOLDER

    seconds = warm()
    if CACHE_FOLDER is None or CACHE_ERRORS:  # no folder to write, or one that would not take them
        print(f"culturesim: kernels compiled ({seconds:.0f} s) but not cached: each new process "
              "compiles them again")  # fmt: skip
    else:
        print(f"culturesim: kernels compiled and cached ({seconds:.0f} s)")
