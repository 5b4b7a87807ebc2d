"""Users, partners, brand and the events of the market half of the model."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from culturesim import CultureModel, simulate
from culturesim.networks import _ring_ties, _symmetric_rows, user_network
from culturesim.processes.users import (
    ACTIVE,
    BASE_CHURN,
    CHURNED,
    PROSPECT,
    TRUST_FALL,
    TRUST_SPREAD,
    UserTally,
    _active_ties,
    _tally,
    _users_step,
)
from culturesim.random import Streams
from culturesim.scenario import EVENT_HELP, EVENT_TYPES
from tests.conftest import SMALL_MARKET

NEW_CORE = {"innovation": 0.5, "collaboration": 0.9, "user_focus": 0.5, "openness": 0.9}


def with_event(small, **event):
    return small.with_changes({"events": [event]})


def test_every_event_kind_has_help_and_a_schema():
    assert set(EVENT_HELP) == set(EVENT_TYPES)
    assert len(EVENT_TYPES) == 9


@pytest.mark.parametrize("kind", ["small_world", "scale_free"])
def test_user_networks_are_symmetric_without_self_ties(kind):
    a = user_network(kind, 5_000, 10, Streams(1))
    assert (a != a.T).nnz == 0
    assert a.diagonal().sum() == 0
    degree = np.diff(a.indptr)
    assert 7 <= degree.mean() <= 10.5
    if kind == "scale_free":
        assert degree.max() > 10 * np.median(degree)  # hubs
    assert user_network("mixed", 5_000, 10, Streams(1)) is None


def test_small_world_users_are_a_ring_with_a_tenth_of_far_ends_rewired():
    n, half = 5_000, 5
    s = Streams(3)["user_network"]
    src, dst = _ring_ties(n, half, s.key, s.position(0), s.position(0, 1))
    want_src = np.repeat(np.arange(n), half)
    ring = (want_src + np.tile(np.arange(1, half + 1), n)) % n
    rewire = s.uniform(0, n * half) < 0.1
    far = (s.uniform(0, n * half, part=1) * n).astype(np.int64)
    np.testing.assert_array_equal(src, want_src)
    np.testing.assert_array_equal(dst, np.where(rewire, far, ring))
    assert 0.09 < rewire.mean() < 0.11


def test_user_ties_are_the_canonical_symmetric_rows_of_their_pairs():
    rng = np.random.default_rng(0)
    n = 300
    src = rng.integers(0, n, 5_000)  # repeats and self-pairs among them
    dst = np.where(rng.random(5_000) < 0.2, 7, rng.integers(0, n, 5_000))  # user 7: a hub
    indptr, indices = _symmetric_rows(src, dst, n)
    keep = src != dst
    pairs = sp.coo_matrix((np.ones(keep.sum()), (src[keep], dst[keep])), shape=(n, n))
    expected = ((pairs + pairs.T) > 0).tocsr()  # summed repeats, then each tie once
    expected.sort_indices()
    assert np.diff(indptr)[7] > 32  # the hub's row is sorted the other way
    np.testing.assert_array_equal(indptr, expected.indptr)
    np.testing.assert_array_equal(indices, expected.indices)


def test_users_react_to_last_months_ties_and_a_user_without_ties_to_the_market():
    # users 0 - 1 - 2 in a line, 3 without ties; all aware, 1 and 2 active, no one adopts
    indptr = np.array([0, 1, 3, 4, 4], dtype=np.int32)
    indices = np.array([1, 0, 2, 1], dtype=np.int32)
    trust = np.array([0.2, 0.4, 0.9, 0.5], dtype=np.float32)
    was = trust.astype(np.float64)
    state = np.array([PROSPECT, ACTIVE, ACTIVE, PROSPECT], dtype=np.int8)
    streams = Streams(1)
    goal, market_trust = 0.1, 0.7  # every user's goal is below their trust: trust falls
    start, churned, aware, _, active, promoters, _ = _users_step(
        state, np.ones(4, dtype=bool), trust, np.full(4, 0.9, dtype=np.float32),
        np.zeros(4, dtype=np.float32), _active_ties(indptr, indices, state), indptr, indices,
        False, market_trust,
        streams["aware"].key, streams["adopt"].key, streams["user_churn"].key, 0,
        0.0, 0.0, 0.0, 0.5, goal, 0.03,
    )  # fmt: skip
    assert start == 2 and active + churned == 2 and active == np.count_nonzero(state == ACTIVE)
    assert aware == 4 and promoters == active  # satisfaction 0.9 moves 30% toward ~0.6-0.7
    # peers as they were before anyone moved (user 1 reads user 0's old trust), and the
    # market's mean for the user who has no ties
    peer = np.array([was[1], (was[0] + was[2]) / 2, was[1], market_trust])
    expected = was + TRUST_FALL * (goal - was) + TRUST_SPREAD * (peer - was)
    np.testing.assert_allclose(trust, expected, rtol=1e-6)


def test_users_are_conserved_and_revenue_comes_from_active_users(small):
    result = simulate(small, seed=3)
    us = result.model.users
    states = np.bincount(us.state[: us.n], minlength=3)
    assert states.sum() == small.market.potential_users
    k = result.kpis
    assert k.loc[24, "users_active"] == states[ACTIVE]
    assert states[CHURNED] > 0 and states[PROSPECT] > 0
    # revenue at month t is the active users at the start of month t times the price
    price = small.market.price_per_user_month
    assert k.loc[12, "revenue"] == pytest.approx(k.loc[11, "users_active"] * price)


@pytest.mark.parametrize("kind", ["small_world", "scale_free"])
def test_users_count_of_active_ties_follows_who_adopts_and_churns(small, kind):
    """The count each user's awareness reads, kept up to date as users move, is a recount."""
    model = CultureModel(scenario=small.with_changes({"market.user_network": kind}), rng=2)
    us, graph = model.users, model.user_graph
    moved = 0
    for _ in range(12):
        before = us.state[: us.n].copy()
        model.step()
        moved += np.count_nonzero((before == ACTIVE) != (us.state[: us.n] == ACTIVE))
        recount = _active_ties(graph.indptr, graph.indices, us.state[: us.n])
        np.testing.assert_array_equal(us.active_ties[: us.n], recount)
    assert moved > 400  # adoption and churn moved the counts (811-816 moves here)


