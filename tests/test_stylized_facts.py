"""Stylized facts from the literature that must emerge from the mechanisms (issue: market half).

Each compares scenarios over 20 paired seeds (common random numbers) on a market of 20,000
potential users; a difference counts when it is more than three standard errors of the paired
differences from zero, a tolerance derived from the replications themselves.
"""

import numpy as np
import pytest

from culturesim import simulate
from tests.conftest import SMALL_MARKET

SEEDS = range(20)
MARKET = SMALL_MARKET
FAR_VALUES = {"innovation": 0.2, "collaboration": 0.3, "user_focus": 0.2, "openness": 0.3}


def runs(scenario, changes, months=60):
    sc = scenario.with_changes(MARKET | changes)
    return [simulate(sc, seed=seed, months=months).kpis for seed in SEEDS]


def significant(diffs, sign=+1):
    diffs = np.asarray(diffs, dtype=float)
    mean, se = diffs.mean(), diffs.std(ddof=1) / np.sqrt(diffs.size)
    return sign * mean > 3 * se, f"mean {mean:+.4f}, se {se:.4f}"


@pytest.mark.slow
def test_slack_and_innovation_inverted_u(baseline):
    """Nohria & Gulati (1996): innovation peaks at intermediate slack."""
    levels = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    launches = np.array(
        [[k["launches"].sum() for k in runs(baseline, {"levers.innovation_time": it})]
         for it in levels]
    )  # fmt: skip
    means = launches.mean(axis=1)
    best = int(np.argmax(means))
    assert 0 < best < len(levels) - 1, means
    # the peak beats both ends seed by seed, beyond noise
    for end in (0, len(levels) - 1):
        ok, msg = significant(launches[best] - launches[end])
        assert ok, f"peak {levels[best]} vs {levels[end]}: {msg}"


def trust_path(kpis, month):
    trust = kpis["user_trust"]
    before = trust.loc[month - 1]
    after = trust.loc[month:]
    low_month = int(after.idxmin())
    drop = before - after.min()
    recovered = after.loc[low_month:]
    back = recovered[recovered >= before - 0.1 * drop]
    # not recovered by the horizon: censored at the months left (a lower bound)
    recovery = int(back.index[0]) - low_month if len(back) else len(recovered)
    return low_month - (month - 1), drop, recovery, before - trust.loc[month + 12]


@pytest.fixture(scope="module")
def incident_runs(baseline):
    event = {"events": [{"month": 24, "kind": "incident", "severity": 0.6}]}
    return {
        tr: [trust_path(k, 24) for k in runs(baseline, event | {"levers.transparency": tr})]
        for tr in (0.2, 0.8)
    }


def test_trust_falls_fast_and_recovers_slowly(incident_runs):
    """Slovic (1993): trust is quick to lose and slow to regain."""
    for paths in incident_runs.values():
        for fall, drop, recovery, _ in paths:
            assert fall <= 2
            assert drop > 0
            assert recovery > fall


def test_transparency_softens_the_fall_and_trust_is_nearer_its_level_a_year_on(incident_runs):
    """Slovic (1993): openness softens the loss of trust and helps rebuild it.

    A year after the incident trust is nearer its earlier level under high transparency (about
    0.02 below it, against 0.04). The share of the fall regained by then differs little (0.85
    against 0.88): users who join after the incident, and the churn of the most distrustful,
    carry most of the recovery. Months to regain 90% of the fall told the two apart only while
    every run here also ran out of cash and laid people off (3.1 standard errors, 1.0 with cash
    to spare; 2.0 once a hiring freeze stopped hiring).
    """
    low, high = incident_runs[0.2], incident_runs[0.8]
    ok, msg = significant([lo[1] - hi[1] for lo, hi in zip(low, high, strict=True)])
    assert ok, f"drop: {msg}"
    ok, msg = significant([lo[3] - hi[3] for lo, hi in zip(low, high, strict=True)])
    assert ok, f"below the earlier trust a year on: {msg}"


@pytest.mark.slow
def test_culture_clash_after_a_merger_and_inclusion_eases_it(baseline):
    merger = {"events": [{"month": 24, "kind": "merger", "headcount": 60, "values": FAR_VALUES}]}
    window_f, window_a = slice(25, 42), slice(30, 48)
    rise = {}
    for inclusion in (0.1, 0.9):
        lever = {"levers.inclusion": inclusion}
        with_m, without = runs(baseline, merger | lever), runs(baseline, lever)
        pairs = list(zip(with_m, without, strict=True))
        rise[inclusion] = {
            kpi: np.array([a.loc[w, kpi].mean() - b.loc[w, kpi].mean() for a, b in pairs])
            for kpi, w in (("culture_fragmentation", window_f), ("attrition_rate_annual", window_a))
        }
    for kpi in ("culture_fragmentation", "attrition_rate_annual"):
        ok, msg = significant(rise[0.1][kpi])
        assert ok, f"merger raises {kpi}: {msg}"
        ok, msg = significant(rise[0.1][kpi] - rise[0.9][kpi])
        assert ok, f"inclusion eases the rise of {kpi}: {msg}"


def months_to_recover(alignment, month, share=0.9):
    """Months after ``month`` until alignment regains ``share`` of what the change cost it.

    The alignment scale (1 - mean absolute gap) is compressed near 1, so "90% of its earlier
    level" is read as 90% of the lost ground: from the low back to low + 0.9 (before - low).
    """
    before = alignment.loc[month - 1]
    after = alignment.loc[month:]
    low_month = int(after.idxmin())
    target = after.min() + share * (before - after.min())
    reached = after.loc[low_month:][after.loc[low_month:] >= target]
    return int(reached.index[0]) - month if len(reached) else len(after)


def test_culture_takes_years_after_a_leadership_change(baseline):
    new_core = {"innovation": 0.5, "collaboration": 0.9, "user_focus": 0.5, "openness": 0.9}
    event = {"events": [{"month": 24, "kind": "leadership_change", "values": new_core}]}
    kpis = runs(baseline, event)
    months = np.array([months_to_recover(k["culture_alignment"], 24) for k in kpis])
    # Over 60 seeds 57 took more than 12 months and 3 took 11-12 (median 33.5; docs/ODD.md
    # section 8): a fast recovery is a rare tail, not the rule.
    assert np.mean(months > 12) >= 0.9, months
    assert np.median(months) > 24, months


def test_brand_spend_raises_awareness_and_users(baseline):
    low = runs(baseline, {"levers.brand_spend": 10_000.0}, months=36)
    high = runs(baseline, {"levers.brand_spend": 400_000.0}, months=36)
    for kpi in ("brand_awareness", "users_active"):
        ok, msg = significant(
            [h.loc[36, kpi] - lo.loc[36, kpi] for lo, h in zip(low, high, strict=True)]
        )
        assert ok, f"{kpi}: {msg}"


def test_better_employer_brand_fills_vacancies_faster(baseline):
    """Pay lifts the employer brand, which brings applicants: vacancies fill sooner."""
    low = runs(baseline, {"levers.compensation_premium": 0.0}, months=24)
    high = runs(baseline, {"levers.compensation_premium": 0.2}, months=24)
    pairs = list(zip(low, high, strict=True))
    ok, msg = significant(
        [h["employer_brand"].mean() - lo["employer_brand"].mean() for lo, h in pairs]
    )
    assert ok, f"employer brand: {msg}"
    ok, msg = significant(
        [h["time_to_fill_months"].mean() - lo["time_to_fill_months"].mean() for lo, h in pairs],
        sign=-1,
    )
    assert ok, f"time to fill: {msg}"
