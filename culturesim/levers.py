"""The policy levers leadership can pull: one declaration read by the schema, CLI, UI and docs.

Each lever has a name, a unit, an allowed range, a default, a group, a one-line help text and a cost
model. A cost is either *cash* (it is paid every month and enters ``costs``) or *opportunity* (work
time diverted from delivery; shown beside the lever but not paid out of cash).

Sources for the calibrated defaults and cost figures are given in ``docs/ODD.md`` (section
"Input data"); figures marked *guess* there are assumptions, not measurements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from culturesim.scenario import Scenario

__all__ = ["LEVERS", "LEVER_DEFAULTS", "CostContext", "Lever", "starting_context"]


@dataclass(frozen=True)
class CostContext:
    """What a lever's cost depends on, for one month.

    Attributes:
        headcount: Employees on the payroll this month.
        market_payroll: Monthly payroll at the market median (before any premium), in $.
        hires: Hires made this month.
    """

    headcount: float
    market_payroll: float
    hires: float = 0.0


@dataclass(frozen=True)
class Lever:
    """A policy lever.

    Attributes:
        name: Key in the scenario's ``[levers]`` table.
        label: Short human label.
        unit: Unit of the value, in words.
        lo: Smallest allowed value.
        hi: Largest allowed value.
        default: Value in the baseline.
        step: A sensible slider step.
        group: Family the lever belongs to (for grouping in the UI and docs).
        help: One line saying what the lever does.
        cost_kind: ``"cash"`` if the cost is paid, ``"opportunity"`` if it is time diverted.
        cost: Monthly cost in $ as a function of the value and a :class:`CostContext`.
    """

    name: str
    label: str
    unit: str
    lo: float
    hi: float
    default: float
    step: float
    group: str
    help: str
    cost_kind: Literal["cash", "opportunity"]
    cost: Callable[[float, CostContext], float]

    def monthly_cost(self, value: float, ctx: CostContext) -> float:
        """Return the lever's cost in $ per month at ``value`` in context ``ctx``."""
        return float(self.cost(value, ctx))

    def cost_text(self, value: float, ctx: CostContext) -> str:
        """The lever's monthly cost at ``value`` in words, e.g. ``$13k/month cash for 120 staff``.

        A cost that grows with the company (with its staff, payroll or hires) says the staff
        it is for, as a company that grows 30% a year pays 3.7 times as much by year five; a
        fixed one does not (``$50k/month cash``). An opportunity cost is ``of work time ...
        (not paid out)``, a negative one ``(a saving)``.
        """
        cost = self.monthly_cost(value, ctx)
        twice = CostContext(2 * ctx.headcount, 2 * ctx.market_payroll, 2 * ctx.hires)
        grows = self.monthly_cost(value, twice) != cost
        size, sign = abs(cost), "−" if cost < 0 else ""
        if size >= 1e6:
            amount = f"{sign}${size / 1e6:,.2f}M"
        else:
            amount = f"{sign}${size / 1e3:,.0f}k" if size >= 1e3 else f"{sign}${size:,.0f}"
        kind = "cash" if self.cost_kind == "cash" else "of work time"
        staff = f" for {ctx.headcount:,.0f} staff" if grows else ""
        aside = " (not paid out)" if self.cost_kind != "cash" else " (a saving)" if cost < 0 else ""
        return f"{amount}/month {kind}{staff}{aside}"


# Cost-per-hire baseline: SHRM 2022 benchmarking, average cost per hire $4,700 (see docs/ODD.md).
COST_PER_HIRE = 4_700.0