@pytest.mark.parametrize("off", [False, True])
def test_the_users_tally_is_a_recount_every_month_incidents_included(small, off):
    """The counts the KPIs read, kept as the users' month goes, are those of the arrays."""
    scenario = with_event(small, month=4, kind="incident", severity=0.9)
    if off:  # never stepped: the tally is the market's opening one, then the incident's
        scenario = scenario.with_changes({"dynamics.switched_off": ["users"]})
    model = CultureModel(scenario=scenario, rng=5)
    us, trusts = model.users, []
    for month in range(9):
        if month:
            model.step()
        state, aware = us.state[: us.n], us.aware[: us.n]
        sat, trust = us.satisfaction[: us.n], us.trust[: us.n].astype(np.float64)
        active = state == ACTIVE
        promoters = np.count_nonzero(active & (sat >= 0.8))
        detractors = np.count_nonzero(active & (sat < 0.6))
        kept = model.user_tally
        assert kept == UserTally(*_tally(state, aware, us.trust[: us.n], sat))  # bit for bit
        assert (kept.aware, kept.active) == (np.count_nonzero(aware), np.count_nonzero(active))
        assert (kept.promoters, kept.detractors) == (promoters, detractors)
        assert kept.mean_trust == pytest.approx(trust[aware].mean(), rel=1e-12)
        nps = 100 * (promoters - detractors) / np.count_nonzero(active)
        assert model.history["nps"][-1] == pytest.approx(nps, rel=1e-12)
        assert model.history["user_trust"][-1] == kept.mean_trust
        trusts.append(kept.mean_trust)
    assert trusts[4] < trusts[3] - 0.1  # the incident's cut is counted in its month
    assert (len(set(trusts[:4])) == 1) == off  # stepped users move month by month


def test_user_churn_opens_at_the_churn_its_market_expects(baseline):
    """Month 0 reads the active users' expected churn, not 0: near the first months' churn."""
    for seed in range(4):
        model = CultureModel(scenario=baseline, rng=seed)
        us = model.users
        active = us.state[: us.n] == ACTIVE
        sat = us.satisfaction[: us.n][active].astype(float)
        trust = us.trust[: us.n][active].astype(float)
        hazard = np.minimum(BASE_CHURN * np.exp(3.0 * (0.7 - sat) + 2.0 * (0.6 - trust)), 1.0)
        k = model.run(3)
        churn = k["user_churn_rate"]
        assert churn[0] == pytest.approx(hazard.sum() / active.sum(), rel=1e-12)
        # the expectation is near what the first months draw: 0.88-1.06 of it over 20 seeds
        assert 0.8 < churn[0] / churn[1:].mean() < 1.15
    off = simulate(baseline.with_changes({"dynamics.switched_off": ["users"]}), seed=0, months=2)
    churn = off.kpis["user_churn_rate"]
    assert churn[0] > 0 and (churn[1:] == 0).all()  # users never stepped: nobody churns


