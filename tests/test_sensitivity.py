"""Sensitivity analysis: the pipeline recovers known Sobol indices; analyze works on a sweep."""

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from culturesim.batch.analyze import sensitivity
from culturesim.batch.experiment import Experiment, Range, Settings
from culturesim.batch.sweep import design_points
from culturesim.notices import Notice
from culturesim.scenario import Scenario
from tests.test_batch import GRID, cli, write_experiment

#: The GRID experiment as a Sobol design of one lever, 4 base samples (12 runs)
ONE_LEVER_SOBOL = GRID.replace('design = "grid"', 'design = "sobol"').replace(
    '"levers.innovation_time" = [0.0, 0.2, 0.4]\n"levers.transparency" = [0.2, 0.8]',
    '"levers.transparency" = { min = 0.0, max = 1.0 }',
).replace("replications = 2", "replications = 1\nsamples = 4")  # fmt: skip

# Ishigami function, a = 7, b = 0.1: analytic first-order and total indices
S1 = np.array([0.3139, 0.4424, 0.0])
ST = np.array([0.5576, 0.4424, 0.2437])


def ishigami(x):
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


NAMES = ["x1", "x2", "x3"]


def ishigami_design(design: str, samples: int):
    """The sweep's own sampler over the Ishigami inputs (uniform on [-pi, pi])."""
    exp = Experiment.model_construct(
        settings=Settings(scenario="-", design=design, samples=samples, seed=3),
        parameters={n: Range(min=-np.pi, max=np.pi) for n in NAMES},
        scenario=Scenario(),
    )
    return design_points(exp)


def test_sobol_pipeline_recovers_ishigami_indices():
    names = NAMES
    points = ishigami_design("sobol", 2048)
    assert len(points) == 2048 * (3 + 2)
    problem = {"num_vars": 3, "names": names, "bounds": [[-np.pi, np.pi]] * 3}
    table = sensitivity("sobol", problem, points.to_numpy(), ishigami(points.to_numpy()), seed=3)
    assert (np.abs(table["S1"] - S1) <= table["S1_conf"] + 1e-3).all(), table
    assert (np.abs(table["ST"] - ST) <= table["ST_conf"] + 1e-3).all(), table
    assert table["ST_conf"].max() < 0.1


def test_sobol_confidence_intervals_repeat_for_every_seed_zero_included():
    # SALib seeds its bootstrap only for a true seed: with 0 the intervals changed every call
    points = ishigami_design("sobol", 64).to_numpy()
    problem = {"num_vars": 3, "names": NAMES, "bounds": [[-np.pi, np.pi]] * 3}
    for seed in (0, 5):
        first, again = (sensitivity("sobol", problem, points, ishigami(points), seed=seed)
                        for _ in range(2))  # fmt: skip
        pd.testing.assert_frame_equal(first, again, check_exact=True)


def test_an_output_that_never_varies_has_no_sobol_indices_and_no_morris_effect():
    problem = {"num_vars": 3, "names": NAMES, "bounds": [[-np.pi, np.pi]] * 3}
    x = ishigami_design("sobol", 64).to_numpy()
    sobol = sensitivity("sobol", problem, x, np.full(len(x), 2.0))
    assert sobol[["S1", "S1_conf", "ST", "ST_conf"]].isna().all(axis=None)  # shares of 0
    x = ishigami_design("morris", 20).to_numpy()
    morris = sensitivity("morris", problem, x, np.full(len(x), 2.0))
    assert (morris[["mu", "mu_star", "sigma"]] == 0).all(axis=None)


def test_morris_ranks_ishigami_parameters():
    names = NAMES
    x = ishigami_design("morris", 200).to_numpy()
    problem = {"num_vars": 3, "names": names, "bounds": [[-np.pi, np.pi]] * 3}
    table = sensitivity("morris", problem, x, ishigami(x), seed=3)
    assert table["mu_star"].iloc[2] < table["mu_star"].iloc[0]  # x3 acts only through x1


def _ishigami_table(design: str, samples: int) -> pd.DataFrame:
    """The indices of the Ishigami function as one output, ``y``, as analyze tables them."""
    problem = {"num_vars": 3, "names": NAMES, "bounds": [[-np.pi, np.pi]] * 3}
    x = ishigami_design(design, samples).to_numpy()
    table = sensitivity(design, problem, x, ishigami(x), seed=3)
    table.insert(0, "output", "y")
    return table


@pytest.mark.parametrize(("design", "few"), [("sobol", 256), ("morris", 50)])
def test_rough_indices_are_named_with_the_samples_that_narrow_them(design, few, closing_figures):
    """Indices whose intervals reach +/-0.3 were printed like settled ones, without a word:
    a ten-lever Sobol study of 64 samples ranked parameters whose intervals overlapped. Now a
    note names the output, its widest interval, and the samples that narrow it to about 0.1;
    and those samples do."""
    from culturesim.batch.analyze import WIDE, interval_note, widest_intervals

    rough = _ishigami_table(design, few)
    widest = widest_intervals(rough, design).iloc[0]
    assert widest["half_width"] > WIDE
    note = interval_note(rough, design, few)
    assert f"y (+/-{widest['half_width']:.2g}" in note
    assert f"{widest['statistic']} of {widest['parameter']})" in note
    suggested = int(re.search(r"samples = ([\d,]+) \((\d+)x the runs\)", note)[1].replace(",", ""))
    assert suggested > few and (design != "sobol" or suggested & (suggested - 1) == 0)
    settled = _ishigami_table(design, suggested)
    assert widest_intervals(settled, design)["half_width"].max() <= WIDE
    assert interval_note(settled, design, suggested) == ""
    # the figure marks the rough panel, and says what its bars are and how many samples
    from culturesim.batch.analyze import sensitivity_figure

    for table, samples, marked in ((rough, few, True), (settled, suggested, False)):
        fig = sensitivity_figure(table, design, samples)
        title = fig.axes[0].get_title()
        assert ("rough: intervals to ±" in title) is marked, title
        caption = " ".join(" ".join(t.get_text() for t in fig.texts).split())  # unwrapped
        assert "Lines: 95% confidence intervals" in caption
        assert f"{samples:,} {'base samples' if design == 'sobol' else 'trajectories'}" in caption


def test_sobol_intervals_wider_than_an_index_can_be_ask_for_a_first_step_not_billions():
    """Four Sobol base samples gave intervals of +/-90 (Ishigami) and +/-2,700 (the notebook's
    quick run): some bootstrap resamples repeat a point or two, and the output hardly varies
    among them. Read as 1/sqrt(samples), such an interval asked for four billion samples. An
    interval wider than an index's whole range tells nothing of how many would do: the note
    asks for a first step instead, and at that step it can tell."""
    from culturesim.batch.analyze import BEYOND_RANGE, FIRST_STEP, interval_note, widest_intervals

    few = 4
    rough = _ishigami_table("sobol", few)
    assert widest_intervals(rough, "sobol")["half_width"].max() > BEYOND_RANGE
    note = interval_note(rough, "sobol", few)
    assert "spans more than an index's whole range (0 to 1)" in note
    step = int(re.search(r"samples = ([\d,]+) \((\d+)x the runs\)", note)[1].replace(",", ""))
    assert step == FIRST_STEP * few
    assert widest_intervals(_ishigami_table("sobol", step), "sobol")["half_width"].max() <= 1
    assert "1/sqrt(samples)" in interval_note(_ishigami_table("sobol", step), "sobol", step)


@pytest.mark.parametrize("design", ["sobol", "morris"])
def test_the_indices_figure_draws_both_statistics_and_says_what_they_are(design, closing_figures):
    """A Morris figure drew mu* alone, though analyze computes sigma (whether a parameter acts
    through interactions or non-linearly: Ishigami's x3 acts only with x1). Each figure now
    draws both of its statistics, and a caption within the figure says what they are."""
    from culturesim.batch.analyze import MEANING, sensitivity_figure

    table = _ishigami_table(design, 256 if design == "sobol" else 50)
    fig = sensitivity_figure(table, design, 50)
    ax = fig.axes[0]
    stats = ("ST", "S1") if design == "sobol" else ("mu_star", "sigma")
    widths = [sorted(p.get_width() for p in c) for c in ax.containers if hasattr(c, "patches")]
    assert widths == [sorted(table[k]) for k in stats]  # every bar is the table's
    labels = ax.get_legend_handles_labels()[1]
    assert labels == (["ST", "S1"] if design == "sobol" else ["mu*", "sigma"])
    if design == "morris":  # x3's effects spread more than they average: interaction
        x3 = table.set_index("parameter").loc["x3"]
        assert x3["sigma"] > x3["mu_star"]
    fig.canvas.draw()
    (caption,) = fig.texts
    assert " ".join(caption.get_text().split()).startswith(MEANING[design])
    box, frame = caption.get_window_extent(), fig.get_window_extent()
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0  # within the figure
    assert all(box.y1 < a.get_tightbbox().y0 for a in fig.axes if a.get_visible())  # below them


