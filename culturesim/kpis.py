"""Outcome measures (KPIs): one declaration read by the model, the CLI, plots, UI and docs.

A KPI knows its unit, its allowed range and how it aggregates over time, so a monthly series rolls
up to years without special cases: a *stock* is averaged, a *flow* is summed, a *rate* is already
per year (or a share) and is averaged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.special import ndtri

from culturesim.compiled import kernel
from culturesim.networks import mean_inverse_distance
from culturesim.random import cursor, uniform_at

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FAMILIES",
    "KPI",
    "KPIS",
    "REPORT_MONTHS",
    "chart_label",
    "display_scale",
    "format_number",
    "report_months",
    "shown",
    "shown_as_total",
]

INF = math.inf


@dataclass(frozen=True)
class KPI:
    """An outcome measure recorded every month.

    Attributes:
        name: Column name in results.
        label: Short human label.
        unit: Unit, in words.
        lo: Smallest possible value.
        hi: Largest possible value.
        aggregate: ``"stock"`` (average over time), ``"flow"`` (sum) or ``"rate"`` (average).
        family: Outcome family: talent, culture, trust, innovation or finance.
        help: One line saying what it measures.
        mark: A level worth a line on its charts (``None``: none), as ``(value, label)``.
    """

    name: str
    label: str
    unit: str
    lo: float
    hi: float
    aggregate: Literal["stock", "flow", "rate"]
    family: str
    help: str
    mark: tuple[float, str] | None = None


FAMILIES = ("brand", "talent", "culture", "trust", "innovation", "finance")

_KPI_LIST = [
    KPI(
        "headcount",
        "Headcount",
        "employees",
        0,
        INF,
        "stock",
        "talent",
        "Employees at the end of the month.",
    ),
    KPI(
        "hires",
        "Hires",
        "employees per month",
        0,
        INF,
        "flow",
        "talent",
        "People hired this month.",
    ),
    KPI(
        "quits",
        "Quits",
        "employees per month",
        0,
        INF,
        "flow",
        "talent",
        "Voluntary leavers this month.",
    ),
    KPI(
        "layoffs",
        "Layoffs",
        "employees per month",
        0,
        INF,
        "flow",
        "talent",
        "People laid off this month (cash shortfall or a layoff event).",
    ),
    KPI(
        "time_to_fill_months",
        "Time to fill",
        "months",
        0,
        120,
        "stock",
        "talent",
        "Expected months to fill a vacancy (1 / this month's chance to fill one), capped at 120.",
    ),
    KPI(
        "attrition_rate_annual",
        "Attrition",
        "share per year",
        0,
        INF,
        "rate",
        "talent",
        "Voluntary quits over the trailing 12 months / mean headcount (annualised before "
        "month 12).",
    ),
    KPI(
        "regretted_attrition_annual",
        "Regretted attrition",
        "share per year",
        0,
        INF,
        "rate",
        "talent",
        "As attrition, counting only leavers whose skill was above the company median.",
    ),
    KPI(
        "engagement", "Engagement", "0-1", 0, 1, "stock", "talent", "Mean engagement of employees."
    ),
    KPI(
        "survey_satisfaction",
        "Pulse survey",
        "share favourable",
        0,
        1,
        "stock",
        "talent",
        "Simulated pulse survey: share of a random sample answering 4 or 5 of 5.",
    ),
    KPI(
        "mean_tenure_months",
        "Mean tenure",
        "months",
        0,
        INF,
        "stock",
        "talent",
        "Mean months since hire.",
    ),
    KPI("mean_skill", "Mean skill", "0-1", 0, 1, "stock", "talent", "Mean skill of employees."),
    KPI(
        "culture_alignment",
        "Culture alignment",
        "0-1",
        0,
        1,
        "stock",
        "culture",
        "Mean fit between employees' values and the core values (1 = identical).",
    ),
    KPI(
        "culture_fragmentation",
        "Culture fragmentation",
        "0-1",
        0,
        1,
        "stock",
        "culture",
        "How far teams' mean values stand from the company's (subcultures), 0-1.",
    ),
    KPI(
        "trust_in_leadership",
        "Trust in leadership",
        "0-1",
        0,
        1,
        "stock",
        "trust",
        "Mean trust of employees in leadership.",
    ),
    KPI(
        "ideas",
        "Ideas",
        "ideas per month",
        0,
        INF,
        "flow",
        "innovation",
        "New ideas from exploration (innovation time) this month.",
    ),
    KPI(
        "launches",
        "Launches",
        "launches per month",
        0,
        INF,
        "flow",
        "innovation",
        "Ideas shipped this month.",
    ),
    KPI(
        "knowledge",
        "Market knowledge",
        "0-1",
        0,
        1,
        "stock",
        "innovation",
        "Share of market dimensions the organizational code gets right (March 1991).",
    ),
    KPI(
        "workload",
        "Workload",
        "need / capacity",
        0,
        INF,
        "stock",
        "innovation",
        "Roadmap work needed / delivery capacity (work time not spent exploring, by skill and "
        "engagement); above 1 the team is overloaded, which costs engagement.",
        mark=(1.0, "overload"),
    ),
    KPI(
        "communication_efficiency",
        "Communication efficiency",
        "0-1",
        0,
        1,
        "stock",
        "culture",
        "Global efficiency of the informal network (mean inverse path length, sampled).",
    ),
    KPI(
        "users_aware",
        "Users aware",
        "users",
        0,
        INF,
        "stock",
        "brand",
        "Potential users who know the product.",
    ),
    KPI(
        "users_active",
        "Active users",
        "users",
        0,
        INF,
        "stock",
        "brand",
        "Users using the product at the end of the month.",
    ),
    KPI(
        "user_trust",
        "User trust",
        "0-1",
        0,
        1,
        "stock",
        "trust",
        "Mean trust in the company of users who know it.",
    ),
    KPI(
        "nps",
        "NPS",
        "-100 to 100",
        -100,
        100,
        "stock",
        "trust",
        "Net promoter score of active users: % promoters - % detractors.",
    ),
    KPI(
        "user_churn_rate",
        "User churn",
        "share per month",
        0,
        1,
        "rate",
        "trust",
        "Active users lost this month / active users at the start of the month.",
    ),
    KPI(
        "brand_awareness",
        "Brand awareness",
        "0-1",
        0,
        1,
        "stock",
        "brand",
        "Goodwill stock built by brand spend, launches and partners (drives user awareness).",
    ),
    KPI(
        "brand_reputation",
        "Brand reputation",
        "0-1",
        0,
        1,
        "stock",
        "brand",
        "Reputation from users' NPS and launches, cut by incidents.",
    ),
    KPI(
        "employer_brand",
        "Employer brand",
        "0-1",
        0,
        1,
        "stock",
        "brand",
        "Attractiveness to applicants: engagement, attrition, reputation, pay.",
    ),
    KPI(
        "partners_active",
        "Active partners",
        "partners",
        0,
        INF,
        "stock",
        "brand",
        "Partners whose relationship strength is at least 0.3.",
    ),
    KPI(
        "partner_trust",
        "Partner trust",
        "0-1",
        0,
        1,
        "stock",
        "trust",
        "Mean trust of partners in the company.",
    ),
    KPI(
        "revenue",
        "Revenue",
        "$ per month",
        0,
        INF,
        "flow",
        "finance",
        "Active users x price this month.",
    ),
    KPI(
        "costs",
        "Costs",
        "$ per month",
        0,
        INF,
        "flow",
        "finance",
        "Payroll with overhead plus the levers' cash costs this month.",
    ),
    KPI("cash", "Cash", "$", -INF, INF, "stock", "finance", "Cash at the end of the month."),
    KPI(
        "runway_months",
        "Runway",
        "months",
        0,
        120,
        "stock",
        "finance",
        "Cash / monthly net burn, capped at 120 (no burn = 120).",
    ),
]

#: Every KPI by name, in display order.
KPIS: dict[str, KPI] = {k.name: k for k in _KPI_LIST}


def shown_as_total(name: str) -> bool:
    """Whether charts and tables show KPI ``name`` as each run's total so far, not by month.

    Counted flows (ideas, launches, hires, quits, layoffs) are a few a month: month by month
    their median jumps between 0 and 1, while the total so far reads (and B - A of totals says
    how many more). Money flows (revenue, costs) are drawn per month.
    """
    meta = KPIS[name]
    return meta.aggregate == "flow" and not meta.unit.startswith("$")


def shown(timeseries: pd.DataFrame, kpi: str) -> pd.Series:
    """What charts and tables show of ``kpi`` on each row: the KPI, or its run's total so far.

    Counted flows are shown as running totals (:func:`shown_as_total`), summed in month order
    within each run (``run_id``, or ``seed`` where there is none).

    Args:
        timeseries: Stacked runs with columns ``month``, ``kpi`` and ``run_id`` or ``seed``.
        kpi: Column to draw.
    """
    if not shown_as_total(kpi):
        return timeseries[kpi]
    run = "run_id" if "run_id" in timeseries else "seed"
    rows = timeseries[[run, "month", kpi]].reset_index(drop=True)  # any index, repeats too
    totals = rows.sort_values([run, "month"], kind="stable").groupby(run)[kpi].cumsum()
    shown_values = timeseries[kpi].copy()
    shown_values.iloc[:] = totals.sort_index().to_numpy()
    return shown_values


def chart_label(name: str) -> str:
    """A chart's title for KPI ``name``: its label, "(total so far)" added for a running total."""
    return KPIS[name].label + (" (total so far)" if shown_as_total(name) else "")


