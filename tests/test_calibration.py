"""Calibration: the baseline's voluntary attrition sits near the tech-sector figure, and quits
respond to pay as field studies find; the founders start where the company stays.

LinkedIn's 2018 talent-turnover analysis put annual turnover in technology (software) at 13.2%;
the acceptance band 10-18% allows for a young, fast-growing company (source in docs/ODD.md).
"""

import numpy as np
import pandas as pd
import pytest

from culturesim import simulate
from tests.conftest import SMALL_MARKET


@pytest.mark.slow
def test_baseline_attrition_is_calibrated(baseline):
    means = [
        simulate(baseline, seed=seed).kpis.loc[13:60, "attrition_rate_annual"].mean()
        for seed in range(20)
    ]
    overall = float(np.mean(means))
    assert 0.10 <= overall <= 0.18, overall


@pytest.mark.slow
def test_quits_respond_to_pay_as_field_studies_find(baseline):
    """A 10% pay cut or raise moves quits by about 20-30% (elasticity 2-3) in experimental and
    quasi-experimental studies (Naidu & Carr 2022, docs/ODD.md). Measured over 16 seeds (36
    months): 2.86, sd 0.54 a seed (2.94 before the founders' values were replayed, 2.85 before
    the founders' replay); with engagement's old pay weight (3.0) it was 4.6."""
    elasticities = []
    for seed in range(8):
        cut, rise = (
            simulate(baseline.with_changes({"levers.compensation_premium": premium}), seed=seed,
                     months=36).kpis.loc[13:36, "attrition_rate_annual"].mean()
            for premium in (-0.1, 0.1)
        )  # fmt: skip
        elasticities.append((cut - rise) / ((cut + rise) / 2) / 0.2)  # arc elasticity
    overall = float(np.mean(elasticities))
    assert 2.0 <= overall <= 3.5, overall  # seeds 0-7: 2.90; 2.86 + 3 SE of 8 seeds: 3.4