@pytest.mark.parametrize(
    ("design", "index", "label"), [("morris", "mu_star", "mu*"), ("sobol", "ST", "ST")]
)
def test_an_interval_of_an_index_never_below_zero_is_drawn_cut_at_zero(
    closing_figures, design, index, label
):
    """mu* is a mean of effects' sizes and ST (Jansen's) a mean of squares, never below 0, but
    SALib's interval is the index plus or minus a half-width: the figure drew intervals into
    negative numbers (a ten-lever Morris study's cash panel reached -3 M$, a small Sobol study's
    ST -0.9) and stretched its axis to show them. The line now stops at 0."""
    from culturesim.batch.analyze import sensitivity_figure

    table = _ishigami_table(design, 50)
    table[f"{index}_conf"] = table[f"{index}_conf"].clip(upper=0.5 * table[index])
    table.loc[0, f"{index}_conf"] = 3 * table.loc[0, index]  # an interval reaching below 0
    fig = sensitivity_figure(table, design, 50)
    ax = fig.axes[0]
    [bars] = [c for c in ax.containers if c.get_label() == label]
    [segments] = [lines.get_segments() for lines in bars.errorbar.lines[2]]
    lows = [min(a[0], b[0]) for a, b in segments]
    highs = [max(a[0], b[0]) for a, b in segments]
    assert lows[0] == 0.0  # the wide one cut at 0
    assert lows[1:] == pytest.approx(list(table[index] - table[f"{index}_conf"])[1:])  # the rest
    assert highs == pytest.approx(list(table[index] + table[f"{index}_conf"]))
    if design == "morris":  # (S1's estimates, beside ST's, may be below 0)
        assert ax.get_xlim()[0] >= -0.05 * ax.get_xlim()[1]  # the axis starts at 0 (a margin)
    caption = " ".join(" ".join(t.get_text() for t in fig.texts).split())
    assert f"{label}{"'s" * (design == 'sobol')} cut at 0, below which it cannot be" in caption


def test_a_sweeps_money_flows_are_totals_over_the_months_simulated(closing_figures):
    """A sweep's flows are totalled over the run: money flows summed month 0 too, a month of
    opening costs and revenue that never reaches cash (a ten-lever Morris study's net cash flow
    read $1.2M off its cash), and their panels said "M$ per month" of a five-year total."""
    from culturesim.batch.analyze import final_values, sensitivity_figure
    from culturesim.kpis import display_scale
    from culturesim.run import run_seeds
    from tests.conftest import SMALL_MARKET

    scenario = Scenario().with_changes({**SMALL_MARKET, "organization.employees": 20})
    ts = run_seeds(scenario, [1, 2], 12)
    ts["run_id"] = ts["seed"]
    outputs = ["net_cash_flow", "costs", "launches", "cash"]
    final = final_values(ts, outputs)
    start = ts[ts["month"] == 0].set_index("run_id")
    end = ts[ts["month"] == 12].set_index("run_id")
    # cash at the end: the opening cash, the net cash flow of months 1-12 and the rounds
    expected = end["cash"] - start["cash"] - end["funding_raised"]
    assert np.allclose(final["net_cash_flow"], expected, rtol=1e-12)
    assert (start["costs"] > 0).all()  # month 0 has costs to leave out
    assert np.allclose(final["costs"], ts[ts["month"] > 0].groupby("run_id")["costs"].sum())
    assert (final["cash"] == end["cash"]).all()  # a stock: the last month's
    assert display_scale("costs") == (1e6, "M$ per month")  # a month's, in charts by month
    assert display_scale("costs", total=True) == (1e6, "M$")
    assert display_scale("cash", total=True) == (1e6, "M$")
    assert display_scale("launches", total=True) == display_scale("launches") == (1.0, "launches")
    table = pd.DataFrame({"output": ["net_cash_flow", "cash"], "parameter": ["x1", "x1"],
                          "mu": [-2e7, 3e7], "mu_star": [2e7, 3e7], "mu_star_conf": [1e6, 1e6],
                          "sigma": [1e6, 1e6]})  # fmt: skip
    fig = sensitivity_figure(table, "morris", 8)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["Net cash flow (M$)", "Cash (M$)"]


@pytest.mark.parametrize("design", ["sobol", "morris", "lhs"])
def test_the_indices_figure_of_one_parameter_draws_without_a_warning(design, closing_figures):
    """With one parameter each statistic is a one-row Series: given as such to ``barh``,
    matplotlib 3.8 took float() of it, and `culturesim report` on a one-lever Sobol sweep
    printed pandas' FutureWarning four times (pandas 2.1, the oldest versions allowed)."""
    import warnings

    from culturesim.batch.analyze import sensitivity_figure

    if design == "lhs":
        table = pd.DataFrame({"output": ["y"], "parameter": ["x1"], "PRCC": [0.4],
                              "PRCC_conf": [0.2], "PRCC_p": [0.01]})  # fmt: skip
    else:
        table = _ishigami_table(design, 64 if design == "sobol" else 10)
        table = table[table["parameter"] == "x1"].reset_index(drop=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = sensitivity_figure(table, design, 8)
        fig.canvas.draw()
    # none, DeprecationWarnings too: matplotlib 3.8 took the first of two one-bar arrays of
    # error bars as a number (NumPy 1.25+ deprecates it), 96 warnings in test-oldest's suite
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
    assert len(fig.axes[0].patches) == (1 if design == "lhs" else 2)


def test_prcc_is_the_partial_correlation_of_the_ranks():
    """An LHS sweep had no indices ("design 'lhs' has none"), though partial rank correlation
    is the usual measure of a Latin hypercube of an agent-based model (Marino et al. 2008).
    Checked against the other way to the same number: from the inverse of the Spearman matrix
    of the parameters and the output."""
    from scipy import stats

    from culturesim.batch.analyze import prcc

    x = ishigami_design("lhs", 300).to_numpy()
    rng = np.random.default_rng(5)
    y = np.exp(x[:, 0]) + 0.3 * x[:, 1] ** 3 + rng.normal(0.0, 1.0, len(x))  # x3 does nothing
    got = prcc(x, y)
    inverse = np.linalg.inv(stats.spearmanr(np.column_stack([x, y])).statistic)
    want = -inverse[:3, 3] / np.sqrt(np.diag(inverse)[:3] * inverse[3, 3])
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-9, atol=1e-12)
    r, conf, p = got.T
    assert (r[:2] - conf[:2] > 0).all() and abs(r[2]) < conf[2]  # x1, x2 rise; x3: maybe 0
    # the p-value of r = 0 (it had none): the t-test of the parameter's coefficient when the
    # output's ranks are regressed on all the parameters' ranks, the same test another way
    design = np.column_stack([np.ones(len(x)), *(stats.rankdata(c) for c in x.T)])
    ry = stats.rankdata(y)
    beta, residual = np.linalg.lstsq(design, ry, rcond=None)[:2]
    df = len(x) - design.shape[1]
    se = np.sqrt(residual[0] / df * np.diag(np.linalg.inv(design.T @ design)))[1:]
    np.testing.assert_allclose(p, 2 * stats.t.sf(np.abs(beta[1:] / se), df), rtol=1e-8)
    assert (p[:2] < 1e-6).all() and p[2] > 0.05
    # Fisher's interval: tanh(atanh(r) +/- 1.96 / sqrt(n - 3 - 2)); conf its larger half
    half = 1.959963984540054 / np.sqrt(len(x) - 5)
    lo, hi = np.tanh(np.arctanh(r) - half), np.tanh(np.arctanh(r) + half)
    np.testing.assert_allclose(conf, np.maximum(r - lo, hi - r), rtol=1e-12)
    # an exact monotone relation: 1, its interval (from the nearest rank correlation short of
    # 1, which Fisher's z can take) a few millionths from 300 points; none for a constant
    # output or too few points
    exact, conf, p = prcc(x, np.exp(x[:, 1]))[1]
    assert exact == 1.0 and 0.0 < conf < 1e-5 and p == 0.0
    # from 5 points a perfect order comes by chance one time in 60: it read 1 +/- 0, certain
    few = prcc(np.array([[0.1], [0.3], [0.5], [0.7], [0.9]]), np.array([5.0, 4.0, 3.5, 3.0, 1.0]))
    assert few[0, 0] == pytest.approx(-1.0) and few[0, 1] > 0.5
    assert np.isnan(prcc(x, np.ones(len(x)))).all() and np.isnan(prcc(x[:5], y[:5])).all()


