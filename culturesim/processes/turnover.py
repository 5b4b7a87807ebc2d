"""Turnover: a monthly quit hazard from engagement, fit, outside offers and tenure, with contagion.

The annual quit rate of employee ``i`` is ``base_quit_rate_per_year * exp(x_i) * tenure_i *
(1 + quit_contagion * peer_departures_i)`` where ``x_i`` rises with low engagement, poor value fit
(softened by ``inclusion``) and outside offers (skill times labour-market heat, against pay), and
the tenure factor is higher after the first-year cliff. During a ``poaching_wave`` the rate of
the skilled is multiplied by ``1 + intensity * 2 * max(0, skill - 0.5)``. ``peer_departures`` is
the share of one's ties who left recently (it fades by ``CONTAGION_MEMORY`` a month). The monthly
chance of quitting is ``1 - exp(-rate / 12)``, drawn from the ``"quit"`` stream by slot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from culturesim.kpis import alignment
from culturesim.population import take_rows
from culturesim.processes.engagement import pay_ratio

if TYPE_CHECKING:
    from culturesim.model import CultureModel

CONTAGION_MEMORY = 0.7


def quit_hazard(model: CultureModel, ids: np.ndarray) -> np.ndarray:
    """Monthly probability of quitting for employees ``ids``."""
    e, dyn, lv = model.employees, model.config.dynamics, model.levers
    fit = alignment(take_rows(e.values, ids), model.core)
    offers = model.config.market.talent_demand * 2.0 * (e.skill[ids] - 0.5) - 2.0 * np.log(
        pay_ratio(model, ids)
    )
    x = (
        3.0 * (0.65 - e.engagement[ids])
        + 3.0 * (0.85 - fit) * (1.0 - 0.5 * lv["inclusion"])
        + 1.0 * offers
    )
    tenure = e.tenure[ids]
    tenure_factor = np.where(tenure < 12, 0.8, np.where(tenure < 48, 1.2, 0.9))
    contagion = 1.0 + dyn.quit_contagion * e.peer_departures[ids]
    poaching = 1.0 + poaching_intensity(model) * 2.0 * np.maximum(0.0, e.skill[ids] - 0.5)
    rate = dyn.base_quit_rate_per_year * np.exp(x) * tenure_factor * contagion * poaching
    return 1.0 - np.exp(-rate / 12.0)


def poaching_intensity(model: CultureModel) -> float:
    """Summed intensity of the poaching waves under way this month."""
    return float(sum(level for until, level in model.poaching if model.month <= until))


class Turnover:
    """Voluntary quits."""

    name = "turnover"

    def setup(self, model: CultureModel) -> None:
        """Nothing to set up: hazards are per employee."""

    def step(self, model: CultureModel) -> None:
        """Draw this month's quits and let the memory of departures fade."""
        e = model.employees
        ids = e.ids
        e.peer_departures[ids] *= CONTAGION_MEMORY
        if ids.size == 0:
            return
        u = model.streams["quit"].uniform(model.month, e.n)[ids]
        model.remove_employees(ids[u < quit_hazard(model, ids)], "quits")
