"""ECharts options for the UI's charts, built as plain dicts (hover shows the values).

A band is drawn the ECharts way: an invisible lower line and the width stacked on it as a
filled area (see :func:`band_option`); hovering shows the centre line, the lower edge and the
width.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from culturesim.kpis import (
    KPIS,
    chart_label,
    counted,
    display_scale,
    month_tick_step,
    value_limits,
)
from culturesim.measure import FIT_NORM

__all__ = [
    "band_option", "diff_option", "event_marks", "kpi_marks", "month_axis", "network_option",
    "value_axis",
]  # fmt: skip

EVENT_COLOR = "#777777"


def _round(values, scale: float) -> list[float | None]:
    out = []
    for v in np.asarray(values, dtype=float) / scale:
        out.append(None if not np.isfinite(v) else float(f"{v:.4g}"))
    return out


def value_axis(axis: dict, kpi: str, *series) -> dict:
    """Span an ECharts value ``axis`` as :func:`~culturesim.kpis.value_limits` says.

    ECharts fits a ``scale`` axis to the values, so that a change of a thousandth filled the
    chart; ``series`` (arrays of values, in the KPI's units) decide. The KPI's mark (see
    :func:`kpi_marks`) is kept in view: a mark line does not stretch the axis by itself.
    Returns ``axis``.
    """
    values = np.concatenate([np.asarray(v, dtype=float).ravel() for v in series] or [[]])
    values = values[np.isfinite(values)]
    if not values.size:
        return axis
    scale, mark = display_scale(kpi)[0], KPIS[kpi].mark
    if counted(kpi):  # whole things: whole ticks
        axis["minInterval"] = 1
    if limits := value_limits(kpi, values.min(), values.max()):
        axis |= {"min": limits[0] / scale, "max": limits[1] / scale}
    elif mark is not None and values.max() < mark[0]:  # below it: the axis reaches up to it
        axis["max"] = mark[0] / scale
    elif mark is not None and values.min() > mark[0]:
        axis["min"] = mark[0] / scale
    return axis


def kpi_marks(kpi: str, events=(), zero_line: bool = False) -> dict:
    """A chart's ``markLine``: its events, and a line at zero or at the KPI's ``mark``.

    Args:
        kpi: The KPI.
        events: Scenario events, drawn as dashed vertical markers (:func:`event_marks`).
        zero_line: A line at zero (for differences) instead of the KPI's mark (a level worth
            a line, e.g. workload 1: overload).
    """
    marks = event_marks(events)
    if zero_line:
        marks["data"] = [{"yAxis": 0, "name": ""}, *marks["data"]]
    elif KPIS[kpi].mark is not None:
        level, label = KPIS[kpi].mark
        marks["data"] = [{"yAxis": level / display_scale(kpi)[0], "name": label}, *marks["data"]]
    return marks


def event_marks(events) -> dict:
    """An ECharts ``markLine`` with a dashed vertical line at each event's month."""
    return {
        "silent": True,
        "symbol": "none",
        "lineStyle": {"color": EVENT_COLOR, "type": "dashed"},
        "label": {"formatter": "{b}", "position": "insideEndTop", "fontSize": 10},
        "data": [{"name": ev.kind.replace("_", " "), "xAxis": ev.month} for ev in events],
    }


