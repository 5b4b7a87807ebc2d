"""Outcome measures (KPIs): one declaration read by the model, the CLI, plots, UI and docs.

A KPI knows its unit, its allowed range and how it aggregates over time, so a monthly series rolls
up to years without special cases: a *stock* is averaged, a *flow* is summed, a *rate* is already
per year (or a share) and is averaged. How each is measured in a model is
:mod:`culturesim.measure`; this module is declarations and how they are shown, so reading it
(the CLI's help, a plot) loads no model code.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COMPARE_CHARTS",
    "FAMILIES",
    "KPI",
    "KPIS",
    "REPORT_MONTHS",
    "SUMMARY_KPIS",
    "WORKLOAD_CAP",
    "chart_label",
    "check_names",
    "counted",
    "display_scale",
    "final_values",
    "format_kpi",
    "format_kpis",
    "format_number",
    "format_numbers",
    "in_dollars",
    "month_tick_step",
    "report_months",
    "shown",
    "shown_as_total",
    "value_limits",
]

INF = math.inf

#: The most the workload reads: the roadmap needs a hundred times what the staff can deliver. A
#: month with no one left to deliver reads it (need over no capacity); runs with staff stay far
#: below (two 90% layoffs in a row, one person left with twelve people's roadmap: 9-11).
WORKLOAD_CAP = 100.0


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

    @property
    def money(self) -> bool:
        """Whether it is in dollars (cash, revenue, costs, ...)."""
        return self.unit.startswith("$")


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
        "Voluntary quits over the trailing 12 months / mean headcount. In the first year the "
        "window reaches back before month 0, where the founders quit at the chances month 0 "
        "gives them under the levers' defaults (expected, not drawn).",
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
        WORKLOAD_CAP,
        "stock",
        "innovation",
        "Roadmap work needed / delivery capacity (work time not spent exploring, by skill and "
        "engagement); above 1 the team is overloaded, which costs engagement. At most 100 (no "
        "one left to deliver).",
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
        "Global efficiency of the informal network (mean inverse path length, sampled). It "
        "falls as the company grows (paths lengthen): the baseline reads 0.41 at 120 people "
        "and 0.35 at 420.",
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
        "Share of the month's first active users who left during it (a prospect who adopts and "
        "leaves within the month is not counted). Month 0 reads the churn expected of the "
        "active users at the market's opening levels (their chances, not drawn).",
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
    KPI(
        "net_cash_flow",
        "Net cash flow",
        "$ per month",
        -INF,
        INF,
        "flow",
        "finance",
        "Revenue less costs this month, before funding: cash changes by it (from month 1; "
        "month 0 reads the opening rates), and jumps by a round when one lands (Funding "
        "raised).",
    ),
    KPI(
        "funding_raised",
        "Funding raised",
        "$",
        0,
        INF,
        "stock",
        "finance",
        "Cash raised since month 0: investors' rounds (when runway is short; the faster users "
        "or revenue grow, the larger) and funding_round events. Cash jumps by it when a round "
        "lands.",
    ),
    KPI(
        "cash",
        "Cash",
        "$",
        -INF,
        INF,
        "stock",
        "finance",
        "Cash at the end of the month (below zero: the shortfall, as if borrowed). It jumps "
        "when a funding round lands: an investor's, or a funding_round event (Funding raised).",
    ),
    KPI(
        "runway_months",
        "Runway",
        "months",
        0,
        120,
        "stock",
        "finance",
        "Cash / monthly net burn, capped at 120 (no burn = 120; cash below zero = 0).",
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
    return meta.aggregate == "flow" and not meta.money


def counted(name: str) -> bool:
    """Whether KPI ``name`` is shown as whole things: people, users, partners, totals so far.

    Their charts tick whole numbers only (a flat 6 partners read 5.85, 5.9, ... 6.15).
    """
    return KPIS[name].unit in ("users", "employees", "partners") or shown_as_total(name)


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


def final_values(ts: pd.DataFrame, names: list[str], by: str = "run_id") -> pd.DataFrame:
    """Each run's KPIs ``names`` at its final month, one row per ``by`` (``run_id``, ``seed``).

    Stocks and rates are read at the final month; flows (ideas, launches, hires, costs, ...)
    are summed over months 1 to it, since one month of a flow says little. Month 0 is the start,
    when no month has run: it records the money flows' opening rates (a month of costs never
    booked into cash), so it is not summed. A sweep's outputs and a comparison's summary are
    read so.
    """
    last = ts[ts["month"] == ts["month"].max()].set_index(by)[names].copy()
    flows = [k for k in names if k in KPIS and KPIS[k].aggregate == "flow"]
    if flows:
        last[flows] = ts[ts["month"] > 0].groupby(by)[flows].sum()
    return last


def did_you_mean(name: str, choices) -> str:
    """`` (did you mean X?)`` for the choice nearest a mistyped ``name``; ``""`` if none is."""
    close = difflib.get_close_matches(str(name), list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def check_names(names) -> None:
    """Check a list of KPI names: at least one, each a KPI, none twice.

    Raises:
        ValueError: Naming the first problem (and, for an unknown name, the allowed ones).
    """
    names = list(names)
    unknown = [name for name in names if name not in KPIS]
    if unknown:
        raise ValueError(
            f"unknown KPI {unknown[0]!r}{did_you_mean(unknown[0], KPIS)}; "
            f"allowed: {', '.join(KPIS)}"
        )
    if not names:
        raise ValueError(f"no KPI named; allowed: {', '.join(KPIS)}")
    twice = [name for i, name in enumerate(names) if name in names[:i]]
    if twice:
        raise ValueError(f"KPI {twice[0]!r} is named twice")


def chart_label(name: str) -> str:
    """A chart's title for KPI ``name``: its label, "(total so far)" added for a running total."""
    return KPIS[name].label + (" (total so far)" if shown_as_total(name) else "")


