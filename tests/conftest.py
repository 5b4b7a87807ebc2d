from pathlib import Path

import pytest

from culturesim import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="session")
def baseline():
    return load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def small(baseline):
    """A small, short variant of the baseline for fast tests."""
    return baseline.with_changes(
        {
            "organization.employees": 40,
            "meta.months": 24,
            "market.potential_users": 10_000,
            "market.initial_active_users": 750,
        }
    )
