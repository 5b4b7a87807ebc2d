"""Hiring: vacancies from the growth plan, applicants from employer brand, selectivity.

The planned headcount grows at ``organization.growth_per_year``. Below the hiring-freeze level of
runway nobody is hired: the plan is the staff left (open vacancies close, leavers are not
replaced), and growth restarts from it when runway recovers. Layoffs (of the runway rule or a
``layoff`` event) do the same for their month: a company that lays people off hires no one that
month, whatever its runway, and grows again from the staff left the month after (from one
person if none are left: a company that lost everyone hires again when it can). It stops
growing at :data:`culturesim.scenario.MAX_HEADCOUNT`, the simulator's limit, with a notice. Each
vacancy fills this month with chance ``1 - exp(-lam)``, where ``lam`` grows with applicants per
vacancy (from the employer brand, :mod:`culturesim.processes.brand`, and universities' talent
pipeline) and shrinks with ``hiring_selectivity`` (fewer applicants pass the bar). Hires join the
teams with most room (new teams and departments open when all are full) and make a few informal
ties, mostly within their site.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from culturesim.compiled import group_by, kernel
from culturesim.networks import INFORMAL
from culturesim.notices import HeadcountLimitWarning, notify
from culturesim.portable import exp, log1p, power
from culturesim.random import cursor, uniform_at
from culturesim.scenario import MAX_HEADCOUNT

if TYPE_CHECKING:
    from culturesim.model import CultureModel

APPLICANTS_PER_VACANCY = 10.0  # at an employer brand of 0.5 (guess)


def fill_probability(model: CultureModel) -> float:
    """Chance that a vacancy is filled this month."""
    dyn, sel = model.config.dynamics, model.levers["hiring_selectivity"]
    lam0 = -log1p(-min(dyn.hiring_fill_rate, 0.999999))
    pipeline = 1.0 + model.partner_reach["applicants"]
    applicants = APPLICANTS_PER_VACANCY * (0.5 + model.employer_brand) * pipeline
    lam = lam0 * applicants / APPLICANTS_PER_VACANCY * (1.0 - 0.8 * sel)
    return 1.0 - exp(-lam)


class Hiring:
    """Vacancies are filled from the labour market."""

    name = "hiring"

    def setup(self, model: CultureModel) -> None:
        """The plan starts at the founding headcount."""
        model.target_headcount = float(model.headcount)
        model.fill_probability = 0.0

    def step(self, model: CultureModel) -> None:
        """Grow the plan, fill vacancies, place the hires."""
        org, _e, t = model.config.organization, model.employees, model.month
        laid_off = model.flows["layoffs"] > 0  # a month of layoffs hires no one
        if laid_off or model.runway < org.hiring_freeze_runway_months:  # nor does a freeze
            model.target_headcount = float(model.headcount)  # the staff left: no one replaced
        else:  # grown from one person at least: an emptied company hires
            planned = max(model.target_headcount, 1.0) * power(1.0 + org.growth_per_year, 1 / 12)
            if planned > MAX_HEADCOUNT > model.target_headcount:
                notify(
                    model,
                    HeadcountLimitWarning,
                    f"the growth plan reached {MAX_HEADCOUNT:,} employees, the simulator's "
                    "limit, and grows no further",
                )
            model.target_headcount = min(planned, MAX_HEADCOUNT)
        model.fill_probability = fill_probability(model)
        vacancies = max(0, round(model.target_headcount) - model.headcount)
        model.last_hires = 0.0
        if vacancies == 0:
            return
        fill = model.streams["fill"]
        filled = _filled(fill.key, fill.position(t), vacancies, model.fill_probability)
        if filled == 0:
            return
        sites = self._sites_for(model, filled)
        teams = self._teams_for(model, sites)
        slots = model.add_employees(sites, teams)
        self._informal_ties(model, slots)
        model.flows["hires"] += filled
        model.last_hires = float(filled)

    @staticmethod
    def _sites_for(model: CultureModel, count: int) -> np.ndarray:
        """Spread hires over sites in proportion to their staff (largest remainder)."""
        e = model.employees
        return _largest_remainder(e.ids, e.site, model.n_sites, count)

    @staticmethod
    def _teams_for(model: CultureModel, sites: np.ndarray) -> np.ndarray:
        """Put hires into the teams of their site with most room, opening teams when full."""
        e, net = model.employees, model.org
        out = _seat(sites, net.team_site, e.ids, e.team, net.team_size, model.n_sites)
        waiting = out < 0  # no seat left at their site: they fill new teams, team_size each
        if waiting.any():
            team_of, team_sites = _new_teams(sites[waiting], net.team_size)
            out[waiting] = net.open_teams(team_sites)[team_of]
        return out

    @staticmethod
    def _informal_ties(model: CultureModel, slots: np.ndarray) -> None:
        """Each hire ties to a few random colleagues, mostly at their own site."""
        e, net, draws = model.employees, model.org, model.streams["ties"]
        src, dst = _colleagues(
            e.ids, e.site, slots, net.informal_ties, draws.key, draws.position(model.month),
            net.cross_site_share, model.n_sites,
        )  # fmt: skip
        net.add_edges(src, dst, INFORMAL)


@kernel
def _largest_remainder(ids, site, n_sites, count):
    """``count`` hires' sites, in site order: quotas by staff share, largest remainders first."""
    staff = np.zeros(n_sites)
    for i in ids:
        staff[site[i]] += 1.0
    total = staff.sum()  # a whole number: exact in any order
    base = np.empty(n_sites, np.int64)
    rest = np.empty(n_sites)
    given = 0
    for s in range(n_sites):
        quota = (staff[s] / total if total > 0 else 1.0 / n_sites) * count
        base[s] = np.int64(np.floor(quota))
        rest[s] = quota - base[s]
        given += base[s]
    for _ in range(count - given):  # the largest remainder next (the lower site on ties)
        best = 0
        for s in range(1, n_sites):
            if rest[s] > rest[best]:
                best = s
        base[best] += 1
        rest[best] = -1.0
    out = np.empty(count, np.int32)  # site s, base[s] times
    k = 0
    for s in range(n_sites):
        for _ in range(base[s]):
            out[k] = s
            k += 1
    return out


