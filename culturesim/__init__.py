"""culturesim: an agent-based model of culture dynamics in a young AI company.

Quick start::

    from culturesim import simulate
    result = simulate("scenarios/baseline.toml", seed=1)
    result.kpis[["headcount", "attrition_rate_annual", "culture_alignment"]].tail()
"""

from culturesim.model import CultureModel
from culturesim.run import SimulationResult, simulate
from culturesim.scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"

__all__ = [
    "CultureModel",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "__version__",
    "load_scenario",
    "simulate",
]
