"""Direction tests: a lever moved one way moves an outcome the expected way.

Each compares two scenarios over 20 paired seeds (common random numbers) and asks that the mean
paired difference be more than three standard errors from zero in the expected direction, a
tolerance derived from the replications themselves.
"""

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culturesim import CultureModel, load_scenario, simulate
from culturesim.levers import LEVERS
from culturesim.measure import FIT_NORM, alignment
from culturesim.processes import engagement
from culturesim.processes.turnover import quit_rate
from tests.conftest import SCENARIOS, SMALL_MARKET

SEEDS = range(20)
MONTHS = 36
# the employee-side levers do not depend on the market's size: SMALL_MARKET (a tenth of it,
# finance held still) keeps runs fast


def paired(baseline, change_a, change_b, kpis, window=slice(13, MONTHS)):
    """Each of ``kpis``' mean paired difference (B - A) over the seeds and its standard error.

    The KPIs of one pair of settings share its runs (a lever with three outcomes runs once).
    """
    baseline = baseline.with_changes(SMALL_MARKET)
    diffs = {kpi: [] for kpi in kpis}
    for seed in SEEDS:
        a = simulate(baseline.with_changes(change_a), seed=seed, months=MONTHS).kpis
        b = simulate(baseline.with_changes(change_b), seed=seed, months=MONTHS).kpis
        for kpi, d in diffs.items():
            d.append(b.loc[window, kpi].mean() - a.loc[window, kpi].mean())
    return {kpi: (np.mean(d), np.std(d, ddof=1) / np.sqrt(len(d))) for kpi, d in diffs.items()}


@pytest.mark.parametrize(
    ("lever", "low", "high", "signs"),
    [
        ("training_budget", 500.0, 5000.0, {"mean_skill": +1}),
        ("transparency", 0.2, 0.8, {"trust_in_leadership": +1}),
        ("compensation_premium", 0.0, 0.15, {"attrition_rate_annual": -1, "costs": +1}),
        ("innovation_time", 0.0, 0.2, {"ideas": +1}),
        ("innovation_time", 0.1, 0.3, {"workload": +1}),  # exploring takes delivery time
        # slower to fill, with better people
        ("hiring_selectivity", 0.2, 0.8, {"culture_alignment": +1, "hires": -1, "mean_skill": +1}),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, dict) else str(v),
)
def test_lever_direction(baseline, lever, low, high, signs):
    moved = paired(baseline, {f"levers.{lever}": low}, {f"levers.{lever}": high}, list(signs))
    wrong = [
        f"{kpi} moved {mean:+.4f} (se {se:.4f})"
        for kpi, (mean, se) in moved.items()
        if not signs[kpi] * mean > 3 * se
    ]
    assert not wrong, f"{lever} {low}->{high}: " + "; ".join(wrong)


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
    signs = {"engagement": +1, "culture_fragmentation": -1}
    moved = paired(scenario, {"levers.inclusion": 0.1}, {"levers.inclusion": 0.9}, list(signs))
    for kpi, (mean, se) in moved.items():
        assert signs[kpi] * mean > 3 * se, f"inclusion 0.1->0.9: {kpi} {mean:+.4f} (se {se:.4f})"


# Person by person, one month's move: the levers each equation reads directly, and the way each
# pushes. A lever the equation does not read must leave everyone as they were.
ENGAGEMENT_PUSH = {
    "training_budget": +1, "internal_mobility": +1, "compensation_premium": +1,
    "inclusion": +1, "innovation_time": +1,  # autonomy (the workload it costs is held here)
}  # fmt: skip
TRUST_PUSH = {"transparency": +1, "compensation_premium": +1}


@functools.cache
def _company():
    """Global expansion at month 36 (misfits and those who fit, three sites)."""
    scenario = load_scenario(SCENARIOS / "global_expansion.toml").with_changes(SMALL_MARKET)
    model = CultureModel(scenario=scenario, rng=5)
    for _ in range(36):
        model.step()
    return model


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), lever=st.sampled_from(sorted(LEVERS)))
def test_each_lever_moves_engagement_and_trust_its_way_for_everyone(data, lever):
    """Any settings, one lever raised: one month's engagement and trust move its way for every
    person, or not at all where the equation does not read it. (Inclusion lowered the
    engagement of those who fit before fit_effect.)"""
    model = _company()
    e, ids = model.employees, model.employees.ids
    spec = LEVERS[lever]
    levers = {name: data.draw(st.floats(v.lo, v.hi), label=name) for name, v in LEVERS.items()}
    nudge = 0.02 * (spec.hi - spec.lo)  # a step the month's move shows in every person
    low = data.draw(st.floats(spec.lo, spec.hi - nudge), label="low")
    high = data.draw(st.floats(low + nudge, spec.hi), label="high")

    def month(value):
        before = e.engagement.copy(), e.trust.copy()
        engagement.update(model, ids, {**levers, lever: value}, model.workload)
        moved = e.engagement[ids].copy(), e.trust[ids].copy()
        e.engagement[:], e.trust[:] = before
        return moved

    (eng_low, trust_low), (eng_high, trust_high) = month(low), month(high)
    for name, push, was, now in (
        ("engagement", ENGAGEMENT_PUSH.get(lever, 0), eng_low, eng_high),
        ("trust", TRUST_PUSH.get(lever, 0), trust_low, trust_high),
    ):
        if push == 0:
            assert np.array_equal(now, was), f"{lever} moved {name}, which does not read it"
        else:
            assert np.all(push * (now - was) >= 0), f"{lever} {low}->{high}: {name} the wrong way"
            assert np.any(now != was), f"{lever} {low}->{high}: {name} did not move"


@settings(max_examples=200, deadline=None)
@given(
    engagement=st.floats(0, 1), fit=st.floats(0, 1), skill=st.floats(0, 1),
    log_pay=st.floats(-0.3, 0.3), tenure=st.floats(0, 120), peers=st.floats(0, 1),
    premium=st.floats(-0.2, 0.5), inclusion=st.floats(0, 1), demand=st.floats(0, 1),
    step=st.floats(0.01, 0.3),
)  # fmt: skip
def test_the_quit_rate_falls_with_engagement_fit_pay_and_inclusion(
    engagement, fit, skill, log_pay, tenure, peers, premium, inclusion, demand, step
):  # fmt: skip
    """The quit equation person by person: each driver pushes its way, inclusion on misfits."""

    def rate(**changed):
        x = {"engagement": engagement, "fit": fit, "log_pay": log_pay, "peers": peers,
             "inclusion": inclusion, **changed}  # fmt: skip
        return quit_rate(x["engagement"], x["fit"], skill, x["log_pay"], tenure, x["peers"],
                         np.log1p(premium), x["inclusion"], demand, 0.5, 0.0, 0.15)  # fmt: skip

    base = rate()
    assert rate(engagement=engagement + step) < base
    assert rate(fit=fit + step) < base
    assert rate(log_pay=log_pay + step) < base
    assert rate(peers=peers + step) > base  # contagion
    assert rate(inclusion=min(inclusion + step, 1.0)) <= base  # eases misfit only
    if fit < FIT_NORM and inclusion + step <= 1.0:
        assert rate(inclusion=inclusion + step) < base