@kernel
def _filled(key, position, vacancies, chance):
    """How many of ``vacancies`` fill: vacancy ``k``'s draw at ``position`` is below ``chance``."""
    draws = cursor(key, position)
    filled = 0
    for k in range(vacancies):
        u, draws = uniform_at(draws, k)
        if u < chance:
            filled += 1
    return filled


@kernel
def _colleagues(ids, site, slots, k, key, position, cross_share, n_sites):
    """The informal ties of each hire in ``slots``: ``k`` colleagues each.

    Hire ``h`` (by place in the month's hires) reads ``2k`` draws from ``position + 2kh`` of the
    stream with ``key``: ``k`` picks, then ``k`` coin flips. A flip below ``cross_share`` picks
    among all of ``ids``, else among those at the hire's own site (in slot order).

    Returns:
        The ties' two ends: each hire ``k`` times, and the colleagues.
    """
    start, order = group_by(site[ids], n_sites)
    src = np.empty(slots.size * k, np.int64)
    dst = np.empty(slots.size * k, np.int64)
    row = np.empty(2 * k)
    draws = cursor(key, position)
    for h in range(slots.size):
        for j in range(2 * k):
            row[j], draws = uniform_at(draws, 2 * k * h + j)
        home = site[slots[h]]
        count = start[home + 1] - start[home]
        for j in range(k):
            src[h * k + j] = slots[h]
            if row[k + j] < cross_share:
                dst[h * k + j] = ids[np.int64(row[j] * ids.size)]
            else:
                dst[h * k + j] = ids[order[start[home] + np.int64(row[j] * count)]]
    return src, dst


@kernel
def _new_teams(sites, team_size):
    """New teams for hires left without a seat (``sites``, grouped by site), ``team_size`` each.

    Returns:
        Each hire's new team (numbered from 0 in opening order) and the site of each new team.
    """
    team_of = np.empty(sites.size, np.int64)
    team_sites = np.empty(sites.size, np.int32)  # at most one new team per hire
    teams, within = 0, 0
    for i in range(sites.size):
        if i == 0 or sites[i] != sites[i - 1] or within == team_size:
            team_sites[teams] = sites[i]
            teams += 1
            within = 0
        team_of[i] = teams - 1
        within += 1
    return team_of, team_sites[:teams]


@kernel
def _seat(sites, team_site, ids, team, team_size, n_sites):
    """Seats for hires (``sites``, grouped by site) in their site's teams; -1 where none is left.

    A site's teams are filled in order of most room (``team_size`` less the members among
    ``ids``), ties by team id.
    """
    size = np.zeros(team_site.size, np.int64)
    for i in ids:
        size[team[i]] += 1
    # teams by site, then by room (most first), then by id
    room = np.maximum(0, team_size - size)
    levels = team_size + 1  # room runs from team_size down to 0
    start, order = group_by(team_site * levels + (team_size - room), n_sites * levels)
    out = np.full(sites.size, -1, np.int32)
    k = 0
    while k < sites.size:
        site = sites[k]
        p, stop = start[site * levels], start[(site + 1) * levels]
        left = room[order[p]] if p < stop else 0
        while k < sites.size and sites[k] == site:
            while left == 0 and p + 1 < stop:
                p += 1
                left = room[order[p]]
            if left == 0:
                break
            out[k] = order[p]
            left -= 1
            k += 1
        while k < sites.size and sites[k] == site:
            k += 1
    return out