_LEVER_LIST = [
    Lever(
        "innovation_time",
        "Innovation time",
        "share of work time",
        0.0,
        0.5,
        0.1,
        0.01,
        "innovation",
        "Share of work time for self-directed exploration (the 20% rule is 0.2); it comes out of "
        "delivery time, so the workload rises with it.",
        "opportunity",
        lambda v, c: v * c.market_payroll,
    ),
    Lever(
        "training_budget",
        "Training budget",
        "$ per employee per year",
        0.0,
        10_000.0,
        1_300.0,
        100.0,
        "talent",
        "Money spent on courses, conferences and coaching per employee per year.",
        "cash",
        lambda v, c: v * c.headcount / 12.0,
    ),
    Lever(
        "transparency",
        "Transparency",
        "0-1 index",
        0.0,
        1.0,
        0.5,
        0.05,
        "trust",
        "How openly leadership shares plans, numbers and mistakes (all-hands, open docs).",
        "cash",
        lambda v, c: 40.0 * v * c.headcount,
    ),
    Lever(
        "compensation_premium",
        "Pay premium",
        "share above market median",
        -0.2,
        0.5,
        0.0,
        0.01,
        "talent",
        "Pay relative to the market median (0.1 = 10% above the median).",
        "cash",
        lambda v, c: v * c.market_payroll,
    ),
    Lever(
        "hiring_selectivity",
        "Hiring selectivity",
        "0-1 index",
        0.0,
        1.0,
        0.5,
        0.05,
        "talent",
        "How hard hiring screens for skill and fit: better hires, slower to fill. Its cost is "
        "the screening, per hire; the better hires' pay (pay rises with skill) comes on top, in "
        "payroll.",
        "cash",
        lambda v, c: COST_PER_HIRE * (1.0 + 2.0 * v) * c.hires,
    ),
    Lever(
        "internal_mobility",
        "Internal mobility",
        "0-1 index",
        0.0,
        1.0,
        0.3,
        0.05,
        "talent",
        "How easily people move to new teams and roles: the model counts the growth people see "
        "in it (engagement, so fewer quits), and moves no one between teams.",
        "cash",
        lambda v, c: 25.0 * v * c.headcount,
    ),
    Lever(
        "inclusion",
        "Inclusion",
        "0-1 index",
        0.0,
        1.0,
        0.5,
        0.05,
        "culture",
        "How much different views are heard: widens whom people learn from, eases misfit.",
        "cash",
        lambda v, c: 30.0 * v * c.headcount,
    ),
    Lever(
        "brand_spend",
        "Brand spend",
        "$ per month",
        0.0,
        2_000_000.0,
        50_000.0,
        10_000.0,
        "brand",
        "Marketing and employer-branding spend per month.",
        "cash",
        lambda v, c: v,
    ),
    Lever(
        "feedback_responsiveness",
        "Feedback responsiveness",
        "0-1 index",
        0.0,
        1.0,
        0.5,
        0.05,
        "trust",
        "How fast user feedback is answered and acted on.",
        "cash",
        lambda v, c: 0.02 * v * c.market_payroll,
    ),
    Lever(
        "partnership_openness",
        "Partnership openness",
        "0-1 index",
        0.0,
        1.0,
        0.3,
        0.05,
        "brand",
        "Openness to universities, open source, investors and channel partners.",
        "cash",
        lambda v, c: 30_000.0 * v,
    ),
]

#: Every lever by name, in display order.
LEVERS: dict[str, Lever] = {lever.name: lever for lever in _LEVER_LIST}
#: Each lever's default: the policies the company's past ran under (its founding months).
#: Read-only: the replays read it, and a run's own levers are ``model.levers``.
LEVER_DEFAULTS: Mapping[str, float] = MappingProxyType(
    {name: lever.default for name, lever in LEVERS.items()}
)


def starting_context(scenario: Scenario) -> CostContext:
    """The cost context of a scenario's starting company (what the UI's and CLI's costs read).

    Its staff at average skill, hiring for its planned growth and the usual attrition (13% a
    year).
    """
    org = scenario.organization
    payroll = org.employees * org.salary_per_year / 12.0  # skill 0.5 on average: factor 1.0
    hires = org.employees * (max(org.growth_per_year, 0.0) + 0.13) / 12.0  # growth + attrition
    return CostContext(headcount=org.employees, market_payroll=payroll, hires=hires)
