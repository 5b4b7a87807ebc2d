"""Paired comparison: common random numbers make the difference's CI much narrower; Ctrl-C."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from culturesim import run as run_module
from culturesim.batch.compare import compare, many_intervals, mean_ci
from culturesim.kpis import COMPARE_CHARTS, KPIS, chart_label
from culturesim.run import run_seeds
from culturesim.scenario import load_scenario, scenario_from_dict
from tests.conftest import SMALL_MARKET, culturesim_here

KPIS_SHOWN = ["engagement", "culture_alignment", "users_active", "cash", "trust_in_leadership"]
# Where the lever's effect runs through people's shared luck, pairing narrows the CI at least 3x.
# Measured over 80 seeds (2026-11-30): engagement 5.2x, culture alignment 8.7x, users active
# 11.7x; cash 2.7x and trust in leadership 2.7x, whose 20-seed ratios range 2.0-5.3 and 2.4-2.8
# (a whole-company mean that moves with who quits and who is hired pairs less well).
PAIRED_3X = ["engagement", "culture_alignment", "users_active"]


def small_company(months: int, employees: int = 40):
    """A small company in a small market, for quick paired runs."""
    return scenario_from_dict(
        {
            "organization": {"employees": employees},
            "meta": {"months": months},
            "market": {"potential_users": 2000, "initial_active_users": 150},
        }
    )


def test_paired_ci_is_at_least_three_times_narrower_than_independent(baseline, capsys):
    a = baseline.with_changes(SMALL_MARKET | {"meta.months": 36})
    b = a.with_changes({"levers.transparency": 0.6})  # a small lever change
    paired = compare(a, b, seeds=20)
    independent = run_seeds(b, [1000 + i for i in range(20)], 36)
    ratios = {}
    for kpi in KPIS_SHOWN:
        xa = paired.a.loc[paired.a["month"] == 36, kpi].to_numpy()
        xb = paired.b.loc[paired.b["month"] == 36, kpi].to_numpy()
        xi = independent.loc[independent["month"] == 36, kpi].to_numpy()
        _, lo, hi = mean_ci(xb - xa)
        se = np.sqrt(xa.var(ddof=1) / xa.size + xi.var(ddof=1) / xi.size)
        independent_width = 2 * stats.t.ppf(0.975, xa.size + xi.size - 2) * se
        ratios[kpi] = independent_width / (hi - lo)
    with capsys.disabled():
        print("\nCI width, independent / paired, month 36:",
              ", ".join(f"{k} {v:.1f}x" for k, v in ratios.items()))  # fmt: skip
    assert min(ratios[k] for k in PAIRED_3X) >= 3, ratios
    assert min(ratios.values()) >= 1.5, ratios  # pairing helps every KPI shown


def test_one_seed_has_no_interval_and_the_ui_says_so():
    from culturesim.batch.compare import Comparison, summary_lines

    mean, lo, hi = mean_ci(np.array([0.3]))  # it said 0.3 to 0.3: certainty from one seed
    assert mean == 0.3 and np.isnan(lo) and np.isnan(hi)
    sc = small_company(12, employees=30)
    b = sc.with_changes({"levers.transparency": 0.9})
    one = Comparison(run_seeds(sc, [1], 12), run_seeds(b, [1], 12))
    lines = summary_lines(one)
    assert lines and all("(one replication: no interval)" in line for line in lines), lines
    proc = culturesim_here("compare", "baseline", "baseline", "--seeds", "1")
    assert proc.returncode == 2 and "--seeds: must be at least 2, got 1" in proc.stderr


def test_the_summary_says_what_the_levers_cost():
    """Cash holds funding rounds, which land in one arm and not the other (a pay raise showed
    "no clear difference" in cash, B ahead by $7M, while it cost about $8M in every seed): the
    summary also sums the costs, over the months simulated (month 0 is the start)."""
    from culturesim.batch.compare import Comparison, summary_lines
    from culturesim.kpis import format_kpi as fmt

    sc = small_company(24)
    a = run_seeds(sc, [1, 2, 3], 24)
    b = run_seeds(sc.with_changes({"levers.compensation_premium": 0.1}), [1, 2, 3], 24)
    [line] = [x for x in summary_lines(Comparison(a, b)) if x.startswith("Costs")]
    simulated = [x[x["month"] > 0].groupby("seed")["costs"].sum() for x in (a, b)]
    extra = (simulated[1] - simulated[0]).mean()
    b_then_a = f"B {fmt('costs', simulated[1].mean())} vs A {fmt('costs', simulated[0].mean())}"
    assert line.startswith(f"Costs over 2 years: {b_then_a} — "), line  # each figure named
    assert f"— {fmt('costs', extra, diff=True)} (95% CI +$" in line, line  # dearer, clearly


def test_the_summary_says_what_cash_owes_to_funding_rounds():
    """A 20% pay premium brings the baseline's first round forward and a second into five
    years: B ended with $57M more cash for $42M more costs, which read as a lever that pays.
    Net cash flow (revenue less costs) is what cash is before the rounds, and a note says so
    where the rounds differ clearly."""
    from culturesim.batch.compare import Comparison, funding_note, summary_lines
    from culturesim.kpis import format_kpi as fmt

    sc = load_scenario("baseline")
    a = run_seeds(sc, [0, 1, 2, 3], 60)
    b = run_seeds(sc.with_changes({"levers.compensation_premium": 0.2}), [0, 1, 2, 3], 60)
    last = [x[x["month"] == 60].set_index("seed") for x in (a, b)]
    net = [x[x["month"] > 0].groupby("seed")["net_cash_flow"].sum() for x in (a, b)]
    for end, flow, x in zip(last, net, (a, b), strict=True):  # cash = opening + net + rounds
        opening = x.loc[x["month"] == 0, "cash"].to_numpy()
        assert np.allclose(end["cash"] - end["funding_raised"], opening + flow, rtol=1e-12)
    rounds = (last[1]["funding_raised"] - last[0]["funding_raised"]).mean()
    before = (net[1] - net[0]).mean()
    assert rounds > 40e6 and before < -30e6  # more rounds, and poorer before them
    assert (last[1]["cash"] - last[0]["cash"]).mean() > 0  # yet richer at year 5
    comparison = Comparison(a, b)
    [line] = [x for x in summary_lines(comparison) if x.startswith("Net cash flow")]
    assert line.startswith("Net cash flow over 5 years: B −$"), line
    assert f"— {fmt('net_cash_flow', before, diff=True)} (95% CI −$" in line, line
    note = funding_note(comparison)
    assert f"B raised {fmt('funding_raised', rounds)} more than A" in note, note
    assert f"B's cash ends {fmt('cash', -before)} below A's" in note, note
    # rounds alike (B is A), or one seed (no interval): nothing to say
    assert funding_note(Comparison(a, a.copy())) is None
    one = Comparison(a[a["seed"] == 0], b[b["seed"] == 0])
    assert funding_note(one) is None


def test_a_small_clear_difference_is_shown_with_its_size():
    """Transparency's cost over one month is hundreds of dollars, clearly: it read "+$0.0M
    (95% CI +$0.0M to +$0.0M)", over "1 months"."""
    from culturesim.batch.compare import Comparison, summary_lines

    sc = small_company(1)
    a, b = (run_seeds(s, [1, 2], 1) for s in (sc, sc.with_changes({"levers.transparency": 0.9})))
    [line] = [x for x in summary_lines(Comparison(a, b)) if x.startswith("Costs")]
    extra = (b.loc[b["month"] == 1, "costs"].to_numpy() - a.loc[a["month"] == 1, "costs"]).mean()
    assert 100 < extra < 10_000  # a few hundred dollars: in the old format, $0.0M
    assert line.startswith("Costs over 1 month: B $"), line
    assert f" — +${extra:,.0f} (95% CI +$" in line, line


