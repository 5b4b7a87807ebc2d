"""Partners: universities, investors, open-source communities and channel partners.

Each partner is a row of ``model.partners`` (and a Mesa ``Partner`` agent) with a kind, a
relationship strength and a trust. Each month strength moves toward a level set by
``partnership_openness``, the company's reputation and joint results (its recent launches), and
fades toward a low one without them; trust moves toward a level set by reputation and
transparency and falls at incidents. A partner is active while its strength is at least
``ACTIVE_STRENGTH``. What active partners give, weighted by strength:

* **universities**: research ideas (into the idea pipeline) and a talent pipeline (applicants);
* **investors**: a funding round when runway is short, at most once a year
  (:func:`round_size`): ``partners.funding_round_months_of_burn`` months of costs, at most
  ``partners.funding_round_revenue_years`` years of revenue, when active users or revenue grew
  30% or more in a year; in proportion below that (15% growth raises half a round, none
  nothing);
* **open source**: awareness, contributors' ideas and user trust;
* **channels**: distribution, i.e. awareness and conversion of prospects.

Open, reputable companies attract new partners over time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from culturesim.compiled import kernel
from culturesim.population import Field, Population

if TYPE_CHECKING:
    from culturesim.model import CultureModel

UNIVERSITY, INVESTOR, OPEN_SOURCE, CHANNEL = 0, 1, 2, 3
KIND_NAMES = ("university", "investor", "open_source", "channel")
ACTIVE_STRENGTH = 0.3
STRENGTH_RATE = 0.05  # share of the gap to the strength goal closed a month (guess)
ROUND_COOLDOWN = 12
GROWTH_BAR = 0.3
NO_REACH = {"awareness": 0.0, "distribution": 1.0, "trust": 0.0, "applicants": 0.0}


class Partners:
    """The company's partner ecosystem."""

    name = "partners"

    def setup(self, model: CultureModel) -> None:
        """Create the founding partners."""
        cfg = model.config.partners
        counts = (cfg.universities, cfg.investors, cfg.open_source, cfg.channels)
        model.partners = Population(
            {"kind": Field(np.int8), "strength": Field(np.float64), "trust": Field(np.float64)},
            capacity=max(sum(counts), 4),
        )
        model.last_round_month = -ROUND_COOLDOWN
        model.partner_reach = dict(NO_REACH)
        kinds = np.repeat(np.arange(4, dtype=np.int8), counts)
        model.add_partners(kinds, cfg.initial_strength, trust=0.5)
        model.partner_reach = reach(model)

    def step(self, model: CultureModel) -> None:
        """One month of relationships and contributions."""
        p, lv, t = model.partners, model.levers, model.month
        ids = p.ids
        if ids.size:
            rep = model.brand_reputation
            goal = strength_goal(lv["partnership_openness"], rep, model.launch_rate)
            _tend(ids, p.strength, p.trust, goal, trust_goal(rep, lv["transparency"]))
            self._contribute(model)
        # new partners come to open, reputable companies
        s = model.streams["partner_new"]
        u = s.uniform(t, 2)
        if u[0] < 0.05 * lv["partnership_openness"] * model.brand_reputation:
            kind = np.array([int(u[1] * 4)], dtype=np.int8)
            model.add_partners(kind, 0.3, trust=0.4 + 0.2 * model.brand_reputation)
        model.partner_reach = reach(model)

    @staticmethod
    def _contribute(model: CultureModel) -> None:
        p, t = model.partners, model.month
        # universities and open source: ideas
        u = model.streams["partner_ideas"].uniform(t, p.n)
        ideas = _ideas(p.ids, p.kind, p.strength, u)
        model.pipeline += ideas
        model.flows["ideas"] += ideas
        # investors: a round when runway is short and they back it, as large as growth earns
        if (
            model.runway < 12.0
            and t - model.last_round_month >= ROUND_COOLDOWN
            and investor_backing(p) >= 0.3
        ):
            amount = round_size(model, growth_last_year(model))
            if amount > 0:
                model.raise_funding(amount)
                model.last_round_month = t


