"""Matplotlib figures shared by the CLI, notebooks and (later) the UI."""

from __future__ import annotations

import functools
import re
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.ticker import MaxNLocator, MultipleLocator, StrMethodFormatter

from culturesim.kpis import (
    KPIS,
    chart_label,
    counted,
    display_scale,
    month_tick_step,
    shown,
    value_limits,
)
from culturesim.notices import Notice

__all__ = [
    "DASHBOARD_KPIS", "FALLBACK_FONTS", "band", "dashboard", "fitted", "fonts_for", "literal",
    "month_ticks", "value_axis",
]  # fmt: skip

#: Font families tried in turn for the characters of a name that DejaVu Sans, matplotlib's own
#: font, lacks (a scenario named in Chinese, Japanese or Korean, say): those this machine has.
#: Linux's Noto and Source Han, Windows' and macOS's own CJK fonts, then wide-coverage ones.
FALLBACK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK KR", "Source Han Sans SC",
    "WenQuanYi Zen Hei", "Droid Sans Fallback", "Microsoft YaHei", "Yu Gothic", "Malgun Gothic",
    "PingFang SC", "Hiragino Sans", "Apple SD Gothic Neo", "Arial Unicode MS", "Noto Sans",
)  # fmt: skip

#: KPIs on the dashboard, in reading order: brand, talent, trust, culture, innovation, finance.
DASHBOARD_KPIS = (
    "users_active", "brand_awareness", "brand_reputation", "employer_brand",
    "headcount", "attrition_rate_annual", "engagement", "time_to_fill_months",
    "user_trust", "nps", "trust_in_leadership", "partner_trust",
    "culture_alignment", "culture_fragmentation", "mean_skill", "communication_efficiency",
    "ideas", "launches", "knowledge", "workload",
    "revenue", "costs", "cash", "runway_months",
)  # fmt: skip


def band(timeseries: pd.DataFrame, kpi: str, lo: float = 0.1, hi: float = 0.9) -> pd.DataFrame:
    """Median and quantile band over runs, by month, of ``kpi`` as shown (see :func:`shown`).

    Args:
        timeseries: Stacked runs with columns ``month``, ``kpi`` and ``run_id`` or ``seed``.
        kpi: Column to summarise.
        lo: Lower quantile.
        hi: Upper quantile.

    Returns:
        A frame indexed by month with columns ``lo``, ``median``, ``hi``.
    """
    g = shown(timeseries, kpi).groupby(timeseries["month"])
    return pd.DataFrame({"lo": g.quantile(lo), "median": g.median(), "hi": g.quantile(hi)})


@functools.cache
def _installed() -> frozenset[str]:
    """The font families matplotlib finds on this machine."""
    return frozenset(font.name for font in font_manager.fontManager.ttflist)


def literal(text: str) -> str:
    r"""``text`` (a name a user gave) as matplotlib draws it unchanged.

    Matplotlib reads what stands between two ``$`` as a formula: "Budget $5M vs $10M" lost its
    dollar signs to italics, and "cut $\frac{1$" stopped a run with a parse error. Escaped
    dollar signs are drawn as they are.
    """
    return text.replace("$", r"\$")


def fonts_for(text: str) -> list[str]:
    """The font families to draw ``text`` (a name a user gave) with, first choice first.

    DejaVu Sans, then each of :data:`FALLBACK_FONTS` this machine has: matplotlib takes each
    character from the first family that has it. Characters none has are drawn as boxes, and a
    :class:`~culturesim.notices.Notice` names them (the command line shows it in place of
    matplotlib's warning per character and drawing).

    Args:
        text: What will be drawn.

    Returns:
        Family names for ``fontfamily=`` or a ``prop={"family": ...}``.
    """
    families = ["DejaVu Sans", *(f for f in FALLBACK_FONTS if f in _installed())]
    shown_by = [
        font_manager.get_font(font_manager.findfont(font_manager.FontProperties(family=f)))
        for f in families
    ]
    missing = "".join(
        dict.fromkeys(
            ch
            for ch in text
            if ch.isprintable()
            and not ch.isspace()
            and not any(font.get_char_index(ord(ch)) for font in shown_by)
        )
    )
    if missing:
        warnings.warn(
            f"no font on this machine has {missing!r} (in {text!r}): figures show them as "
            "boxes (a font such as Noto Sans CJK adds them)",
            Notice,
            stacklevel=2,
        )
    return families