def test_money_and_small_differences_read_as_people_write_them():
    from culturesim.kpis import format_kpi as fmt

    assert [fmt("cash", x) for x in (3.66e7, 999_960, 250_000, 4_748, 820, -2.3e6, -0.4)] == [
        "$36.6M", "$1.0M", "$250k", "$4.7k", "$820", "−$2.3M", "$0"
    ]  # fmt: skip
    assert fmt("costs", -8.3e6, diff=True) == "−$8.3M"
    assert fmt("costs", 4_748, diff=True) == "+$4.7k"
    assert fmt("attrition_rate_annual", -0.012, diff=True) == "−1.2 points"
    assert fmt("attrition_rate_annual", 0.0004, diff=True) == "+0.04 points"  # not +0.0
    assert fmt("engagement", 0.017, diff=True) == "+0.017"
    assert fmt("engagement", -0.0004, diff=True) == "−0.0004"
    assert fmt("engagement", 0.00004, diff=True) == "+0.00004"  # no exponent (4e-05)
    assert fmt("runway_months", 0.039, diff=True) == "+0.039 months"
    # totals so far: whole where they are ("median 308.0 (10-90%: 287.2 to 327.6)" read oddly)
    assert [fmt("launches", x) for x in (308.0, 287.2, 1_234.0)] == ["308", "287.2", "1,234"]
    assert fmt("hires", -3.0, diff=True) == "−3"


