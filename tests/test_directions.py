"""Direction tests: a lever moved one way moves an outcome the expected way.

Each compares two scenarios over 20 paired seeds (common random numbers) and asks that the mean
paired difference be more than three standard errors from zero in the expected direction, a
tolerance derived from the replications themselves.
"""

import numpy as np
import pytest

from culturesim import simulate

SEEDS = range(20)
MONTHS = 36
# the employee-side levers do not depend on the market's size: a tenth of it keeps runs fast
SMALL_MARKET = {"market.potential_users": 20_000, "market.initial_active_users": 1_500}


def paired(baseline, change_a, change_b, kpi, window=slice(13, MONTHS)):
    baseline = baseline.with_changes(SMALL_MARKET)
    diffs = []
    for seed in SEEDS:
        a = simulate(baseline.with_changes(change_a), seed=seed, months=MONTHS).kpis
        b = simulate(baseline.with_changes(change_b), seed=seed, months=MONTHS).kpis
        diffs.append(b.loc[window, kpi].mean() - a.loc[window, kpi].mean())
    diffs = np.asarray(diffs)
    return diffs.mean(), diffs.std(ddof=1) / np.sqrt(diffs.size)


@pytest.mark.parametrize(
    ("lever", "low", "high", "kpi", "sign"),
    [
        ("training_budget", 500.0, 5000.0, "mean_skill", +1),
        ("transparency", 0.2, 0.8, "trust_in_leadership", +1),
        ("compensation_premium", 0.0, 0.15, "attrition_rate_annual", -1),
        ("compensation_premium", 0.0, 0.15, "costs", +1),
        ("innovation_time", 0.0, 0.2, "ideas", +1),
        ("innovation_time", 0.1, 0.3, "workload", +1),  # exploring takes delivery time
        ("hiring_selectivity", 0.2, 0.8, "culture_alignment", +1),
        ("hiring_selectivity", 0.2, 0.8, "hires", -1),  # slower to fill ...
        ("hiring_selectivity", 0.2, 0.8, "mean_skill", +1),  # ... with better people
    ],
)
def test_lever_direction(baseline, lever, low, high, kpi, sign):
    mean, se = paired(baseline, {f"levers.{lever}": low}, {f"levers.{lever}": high}, kpi)
    assert sign * mean > 3 * se, f"{lever} {low}->{high}: {kpi} moved {mean:+.4f} (se {se:.4f})"