def test_founders_start_where_the_company_stays(baseline):
    """Founders have lived by the culture, skill, engagement and trust equations since they
    joined (a founder with T months of tenure gets T months from a hire's values, skill and
    levels, among those who had joined, under the levers' defaults), so month 0 is not a start
    from a newcomer's goodwill and skill nor from values set part way to the core. Gap between
    month 0 and months 24-36, mean over 12 seeds: culture alignment +0.001 (sd 0.005 a seed),
    engagement -0.010 (sd 0.014), trust -0.004 (sd 0.005), mean skill -0.011 (sd 0.007; -0.037
    with a hire's skill, until 2026-12-02); alignment moves +0.002 from month 0 to 3 (-0.004 to
    +0.007). With founders' values set half way to the core (until 2026-12-01) alignment's gap
    was -0.025 (sd 0.011) and it rose 0.013-0.040 in three months; with every founder at a
    hire's engagement and trust, those gaps were +0.053 and +0.043 (a fall in year one). The
    founders' informal ties are as short as hiring makes them: communication efficiency does
    not climb in year one (culturesim.networks.FOUNDING_REWIRING)."""
    from culturesim import CultureModel
    from culturesim.levers import LEVERS
    from culturesim.measure import alignment
    from culturesim.processes.engagement import HIRE_ENGAGEMENT, HIRE_TRUST

    model = CultureModel(scenario=baseline, rng=0)
    e = model.employees
    tenure, engagement, trust = e.tenure[e.ids], e.engagement[e.ids], e.trust[e.ids]
    values, own = e.values[e.ids], e.own_values[e.ids]
    newest = tenure == 0
    assert newest.any() and (tenure >= 24).any()
    assert (engagement[newest] == HIRE_ENGAGEMENT).all() and (trust[newest] == HIRE_TRUST).all()
    assert np.array_equal(values[newest], own[newest])  # a hire holds their own values
    moved = np.abs(engagement - HIRE_ENGAGEMENT)
    assert moved[tenure >= 24].mean() > 2 * moved[(tenure > 0) & (tenure < 6)].mean()
    gained = alignment(values, model.core) - alignment(own, model.core)
    # socialized for their months: 0.13 at 24+ months, 0.10 at 1-5 (a newcomer's pull is fast)
    assert gained[tenure >= 24].mean() > gained[(tenure > 0) & (tenure < 6)].mean() > 0.05
    # the founders are hired and live their months under the levers' defaults: levers act
    # from month 0, so scenarios that differ only in levers start from the same company. Every
    # lever moves here: the founders were screened at the scenario's hiring selectivity, and
    # selectivity 1 opened on staff of mean skill 0.79 against 0.63
    levers = {f"levers.{name}": lever.hi if lever.default < lever.hi else lever.lo
              for name, lever in LEVERS.items()}  # fmt: skip
    other = CultureModel(scenario=baseline.with_changes(levers), rng=0).employees
    assert other.ids.tolist() == e.ids.tolist()
    for field in ("engagement", "trust", "values", "own_values", "skill", "beliefs", "log_pay",
                  "disposition", "team", "tenure"):  # fmt: skip
        assert np.array_equal(getattr(other, field)[e.ids], getattr(e, field)[e.ids]), field

    gaps, moves, shortened = [], [], []
    for seed in range(4):
        kpis = simulate(baseline, seed=seed, months=36).kpis
        gaps.append(kpis.loc[0] - kpis.loc[24:36].mean())
        moves.append(kpis.loc[3, "culture_alignment"] - kpis.loc[0, "culture_alignment"])
        efficiency = kpis["communication_efficiency"]
        shortened.append(efficiency.loc[6:12].mean() - efficiency.loc[0])
    gap = pd.DataFrame(gaps).mean()
    assert abs(gap["culture_alignment"]) < 0.01, gap["culture_alignment"]  # +0.002 (-0.025)
    assert max(moves) < 0.012, moves  # every seed of the old start rose by more
    # the founders' informal ties are about as short as those hiring grows: efficiency over
    # months 6-12 exceeds month 0 by 0.010 (sd 0.008 a seed, 12 seeds); with the founders'
    # ties rewired at 0.15 instead of 0.5 by 0.058 (0.033 to 0.080)
    assert np.mean(shortened) < 0.03, shortened
    assert abs(gap["engagement"]) < 0.045, gap["engagement"]
    assert abs(gap["trust_in_leadership"]) < 0.02, gap["trust_in_leadership"]
    # the founders trained for their months: mean skill -0.011 (sd 0.007 a seed, 12 seeds);
    # from a hire's skill (until 2026-12-02) -0.037, a climb in every run
    assert abs(gap["mean_skill"]) < 0.02, gap["mean_skill"]