def test_a_difference_and_its_interval_read_in_one_unit():
    """The summary wrote each number alone: user trust's difference read "+0.001 (95% CI
    +0.000014 to +0.001)", and an interval reaching $1M "+$900k (95% CI +$800k to +$1.1M)"."""
    from culturesim.kpis import format_kpis as fmt

    assert fmt("user_trust", [0.00055, 0.0000138, 0.00109], diff=True) == [
        "+0.00055", "+0.00001", "+0.00109"
    ]  # fmt: skip
    assert fmt("costs", [9e5, 8e5, 1.1e6], diff=True) == ["+$0.9M", "+$0.8M", "+$1.1M"]
    assert fmt("costs", [4e4, -300, 8.5e4], diff=True) == ["+$40k", "−$0.3k", "+$85k"]
    assert fmt("cash", [1.1e6, 0.3]) == ["$1.1M", "$0"]  # no fractions of a dollar
    assert fmt("runway_months", [-0.43, -0.69, -0.017], diff=True) == [
        "−0.43 months", "−0.69 months", "−0.02 months"
    ]  # fmt: skip
    assert fmt("user_trust", [0.744, 0.5]) == ["0.744", "0.500"]  # B and A: three digits
    assert fmt("nps", [61.87, -5.2]) == ["61.9", "−5.2"]  # the summary's minus, not "-5.2"
    assert fmt("attrition_rate_annual", [-0.005, -0.012, 0.0001], diff=True) == [
        "−0.5 points", "−1.2 points", "+0.01 points"
    ]  # fmt: skip
    assert fmt("launches", [308.0, 287.2, 327.6]) == ["308", "287.2", "327.6"]  # whole: bare
    assert fmt("users_active", [0.4, 0.1, 0.7], diff=True) == ["+0.4", "+0.1", "+0.7"]  # not +0


