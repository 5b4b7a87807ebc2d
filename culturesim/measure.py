"""Measuring the KPIs of a model at the end of each month (DESIGN section 4, step 12).

:func:`measure` returns every KPI declared in :mod:`culturesim.kpis`: staff means, the
culture's alignment and fragmentation, the simulated pulse survey (a sample of the staff with
answer noise), the org network's sampled global efficiency, the trailing attrition rates and
the market's, partners' and brand's measures. The value-fit kernel (:func:`value_fit`) is the
culture diagnostic the engagement and quit equations use too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from culturesim.compiled import insertion_sort, kernel
from culturesim.kpis import KPIS
from culturesim.networks import mean_inverse_distance
from culturesim.portable import ndtri_of
from culturesim.random import cursor, uniform_at

if TYPE_CHECKING:
    from culturesim.model import CultureModel

__all__ = [
    "EFFICIENCY_TIES",
    "alignment",
    "fit_effect",
    "measure",
    "sampled_efficiency",
    "staff_kpis",
    "trailing_rate",
    "value_fit",
]

SURVEY_SHARE = 0.3  # share of staff sampled by the pulse survey
SURVEY_NOISE = 0.12  # sd of an answer around the respondent's engagement
FAVOURABLE = 0.625  # engagement + noise above this answers 4 or 5 of 5
# Ties a month the sampled global efficiency may walk: each BFS source walks every tie once.
# One source's estimate is within about 3.5% (sd) of the exact value at 2,000 staff and 5% at
# 300, so the monthly KPI's sampling error is about 3.5% / sqrt(sources).
EFFICIENCY_TIES = 40_000
FIT_NORM = 0.85  # the value fit the engagement and quit equations are centred on (a guess)
# What a fit above the norm counts, per unit: its weight at the default inclusion 0.5, so runs
# at the default are as calibrated (a guess, like the equations' other weights).
GOOD_FIT_WEIGHT = 0.75


def efficiency_sources(ties: int) -> int:
    """BFS sources for the sampled efficiency: as many as the tie budget allows (1-8)."""
    return min(max(EFFICIENCY_TIES // max(ties, 1), 1), 8)


@kernel
def value_fit(values, i, core):
    """Fit of row ``i`` of ``values`` with the ``core`` values: 1 - mean absolute difference.

    The row is passed by index: a row view per call slows the loops that call this.
    """
    gap = 0.0
    for c in range(core.size):
        gap += abs(values[i, c] - core[c])
    return 1.0 - gap / core.size


@kernel
def fit_effect(fit, inclusion):
    """Value fit's pull on engagement (negated, on quitting), in units of fit.

    A misfit (fit below ``FIT_NORM``) counts ``1 - 0.5 * inclusion`` of its size: where different
    views are heard, not sharing the core values weighs less. A fit above the norm counts
    ``GOOD_FIT_WEIGHT`` whatever the inclusion: inclusion does not take from those who fit.
    """
    gap = fit - FIT_NORM
    if gap < 0.0:
        return gap * (1.0 - 0.5 * inclusion)
    return GOOD_FIT_WEIGHT * gap


@kernel
def alignment(values, core):
    """Fit of each row of ``values`` with the ``core`` values (:func:`value_fit` of each row)."""
    out = np.empty(values.shape[0])
    for i in range(values.shape[0]):
        out[i] = value_fit(values, i, core)
    return out


def trailing_rate(
    flow: list[float],
    headcount: list[float],
    window: int = 12,
    before: tuple[float, float] = (0.0, 0.0),
) -> float:
    """Annualised rate: flow over the trailing ``window`` months / mean headcount over them.

    Args:
        flow: Monthly flow so far, this month last (month 0 first).
        headcount: Headcount at the end of each month so far (same length).
        window: Months in the trailing window.
        before: The flow a month and the headcount before month 0, for the part of the
            window that falls before it (in months 0 to ``window - 1``).
    """
    months = min(window, len(flow) - 1)  # months of the window since month 0
    early = window - months
    # flows and headcounts are whole numbers: their float sums are exact in any order
    recent = sum(headcount[len(headcount) - months - 1 : -1])  # start-of-month staff
    mean_staff = (recent + early * before[1]) / window
    if mean_staff <= 0:
        return 0.0
    total = sum(flow[len(flow) - months :]) + early * before[0]
    return float(total * 12.0 / window / mean_staff)


@kernel
def staff_kpis(
    ids, engagement, tenure, skill, trust, values, core, team, n_teams, survey_key, asked_at,
    noise_at,
):  # fmt: skip
    """Means over the staff ``ids``, the culture's fragmentation and the pulse survey's sample.

    Fragmentation (how far teams' mean values stand from the company's, in [0, 1]) is twice
    the headcount-weighted mean over teams of the mean absolute difference between the team's
    mean values and the company's: 0 when every team holds the company's values, 1 when half
    the people sit in teams at 0 and half in teams at 1 on every dimension.

    The survey asks slot ``i`` when its draw at ``asked_at`` of the survey stream (key
    ``survey_key``) is below :data:`SURVEY_SHARE`, and the one with the smallest draw when no
    draw is below it (a survey gets an answer: a small company's empty sample read 0, the least
    favourable reading there is, in 2.8% of months at 10 staff); those asked also get their draw
    at ``noise_at``, for their answer's noise.

    Returns:
        Mean engagement, tenure, skill, trust and value fit, the fragmentation, the slots
        asked, and their uniform draws for the noise.
    """
    n, k = ids.size, core.size
    eng = ten = skl = tru = fit = 0.0
    count = np.zeros(n_teams)
    sums = np.zeros((n_teams, k))
    grand = np.zeros(k)
    ask, noise = cursor(survey_key, asked_at), cursor(survey_key, noise_at)
    asked = np.empty(n, np.int64)
    drawn = np.empty(n)
    m = 0
    least, least_u = -1, 2.0  # whom an otherwise empty sample asks
    for i in ids:
        eng += engagement[i]
        ten += tenure[i]
        skl += skill[i]
        tru += trust[i]
        fit += value_fit(values, i, core)
        count[team[i]] += 1.0
        for c in range(k):
            sums[team[i], c] += values[i, c]
            grand[c] += values[i, c]
        u, ask = uniform_at(ask, i)
        if u < SURVEY_SHARE:
            asked[m] = i
            drawn[m], noise = uniform_at(noise, i)
            m += 1
        elif u < least_u:
            least, least_u = i, u
    if m == 0 and least >= 0:
        asked[0] = least
        drawn[0], noise = uniform_at(noise, least)
        m = 1
    spread = 0.0
    if n >= 2:
        for g in range(n_teams):
            if count[g] > 0:
                gap = 0.0
                for c in range(k):
                    gap += abs(sums[g, c] / count[g] - grand[c] / n)
                spread += count[g] * gap / k
        spread = min(max(2.0 * spread / n, 0.0), 1.0)
    return eng / n, ten / n, skl / n, tru / n, fit / n, spread, asked[:m], drawn[:m]


@kernel
def _favourable_share(engagement, asked, noise):
    """Share of those ``asked`` whose engagement plus noise answers favourably (0 if none)."""
    if asked.size == 0:
        return 0.0
    yes = 0
    for j in range(asked.size):
        if engagement[asked[j]] + SURVEY_NOISE * noise[j] >= FAVOURABLE:
            yes += 1
    return yes / asked.size


@kernel
def sampled_efficiency(indptr, indices, ids, key, position, sources):
    """Global efficiency of the alive network from BFS at up to ``sources`` random staff.

    The ``k``-th source is ``ids[floor(u_k * ids.size)]`` for the ``k``-th draw ``u_k`` at
    ``position`` of the stream with ``key``; a person drawn twice counts once.
    """
    n = ids.size
    if n < 2 or sources == 0:
        return 0.0
    draws = cursor(key, position)
    picks = np.empty(sources, np.int64)
    for k in range(sources):
        u, draws = uniform_at(draws, k)
        picks[k] = np.int64(u * n)
    insertion_sort(picks, 0, sources)
    kept = 0  # each person once, in slot order
    for k in range(sources):
        if k == 0 or picks[k] != picks[k - 1]:
            picks[kept] = picks[k]
            kept += 1
    return mean_inverse_distance(indptr, indices, ids[picks[:kept]], ids)


def market_kpis(model: CultureModel) -> dict[str, float]:
    """The users', partners' and brand KPIs of ``model``."""
    from culturesim.processes.partners import ACTIVE_STRENGTH

    p, users = model.partners, model.user_tally
    pids = p.ids
    start = model.user_flows["active_start"]
    return {
        "users_aware": float(users.aware),
        "users_active": float(model.users_active),
        "user_trust": users.mean_trust,
        "nps": users.nps,
        "user_churn_rate": model.user_flows["churned"] / start if start else 0.0,
        "brand_awareness": model.brand_awareness,
        "brand_reputation": model.brand_reputation,
        "employer_brand": model.employer_brand,
        "partners_active": float(np.count_nonzero(p.strength[pids] >= ACTIVE_STRENGTH)),
        "partner_trust": float(p.trust[pids].mean()) if pids.size else 0.0,
    }


def measure(model: CultureModel) -> dict[str, float]:
    """Return every KPI of ``model`` for the month just ended (the order of :data:`KPIS`)."""
    from culturesim.processes.hiring import fill_probability

    e, t, flows = model.employees, model.month, model.flows
    ids = e.ids
    n = ids.size
    log = model.flow_log  # this month's flows are already appended
    staff = [*model.history["headcount"][-13:], float(n)]  # the trailing windows' headcounts
    past = model.quits_before_start  # for the windows' months before month 0
    past_quits = (past["quits"], past["headcount"])
    past_regret = (past["regretted_quits"], past["headcount"])
    if n:
        survey, sample = model.streams["survey"], model.streams["efficiency"]
        eng, tenure, skill, trust, fit, spread, asked, drawn = staff_kpis(
            ids, e.engagement, e.tenure, e.skill, e.trust, e.values, model.core, e.team,
            model.org.n_teams, survey.key, survey.position(t), survey.position(t, 1),
        )  # fmt: skip
        indptr, indices = model.org.adjacency(e.alive)  # each tie listed from both ends
        sources = efficiency_sources(indices.size)
        row = {
            "engagement": eng,
            "survey_satisfaction": _favourable_share(e.engagement, asked, ndtri_of(drawn)),
            "mean_tenure_months": tenure,
            "mean_skill": skill,
            "culture_alignment": fit,
            "culture_fragmentation": spread,
            "trust_in_leadership": trust,
            "communication_efficiency": sampled_efficiency(
                indptr, indices, ids, sample.key, sample.position(t), sources
            ),
        }
    else:
        row = dict.fromkeys(
            (
                "engagement",
                "survey_satisfaction",
                "mean_tenure_months",
                "mean_skill",
                "culture_alignment",
                "culture_fragmentation",
                "trust_in_leadership",
                "communication_efficiency",
            ),
            0.0,
        )
    row.update(
        headcount=float(n),
        hires=flows["hires"],
        quits=flows["quits"],
        layoffs=flows["layoffs"],
        attrition_rate_annual=trailing_rate(log["quits"], staff, before=past_quits),
        regretted_attrition_annual=trailing_rate(log["regretted_quits"], staff, before=past_regret),
        ideas=flows["ideas"],
        launches=flows["launches"],
        knowledge=model.knowledge,
        workload=model.workload,
        time_to_fill_months=min(120.0, 1.0 / max(fill_probability(model), 1.0 / 120.0)),
        revenue=model.revenue,
        **market_kpis(model),
        costs=model.costs,
        net_cash_flow=model.revenue - model.costs,
        funding_raised=model.funding_raised,
        cash=model.cash,
        runway_months=model.runway,
    )
    return {name: row[name] for name in KPIS}