def display_scale(name: str) -> tuple[float, str]:
    """How KPI ``name`` is shown: dollars in millions, counted flows as totals, the rest as is.

    Returns:
        The divisor and the unit to show ("M$ per month" for "$ per month", "launches" for
        "launches per month": see :func:`shown_as_total`).
    """
    unit = KPIS[name].unit
    if shown_as_total(name):
        return 1.0, unit.removesuffix(" per month")
    return (1e6, unit.replace("$", "M$", 1)) if unit.startswith("$") else (1.0, unit)


def format_number(x: float) -> str:
    """A KPI or lever value as a table shows it: about four significant digits.

    Millions as "21.74M", thousands with commas ("66,914"), whole numbers bare, the rest with
    one decimal from 100 ("145.6"), two from 10 ("21.59") and three below ("0.622"), trailing
    zeros dropped ("4.2", not "4.200").
    """
    size = abs(x)
    if size >= 1e6:
        return f"{x / 1e6:.2f}M"
    if size >= 1000:
        return f"{x:,.0f}"
    if float(x).is_integer():
        return f"{x:.0f}"
    decimals = 1 if size >= 100 else 2 if size >= 10 else 3
    shown = f"{x:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if shown == "-0" else shown  # a small negative rounds to 0, not "-0"


REPORT_MONTHS = (12, 36, 60)  # the months a summary shows (one, three and five years)