def test_compare_command_prints_the_table_and_writes_the_figure(tmp_path):
    proc = culturesim_here("compare", "baseline", "google_20pct", "--seeds", "3", "--months", "14",
                           "--out", tmp_path, "--charts", "ideas,launches")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "month 12" in proc.stdout and "month 14" in proc.stdout
    assert "B - A [95% CI]" in proc.stdout
    assert "ideas" in proc.stdout
    short = proc.stdout.split("In short, B against A")[1]  # the strategist page's summary
    assert "Costs over 14 months: B $" in short and "Launches over 14 months: B " in short
    # ten intervals read together: one may miss by chance (it went unsaid); wrapped to the
    # terminal, so its words in order
    assert " ".join(many_intervals().split()) in " ".join(short.split())
    png = (tmp_path / "compare.png").read_bytes()
    assert png[:4] == b"\x89PNG"
    assert int.from_bytes(png[16:20], "big") == round(2 * 4.2 * 110)  # two columns: --charts
    table = (tmp_path / "compare.csv").read_text()
    assert table.startswith("month,kpi,A,B,diff,ci_lo,ci_hi")
    # the manifest is enough to reproduce the table
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["kind"] == "compare" and manifest["months"] == 14
    a, b = (scenario_from_dict(manifest[side]["scenario"]) for side in ("a", "b"))
    assert manifest["seeds"] == [a.meta.seed + i for i in range(3)]
    again = compare(a, b, seeds=len(manifest["seeds"]), months=manifest["months"]).table()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "compare.csv"), again, check_dtype=False)


def test_a_comparisons_rows_read_a_and_b_in_one_unit_and_the_difference_in_one():
    """compare's table printed A's net cash flow as "-0.939M" beside B's "-1.03M", and a
    difference in costs as "90,656 [70,832, 0.11M]"."""
    from culturesim.cli import compare_table

    table = pd.DataFrame({
        "month": [12, 12], "kpi": ["net_cash_flow", "culture_alignment"],
        "A": [-939_000.0, 0.906], "B": [-1_030_000.0, 0.908],
        "diff": [90_656.0, 0.00174], "ci_lo": [70_832.0, 0.00013], "ci_hi": [110_480.0, 0.00335],
    })  # fmt: skip
    lines = compare_table(table).splitlines()
    assert lines[:2] == ["", "month 12"]
    assert lines[3].split() == [
        "net_cash_flow",
        "-0.94M",
        "-1.03M",
        "0.091M",
        "[0.071M,",
        "0.110M]",
    ]
    assert lines[4].split() == ["culture_alignment", "0.906", "0.908", "0.00174", "[0.00013,",
                                "0.00335]"]  # fmt: skip


def test_compare_says_that_b_runs_as_a_horizon_and_seeds():
    proc = culturesim_here("compare", "baseline", "--seeds", "2", "--set-a", "meta.months=3",
                           "--set-b", "meta.months=5", "--set-b", "meta.seed=9")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Both run A's horizon, 3 months: B's meta.months (5) is not used" in proc.stdout
    assert "Both run A's seeds, from its meta.seed 0: B's (9) is not used" in proc.stdout
    assert "month 3" in proc.stdout and "month 5" not in proc.stdout
    same = culturesim_here("compare", "baseline", "--seeds", "2", "--months", "3",
                           "--set-b", "levers.inclusion=0.9")  # fmt: skip
    assert same.returncode == 0 and "Both run" not in same.stdout, same.stderr


def test_a_ctrl_c_landing_in_a_callback_still_stops_the_seeds(
    baseline, monkeypatch, swallowed_ctrl_c
):
    """A Ctrl-C landing in a weakref callback (a finished model's clean-up), where Python
    would swallow its ``KeyboardInterrupt``, stops the runs all the same: it is held there
    (nothing is raised for Python to swallow) and raised by the check between two waits."""
    import threading

    from culturesim.model import CultureModel

    land_in_a_callback, swallowed = swallowed_ctrl_c
    real_result, real_step = run_module._result, CultureModel.step
    waits, stepped = [], {}

    def result_and_get_interrupted(future, check_ctrl_c):
        waits.append(future)
        if len(waits) == 2:  # the main thread waits for the second run: the Ctrl-C lands
            land_in_a_callback()
        return real_result(future, check_ctrl_c)

    def counted_step(model):
        stepped[model.seed] = stepped.get(model.seed, 0) + 1
        real_step(model)

    monkeypatch.setattr(run_module, "_result", result_and_get_interrupted)
    monkeypatch.setattr(CultureModel, "step", counted_step)
    with pytest.raises(KeyboardInterrupt):
        run_seeds(baseline, [1, 2, 3, 4, 5, 6], 36, threads=2)
    assert swallowed == [] and len(waits) == 2  # held: not raised in the callback
    assert stepped[1] == 36  # the first run landed; the rest stopped, or never started
    assert sum(stepped.values()) < 6 * 36
    assert not [t for t in threading.enumerate() if t.name.startswith("culturesim-run")]


