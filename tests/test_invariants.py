"""Invariants under random lever settings and random events (hypothesis)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culturesim import simulate
from culturesim.kpis import KPIS
from culturesim.levers import LEVERS
from culturesim.scenario import EVENT_TYPES, Scenario
from tests.conftest import ALL_EVENTS, number_range, scenario_numbers

lever_values = st.fixed_dictionaries(
    {
        name: st.floats(lever.lo, lever.hi, allow_nan=False, allow_infinity=False)
        for name, lever in LEVERS.items()
    }
)

CORE_VALUES = tuple(Scenario().organization.core_values)


def check_invariants(result, users: int) -> None:
    """Every KPI finite and in its declared range; headcount, cash and users conserved."""
    k = result.kpis
    assert np.isfinite(k.to_numpy()).all()
    for name, kpi in KPIS.items():
        assert k[name].between(kpi.lo, kpi.hi).all(), (name, k[name].min(), k[name].max())
    h = k["headcount"].to_numpy()
    flows = (k["hires"] - k["quits"] - k["layoffs"]).to_numpy()
    assert np.array_equal(h[1:], h[:-1] + flows[1:])
    assert result.model.headcount == h[-1]
    # cash is conserved: the opening cash, the net cash flow of months 1..t and the rounds
    net = k["net_cash_flow"].to_numpy()
    cash = k["cash"].iloc[0] + np.concatenate([[0.0], np.cumsum(net[1:])]) + k["funding_raised"]
    scale = np.maximum(1.0, np.abs(k["cash"]) + np.abs(k["funding_raised"]) + np.abs(net).sum())
    assert (np.abs(k["cash"] - cash) <= 1e-9 * scale).all()
    # users are conserved: prospects + active + churned = potential, every month's end
    us = result.model.users
    states = np.bincount(us.state[: us.n], minlength=3)
    assert states.sum() == users
    assert states[1] == k["users_active"].iloc[-1]
    assert (k["users_aware"] <= users).all()
    assert (k["users_active"] <= k["users_aware"]).all()


# random levers may run the cash out or the staff down to nobody: the run's notices of it
# (culturesim.notices) are not these tests' point
NOTICES_NOT_THE_POINT = "ignore::culturesim.notices.Notice"


@pytest.mark.filterwarnings(NOTICES_NOT_THE_POINT)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    levers=lever_values,
    seed=st.integers(0, 2**31),
    growth=st.floats(-0.5, 3.0),
    employees=st.integers(1, 60),
    users=st.integers(0, 5_000),
    active_share=st.floats(0.0, 1.0),
    network=st.sampled_from(["small_world", "scale_free", "mixed"]),
)
def test_invariants_hold_for_any_levers(
    levers, seed, growth, employees, users, active_share, network
):
    sc = Scenario().with_changes(
        {f"levers.{k}": v for k, v in levers.items()}
        | {
            "organization.growth_per_year": growth,
            "organization.employees": employees,
            "meta.months": 18,
            "market.potential_users": users,
            "market.initial_active_users": int(active_share * users),
            "market.user_network": network,
        }
    )
    check_invariants(simulate(sc, seed=seed), users)


_values = st.fixed_dictionaries({name: st.floats(0.0, 1.0) for name in CORE_VALUES})
_lever_change = st.sampled_from(sorted(LEVERS)).flatmap(
    lambda name: st.fixed_dictionaries(
        {"lever": st.just(name), "value": st.floats(LEVERS[name].lo, LEVERS[name].hi)}
    )
)


def _event_fields(kind: str) -> st.SearchStrategy[dict]:
    """An event of ``kind``'s fields, each within the schema's range (head counts up to 80)."""
    if kind == "set_lever":
        return _lever_change
    model, fields = EVENT_TYPES[kind], {}
    for name, field in model.model_fields.items():
        if name == "values":
            fields[name] = _values
        elif name not in ("kind", "month"):
            lo, hi = number_range(model, name)
            hi = min(hi, 80) if name == "headcount" else hi
            fields[name] = st.integers(lo, hi) if field.annotation is int else st.floats(lo, hi)
    return st.fixed_dictionaries(fields)


EVENT_FIELDS = {kind: _event_fields(kind) for kind in EVENT_TYPES}


MONTHS = 18


@st.composite
def events(draw) -> list[dict]:
    """Up to six events of any kinds, in any months (several in one month too)."""
    out = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(sorted(EVENT_FIELDS)))
        month = draw(st.integers(1, MONTHS))
        out.append({"month": month, "kind": kind} | draw(EVENT_FIELDS[kind]))
    return out


# a company with no cash, a pay cut and layoffs may run down to nobody: it must still add up
@pytest.mark.filterwarnings(NOTICES_NOT_THE_POINT)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=events(),
    seed=st.integers(0, 2**31),
    employees=st.sampled_from([1, 2, 5, 30]),
    sites=st.integers(1, 3),
    cash=st.sampled_from([0.0, 1e5, 4e7]),
    growth=st.sampled_from([-0.5, 0.0, 0.3, 3.0]),
    users=st.sampled_from([0, 1, 7, 3_000]),
    premium=st.floats(LEVERS["compensation_premium"].lo, LEVERS["compensation_premium"].hi),
)
def test_invariants_hold_for_any_events(
    events, seed, employees, sites, cash, growth, users, premium
):
    """Events of every kind, stacked and combined, on companies down to one person."""
    sc = Scenario.model_validate(
        Scenario()
        .with_changes(
            {
                "meta.months": MONTHS,
                "organization.employees": employees,
                "organization.sites": sites,
                "organization.cash": cash,
                "organization.growth_per_year": growth,
                "market.potential_users": users,
                "market.initial_active_users": users // 3,
                "levers.compensation_premium": premium,
            }
        )
        .to_dict()
        | {"events": events}
    )
    assert len(sc.events) == len(events)
    check_invariants(simulate(sc, seed=seed), users)


#: Extra changes a corner needs to be a valid scenario: a one-month horizon holds no events,
#: a market of no one no active users.
COMPANIONS = {
    ("meta.months", 1): {"events": []},
    ("market.potential_users", 0): {"market.initial_active_users": 0},
}
#: Keys whose highest value is a size a test does not build (the benchmark's large runs do).
SIZES = ("organization.employees", "market.potential_users", "headcount")


def _corners():
    for key, _, lo, hi in scenario_numbers(ALL_EVENTS):
        if key == "market.initial_active_users":
            hi = ALL_EVENTS.market.potential_users  # at most the market
        elif key.endswith(SIZES):
            hi = None
        for end, value in (("lowest", lo), ("highest", hi)):
            if value is not None:
                yield pytest.param(key, value, id=f"{key}={end}")


@pytest.mark.filterwarnings(NOTICES_NOT_THE_POINT)
@pytest.mark.parametrize(("key", "value"), list(_corners()))
def test_invariants_hold_with_any_number_at_either_end_of_its_range(key, value):
    """Each number of a scenario (with one event of each kind) at its lowest and highest."""
    sc = ALL_EVENTS.with_changes({key: value} | COMPANIONS.get((key, value), {}))
    check_invariants(simulate(sc, seed=5), sc.market.potential_users)


#: The most a drawn scenario holds of each size (a test builds small companies and markets).
DRAWN_SIZES = {"organization.employees": 60, "market.potential_users": 3_000, "headcount": 80}


@st.composite
def any_scenario(draw) -> Scenario:
    """Every number of a scenario with one event of each kind, drawn at once from its range."""
    changes = {}
    for key, kind, lo, hi in scenario_numbers(ALL_EVENTS):
        cap = next((v for size, v in DRAWN_SIZES.items() if key.endswith(size)), None)
        hi = min(hi, cap) if cap is not None else hi
        if key == "meta.months":
            lo = max(e.month for e in ALL_EVENTS.events)  # the events stay within the horizon
        elif key == "market.initial_active_users":
            continue  # a share of the market, below
        changes[key] = draw(st.integers(lo, hi) if kind is int else st.floats(lo, hi))
    share = draw(st.floats(0.0, 1.0))
    changes["market.initial_active_users"] = int(share * changes["market.potential_users"])
    return ALL_EVENTS.with_changes(changes)


@pytest.mark.filterwarnings(NOTICES_NOT_THE_POINT)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=any_scenario(), seed=st.integers(0, 2**31))
def test_invariants_hold_with_every_number_drawn_at_once(scenario, seed):
    """Any valid scenario, every number drawn at once (sizes kept small)."""
    check_invariants(simulate(scenario, seed=seed), scenario.market.potential_users)
