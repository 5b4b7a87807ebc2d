"""Paired comparison of two scenarios with common random numbers.

Seed ``s`` runs both scenarios; because every decision draws from the same stream at the same
place, the difference B - A of a seed is far less noisy than the difference of two independent
runs. The confidence interval of the mean difference is a t interval over the paired
differences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from culturesim.kpis import (
    COMPARE_CHARTS,
    KPIS,
    SUMMARY_KPIS,
    chart_label,
    display_scale,
    final_values,
    format_kpi,
    format_kpis,
    report_months,
    shown,
)
from culturesim.progress import Progress
from culturesim.run import run_seeds
from culturesim.scenario import Scenario, seeds_from

__all__ = ["Comparison", "compare", "funding_note", "many_intervals", "mean_ci", "summary_lines"]

COLUMNS = 6  # KPIs a row of compare.png: more wrap onto further rows (34 were 143 inches wide)


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``x`` and its t confidence interval (lo, hi); NaN bounds for fewer than two.

    One value has no interval (it said mean to mean before: certainty from a single seed).
    """
    x = np.asarray(x, dtype=float)
    mean = float(x.mean())
    if x.size < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half


@dataclass
class Comparison:
    """Paired runs of two scenarios.

    Attributes:
        a: Time series of scenario A (``run_id``, ``seed``, ``month``, KPIs).
        b: Time series of scenario B, same seeds.
    """

    a: pd.DataFrame
    b: pd.DataFrame

    def difference_band(self, kpi: str) -> pd.DataFrame:
        """Mean paired difference B - A of ``kpi`` by month, with its 95% confidence interval.

        Of ``kpi`` as charts draw it (:func:`~culturesim.kpis.shown`): for counted flows, B's
        total so far minus A's.

        Returns:
            A frame indexed by month with columns ``mean``, ``lo`` and ``hi``.
        """

        def by_seed_month(ts: pd.DataFrame) -> pd.Series:
            return shown(ts, kpi).set_axis(pd.MultiIndex.from_frame(ts[["seed", "month"]]))

        diffs = by_seed_month(self.b) - by_seed_month(self.a)
        rows = {m: mean_ci(d.to_numpy()) for m, d in diffs.groupby(level="month")}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "lo", "hi"])
        return frame.rename_axis("month")

    def table(self, kpis=None) -> pd.DataFrame:
        """Each KPI at the :func:`report_months`: mean of A, of B, and B - A with its 95% CI.

        Of each KPI as shown (:func:`~culturesim.kpis.shown`): counted flows as totals so far.
        """
        kpis = list(kpis or KPIS)
        shown_a = {kpi: shown(self.a, kpi) for kpi in kpis}
        shown_b = {kpi: shown(self.b, kpi) for kpi in kpis}
        rows = []
        for m in report_months(int(self.a["month"].max())):
            in_a, in_b = self.a["month"] == m, self.b["month"] == m
            for kpi in kpis:
                xa = shown_a[kpi][in_a].set_axis(self.a.loc[in_a, "seed"])
                xb = shown_b[kpi][in_b].set_axis(self.b.loc[in_b, "seed"])
                diff, lo, hi = mean_ci((xb - xa).to_numpy())
                rows.append(
                    {"month": m, "kpi": kpi, "A": xa.mean(), "B": xb.mean(),
                     "diff": diff, "ci_lo": lo, "ci_hi": hi}
                )  # fmt: skip
        return pd.DataFrame(rows)

    def figure(
        self,
        kpis=COMPARE_CHARTS,
        names=("A", "B"),
    ):
        """Draw A and B (median, 10-90% band) and B - A (mean, 95% CI) for a few KPIs.

        Args:
            kpis: The KPIs, one column of two panels each, at most :data:`COLUMNS` to a row
                (more wrap onto further rows).
            names: What to call A and B in the legend (e.g. the scenarios' names).
        """
        import textwrap

        import matplotlib.pyplot as plt

        from culturesim.plots import band, fitted, fonts_for, literal, month_ticks, value_axis

        columns = min(len(kpis), COLUMNS)
        rows = -(-len(kpis) // columns)  # rows of KPIs, two panels high each
        fig, grid = plt.subplots(
            2 * rows,
            columns,
            figsize=(4.2 * columns, 6.3 * rows),
            sharex=True,
            squeeze=False,
            layout="constrained",
        )
        # axes[0, j] and axes[1, j]: KPI j's value and difference panels, wherever they wrap
        pair = [(2 * (j // columns), j % columns) for j in range(rows * columns)]
        axes = np.array([[grid[r + k, c] for r, c in pair] for k in (0, 1)], dtype=object)
        for ax in axes[:, len(kpis) :].flat:  # the last row's spare places
            ax.set_visible(False)
        families = fonts_for(" ".join(names))
        room = fig.get_figwidth() * 72 / 2 - 60  # points for each name, beside its line
        names = [fitted(name, room, plt.rcParams["legend.fontsize"], families) for name in names]
        for j, kpi in enumerate(kpis):
            scale, unit = display_scale(kpi)
            bands = [band(self.a, kpi), band(self.b, kpi)]
            for bd, name, color in zip(bands, names, ("C0", "C1"), strict=True):
                bd = bd / scale
                axes[0, j].fill_between(bd.index, bd["lo"], bd["hi"], color=color, alpha=0.2, lw=0)
                axes[0, j].plot(bd.index, bd["median"], color=color, label=literal(name))
            value_axis(axes[0, j], kpi, *bands)
            ci = self.difference_band(kpi) / scale
            axes[1, j].fill_between(ci.index, ci["lo"], ci["hi"], color="C2", alpha=0.3, lw=0)
            axes[1, j].plot(ci.index, ci["mean"], color="C2")
            axes[1, j].axhline(0, color="k", lw=0.8)
            axes[0, j].set_title(chart_label(kpi))
            axes[0, j].set_ylabel(unit, fontsize=8)
            axes[1, j].set_title(f"B - A ({chart_label(kpi)})", fontsize=9)
            axes[1, j].set_ylabel(unit, fontsize=8)
            axes[1, j].set_xlabel("month")
            month_ticks(axes[1, j], int(ci.index.max()))
            axes[1, j].tick_params(labelbottom=True)  # on every row (shared axes hid them)
        # what the bands are, under the panels: the PNG travels without the command's text
        seeds = self.a["seed"].nunique()
        caption = (
            f"Upper panels: median and 10-90% band over the {seeds} seeds. Lower panels: the "
            "mean difference B - A, seed by seed (paired: common random numbers), and its 95% "
            "confidence interval."
        )  # wrapped to the figure's width (8-point characters are about 4.8 points wide)
        width = int(fig.get_figwidth() * 72 / 4.8)
        fig.supxlabel(textwrap.fill(caption, width), fontsize=8, color="0.35")
        # one legend above the panels: inside the first it covered the early months' bands
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="outside upper center",
            ncols=2,
            frameon=False,
            prop={"family": families},
        )
        return fig


def compare(
    a: Scenario,
    b: Scenario,
    seeds: int = 20,
    months: int | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Run ``a`` and ``b`` with the same seeds (0..seeds-1 offset by A's ``meta.seed``).

    Both run ``months`` months, by default A's ``meta.months`` (B's horizon and seed are not
    used: the pairing needs the same seeds and months). ``progress`` (of ``2 * seeds`` runs),
    if given, is ticked as each run finishes.

    Raises:
        ValueError: If the seeds would pass the largest seed (:func:`seeds_from`).
    """
    seed_list = seeds_from(a.meta.seed, seeds)
    months = months or a.meta.months
    return Comparison(
        run_seeds(a, seed_list, months, progress=progress, name="A"),
        run_seeds(b, seed_list, months, progress=progress, name="B"),
    )


def many_intervals(count: int = len(SUMMARY_KPIS)) -> str:
    """What ``count`` 95% intervals read together say: one may miss by chance.

    Each interval covers its KPI's true difference 19 times in 20; read ``count`` at once, the
    chance that one misses grows (to 40% for ten independent ones).
    """
    return (
        f"Each 95% interval covers its own KPI's true difference 19 times in 20; of {count} "
        "read together, one may miss it by chance, so a single small difference is weak evidence."
    )


def _span(last: int) -> tuple[str, str]:
    """The run's length and its last month in words: ("5 years", "year 5"), ("30 months", ...)."""
    years = last // 12
    if last % 12 == 0:
        return f"{years} year{'s' * (years != 1)}", f"year {years}"
    return f"{last} month{'s' * (last != 1)}", f"month {last}"


def _paired(comparison: Comparison, kpi: str) -> tuple[pd.Series, pd.Series]:
    """A's and B's ``kpi`` by seed: a flow summed over months 1 to the last, else the last's."""
    return tuple(final_values(arm, [kpi], by="seed")[kpi] for arm in (comparison.a, comparison.b))


def summary_lines(comparison: Comparison, kpis=SUMMARY_KPIS) -> list[str]:
    """B against A at the last month, in plain words, one line per KPI.

    E.g. ``Launches over 2 years: B 10.5 vs A 19.0 — −8.5 (95% CI −9.8 to −7.2)``.

    Flows (launches, costs) are summed over the months simulated (1 to the last: month 0 is the
    start); stocks and rates are read at the last month. A difference whose 95% interval
    contains zero is called "no clear difference".
    """
    span, when = _span(int(comparison.a["month"].max()))
    lines = []
    for kpi in kpis:
        meta = KPIS[kpi]
        xa, xb = _paired(comparison, kpi)
        what = (
            f"{meta.label} over {span}" if meta.aggregate == "flow" else f"{meta.label} at {when}"
        )
        diff, lo, hi = mean_ci((xb - xa.reindex(xb.index)).to_numpy())
        if len(xb) < 2:
            verdict = f"{format_kpi(kpi, diff, diff=True)} (one replication: no interval)"
        elif lo <= 0 <= hi:
            verdict = "no clear difference"
        else:
            verdict = "{} (95% CI {} to {})".format(*format_kpis(kpi, (diff, lo, hi), diff=True))
        b, a = format_kpis(kpi, (xb.mean(), xa.mean()))  # in one unit, as the interval
        lines.append(f"{what}: B {b} vs A {a} — {verdict}")  # B first: each figure named
    return lines


def funding_note(comparison: Comparison) -> str | None:
    """What B's cash owes to funding rounds, where B and A raised clearly different sums.

    Cash at the last month is the opening cash, the net cash flow summed and the funding
    raised. Investors' rounds land when runway runs short, sized on the costs and revenue of
    the time: a lever that burns faster brings one forward, into the horizon or earlier and
    smaller (and one that saves pushes it back), so B can end with more cash than A for
    spending more, or with less by more than it spent. The note says how much the rounds
    differ and where B's cash would stand against A's before them. ``None`` where the
    funding's difference is not clear (or one seed gives no interval).
    """
    fa, fb = _paired(comparison, "funding_raised")
    funding, lo, hi = mean_ci((fb - fa.reindex(fb.index)).to_numpy())
    if not lo > 0 and not hi < 0:  # no clear difference (NaN: one seed)
        return None
    ca, cb = _paired(comparison, "cash")
    before = float(((cb - fb) - (ca - fa).reindex(cb.index)).mean())  # opening + net cash flow
    span, when = _span(int(comparison.a["month"].max()))
    return (
        f"Cash and runway at {when} count funding rounds, and B raised "
        f"{format_kpi('funding_raised', abs(funding))} {'more' if funding > 0 else 'less'} than "
        "A. Rounds land when runway runs short, sized on the costs and revenue of the time: "
        "what B spends or saves moves them (earlier or later, into or past the horizon, "
        f"smaller or larger). Before funding, B's cash ends {format_kpi('cash', abs(before))} "
        f"{'above' if before > 0 else 'below'} A's (opening cash and net cash flow over {span})."
    )