def test_runs_in_threads_give_each_seeds_own_numbers(baseline):
    """Six seeds in three threads: each seed's KPIs are simulate()'s, bit for bit."""
    from culturesim import simulate

    sc = baseline.with_changes(SMALL_MARKET)
    stacked = run_seeds(sc, [7, 3, 11, 5, 2, 9], 14, threads=3)
    assert stacked["seed"].unique().tolist() == [7, 3, 11, 5, 2, 9]  # in the order asked
    assert stacked["run_id"].unique().tolist() == list(range(6))
    for seed, frame in stacked.groupby("seed"):
        alone = simulate(sc, seed=seed, months=14).kpis
        mine = frame.drop(columns=["run_id", "seed"]).set_index("month")
        pd.testing.assert_frame_equal(mine, alone, check_exact=True, check_names=False)


def test_counted_flows_are_charted_as_totals_so_far_and_compared_as_such():
    """A month of launches is 0, 1 or 2: charts, tables and B - A use each run's total so far."""
    from culturesim.batch.compare import Comparison
    from culturesim.kpis import chart_label, display_scale, shown, shown_as_total
    from culturesim.plots import band

    sc = small_company(18)
    a = run_seeds(sc, [1, 2, 3], 18)
    b = run_seeds(sc.with_changes({"levers.innovation_time": 0.3}), [1, 2, 3], 18)
    assert [k for k in ("launches", "ideas", "hires", "revenue", "engagement")
            if shown_as_total(k)] == ["launches", "ideas", "hires"]  # fmt: skip
    assert chart_label("launches") == "Launches (total so far)"
    assert display_scale("ideas") == (1.0, "ideas") and display_scale("revenue")[1].endswith(
        "per month"
    )
    shuffled = a.sample(frac=1.0, random_state=0)  # rows in any order: summed in month order
    totals = shown(shuffled, "ideas").loc[a.index]
    expected = a.groupby("run_id")["ideas"].cumsum()
    assert totals.equals(expected) and totals.max() > a["ideas"].max()
    assert shown(shuffled, "revenue").equals(shuffled["revenue"])  # money: per month
    parts = [a[a["run_id"] == r] for r in (2, 0, 1)]
    stacked = pd.concat(parts)
    stacked.index = stacked.index % 5  # an index with repeats (frames stacked as they come)
    want = np.concatenate([expected.loc[p.index].to_numpy() for p in parts])
    assert np.array_equal(shown(stacked, "ideas").to_numpy(), want)
    assert band(a, "ideas").loc[18, "median"] == np.median(a.groupby("run_id")["ideas"].sum())
    diff = Comparison(a, b).difference_band("ideas")
    by_seed = b.groupby("seed")["ideas"].sum() - a.groupby("seed")["ideas"].sum()
    assert diff.loc[18, "mean"] == pytest.approx(by_seed.mean())
    assert diff.loc[18, "lo"] > 0  # 30% innovation time: more ideas in total, surely
    table = Comparison(a, b).table(["ideas", "engagement"]).set_index(["month", "kpi"])
    assert table.loc[(18, "ideas"), "A"] == pytest.approx(a.groupby("seed")["ideas"].sum().mean())
    assert table.loc[(18, "ideas"), "diff"] == pytest.approx(by_seed.mean())
    assert table.loc[(18, "engagement"), "A"] == pytest.approx(
        a[a["month"] == 18]["engagement"].mean()
    )
    from culturesim.cli import summary_table
    from culturesim.kpis import format_numbers

    row = next(r for r in summary_table(a).splitlines() if r.startswith("ideas "))
    at_18 = row.split()[-3:]  # ideas  <m12> [p10, p90]  <m18> [p10, p90]
    totals = a.groupby("run_id")["ideas"].sum()
    p10, median, p90 = format_numbers(np.quantile(totals, [0.1, 0.5, 0.9]))
    assert at_18 == [median, f"[{p10},", f"{p90}]"]


