"""Direction tests: a lever moved one way moves an outcome the expected way.

Each compares two scenarios over 20 paired seeds (common random numbers) and asks that the mean
paired difference be more than three standard errors from zero in the expected direction, a
tolerance derived from the replications themselves.
"""

import numpy as np
import pytest

from culturesim import CultureModel, load_scenario, simulate
from culturesim.measure import FIT_NORM, alignment
from culturesim.processes import engagement
from culturesim.processes.turnover import quit_rate
from tests.conftest import SCENARIOS

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


def test_inclusion_eases_misfit_and_takes_nothing_from_those_who_fit():
    """Person by person, in a company with sites of other values: more inclusion never lowers
    anyone's engagement nor raises their quit rate, and lifts the misfits'.

    The first version scaled the whole fit term by inclusion, so for the nine in ten who fit above
    the norm inclusion took away the bonus of fitting, and inclusion raised attrition.
    """
    scenario = load_scenario(SCENARIOS / "global_expansion.toml").with_changes(SMALL_MARKET)
    model = CultureModel(scenario=scenario, rng=3)
    for _ in range(36):  # past both new sites
        model.step()
    e, ids = model.employees, model.employees.ids
    fit = alignment(e.values[ids], model.core)
    misfit = fit < FIT_NORM
    assert 0 < misfit.sum() < ids.size  # both kinds are there to compare

    def after(inclusion):
        levers = dict(model.levers, inclusion=inclusion)
        before = e.engagement.copy(), e.trust.copy()
        engagement.update(model, ids, levers, model.workload)
        moved = e.engagement[ids].copy()
        e.engagement[:], e.trust[:] = before
        rates = [
            quit_rate(e.engagement[i], f, e.skill[i], e.log_pay[i], e.tenure[i],
                      e.peer_departures[i], 0.0, inclusion, 0.5, 0.5, 0.0, 0.1)
            for i, f in zip(ids, fit, strict=True)
        ]  # fmt: skip
        return moved, np.array(rates)

    low_eng, low_quit = after(0.1)
    high_eng, high_quit = after(0.9)
    assert np.all(high_eng[~misfit] == low_eng[~misfit])
    assert np.all(high_quit[~misfit] == low_quit[~misfit])
    assert np.all(high_eng[misfit] > low_eng[misfit])
    assert np.all(high_quit[misfit] < low_quit[misfit])


def test_inclusion_lifts_engagement_and_lowers_fragmentation_across_sites():
    """The company-wide result of the above, over 20 paired seeds (within 3 standard errors)."""
    scenario = load_scenario(SCENARIOS / "global_expansion.toml")
    for kpi, sign in (("engagement", +1), ("culture_fragmentation", -1)):
        mean, se = paired(scenario, {"levers.inclusion": 0.1}, {"levers.inclusion": 0.9}, kpi)
        assert sign * mean > 3 * se, f"inclusion 0.1->0.9: {kpi} moved {mean:+.4f} (se {se:.4f})"
