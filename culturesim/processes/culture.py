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
Everyone joins holding their own values, founders too: the founders' months before month 0 are
replayed with :func:`update` as the company is founded (``CultureModel._replay_founders``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from culturesim.compiled import kernel
from culturesim.portable import power
from culturesim.random import cursor, uniform_at

if TYPE_CHECKING:
    from culturesim.model import CultureModel
    from culturesim.random import Stream

MU = 0.3  # Deffuant's convergence parameter
BRIDGING = 0.1  # share of informal ties rewired company-wide a month at inclusion 1 (guess)
# Ongoing socialization (informal, for the whole tenure), as a share of the newcomer rate, at
# transparency 0.5. A guess, set where the Harrison & Carroll docking holds (docs/VALIDATION.md):
# at 0.15 a declining company's ageing staff drifted back to their own values.
REINFORCEMENT = 1.0


@kernel
def deffuant_update(x, i, other, j, d, mu, out, r):
    """Deffuant's update of listener row ``x[i]`` meeting ``other[j]``, written to ``out[r]``.

    If the mean absolute difference is below ``d`` the listener moves ``mu`` of the way to the
    other; else it stays. The classic model (:mod:`culturesim.classics.deffuant`) and the
    company's coworkers both run this. Rows are passed by index, not as row views: with a view per
    call the coworkers' loop took twice as long.
    """
    k = x.shape[1]
    gap = 0.0
    for c in range(k):
        gap += abs(x[i, c] - other[j, c])
    close = gap / k < d
    for c in range(k):
        out[r, c] = x[i, c] + mu * (other[j, c] - x[i, c]) if close else x[i, c]


@kernel
def _bounded_confidence(x, other, d, mu, has):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        if has[i]:
            deffuant_update(x, i, other, i, d, mu, out, i)
        else:
            for c in range(x.shape[1]):
                out[i, c] = x[i, c]
    return out


def bounded_confidence(
    x: np.ndarray, other: np.ndarray, d: float, mu: float, has: np.ndarray | None = None
) -> np.ndarray:
    """Deffuant's update for listeners ``x`` meeting ``other`` (rows are agents).

    :func:`deffuant_update` for each row; rows where ``has`` is False stay.
    """
    x2 = np.ascontiguousarray(x, dtype=float).reshape(len(x), -1)
    o2 = np.ascontiguousarray(other, dtype=float).reshape(len(x), -1)
    has = np.ones(len(x), dtype=bool) if has is None else np.asarray(has, dtype=bool)
    out = _bounded_confidence(x2, o2, float(d), float(mu), has)
    return out if np.ndim(x) == 2 else out[:, 0]


class Culture:
    """Values move toward the core through managers and leadership, and among coworkers."""

    name = "culture"

    def setup(self, model: CultureModel) -> None:
        """Nothing to set up: values are per employee."""

    def step(self, model: CultureModel) -> None:
        """One month of socialization, coworker influence and decay (from last month's values)."""
        e = model.employees
        update(model, e.ids, model.levers, e.tenure, model.streams["coworker"], model.month)
        self._bridge(model)

    @staticmethod
    def _bridge(model: CultureModel) -> None:
        """Inclusive workplaces bridge groups: informal ties rewired to anyone in the company."""
        net, t = model.org, model.month
        informal = net.informal_positions()
        count = round(BRIDGING * model.levers["inclusion"] * informal.size)
        if count == 0:
            return
        net.rewire(informal, count, model.streams["bridging"], t, model.employees.ids)


def update(
    model: CultureModel,
    ids: np.ndarray,
    lv: Mapping[str, float],
    tenure: np.ndarray,
    draws: Stream,
    month: int,
    ties: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """One month's move of ``ids``' values: a coworker met, socialization and decay.

    Args:
        model: The model.
        ids: Whose values move (sorted slots); a team's manager counts only if among them.
        lv: The lever values in force.
        tenure: Months of tenure by slot, for socialization's fade.
        draws: The stream whose draws at ``month`` pick the coworkers met.
        month: The month of ``draws`` to read.
        ties: CSR arrays ``(indptr, indices)`` of who can meet whom; the alive ties if None.
    """
    e, dyn = model.employees, model.config.dynamics
    if ids.size == 0:
        return
    transparency = lv["transparency"]
    indptr, indices = model.org.adjacency(e.alive) if ties is None else ties
    _culture_step(
        ids, e.values, e.own_values, e.team, e.is_manager, model.org.n_teams, tenure,
        indptr, indices, draws.key, draws.position(month), model.core,
        0.3 + 0.4 * transparency,  # leadership's weight against the manager's
        dyn.socialization_halflife_months,
        dyn.culture_socialization,
        REINFORCEMENT * (0.5 + transparency),
        dyn.confidence_threshold * (1.0 + lv["inclusion"]),
        dyn.culture_decay,
    )  # fmt: skip


@kernel
def _culture_step(
    ids, values, own_values, team, is_manager, n_teams, tenure, indptr, indices, key, position,
    core, w_lead, halflife, socialization, reinforce, d, decay,
):  # fmt: skip
    """Update the ``values`` of ``ids`` in place, everyone from last month's values.

    Each meets one random tie (chosen by their draw at ``position`` of the stream with ``key``)
    with bounded confidence, then is socialized toward leadership's core and their team
    manager's values and decays toward their own.
    """
    managers = np.full(n_teams, -1, np.int64)
    for i in ids:
        if is_manager[i]:
            managers[team[i]] = i
    # socialization's fade, 2 ** (-tenure / halflife), once per whole month of tenure
    longest = -1.0  # the longest tenure (a loop: ``tenure[ids].max()`` compiles slowly)
    for i in ids:
        longest = max(longest, tenure[i])
    fade = np.empty(int(longest) + 1 if ids.size else 0)
    for t in range(fade.size):
        fade[t] = power(2.0, -float(t) / halflife)
    draws = cursor(key, position)
    out = np.empty((ids.size, core.size))
    for r, i in enumerate(ids):
        ties = indptr[i + 1] - indptr[i]
        if ties:
            u, draws = uniform_at(draws, i)
            j = indices[indptr[i] + min(int(u * ties), ties - 1)]
            deffuant_update(values, i, values, j, d, MU, out, r)
        else:
            for c in range(core.size):
                out[r, c] = values[i, c]
        manager = managers[team[i]]
        whole = int(tenure[i])
        f = fade[whole] if whole == tenure[i] else power(2.0, -tenure[i] / halflife)
        s = socialization * (f + reinforce)
        for c in range(core.size):
            v = values[i, c]
            held = core[c] if manager < 0 else values[manager, c]
            target = w_lead * core[c] + (1.0 - w_lead) * held
            x = out[r, c] + s * (target - v) - decay * (v - own_values[i, c])
            out[r, c] = min(max(x, 0.0), 1.0)
    for r, i in enumerate(ids):
        for c in range(core.size):
            values[i, c] = out[r, c]
