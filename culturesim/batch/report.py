"""Reports of a sweep folder: figures and a Markdown summary that includes the manifest."""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from scipy import stats

from culturesim.batch.analyze import (
    KEYS,
    check_elsewhere,
    derived_record,
    final_values,
    interval_note,
    read_results,
    record_elsewhere,
    sensitivity_table,
    sensitivity_writers,
    short_names,
    too_few_points,
)
from culturesim.batch.experiment import changes_as_run
from culturesim.kpis import (
    KPIS,
    chart_label,
    display_scale,
    format_number,
    format_numbers,
    in_dollars,
)
from culturesim.manifest import made_folder, write_files
from culturesim.plots import band, month_ticks, value_axis

__all__ = ["write_report"]

MAX_BANDS = 8  # more design points than this are pooled into fewer bands (_series_groups)


PANELS_PER_ROW = 3


def _point_labels(
    runs: pd.DataFrame, params: list[str], names: dict[str, str] | None = None
) -> dict[int, str]:
    """A legend label per design point: its parameter values when there are one or two.

    ``names``: each parameter's short name (:func:`short_names` of them all, held ones too);
    by default, of ``params``.
    """
    values = runs.groupby("point")[params].first()
    if not 1 <= len(params) <= 2:
        return {p: f"point {p}" for p in values.index}
    # events.0.month, not month
    names = names or dict(zip(params, short_names(params), strict=True))
    shown = {name: _values(values[name].unique()) for name in params}
    return {
        p: ", ".join(f"{names[name]} = {shown[name][row[name]]}" for name in params)
        for p, row in values.iterrows()
    }


def _point_colors(runs: pd.DataFrame, params: list[str]) -> dict[int, tuple | str]:
    """A line colour per design point: along a colormap when one number varies, in its order.

    Points of a single numeric parameter (innovation time 0, 0.05, ... 0.5) read as a
    progression, dark to light; other designs get Matplotlib's distinct colours.
    """
    values = runs.groupby("point")[params].first()
    numeric = len(params) == 1 and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values[params[0]]
    )
    if not numeric or len(values) < 3:
        return {p: f"C{i % 10}" for i, p in enumerate(values.index)}
    rank = values[params[0]].rank(method="dense") - 1
    cmap = plt.get_cmap("viridis")
    return {p: cmap(0.9 * r / max(rank.max(), 1)) for p, r in rank.items()}  # no pale yellow


def _order(values: pd.Series, ranks: dict[str, dict] | None = None) -> tuple:
    """A design point's place in a legend or on an axis: by its parameters' values.

    Numbers before text; text in the experiment's order where ``ranks`` (see
    :func:`_text_ranks`) gives it, else alphabetical.
    """
    ranks = ranks or {}
    return tuple(
        (0, v, "")
        if isinstance(v, numbers.Real) and not isinstance(v, bool)
        else (1, ranks.get(k, {}).get(v, 0), str(v))
        for k, v in values.items()
    )


def _text_ranks(values: pd.DataFrame) -> dict[str, dict]:
    """Each text parameter's values in the experiment's order: that of their first design point.

    ``values``: the design points' parameters, indexed by point (a grid's points run through
    each list in the order the experiment gives it).
    """
    values = values.sort_index()
    return {
        k: {v: i for i, v in enumerate(pd.unique(values[k]))}
        for k in values.columns
        if values[k].dtype.kind not in "iufb"
    }


def _value(v) -> str:
    """A parameter value for a label: numbers short (0.2, 1e+06), the rest as they are."""
    return f"{v:g}" if isinstance(v, numbers.Real) and not isinstance(v, bool) else str(v)


def _values(values) -> dict:
    """Labels of a parameter's ``values`` side by side.

    Numbers in the fewest significant digits, three or more, that keep them apart (a Morris
    level 1/6 reads 0.167, not 0.166667); the rest as they are.
    """
    numbers_ = {v for v in values if isinstance(v, numbers.Real) and not isinstance(v, bool)}

    def whole(v) -> int:  # digits before the point, kept up to six (1300, not 1.3e+03, as :g)
        return len(str(int(abs(v)))) if math.isfinite(v) and abs(v) >= 1 else 0

    shown: dict = {}
    for digits in range(3, 18):
        shown = {v: f"{v:.{max(digits, min(6, whole(v)))}g}" for v in numbers_}
        if len(set(shown.values())) == len(numbers_):
            break
    return {v: shown[v] if v in shown else _value(v) for v in values}