def test_analyze_and_report_on_an_lhs_sweep(tmp_path):
    """Its PRCC table, figure and report; and a hypercube too small for its parameters gets
    one line saying how many points it needs, from analyze (exit 2) and in the report."""
    from culturesim.batch.report import write_report

    body = (
        GRID.replace('design = "grid"', 'design = "lhs"')
        .replace(
            '"levers.innovation_time" = [0.0, 0.2, 0.4]\n"levers.transparency" = [0.2, 0.8]',
            '"levers.innovation_time" = { min = 0.0, max = 0.5 }\n'
            '"levers.transparency" = { min = 0.0, max = 1.0 }',
        )
        .replace("replications = 2", "replications = 1\nsamples = 12")
    )
    for samples, out in ((12, tmp_path / "ok"), (4, tmp_path / "few")):
        path = write_experiment(tmp_path, body.replace("samples = 12", f"samples = {samples}"),
                                name=f"lhs{samples}.toml")  # fmt: skip
        sweep = cli("sweep", path, "--out", out, "--workers", "1")
        assert sweep.returncode == 0, sweep.stderr
    proc = cli("analyze", tmp_path / "ok")
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "ok" / "sensitivity.csv")
    assert list(table.columns) == ["output", "parameter", "PRCC", "PRCC_conf", "PRCC_p"]
    assert len(table) == 4 * 2 and (table["PRCC"].dropna().abs() <= 1).all()
    assert "## Sensitivity" in write_report(tmp_path / "ok").read_text()
    few = cli("analyze", tmp_path / "few")
    why = "partial rank correlations of 2 parameters need at least 5 design points (samples)"
    assert few.returncode == 2 and f"{why}, and the sweep has 4" in few.stderr, few.stderr
    assert not (tmp_path / "few" / "sensitivity.csv").exists()
    report = write_report(tmp_path / "few").read_text()  # the rest of the report is written
    assert f"No lhs indices: {why}, and the sweep has 4." in report
    assert "## Sensitivity" not in report


