"""Culture transmission after Harrison & Carroll (1991), with bounded-confidence coworkers.

Every employee has values ``v`` (one entry per core value) and their own values ``o`` (what they
came in with). Each month:

* **Socialization** pulls ``v`` toward a target that mixes the core values (leadership's direct
  message, whose weight grows with ``transparency``) and the values of the person's manager (who
  passes on what they hold, aligned or not). Its strength fades with tenure
  (``culture_socialization`` halving every ``socialization_halflife_months``) above a floor of
  ongoing reinforcement that grows with transparency.
* **Coworkers** (Deffuant et al. 2000): each employee meets one random tie; if their values differ
  by less than the confidence threshold ``d`` (mean absolute difference), the employee moves a
  share ``MU`` of the way toward the other. ``inclusion`` widens ``d`` (people learn from those
  unlike them) and bridges groups (``BRIDGING`` of informal ties a month, at inclusion 1, move
  one end to anyone in the company), so fewer subcultures form; without it ties stay mostly
  within a site, so sites drift apart.
* **Decay**: without reinforcement values drift back toward one's own at ``culture_decay``.

With turnover and growth bringing in unsocialized newcomers, mean alignment settles where
socialization balances decay and dilution: Harrison & Carroll's equilibrium enculturation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from culturesim.population import put_rows, take_rows

if TYPE_CHECKING:
    from culturesim.model import CultureModel

MU = 0.3  # Deffuant's convergence parameter
BRIDGING = 0.1  # share of informal ties rewired company-wide a month at inclusion 1 (guess)
# Ongoing socialization (informal, for the whole tenure), as a share of the newcomer rate, at
# transparency 0.5. A guess, set where the Harrison & Carroll docking holds (docs/VALIDATION.md):
# at 0.15 a declining company's ageing staff drifted back to their own values.
REINFORCEMENT = 1.0


def bounded_confidence(
    x: np.ndarray, other: np.ndarray, d: float, mu: float, has: np.ndarray | None = None
) -> np.ndarray:
    """Deffuant's update for listeners ``x`` meeting ``other`` (rows are agents).

    Where the mean absolute difference is below ``d`` the listener moves ``mu`` of the way to
    the other; elsewhere (and where ``has`` is False) it stays.
    """
    x2 = x if x.ndim == 2 else x[:, None]
    o2 = other if other.ndim == 2 else other[:, None]
    k = x2.shape[1]
    close = np.abs(x2 - o2) @ np.full(k, 1.0 / k) < d  # mean absolute difference
    if has is not None:
        close &= has
    out = x2 + mu * close[:, None] * (o2 - x2)
    return out if x.ndim == 2 else out[:, 0]


class Culture:
    """Values move toward the core through managers and leadership, and among coworkers."""

    name = "culture"

    def setup(self, model: CultureModel) -> None:
        """Nothing to set up: values are per employee."""

    def step(self, model: CultureModel) -> None:
        """One month of socialization, coworker influence and decay."""
        e, dyn = model.employees, model.config.dynamics
        ids = e.ids
        if ids.size == 0:
            return
        transparency = model.levers["transparency"]
        v = take_rows(e.values, ids)
        # socialization toward leadership's core and the manager's values
        managers = model.team_managers()[e.team[ids]]
        v_mgr = take_rows(e.values, np.maximum(managers, 0))
        v_mgr[managers < 0] = model.core
        w_lead = 0.3 + 0.4 * transparency
        target = w_lead * model.core + (1.0 - w_lead) * v_mgr
        fade = np.exp2(e.tenure[ids] * (-1.0 / dyn.socialization_halflife_months))
        reinforce = REINFORCEMENT * (0.5 + transparency)
        s = dyn.culture_socialization * (fade + reinforce)
        # coworkers: one random tie each, bounded confidence
        u = model.streams["coworker"].uniform(model.month, e.capacity)
        partner = model.org.random_neighbour(e.alive, u, ids)
        d = dyn.confidence_threshold * (1.0 + model.levers["inclusion"])
        v_new = bounded_confidence(
            v, take_rows(e.values, np.maximum(partner, 0)), d, MU, partner >= 0
        )
        v_new += s[:, None] * (target - v) - dyn.culture_decay * (v - take_rows(e.own_values, ids))
        put_rows(e.values, ids, np.clip(v_new, 0.0, 1.0))
        self._bridge(model)

    @staticmethod
    def _bridge(model: CultureModel) -> None:
        """Inclusive workplaces bridge groups: informal ties rewired to anyone in the company."""
        net, t = model.org, model.month
        count = round(BRIDGING * model.levers["inclusion"] * net.informal_count)
        if count == 0:
            return
        s = model.streams["bridging"]
        net.rewire(count, s.uniform(t, count), s.uniform(t, count, part=1), model.employees.ids)
