"""Docking the core processes to their classic models (issue: grounding, (a)-(d)).

Each test switches the other processes off through the scenario (``dynamics.switched_off``:
they are set up but never step) and checks the classic's result at reduced size, over fixed
seeds with common random numbers. Tolerances are k standard errors of the paired differences
over the seeds (k = 3 unless said), or bounds read off the replication spread.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import curve_fit

from culturesim.classics.deffuant import count_clusters
from culturesim.model import CultureModel
from culturesim.processes.users import PROSPECT
from culturesim.scenario import Scenario

PROCESSES = [
    "finance", "knowledge", "culture", "skill", "engagement",
    "turnover", "hiring", "users", "partners", "brand",
]  # fmt: skip
SMALL_MARKET = {"market.potential_users": 1000, "market.initial_active_users": 100}


def only(*keep: str) -> list[str]:
    return [p for p in PROCESSES if p not in keep]


def final(scenario: Scenario, seed: int, kpi: str) -> float:
    return float(CultureModel(scenario=scenario, rng=seed).run()[kpi].iloc[-1])


def mean_se(x) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))


def test_a_knowledge_reproduces_march_equilibrium_pattern():
    """March (1991) Fig. 1: slow socialization, more knowledge; code learning helps only then.

    March's set-up: code starts neutral, no turnover, no turbulence, no exploration; 50 people,
    30 dimensions, 120 periods (months), which is past equilibrium at these rates.
    """
    base = Scenario().with_changes({
        "meta.months": 120, "organization.employees": 50, **SMALL_MARKET,
        "market.turbulence_per_year": 0.0, "levers.innovation_time": 0.0,
        "dynamics.initial_code_knowledge": 0.0, "dynamics.switched_off": only("knowledge"),
    })  # fmt: skip
    seeds = range(8)
    k = {
        (p1, p2): [
            final(
                base.with_changes(
                    {"dynamics.socialization_rate": p1, "dynamics.code_learning_rate": p2}
                ),
                s,
                "knowledge",
            )
            for s in seeds
        ]
        for p1 in (0.1, 0.9)
        for p2 in (0.1, 0.9)
    }
    d = lambda a, b: np.subtract(k[a], k[b])  # noqa: E731 - paired by seed
    slow_beats_fast, se = mean_se(d((0.1, 0.9), (0.9, 0.9)))
    assert slow_beats_fast > 3 * se > 0, (slow_beats_fast, se)
    p2_helps_slow, se_slow = mean_se(d((0.1, 0.9), (0.1, 0.1)))
    assert p2_helps_slow > 3 * se_slow, (p2_helps_slow, se_slow)
    p2_helps_fast, se_fast = mean_se(d((0.9, 0.9), (0.9, 0.1)))
    assert p2_helps_fast < 2 * se_fast, (p2_helps_fast, se_fast)  # no gain when p1 is fast


def test_b_adoption_on_a_mixed_market_follows_the_bass_curve():
    """Bass (1969): on a fully mixed market, cumulative adoption is the Bass S-curve."""
    scenario = Scenario().with_changes({
        "meta.months": 60, "market.potential_users": 50_000, "market.initial_active_users": 0,
        "market.user_network": "mixed", "market.word_of_mouth": 0.6,
        "market.external_influence": 0.002, "market.conversion_rate": 0.3,
        "dynamics.switched_off": only("users"),
    })  # fmt: skip

    def bass(t, p, q, m):
        e = np.exp(-(p + q) * t)
        return m * (1 - e) / (1 + (q / p) * e)

    t = np.arange(61)
    for seed in range(4):
        model = CultureModel(scenario=scenario, rng=seed)
        adopted = [0.0]
        for _ in range(60):
            model.step()
            adopted.append(float(np.mean(model.users.state[: model.users.n] != PROSPECT)))
        f = np.array(adopted)
        (p, q, m), _ = curve_fit(
            bass, t, f, p0=(0.01, 0.3, 0.8), bounds=([1e-5, 1e-4, 0.01], [1, 5, 1])
        )
        r2 = 1 - np.sum((f - bass(t, p, q, m)) ** 2) / np.sum((f - f.mean()) ** 2)
        assert r2 > 0.999, (seed, r2)
        assert q / p > 3  # imitation drives it: an S-curve, not a saturating exponential
        assert m > 0.98  # the whole market adopts in the end
        peak = np.argmax(np.diff(f))
        assert abs(peak - np.log(q / p) / (p + q)) <= 2  # Bass's peak time, within 2 months


def test_c_alignment_settles_at_an_equilibrium_stronger_in_decline_over_the_horizon():
    """Harrison & Carroll (1991): enculturation settles; decline enculturates more than growth.

    Culture, turnover and hiring step; engagement is held still, so the quit hazard is fixed.
    The decline-over-growth ordering holds over the model's horizon (years 1-5); see
    docs/VALIDATION.md for its reversal at 8-10 years, when veterans' socialization has faded.
    """
    base = Scenario().with_changes({
        "meta.months": 120, "organization.employees": 150, **SMALL_MARKET,
        "dynamics.switched_off": only("culture", "turnover", "hiring"),
    })  # fmt: skip
    runs = {
        g: np.array([
            CultureModel(scenario=base.with_changes({"organization.growth_per_year": g}), rng=s)
            .run()["culture_alignment"].to_numpy()
            for s in range(6)
        ])
        for g in (0.3, -0.2)
    }  # fmt: skip
    for g, a in runs.items():  # settled: no trend over the last three years
        slope = np.polyfit(np.arange(36), a.mean(axis=0)[-36:], 1)[0]
        assert abs(slope) * 36 < 0.01, (g, slope)
    gap = runs[-0.2][:, 12:61].mean(axis=1) - runs[0.3][:, 12:61].mean(axis=1)
    diff, se = mean_se(gap)
    assert diff > 3 * se > 0, (diff, se)


def test_d_coworker_influence_forms_bounded_confidence_clusters():
    """Deffuant et al. (2000): consensus above d ~ 0.27, about 1/(2d) clusters below.

    One value dimension, no socialization or decay: coworker influence alone, on the org network.
    """
    base = Scenario().with_changes({
        "meta.months": 120, "organization.employees": 300, **SMALL_MARKET,
        "organization.core_values": {"openness": 0.5}, "organization.talent_pool_values": 0.5,
        "organization.value_spread": 0.5, "organization.site_value_spread": 0.0,
        "levers.inclusion": 0.0, "dynamics.culture_socialization": 0.0,
        "dynamics.culture_decay": 0.0, "dynamics.switched_off": only("culture"),
    })  # fmt: skip

    def clusters(d: float) -> list[int]:
        out = []
        for seed in range(5):
            m = CultureModel(
                scenario=base.with_changes({"dynamics.confidence_threshold": d}), rng=seed
            )
            m.run()
            out.append(count_clusters(m.employees.values[m.employees.ids][:, 0]))
        return out

    wide, narrow = clusters(0.35), clusters(0.1)
    assert wide == [1] * 5  # consensus in every run
    assert 3 <= np.mean(narrow) <= 6 and min(narrow) >= 2, narrow  # 1/(2d) = 5