def test_the_comparison_figure_keeps_its_legend_off_the_panels():
    import matplotlib.pyplot as plt

    from culturesim.batch.compare import Comparison

    sc = scenario_from_dict({"organization": {"employees": 30}, "meta": {"months": 6}})
    a = run_seeds(sc, [0, 1], 6)
    b = run_seeds(sc.with_changes({"levers.transparency": 0.9}), [0, 1], 6)
    long = "B: small, open, and named at length by a strategist who likes detail " * 8
    for names in (("A: small", "B: small, open"), ("A: small", long)):
        fig = Comparison(a, b).figure(names=names)
        fig.canvas.draw()  # lay the figure out
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        box = fig.legends[0].get_window_extent()
        panels = [ax.get_window_extent() for ax in fig.axes]
        plt.close(fig)
        assert not any(ax.get_legend() for ax in fig.axes)  # it sat in the first panel
        assert all(box.y0 >= p.y1 for p in panels)  # above every panel, covering none
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width  # a long name ran off both sides
    assert labels[0] == "A: small" and labels[1].startswith("B: small, open, and named")
    assert len(labels[1].splitlines()) == 2 and labels[1].endswith("…")
    # what the bands are, on the figure itself (compare.png travels without the table), within
    # it also when it is one chart wide (--charts)
    for kpis in (COMPARE_CHARTS, ["engagement"]):
        fig = Comparison(a, b).figure(kpis)
        fig.canvas.draw()
        caption = fig.get_supxlabel()
        [text] = [t for t in fig.texts if t.get_text() == caption]
        box, panels = text.get_window_extent(), [ax.get_window_extent() for ax in fig.axes]
        plt.close(fig)
        caption = " ".join(caption.split())
        assert "Upper panels: median and 10-90% band over the 2 seeds" in caption
        assert "mean difference B - A" in caption and "95% confidence interval" in caption
        assert all(box.y1 <= p.y0 for p in panels)  # under every panel
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width, (kpis, box)
    # many KPIs wrap onto rows of six (34 made one row 143 inches wide), each KPI's difference
    # under its value, with the month ticked under every difference
    kpis = list(KPIS)[:8]
    fig = Comparison(a, b).figure(kpis)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    titles = [ax.get_title() for ax in shown]
    assert fig.get_figwidth() == pytest.approx(6 * 4.2) and len(shown) == 2 * len(kpis)
    for kpi in kpis:
        [top] = [ax for ax in shown if ax.get_title() == chart_label(kpi)]
        [low] = [ax for ax in shown if ax.get_title() == f"B - A ({chart_label(kpi)})"]
        assert low.get_position().y1 < top.get_position().y0  # just under it, same column
        assert low.get_position().x0 == pytest.approx(top.get_position().x0)
        assert any(t.get_text() for t in low.get_xticklabels()), kpi
    assert len(set(titles)) == len(titles)
    plt.close(fig)