def test_analyzes_table_reads_each_lines_statistics_in_one_unit():
    """analyze printed the frame as pandas does: Morris's mu read "3.470000e-01" beside mu*
    "0.347" (a column holding dollars too), and cash's mu* "47235717.793"."""
    from culturesim.cli import indices_table

    morris = pd.DataFrame({
        "output": ["attrition_rate_annual", "cash", "launches"],
        "parameter": ["levers.transparency", "levers.inclusion", "levers.inclusion"],
        "mu": [-0.388, -982_650.7, np.nan], "mu_star": [0.388, 1_690_658.6, np.nan],
        "mu_star_conf": [0.1171, 949_205.6, np.nan], "sigma": [0.2667, 2_738_089.1, np.nan],
    })  # fmt: skip
    lines = indices_table(morris).splitlines()
    assert lines[0].split() == ["output", "parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
    assert lines[1].split()[2:] == ["-0.388", "0.388", "0.117", "0.267"]
    assert lines[2].split()[2:] == ["-0.98M", "1.69M", "0.95M", "2.74M"]  # dollars: millions
    assert lines[3].split()[2:] == ["nan"] * 4  # the same at every point: no indices
    assert len({len(line) for line in lines[:3]}) == 1  # columns aligned
    lhs = pd.DataFrame({"output": ["engagement"], "parameter": ["levers.inclusion"],
                        "PRCC": [0.9312], "PRCC_conf": [0.0214], "PRCC_p": [3.1e-12]})  # fmt: skip
    assert indices_table(lhs).splitlines()[1].split()[2:] == ["0.931", "0.021", "3.1e-12"]


def test_analyze_command_on_a_sobol_sweep(tmp_path):
    body = (
        GRID.replace('design = "grid"', 'design = "sobol"')
        .replace(
            '"levers.innovation_time" = [0.0, 0.2, 0.4]\n"levers.transparency" = [0.2, 0.8]',
            '"levers.innovation_time" = { min = 0.0, max = 0.5 }\n'
            '"levers.transparency" = { min = 0.0, max = 1.0 }',
        )
        .replace("replications = 2", "replications = 1\nsamples = 4")
    )
    path = write_experiment(tmp_path, body)
    sweep = cli("sweep", path, "--out", tmp_path / "s", "--workers", "2")
    assert sweep.returncode == 0, sweep.stderr
    proc = cli("analyze", tmp_path / "s")
    assert proc.returncode == 0, proc.stderr
    assert "note: the indices are rough, their 95% confidence intervals wider than" in proc.stderr
    table = pd.read_csv(tmp_path / "s" / "sensitivity.csv")
    assert list(table.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(table) == 4 * 2  # four outputs x two parameters
    assert (tmp_path / "s" / "sensitivity.png").stat().st_size > 10_000
    # which code computed them, from which sweep: a later culturesim may compute other
    # intervals from the same runs, and the sweep's manifest names the sweep's code only
    import hashlib
    import json

    from culturesim.compiled import SOURCE_DIGEST

    record = json.loads((tmp_path / "s" / "sensitivity.json").read_text())
    sweep_manifest = (tmp_path / "s" / "manifest.json").read_bytes()
    assert record["kind"] == "analyze" and record["code_digest"] == SOURCE_DIGEST
    assert record["command"] == ["culturesim", "analyze", str(tmp_path / "s")]
    assert record["files"] == ["sensitivity.csv", "sensitivity.png"]
    assert record["sweep_manifest_sha256"] == hashlib.sha256(sweep_manifest).hexdigest()
    from culturesim.batch.report import write_report
    from culturesim.kpis import KPIS, format_numbers

    note = proc.stderr.split("note: ")[-1].strip()
    report = write_report(tmp_path / "s").read_text()
    assert f"Note: {note}." in report  # the report says it too
    own = json.loads(report.split("This report's")[1].split("```json")[1].split("```")[0])
    assert own["kind"] == "report" and own["code_digest"] == SOURCE_DIGEST
    assert own["files"] == ["timeseries.png", "scatter.png", "report.md"]
    assert "response.png" not in report  # no response figure, nor its note
    assert own["sweep_manifest_sha256"] == record["sweep_manifest_sha256"]
    assert json.loads((tmp_path / "s" / "sensitivity.json").read_text())["kind"] == "report"
    # and tables each parameter's ST for each output, the output's largest in bold
    lines = report.split("## Sensitivity")[1].splitlines()
    rows = [[c.strip() for c in r.strip("|").split("|")] for r in lines if r.startswith("| ")]
    outputs = list(dict.fromkeys(table["output"]))
    assert rows[0] == ["parameter", *(KPIS[o].label for o in outputs)]
    assert [r[0] for r in rows[1:]] == ["innovation_time", "transparency"]
    for j, output in enumerate(outputs, start=1):
        t = table[table["output"] == output]
        if t["ST"].isna().all():  # the same at every point: no indices
            assert [r[j] for r in rows[1:]] == ["-", "-"]
            continue
        cells = [" ± ".join(format_numbers((v, c)))
                 for v, c in zip(t["ST"], t["ST_conf"], strict=True)]  # fmt: skip
        top = int(t["ST"].to_numpy().argmax())
        cells[top] = f"**{cells[top]}**"
        assert [r[j] for r in rows[1:]] == cells
    grid = write_experiment(tmp_path, GRID, name="grid.toml")
    assert cli("sweep", grid, "--out", tmp_path / "g", "--workers", "1").returncode == 0
    bad = cli("analyze", tmp_path / "g")
    assert bad.returncode == 2 and "sobol" in bad.stderr


def test_a_reports_money_reads_in_millions_beside_millions():
    """A report's tables printed a Morris mu* of cash as "1.69M ± 950,114" and a final-month
    summary's money below $1M in full: money now reads in millions from $100,000, as `run`'s
    table does, and counts stay in full."""
    from culturesim.batch.report import _indices_markdown, _markdown

    table = pd.DataFrame({"output": ["cash", "launches"], "parameter": "levers.inclusion",
                          "mu": [1.69e6, 123_456.0], "mu_star": [1.69e6, 123_456.0],
                          "mu_star_conf": [950_114.0, 5_000.0], "sigma": 0.0})  # fmt: skip
    rows = [line for line in _indices_markdown(table, "morris") if line.startswith("| inclusion")]
    assert rows == ["| inclusion | **1.69M ± 0.95M** | **123,456 ± 5,000** |"]
    summary = pd.DataFrame({"cash": [965_386.0], "launches": [965_386.0]}, index=["mean"])
    assert _markdown(summary).splitlines()[-1] == "| mean | 0.965M | 965,386 |"


def test_a_sobol_sweep_with_failed_runs_still_gets_its_report(tmp_path, monkeypatch):
    from culturesim.batch import load_experiment, run_sweep
    from culturesim.batch import sweep as sweep_module
    from culturesim.batch.report import write_report

    real = sweep_module.run_one

    def flaky(scenario, changes, seed, months, outputs):
        if changes["levers.transparency"] > 0.5:
            raise RuntimeError("boom")
        return real(scenario, changes, seed, months, outputs)

    monkeypatch.setattr(sweep_module, "run_one", flaky)
    exp = load_experiment(write_experiment(tmp_path, ONE_LEVER_SOBOL))
    with pytest.warns(Notice, match=r"^6 of 12 runs failed, the first \(run 0\): RuntimeError"):
        out = run_sweep(exp, tmp_path / "s", workers=1, progress=False)
    report = write_report(out).read_text()  # it raised: the indices need every run
    assert "## Runs that failed" in report and "RuntimeError: boom" in report
    assert "No sobol indices: they need every design point, and some runs failed." in report
    assert not (out / "sensitivity.csv").exists()
    # a sampled design's response: final values against the parameter, at the points that ran
    assert "![scatter.png](scatter.png)" in report and (out / "scatter.png").stat().st_size > 5e3


def test_shipped_experiments_are_valid():
    from culturesim.batch import design_points, load_experiment
    from tests.conftest import ROOT

    files = sorted((ROOT / "experiments").glob("*.toml"))
    names = {f.stem for f in files}
    assert {"innovation_time_sweep", "levers_sobol", "levers_morris",
            "transparency_after_incident"} <= names  # fmt: skip
    for f in files:
        exp = load_experiment(f)
        assert len(design_points(exp)) == exp.design_size >= 5  # what validate says
    sobol = load_experiment(ROOT / "experiments" / "levers_sobol.toml")
    assert len(sobol.parameters) >= 8
    lhs = sobol.model_copy(update={"settings": sobol.settings.model_copy(update={"design": "lhs"})})
    assert len(design_points(lhs)) == lhs.design_size == sobol.settings.samples


def test_report_writes_figures_and_a_markdown_with_the_manifest(tmp_path):
    from culturesim.batch import load_experiment, run_sweep
    from culturesim.batch.report import write_report

    out = run_sweep(load_experiment(write_experiment(tmp_path, GRID)), tmp_path / "o", workers=1,
                    progress=False)  # fmt: skip
    report = write_report(out).read_text()
    assert "## Manifest" in report and '"experiment_hash"' in report
    for name in ("timeseries.png", "response.png"):
        assert (out / name).stat().st_size > 10_000
        assert f"]({name})" in report
    # the response's bars are each value's own: the shared seeds make differences surer
    assert "(response.png)\n\nresponse.png: each value's mean, with its 95% t interval" in report


def test_a_grids_one_value_lists_are_said_in_the_reports_titles_not_drawn(tmp_path, monkeypatch):
    """A grid holding keys at one value (a market's size beside the lever swept) drew a panel
    of one dot for each of them, and legend lines "point 0", "point 1" where the varied
    lever's values belong (three parameters are too many to name)."""
    from culturesim.batch import load_experiment, report, run_sweep

    body = GRID.replace('"levers.transparency" = [0.2, 0.8]', (
        '"levers.transparency" = [0.8]\n"organization.sites" = [2]'
    ))  # fmt: skip
    out = run_sweep(load_experiment(write_experiment(tmp_path, body)), tmp_path / "o", workers=1,
                    progress=False)  # fmt: skip
    drawn = {}
    for name in ("_series_figure", "_response_figure"):
        real = getattr(report, name)

        def keep(*args, real=real, name=name):
            drawn[name] = fig = real(*args)
            return fig

        monkeypatch.setattr(report, name, keep)
    close = report.plt.close
    monkeypatch.setattr(report.plt, "close", lambda fig: None)  # kept open to be read
    text = report.write_report(out).read_text()
    series, response = drawn["_series_figure"], drawn["_response_figure"]
    assert len(response.axes) == 4  # the four outputs against innovation time alone
    assert {ax.get_xlabel() for ax in response.axes} == {"levers.innovation_time"}
    labels = [t.get_text() for t in series.legends[0].get_texts()]
    assert labels == [f"innovation_time = {v}" for v in ("0", "0.2", "0.4")]
    for fig in (series, response):
        assert fig.get_suptitle().endswith("\nat every point: transparency = 0.8, sites = 2")
    assert "(other parameters pooled)" not in response.get_suptitle()
    assert "| levers.transparency | organization.sites |" in text  # the table keeps them all
    for fig in drawn.values():
        close(fig)


def test_held_and_varied_parameters_are_told_apart_by_their_short_names():
    """A merger's values.innovation varied beside the core value held: both read "innovation",
    the title's "innovation = 0.8" and the legend's "innovation = 0.3" of two keys."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from culturesim.batch.report import _held, _point_labels, _scatter_figure

    params = ["events.0.values.innovation", "organization.core_values.innovation"]
    runs = pd.DataFrame({"point": [0, 1], params[0]: [0.3, 0.8], params[1]: [0.8, 0.8]})
    varied, held, names = _held(runs, params)
    assert varied == params[:1] and held == "\nat every point: core_values.innovation = 0.8"
    assert _point_labels(runs, varied, names)[0] == "values.innovation = 0.3"
    # a sampled whole-number range with one whole number in it (sites from 0.6 to 1.4) holds
    # its key too: the scatter says so and draws no column of dots for it
    runs = pd.DataFrame({"run_id": [0, 1], "point": [0, 1], "status": "ok",
                         "levers.inclusion": [0.2, 0.7], "organization.sites": [1, 1]})  # fmt: skip
    ts = pd.DataFrame({"run_id": [0, 1], "month": 3, "engagement": [0.64, 0.63]})
    varied, held, _ = _held(runs, ["levers.inclusion", "organization.sites"])
    fig = _scatter_figure(ts, runs, varied, ["engagement"], held)
    plt.close(fig)
    assert [ax.get_xlabel() for ax in fig.axes] == ["levers.inclusion"]
    assert fig.get_suptitle().endswith("\nat every point: sites = 1")


def test_report_is_written_in_utf8_whatever_the_locale(tmp_path):
    """On an ASCII locale (LC_ALL=C without Python's UTF-8 mode) every report failed on its
    "x" sign, with one line and nothing written; a name in another script failed anywhere
    whose encoding lacks it (Windows' code pages)."""
    import os

    from culturesim.batch import load_experiment, run_sweep

    if not os.path.realpath(sys.prefix).isascii():  # found in /tmp/.../cs \u00fc
        pytest.skip(
            "without UTF-8 mode, Python cannot run from a folder whose path is not ASCII "
            "(NumPy's compiled modules fail to load: a UnicodeEncodeError), so this checkout "
            "cannot be tested under an ASCII locale"
        )
    body = GRID.replace('name = "grid"', 'name = "Z\u00fcrich \u5317\u4eac"')
    out = run_sweep(load_experiment(write_experiment(tmp_path, body)), tmp_path / "o", workers=1,
                    progress=False)  # fmt: skip
    ascii_locale = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "culturesim", "report", str(out)],
        capture_output=True, text=True, env={**os.environ, **ascii_locale}, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Sweep report: Z\u00fcrich \u5317\u4eac\n")
    assert "design points \u00d7 2 replications" in report


def test_the_report_legend_names_each_design_point_by_its_levers():
    """A reader of timeseries.png sees which lever values a line is, not just a point number."""
    import pandas as pd

    from culturesim.batch.report import _point_labels

    runs = pd.DataFrame({"point": [0, 0, 1, 1], "levers.innovation_time": [0.0, 0.0, 0.2, 0.2],
                         "levers.transparency": [0.2, 0.2, 0.8, 0.8]})  # fmt: skip
    two = ["levers.innovation_time", "levers.transparency"]
    assert _point_labels(runs, two) == {
        0: "innovation_time = 0, transparency = 0.2",
        1: "innovation_time = 0.2, transparency = 0.8",
    }
    assert _point_labels(runs, two[:1])[1] == "innovation_time = 0.2"
    runs["levers.inclusion"] = 0.5
    assert _point_labels(runs, [*two, "levers.inclusion"]) == {0: "point 0", 1: "point 1"}
    runs["market.user_network"] = ["mixed", "mixed", "small_world", "small_world"]
    assert _point_labels(runs, ["market.user_network"])[1] == "user_network = small_world"
    runs["events.0.month"], runs["events.1.month"] = [12, 12, 24, 24], [30, 30, 36, 36]
    assert _point_labels(runs, ["events.0.month", "events.1.month"])[1] == (
        "events.0.month = 24, events.1.month = 36"  # both read "month = ..."
    )


def test_the_report_colours_one_numeric_parameter_in_its_order():
    """Eight innovation times read as a progression (dark to light), not eight unrelated hues."""
    import pandas as pd
    from matplotlib.colors import to_rgb

    from culturesim.batch.report import _point_colors

    values = [0.5, 0.0, 0.2, 0.1]  # design points need not come in the parameter's order
    runs = pd.DataFrame({"point": [0, 1, 2, 3], "levers.innovation_time": values})
    colors = _point_colors(runs, ["levers.innovation_time"])
    lightness = {v: sum(to_rgb(colors[p])) for p, v in enumerate(values)}
    assert lightness[0.0] < lightness[0.1] < lightness[0.2] < lightness[0.5]
    runs["market.user_network"] = ["mixed", "small_world", "mixed", "scale_free"]
    text = _point_colors(runs, ["market.user_network"])  # no order: distinct colours
    assert len({to_rgb(c) for c in text.values()}) == 4
    assert _point_colors(runs.iloc[:2], ["levers.innovation_time"]) == {0: "C0", 1: "C1"}


def test_a_grids_response_is_ticked_at_the_grids_values():
    """A head count varied over 1 and 2 reads 1, 2 on its axis, not 1.0, 1.2, ... 2.0."""
    import pandas as pd

    from culturesim.batch.report import _response_figure

    network = ["mixed", "mixed", "small_world", "small_world"]
    runs = pd.DataFrame(
        {"run_id": range(4), "point": range(4), "organization.sites": [1, 2, 1, 2],
         "market.user_network": network}
    )  # fmt: skip
    ts = pd.DataFrame({"run_id": range(4), "month": 3, "engagement": [0.6, 0.7, 0.62, 0.71]})
    fig = _response_figure(ts, runs, ["organization.sites", "market.user_network"], ["engagement"])
    sites, network = fig.axes
    assert list(sites.get_xticks()) == [1, 2]
    assert [t.get_text() for t in sites.get_xticklabels()] == ["1", "2"]
    assert [t.get_text() for t in network.get_xticklabels()] == ["mixed", "small_world"]


def test_a_grids_categories_stand_in_the_experiments_order_unjoined():
    """A network kind's response drew its categories in alphabetical order (mixed first)
    joined by a line, as if they were a scale; the experiment listed small_world first. The
    series figure's legend lists them in that order too."""
    import pandas as pd

    from culturesim.batch.report import _response_figure, _series_figure

    kinds = ["small_world", "scale_free", "mixed"]
    runs = pd.DataFrame({"run_id": range(6), "point": [0, 0, 1, 1, 2, 2],
                         "market.user_network": [k for k in kinds for _ in (0, 1)]})  # fmt: skip
    ts = pd.DataFrame({"run_id": range(6), "month": 3, "users_active": [5, 6, 7, 8, 9, 10.0]})
    fig = _response_figure(ts, runs, ["market.user_network"], ["users_active"])
    [ax] = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == kinds
    [line] = ax.get_lines()[:1]
    assert line.get_linestyle() == "None"  # markers and intervals, no line between them
    assert list(line.get_ydata()) == [5.5, 7.5, 9.5]
    fig = _series_figure(ts, runs, ["market.user_network"], ["users_active"])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        f"user_network = {k}" for k in kinds
    ]
    # numbers are a scale: joined
    runs["levers.inclusion"] = [0.1, 0.1, 0.5, 0.5, 0.9, 0.9]
    [ax] = _response_figure(ts, runs, ["levers.inclusion"], ["users_active"]).axes
    assert ax.get_lines()[0].get_linestyle() == "-"


def test_a_morris_levels_are_labelled_in_few_digits_that_keep_them_apart():
    """A Morris sweep's levels (k/3 of a range) were labelled 0.166667 and 0.333333 in the
    series legend and the response ticks; they read 0.167 and 0.333 now, with more digits only
    where fewer would make two values look the same, and whole numbers written whole."""
    import pandas as pd

    from culturesim.batch.report import _point_labels, _response_figure, _series_figure

    levels = [0.0, 1 / 6, 1 / 3, 0.5]
    paired = [v for v in levels for _ in (0, 1)]
    runs = pd.DataFrame({"run_id": range(8), "point": [0, 0, 1, 1, 2, 2, 3, 3],
                         "levers.innovation_time": paired})  # fmt: skip
    ts = pd.DataFrame({"run_id": range(8), "month": 3, "launches": [1, 2, 3, 4, 5, 6, 7, 8.0]})
    shown = ["0", "0.167", "0.333", "0.5"]
    fig = _series_figure(ts, runs, ["levers.innovation_time"], ["launches"])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        f"innovation_time = {v}" for v in shown
    ]
    [ax] = _response_figure(ts, runs, ["levers.innovation_time"], ["launches"]).axes
    assert [t.get_text() for t in ax.get_xticklabels()] == shown
    runs["levers.innovation_time"] = [0.1234, 0.1234, 0.1235, 0.1235, 0.2, 0.2, 0.3, 0.3]
    assert list(_point_labels(runs, ["levers.innovation_time"]).values()) == [
        f"innovation_time = {v}" for v in ("0.1234", "0.1235", "0.2", "0.3")
    ]
    runs["levers.training_budget"] = [1300, 1300, 2000, 2000, 150000, 150000, 2e6, 2e6]
    assert list(_point_labels(runs, ["levers.training_budget"]).values()) == [
        f"training_budget = {v}" for v in ("1300", "2000", "150000", "2e+06")
    ]


def test_the_reports_panels_span_a_small_change_as_the_other_figures_do():
    """147 against 150 people filled a response or scatter panel from top to bottom, a cliff,
    where every other figure draws it as the near-flat line it is (an axis spanning at least
    5% of its largest value); and a head count sampled for a scatter is ticked in whole ones."""
    import pandas as pd

    from culturesim.batch.report import _response_figure, _scatter_figure

    runs = pd.DataFrame({"run_id": range(4), "point": range(4), "status": "ok",
                         "organization.sites": [1, 2, 3, 3]})  # fmt: skip
    ts = pd.DataFrame({"run_id": range(4), "month": 12, "headcount": [150, 149, 147, 148]})
    for draw in (_response_figure, _scatter_figure):
        (ax,) = draw(ts, runs, ["organization.sites"], ["headcount"]).axes
        low, high = ax.get_ylim()
        assert low <= 147 and high >= 150 and high - low >= 0.05 * 150, (draw, low, high)
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
        assert ticks == [1, 2, 3], (draw, ticks)


def test_a_report_cut_short_leaves_the_folder_as_it_was(tmp_path, monkeypatch, capsys):
    """A report writes its figures, indices and Markdown all or none, with one line if it cannot."""
    import errno
    import tempfile

    from matplotlib.figure import Figure

    from culturesim import cli
    from culturesim.batch import load_experiment, run_sweep

    out = run_sweep(load_experiment(write_experiment(tmp_path, ONE_LEVER_SOBOL)), tmp_path / "s",
                    workers=1, progress=False)  # fmt: skip

    def files():
        return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    before = files()
    real_savefig = Figure.savefig
    saved = []

    def full_on_the_second(fig, path, *args, **kwargs):  # the disk fills after one figure
        saved.append(path)
        if len(saved) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_savefig(fig, path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Figure, "savefig", full_on_the_second)
        code = cli.main(["report", str(out)])
    assert len(saved) == 2  # the scatter plot was written, then the indices' figure failed
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err == [
        f"culturesim: cannot write in {out}: No space left on device: free some space; "
        f"`culturesim report {out} --out DIR` writes it into another folder"
    ], err
    assert files() == before  # no figure, no sensitivity.csv, no report.md, no temporary folder

    def refused(*args, dir=None, **kwargs):  # the folder is another user's (as root: not testable)
        raise PermissionError(errno.EACCES, "Permission denied", f"{dir}/.culturesim-x")

    with monkeypatch.context() as patch:
        patch.setattr(tempfile, "mkdtemp", refused)
        for command, what in (("report", "it"), ("analyze", "them")):
            code = cli.main([command, str(out)])
            err = capsys.readouterr().err.strip().splitlines()
            assert code == 1 and err == [
                f"culturesim: Permission denied ({out}); `culturesim {command} {out} --out DIR` "
                f"writes {what} into another folder"
            ], err
    assert files() == before

    assert cli.main(["report", str(out)]) == 0
    written = set(files()) - set(before)
    assert {p.name for p in written} == {
        "timeseries.png", "scatter.png", "sensitivity.csv", "sensitivity.png", "sensitivity.json",
        "report.md",
    }  # fmt: skip


def test_a_sweep_folder_that_cannot_be_written_gets_its_report_and_indices_elsewhere(
    tmp_path, monkeypatch, capsys
):
    """A sweep's folder read-only (a colleague's, an archive) had no report at all: both
    commands wrote only into it. With --out they write into another folder, which gets a
    manifest of its own recording the sweep, and leave the sweep's folder as it was."""
    import errno
    import hashlib
    import json
    import tempfile

    from culturesim import cli
    from culturesim.batch import load_experiment, run_sweep

    sweep = run_sweep(load_experiment(write_experiment(tmp_path, ONE_LEVER_SOBOL)),
                      tmp_path / "s", workers=1, progress=False)  # fmt: skip

    def files(folder):
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}

    before = files(sweep)
    real_mkdtemp = tempfile.mkdtemp

    def read_only(*args, dir=None, **kwargs):  # the sweep's folder only (as root: no chmod)
        if dir is not None and sweep.resolve() == type(sweep)(dir).resolve():
            raise OSError(errno.EROFS, "Read-only file system", f"{dir}/.culturesim-x")
        return real_mkdtemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    assert cli.main(["report", str(sweep)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"culturesim: cannot write in {sweep}: Read-only file system; `culturesim report "
        f"{sweep} --out DIR` writes it into another folder"
    )
    mine = tmp_path / "mine" / "sweep"  # made, parents too
    assert cli.main(["analyze", str(sweep), "--out", str(mine)]) == 0
    said = capsys.readouterr().out.splitlines()[-1]
    assert (
        said == f"wrote {mine}/sensitivity.csv, sensitivity.png, .json and manifest.json beside it"
    )
    manifest = json.loads((mine / "manifest.json").read_text())
    assert manifest["kind"] == "analyze"
    assert manifest["files"] == ["sensitivity.csv", "sensitivity.png", "sensitivity.json"]
    assert manifest["sweep_folder"] == str(sweep.resolve())
    assert manifest["sweep"] == json.loads(before["manifest.json"])  # it runs the sweep again
    sha = hashlib.sha256(before["manifest.json"]).hexdigest()
    assert manifest["sweep_manifest_sha256"] == sha
    # a report includes analyze's files: it may replace them there
    assert cli.main(["report", str(sweep), "--out", str(mine)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {mine / 'report.md'}"
    written = files(mine)
    assert set(written) == {
        "timeseries.png", "scatter.png", "sensitivity.csv", "sensitivity.png", "sensitivity.json",
        "report.md", "manifest.json",
    }  # fmt: skip
    manifest = json.loads(written["manifest.json"])
    assert manifest["kind"] == "report"
    assert set(manifest["files"]) == set(written) - {"manifest.json"}
    report = written["report.md"].decode()
    for name in re.findall(r"!\[[^]]*\]\(([^)]+)\)", report):  # its figures are beside it
        assert name in written, name
    assert files(sweep) == before  # the sweep's folder as it was
    # analyze does not replace a report's manifest, nor does either write into other results
    assert cli.main(["analyze", str(sweep), "--out", str(mine)]) == 2
    assert "holds results of culturesim report; choose another folder" in capsys.readouterr().err
    other = run_sweep(load_experiment(write_experiment(tmp_path, ONE_LEVER_SOBOL, name="o.toml")),
                      tmp_path / "other", workers=1, progress=False)  # fmt: skip
    kept = files(other)
    assert cli.main(["report", str(sweep), "--out", str(other)]) == 2
    assert "holds results of culturesim sweep; choose another folder" in capsys.readouterr().err
    assert files(other) == kept
    # the manifest runs the sweep again, the same runs; run says what it is
    again = tmp_path / "again"
    assert (
        cli.main(["sweep", str(mine / "manifest.json"), "--out", str(again), "--workers", "1"]) == 0
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(again / "timeseries.parquet"), pd.read_parquet(sweep / "timeseries.parquet")
    )
    assert cli.main(["run", str(mine / "manifest.json")]) == 2
    said = "the manifest of culturesim report; run its sweep again with `culturesim sweep`"
    assert said in capsys.readouterr().err
    # the sweep's own folder named as --out is the sweep's folder: no manifest replaced
    monkeypatch.setattr(tempfile, "mkdtemp", real_mkdtemp)
    assert cli.main(["report", str(sweep), "--out", str(tmp_path / "." / "s")]) == 0
    assert json.loads((sweep / "manifest.json").read_bytes()) == json.loads(before["manifest.json"])
    assert (sweep / "report.md").is_file()


def test_a_report_cut_short_in_its_out_folder_leaves_no_folder(tmp_path, monkeypatch, capsys):
    """--out made for a report that then cannot be written is removed again."""
    import errno

    from matplotlib.figure import Figure

    from culturesim import cli
    from culturesim.batch import load_experiment, run_sweep

    sweep = run_sweep(load_experiment(write_experiment(tmp_path, ONE_LEVER_SOBOL)),
                      tmp_path / "s", workers=1, progress=False)  # fmt: skip

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full)
    out = tmp_path / "new" / "report"
    assert cli.main(["report", str(sweep), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"culturesim: cannot write in {out}: No space left on device: free some space"
    assert not (tmp_path / "new").exists()


def test_analyze_and_report_read_the_results_by_path_not_through_a_python_file(
    tmp_path, monkeypatch
):
    """Arrow reads a sweep's Parquet files from their paths itself. Given an open Python file (as
    pandas before 3 gives it), Arrow's I/O threads read it through Python, and a process ending
    soon after could abort as it exited (`culturesim analyze`: exit 134, "terminate called without
    an active exception", one run in twenty with pandas 2.1 and pyarrow 14 on a busy machine)."""
    import os

    import pyarrow.parquet as pq

    from culturesim.batch import load_experiment, run_sweep
    from culturesim.batch.analyze import sensitivity_table
    from culturesim.batch.report import write_report

    out = run_sweep(load_experiment(write_experiment(tmp_path, ONE_LEVER_SOBOL)), tmp_path / "s",
                    workers=1, progress=False)  # fmt: skip
    real_read_table = pq.read_table
    sources = []

    def read_table(source, *args, **kwargs):
        sources.append(source)
        return real_read_table(source, *args, **kwargs)

    monkeypatch.setattr(pq, "read_table", read_table)
    sensitivity_table(out)
    write_report(out)
    assert all(isinstance(source, str | os.PathLike) for source in sources), sources
    assert {os.path.basename(source) for source in sources} == {
        "runs.parquet", "timeseries.parquet"
    }  # fmt: skip


def test_sobol_samples_off_a_power_of_2_give_one_line_of_notice(tmp_path):
    import warnings

    import pytest

    from culturesim.batch import load_experiment
    from culturesim.notices import Notice

    body = ONE_LEVER_SOBOL.replace("samples = 4", "samples = 5")
    path = write_experiment(tmp_path, body)
    said = (
        "experiment.samples = 5: Sobol' points are balanced only when it is a power of 2 (4 or 8)"
    )
    with pytest.warns(Notice, match=re.escape(said)):
        exp = load_experiment(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SALib's own warning is not repeated
        assert len(design_points(exp)) == 5 * 3
    proc = cli("validate", path)
    assert (
        proc.returncode == 0
        and proc.stderr
        == f"culturesim: warning: {path}: {said}; the indices converge more slowly\n"
    ), proc.stderr
    path.write_text(body.replace("samples = 5", "samples = 4"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_experiment(path)  # a power of 2: nothing to say


def test_a_grid_says_its_samples_are_not_used(tmp_path):
    """`samples = 64` left in a grid (after trying sobol, say) was taken without a word, though
    a grid runs each combination once: the researcher may think it asks for more runs."""
    import warnings

    from culturesim.batch import load_experiment, run_sweep

    path = write_experiment(tmp_path, GRID.replace("replications = 2", "replications = 1"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no samples: nothing to say
        exp = load_experiment(path)
        out = run_sweep(exp, tmp_path / "out", workers=1, progress=False)
        load_experiment(out / "manifest.json")  # which records the default samples
    path.write_text(path.read_text().replace("replications = 1", "replications = 1\nsamples = 64"))
    said = f"{path}: experiment.samples = 64 is not used: a grid runs every combination"
    with pytest.warns(Notice, match=re.escape(said)):
        assert load_experiment(path).design_size == 6


def test_the_indices_figure_tells_two_event_months_apart():
    """Its bars were labelled by a key's last part: an incident's month and a layoff's both
    read "month"."""
    import matplotlib.pyplot as plt

    from culturesim.batch.analyze import sensitivity_figure, short_names

    keys = ["levers.transparency", "events.0.month", "events.1.month", "events.0.severity"]
    assert short_names(keys) == ["transparency", "events.0.month", "events.1.month", "severity"]
    table = pd.DataFrame({"output": "user_trust", "parameter": keys, "mu_star": 0.1,
                          "mu_star_conf": 0.01, "sigma": 0.1})  # fmt: skip
    fig = sensitivity_figure(table, "morris")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    plt.close(fig)
    assert labels == short_names(keys)


@pytest.fixture
def closing_figures():
    """Close the figures a test drew (a worker's later tests warned of 20 open)."""
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.mark.parametrize("outputs", [["engagement"], ["engagement", "headcount", "cash"]])
def test_the_reports_legend_fits_its_figure_and_the_titles_say_what_is_pooled(
    outputs, closing_figures
):
    """A one-output grid of three innovation times cut its legend at both edges (three labels
    in a row on a 4.5-inch figure); more than eight points are drawn as one band, which the
    title still called the spread "over replications"; and the response figure of a single
    parameter said "other parameters pooled" of none. A sampled design's seven long labels in
    one column then squeezed a one-output panel to an inch, and listed the values unsorted."""
    import numpy as np
    import pandas as pd

    from culturesim.batch.report import (
        MAX_BANDS,
        _response_figure,
        _scatter_figure,
        _series_figure,
    )

    def sweep(values):
        points = np.repeat(range(len(values)), 2)
        runs = pd.DataFrame({"run_id": range(2 * len(values)), "point": points,
                             "levers.innovation_time": np.repeat(values, 2)})  # fmt: skip
        ts = pd.DataFrame([{"run_id": r, "month": m, "engagement": 0.6 + 0.01 * r, "headcount": 120,
                            "cash": 1e6} for r in runs["run_id"] for m in range(4)])  # fmt: skip
        return ts, runs

    ts, runs = sweep([0.0, 0.1, 0.2])
    param = ["levers.innovation_time"]
    fig = _series_figure(ts, runs, param, outputs)
    fig.canvas.draw()
    legend, whole = fig.legends[0].get_window_extent(), fig.bbox
    assert whole.x0 <= legend.x0 and legend.x1 <= whole.x1, (legend, whole)
    assert fig.get_suptitle() == "median and 10-90% band over replications"
    ts, runs = sweep([0.454406, 0.0116706, 0.14769, 0.337085, 0.108138, 0.436467, 0.255453])
    fig = _series_figure(ts, runs, param, outputs)  # a sampled design's long labels
    fig.canvas.draw()
    legend, whole = fig.legends[0], fig.bbox
    assert whole.x0 <= legend.get_window_extent().x0 <= legend.get_window_extent().x1 <= whole.x1
    shown = [float(t.get_text().split(" = ")[1]) for t in legend.get_texts()]
    assert shown == sorted(shown)  # in the parameter's order, not the design's
    assert min(ax.get_window_extent().height for ax in fig.axes) / fig.dpi > 2  # inches
    ts, runs = sweep(list(np.linspace(0, 0.5, MAX_BANDS + 1)))
    title = _series_figure(ts, runs, param, outputs).get_suptitle()
    assert title == f"median and 10-90% band over all runs\nof the {MAX_BANDS + 1} design points"
    title = _response_figure(ts, runs, param, outputs).get_suptitle()
    assert title == "final month (flows: total): mean and 95% CI over replications"
    runs["status"] = "ok"
    title = _scatter_figure(ts, runs, param, outputs).get_suptitle()
    assert title == "final month (flows: total) at each design point, mean over replications"
    runs["levers.transparency"] = 0.5
    title = _response_figure(ts, runs, [*param, "levers.transparency"], outputs).get_suptitle()
    assert title.endswith("\n(other parameters pooled)")
    title = _scatter_figure(ts, runs, [*param, "levers.transparency"], outputs).get_suptitle()
    assert title.endswith("\n(other parameters vary: look for trends, not curves)")


def test_more_points_than_bands_are_pooled_by_a_parameter_with_few_values(closing_figures):
    """The shipped transparency sweep (5 transparencies x 2 feedback levels) drew one band of
    all ten points, hiding what transparency does; a band a transparency, the feedback levels
    pooled into each, shows it. Where no parameter has 2 to 8 values, all are pooled still."""
    import numpy as np
    import pandas as pd

    from culturesim.batch.report import MAX_BANDS, _series_figure

    grid = [(t, f) for t in (0.1, 0.3, 0.5, 0.7, 0.9) for f in (0.2, 0.8)]
    runs = pd.DataFrame(
        [{"run_id": 2 * i + r, "point": i, "levers.transparency": t,
          "levers.feedback_responsiveness": f} for i, (t, f) in enumerate(grid) for r in (0, 1)]
    )  # fmt: skip
    trust = dict(zip(runs["run_id"], runs["levers.transparency"], strict=True))
    ts = pd.DataFrame([{"run_id": r, "month": m, "user_trust": t + 0.01 * m}
                       for r, t in trust.items() for m in range(3)])  # fmt: skip
    params = ["levers.transparency", "levers.feedback_responsiveness"]
    fig = _series_figure(ts, runs, params, ["user_trust"])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == [f"transparency = {t}" for t in ("0.1", "0.3", "0.5", "0.7", "0.9")]
    assert fig.get_suptitle() == (
        "median and 10-90% band over the runs at each transparency\n"
        "(the other parameters pooled; 10 design points)"
    )
    (ax,) = fig.axes
    medians = [line.get_ydata()[0] for line in ax.get_lines()]  # month 0: the transparency
    np.testing.assert_allclose(medians, [0.1, 0.3, 0.5, 0.7, 0.9])
    # the first parameter with few enough values groups: here the second
    wide = runs.assign(**{"levers.transparency": np.linspace(0, 1, len(runs))})
    fig = _series_figure(ts, wide, params, ["user_trust"])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "feedback_responsiveness = 0.2",
        "feedback_responsiveness = 0.8",
    ]
    # none with 2 to MAX_BANDS values: one band of all
    wide["levers.feedback_responsiveness"] = np.linspace(0, 1, len(runs))
    fig = _series_figure(ts, wide, params, ["user_trust"])
    assert wide["point"].nunique() > MAX_BANDS
    assert fig.get_suptitle() == "median and 10-90% band over all runs\nof the 10 design points"


def test_a_grids_response_interval_is_the_replications_not_the_other_parameters(
    closing_figures,
):
    """Transparency moves the output by 1.0, feedback by nothing, the replications by about
    0.01: feedback's interval, with transparency pooled, was about +/-0.4 (the spread of
    transparency's effect among its runs) where the replications' is about +/-0.01."""
    import numpy as np
    import pandas as pd

    from culturesim.batch.report import _response_figure

    rng = np.random.default_rng(3)
    grid = [(t, f) for t in (0.0, 1.0) for f in (0.2, 0.8)]
    rows = [
        {
            "run_id": 4 * i + r,
            "point": i,
            "levers.transparency": t,
            "levers.feedback_responsiveness": f,
        }
        for i, (t, f) in enumerate(grid)
        for r in range(4)
    ]
    runs = pd.DataFrame(rows)  # fmt: skip
    y = runs["levers.transparency"] + rng.normal(0.0, 0.01, len(runs))
    ts = pd.DataFrame({"run_id": runs["run_id"], "month": 12, "engagement": y})
    params = ["levers.transparency", "levers.feedback_responsiveness"]
    fig = _response_figure(ts, runs, params, ["engagement"])

    def half_widths(ax):
        segments = ax.containers[0].lines[2][0].get_segments()
        return np.array([(hi - lo) / 2 for (_, lo), (_, hi) in segments])

    transparency, feedback = fig.axes
    # each mean pools 8 runs of 2 points; its error is theirs: 1.96 x sqrt(2 x 0.01^2 / 4) / 2
    assert (half_widths(feedback) < 0.03).all(), half_widths(feedback)
    assert (half_widths(transparency) < 0.03).all()
    means = np.asarray(feedback.get_lines()[0].get_ydata(), dtype=float)
    np.testing.assert_allclose(means, 0.5, atol=0.02)
    # one replication: no variance within a point, so the runs' spread stands in (as it did)
    single = runs.groupby("point").head(1)
    fig = _response_figure(ts[ts["run_id"].isin(single["run_id"])], single, params,
                           ["engagement"])  # fmt: skip
    assert (half_widths(fig.axes[1]) > 0.5).all()


def test_a_grids_response_interval_is_students_t_over_the_replications_the_points_share(
    closing_figures,
):
    """The bars said "95% CI" and were 1.96 standard errors, a normal's, of the points' means
    summed as if independent. But replication r runs with the same seed at every point, so
    the points pooled at a value share its luck: the error is the spread of the replications'
    means over those points, with a t interval (three replications: 4.30 of their standard
    errors, 2.2 times 1.96). Where a run failed, the replications still whole at every point
    give it; with none whole, the points' variances add (Welch and Satterthwaite)."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    from culturesim.batch.report import _response_figure

    luck = np.array([-1.0, 0.0, 1.0])  # each replication's (seed's) luck, shared by the points
    # points 0-3 at (transparency, inclusion) (0, 0), (0, 0.5), (0.5, 0), (0.5, 0.5); the
    # first and third carry the luck, the others are constant
    base = {0: 0.0, 1: 5.0, 2: 1.0, 3: 5.0}
    rows = [
        {"run_id": 3 * point + r, "point": point, "replication": r, "seed": 7 + r,
         "levers.inclusion": point % 2 * 0.5, "levers.transparency": point // 2 * 0.5,
         "engagement": base[point] + luck[r] * (point % 2 == 0)}
        for point in base
        for r in range(3)
    ]  # fmt: skip
    runs = pd.DataFrame(rows)
    ts = runs[["run_id", "engagement"]].assign(month=12)
    params = ["levers.transparency", "levers.inclusion"]

    def half_widths(runs):
        ran = ts[ts["run_id"].isin(runs["run_id"])]  # a failed run has no time series
        figure = _response_figure(ran, runs.drop(columns="engagement"), params, ["engagement"])
        return [
            np.array([(hi - lo) / 2 for (_, lo), (_, hi) in segments])
            for ax in figure.axes
            for segments in [ax.containers[0].lines[2][0].get_segments()]
        ]

    t1, t2 = stats.t.ppf(0.975, 1), stats.t.ppf(0.975, 2)
    transparency, inclusion = half_widths(runs)
    # inclusion 0: points 0 and 2 both carry the luck, so the replications' means are 0.5 +
    # luck: sd 1 over 3 (summed as independent: t4 * sqrt(2/3) / 2, half as wide)
    np.testing.assert_allclose(inclusion, [t2 / np.sqrt(3), 0.0])
    # at each transparency one point carries it and the other not: means 2.5 or 3 + luck / 2
    np.testing.assert_allclose(transparency, [t2 * 0.5 / np.sqrt(3), t2 * 0.5 / np.sqrt(3)])
    # point 0's replication 0 failed: replications 1 and 2 are whole at inclusion 0, their
    # means 0.5 and 1.5 (standard error 0.5)
    _, inclusion = half_widths(runs[runs["run_id"] != 0])
    np.testing.assert_allclose(inclusion, [t1 * 0.5, 0.0])
    # replication 0 failed at point 0 and replication 1 at point 2: none whole at inclusion 0,
    # where the variances of the points' means add, 0.5 / 2 (0, 1) and 2 / 2 (0, 2), with
    # Welch and Satterthwaite's degrees of freedom
    _, inclusion = half_widths(runs[~runs["run_id"].isin([0, 7])])
    parts = np.array([0.5 / 2, 2.0 / 2])
    df = parts.sum() ** 2 / (parts**2).sum()
    np.testing.assert_allclose(inclusion, [stats.t.ppf(0.975, df) * np.sqrt(parts.sum()) / 2, 0])


def test_design_points_with_the_same_values_are_one_band(closing_figures):
    """A Morris design visits some settings twice: the legend listed "inclusion = 0" twice, over
    two lines drawn one on the other (the same seeds: the same runs)."""
    import pandas as pd

    from culturesim.batch.report import _series_figure

    values = [0.0, 1 / 3, 0.0, 2 / 3, 1.0, 2 / 3]
    runs = pd.DataFrame({"run_id": range(6), "point": range(6), "levers.inclusion": values})
    ts = pd.DataFrame([{"run_id": r, "month": m, "engagement": 0.6 + 0.01 * values[r]}
                       for r in range(6) for m in range(2)])  # fmt: skip
    fig = _series_figure(ts, runs, ["levers.inclusion"], ["engagement"])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["inclusion = 0", "inclusion = 0.333", "inclusion = 0.667",
                      "inclusion = 1"]  # fmt: skip
    assert fig.get_suptitle() == "median and 10-90% band over replications"


def test_analyze_and_report_with_no_room_for_a_temporary_file_say_so_in_one_line(tmp_path):
    """With every folder for temporary files full, importing SALib (dill asks Python for its
    temporary folder, which tries writing in each) stopped analyze and report of a sensitivity
    sweep with a traceback."""
    from culturesim.batch import load_experiment, run_sweep
    from tests.test_batch import no_file_may_grow

    out = run_sweep(load_experiment(write_experiment(tmp_path, ONE_LEVER_SOBOL)), tmp_path / "s",
                    workers=1, progress=False)  # fmt: skip
    before = sorted(p.name for p in out.iterdir())
    for command in ("analyze", "report"):
        proc = subprocess.run(
            [sys.executable, "-m", "culturesim", command, str(out)],
            capture_output=True, text=True, timeout=120, preexec_fn=no_file_may_grow,
        )  # fmt: skip
        assert proc.returncode == 1 and re.fullmatch(
            r"culturesim: No usable temporary directory found in \[.+\]: free some space, or set "
            r"TMPDIR to a folder that has room\n",
            proc.stderr,
        ), proc.stderr
    assert sorted(p.name for p in out.iterdir()) == before


def test_one_folder_seen_by_two_paths_is_one_folder(tmp_path, monkeypatch):
    """`report SWEEP --out M`, M a bind mount of the sweep's folder, was refused ("holds
    results of culturesim sweep"): paths were compared resolved, and a bind mount resolves to
    itself. Where both exist, one folder on disk is one folder (Path.samefile). A bind mount
    needs privileges, so here a Path.resolve that sees two paths apart stands in for one."""
    from pathlib import Path

    from culturesim.manifest import same_folder

    sweep, other = tmp_path / "s", tmp_path / "o"
    sweep.mkdir()
    other.mkdir()
    (tmp_path / "link").symlink_to(sweep)
    assert same_folder(tmp_path / "." / "s", sweep)
    assert same_folder(tmp_path / "link", sweep)
    assert not same_folder(other, sweep)
    assert not same_folder(tmp_path / "new", sweep)  # not made yet: another folder
    assert not same_folder(tmp_path / "new", tmp_path / "newer")
    resolve = Path.resolve
    mounted = tmp_path / "mnt"  # the stand-in's mount point of the sweep's folder

    def as_if_mounted(self, strict=False):
        return mounted if self == tmp_path / "link" else resolve(self, strict)

    monkeypatch.setattr(Path, "resolve", as_if_mounted)
    assert same_folder(tmp_path / "link", sweep)


def test_from_python_the_report_and_indices_keep_out_of_other_results(tmp_path, monkeypatch):
    """`write_report(sweep, out)` and `analyze_folder(sweep, out)` from Python (a notebook)
    wrote into any `out`: given another sweep's or a run's folder they replaced its
    manifest.json with their own, and a folder they made stayed when the writing failed. The
    command line refused both; now the functions do, by the same rule."""
    import json

    from culturesim.batch import analyze, load_experiment, run_sweep
    from culturesim.batch.report import write_report

    sweep = run_sweep(load_experiment(write_experiment(tmp_path, ONE_LEVER_SOBOL)),
                      tmp_path / "s", workers=1, progress=False)  # fmt: skip
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"kind": "run", "seeds": [0]}))
    kept = (run / "manifest.json").read_bytes()
    for write in (write_report, analyze.analyze_folder):
        with pytest.raises(ValueError, match=f"{run}: holds results of culturesim run; choose"):
            write(sweep, run)
        assert sorted(p.name for p in run.iterdir()) == ["manifest.json"]
        assert (run / "manifest.json").read_bytes() == kept
    mine = tmp_path / "mine"
    write_report(sweep, mine)  # a report's folder: analyze may not replace its manifest
    with pytest.raises(ValueError, match="holds results of culturesim report"):
        analyze.analyze_folder(sweep, mine)
    write_report(sweep, mine)  # its own, again
    analyze.analyze_folder(sweep, sweep)  # the sweep's own folder

    def full(out, writers):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(analyze, "write_files", full)
    with pytest.raises(OSError, match="No space left"):
        analyze.analyze_folder(sweep, tmp_path / "new" / "indices")
    assert not (tmp_path / "new").exists()  # made for it, and removed again