def fitted(text: str, width: float, size: float | str, families: list[str], lines: int = 2) -> str:
    """``text`` (a name a user gave) broken into lines ``width`` points wide, at most ``lines``.

    A figure does not wrap its text: a 300-character scenario name ran off both sides of the
    dashboard's title. Whitespace other than spaces (a newline in the name) becomes a space, the
    text breaks between words (within a word, or in a script without spaces, where it must),
    and what does not fit in ``lines`` lines ends the last in an ellipsis. Measured with
    matplotlib's own text layout, so wide characters (CJK) count as wide.

    Args:
        text: What will be drawn (raw: escape it with :func:`literal` after).
        width: The room, in points.
        size: The font size, in points or as a name ("medium").
        families: The font families it is drawn with (see :func:`fonts_for`).
        lines: The most lines it may take.

    Returns:
        ``text`` with newlines where its lines break.
    """
    from matplotlib.backends.backend_agg import RendererAgg

    renderer, prop = RendererAgg(1, 1, 72), font_manager.FontProperties(family=families, size=size)

    def fits(line: str) -> bool:
        return renderer.get_text_width_height_descent(line, prop, ismath=False)[0] <= width

    def longest(line: str, tail: str = "") -> int:
        """How many of ``line``'s first characters fit followed by ``tail`` (at least one)."""
        lo, hi = 1, len(line)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if fits(line[:mid].rstrip() + tail) else (lo, mid - 1)
        return lo

    rest, out = re.sub(r"\s*[^\S ]\s*", " ", text).strip(), []  # spaces kept as they are
    while rest and len(out) < lines:
        if fits(rest):
            out.append(rest)
            rest = ""
        elif len(out) == lines - 1:  # the last line: cut, and say so
            out.append(rest[: longest(rest, "…")].rstrip() + "…")
            rest = ""
        else:
            cut = longest(rest)
            space = rest.rfind(" ", 0, cut + 1)  # break between words where one fits
            cut = space if space > 0 else cut
            out.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
    return "\n".join(out)


def month_ticks(ax: plt.Axes, months: int) -> None:
    """Tick ``ax``'s month axis every year, as the web UI's charts are.

    0, 12, ..., 60 over 60 months; see :func:`~culturesim.kpis.month_tick_step`.
    """
    ax.xaxis.set_major_locator(MultipleLocator(month_tick_step(months)))


def value_axis(ax: plt.Axes, kpi: str, *bands: pd.DataFrame) -> None:
    """Span ``ax``'s value axis as :func:`~culturesim.kpis.value_limits` says for ``bands``.

    ``bands`` (see :func:`band`) are in the KPI's units; the axis is in the units shown
    (:func:`~culturesim.kpis.display_scale`).

    A small change is drawn as the near-flat line it is, not across the whole panel; and the
    axis is labelled in plain numbers (matplotlib's offset read "1e-5+5.683e-1" above a panel
    whose values hardly moved), counts in whole ones with their thousands grouped ("80,000").
    """
    values = np.concatenate([b[["lo", "hi"]].to_numpy(dtype=float).ravel() for b in bands])
    values = values[np.isfinite(values)]
    known = kpi in KPIS  # a report may draw other columns too: fitted as they are
    if known and values.size and (limits := value_limits(kpi, values.min(), values.max())):
        scale = display_scale(kpi)[0]
        ax.set_ylim(limits[0] / scale, limits[1] / scale)
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    if known and counted(kpi):  # whole things: whole ticks, thousands grouped ("80,000")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1, steps=[1, 2, 5, 10]))
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def dashboard(timeseries: pd.DataFrame, title: str = "", kpis=DASHBOARD_KPIS) -> plt.Figure:
    """Draw each KPI's median and 10-90% band over runs, one panel per KPI.

    Args:
        timeseries: Stacked runs with columns ``month`` and the KPIs.
        title: Figure title.
        kpis: KPIs to draw.

    Returns:
        The figure (save it with ``fig.savefig``).
    """
    cols = 4
    rows = int(np.ceil(len(kpis) / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols, 2.8 * rows), sharex=True, squeeze=False
    )  # always rows x cols, also for one row of KPIs
    n_runs = timeseries["run_id"].nunique() if "run_id" in timeseries else 1
    for ax, name in zip(axes.flat, kpis, strict=False):
        kpi = KPIS[name]
        b = band(timeseries, name)
        scale, unit = display_scale(name)
        ax.fill_between(b.index, b["lo"] / scale, b["hi"] / scale, alpha=0.25, color="C0", lw=0)
        ax.plot(b.index, b["median"] / scale, color="C0", lw=1.8)
        month_ticks(ax, int(b.index.max()))
        value_axis(ax, name, b)
        if kpi.mark is not None:  # a level worth a line (e.g. workload 1: overload)
            level, label = kpi.mark
            ax.axhline(level / scale, color="0.45", lw=0.9, ls="--")
            ax.annotate(
                label,
                (0.01, level / scale),
                xycoords=("axes fraction", "data"),
                xytext=(2, -9),
                textcoords="offset points",
                fontsize=7,
                color="0.35",
            )
        label = chart_label(name)
        ax.set_title(f"{label} ({unit})" if scale != 1.0 else label, fontsize=10)
        ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(kpis) :]:
        ax.set_visible(False)
    for col in range(cols):  # under each column's lowest panel (a short last row leaves gaps)
        lowest = axes[min(rows, -(-(len(kpis) - col) // cols)) - 1, col]
        lowest.xaxis.set_tick_params(labelbottom=True)
        lowest.set_xlabel("month", fontsize=9)
    what = f"median and 10–90% band over {n_runs} run{'s' * (n_runs != 1)}"
    families, room = fonts_for(title), fig.get_figwidth() * 72 - 40  # points, less a margin
    text = fitted(f"{title}  —  {what}", room, 12, families, lines=1)
    if text.endswith("…") and title:  # too long for one line: the name above, wrapped
        text = f"{fitted(title, room, 12, families)}\n{what}"
    heading = fig.suptitle(literal(text), fontsize=12, fontfamily=families)
    below = heading.get_window_extent(fig.canvas.get_renderer()).y0 / fig.bbox.height
    fig.tight_layout(rect=(0, 0, 1, below - 0.005))  # the panels start under the heading
    return fig