def strength_goal(openness: float, reputation: float, launch_rate: float) -> float:
    """The level partners' strength moves toward, in [0, 1].

    Args:
        openness: The ``partnership_openness`` lever.
        reputation: The brand's reputation.
        launch_rate: Recent launches a month (their moving average): joint results.
    """
    joint = min(1.0, launch_rate / 2.0)
    goal = 0.4 + 0.5 * (openness - 0.3) + 0.3 * (reputation - 0.5) + 0.2 * joint
    return min(max(goal, 0.0), 1.0)


def trust_goal(reputation: float, transparency: float) -> float:
    """The level partners' trust moves toward: set by reputation and transparency."""
    return 0.3 + 0.4 * reputation + 0.2 * transparency


def reach(model: CultureModel) -> dict[str, float]:
    """What active partners add to the market and hiring this month."""
    p = model.partners
    ids = p.ids
    if ids.size == 0:
        return dict(NO_REACH)
    weight = _active_strength(ids, p.kind, p.strength)
    return {
        "awareness": 0.002 * weight[OPEN_SOURCE] + 0.004 * weight[CHANNEL],
        "distribution": 1.0 + 0.3 * weight[CHANNEL],
        "trust": min(0.1, 0.03 * weight[OPEN_SOURCE]),
        "applicants": 0.1 * weight[UNIVERSITY],
    }


def investor_backing(p: Population) -> float:
    """Strength x trust summed over the active investors."""
    ids = p.ids
    active = ids[p.strength[ids] >= ACTIVE_STRENGTH]
    kind = p.kind[active]
    return float(np.sum((p.strength[active] * p.trust[active])[kind == INVESTOR]))


@kernel
def _tend(ids, strength, trust, strength_goal, trust_goal):
    """Strength and trust move toward their goals (trust faster down than up)."""
    for i in ids:
        strength[i] += STRENGTH_RATE * (strength_goal - strength[i])
        tr = trust[i]
        trust[i] = tr + (0.05 if trust_goal > tr else 0.2) * (trust_goal - tr)


@kernel
def _ideas(ids, kind, strength, u):
    """Ideas from active universities (0.3 x strength a month) and open source (0.1 x)."""
    ideas = 0
    for i in ids:
        if strength[i] >= ACTIVE_STRENGTH:
            share = 0.3 if kind[i] == UNIVERSITY else (0.1 if kind[i] == OPEN_SOURCE else 0.0)
            ideas += u[i] < share * strength[i]
    return ideas


@kernel
def _active_strength(ids, kind, strength):
    """Strength summed by kind over the active partners among ``ids``."""
    weight = np.zeros(4)
    for i in ids:
        if strength[i] >= ACTIVE_STRENGTH:
            weight[kind[i]] += strength[i]
    return weight


def round_size(model: CultureModel, growth: float) -> float:
    """An investor-led round after a year of ``growth``, in $ (0: no round).

    A full round is ``partners.funding_round_months_of_burn`` months of this month's costs, at
    most ``partners.funding_round_revenue_years`` years of this month's revenue (investors buy
    a share of a company valued on what it sells, not on what it spends). It is raised in full
    when growth is :data:`GROWTH_BAR` or more; slower growth raises that share of it (investors
    pay for growth by degrees: a slower company raises a smaller round, not none at all), and
    none raises nothing.
    """
    cfg = model.config.partners
    full = min(
        cfg.funding_round_months_of_burn * model.costs,
        cfg.funding_round_revenue_years * 12.0 * model.revenue,
    )
    return min(max(growth / GROWTH_BAR, 0.0), 1.0) * full


def growth_last_year(model: CultureModel) -> float:
    """Growth of active users (or revenue, whichever is larger) over the last 12 months."""
    h = model.history
    if len(h["users_active"]) < 13:
        return 0.0
    users = h["users_active"][-1] / max(h["users_active"][-13], 1.0) - 1.0
    revenue = h["revenue"][-1] / max(h["revenue"][-13], 1.0) - 1.0
    return max(users, revenue)


def incident(model: CultureModel, severity: float) -> None:
    """An AI incident: partners' trust falls, less under high transparency."""
    p = model.partners
    ids = p.ids
    drop = severity * 0.4 * (1.0 - 0.5 * model.levers["transparency"])
    p.trust[ids] = np.clip(p.trust[ids] - drop, 0.0, 1.0)
