"""culturesim: an agent-based model of culture dynamics in a young AI company.

Quick start::

    from culturesim import simulate
    result = simulate("scenarios/baseline.toml", seed=1)
    result.kpis[["headcount", "attrition_rate_annual", "culture_alignment"]].tail()

The names below are imported when first used (PEP 562), so ``culturesim --help``, ``validate``
and ``show`` start without loading Mesa and the model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "CultureModel": "culturesim.model",
    "SimulationResult": "culturesim.run",
    "simulate": "culturesim.run",
    "Scenario": "culturesim.scenario",
    "ScenarioError": "culturesim.scenario",
    "load_scenario": "culturesim.scenario",
}

__all__ = [
    "CultureModel",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "__version__",
    "load_scenario",
    "simulate",
]

if TYPE_CHECKING:
    from culturesim.model import CultureModel
    from culturesim.run import SimulationResult, simulate
    from culturesim.scenario import Scenario, ScenarioError, load_scenario


def __getattr__(name: str):
    """Import a public name from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'culturesim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included."""
    return sorted({*globals(), *_EXPORTS})