def _scale(kpi: str) -> float:
    """What a KPI's values are divided by for showing (1e6 for dollars)."""
    return display_scale(kpi)[0] if kpi in KPIS else 1.0


def _title(kpi: str, by_month: bool = False) -> str:
    """A panel's title: the KPI's label, with its unit when shown in millions.

    ``by_month``: for a panel by month, which draws counted flows as totals so far
    (:func:`~culturesim.kpis.chart_label`); the other panels show the final totals.
    """
    if kpi not in KPIS:
        return kpi
    scale, unit = display_scale(kpi, total=not by_month)
    label = chart_label(kpi) if by_month else KPIS[kpi].label
    return f"{label} ({unit})" if scale != 1.0 else label


def _held(runs: pd.DataFrame, params: list[str]) -> tuple[list[str], str, dict[str, str]]:
    """The varied parameters, a line naming the held ones' values, and every short name.

    A grid's one-value list holds a key at that value (the market's size beside a lever's
    sweep), as does a sampled whole-number range with one whole number in it: a panel of it
    is one dot (a column of them), and it made the legend read "point 0" instead of the value
    that varies. The figures draw the varied parameters and say what was held. The short
    names are told apart among all the parameters (a merger's ``values.innovation`` varied
    beside the core value ``core_values.innovation`` held), not among the varied alone.
    """
    values = runs.groupby("point")[params].first()
    names = dict(zip(params, short_names(params), strict=True))
    varied = [key for key in params if values[key].nunique(dropna=False) > 1]
    held = [key for key in params if key not in varied]
    if not varied or not held:
        return params, "", names
    line = ", ".join(f"{names[key]} = {_value(values[key].iloc[0])}" for key in held)
    return varied, f"\nat every point: {line}", names


def _series_groups(
    values: pd.DataFrame,
    params: list[str],
    names: dict[str, str] | None,
    ranks: dict[str, dict] | None = None,
) -> tuple[list[tuple[str, Any, list]], str]:
    """The bands of the series figure (label, colour, design points) and its title.

    ``values``: each design point's parameters (indexed by point), in the legend's order.

    A band a design point, up to :data:`MAX_BANDS`; points with the same values (a Morris
    design visits some twice) are one band, as their runs are the same runs (the same seeds).
    With more, a band a value of the first parameter that takes 2 to :data:`MAX_BANDS` values,
    the others pooled into it (the shipped transparency sweep, 5 transparencies x 2 feedback
    levels: five bands, where one band of all ten points hid what transparency does); else one
    band of all the points. A pooled band spans the points' differences too, not the
    replications' alone, and the title says so.
    """
    points = list(values.index)
    # each distinct setting (in one pass: a sweep may have a million points)
    setting = values.groupby(params, sort=False, dropna=False).ngroup()
    if setting.max() < MAX_BANDS:
        same = [list(setting.index[setting == s]) for s in range(setting.max() + 1)]
        firsts = values.loc[[members[0] for members in same]].reset_index()
        labels = _point_labels(firsts, params, names)
        colors = _point_colors(firsts, params)
        return (
            [(labels[m[0]], colors[m[0]], m) for m in same],
            "median and 10-90% band over replications",
        )
    by = next((k for k in params if 2 <= values[k].nunique() <= MAX_BANDS), None)
    if by is None:
        return (
            [(f"all {len(points)} points", "C0", list(points))],
            f"median and 10-90% band over all runs\nof the {len(points)} design points",
        )
    short = (names or dict(zip(params, short_names(params), strict=True)))[by]
    levels = sorted(values[by].unique(), key=lambda v: _order(pd.Series({by: v}), ranks))
    shades = _point_colors(pd.DataFrame({"point": range(len(levels)), by: levels}), [by])
    shown = _values(levels)
    groups = [
        (f"{short} = {shown[v]}", shades[i], list(values.index[values[by] == v]))
        for i, v in enumerate(levels)
    ]
    return groups, (
        f"median and 10-90% band over the runs at each {short}\n(the other parameters pooled; "
        f"{len(points)} design points)"
    )


