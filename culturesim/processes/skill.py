"""Skill and training: learning with diminishing returns to the training budget.

Each month skill ``s`` grows by ``(L0 + G * (1 - exp(-budget / B))) * (1 - s)`` (on-the-job
learning plus training, with diminishing returns both in money and in skill already held) and
loses ``OBSOLESCENCE * s`` as the market moves on. Skill raises productivity, pay at market and
outside offers (turnover).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from culturesim.compiled import kernel
from culturesim.portable import exp

if TYPE_CHECKING:
    from culturesim.model import CultureModel

ON_THE_JOB = 0.005  # monthly learning without training (guess; see docs/ODD.md)
TRAINING_GAIN = 0.02  # extra monthly learning at a saturating budget (guess)
BUDGET_SCALE = 3000.0  # $/employee/year at which training gives 63% of its maximum (guess)
OBSOLESCENCE = 0.004  # monthly loss of skill as the market moves (guess)


def training_effect(budget_per_year: float) -> float:
    """Share (0-1) of the maximum training benefit bought by ``budget_per_year`` per employee."""
    return 1.0 - exp(-budget_per_year / BUDGET_SCALE)


class Skill:
    """Training raises skill with diminishing returns."""

    name = "skill"

    def setup(self, model: CultureModel) -> None:
        """Nothing to set up: skill is per employee."""

    def step(self, model: CultureModel) -> None:
        """One month of learning and obsolescence."""
        learn(model, model.employees.ids, model.levers)


def learn(model: CultureModel, ids: np.ndarray, levers: Mapping[str, float]) -> None:
    """One month of learning under ``levers``' training budget and obsolescence, for ``ids``."""
    rate = ON_THE_JOB + TRAINING_GAIN * training_effect(levers["training_budget"])
    _learn(ids, model.employees.skill, rate)


@kernel
def _learn(ids, skill, rate):
    """One month of learning at ``rate`` and obsolescence, in place, for ``ids``."""
    for i in ids:
        s = skill[i]
        skill[i] = min(max(s + rate * (1.0 - s) - OBSOLESCENCE * s, 0.0), 1.0)