def test_user_churn_is_the_share_of_the_months_first_active_users_who_left(small):
    """Not those who adopted and left in the month: in a rush to a tiny market they outnumber
    the start's active users, and the rate read 26 (a share per month, declared at most 1)."""
    rush = small.with_changes(
        {
            "market.potential_users": 2_000,
            "market.initial_active_users": 3,
            "market.external_influence": 1.0,
            "market.conversion_rate": 1.0,
        }
    )
    model = CultureModel(scenario=rush, rng=4)
    us = model.users
    adopted_and_left = 0
    for _ in range(8):
        was = us.state[: us.n].copy()
        model.step()
        now = us.state[: us.n]
        left = np.count_nonzero((was == ACTIVE) & (now == CHURNED))
        adopted_and_left += np.count_nonzero((was == PROSPECT) & (now == CHURNED))
        rate = model.history["user_churn_rate"][-1]
        assert rate == left / np.count_nonzero(was == ACTIVE)
    assert adopted_and_left > 10  # the case the rate leaves out


def test_incident_cuts_user_trust_reputation_and_partner_trust_at_once(small):
    event = with_event(small, month=10, kind="incident", severity=0.8)
    a = simulate(small, seed=2).kpis
    b = simulate(event, seed=2).kpis
    pd.testing.assert_frame_equal(a.loc[:9], b.loc[:9], check_exact=True)
    for kpi in ("user_trust", "brand_reputation", "partner_trust"):
        assert b.loc[10, kpi] < a.loc[10, kpi] - 0.02, kpi


def test_funding_round_brings_cash(small):
    b = simulate(with_event(small, month=5, kind="funding_round", amount=25e6), seed=1).kpis
    a = simulate(small, seed=1).kpis
    assert b.loc[5, "cash"] - a.loc[5, "cash"] == pytest.approx(25e6, rel=1e-3)
    assert (b["funding_raised"] - a["funding_raised"]).loc[5:].eq(25e6).all()
    assert (b["funding_raised"] - a["funding_raised"]).loc[:4].eq(0).all()


def test_market_shift_makes_knowledge_obsolete(small):
    b = simulate(with_event(small, month=8, kind="market_shift", turbulence=0.5), seed=1).kpis
    a = simulate(small, seed=1).kpis
    assert b.loc[8, "knowledge"] < a.loc[8, "knowledge"] - 0.15


def test_poaching_wave_takes_skilled_people(baseline):
    sc = baseline.with_changes(SMALL_MARKET)
    wave = sc.with_changes(
        {"events": [{"month": 6, "kind": "poaching_wave", "intensity": 3.0, "duration": 12}]}
    )
    diffs = []
    for seed in range(20):
        a = simulate(sc, seed=seed, months=18).kpis
        b = simulate(wave, seed=seed, months=18).kpis
        diffs.append(b.loc[6:18, "quits"].sum() - a.loc[6:18, "quits"].sum())
    diffs = np.asarray(diffs)
    assert diffs.mean() > 3 * diffs.std(ddof=1) / np.sqrt(diffs.size)


def test_merger_and_new_site_open_sites_with_their_people(small):
    far = {"innovation": 0.2, "collaboration": 0.3, "user_focus": 0.2, "openness": 0.3}
    sc = small.with_changes(
        {
            "events": [
                {"month": 3, "kind": "merger", "headcount": 30, "values": far},
                {"month": 5, "kind": "new_site", "headcount": 20, "values": far},
            ]
        }
    )
    model = CultureModel(scenario=sc, rng=1)
    model.run(3)
    e = model.employees
    acquired = e.ids[e.site[e.ids] == 1]
    assert model.n_sites == 2
    assert 25 <= acquired.size <= 30
    k = model.kpi_frame()
    assert k.loc[3, "hires"] >= 30  # the acquired team counts as hires: headcount is conserved
    assert k.loc[3, "headcount"] == k.loc[2, "headcount"] + k.loc[3, "hires"] - k.loc[3, "quits"]
    # the acquired team holds its own values and has tenure; new-site hires are screened newcomers
    assert np.abs(e.values[acquired] - np.array(list(far.values()))).mean() < 0.1
    assert e.tenure[acquired].max() > 12
    model.run(2)
    local = e.ids[e.site[e.ids] == 2]
    assert model.n_sites == 3 and local.size >= 18
    assert (model.employees.tenure[local] <= 1).all()


def test_leadership_change_moves_the_core(small):
    sc = with_event(small, month=4, kind="leadership_change", values=NEW_CORE)
    model = CultureModel(scenario=sc, rng=1)
    model.run(4)
    assert model.core.tolist() == list(NEW_CORE.values())
    k = model.kpi_frame()
    assert k.loc[4, "culture_alignment"] < k.loc[3, "culture_alignment"] - 0.03


