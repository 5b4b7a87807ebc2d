"""Sensitivity analysis of a sweep: Sobol indices (S1, ST) or Morris elementary effects (SALib).

Each output is taken at the final month (flows cumulated to it, :func:`final_values`) and
averaged over replications at each design point (the
replications share seeds across points, so the average is paired noise); the indices come from
``SALib.analyze.sobol`` (no second order, matching the sampler) or ``SALib.analyze.morris``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from culturesim.kpis import KPIS, display_scale
from culturesim.manifest import write_files

__all__ = [
    "analyze_folder",
    "final_values",
    "sensitivity",
    "sensitivity_figure",
    "sensitivity_table",
    "sensitivity_writers",
]


def final_values(ts: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """Each run's outputs at the final month, one row per ``run_id``.

    Stocks and rates are read at the final month; flows (ideas, launches, hires, ...) are
    cumulated up to it, since one month of a flow says little.
    """
    from culturesim.kpis import KPIS

    last = ts[ts["month"] == ts["month"].max()].set_index("run_id")[outputs].copy()
    flows = [k for k in outputs if k in KPIS and KPIS[k].aggregate == "flow"]
    if flows:
        last[flows] = ts.groupby("run_id")[flows].sum()
    return last


SOBOL_KEYS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_KEYS = ("mu", "mu_star", "mu_star_conf", "sigma")


def sensitivity(
    design: str, problem: dict, x: np.ndarray, y: np.ndarray, seed: int = 0
) -> pd.DataFrame:
    """Indices of each parameter for one output.

    Args:
        design: ``"sobol"`` or ``"morris"``.
        problem: SALib problem (``num_vars``, ``names``, ``bounds``).
        x: The design points, in the sampler's order.
        y: The output at each point.
        seed: Seed for SALib's bootstrap.

    Returns:
        One row per parameter: S1, S1_conf, ST, ST_conf (Sobol) or mu, mu_star, mu_star_conf,
        sigma (Morris). An output that is the same at every point has no Sobol indices (they
        are shares of its variance, which is 0): its rows are NaN (Morris's are 0: no effect).
    """
    keys = {"sobol": SOBOL_KEYS, "morris": MORRIS_KEYS}.get(design)
    if keys is None:
        raise ValueError(f"sensitivity needs a sobol or morris design, not {design!r}")
    if design == "sobol" and np.ptp(y) == 0:
        return pd.DataFrame({"parameter": problem["names"], **dict.fromkeys(keys, np.nan)})
    if design == "sobol":
        from SALib.analyze import sobol

        # SALib seeds the bootstrap only for a seed that is true: with 0 (the experiments'
        # default) the confidence intervals came out different at every call
        res = sobol.analyze(problem, y, calc_second_order=False, seed=seed + 1)
    elif design == "morris":
        from SALib.analyze import morris

        res = morris.analyze(problem, x, y, seed=seed)
    return pd.DataFrame({"parameter": problem["names"], **{k: np.asarray(res[k]) for k in keys}})


def analyze_folder(folder: str | Path) -> pd.DataFrame:
    """Compute the indices of every output of a sweep folder; write sensitivity.csv and .png.

    Both files are written, or neither (see :func:`culturesim.manifest.write_files`).

    Raises:
        ValueError: If the sweep's design is not sobol or morris, or it has failed runs.
    """
    folder = Path(folder)
    table, design = sensitivity_table(folder)
    write_files(folder, sensitivity_writers(table, design))
    return table


def sensitivity_writers(table: pd.DataFrame, design: str) -> dict[str, Callable[[Path], object]]:
    """The writers of ``sensitivity.csv`` and ``sensitivity.png`` for ``write_files``."""
    return {
        "sensitivity.csv": lambda path: table.to_csv(path, index=False),
        "sensitivity.png": lambda path: _save(sensitivity_figure(table, design), path),
    }


def _save(fig, path: Path) -> None:
    """Save ``fig`` to ``path`` and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)


def sensitivity_table(folder: str | Path) -> tuple[pd.DataFrame, str]:
    """The indices of every output of a sweep folder (a row a parameter and output), and its design.

    The design is ``sobol`` or ``morris``.

    Raises:
        ValueError: If the sweep's design is not sobol or morris, or it has failed runs.
    """
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    design = manifest["experiment"]["design"]
    if design not in ("sobol", "morris"):
        raise ValueError(f"{folder}: design {design!r} has no sensitivity indices (sobol, morris)")
    runs = pd.read_parquet(folder / "runs.parquet")
    if (runs["status"] != "ok").any():
        failed = int((runs["status"] != "ok").sum())
        raise ValueError(
            f"{folder}: {failed} of {len(runs)} runs failed, and the indices need every design "
            "point (culturesim report lists the failures and their errors)"
        )
    ts = pd.read_parquet(folder / "timeseries.parquet")
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


def sensitivity_figure(table: pd.DataFrame, design: str):
    """Bar charts of the indices, one panel per output."""
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(table["output"]))
    cols = min(3, len(outputs))
    rows = -(-len(outputs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax in axes.flat[len(outputs) :]:
        ax.set_visible(False)
    for ax, output in zip(axes.flat, outputs, strict=False):
        t = table[table["output"] == output]
        pos = np.arange(len(t))
        known = output in KPIS
        title = KPIS[output].label if known else output
        if design == "sobol":  # shares of variance: no unit
            ax.barh(pos - 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="ST", color="C0")
            ax.barh(pos + 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="S1", color="C1")
        else:  # mu* is in the output's unit: dollars in millions, as in every chart
            scale, unit = display_scale(output) if known else (1.0, "")
            ax.barh(pos, t["mu_star"] / scale, 0.6, xerr=t["mu_star_conf"] / scale, label="mu*",
                    color="C0")  # fmt: skip
            title = f"{title} ({unit})" if scale != 1.0 else title
        if t.iloc[:, 2:].isna().all(axis=None):
            ax.text(0.5, 0.5, "the same at every design point:\nno indices", ha="center",
                    va="center", transform=ax.transAxes, fontsize=9, color="0.4")  # fmt: skip
        ax.set_yticks(pos, short_names(list(t["parameter"])), fontsize=8)
        ax.set_title(title, fontsize=10)
    # one legend above the panels: inside a panel it covered the top bars
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (3.6 * rows)))
    return fig