def in_dollars(name: str) -> bool:
    """Whether ``name`` is a KPI in dollars (a sweep's parameter column, say, is not)."""
    return name in KPIS and KPIS[name].money


def display_scale(name: str, total: bool = False) -> tuple[float, str]:
    """How KPI ``name`` is shown: dollars in millions, counted flows as totals, the rest as is.

    Args:
        name: The KPI.
        total: The value shown is a flow's total over a run (a sweep's final values), not a
            month's: money flows lose their "per month" too.

    Returns:
        The divisor and the unit to show ("M$ per month" for "$ per month", "M$" for its
        total, "launches" for "launches per month": see :func:`shown_as_total`).
    """
    unit = KPIS[name].unit
    if shown_as_total(name) or (total and KPIS[name].aggregate == "flow"):
        unit = unit.removesuffix(" per month")
    return (1e6, unit.replace("$", "M$", 1)) if KPIS[name].money else (1.0, unit)


#: The least a chart's value axis spans: this share of the largest value shown (see
#: :func:`value_limits`).
LEAST_SPAN = 0.05


def value_limits(name: str, low: float, high: float) -> tuple[float, float] | None:
    """The value axis of a chart of KPI ``name`` whose values lie in ``low`` .. ``high``.

    Plotting libraries fit the axis to the values, so that partners' trust going from 0.6876
    to 0.6882 in a year filled the chart from bottom to top: a steep climb to the eye. The axis
    spans at least :data:`LEAST_SPAN` of the largest value shown (a change that small reads as
    the near-flat line it is), centred on the values, kept in the KPI's range, and rounded out
    to round numbers. Values that vary more keep the fitted axis. A KPI's mark (workload's
    overload at 1) counts as a value shown: the axis reaches it.

    Args:
        name: The KPI.
        low: The least value shown, in the KPI's units (a chart in millions divides the
            limits by its scale).
        high: The largest value shown.

    Returns:
        ``(bottom, top)``, or None to let the chart fit its values.
    """
    kpi = KPIS[name]
    if kpi.mark is not None:
        low, high = min(low, kpi.mark[0]), max(high, kpi.mark[0])
    least = LEAST_SPAN * max(abs(low), abs(high))
    if not (math.isfinite(least) and least > 0.0) or high - low >= least:
        return None  # nothing but zeros, no values, or enough of a change to show
    bottom = max(kpi.lo, min((low + high - least) / 2.0, kpi.hi - least))
    # two or more round steps across the axis (a chart's look only: no run reads it)
    digits = -math.floor(math.log10(least / 2.0))  # noqa: TID251
    step = 10.0**-digits
    rounded = (math.floor(bottom / step) * step, math.ceil((bottom + least) / step) * step)
    return max(kpi.lo, round(rounded[0], digits)), min(kpi.hi, round(rounded[1], digits))


def month_tick_step(months: int) -> int:
    """Months between the labelled ticks of a chart over ``months`` months: years from two on.

    A 60-month chart is labelled 0, 12, ..., 60 (not 0, 10, ... or 0, 7, ..., 56, which is what
    the plotting libraries choose by themselves); eight years and more by two years, shorter
    ones by half or quarter years.
    """
    for step, at_least in ((24, 96), (12, 24), (6, 12), (3, 6)):
        if months >= at_least:
            return step
    return 1