def test_the_code_starts_where_the_company_keeps_it(baseline):
    """The code has learned from the founders over their months (the founders' replay of
    March's steps, docs/ODD.md section 5), so the market knowledge KPI does not climb in every
    run whatever the levers. On the baseline with a market of 1,000 users (knowledge does not
    depend on the market's size; a run is 10x faster; cash enough to keep finance out of it),
    12 seeds, the gap between months 24-36 and month 0 is +0.004 (sd 0.070 a seed); with the
    code at 0.5 of month 0's reality (until 2026-12-02) it was +0.33. Without innovation time
    the code now loses ground as the market drifts (-0.077, sd 0.091), with 0.4 it gains
    (+0.128, sd 0.045); the founders taught it 0.31 of the market (sd 0.06) beyond what it knew
    at founding."""
    from culturesim import CultureModel

    model = CultureModel(scenario=baseline, rng=0)
    # levers act from month 0: the founders' months ran under the defaults
    other = CultureModel(scenario=baseline.with_changes({"levers.innovation_time": 0.5}), rng=0)
    assert np.array_equal(other.code, model.code)
    assert np.array_equal(other.employees.beliefs, model.employees.beliefs)
    assert np.array_equal(other.reality, model.reality)
    # a company of age 0 has no history: the code knows only the guess, of month 0's reality
    young = baseline.with_changes({"organization.age_months": 0})
    new = CultureModel(scenario=young, rng=0)
    assert (new.employees.tenure[new.employees.ids] == 0).all()
    assert np.array_equal(new.reality, model.reality)
    assert ((new.code == 0) | (new.code == new.reality)).all()

    market = SMALL_MARKET | {"market.potential_users": 1000, "market.initial_active_users": 100}
    taught, gaps, less, more = [], [], [], []
    for seed in range(12):
        founded = CultureModel(scenario=young.with_changes(market), rng=seed).knowledge
        for it, out in ((0.1, gaps), (0.0, less), (0.4, more)):
            lever = baseline.with_changes({**market, "levers.innovation_time": it})
            kpis = simulate(lever, seed=seed, months=36).kpis["knowledge"]
            out.append(kpis.loc[24:36].mean() - kpis.loc[0])
        taught.append(kpis.loc[0] - founded)
    assert abs(np.mean(gaps)) < 0.06, gaps  # +0.004 (+0.33 before)
    assert np.mean(less) < -0.03, less
    assert np.mean(more) > 0.05, more
    assert np.mean(taught) > 0.2, taught


def test_the_market_opens_where_the_company_holds_it(baseline):
    """Users' trust and satisfaction, reputation, partners' trust and employer brand start at
    the levels month 0's company sets them, and the recent launch rate at the founders'
    (docs/ODD.md section 5), so the market's KPIs do not climb in every run from guessed
    starts. On a market of 20,000 users, 12 seeds, months 1-12 against month 0: user trust
    +0.000 (sd 0.005 a seed), NPS +2.5 (sd 3.3), reputation +0.005, partners' trust +0.000,
    employer brand +0.005 (sd 0.012); with trust at 0.6, satisfaction at 0.72 + taste,
    reputation, partners' trust and employer brand at 0.5 and no recent launches (until
    2026-12-02): +0.033, +20.6, +0.055, +0.031 and +0.024. The founders' recent launch rate is
    0.84 of the first year's launches a month (0.66-1.07 a seed; 0 before)."""
    from culturesim import CultureModel

    model = CultureModel(scenario=baseline, rng=0)
    # levers act from month 0: the market opened under the defaults
    levers = {
        "transparency": 0.9,
        "feedback_responsiveness": 0.9,
        "brand_spend": 400_000,
        "compensation_premium": 0.15,
        "partnership_openness": 0.9,
        "innovation_time": 0.4,
    }
    other = CultureModel(
        scenario=baseline.with_changes({f"levers.{k}": v for k, v in levers.items()}), rng=0
    )  # fmt: skip
    for name in ("brand_reputation", "employer_brand", "launch_rate"):
        assert getattr(other, name) == getattr(model, name), name
    for pop, field in (("users", "trust"), ("users", "satisfaction"), ("partners", "trust")):
        assert np.array_equal(
            getattr(getattr(other, pop), field), getattr(getattr(model, pop), field)
        )

    market = SMALL_MARKET
    names = ("user_trust", "nps", "brand_reputation", "partner_trust", "employer_brand")
    gaps, recent = {name: [] for name in names}, []
    for seed in range(12):
        run = simulate(baseline.with_changes(market), seed=seed, months=12)
        for name in names:
            kpi = run.kpis[name]
            gaps[name].append(kpi.loc[1:12].mean() - kpi.loc[0])
        opening = CultureModel(scenario=baseline.with_changes(market), rng=seed).launch_rate
        recent.append(opening / run.kpis["launches"].loc[1:12].mean())
    gap = {name: np.mean(values) for name, values in gaps.items()}
    assert abs(gap["user_trust"]) < 0.01, gap  # +0.033 before
    assert abs(gap["nps"]) < 8, gap  # +20.6
    assert abs(gap["brand_reputation"]) < 0.02, gap  # +0.055
    assert abs(gap["partner_trust"]) < 0.01, gap  # +0.031
    assert abs(gap["employer_brand"]) < 0.015, gap  # +0.024
    # the founders' recent launches are about the first year's (0.84 of them; 0 before)
    assert 0.5 < np.mean(recent) < 1.5, recent


