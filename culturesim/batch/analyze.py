"""Sensitivity analysis of a sweep: Sobol, Morris (SALib) or a Latin hypercube's PRCC.

Each output is taken at the final month (flows summed to it:
:func:`~culturesim.kpis.final_values`) and averaged over replications at each design point (the
replications share seeds across points, so the average is paired noise); the indices come from
``SALib.analyze.sobol`` (no second order, matching the sampler) or ``SALib.analyze.morris``,
and an LHS sweep's from :func:`prcc` (Marino et al. 2008, the usual measure for a Latin
hypercube of an agent-based model).
An output whose indices' 95% confidence intervals are wide (above :data:`WIDE`), so that close
indices may trade places, gets a note saying so and how many samples would narrow them
(:func:`interval_note`), and so does its panel of the figure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from culturesim.kpis import KPIS, display_scale, final_values
from culturesim.manifest import (
    DERIVED,
    made_folder,
    now,
    provenance,
    same_folder,
    why_refused,
    write_files,
    write_json,
)

__all__ = [
    "BEYOND_RANGE",
    "FIRST_STEP",
    "KEYS",
    "MEANING",
    "WIDE",
    "analyze_folder",
    "check_elsewhere",
    "derived_record",
    "final_values",
    "interval_note",
    "prcc",
    "record_elsewhere",
    "sensitivity",
    "sensitivity_figure",
    "sensitivity_table",
    "sensitivity_writers",
    "too_few_points",
    "widest_intervals",
]


SOBOL_KEYS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_KEYS = ("mu", "mu_star", "mu_star_conf", "sigma")
PRCC_KEYS = ("PRCC", "PRCC_conf", "PRCC_p")
KEYS = {"sobol": SOBOL_KEYS, "morris": MORRIS_KEYS, "lhs": PRCC_KEYS}  # the designs with indices

#: The half-width of a 95% confidence interval above which an output's indices are rough (close
#: ones may trade places with more samples): of a Sobol index (a share of the output's
#: variance), of a Morris mu* relative to the output's largest mu*, or of a PRCC (a
#: correlation, -1 to 1). A rule of thumb (a guess): judging convergence by the width of the
#: intervals follows Sarrazin, Pianosi & Wagener (2016, Environ. Model. Softw. 79: 135-152);
#: at this width two indices a fifth apart may still trade places.
WIDE = 0.1
#: A Sobol index's 95% interval wider than this (half-width) is wider than the index's whole
#: range, 0 to 1: the bootstrap of too few samples (some resamples repeat one or two points, and
#: the output's variance among them is near 0). How many samples would narrow it cannot be
#: read from it (four base samples gave +/-2,700, and 1/sqrt(samples) asked for four billion).
BEYOND_RANGE = 1.0
#: The samples' factor a note suggests then: a first step, after which the note can tell more.
FIRST_STEP = 16


def widest_intervals(table: pd.DataFrame, design: str) -> pd.DataFrame:
    """Each output's widest 95% interval: its half-width, statistic and parameter.

    One row per output (in the table's order) that has indices, with ``half_width`` (for
    Morris, relative to the output's largest mu*), ``statistic`` (S1, ST, mu* or PRCC) and
    ``parameter`` (as :func:`short_names` shows it).
    """
    names = list(dict.fromkeys(table["parameter"]))
    shown = dict(zip(names, short_names(names), strict=True))
    rows = []
    for output, t in table.groupby("output", sort=False):
        if design == "sobol":
            conf = t[["S1_conf", "ST_conf"]].rename(columns=lambda c: c.removesuffix("_conf"))
        elif design == "lhs":
            conf = t[["PRCC_conf"]].rename(columns={"PRCC_conf": "PRCC"})
        else:
            top = t["mu_star"].max()
            if not top > 0:  # no effect anywhere: nothing to rank
                continue
            conf = (t[["mu_star_conf"]] / top).rename(columns={"mu_star_conf": "mu*"})
        stacked = conf.set_axis(t["parameter"]).stack().dropna()
        if stacked.empty:  # the same at every design point: no indices
            continue
        (parameter, statistic), width = stacked.idxmax(), stacked.max()
        rows.append({"output": output, "half_width": float(width), "statistic": statistic,
                     "parameter": shown[parameter]})  # fmt: skip
    return pd.DataFrame(rows, columns=["output", "half_width", "statistic", "parameter"])


def interval_note(table: pd.DataFrame, design: str, samples: int) -> str:
    """Which outputs' indices are rough, and the samples that would narrow them, or "".

    An output whose widest 95% interval is above :data:`WIDE` (half-width) is named with that
    interval. Intervals narrow about as 1 / sqrt(samples); the samples suggested would bring the
    widest of all to about :data:`WIDE` (a Sobol design's kept a power of 2). It is an estimate:
    the intervals of a few samples are rough themselves (Ishigami's, at 16 Sobol samples, came
    out narrower than at 64). A Sobol interval wider than :data:`BEYOND_RANGE` says too little
    to estimate from: the note suggests :data:`FIRST_STEP` times the samples, a first step.

    Args:
        table: The indices, as :func:`sensitivity_table` gives them.
        design: ``"sobol"``, ``"morris"`` or ``"lhs"``.
        samples: The experiment's ``samples`` (Sobol's base samples, Morris's trajectories or
            the Latin hypercube's points).

    Returns:
        One line, or "" when every output's intervals are narrow enough.
    """
    widest = widest_intervals(table, design)
    wide = widest[widest["half_width"] > WIDE]
    if wide.empty:
        return ""
    of = " of the largest mu*" if design == "morris" else ""
    named = [f"{r.output} (+/-{r.half_width:.2g}{of}, {r.statistic} of {r.parameter})"
             for r in wide.itertuples()]  # fmt: skip
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    rough = (
        f"the indices are rough, their 95% confidence intervals wider than +/-{WIDE:g} (close "
        f"ones may trade places), for {listed}; "
    )
    if design == "sobol" and wide["half_width"].max() > BEYOND_RANGE:
        return rough + (
            f"an interval wider than +/-{BEYOND_RANGE:g} spans more than an index's whole range "
            f"(0 to 1): the samples are too few to tell how many would do; samples = "
            f"{FIRST_STEP * samples:,} ({FIRST_STEP}x the runs) is a first step, after which "
            "this note can tell"
        )
    factor = int(np.ceil((wide["half_width"].max() / WIDE) ** 2))
    if design == "sobol":
        factor = 1 << (factor - 1).bit_length()
    return rough + (
        f"intervals narrow about as 1/sqrt(samples): samples = {factor * samples:,} "
        f"({factor}x the runs) would bring them to about +/-{WIDE:g}"
    )


#: The 97.5% quantile of the standard normal: 95% intervals.
Z95 = 1.959963984540054


def too_few_points(design: str, points: int, parameters: int) -> str:
    """Why ``points`` design points give no indices of ``parameters`` parameters, or "".

    Only a Latin hypercube can be too small: a partial correlation of each of D parameters,
    with the other D - 1 held, needs at least D + 3 points for its interval.
    """
    if design == "lhs" and points < parameters + 3:
        return (
            f"partial rank correlations of {parameters} parameters need at least "
            f"{parameters + 3} design points (samples), and the sweep has {points}"
        )
    return ""


def prcc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Partial rank correlation of each parameter with ``y``, with its 95% interval.

    The points and the output are ranked (ties share their mean rank); the ranks of a
    parameter and of ``y`` are each regressed on the other parameters' ranks, and the PRCC is
    the correlation of the two residuals (Marino, Hogue, Ray & Kirschner 2008, J. Theor. Biol.
    254: 178-196). It measures a monotone effect with the other parameters held, from -1 to 1.
    The interval is Fisher's: tanh(atanh(r) +/- 1.96 / sqrt(n - 3 - (D - 1))), and PRCC_conf
    the larger of its two half-widths (so that r +/- PRCC_conf covers it; an interval that
    leaves out 0 is a monotone effect at the 5% level). tanh and atanh are taken from
    :mod:`culturesim.portable`'s exp and log1p, the same bits on every machine. An exact
    monotone order (r = +/-1), where Fisher's z has no interval, takes the interval of the
    nearest rank correlation short of it, 1 - 12 / (n^3 - n) (two neighbours swapped): with
    few points a perfect order comes by chance (1 in 60 of 5 points, for one parameter), and
    it said +/-0, certain; with hundreds the interval is a few millionths. PRCC_p is the
    two-sided p-value of r = 0, from T = r sqrt((n - 2 - (D - 1)) / (1 - r^2)), Student's t with
    n - 2 - (D - 1) degrees of freedom (the test Marino et al. 2008 give), 0 for an exact order.

    Args:
        x: The design points, one row a point and one column a parameter (D columns).
        y: The output at each point.

    Returns:
        An array of D rows: PRCC, PRCC_conf, PRCC_p; NaN for a parameter that never varies,
        and throughout when ``y`` never varies or there are fewer than D + 3 points.
    """
    from scipy import stats

    from culturesim.portable import exp, log1p

    n, d = x.shape
    out = np.full((d, 3), np.nan)
    if n < d + 3 or np.ptp(y) == 0:
        return out
    ranks = np.column_stack([stats.rankdata(column) for column in x.T])
    ry = stats.rankdata(y)
    se = 1.0 / np.sqrt(n - 3 - (d - 1))
    df = n - 2 - (d - 1)
    for j in range(d):
        held = np.column_stack([np.ones(n), np.delete(ranks, j, axis=1)])
        ex = ranks[:, j] - held @ np.linalg.lstsq(held, ranks[:, j], rcond=None)[0]
        ey = ry - held @ np.linalg.lstsq(held, ry, rcond=None)[0]
        norm = np.sqrt((ex @ ex) * (ey @ ey))
        if not norm > 1e-9 * n * n:  # the parameter never varies (its residual is rounding)
            continue
        r = float(np.clip(ex @ ey / norm, -1.0, 1.0))
        # Fisher's z has no interval at +/-1: take the nearest rank correlation short of it
        near = min(abs(r), 1.0 - 12.0 / (n**3 - n)) * (1.0 if r > 0 else -1.0)
        z = 0.5 * (log1p(near) - log1p(-near))  # atanh
        lo, hi = (1.0 - 2.0 / (exp(2.0 * (z + k * Z95 * se)) + 1.0) for k in (-1, 1))  # tanh
        p = 2.0 * stats.t.sf(abs(r) * np.sqrt(df / (1.0 - r * r)), df) if abs(r) < 1 else 0.0
        out[j] = r, max(r - lo, hi - r), p
    return out


def sensitivity(
    design: str, problem: dict, x: np.ndarray, y: np.ndarray, seed: int = 0
) -> pd.DataFrame:
    """Indices of each parameter for one output.

    Args:
        design: ``"sobol"``, ``"morris"`` or ``"lhs"``.
        problem: SALib problem (``num_vars``, ``names``, ``bounds``).
        x: The design points, in the sampler's order.
        y: The output at each point.
        seed: Seed for SALib's bootstrap.

    Returns:
        One row per parameter: S1, S1_conf, ST, ST_conf (Sobol), mu, mu_star, mu_star_conf,
        sigma (Morris) or PRCC, PRCC_conf, PRCC_p (LHS: :func:`prcc`). An output that is the
        same at every point has no Sobol indices (they are shares of its variance, which is 0)
        and no PRCC: its rows are NaN (Morris's are 0: no effect).
    """
    keys = KEYS.get(design)
    if keys is None:
        raise ValueError(f"sensitivity needs a sobol, morris or lhs design, not {design!r}")
    if design in ("sobol", "lhs") and np.ptp(y) == 0:
        return pd.DataFrame({"parameter": problem["names"], **dict.fromkeys(keys, np.nan)})
    if design == "lhs":
        res = dict(zip(keys, prcc(x, y).T, strict=True))
    elif design == "sobol":
        from SALib.analyze import sobol

        # SALib seeds the bootstrap only for a seed that is true: with 0 (the experiments'
        # default) the confidence intervals came out different at every call
        res = sobol.analyze(problem, y, calc_second_order=False, seed=seed + 1)
    elif design == "morris":
        from SALib.analyze import morris

        res = morris.analyze(problem, x, y, seed=seed)
    return pd.DataFrame({"parameter": problem["names"], **{k: np.asarray(res[k]) for k in keys}})


def analyze_folder(folder: str | Path, out: str | Path | None = None) -> pd.DataFrame:
    """Compute the indices of every output of a sweep folder; write sensitivity.csv and .png.

    Every file is written, or none (see :func:`culturesim.manifest.write_files`).

    Args:
        folder: The sweep's folder.
        out: Where to write the files (made if missing; with a ``manifest.json`` of its own,
            see :func:`record_elsewhere`); None: into ``folder``.

    Raises:
        ValueError: If the sweep has no indices (:func:`sensitivity_table`), or ``out`` holds
            other results (:func:`check_elsewhere`).
    """
    folder = Path(folder)
    out = folder if out is None else Path(out)
    check_elsewhere(folder, out, "analyze")
    table, design = sensitivity_table(folder)
    samples = json.loads((folder / "manifest.json").read_text())["experiment"]["samples"]
    writers = sensitivity_writers(table, design, samples, folder)
    writers.update(record_elsewhere(folder, out, "analyze", list(writers)))
    with made_folder(out):
        write_files(out, writers)
    return table


def check_elsewhere(folder: Path, out: Path, kind: str) -> None:
    """Refuse an ``out`` that is not the sweep's ``folder`` and holds results of another kind.

    Another command's folder (a run's, another sweep's) would have its manifest replaced; a
    report's files include analyze's, so a report may replace analyze's, not the other way
    round.

    Raises:
        ValueError: Saying so (:func:`culturesim.manifest.why_refused`).
    """
    also = DERIVED if kind == "report" else ()
    if not same_folder(out, folder) and (refused := why_refused(out, kind, also)):
        raise ValueError(refused)


def record_elsewhere(
    folder: Path, out: Path, kind: str, files: list[str]
) -> dict[str, Callable[[Path], object]]:
    """The writer of ``out``'s ``manifest.json`` when a sweep's figures go to another folder.

    Files derived from a sweep (``analyze``'s, ``report``'s) written outside its folder (one
    that cannot be written, say) carry a manifest as every results folder does: the
    :func:`derived_record` of ``files``, the sweep folder's path and the sweep's whole
    manifest (``sweep``), which runs the sweep again. Written into the sweep's own folder,
    they have its manifest: no writer then.

    Args:
        folder: The sweep's folder.
        out: Where the files go.
        kind: The command writing them (``"analyze"`` or ``"report"``), the manifest's kind.
        files: The names of the files written beside it.
    """
    if same_folder(out, folder):
        return {}
    record = {
        **derived_record(folder, kind, files),
        "sweep_folder": str(folder.resolve()),
        "sweep": json.loads((folder / "manifest.json").read_text(encoding="utf-8")),
    }
    return {"manifest.json": lambda path: write_json(path, record)}


def sensitivity_writers(
    table: pd.DataFrame,
    design: str,
    samples: int | None = None,
    folder: Path | None = None,
    kind: str = "analyze",
) -> dict[str, Callable[[Path], object]]:
    """The writers of ``sensitivity.csv`` and ``sensitivity.png`` for ``write_files``.

    With the sweep's ``folder``, also of ``sensitivity.json``: :func:`derived_record` of them,
    as the command ``kind`` writes them.
    """
    writers = {
        "sensitivity.csv": lambda path: table.to_csv(path, index=False),
        "sensitivity.png": lambda path: _save(sensitivity_figure(table, design, samples), path),
    }
    if folder is not None:
        record = derived_record(folder, kind, list(writers))
        writers["sensitivity.json"] = lambda path: write_json(path, record)
    return writers


def derived_record(folder: Path, kind: str, files: list[str]) -> dict:
    """What wrote ``files`` into the sweep ``folder``: its code, when, and from which sweep.

    A sweep's manifest records the code that ran it; the indices and figures written into its
    folder later may come from other code (a newer culturesim computes other intervals from
    the same runs), so they carry a record of their own: :func:`culturesim.manifest.provenance`
    of the command (``kind``), the time, and the SHA-256 of the sweep's ``manifest.json``
    they were computed from.
    """
    manifest = (Path(folder) / "manifest.json").read_bytes()
    return {
        **provenance(kind),
        "written": now(),
        "files": files,
        "sweep_manifest_sha256": hashlib.sha256(manifest).hexdigest(),
    }


def _save(fig, path: Path) -> None:
    """Save ``fig`` to ``path`` and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)


def read_results(path: str | Path) -> pd.DataFrame:
    """A results folder's Parquet file (``runs.parquet``, ``timeseries.parquet``) as a DataFrame.

    Read by Arrow from its path, not with :func:`pandas.read_parquet`: pandas before 3 opens
    the file itself and gives Arrow a Python file, which Arrow's I/O threads then read, and a
    process that ends soon after could abort as it exits ("terminate called without an active
    exception", exit 134 with pandas 2.1 and pyarrow 14 to at least 21: ``culturesim analyze``
    about one run in twenty on a busy machine).
    """
    import pyarrow.parquet as pq

    return pq.read_table(Path(path)).to_pandas()


def sensitivity_table(folder: str | Path) -> tuple[pd.DataFrame, str]:
    """The indices of every output of a sweep folder (a row a parameter and output), and its design.

    The design is ``sobol``, ``morris`` or ``lhs``.

    Raises:
        ValueError: If the sweep's design is a grid, or it has failed runs, or (a Latin
            hypercube) too few points for its parameters (:func:`too_few_points`).
    """
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    design = manifest["experiment"]["design"]
    if design not in KEYS:
        raise ValueError(
            f"{folder}: design {design!r} has no sensitivity indices (sobol, morris, lhs)"
        )
    runs = read_results(folder / "runs.parquet")
    why = too_few_points(design, runs["point"].nunique(), len(manifest["parameters"]))
    if why:
        raise ValueError(f"{folder}: no indices: {why}")
    if (runs["status"] != "ok").any():
        failed = int((runs["status"] != "ok").sum())
        raise ValueError(
            f"{folder}: {failed} of {len(runs)} runs failed, and the indices need every design "
            "point (culturesim report lists the failures and their errors)"
        )
    ts = read_results(folder / "timeseries.parquet")
    names = list(manifest["parameters"])
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [
            [manifest["parameters"][k]["min"], manifest["parameters"][k]["max"]] for k in names
        ],
    }
    outputs = [c for c in ts.columns if c not in ("run_id", "month")]
    final = final_values(ts, outputs).join(runs.set_index("run_id")["point"])
    per_point = final.groupby("point")[outputs].mean().sort_index()
    x = runs.groupby("point")[names].first().sort_index().to_numpy()
    seed = manifest["experiment"]["seed"]
    frames = []
    for output in outputs:
        frame = sensitivity(design, problem, x, per_point[output].to_numpy(), seed=seed)
        frame.insert(0, "output", output)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True), design


def short_names(keys: list[str]) -> list[str]:
    """Each dotted key by its last parts, as few as tell it from the others.

    ``levers.transparency`` is ``transparency``; ``events.0.month`` and ``events.1.month``
    keep their table and position (by their last part alone both read ``month``).
    """
    parts = [key.split(".") for key in keys]
    names = []
    for mine in parts:
        n = next(
            n for n in range(1, len(mine) + 1) if [p[-n:] for p in parts].count(mine[-n:]) == 1
        )
        if n < len(mine) and mine[-n].isdigit():  # a position: with what it is a position in
            n += 1
        names.append(".".join(mine[-n:]))
    return names


#: What the bars of each design are, under the panels of :func:`sensitivity_figure`.
MEANING = {
    "sobol": "S1: the share of the output's variance a parameter explains alone; ST: with its "
    "interactions",
    "morris": "mu*: a parameter's mean absolute effect on the output, a step across its range; "
    "sigma: the spread of those effects (interactions or a non-linear response)",
    "lhs": "PRCC: the partial rank correlation of a parameter with the output, the other "
    "parameters held (-1 to 1: how surely the output falls or rises with it)",
}


def _cut_at_zero(value: np.ndarray, half_width: np.ndarray) -> list[list[float]]:
    """Error bar lengths (below, above) of ``value`` +/- ``half_width``, the lower end kept >= 0.

    Plain lists: matplotlib 3.8 reads the first of two arrays of one bar each as a number,
    which NumPy 1.25 and later deprecate (a warning per figure).
    """
    below = np.clip(np.minimum(half_width, value), 0.0, None)
    return [np.asarray(below, dtype=float).tolist(), np.asarray(half_width, dtype=float).tolist()]


def sensitivity_figure(table: pd.DataFrame, design: str, samples: int | None = None):
    """Bar charts of the indices, one panel per output, with their 95% intervals.

    Sobol: S1 and ST. Morris: mu* and sigma, in the output's unit. LHS: PRCC. A panel whose widest
    interval is above :data:`WIDE` is marked rough in its title; lines under the panels say
    what the bars are (and the design's ``samples``, if given).
    """
    import textwrap

    import matplotlib.pyplot as plt

    wide = widest_intervals(table, design).set_index("output")["half_width"]

    outputs = list(dict.fromkeys(table["output"]))
    cols = min(3, len(outputs))
    rows = -(-len(outputs) // cols)
    name, what, how = {
        "sobol": ("Sobol", "base samples", "SALib's bootstrap"),
        "morris": ("Morris", "trajectories", "SALib's bootstrap"),
        "lhs": ("Latin hypercube", "points", "Fisher's z, the larger half-width"),
    }[design]
    of = " of the largest mu*" if design == "morris" else ""
    # mu* (a mean of sizes) and ST (Jansen's: a mean of squares) are never below 0, but SALib's
    # interval is the index +/- a half-width: their lines stop at 0. S1's estimate may be below
    # 0 itself, and its interval is drawn as SALib gives it.
    cut = {"morris": "mu*", "sobol": "ST's"}.get(design)
    cut = f", {cut} cut at 0, below which it cannot be" if cut else ""
    caption = textwrap.fill(
        f"{MEANING[design]}. Lines: 95% confidence intervals ({how}{cut}); rough: wider "
        f"than ±{WIDE:g}{of}, where close indices may trade places."
        + (f" {name}, {samples:,} {what}." if samples else ""),
        width=int(5 * cols * 72 / 4.8),  # characters of 8 points across the figure
    )
    lines = caption.count("\n") + 1
    height = 3.6 * rows + 0.15 * lines
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, height), squeeze=False)
    for ax in axes.flat[len(outputs) :]:
        ax.set_visible(False)
    for ax, output in zip(axes.flat, outputs, strict=False):
        t = table[table["output"] == output]
        # arrays, not Series: matplotlib 3.8 took float() of a one-row Series (pandas warned)
        v = {k: t[k].to_numpy() for k in t.columns[2:]}
        pos = np.arange(len(t))
        known = output in KPIS
        title = KPIS[output].label if known else output
        if design == "sobol":  # shares of variance: no unit
            ax.barh(pos - 0.2, v["ST"], 0.4, xerr=_cut_at_zero(v["ST"], v["ST_conf"]),
                    label="ST", color="C0")  # fmt: skip
            ax.barh(pos + 0.2, v["S1"], 0.4, xerr=v["S1_conf"], label="S1", color="C1")
        elif design == "lhs":  # a correlation: its whole scale, 0 marked
            ax.barh(pos, v["PRCC"], 0.6, xerr=v["PRCC_conf"], label="PRCC", color="C0")
            ax.axvline(0.0, color="0.5", linewidth=0.8)
            ax.set_xlim(-1.05, 1.05)
        else:  # mu* and sigma are in the output's unit: dollars in millions, as in every chart
            scale, unit = display_scale(output, total=True) if known else (1.0, "")
            xerr = _cut_at_zero(v["mu_star"] / scale, v["mu_star_conf"] / scale)
            ax.barh(pos - 0.2, v["mu_star"] / scale, 0.4, xerr=xerr, label="mu*", color="C0")
            ax.barh(pos + 0.2, v["sigma"] / scale, 0.4, label="sigma", color="C1")
            title = f"{title} ({unit})" if scale != 1.0 else title
        if t.iloc[:, 2:].isna().all(axis=None):
            ax.text(0.5, 0.5, "the same at every design point:\nno indices", ha="center",
                    va="center", transform=ax.transAxes, fontsize=9, color="0.4")  # fmt: skip
        ax.set_yticks(pos, short_names(list(t["parameter"])), fontsize=8)
        if wide.get(output, 0.0) > WIDE:
            top = " of the top" if design == "morris" else ""
            title += f"\nrough: intervals to ±{wide[output]:.2g}{top}"
        ax.set_title(title, fontsize=10)
    # one legend above the panels: inside a panel it covered the top bars
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=9, frameon=False)
    fig.text(0.5, 0.005, caption, ha="center", va="bottom", fontsize=8, color="0.35",
             linespacing=1.3)  # fmt: skip
    bottom = (0.15 * lines + 0.1) / height
    fig.tight_layout(rect=(0, bottom, 1, 1 - 0.35 / height))
    return fig