def month_axis(months: list[int], font_size: int | None = None) -> dict:
    """An ECharts category axis over ``months`` (0, 1, 2, ...), labelled every year.

    The step is :func:`~culturesim.kpis.month_tick_step`'s (0, 12, ..., 60, not ECharts' own
    0, 7, ..., 56); the axis is named "month" under its middle (at its end, ECharts' default,
    the name fell off the chart). ``font_size`` sets the labels' and the name's size.
    """
    skip = month_tick_step(months[-1] if months else 0) - 1  # labels skipped between two shown
    axis = {
        "type": "category",
        "data": months,
        "boundaryGap": False,
        "axisLabel": {"interval": skip, "margin": 10},
        "axisTick": {"interval": skip, "alignWithLabel": True},
        "name": "month",
        "nameLocation": "middle",
        "nameGap": 24,
    }
    if font_size:
        axis["axisLabel"] |= {"fontSize": font_size, "margin": 4 + font_size // 2}
        axis |= {"nameTextStyle": {"fontSize": font_size}, "nameGap": 18 + font_size}
    return axis


def _base(title: str, unit: str, months: list[int]) -> dict:
    return {
        "title": {"text": title, "subtext": unit, "left": 8, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 56, "right": 16, "top": 56, "bottom": 44},
        "xAxis": month_axis(months),
        "yAxis": {"type": "value", "scale": True},
        "animation": False,
        "series": [],
    }


def band_option(
    kpi: str,
    band: pd.DataFrame,
    events=(),
    *,
    title: str | None = None,
    names: tuple[str, str, str] = ("p10", "p90 − p10", "median"),
    color: str = "#1f77b4",
    zero_line: bool = False,
) -> dict:
    """One KPI by month: a centre line and the band around it, with event markers.

    The band is an invisible base line (``lo``) with the width ``hi - lo`` stacked on it as a
    filled area; ``stackStrategy: "all"`` stacks it on its base even where values are negative
    (ECharts' default stacks negative and positive values apart).

    Args:
        kpi: KPI name.
        band: ``lo``, ``median`` and ``hi`` by month.
        events: Scenario events, drawn as dashed vertical markers.
        title: Chart title (default: the KPI's :func:`~culturesim.kpis.chart_label`).
        names: Names of the base, the width and the centre line in the tooltip.
        color: Colour of the band and the centre line.
        zero_line: Also draw a horizontal line at zero (for differences; else the KPI's
            ``mark``, if it has one, is drawn).
    """
    scale, unit = display_scale(kpi)
    option = _base(title or chart_label(kpi), unit, [int(m) for m in band.index])
    stacked = {"type": "line", "stack": "band", "stackStrategy": "all", "symbol": "none",
               "lineStyle": {"opacity": 0}}  # fmt: skip
    marks = kpi_marks(kpi, events, zero_line)
    if not zero_line:  # a difference's axis is about zero: fitted to the values
        value_axis(option["yAxis"], kpi, band["lo"], band["hi"])
    option["series"] = [
        {**stacked, "name": names[0], "data": _round(band["lo"], scale)},
        {**stacked, "name": names[1], "data": _round(band["hi"] - band["lo"], scale),
         "areaStyle": {"color": color, "opacity": 0.22}},
        {"name": names[2], "type": "line", "data": _round(band["median"], scale),
         "symbol": "none", "lineStyle": {"color": color, "width": 2},
         "itemStyle": {"color": color}, "markLine": marks},
    ]  # fmt: skip
    return option


def diff_option(kpi: str, diff: pd.DataFrame, events=()) -> dict:
    """B - A of one KPI by month: the mean paired difference (``mean``) and its 95% CI band."""
    return band_option(
        kpi,
        diff.rename(columns={"mean": "median"}),
        events,
        title=f"B − A: {chart_label(kpi)}",
        names=("CI low", "CI width", "mean B − A"),
        color="#2ca02c",
        zero_line=True,
    )


#: The network's colours, low to high: ColorBrewer's RdYlBu in 11 steps (Harrower &
#: Brewer 2003), which those with red-green colour blindness read too. RdYlGn, used before, they
#: do not: to a deuteranope (Machado, Oliveira & Fernandes 2009) its two ends differ by a colour
#: difference of 18 (CIELAB), RdYlBu's by 90; about one boy in twelve has such a vision.
NETWORK_COLORS = (
    "#a50026", "#d62f27", "#f46d43", "#fdad60", "#fee090", "#feffc0",
    "#e0f3f8", "#aad8e9", "#74add1", "#4574b3", "#313695",
)  # fmt: skip


#: The values the network's colours span, low to high, by what colours it; past an end, a
#: node takes that end's colour. Engagement spans 0 to 1. Alignment lives between about 0.6 (an
#: acquired team's) and 0.95: on 0 to 1 every node was a shade of blue, and a class told to
#: watch the network "turn from red to blue" saw pale blue turn darker. Its scale is centred
#: on the fit the engagement and quit equations are centred on (measure.FIT_NORM, 0.85:
#: yellow), so red is a misfit that costs engagement and blue a fit that adds to it.
NETWORK_SCALES = {"engagement": (0.0, 1.0), "alignment": (FIT_NORM - 0.1, FIT_NORM + 0.1)}

#: Scale of the network's layout in the chart. ECharts fits the layout to the chart whatever its
#: scale, but snaps the ends of a near-horizontal or near-vertical tie of width 1 or less to half
#: units of the layout before scaling it to pixels: at the snapshot's own scale (a team is 0.2
#: wide), such ties were drawn up to 80 px away from the people they join, in a grid of lines.
NETWORK_SCALE = 1000.0


def network_option(snapshot: dict, color_by: str, title: str = "") -> dict:
    """The org network at one month: nodes by site and team, coloured, sized by skill.

    The colours come from the browser, by a scale drawn beside the network (ECharts'
    ``visualMap`` over each node's value, spanning :data:`NETWORK_SCALES`), so the picture says
    which colour is low and which high, and the server sends a number a node rather than its
    colour.
    """
    values = np.clip(snapshot[color_by], 0, 1)
    low, high = NETWORK_SCALES[color_by]
    nodes = [
        {
            "name": f"employee {int(s)} · site {int(site)} · team {int(t)}",
            "x": float(x) * NETWORK_SCALE,
            "y": float(-y) * NETWORK_SCALE,
            "value": round(float(v), 3),
            "symbolSize": float(4 + 12 * k),
        }
        for s, site, t, x, y, v, k in zip(
            snapshot["slot"], snapshot["site"], snapshot["team"], snapshot["x"],
            snapshot["y"], values, snapshot["skill"], strict=True,
        )
    ]  # fmt: skip
    links = [{"source": int(a), "target": int(b)} for a, b in snapshot["edges"]]
    return {
        "title": {"text": title, "left": 8, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "item"},
        "animation": False,
        "visualMap": {
            "type": "continuous",
            "min": low,
            "max": high,
            "seriesIndex": 0,
            "calculable": False,
            "inRange": {"color": list(NETWORK_COLORS)},
            "text": [  # drawn right and left of the bar; a value past an end takes its colour
                f"{color_by} high: {high:g}" + " or more" * (high < 1),
                f"low: {low:g}" + " or less" * (low > 0),
            ],
            "orient": "horizontal",
            "left": 8,
            "bottom": 4,
            "itemWidth": 12,
            "itemHeight": 120,
            "textStyle": {"fontSize": 12},
        },
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "roam": True,
                "data": nodes,
                "links": links,
                "itemStyle": {"borderColor": "#666666", "borderWidth": 0.5},  # pale ones too
                "lineStyle": {"color": "#bbbbbb", "opacity": 0.35, "width": 0.5},
                "emphasis": {"focus": "adjacency"},
            }
        ],
    }