def test_founders_remember_the_peers_who_left(baseline):
    """The founders' replayed months have no quits, so their memory of departed ties (which
    raises the quit hazard through contagion) started at 0 and took about a year to build up
    (until 2026-12-02): month 0 minus months 12-36, mean over 8 seeds, -0.037 (sd 0.007 a
    seed). It now starts at its expected value after their tenure at month 0's quit chances
    (turnover.remember_founders_departures): +0.000 (sd 0.007)."""
    from culturesim import CultureModel

    model = CultureModel(scenario=baseline, rng=0)
    e = model.employees
    memory, tenure = e.peer_departures[e.ids], e.tenure[e.ids]
    assert (memory[tenure == 0] == 0).all()  # joined at month 0: nobody has left on them
    assert memory[tenure >= 12].mean() > 0.02
    other = CultureModel(scenario=baseline.with_changes({"levers.compensation_premium": -0.2,
                         "levers.inclusion": 0.9}), rng=0).employees  # fmt: skip
    assert np.array_equal(other.peer_departures[e.ids], memory)  # under the levers' defaults
    young = CultureModel(scenario=baseline.with_changes({"organization.age_months": 0}), rng=0)
    assert not young.employees.peer_departures.any()  # no past, no departures

    market = SMALL_MARKET
    gaps = []
    for seed in range(8):
        model = CultureModel(scenario=baseline.with_changes(market), rng=seed)
        e, later = model.employees, []
        start = e.peer_departures[e.ids].mean()
        for month in range(1, 37):
            model.step()
            if month >= 12:
                later.append(e.peer_departures[e.ids].mean())
        gaps.append(start - np.mean(later))
    assert abs(np.mean(gaps)) < 0.01, gaps  # -0.037 before


def test_the_first_years_attrition_reaches_back_before_month_0(baseline):
    """The trailing 12 months of attrition reach back before month 0, where the founders quit
    at their month-0 chances under the levers' defaults (expected, not drawn). Annualised from
    the months since month 0 instead, it started every run at 0 and jumped on single quits: the
    largest month-to-month move in the first year was 0.14 on average over 12 seeds, up to 0.30
    (that estimator on the same runs; a single run's month 2 read 35% in the classroom); now
    0.019, at most 0.038. Month 0 reads 0.114-0.170 (mean 0.147, 12 seeds; 0.143 before the
    founders' memory of departed peers, test_founders_remember_the_peers_who_left); months
    13-36 average 0.141."""
    from culturesim import CultureModel

    model = CultureModel(scenario=baseline, rng=0)
    past = model.quits_before_start
    assert past["headcount"] == baseline.organization.employees
    assert 0 < past["regretted_quits"] < past["quits"]
    kpis = model.kpi_frame()
    assert kpis.loc[0, "attrition_rate_annual"] == 12 * past["quits"] / past["headcount"]
    other = CultureModel(scenario=baseline.with_changes({"levers.compensation_premium": -0.2,
                         "levers.inclusion": 0.9}), rng=0)  # fmt: skip
    assert other.quits_before_start == past  # the history predates the scenario's levers

    for seed in range(8):
        k = simulate(baseline, seed=seed, months=13).kpis
        rate = k["attrition_rate_annual"]
        assert 0.10 < rate[0] < 0.20, (seed, rate[0])
        assert np.abs(np.diff(rate[:13])).max() < 0.06, (seed, rate.round(3).tolist())
        # from month 12 the window holds the run's own months only
        own = k.loc[1:12, "quits"].sum() / k.loc[0:11, "headcount"].mean()
        assert rate[12] == pytest.approx(own, rel=1e-12)
