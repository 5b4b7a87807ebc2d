"""Outcome measures (KPIs): one declaration read by the model, the CLI, plots, UI and docs.

A KPI knows its unit, its allowed range and how it aggregates over time, so a monthly series rolls
up to years without special cases: a *stock* is averaged, a *flow* is summed, a *rate* is already
per year (or a share) and is averaged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["FAMILIES", "KPI", "KPIS"]

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
    """

    name: str
    label: str
    unit: str
    lo: float
    hi: float
    aggregate: Literal["stock", "flow", "rate"]
    family: str
    help: str


FAMILIES = ("talent", "culture", "trust", "innovation", "finance")

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
        "Share of the variance of values that lies between teams (subcultures).",
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
        "communication_efficiency",
        "Communication efficiency",
        "0-1",
        0,
        1,
        "stock",
        "culture",
        "Global efficiency of the informal network (mean inverse path length, sampled).",
    ),
    KPI("revenue", "Revenue", "$ per month", 0, INF, "flow", "finance", "Revenue this month."),
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


# --- measurement ---------------------------------------------------------------------------

SURVEY_SHARE = 0.3  # share of staff sampled by the pulse survey
SURVEY_NOISE = 0.12  # sd of an answer around the respondent's engagement
FAVOURABLE = 0.625  # engagement + noise above this answers 4 or 5 of 5
EFFICIENCY_WORK = 20_000  # BFS node visits a month for the sampled global efficiency


def efficiency_sources(n: int) -> int:
    """BFS sources for the sampled efficiency: as many as a fixed work budget allows (1-8)."""
    return int(np.clip(EFFICIENCY_WORK // max(n, 1), 1, 8))


def alignment(values: np.ndarray, core: np.ndarray) -> np.ndarray:
    """Fit of each row of ``values`` with the ``core`` values: 1 - mean absolute difference."""
    return 1.0 - np.abs(values - core).mean(axis=1)


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
    mean_staff = float(np.mean(headcount[-months - 1 : -1]))  # start-of-month staff
    if mean_staff <= 0:
        return 0.0
    return float(np.sum(flow[-months:]) * 12.0 / months / mean_staff)


def between_team_share(values: np.ndarray, teams: np.ndarray) -> float:
    """Share of the total variance of ``values`` (rows = people) that lies between teams."""
    if values.shape[0] < 2:
        return 0.0
    grand = values.mean(axis=0)
    total = float(np.sum((values - grand) ** 2))
    if total <= 1e-12:
        return 0.0
    counts = np.bincount(teams)
    staffed = counts > 0
    between = 0.0
    for k in range(values.shape[1]):
        sums = np.bincount(teams, weights=values[:, k], minlength=counts.size)[staffed]
        between += float(np.sum(sums**2 / counts[staffed])) - values.shape[0] * grand[k] ** 2
    return float(np.clip(between / total, 0.0, 1.0))


def measure(model) -> dict[str, float]:
    """Return every KPI of ``model`` for the month just ended (the order of :data:`KPIS`)."""
    e, t, flows = model.employees, model.month, model.flows
    ids = e.ids
    n = ids.size
    log = model.flow_log  # this month's flows are already appended
    staff = [*model.history["headcount"], float(n)]
    if n:
        eng = e.engagement[ids]
        asked = model.streams["survey"].uniform(t, e.n)[ids] < SURVEY_SHARE
        answers = eng[asked] + SURVEY_NOISE * model.streams["survey"].normal(t, e.n, 1)[ids][asked]
        survey = float(np.mean(answers >= FAVOURABLE)) if answers.size else 0.0
        src_u = model.streams["efficiency"].uniform(t, efficiency_sources(n))
        sources = ids[np.unique((src_u * n).astype(np.int64))]
        values = e.values[ids]
        row = {
            "engagement": float(eng.mean()),
            "survey_satisfaction": survey,
            "mean_tenure_months": float(e.tenure[ids].mean()),
            "mean_skill": float(e.skill[ids].mean()),
            "culture_alignment": float(alignment(values, model.core).mean()),
            "culture_fragmentation": between_team_share(values, e.team[ids]),
            "trust_in_leadership": float(e.trust[ids].mean()),
            "communication_efficiency": model.org.efficiency(e.alive, sources),
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
        revenue=model.revenue,
        costs=model.costs,
        cash=model.cash,
        runway_months=model.runway,
    )
    return {name: row[name] for name in KPIS}