def format_number(x: float, money: bool = False) -> str:
    """A KPI or lever value as a table shows it: three or four significant digits.

    Millions as "21.74M" (with commas from a billion: "2,500.00M"), thousands with commas
    ("66,914"), whole numbers bare (0, not "-0"), the rest with one decimal from 100 ("145.6"),
    two from 10 ("21.59"), three from 1 ("4.2", trailing zeros dropped) and three significant
    digits below ("0.622", "0.0103"). With ``money`` (dollars), millions from $100,000
    ("-0.965M"): a row of money reads in one unit ("-965,386" stood beside "-2.08M").
    :func:`format_numbers` writes a value with its interval, in one unit.
    """
    return format_numbers([x], money)[0]


#: The most decimals a table writes: a value nearer 0 than this shows as 0.
MAX_DECIMALS = 6


def format_numbers(values, money: bool = False) -> list[str]:
    """Numbers read together (a median and its 10-90% range, a difference and its interval).

    One unit and one number of decimals for all: the largest in size sets them as
    :func:`format_number` would for it alone, and each other number that is not 0 shows at
    least one significant digit. A difference of 0.0017 with its interval read "0.002 [0,
    0.003]", which hides whether it holds 0, and money "90,656 [70,832, 0.11M]"; they read
    "0.00172 [0.00029, 0.00314]" and "0.091M [0.071M, 0.110M]" now. A number rounded to those
    decimals keeps its trailing zeros ("46.10" beside "54.12", "336.0" beside "595.1": "46.1"
    read as a rougher figure than its neighbours); one they write exactly drops them (a count's
    "148 [145.3, 149.7]", "0.3" for 0.3), and so does every number past the largest's decimals
    (those a small bound adds: "0.500 [0.000001, 0.912]" for 0.4999999). Millions keep up to
    three decimals ("2.10M", "0.100M"). A negative that shows as 0 reads "0".

    Args:
        values: The numbers (NaN reads "nan").
        money: Whether they are dollars (millions from $100,000).

    Returns:
        Their texts, in order.
    """
    xs = [float(v) for v in values]
    sizes = [abs(x) for x in xs if math.isfinite(x) and x]
    size = max(sizes, default=0.0)
    if size >= 1e6 or (money and size >= 1e5):
        scale, suffix = 1e6, "M"
        decimals = max(2, 2 - _exponent(size / scale))
    else:
        scale, suffix = 1.0, ""
        if size >= 1:
            decimals = 0 if size >= 1000 else 1 if size >= 100 else 2 if size >= 10 else 3
        else:  # three significant digits (or 0)
            decimals = 2 - _exponent(size) if size else 0
    own = decimals  # the largest's
    decimals = min(MAX_DECIMALS, max(decimals, *(-_exponent(s / scale) for s in sizes), 0))
    own = min(own, decimals)
    keep = min(own, 3) if suffix else 0
    texts = [_fixed(x / scale, decimals, max(keep, min(own, _exact_decimals(x / scale))))
             for x in xs]  # fmt: skip
    return [t + suffix if t != "0" else t for t in texts]  # 0, not "0M"


def _exact_decimals(v: float) -> int:
    """The fewest decimals that write ``v`` exactly (to float rounding; at most 17)."""
    for places in range(17):
        if abs(v - round(v, places)) <= 1e-9 * abs(v):
            return places
    return 17


def _exponent(v: float) -> int:
    """The power of ten of ``v``'s first significant digit (0.0708 -> -2)."""
    return math.floor(math.log10(v))  # noqa: TID251 (display)


def _fixed(v: float, decimals: int, keep: int) -> str:
    """``v`` with ``decimals`` decimals and thousands' commas; zeros dropped past ``keep``.

    A number that rounds to 0 reads "0".
    """
    text = f"{v:,.{decimals}f}"
    if not text.strip("-0.,"):
        return "0"  # what rounds to 0 reads 0 (not "-0", nor "0.000000")
    if "." in text:
        whole, part = text.split(".")
        part = part.rstrip("0").ljust(keep, "0")
        text = f"{whole}.{part}" if part else whole
    return text


REPORT_MONTHS = (12, 36, 60)  # the months a summary shows (one, three and five years)
#: The KPIs a comparison's figure draws unless told (``culturesim compare --charts``).
COMPARE_CHARTS = (  # cash and net cash flow side by side: cash holds the rounds, which a
    # lever moves (the figure travels without the summary's note on them)
    "attrition_rate_annual",
    "user_trust",
    "users_active",
    "cash",
    "net_cash_flow",
)
#: The KPIs of a comparison's plain-language summary (the strategist page, ``culturesim compare``).
SUMMARY_KPIS = (
    "attrition_rate_annual",
    "engagement",
    "user_trust",
    "users_active",
    "culture_alignment",
    "launches",
    "costs",  # what the levers cost: cash also holds funding rounds, which land or not
    "net_cash_flow",  # what they cost net of the revenue they bring, before any round
    "funding_raised",  # the rounds, which a lever can bring forward or push past the horizon
    "cash",
    "runway_months",
)