def fake_cgroups(root: Path, own: str, files: dict[str, str]) -> Path:
    """A control-group tree under ``root`` (``files`` by path from it) and the process's list."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    listing = root / "proc-self-cgroup"
    listing.write_text(own)
    return listing


GIB = 2**30


@pytest.mark.parametrize(
    ("own", "files", "cores", "free"),
    [
        # cgroup v2 (Docker --cpus 1.5 --memory 4g): 1.5 cores count as 2; the file cache the
        # kernel reclaims first is not counted as used
        ("0::/job\n", {"cgroup.controllers": "cpu memory\n", "job/cpu.max": "150000 100000\n",
                       "job/memory.max": f"{4 * GIB}\n", "job/memory.current": f"{GIB}\n",
                       "job/memory.stat": f"anon {GIB // 2}\ninactive_file {GIB // 2}\n"},
         2, 3.5 * GIB),
        # a tighter limit on the group above applies too; "max" is no limit
        ("0::/a/b\n", {"cgroup.controllers": "", "a/cpu.max": "100000 100000\n",
                        "a/b/cpu.max": "max 100000\n", "a/memory.max": f"{2 * GIB}\n",
                        "a/memory.current": "0\n", "a/b/memory.max": "max\n"},
         1, 2.0 * GIB),
        # cgroup v1 (a container seeing its own groups at the mounts' roots)
        ("4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n",
         {"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n",
          "memory/memory.limit_in_bytes": f"{3 * GIB}\n",
          "memory/memory.usage_in_bytes": f"{GIB}\n",
          "memory/memory.stat": "total_inactive_file 0\n"},
         3, 2.0 * GIB),
        # no limits (v1's is a huge number, a quota of -1), and files unlike these: the cores
        ("4:memory:/\n2:cpu:/\n0::/\n",
         {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n",
          "memory/memory.limit_in_bytes": "9223372036854771712\n", "cgroup.controllers": "",
          "cpu.max": "lots\n"},
         8, None),
    ],
    ids=["v2", "v2-nested", "v1", "none"],
)  # fmt: skip
def test_a_containers_cpu_and_memory_limits_bound_the_threads(
    baseline, monkeypatch, tmp_path, own, files, cores, free
):
    """A container's --cpus or a Kubernetes CPU limit leaves every core in the affinity: 64
    workers ran on a 2-CPU share; and MemAvailable is the machine's, so runs started to fill it
    were killed at the container's memory limit. Both now bound the threads and workers."""
    monkeypatch.setattr(run_module, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(run_module, "PROC_CGROUP", fake_cgroups(tmp_path, own, files))
    monkeypatch.setattr(run_module.os, "sched_getaffinity", lambda pid: set(range(8)))
    assert run_module.cores() == cores
    assert run_module._cgroup_memory_free() == free
    machine = run_module._available_memory()
    assert machine is not None and (free is None or machine <= free)
    if free is not None:  # as many runs as the group's memory holds
        monkeypatch.setattr(type(baseline), "memory_estimate", lambda self: free / 2.5)
        assert run_module.default_threads(baseline, 100) == min(cores, 2)


def test_seeds_run_in_as_many_threads_as_cores_and_memory_hold(baseline, monkeypatch, tmp_path):
    monkeypatch.setattr(run_module, "PROC_CGROUP", tmp_path / "none")  # no control groups
    monkeypatch.setattr(run_module.os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr(run_module, "_available_memory", lambda: None)
    assert run_module.default_threads(baseline, 10) == 8  # memory unknown: the cores decide
    assert run_module.default_threads(baseline, 3) == 3  # no more threads than runs
    one_run = baseline.memory_estimate()
    assert 150e6 < one_run < 1e9  # 200,000 users' ties and a few hundred people
    monkeypatch.setattr(run_module, "_available_memory", lambda: 4.5 * one_run)
    assert run_module.default_threads(baseline, 10) == 4
    monkeypatch.setattr(run_module, "_available_memory", lambda: 0.5 * one_run)
    assert run_module.default_threads(baseline, 10) == 1  # one run at a time, never none
    big = baseline.with_changes({"market.potential_users": 10_000_000, "market.user_degree": 20})
    assert big.memory_estimate() > 7e9  # 200 million ties
    with pytest.raises(ValueError, match="threads must be 1 or more"):
        run_seeds(baseline, [1], 1, threads=0)
