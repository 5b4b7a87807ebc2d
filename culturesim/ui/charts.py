"""ECharts options for the UI's charts, built as plain dicts (hover shows the values).

A band is drawn the ECharts way: an invisible 10th-percentile line, and the 90th-minus-10th
width stacked on it as a filled area (``stackStrategy: "all"``, so a band below zero stacks on
its own base rather than on zero); the median and both percentiles show in the tooltip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from culturesim.kpis import KPIS

__all__ = ["band_option", "diff_option", "event_marks", "network_option", "scale_of"]

EVENT_COLOR = "#777777"


def scale_of(kpi: str) -> tuple[float, str]:
    """Divisor and unit label for showing ``kpi`` (dollars in millions)."""
    unit = KPIS[kpi].unit
    if unit.startswith("$"):
        return 1e6, unit.replace("$", "M$", 1)
    return 1.0, unit


def _round(values, scale: float) -> list[float | None]:
    out = []
    for v in np.asarray(values, dtype=float) / scale:
        out.append(None if not np.isfinite(v) else float(f"{v:.4g}"))
    return out


def event_marks(events) -> dict:
    """An ECharts ``markLine`` with a dashed vertical line at each event's month."""
    return {
        "silent": True,
        "symbol": "none",
        "lineStyle": {"color": EVENT_COLOR, "type": "dashed"},
        "label": {"formatter": "{b}", "position": "insideEndTop", "fontSize": 10},
        "data": [{"name": ev.kind.replace("_", " "), "xAxis": ev.month} for ev in events],
    }


def _base(title: str, unit: str, months: list[int]) -> dict:
    return {
        "title": {"text": title, "subtext": unit, "left": 8, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 56, "right": 16, "top": 56, "bottom": 28},
        "xAxis": {"type": "category", "data": months, "name": "month", "boundaryGap": False},
        "yAxis": {"type": "value", "scale": True},
        "animation": False,
        "series": [],
    }


def _band(lo, hi, scale: float, lo_name: str, width_name: str, color: str, stack: str):
    """Two series drawing the area between ``lo`` and ``hi``: an invisible base and the width.

    ``stackStrategy: "all"`` stacks the width on the base even where values are negative
    (ECharts' default stacks negative and positive values apart).
    """
    common = {"type": "line", "stack": stack, "stackStrategy": "all", "symbol": "none",
              "lineStyle": {"opacity": 0}}  # fmt: skip
    return [
        {**common, "name": lo_name, "data": _round(lo, scale)},
        {**common, "name": width_name, "data": _round(np.asarray(hi) - np.asarray(lo), scale),
         "areaStyle": {"color": color, "opacity": 0.22}},
    ]  # fmt: skip


def band_option(kpi: str, bands: dict[str, pd.DataFrame], events=(), colors=None) -> dict:
    """One KPI: median line and 10-90% band for each labelled ensemble (e.g. "A", "B").

    Args:
        kpi: KPI name.
        bands: Band frames (``lo``, ``median``, ``hi`` by month) by label.
        events: Scenario events, drawn as dashed vertical markers.
        colors: Colour per label.
    """
    meta = KPIS[kpi]
    scale, unit = scale_of(kpi)
    colors = colors or {}
    first = next(iter(bands.values()))
    option = _base(meta.label, unit, [int(m) for m in first.index])
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c"]
    for i, (label, b) in enumerate(bands.items()):
        color = colors.get(label, palette[i % len(palette)])
        name = f"{label} " if len(bands) > 1 else ""
        option["series"] += [
            *_band(b["lo"], b["hi"], scale, f"{name}p10", f"{name}p90 − p10", color, f"band{i}"),
            {"name": f"{name}median", "type": "line", "data": _round(b["median"], scale),
             "symbol": "none", "lineStyle": {"color": color, "width": 2},
             "itemStyle": {"color": color}},
        ]  # fmt: skip
    if events:
        option["series"][-1]["markLine"] = event_marks(events)
    return option


def diff_option(kpi: str, diff: pd.DataFrame, events=()) -> dict:
    """B - A of one KPI by month: the mean paired difference and its 95% CI band."""
    meta = KPIS[kpi]
    scale, unit = scale_of(kpi)
    option = _base(f"B − A: {meta.label}", unit, [int(m) for m in diff.index])
    option["series"] = [
        *_band(diff["lo"], diff["hi"], scale, "CI low", "CI width", "#2ca02c", "ci"),
        {"name": "mean B − A", "type": "line", "data": _round(diff["mean"], scale),
         "symbol": "none", "lineStyle": {"color": "#2ca02c", "width": 2},
         "itemStyle": {"color": "#2ca02c"},
         "markLine": {**event_marks(events),
                      "data": [{"yAxis": 0, "name": ""}, *event_marks(events)["data"]]}},
    ]  # fmt: skip
    return option


def _hex(rgba) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(255 * c) for c in rgba[:3]))


def network_option(snapshot: dict, color_by: str, title: str = "") -> dict:
    """The org network at one month: nodes by site and team, coloured (0-1), sized by skill."""
    from matplotlib import colormaps

    cmap = colormaps["RdYlGn"]
    values = np.clip(snapshot[color_by], 0, 1)
    nodes = [
        {
            "name": f"employee {int(s)} · site {int(site)} · team {int(t)}",
            "x": float(x),
            "y": float(-y),
            "value": round(float(v), 3),
            "symbolSize": float(4 + 12 * k),
            "itemStyle": {"color": _hex(cmap(float(v)))},
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
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "roam": True,
                "data": nodes,
                "links": links,
                "lineStyle": {"color": "#bbbbbb", "opacity": 0.35, "width": 0.5},
                "emphasis": {"focus": "adjacency"},
            }
        ],
    }