def report_months(last: int, months: tuple[int, ...] = REPORT_MONTHS) -> list[int]:
    """The months a summary shows for a run of ``last`` months.

    ``months`` before ``last``, then ``last`` itself: a 60-month run shows 12, 36 and 60, a
    24-month run 12 and 24, a 120-month run 12, 36, 60 and 120.
    """
    return [m for m in months if m < last] + [int(last)]


def format_kpi(kpi: str, value: float, diff: bool = False) -> str:
    """``value`` of ``kpi`` for people: dollars, percent, counts, months or three digits.

    Dollars in millions from $1M, in thousands from $1,000 (so that a small difference does not
    read $0.0M). With ``diff`` it is a difference: signed, shares in percentage points, plain
    numbers to three decimals; a difference those decimals would show as 0 gets two significant
    digits. :func:`format_kpis` writes numbers read together (B and A, a value and its
    interval) in one unit.
    """
    return format_kpis(kpi, [value], diff)[0]


def format_kpis(kpi: str, values, diff: bool = False) -> list[str]:
    """Numbers of ``kpi`` read together, for people: one unit and one number of decimals.

    As :func:`format_kpi` writes each (dollars, percent, counts, months or three digits), but the
    largest in size sets the unit and the decimals for all, and each other number that is not 0
    shows at least one significant digit (dollars down to $1): B against A, or a difference and
    its interval, read "+0.00077 (95% CI +0.00001 to +0.0015)", not "+0.001 (95% CI +0.000014
    to +0.001)", and "$950k" beside "$1.1M" reads "$0.9M". Trailing zeros past a kind's own
    decimals are dropped ("+0.04 points"; totals so far read whole where they are: "308"), and
    what rounds to 0 reads 0 ("$0" beside "$1.1M").

    Args:
        kpi: The KPI.
        values: Its numbers.
        diff: Whether they are differences (signed; shares in percentage points).

    Returns:
        Their texts, in order.
    """
    xs = [float(v) for v in values]
    unit = KPIS[kpi].unit
    size = max((abs(x) for x in xs if math.isfinite(x)), default=0.0)
    scale, prefix, mark, suffix, least = 1.0, "", "", "", None  # least: the smallest step shown
    if shown_as_total(kpi):  # counts summed over time: a median of them may end in .5
        places, keep = 1, 0  # "308", not "308.0"
    elif KPIS[kpi].money:
        prefix, least = "$", 1.0  # no fractions of a dollar
        if size >= 999_950:  # shows as $1.0M and above
            scale, mark, places = 1e6, "M", 1
        elif size >= 999.5:
            scale, mark, places = 1e3, "k", 0 if size >= 9_995 else 1
        else:
            places = 0
        keep = places
    elif unit.startswith("share"):
        scale, places, keep = 0.01, 1, 1
        suffix = " points" if diff else "%"
    elif unit in ("users", "employees", "partners"):
        places = keep = 0
    elif unit == "months":
        places, keep, suffix = 1, 1, " months"
    elif diff:
        places = keep = 3
    else:  # three significant digits
        places = keep = max(0, 2 - _exponent(size)) if size else 0
    decimals = places
    if size and round(size / scale, places) == 0:  # the largest gets two significant digits
        decimals = 1 - _exponent(size / scale)
    for x in xs:  # the others at least one, as far as ``least`` goes
        v = abs(x) / scale
        small = least is not None and abs(x) < least / 2  # shows as 0 however written
        if math.isfinite(v) and v and not small and round(v, decimals) == 0:
            decimals = max(decimals, -_exponent(v))
    if least is not None:
        decimals = min(decimals, max(places, -_exponent(least / scale)))
    decimals = min(decimals, MAX_DECIMALS)
    out = []
    for x in xs:
        if not math.isfinite(x):
            out.append(str(x))
            continue
        text = _fixed(abs(x) / scale, decimals, keep)
        zero = text == "0"  # what rounds to 0 (_fixed writes it so)
        negative = x < 0 and (diff or not zero)  # a negative shown as 0 reads "0"
        sign = ("−" if negative else "+") if diff else ("−" if negative else "")
        out.append(f"{sign}{prefix}{text}{'' if zero else mark}{suffix}")  # "$0", not "$0M"
    return out