def report_months(last: int, months: tuple[int, ...] = REPORT_MONTHS) -> list[int]:
    """The months a summary shows for a run of ``last`` months.

    ``months`` before ``last``, then ``last`` itself: a 60-month run shows 12, 36 and 60, a
    24-month run 12 and 24, a 120-month run 12, 36, 60 and 120.
    """
    return [m for m in months if m < last] + [int(last)]


# --- measurement ---------------------------------------------------------------------------

SURVEY_SHARE = 0.3  # share of staff sampled by the pulse survey
SURVEY_NOISE = 0.12  # sd of an answer around the respondent's engagement
FAVOURABLE = 0.625  # engagement + noise above this answers 4 or 5 of 5
# Ties a month the sampled global efficiency may walk: each BFS source walks every tie once.
# One source's estimate is within about 3.5% (sd) of the exact value at 2,000 staff and 5% at
# 300, so the monthly KPI's sampling error is about 3.5% / sqrt(sources).
EFFICIENCY_TIES = 40_000


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
def alignment(values, core):
    """Fit of each row of ``values`` with the ``core`` values (:func:`value_fit` of each row)."""
    out = np.empty(values.shape[0])
    for i in range(values.shape[0]):
        out[i] = value_fit(values, i, core)
    return out


def trailing_rate(flow: list[float], headcount: list[float], window: int = 12) -> float:
    """Annualised rate: flow over the trailing ``window`` months / mean headcount over them.

    Args:
        flow: Monthly flow so far, this month last (month 0 first).
        headcount: Headcount at the end of each month so far (same length).
        window: Months in the trailing window.
    """
    months = min(window, len(flow) - 1)
    if months <= 0:
        return 0.0
    # flows and headcounts are whole numbers: their float sums are exact in any order
    mean_staff = sum(headcount[-months - 1 : -1]) / months  # start-of-month staff
    if mean_staff <= 0:
        return 0.0
    return float(sum(flow[-months:]) * 12.0 / months / mean_staff)


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
    ``survey_key``) is below :data:`SURVEY_SHARE`; those asked also get their draw at
    ``noise_at``, for their answer's noise.

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
    return mean_inverse_distance(indptr, indices, ids[np.unique(picks)], ids)


