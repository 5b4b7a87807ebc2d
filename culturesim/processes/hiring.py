"""Hiring: vacancies from the growth plan, applicants from employer brand, selectivity.

The planned headcount grows at ``organization.growth_per_year`` unless runway is below the
hiring-freeze level (after layoffs the plan restarts from the smaller staff). Each vacancy fills
this month with chance ``1 - exp(-lam)``, where ``lam`` grows with applicants per vacancy (from the
employer brand, :mod:`culturesim.processes.brand`, and universities' talent pipeline) and shrinks
with ``hiring_selectivity`` (fewer applicants pass the bar). Hires join the teams with most room
(new teams and departments open when all are full) and make a few informal ties, mostly within
their site.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from culturesim.networks import INFORMAL

if TYPE_CHECKING:
    from culturesim.model import CultureModel

APPLICANTS_PER_VACANCY = 10.0  # at an employer brand of 0.5 (guess)


def fill_probability(model: CultureModel) -> float:
    """Chance that a vacancy is filled this month."""
    dyn, sel = model.config.dynamics, model.levers["hiring_selectivity"]
    lam0 = -np.log1p(-min(dyn.hiring_fill_rate, 0.999999))
    pipeline = 1.0 + model.partner_reach["applicants"]
    applicants = APPLICANTS_PER_VACANCY * (0.5 + model.employer_brand) * pipeline
    lam = lam0 * applicants / APPLICANTS_PER_VACANCY * (1.0 - 0.8 * sel)
    return float(1.0 - np.exp(-lam))


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
        if model.flows["layoffs"] > 0:
            model.target_headcount = float(model.headcount)
        if model.runway >= org.hiring_freeze_runway_months:
            model.target_headcount *= (1.0 + org.growth_per_year) ** (1.0 / 12.0)
        model.fill_probability = fill_probability(model)
        vacancies = max(0, round(model.target_headcount) - model.headcount)
        model.last_hires = 0.0
        if vacancies == 0:
            return
        filled = int(
            np.count_nonzero(model.streams["fill"].uniform(t, vacancies) < model.fill_probability)
        )
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
        n_sites = model.n_sites
        staff = np.bincount(e.site[e.ids], minlength=n_sites).astype(float)
        share = staff / staff.sum() if staff.sum() > 0 else np.full(n_sites, 1.0 / n_sites)
        quota = share * count
        base = np.floor(quota).astype(int)
        extra = np.argsort(-(quota - base), kind="stable")[: count - base.sum()]
        base[extra] += 1
        return np.repeat(np.arange(n_sites, dtype=np.int32), base)

    @staticmethod
    def _teams_for(model: CultureModel, sites: np.ndarray) -> np.ndarray:
        """Put hires into the teams of their site with most room, opening teams when full."""
        e, net = model.employees, model.org
        size = np.bincount(e.team[e.ids], minlength=net.n_teams)
        out = np.empty(sites.size, dtype=np.int32)
        for s in np.unique(sites):
            need = np.flatnonzero(sites == s)
            teams = np.flatnonzero(net.team_site == s)
            room = np.maximum(0, net.team_size - size[teams])
            order = np.argsort(-room, kind="stable")
            seats = np.repeat(teams[order], room[order])
            if seats.size < need.size:
                n_new = int(np.ceil((need.size - seats.size) / net.team_size))
                new = net.open_teams(np.full(n_new, s))
                seats = np.concatenate([seats, np.repeat(new, net.team_size)])
            out[need] = seats[: need.size]
        return out

    @staticmethod
    def _informal_ties(model: CultureModel, slots: np.ndarray) -> None:
        """Each hire ties to a few random colleagues, mostly at their own site."""
        e, t, net = model.employees, model.month, model.org
        ids = e.ids
        sites = e.site[ids]
        n_sites = model.n_sites
        by_site = ids[np.argsort(sites, kind="stable")]
        counts = np.bincount(sites, minlength=n_sites)
        starts = np.cumsum(counts) - counts
        home = e.site[slots]
        ties = model.streams["ties"]
        src, dst = [], []
        for k in range(net.informal_ties):
            u = ties.uniform(t, slots.size, part=2 * k)  # by place in the month's hires
            cross = ties.uniform(t, slots.size, part=2 * k + 1) < net.cross_site_share
            pick_home = by_site[starts[home] + (u * counts[home]).astype(np.int64)]
            pick_any = ids[(u * ids.size).astype(np.int64)]
            src.append(slots)
            dst.append(np.where(cross, pick_any, pick_home))
        net.add_edges(np.concatenate(src), np.concatenate(dst), INFORMAL)
