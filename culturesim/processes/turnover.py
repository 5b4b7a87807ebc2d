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

from culturesim.compiled import kernel
from culturesim.levers import LEVER_DEFAULTS
from culturesim.measure import fit_effect, value_fit
from culturesim.portable import exp, log1p, power
from culturesim.random import cursor, uniform_at

if TYPE_CHECKING:
    from culturesim.model import CultureModel

CONTAGION_MEMORY = 0.7


@kernel
def _quitters(
    ids, engagement, values, core, skill, log_pay, tenure, peer_departures, fade, log_premium,
    inclusion, talent_demand, quit_contagion, poaching, base_rate, key, position,
):  # fmt: skip
    """Return those of ``ids`` who quit: their draw is below the module's monthly chance.

    The draws are slot ``i``'s number at ``position`` of the stream with ``key``;
    ``peer_departures`` first fades by ``fade`` (in place).
    """
    draws = cursor(key, position)
    out = np.empty(ids.size, np.int64)
    quits = 0
    for i in ids:
        peer_departures[i] *= fade
        rate = quit_rate(
            engagement[i], value_fit(values, i, core), skill[i], log_pay[i], tenure[i],
            peer_departures[i], log_premium, inclusion, talent_demand, quit_contagion, poaching,
            base_rate,
        )  # fmt: skip
        u, draws = uniform_at(draws, i)
        if u < 1.0 - exp(-rate / 12.0):
            out[quits] = i
            quits += 1
    return out[:quits]


@kernel
def quit_rate(
    engagement, fit, skill, log_pay, tenure, peer_departures, log_premium, inclusion,
    talent_demand, quit_contagion, poaching, base_rate,
):  # fmt: skip
    """One person's annual quit rate (the module's docstring has the equation)."""
    offers = talent_demand * 2.0 * (skill - 0.5) - 2.0 * (log_premium + log_pay)
    x = 3.0 * (0.65 - engagement) - 3.0 * fit_effect(fit, inclusion) + 1.0 * offers
    tenure_factor = 0.8 if tenure < 12 else (1.2 if tenure < 48 else 0.9)
    contagion = 1.0 + quit_contagion * peer_departures
    poached = 1.0 + poaching * 2.0 * max(0.0, skill - 0.5)
    return base_rate * exp(x) * tenure_factor * contagion * poached


@kernel
def _quit_chance(
    i, engagement, values, core, skill, log_pay, tenure, peer_departures, fade, log_premium,
    inclusion, talent_demand, quit_contagion, base_rate,
):  # fmt: skip
    """Slot ``i``'s chance of quitting in a month (no poaching), its memory faded by ``fade``."""
    rate = quit_rate(
        engagement[i], value_fit(values, i, core), skill[i], log_pay[i], tenure[i],
        fade * peer_departures[i], log_premium, inclusion, talent_demand, quit_contagion, 0.0,
        base_rate,
    )  # fmt: skip
    return 1.0 - exp(-rate / 12.0)


@kernel
def _expected_quits(
    ids, engagement, values, core, skill, log_pay, tenure, peer_departures, fade, log_premium,
    inclusion, talent_demand, quit_contagion, base_rate, regretted_above,
):  # fmt: skip
    """Quits expected among ``ids`` in a month: the sum of their chances.

    Returns:
        The expected quits, and those of people with skill above ``regretted_above``.
    """
    quits = regretted = 0.0
    for i in ids:
        chance = _quit_chance(
            i, engagement, values, core, skill, log_pay, tenure, peer_departures, fade,
            log_premium, inclusion, talent_demand, quit_contagion, base_rate,
        )  # fmt: skip
        quits += chance
        regretted += chance if skill[i] > regretted_above else 0.0
    return quits, regretted


@kernel
def _expected_peer_departures(
    indptr, indices, ids, engagement, values, core, skill, log_pay, tenure, peer_departures,
    fade, log_premium, inclusion, talent_demand, quit_contagion, base_rate,
):  # fmt: skip
    """Each of ``ids``'s expected memory of departed ties after their months (in place).

    A month adds the share of one's ties who quit (expected: the mean of their chances) and
    fades the memory by ``fade``; after ``T`` months of tenure from none the memory is that
    share times ``(1 - fade ** T) / (1 - fade)``.
    """
    chance = np.zeros(peer_departures.size)
    for j in ids:
        chance[j] = _quit_chance(
            j, engagement, values, core, skill, log_pay, tenure, peer_departures, fade,
            log_premium, inclusion, talent_demand, quit_contagion, base_rate,
        )  # fmt: skip
    for i in ids:
        start, stop = indptr[i], indptr[i + 1]
        share = 0.0
        for k in range(start, stop):
            share += chance[indices[k]]
        share = share / (stop - start) if stop > start else 0.0
        peer_departures[i] = share * (1.0 - power(fade, tenure[i])) / (1.0 - fade)