@kernel
def _aware_trust(aware, trust):
    """How many users are aware, and their mean trust (0 when none is).

    An unaware user adds ``trust * 0``, exactly 0: a branch on who is aware (random) was
    mispredicted half the time and made this pass 5x slower on a large market.
    """
    count, total = 0, 0.0
    for i in range(aware.size):
        count += aware[i]
        total += np.float64(trust[i]) * aware[i]
    return count, total / count if count else 0.0


def market_kpis(model) -> dict[str, float]:
    """The users', partners' and brand KPIs of ``model``."""
    from culturesim.processes.brand import nps_score
    from culturesim.processes.partners import ACTIVE_STRENGTH

    us, p = model.users, model.partners
    aware, trust = _aware_trust(us.aware[: us.n], us.trust[: us.n])
    pids = p.ids
    start = model.user_flows["active_start"]
    return {
        "users_aware": float(aware),
        "users_active": float(model.users_active),
        "user_trust": trust,
        "nps": nps_score(model),
        "user_churn_rate": model.user_flows["churned"] / start if start else 0.0,
        "brand_awareness": model.brand_awareness,
        "brand_reputation": model.brand_reputation,
        "employer_brand": model.employer_brand,
        "partners_active": float(np.count_nonzero(p.strength[pids] >= ACTIVE_STRENGTH)),
        "partner_trust": float(p.trust[pids].mean()) if pids.size else 0.0,
    }


def measure(model) -> dict[str, float]:
    """Return every KPI of ``model`` for the month just ended (the order of :data:`KPIS`)."""
    from culturesim.processes.hiring import fill_probability

    e, t, flows = model.employees, model.month, model.flows
    ids = e.ids
    n = ids.size
    log = model.flow_log  # this month's flows are already appended
    staff = [*model.history["headcount"][-13:], float(n)]  # the trailing windows' headcounts
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
            "survey_satisfaction": _favourable_share(e.engagement, asked, ndtri(drawn)),
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
        attrition_rate_annual=trailing_rate(log["quits"], staff),
        regretted_attrition_annual=trailing_rate(log["regretted_quits"], staff),
        ideas=flows["ideas"],
        launches=flows["launches"],
        knowledge=model.knowledge,
        workload=model.workload,
        time_to_fill_months=min(120.0, 1.0 / max(fill_probability(model), 1.0 / 120.0)),
        revenue=model.revenue,
        **market_kpis(model),
        costs=model.costs,
        cash=model.cash,
        runway_months=model.runway,
    )
    return {name: row[name] for name in KPIS}
