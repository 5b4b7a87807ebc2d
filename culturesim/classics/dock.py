"""Docking the classic models to their papers (Axtell, Axelrod, Epstein & Cohen 1996).

Each check runs a classic model over replications and compares what it reproduces with what the
paper reports, at a stated level of equivalence: *distributional* (a published number within a
tolerance derived from the replications' spread) or *relational* (the published ordering holds
beyond three standard errors of the paired differences). ``quick`` runs fewer replications (as the
tests do); the full run is what ``docs/VALIDATION.md`` records.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from culturesim.classics import (
    axelrod,
    bass,
    core,
    deffuant,
    harrison_carroll,
    hegselmann_krause,
    march,
)

__all__ = ["Check", "run_checks"]


@dataclass
class Check:
    """One docking check and its outcome."""

    model: str
    published: str
    reproduced: str
    tolerance: str
    level: str
    passed: bool

    def __post_init__(self) -> None:
        self.passed = bool(self.passed)  # NumPy booleans are not JSON

    def to_dict(self) -> dict:
        """The check as plain data."""
        return asdict(self)


def _se(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0


def _bass(reps: int) -> list[Check]:
    runs = [bass.simulate(m=5_000, dt=0.02, periods=15, seed=s) for s in range(reps)]
    mean = np.mean([r.adopted for r in runs], axis=0)
    spread = np.std([r.adopted for r in runs], axis=0, ddof=1) / np.sqrt(reps)
    gap = float(np.max(np.abs(mean - runs[0].closed_form) - 3 * spread))
    return [
        Check(
            "bass (p=0.03, q=0.38)",
            "closed form F(t)",
            f"largest gap to F(t) beyond 3 SE = {max(gap, 0):.4f}",
            "0.01 (discretisation, dt = 0.02)",
            "distributional",
            gap <= 0.01,
        )
    ]


def _deffuant(reps: int) -> list[Check]:
    out = []
    for d in (0.5, 0.3, 0.2, 0.15, 0.1):
        counts = np.array([deffuant.simulate(n=1000, d=d, seed=s).clusters for s in range(reps)])
        rule = 1 / (2 * d)
        out.append(
            Check(
                f"deffuant (d={d})",
                f"about 1/(2d) = {rule:.2f} clusters",
                f"{counts.mean():.2f} ± {_se(counts):.2f}",
                "within 1 cluster",
                "distributional",
                abs(counts.mean() - rule) < 1,
            )
        )
    return out


def _hk(reps: int) -> list[Check]:
    wide = [hegselmann_krause.simulate(n=1000, eps=0.3, seed=s).clusters for s in range(reps)]
    return [
        Check(
            "hegselmann_krause (eps=0.3)",
            "consensus (1 cluster) above eps ≈ 0.25",
            f"{np.mean(wide):.2f} clusters",
            "exactly 1 in every run",
            "distributional",
            all(c == 1 for c in wide),
        )
    ]


#: Axelrod (1997), Table 1: average stable regions on a 10 x 10 grid, each over ten runs.
AXELROD_TABLE_1 = {(5, 5): 1.0, (5, 15): 20.0, (10, 10): 1.0, (10, 15): 1.4, (5, 10): 3.2}
AXELROD_PAPER_RUNS = 10


def _axelrod(reps: int) -> list[Check]:
    def regions(f: int, q: int) -> np.ndarray:
        return np.array([axelrod.simulate(f, q, seed=s).regions for s in range(reps)])

    runs = {cell: regions(*cell) for cell in AXELROD_TABLE_1}
    out = []
    for (f, q), published in AXELROD_TABLE_1.items():
        regions = runs[f, q]
        # Both numbers are sample means: Table 1's of ten runs, ours of ``reps``. Their
        # difference has variance sd^2/10 + sd^2/reps (sd from our runs); 0.1 is the rounding.
        sd = float(np.std(regions, ddof=1))
        tol = 3 * sd * np.sqrt(1 / AXELROD_PAPER_RUNS + 1 / reps) + 0.1
        out.append(
            Check(
                f"axelrod (F={f}, q={q}, 10x10)",
                f"{published} stable regions (Table 1, mean of {AXELROD_PAPER_RUNS} runs)",
                f"{regions.mean():.2f} ± {_se(regions):.2f} (sd {sd:.2f}, {reps} runs)",
                f"3 SE of the difference of means + 0.1 = {tol:.2f}",
                "distributional",
                abs(regions.mean() - published) <= tol,
            )
        )
    # Table 1's pattern: more traits, more regions; more features, fewer
    steps = [((5, 5), (5, 10)), ((5, 10), (5, 15)), ((10, 10), (5, 10)), ((10, 15), (5, 15))]
    margins = [
        (runs[hi].mean() - runs[lo].mean()) / math.hypot(_se(runs[hi]), _se(runs[lo]))
        for lo, hi in steps
    ]
    out.append(
        Check(
            "axelrod (Table 1 pattern)",
            "F=5: q 5 < 10 < 15; F=10 < F=5 at q 10 and 15",
            "smallest step / its SE = " + f"{min(margins):.1f}",
            "every step > 3 SE",
            "relational",
            min(margins) > 3,
        )
    )
    return out


def _march(reps: int) -> list[Check]:
    def k(p1, p2):
        return np.array(
            [march.simulate(p1=p1, p2=p2, seed=s).code_knowledge[-1] for s in range(reps)]
        )

    slow, fast = k(0.1, 0.5), k(0.9, 0.5)
    diff = slow - fast
    helps = k(0.1, 0.9) - k(0.1, 0.1)
    gain_fast, gain_slow = march.turnover_gains(range(reps))
    more = gain_fast - gain_slow
    decay, sustained = march.turbulence_effects(range(reps))
    return [
        Check(
            "march (p2=0.5)",
            "slower socialization (p1=0.1 vs 0.9) -> more knowledge (Fig. 1)",
            f"{slow.mean():.3f} vs {fast.mean():.3f}",
            "difference > 3 SE",
            "relational",
            diff.mean() > 3 * _se(diff),
        ),
        Check(
            "march (p1=0.1)",
            "fast code learning helps when socialization is slow (Fig. 1)",
            f"p2 0.9 - 0.1 = {helps.mean():+.3f}",
            "difference > 3 SE",
            "relational",
            helps.mean() > 3 * _se(helps),
        ),
        Check(
            "march (turnover, p2=0.5)",
            "moderate turnover raises code knowledge, more so with fast socialization",
            f"p3 0.1 vs 0: {gain_fast.mean():+.3f} at p1=0.9, {gain_slow.mean():+.3f} at 0.1",
            "gain at p1=0.9 > 3 SE; larger than at 0.1 by > 3 SE",
            "relational",
            gain_fast.mean() > 3 * _se(gain_fast) and more.mean() > 3 * _se(more),
        ),
        Check(
            "march (turbulence, p4=0.02)",
            "without turnover knowledge decays after its peak; turnover sustains it",
            f"periods 10-40 minus 300-400: {decay.mean():+.3f}; p3=0.1 late: "
            f"{sustained.mean():+.3f}",
            "each > 3 SE",
            "relational",
            decay.mean() > 3 * _se(decay) and sustained.mean() > 3 * _se(sustained),
        ),
    ]


def _harrison_carroll(reps: int) -> list[Check]:
    def level(**kw):
        return np.array(
            [
                harrison_carroll.simulate(periods=100, seed=s, **kw).enculturation[-20:].mean()
                for s in range(reps)
            ]
        )

    diff = level(growth=-0.01) - level(growth=0.02)
    return [
        Check(
            "harrison_carroll (reconstruction)",
            "enculturation stronger in decline than in growth",
            f"decline - growth = {diff.mean():+.3f}",
            "difference > 3 SE",
            "relational",
            diff.mean() > 3 * _se(diff),
        )
    ]


def _core(reps: int) -> list[Check]:
    """The company model's own processes, the others switched off (culturesim.classics.core)."""
    seeds = range(2 * reps)
    k = {(p1, p2): core.march_knowledge(p1, p2, seeds) for p1 in (0.1, 0.9) for p2 in (0.1, 0.9)}
    slow = k[0.1, 0.9] - k[0.9, 0.9]
    helps_slow, helps_fast = k[0.1, 0.9] - k[0.1, 0.1], k[0.9, 0.9] - k[0.9, 0.1]
    fits = [core.bass_fit(s) for s in range(reps)]
    ratio = float(np.mean([f["q"] / f["p"] for f in fits]))
    grow, shrink = (
        core.culture_alignment(0.3, range(reps + 2)),
        core.culture_alignment(-0.2, range(reps + 2)),
    )
    trend = max(
        abs(np.polyfit(np.arange(36), a.mean(axis=0)[-36:], 1)[0]) * 36 for a in (grow, shrink)
    )
    decline = shrink[:, 84:].mean(axis=1) - grow[:, 84:].mean(axis=1)  # at equilibrium
    seeds_d = range(3 * reps)  # cluster counts spread: 0.1 vs 0.2 needs a dozen runs
    wide, mid = core.coworker_clusters(0.35, seeds_d), core.coworker_clusters(0.2, seeds_d)
    narrow = core.coworker_clusters(0.1, seeds_d)
    more = np.subtract(narrow, mid)
    return [
        Check(
            "core (a) knowledge ~ march",
            "slower socialization (p1=0.1 vs 0.9, p2=0.9) -> more knowledge",
            f"{k[0.1, 0.9].mean():.3f} vs {k[0.9, 0.9].mean():.3f}",
            "difference > 3 SE",
            "relational",
            slow.mean() > 3 * _se(slow),
        ),
        Check(
            "core (a) knowledge ~ march",
            "fast code learning helps only when socialization is slow",
            f"p2 0.9 - 0.1: {helps_slow.mean():+.3f} at p1=0.1, {helps_fast.mean():+.3f} at 0.9",
            "> 3 SE at p1=0.1; < 2 SE at p1=0.9",
            "relational",
            helps_slow.mean() > 3 * _se(helps_slow) and helps_fast.mean() < 2 * _se(helps_fast),
        ),
        Check(
            "core (b) users ~ bass",
            "adoption on a mixed market follows the Bass curve",
            f"fit R2 >= {min(f['r2'] for f in fits):.5f}, q/p = {ratio:.1f}",
            "R2 > 0.999, q/p > 3, peak within 2 months",
            "distributional",
            all(
                f["r2"] > 0.999 and f["q"] / f["p"] > 3 and abs(f["peak"] - f["bass_peak"]) <= 2
                for f in fits
            ),
        ),
        Check(
            "core (c) culture ~ harrison_carroll",
            "alignment settles at an equilibrium, stronger in decline than in growth",
            f"trend {trend:.4f}; decline - growth = {decline.mean():+.4f}",
            "trend < 0.01 over the last 36 months; months 84-120: difference > 3 SE",
            "relational",
            trend < 0.01 and decline.mean() > 3 * _se(decline),
        ),
        Check(
            "core (d) coworkers ~ deffuant",
            "consensus above d ~ 0.27; fragments below, more clusters the smaller d",
            f"clusters at d=0.35 / 0.2 / 0.1: {np.mean(wide):.1f} / {np.mean(mid):.1f} / "
            f"{np.mean(narrow):.1f} (mean-field law 1/(2d): 1 / 2.5 / 5)",
            "1 in at least 90% of runs at 0.35; >= 2 in at least 80% at 0.1; 0.1 vs 0.2 > 3 SE",
            "relational",
            np.mean(np.asarray(wide) == 1) >= core.CONSENSUS_SHARE
            and np.mean(np.asarray(narrow) >= 2) >= core.FRAGMENTED_SHARE
            and more.mean() > 3 * _se(more),
        ),
    ]


CHECKS: dict[str, Callable[[int], list[Check]]] = {
    "bass": _bass,
    "deffuant": _deffuant,
    "hegselmann_krause": _hk,
    "axelrod": _axelrod,
    "march": _march,
    "harrison_carroll": _harrison_carroll,
    "core": _core,
}


def run_checks(quick: bool = False) -> list[Check]:
    """Run every docking check.

    Uses 10 replications (``quick``: 4), three times that for the noisier March, and 100
    (``quick``: 30) for Axelrod, whose runs are cheap and whose region counts spread widely.
    """
    out = []
    for name, check in CHECKS.items():
        if name == "axelrod":
            reps = 30 if quick else 100
        else:
            reps = (4 if quick else 10) * (3 if name == "march" else 1)
        out.extend(check(reps))
    return out