def test_investors_fund_a_growing_company_that_is_running_out_of_cash(small):
    sc = small.with_changes({"organization.cash": 3e6, "meta.months": 36})
    model = CultureModel(scenario=sc, rng=1)
    model.run(36)
    k = model.kpi_frame()
    landed = k["funding_raised"].diff() > 0  # the months a round landed
    assert landed.any() and sum(model.flow_log["funding"]) == k["funding_raised"].iloc[-1]
    # cash jumps by the round, less the month's net burn
    jump = k["cash"].diff() - k["funding_raised"].diff()
    assert (jump[landed] - (k["revenue"] - k["costs"])[landed]).abs().max() < 1.0


def test_a_round_is_as_large_as_the_growth_earns(small):
    """A full round (24 months of costs) from 30% growth a year, that share of it below, none
    without growth: investors used to fund 30% growth in full and 29% not at all."""
    from culturesim.processes.partners import round_size

    model = CultureModel(scenario=small, rng=1)
    model.costs, model.revenue = 1e6, 1e6
    for growth, share in ((0.6, 1.0), (0.3, 1.0), (0.29, 0.29 / 0.3), (0.15, 0.5), (0.0, 0.0)):
        assert round_size(model, growth) == pytest.approx(share * 24e6)
    assert round_size(model, -0.2) == 0.0


def test_a_round_is_at_most_three_years_of_revenue(small):
    """Investors buy a share of a company valued on its revenue: one spending $1M a month on
    $50k of revenue raised 24 months of its costs, as if it sold ten times as much."""
    from culturesim.processes.partners import round_size

    model = CultureModel(scenario=small, rng=1)
    model.costs, model.revenue = 1e6, 5e4
    assert round_size(model, 0.3) == pytest.approx(3 * 12 * 5e4)
    assert round_size(model, 0.15) == pytest.approx(0.5 * 3 * 12 * 5e4)
    model.revenue = 0.0  # no revenue, no round
    assert round_size(model, 0.3) == 0.0


def test_more_cash_at_the_start_never_brings_layoffs(baseline):
    """The baseline with a 10% pay premium and $80M instead of $40M: with an all-or-nothing
    round at 30% growth, the runway of the richer company fell below 12 months after users'
    growth had slowed below 30% (the third year), the investors refused, and it laid off (seeds
    2-5, none with $40M). Paired seeds."""
    paid = baseline.with_changes({"levers.compensation_premium": 0.1})
    for seed in range(6):
        poorer = simulate(paid, seed=seed).kpis
        richer = simulate(paid.with_changes({"organization.cash": 80e6}), seed=seed).kpis
        assert richer["layoffs"].sum() <= poorer["layoffs"].sum()
        assert richer["funding_raised"].iloc[-1] > 0


def test_partner_handles_and_kinds(small):
    model = CultureModel(scenario=small.with_changes({"partners.universities": 3}), rng=1)
    kinds = sorted(model.partner(s).kind for s in model.partners.ids)
    assert kinds.count("university") == 3
    assert all(0 <= model.partner(s).strength <= 1 for s in model.partners.ids)


def test_partners_strength_settles_at_a_level_the_levers_set(baseline):
    """Strength moves toward a goal set by openness, reputation and recent launches, so
    openness sets how strong the relationships are, not only how fast they grow. 20,000 users
    (SMALL_MARKET), 4 seeds, 60 months (8 seeds measured: openness 0.9 vs 0.6 over months
    37-60 +0.123, sd 0.012 a seed; at 0.3 month 60 vs month 36 +0.084, sd 0.021, as reputation
    and launches grow with the company; +0.124 and +0.041 without the cash, before 2026-12-05).
    When strength grew by a fixed amount a month (until 2026-12-02) every openness above 0.6
    reached 1 within two years (+0.001, sd 0.026) and the baseline's climbed on (+0.205, sd
    0.059)."""
    market = SMALL_MARKET

    def strength(openness, seed):
        sc = baseline.with_changes({**market, "levers.partnership_openness": openness})
        model, path = CultureModel(scenario=sc, rng=seed), []
        for _ in range(60):
            model.step()
            path.append(model.partners.strength[model.partners.ids].mean())
        return np.array(path)  # months 1-60

    gaps, drifts = [], []
    for seed in range(4):
        neutral, open_, wide = (strength(o, seed) for o in (0.3, 0.6, 0.9))
        gaps.append(wide[36:].mean() - open_[36:].mean())
        drifts.append(neutral[59] - neutral[35])
    assert np.mean(gaps) > 0.06, gaps  # +0.001 before
    assert np.mean(drifts) < 0.1, drifts  # +0.205 before
    assert all(0.0 <= s <= 1.0 for s in wide)
