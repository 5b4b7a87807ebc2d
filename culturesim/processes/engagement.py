"""Engagement and trust in leadership.

Engagement moves a fifth of the way each month toward a target set by (logit scale): value fit
(softened by ``inclusion``), pay against the market, growth (training and internal mobility),
autonomy (innovation time, with diminishing returns), workload above normal, trust in leadership,
peers' engagement and a personal disposition.

Trust in leadership builds slowly and falls fast (Slovic 1993): it moves toward its target at
``TRUST_UP`` a month when rising and ``TRUST_DOWN`` when falling. The target rises with
``transparency``, engagement, fair pay and peers' trust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

from culturesim.kpis import alignment
from culturesim.population import take_rows
from culturesim.processes.skill import training_effect

if TYPE_CHECKING:
    from culturesim.model import CultureModel

ENGAGEMENT_RATE = 0.2
TRUST_UP = 0.05
TRUST_DOWN = 0.2


def pay_ratio(model: CultureModel, ids: np.ndarray) -> np.ndarray:
    """Each employee's pay relative to the market median for their skill."""
    return (1.0 + model.levers["compensation_premium"]) * model.employees.pay_dev[ids]


class Engagement:
    """Engagement and trust in leadership, from the conditions of work."""

    name = "engagement"

    def setup(self, model: CultureModel) -> None:
        """Nothing to set up: engagement and trust are per employee."""

    def step(self, model: CultureModel) -> None:
        """One month of engagement and trust dynamics."""
        e, lv = model.employees, model.levers
        ids = e.ids
        if ids.size == 0:
            return
        eng, trust = e.engagement[ids], e.trust[ids]
        both = np.column_stack([e.engagement, e.trust])
        peers = take_rows(model.org.neighbour_mean(e.alive, both, np.array([0.65, 0.6])), ids)
        fit = alignment(take_rows(e.values, ids), model.core)
        log_pay = np.log(pay_ratio(model, ids))
        growth = 0.6 * training_effect(lv["training_budget"]) + 0.4 * lv["internal_mobility"] - 0.3
        autonomy = 1.0 - np.exp(-lv["innovation_time"] / 0.1) - 0.5
        overload = max(0.0, model.workload - 1.0)
        x = (
            0.3
            + e.disposition[ids]
            + 4.0 * (fit - 0.85) * (1.0 - 0.5 * lv["inclusion"])
            + 3.0 * log_pay
            + 1.0 * growth
            + 0.8 * autonomy
            - 2.0 * overload
            + 2.0 * (trust - 0.6)
            + 1.5 * (peers[:, 0] - 0.65)
        )
        e.engagement[ids] = eng + ENGAGEMENT_RATE * (expit(x) - eng)
        y = (
            0.4
            + 2.5 * (lv["transparency"] - 0.5)
            + 1.5 * (eng - 0.65)
            + 2.0 * log_pay
            + 1.0 * (peers[:, 1] - 0.6)
        )
        gap = expit(y) - trust
        e.trust[ids] = trust + np.where(gap > 0, TRUST_UP, TRUST_DOWN) * gap