def _series_figure(
    ts: pd.DataFrame,
    runs: pd.DataFrame,
    params: list[str],
    outputs: list[str],
    held: str = "",
    names: dict[str, str] | None = None,
) -> plt.Figure:
    merged = ts.merge(runs[["run_id", "point"]], on="run_id")
    values = runs.groupby("point")[params].first()
    ranks = _text_ranks(values)
    points = sorted(merged["point"].unique(), key=lambda p: _order(values.loc[p], ranks))
    groups, title = _series_groups(values.loc[points], params, names, ranks)
    cols = min(PANELS_PER_ROW, len(outputs))
    rows = -(-len(outputs) // cols)
    legend = [label for label, _, _ in groups]
    # as many legend columns as fit the figure's width (at 8 pt, a character is about 0.062 in
    # and a column's line and padding 0.6 in: three labels in a row overflowed a one-panel
    # figure), and the figure taller by its rows (eight rows squeezed a panel to an inch)
    width = 0.6 + 0.062 * max(map(len, legend))
    columns = min(len(legend), 4, max(1, int(4.5 * cols // width)))
    lines = -(-len(legend) // columns)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.5 * cols, 3.3 * rows + 0.17 * lines), squeeze=False,
        layout="constrained",
    )  # fmt: skip
    for ax, kpi in zip(axes.flat, outputs, strict=False):
        scale = _scale(kpi)
        frames = [merged[merged["point"].isin(members)] for _, _, members in groups]
        bands = [band(frame, kpi) for frame in frames]
        for (label, color, _), b in zip(groups, bands, strict=True):
            b = b / scale
            ax.fill_between(b.index, b["lo"], b["hi"], color=color, alpha=0.15, lw=0)
            ax.plot(b.index, b["median"], color=color, label=label, lw=1.4)
        value_axis(ax, kpi, *bands)
        ax.set_title(_title(kpi, by_month=True), fontsize=10)
        ax.set_xlabel("month")
        month_ticks(ax, int(merged["month"].max()))
    for ax in axes.flat[len(outputs) :]:
        ax.set_visible(False)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center",
               ncols=columns, fontsize=8)  # fmt: skip
    fig.suptitle(title + held)
    return fig


#: What report.md says under the response figure: its bars are each value's own interval.
RESPONSE_NOTE = (
    "response.png: each value's mean, with its 95% t interval over the replications. Every "
    "point runs replication r with the same seed, so the difference between two values is "
    "surer than overlapping bars suggest (`culturesim compare` gives a paired interval)."
)


def _response(final: pd.DataFrame, kpi: str, param: str) -> tuple[pd.Series, pd.Series]:
    """The mean of ``kpi`` at each value of ``param``, and its 95% interval's half-width.

    The mean is of the points' means (the grid is balanced). The other parameters' values at
    those points are the design's, not a sample: the error is the replications', not the
    spread between the points (which added the other parameters' effects to a lever's
    interval). The points share their seeds (replication ``r`` runs with the experiment's seed
    + ``r`` at every point), so their runs of one replication are not independent: the error
    is that of the replications' own means over the points at the value, a Student's t
    interval over them (replications less one degrees of freedom), as ``compare`` gives its
    intervals over paired seeds. Summing the points' variances as if they were independent
    (what this did) left out what the shared seeds make them share: in the shipped
    transparency sweep (ten replications, two feedback settings pooled at each transparency,
    five transparencies at each feedback) user trust read +/-0.008 at each feedback setting
    where the replications' means give +/-0.018; and 1.96 standard errors (a normal's) are
    too narrow for a few replications (by 2.2 times with three, 15% with ten).

    Where a replication is missing at some point (a run failed), the others give the error;
    where no two replications are whole, the points' variances are summed as if independent
    (Welch and Satterthwaite's degrees of freedom), the best left; where a point has a single
    run its variance is unknown, and the spread of all the runs at the value stands in. A value
    with one run (or no spread at all) has no interval (0).
    """
    cells = final.groupby([param, "point"])[kpi]
    means, counts = cells.mean(), cells.count()
    mean = means.groupby(level=0).mean()
    points = means.groupby(level=0).count()
    if (counts >= 2).all():
        parts = cells.var(ddof=1) / counts  # the variance of each point's mean
        total = parts.groupby(level=0).sum()
        se = np.sqrt(total) / points
        df = total**2 / (parts**2 / (counts - 1)).groupby(level=0).sum()  # 0/0: no spread
    else:
        runs = final[kpi].groupby(final[param])
        se, df = runs.sem(), runs.count() - 1
    if "replication" in final:
        reps = final.groupby([param, "replication"])[kpi]
        shared, n = reps.mean(), reps.count()
        shared = shared[n == points.reindex(n.index, level=0)].groupby(level=0)  # whole ones
        paired = (shared.count() >= 2).reindex(mean.index, fill_value=False)
        se = se.where(~paired, shared.sem())
        df = df.where(~paired, shared.count() - 1)
    return mean, _half_width(se, df)


def _half_width(se: pd.Series, df: pd.Series) -> pd.Series:
    """The half-width of a 95% t interval; 0 where there is none (no degrees of freedom)."""
    df = df.where(df > 0)  # NaN: no interval (one run, or no spread at all)
    return (pd.Series(stats.t.ppf(0.975, df), index=df.index) * se).fillna(0.0)


def _response_figure(ts, runs, params: list[str], outputs: list[str], held: str = "") -> plt.Figure:
    final = final_values(ts, outputs).join(runs.set_index("run_id"))
    ranks = _text_ranks(runs.groupby("point")[params].first())
    fig, axes = plt.subplots(
        len(outputs),
        len(params),
        figsize=(max(7, 4 * len(params)), 3 * len(outputs)),
        squeeze=False,
        layout="constrained",  # room for the two-line title (tight_layout let it touch a panel)
    )
    for i, kpi in enumerate(outputs):
        scale = _scale(kpi)
        for j, param in enumerate(params):
            mean, half = _response(final, kpi, param)
            numeric = mean.index.dtype.kind in "iuf"
            if not numeric:  # categories (a network's kind): as the legends order them, unjoined
                order = sorted(mean.index, key=lambda v: _order(pd.Series({param: v}), ranks))
                mean, half = mean.reindex(order), half.reindex(order)
            ax = axes[i, j]
            ax.errorbar(mean.index, mean / scale, yerr=half / scale, marker="o", capsize=3,
                        ls="-" if numeric else "none")  # fmt: skip
            value_axis(ax, kpi, pd.DataFrame({"lo": mean - half, "hi": mean + half}))
            if numeric and len(mean) <= 10:  # the grid's own values
                ax.set_xticks(mean.index, list(_values(mean.index).values()))
            ax.set_xlabel(param, fontsize=8)
            ax.set_ylabel(_title(kpi), fontsize=8)
    pooled = "\n(other parameters pooled)" if len(params) > 1 else ""
    fig.suptitle(
        f"final month (flows: total): mean and 95% CI over replications{pooled}{held}",
        fontsize=10,
    )
    return fig


def _scatter_figure(ts, runs, params: list[str], outputs: list[str], held: str = "") -> plt.Figure:
    """Final values at each design point against each parameter, for a sampled design.

    One panel per (output, parameter): the output's final value at each point (mean over
    replications), the other parameters varying from point to point (lhs, sobol, morris).
    """
    ok = runs[runs["status"] == "ok"]
    final = final_values(ts, outputs).join(ok.set_index("run_id")["point"], how="inner")
    per_point = final.groupby("point")[outputs].mean().join(ok.groupby("point")[params].first())
    fig, axes = plt.subplots(
        len(outputs),
        len(params),
        figsize=(max(7, 3.2 * len(params)), 2.6 * len(outputs)),
        squeeze=False,
        layout="constrained",
    )
    for i, kpi in enumerate(outputs):
        for j, param in enumerate(params):
            ax, y = axes[i, j], per_point[kpi]
            ax.scatter(per_point[param], y / _scale(kpi), s=10, alpha=0.7)
            value_axis(ax, kpi, pd.DataFrame({"lo": y, "hi": y}))
            if per_point[param].dtype.kind in "iu":  # a whole number as run: whole ticks
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel(param, fontsize=8)
            ax.set_ylabel(_title(kpi), fontsize=8)
            ax.tick_params(labelsize=7)
    others = "\n(other parameters vary: look for trends, not curves)" if len(params) > 1 else ""
    fig.suptitle(
        f"final month (flows: total) at each design point, mean over replications{others}{held}",
        fontsize=10,
    )
    return fig


def _as_run(runs: pd.DataFrame, manifest: dict, params: list[str]) -> pd.DataFrame:
    """``runs`` with the values its runs took: a sampled whole-number key's as a whole number.

    ``runs.parquet`` keeps a sampled value as sampled (2.92 sites), which the indices use; the
    run had 3 sites (:func:`culturesim.batch.experiment.run_changes`), which the report's table and
    figures show. Read from the manifest as recorded, not validated again: a report of a
    folder written by other code needs only what it holds.
    """
    sampled = runs.groupby("point")[params].first().to_dict("index")
    ran = changes_as_run(manifest["scenario"], manifest["parameters"], sampled)
    shown = runs.copy()
    for key in params:
        shown[key] = runs["point"].map({point: row[key] for point, row in ran.items()})
    return shown


def _markdown(frame: pd.DataFrame) -> str:
    """A Markdown table of ``frame`` (index first)."""
    cols = [frame.index.name or "", *map(str, frame.columns)]
    money = [in_dollars(c) for c in frame.columns]  # in millions from $100,000
    rows = [[str(i), *(format_number(v, m) if isinstance(v, float) else str(v)
                       for v, m in zip(r, money, strict=True))]
            for i, r in zip(frame.index, frame.to_numpy(), strict=True)]  # fmt: skip
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols)
    return head + "".join("\n| " + " | ".join(r) + " |" for r in rows)


#: The index a report tables for each design, and what it is.
TABLED = {
    "sobol": ("ST", "ST_conf", "Total Sobol index ST (the share of the output's variance a "
              "parameter explains with its interactions)"),
    "morris": ("mu_star", "mu_star_conf", "Morris mu* (a parameter's mean absolute effect on "
               "the output, in its unit)"),
    "lhs": ("PRCC", "PRCC_conf", "The partial rank correlation PRCC (-1 to 1: how surely the "
            "output falls or rises with a parameter, the others held)"),
}  # fmt: skip


def _indices_markdown(table: pd.DataFrame, design: str) -> list[str]:
    """Report lines tabling each parameter's main index (rows) for each output (columns).

    Each cell is "value ± half-width of its 95% interval"; each output's largest (in size: a
    PRCC may be negative) is in bold.
    An output the same at every design point reads "-" throughout.
    """
    value, conf, what = TABLED[design]
    params = list(dict.fromkeys(table["parameter"]))
    outputs = list(dict.fromkeys(table["output"]))
    cells = {}
    for output in outputs:
        t = table[table["output"] == output].set_index("parameter").loc[params]
        top = t[value].abs().max()
        money = design == "morris" and in_dollars(output)  # mu* in dollars
        cells[output] = [
            "-" if pd.isna(v) else ("**{}**" if abs(v) == top else "{}").format(
                " ± ".join(format_numbers((v, c), money)))
            for v, c in zip(t[value], t[conf], strict=True)
        ]  # fmt: skip
    head = ["parameter", *(KPIS[o].label if o in KPIS else o for o in outputs)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, name in enumerate(short_names(params)):
        lines.append("| " + " | ".join([name, *(cells[o][i] for o in outputs)]) + " |")
    return [
        f"{what} of each parameter at the final month, ± the half-width of its 95% confidence "
        "interval; each output's largest in bold (every statistic: sensitivity.csv).",
        "",
        *lines,
        "",
    ]


def _problems(runs: pd.DataFrame, shown: int = 20) -> list[str]:
    """Report lines on runs that failed (their errors) and runs that gave notice (what of)."""
    lines = []
    failed = runs[runs["status"] != "ok"]
    warned = runs[runs["warning"] != ""] if "warning" in runs else runs.iloc[:0]
    for rows, title, column in ((failed, "Runs that failed", "error"),
                                (warned, "Runs that gave notice", "warning")):  # fmt: skip
        if not len(rows):
            continue
        lines += [f"## {title}", "", f"| run_id | point | seed | {column} |", "|---|---|---|---|"]
        for r in rows.head(shown).itertuples():
            text = str(getattr(r, column)).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {r.run_id} | {r.point} | {r.seed} | {text} |")
        if len(rows) > shown:
            lines.append(f"\n... and {len(rows) - shown} more (runs.parquet has them all).")
        lines.append("")
    return lines


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write figures and ``report.md`` into a sweep folder; return the Markdown's path.

    Every file is written, or none (see :func:`culturesim.manifest.write_files`). The table
    and figures show each parameter as the runs took it (:func:`_as_run`).

    Args:
        folder: The sweep's folder.
        out: Where to write the files (made if missing; with a ``manifest.json`` of its own,
            see :func:`culturesim.batch.analyze.record_elsewhere`); None: into ``folder``.

    Raises:
        ValueError: If ``out`` holds other results (see
            :func:`culturesim.batch.analyze.check_elsewhere`).
    """
    folder = Path(folder)
    out = folder if out is None else Path(out)
    check_elsewhere(folder, out, "report")
    manifest = json.loads((folder / "manifest.json").read_text())
    ts = read_results(folder / "timeseries.parquet")
    outputs = [c for c in ts.columns if c not in ("run_id", "month")]
    params = list(manifest["parameters"])
    runs = _as_run(read_results(folder / "runs.parquet"), manifest, params)
    design = manifest["experiment"]["design"]
    varied, held, names = _held(runs, params)  # a grid's one-value lists: said, not drawn
    figures = {"timeseries.png": _series_figure(ts, runs, varied, outputs, held, names)}
    if design == "grid":
        figures["response.png"] = _response_figure(ts, runs, varied, outputs, held)
    else:
        figures["scatter.png"] = _scatter_figure(ts, runs, varied, outputs, held)
    writers = {
        name: lambda path, fig=fig: fig.savefig(path, dpi=110) for name, fig in figures.items()
    }
    too_few = too_few_points(design, runs["point"].nunique(), len(params))
    all_ran = (runs["status"] == "ok").all()
    indexed = design in KEYS and all_ran and not too_few
    indices = []  # the report's lines on them
    if indexed:
        samples = manifest["experiment"]["samples"]
        table, _ = sensitivity_table(folder)
        writers.update(sensitivity_writers(table, design, samples, folder, "report"))
        uncertain = interval_note(table, design, samples)
        indices = ["## Sensitivity", "", *_indices_markdown(table, design)]
        indices += [f"Note: {uncertain}.", ""] if uncertain else []
    ok = (runs["status"] == "ok").sum()
    warned = int((runs["warning"] != "").sum()) if "warning" in runs else 0
    notices = f" {warned} gave notice (below)." if warned else ""
    final = final_values(ts, outputs).join(runs.set_index("run_id")["point"])
    summary = final.groupby("point")[outputs].mean()
    summary = runs.groupby("point")[params].first().join(summary)
    lines = [
        f"# Sweep report: {manifest['experiment']['name']}",
        "",
        f"Design **{design}**, {manifest['design_points']} design points × "
        f"{manifest['replications']} replication{'' if manifest['replications'] == 1 else 's'}, "
        f"{manifest['months']} months; "
        f"{ok} of {len(runs)} runs ok.{notices} Executor: {manifest.get('executor', '?')}.",
        "",
        *_problems(runs),
        "## Final month (flows: total over the run), mean over replications",
        "",
        _markdown(summary if len(summary) <= 50 else summary.describe()),
        "",
        *indices,
        "## Figures",
        "",
        *[f"![{name}]({name})" for name in figures],
        *(["", RESPONSE_NOTE] if "response.png" in figures else []),
        *(["![sensitivity.png](sensitivity.png)"] if indexed else []),
        *(
            ["", f"No {design} indices: they need every design point, and some runs failed."]
            if design in KEYS and not all_ran
            else ["", f"No {design} indices: {too_few}."]
            if too_few
            else []
        ),
        "",
        "## Manifest",
        "",
        "The sweep's:",
        "",
        "```json",
        json.dumps(manifest, indent=2),
        "```",
        "",
        "This report's (its figures and tables may come from other code than the sweep's):",
        "",
        "```json",
        json.dumps(derived_record(folder, "report", [*figures, "report.md"]), indent=2),
        "```",
        "",
    ]
    # UTF-8 whatever the locale: an experiment's name may be in any script
    writers["report.md"] = lambda path: path.write_text("\n".join(lines), encoding="utf-8")
    writers.update(record_elsewhere(folder, out, "report", list(writers)))
    try:
        with made_folder(out):
            write_files(out, writers)  # all of them or none
    finally:
        for fig in figures.values():
            plt.close(fig)
    return out / "report.md"