def remember_founders_departures(model: CultureModel, rounds: int = 3) -> None:
    """Start the founders' memory of departed peers where their months would leave it.

    The founders' replayed months have no quits (docs/ODD.md section 5), so their memory of
    departed ties would start at 0, below a running company's. It starts instead at the
    expected value after their tenure: each month the share of their ties who quit at month
    0's chances under the levers' defaults (no draw), fading by :data:`CONTAGION_MEMORY`. The
    chances depend on the memory through contagion: ``rounds`` passes settle it.
    """
    e, dyn = model.employees, model.config.dynamics
    ids = e.ids
    if ids.size == 0:
        return
    indptr, indices = model.org.adjacency(e.alive)
    for _ in range(rounds):
        _expected_peer_departures(
            indptr, indices, ids, e.engagement, e.values, model.core, e.skill, e.log_pay,
            e.tenure, e.peer_departures, CONTAGION_MEMORY,
            log1p(LEVER_DEFAULTS["compensation_premium"]), LEVER_DEFAULTS["inclusion"],
            model.config.market.talent_demand, dyn.quit_contagion, dyn.base_quit_rate_per_year,
        )  # fmt: skip


def quits_before_start(model: CultureModel) -> dict[str, float]:
    """Quits a month before month 0, for the trailing attrition windows of the first year.

    The company existed before the run starts (its founders have up to three years of
    tenure), so the trailing 12 months of attrition reach back before month 0. There the
    founders are taken to quit at the chances month 0 gives them under the levers' defaults
    (the history predates the scenario's policies, as the founders' engagement does), without
    a draw: the expected count a month, and of it the regretted quits (skill above the median).

    Returns:
        ``quits`` and ``regretted_quits`` a month, and the founding ``headcount``.
    """
    e, dyn = model.employees, model.config.dynamics
    ids = e.ids
    if ids.size == 0:
        return {"quits": 0.0, "regretted_quits": 0.0, "headcount": 0.0}
    quits, regretted = _expected_quits(
        ids, e.engagement, e.values, model.core, e.skill, e.log_pay, e.tenure, e.peer_departures,
        CONTAGION_MEMORY, log1p(LEVER_DEFAULTS["compensation_premium"]),
        LEVER_DEFAULTS["inclusion"],
        model.config.market.talent_demand, dyn.quit_contagion, dyn.base_quit_rate_per_year,
        float(np.median(e.skill[ids])),
    )  # fmt: skip
    return {"quits": quits, "regretted_quits": regretted, "headcount": float(ids.size)}


def poaching_intensity(model: CultureModel) -> float:
    """Summed intensity of the poaching waves under way this month."""
    return float(sum(level for until, level in model.poaching if model.month <= until))


class Turnover:
    """Voluntary quits."""

    name = "turnover"

    def setup(self, model: CultureModel) -> None:
        """The founders' memory of departed peers, and the quits before month 0."""
        remember_founders_departures(model)
        model.quits_before_start = quits_before_start(model)

    def step(self, model: CultureModel) -> None:
        """Draw this month's quits and let the memory of departures fade."""
        e, dyn, lv = model.employees, model.config.dynamics, model.levers
        ids = e.ids
        if ids.size == 0:
            return
        draws = model.streams["quit"]
        quitters = _quitters(
            ids, e.engagement, e.values, model.core, e.skill, e.log_pay, e.tenure,
            e.peer_departures, CONTAGION_MEMORY, log1p(lv["compensation_premium"]),
            lv["inclusion"], model.config.market.talent_demand, dyn.quit_contagion,
            poaching_intensity(model), dyn.base_quit_rate_per_year, draws.key,
            draws.position(model.month),
        )  # fmt: skip
        model.remove_employees(quitters, "quits")
