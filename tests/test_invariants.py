"""Invariants under random lever settings (hypothesis)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culturesim import simulate
from culturesim.kpis import KPIS
from culturesim.levers import LEVERS
from culturesim.scenario import Scenario

lever_values = st.fixed_dictionaries(
    {
        name: st.floats(lever.lo, lever.hi, allow_nan=False, allow_infinity=False)
        for name, lever in LEVERS.items()
    }
)


# random levers may run the cash out: that notice is not this test's point
@pytest.mark.filterwarnings("ignore::culturesim.notices.NegativeCashWarning")
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
    result = simulate(sc, seed=seed)
    k = result.kpis
    values = k.to_numpy()
    assert np.isfinite(values).all()
    for name, kpi in KPIS.items():
        assert k[name].between(kpi.lo, kpi.hi).all(), (name, k[name].min(), k[name].max())
    h = k["headcount"].to_numpy()
    flows = (k["hires"] - k["quits"] - k["layoffs"]).to_numpy()
    assert np.array_equal(h[1:], h[:-1] + flows[1:])
    # users are conserved: prospects + active + churned = potential, every month's end
    us = result.model.users
    states = np.bincount(us.state[: us.n], minlength=3)
    assert states.sum() == users
    assert states[1] == k["users_active"].iloc[-1]
    assert (k["users_aware"] <= users).all()
    assert (k["users_active"] <= k["users_aware"]).all()
