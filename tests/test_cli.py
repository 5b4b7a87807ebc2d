import importlib.metadata
import json
import os
import platform
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from culturesim.compiled import SOURCE_DIGEST
from culturesim.kpis import KPIS
from tests.conftest import (
    ROOT,
    SCENARIOS,
    culturesim_here,
    culturesim_process,
    ignore_sigint,
    land_in_a_callback,
    nohup,
    terminal_signals,
)


def cli(*args, cwd=None):
    """``culturesim ARGS``, in this process (:func:`culturesim_here`) unless ``cwd`` is given."""
    if cwd is None:
        return culturesim_here(*args)
    return culturesim_process(*args, cwd=cwd)


BAD = {
    "unknown_key": ("[levers]\ninnovation_tme = 0.2\n", "levers.innovation_tme"),
    "lever_out_of_range": ("[levers]\ninnovation_time = 0.9\n", "levers.innovation_time"),
    "wrong_type": ('[organization]\nemployees = "many"\n', "organization.employees"),
    "negative_headcount": ("[organization]\nemployees = -10\n", "organization.employees"),
    "event_past_horizon": (
        '[meta]\nmonths = 24\n[[events]]\nmonth = 30\nkind = "layoff"\nshare = 0.1\n',
        "events[0].month",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_names_the_key_and_writes_nothing(tmp_path, case):
    text, key = BAD[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    out = tmp_path / "out"
    for args in (("validate", path), ("run", path, "--seeds", "2", "--out", out)):
        proc = cli(*args)
        assert proc.returncode == 2, proc.stderr
        assert key in proc.stderr
        assert str(path) in proc.stderr
        assert "Traceback" not in proc.stderr
        assert not out.exists() or not any(out.iterdir())


def test_bad_input_is_answered_before_the_model_and_the_plots_are_imported(tmp_path):
    """A typo's answer does not wait for what a run needs: the model and its compiled kernels,
    the batch machinery, matplotlib (``run`` with a bad file took 4.6-5.2 s, now 0.4 s)."""
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD["lever_out_of_range"][0])
    experiment = tmp_path / "exp.toml"
    experiment.write_text('[experiment]\nname = "x"\nscenario = "bad.toml"\n')
    heavy = ["culturesim.model", "culturesim.batch.sweep", "culturesim.batch.compare",
             "culturesim.batch.analyze", "culturesim.batch.report", "matplotlib"]  # fmt: skip
    code = (
        "import sys\n"
        "from culturesim.cli import main\n"
        "status = main(sys.argv[1:])\n"
        f"print(status, [m for m in {heavy!r} if m in sys.modules])\n"
    )
    out = tmp_path / "out"
    for args in (
        ["run", bad, "--out", out],
        ["compare", bad, bad],
        ["sweep", experiment, "--out", out],
        ["analyze", tmp_path],
        ["report", tmp_path],
    ):
        proc = subprocess.run(
            [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True
        )
        assert proc.stdout.strip() == "2 []", (args, proc.stdout, proc.stderr)
        assert not out.exists()


def test_validate_accepts_shipped_scenarios():
    proc = cli("validate", *sorted(SCENARIOS.glob("*.toml")))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(": ok") == len(list(SCENARIOS.glob("*.toml")))
    assert "sets nothing" not in proc.stdout


def test_validate_says_when_a_file_sets_nothing(tmp_path):
    """An empty file (saved by mistake, say) was "ok", and then ran as the baseline."""
    empty, commented = tmp_path / "empty.toml", tmp_path / "commented.toml"
    empty.write_text("")
    commented.write_text("# levers to come\n[levers]\n")
    proc = cli("validate", empty, commented)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"{f}: ok (it sets nothing: the built-in baseline)" for f in (empty, commented)
    ]


def test_validate_reports_every_bad_file(tmp_path):
    good = SCENARIOS / "baseline.toml"
    bad = tmp_path / "x.toml"
    bad.write_text("[levers]\ninclusion = 3\n")
    proc = cli("validate", good, bad)
    assert proc.returncode == 2
    assert "baseline.toml: ok" in proc.stdout
    assert "levers.inclusion" in proc.stderr
    assert "0 to 1" in proc.stderr


def test_validate_checks_experiment_files_and_their_scenarios(tmp_path):
    shipped = sorted((ROOT / "experiments").glob("*.toml"))
    proc = cli("validate", *shipped)
    assert proc.returncode == 0, proc.stderr  # they were read as scenarios: "unknown key"
    sobol = ROOT / "experiments" / "levers_sobol.toml"
    assert f"{sobol}: ok (experiment: 768 design points x 1 replication = 768 runs)" in proc.stdout
    many = tmp_path / "many.toml"  # counts as every other count: "1,024", not "1024"
    many.write_text(
        '[experiment]\nname = "x"\nscenario = "baseline"\ndesign = "lhs"\nsamples = 1024\n'
        'replications = 20\n[parameters]\n"levers.transparency" = { min = 0.2, max = 0.8 }\n'
    )
    proc = cli("validate", many)
    assert "ok (experiment: 1,024 design points x 20 replications = 20,480 runs)" in proc.stdout
    (tmp_path / "tiny.toml").write_text("[levers]\ninclusion = 3\n")  # its scenario is bad
    bad = tmp_path / "exp.toml"
    bad.write_text(
        '[experiment]\nname = "x"\nscenario = "tiny.toml"\ndesign = "grid"\n'
        '[parameters]\n"levers.transparency" = [0.2, 0.8]\n'
    )
    proc = cli("validate", bad)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "levers.inclusion" in proc.stderr and str(tmp_path / "tiny.toml") in proc.stderr
    # a shipped scenario by name works, and a typo in it gets the command line's hint
    hint = "experiment.scenario: baselin: no such file, nor a shipped scenario of that name " \
        "(did you mean baseline?)"  # fmt: skip
    nameless = 'experiment.scenario: "": no name: give a scenario file or a shipped one ('
    for name, said in (("baseline", None), ("baselin", hint), ("", nameless)):
        text = bad.read_text().splitlines(keepends=True)
        text[2] = f'scenario = "{name}"\n'
        bad.write_text("".join(text))
        proc = cli("validate", bad)
        assert proc.returncode == (0 if said is None else 2), proc.stderr
        assert said is None or said in proc.stderr, proc.stderr


def test_a_file_that_cannot_be_read_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    """Another user's scenario or experiment file: exit 2 and why, as for any bad input."""
    import errno

    from culturesim import cli as cli_module

    scenario = tmp_path / "theirs.toml"
    scenario.write_text((SCENARIOS / "baseline.toml").read_text())
    experiment = tmp_path / "exp.toml"
    experiment.write_text(
        '[experiment]\nname = "x"\nscenario = "theirs.toml"\ndesign = "grid"\n'
        '[parameters]\n"levers.transparency" = [0.2, 0.8]\n'
    )
    real = Path.open
    unreadable = {scenario}

    def open_(path, *args, **kwargs):  # as the OS answers another user (root reads anything)
        if path in unreadable:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    out = tmp_path / "out"
    line = f"{scenario}: cannot read it: Permission denied"
    for args in (["validate", scenario], ["run", scenario, "--out", out], ["show", scenario],
                 ["validate", experiment], ["sweep", experiment, "--out", out]):  # fmt: skip
        code = cli_module.main([str(a) for a in args])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and err[0].endswith(line), (args, err)
    unreadable = {experiment}  # the experiment itself
    for args in (["validate", experiment], ["sweep", experiment, "--out", out]):
        code = cli_module.main([str(a) for a in args])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and err == [f"{experiment}: cannot read it: Permission denied"], err
    assert not out.exists()


def test_a_reader_that_stops_early_gets_no_traceback():
    """`culturesim kpis | head -1`: the pipe closes before the listing ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "culturesim", "kpis"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 128 + signal.SIGPIPE
    assert err == ""  # a BrokenPipeError traceback before


@pytest.mark.parametrize(
    ("command", "files"),
    [
        (
            ["run", "baseline"],
            {"runs.parquet", "timeseries.parquet", "manifest.json", "dashboard.png"},
        ),
        (["compare", "baseline", "google_20pct"], {"compare.csv", "compare.png", "manifest.json"}),
    ],
    ids=["run", "compare"],
)
def test_a_reader_that_stops_early_takes_no_results_away(tmp_path, command, files):
    """`culturesim run ... --out DIR | head`: the results are written before the summary is
    printed, so a closed pipe stops the printing, not the writing (the folder stayed empty)."""
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "culturesim", *command, "--seeds", "2", "--months", "12",
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=300) == 128 + signal.SIGPIPE, err
    assert {f.name for f in out.iterdir()} == files  # and nothing half-made beside them
    assert json.loads((out / "manifest.json").read_text())["kind"] == command[0]


def test_run_writes_results_manifest_and_dashboard(tmp_path):
    out = tmp_path / "res"
    proc = cli("run", SCENARIOS / "baseline.toml", "--seeds", "3", "--months", "14", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "month 12" in proc.stdout and "month 14" in proc.stdout  # and the horizon's end
    assert "month 36" not in proc.stdout
    assert "attrition_rate_annual" in proc.stdout
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts.columns) == ["run_id", "seed", "month", *KPIS]
    assert ts.groupby("run_id")["month"].max().tolist() == [14, 14, 14]
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs["seed"].tolist() == [0, 1, 2]
    assert (runs["status"] == "ok").all()
    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("culturesim_version", "git_commit", "scenario_hash", "seeds", "start_time",
                "end_time", "scenario"):  # fmt: skip
        assert key in manifest
    assert manifest["seeds"] == [0, 1, 2]
    assert manifest["kind"] == "run" and manifest["code_digest"] == SOURCE_DIGEST
    assert manifest["packages"]["numpy"] == np.__version__  # the numbers depend on them too
    assert manifest["packages"]["networkx"] == nx.__version__  # the founders' ties
    assert manifest["packages"]["SALib"] == importlib.metadata.version("SALib")  # designs
    assert manifest["python"] == platform.python_version()
    png = (out / "dashboard.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 20_000
    assert not [p for p in out.iterdir() if p.name.startswith(".culturesim-")]


def test_summary_numbers_show_about_four_significant_digits():
    from culturesim.kpis import format_number

    values = (21_740_000.0, 66_914.2, 148.0, 145.6, 21.586, 0.6224, 4.2, 0.66)
    shown = [format_number(x) for x in values]
    assert shown == ["21.74M", "66,914", "148", "145.6", "21.59", "0.622", "4.2", "0.66"]
    assert format_number(-0.0421) == "-0.0421"  # three significant digits below 1
    assert format_number(-0.0004) == "-0.0004"
    assert format_number(-1e-9) == "0"  # nearer 0 than six decimals: 0, not "-0"
    assert format_number(-0.0) == "0"  # a difference of nothing read "-0"
    assert format_number(2.5e9) == "2,500.00M"  # cash may reach $10^15: "1000000000.00M"
    # money reads in millions from $100,000: "-965,386" stood beside "-2.08M" in one row
    assert format_number(-965_386.0, money=True) == "-0.965M"
    assert format_number(66_914.2, money=True) == "66,914"
    assert format_number(-965_386.0) == "-965,386"  # users, say: in full


def test_a_value_and_its_interval_read_in_one_unit_and_show_a_small_bound():
    """compare's table printed a difference in costs as "90,656 [70,832, 0.11M]" (each number
    in its own unit) and one in culture alignment as "0.002 [0, 0.003]" (hiding whether the
    interval holds 0)."""
    from culturesim.kpis import format_numbers

    assert format_numbers([90_656.0, 70_832.0, 110_480.0], money=True) == [
        "0.091M", "0.071M", "0.110M"]  # fmt: skip
    assert format_numbers([0.00174, 0.00013, 0.00335]) == ["0.00174", "0.00013", "0.00335"]
    assert format_numbers([-0.0116, -0.025, 0.0018]) == ["-0.0116", "-0.025", "0.0018"]
    assert format_numbers([4_160.0, 2_373.0, 5_947.0], money=True) == ["4,160", "2,373", "5,947"]
    assert format_numbers([148.0, 145.3, 149.7]) == ["148", "145.3", "149.7"]
    assert format_numbers([0.0, 0.0, 0.0]) == ["0", "0", "0"]
    assert format_numbers([0.0, float("nan"), 1.0]) == ["0", "nan", "1"]  # one seed: no interval


def test_a_rounded_number_keeps_its_trailing_zeros_and_an_exact_one_drops_them():
    """A summary's "50.06 [46.1, 54.12]" and a report's "595.1 ± 336" (for 335.98): a rounded
    number whose zeros were dropped read as a rougher figure than its neighbours. A count's
    quantiles are exact ("8 [8, 9.2]", not "8.000 [8.000, 9.200]")."""
    from culturesim.kpis import format_numbers

    assert format_numbers([50.06, 46.0999, 54.12]) == ["50.06", "46.10", "54.12"]
    assert format_numbers([595.1, 335.979]) == ["595.1", "336.0"]
    assert format_numbers([0.0688, 0.05102, 0.0903]) == ["0.0688", "0.0510", "0.0903"]
    assert format_numbers([8.0, 8.0, 9.2]) == ["8", "8", "9.2"]  # exact: a count's quantiles
    assert format_numbers([0.3, 0.641]) == ["0.3", "0.641"]  # exact (a mean of counts / 20)
    assert format_numbers([0.29999, 0.641]) == ["0.300", "0.641"]
    # zeros past the largest's decimals (a small bound's) are dropped; millions keep theirs
    assert format_numbers([0.4999999, 0.000001, 0.912]) == ["0.500", "0.000001", "0.912"]
    assert format_numbers([2.1e6, -400, 4.2e6], money=True) == ["2.10M", "-0.0004M", "4.20M"]
    assert format_numbers([0.0, 1e-9, 8.79e7]) == ["0", "0", "87.90M"]  # 0, not "0.00M"
    assert [format_numbers([x])[0] for x in (0.5, 220.0, 0.4999)] == ["0.5", "220", "0.500"]
    # at most MAX_DECIMALS (6): no zero made up past them ("-0.0000170" for -0.000017)
    assert format_numbers([-1.7e-05, -3.3e-05, -2e-06]) == ["-0.000017", "-0.000033", "-0.000002"]


def test_the_summary_tables_money_rows_read_in_one_unit():
    """`run`'s table printed a net cash flow row as "-965,386 [-994,656, -845,833]" at month 12
    and "-2.08M [...]" at 36; people counts stay in full."""
    import numpy as np

    from culturesim.cli import summary_table
    from culturesim.kpis import KPIS

    months = np.arange(37)
    frame = pd.DataFrame({"run_id": 0, "seed": 0, "month": months})
    for name in KPIS:
        frame[name] = 1.0
    frame["net_cash_flow"] = np.where(months < 24, -965_386.0, -2_080_000.0)
    frame["users_active"] = 965_386.0
    rows = {line.split()[0]: line for line in summary_table(frame).splitlines()[2:]}
    assert rows["net_cash_flow"].split()[1:] == ["-0.965M", "[-0.965M,", "-0.965M]",
                                                 "-2.08M", "[-2.08M,", "-2.08M]"]  # fmt: skip
    assert rows["users_active"].split()[1] == "965,386"


def test_manifest_is_enough_to_reproduce(tmp_path):
    from culturesim import simulate
    from culturesim.scenario import scenario_from_dict

    out = tmp_path / "res"
    assert (
        cli("run", "cost_cutting", "--seeds", "2", "--months", "15", "--out", out).returncode == 0
    )
    manifest = json.loads((out / "manifest.json").read_text())
    ts = pd.read_parquet(out / "timeseries.parquet")
    sc = scenario_from_dict(manifest["scenario"])
    again = simulate(sc, seed=manifest["seeds"][1], months=manifest["months"]).kpis
    saved = ts[ts["run_id"] == 1].set_index("month")[list(KPIS)]
    pd.testing.assert_frame_equal(saved, again, check_exact=True, check_names=False)


def test_every_command_has_help():
    for args in (("--help",), ("run", "--help"), ("validate", "--help"), ("levers", "--help")):
        proc = cli(*args)
        assert proc.returncode == 0
        assert "usage: culturesim" in proc.stdout


def test_no_command_lists_the_commands_and_a_mistyped_one_gets_a_suggestion():
    """``culturesim`` alone said only "the following arguments are required: COMMAND" under a
    usage line, which names no command; ``culturesim runn`` listed them with no hint."""
    proc = cli()
    assert proc.returncode == 2 and proc.stdout == ""
    for command in ("run", "sweep", "compare", "ui", "kpis"):
        assert re.search(rf"^    {command} +\S", proc.stderr, re.M), proc.stderr
    proc = cli("runn", "baseline")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "culturesim: error: no command 'runn' (did you mean run?); the commands: run, " in (
        proc.stderr
    )
    assert cli("--version").returncode == 0  # an option first is not a command


def test_version_is_the_installed_packages():
    import importlib.metadata

    proc = cli("--version")
    assert proc.returncode == 0
    assert proc.stdout == f"culturesim {importlib.metadata.version('culturesim')}\n"


def test_levers_command_lists_every_lever():
    from culturesim.levers import LEVERS

    proc = cli("levers")
    assert all(name in proc.stdout for name in LEVERS)
    # ranges as the messages and ODD give them: "2,000,000", not "2e+06"
    assert "brand_spend                0 to 2,000,000 (default 50,000) $ per month" in proc.stdout
    assert "compensation_premium       -0.2 to 0.5 (default 0)" in proc.stdout
    # and what each costs a month at its default in the baseline: it said "Cost: cash." only
    text = " ".join(proc.stdout.split())  # unwrapped
    said = "Cost at the default, in the baseline:"
    assert f"{said} $13k/month cash for 120 staff." in text  # $1,300 x 120 / 12
    assert f"{said} $50k/month cash." in text  # brand spend: the same whatever the size
    assert f"{said} $150k/month of work time for 120 staff (not paid out)." in text
    assert text.count(said) == len(LEVERS)


def test_a_folder_written_from_python_after_a_command_records_no_command_line():
    """An in-process main() left its command line (and warning format) behind: a notebook's
    run_sweep after it recorded the command that had run before as its own."""
    import warnings

    from culturesim import cli as cli_module
    from culturesim.manifest import provenance

    shown = warnings.showwarning
    assert cli_module.main(["levers"]) == 0
    assert provenance("sweep")["command"] is None
    assert warnings.showwarning is shown


def test_ui_binds_this_machine_only_unless_told():
    from culturesim.cli import build_parser

    args = build_parser().parse_args(["ui"])
    assert (args.host, args.port) == ("127.0.0.1", 8765)
    args = build_parser().parse_args(["ui", "--host", "0.0.0.0", "--port", "9000"])
    assert (args.host, args.port) == ("0.0.0.0", 9000)


def test_ui_on_a_port_in_use_says_so_and_starts_nothing():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = cli("ui", "--port", port)
    assert proc.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in proc.stderr and "--port" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and "Solara" not in proc.stdout
    assert "`make demo PORT=N`" in proc.stderr


def test_make_demo_serves_on_the_port_and_host_it_is_given():
    def demo(*settings):
        # HOST and PORT in the environment (tcsh sets HOST to this machine's name) are not read
        env = {**os.environ, "HOST": "somewhere.example", "PORT": "1"}
        command = ["make", "-n", "--no-print-directory", "demo", *settings]
        dry = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, env=env)
        [line] = [line for line in dry.stdout.splitlines() if "culturesim ui" in line]
        return line

    assert demo().endswith("culturesim ui --host 127.0.0.1 --port 8765")
    assert demo("PORT=9123", "HOST=0.0.0.0").endswith("culturesim ui --host 0.0.0.0 --port 9123")


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_an_out_folder_that_cannot_be_made_fails_before_the_runs(tmp_path, command):
    (tmp_path / "a_file").write_text("")
    args = {
        "run": ["baseline", "--seeds", "1"],
        "compare": ["baseline", "hypergrowth", "--seeds", "2"],
        "sweep": [ROOT / "experiments" / "levers_morris.toml", "--workers", "1"],
    }[command]
    proc = cli(command, *args, "--out", tmp_path / "a_file" / "out")
    assert proc.returncode == 2 and "cannot make it" in proc.stderr
    assert "Traceback" not in proc.stderr and "month 12" not in proc.stdout  # nothing ran


def test_an_out_folder_made_for_runs_that_fail_is_removed_again(tmp_path):
    from culturesim.cli import _output_folder

    out = tmp_path / "new" / "out"
    seen = []

    def interrupted_run(folder, error):
        with _output_folder(folder, "run"):
            seen.append(folder.is_dir())
            raise error

    with pytest.raises(KeyboardInterrupt):
        interrupted_run(out, KeyboardInterrupt)
    assert seen == [True] and not (tmp_path / "new").exists()
    (tmp_path / "kept").mkdir()
    with pytest.raises(RuntimeError):
        interrupted_run(tmp_path / "kept", RuntimeError)
    assert (tmp_path / "kept").is_dir()  # a folder that was there stays


def start_a_long_run(command: list, out: Path, **popen) -> subprocess.Popen:
    """Start ``command`` (a run of 500 seeds into ``out``); return half a second after it has
    made ``out``: it is importing the model then, or (mostly) running (a stop must do in both)."""
    popen = {"preexec_fn": terminal_signals, **popen}  # what a terminal's job would meet
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen
    )
    deadline = time.monotonic() + 120
    while not out.exists() and time.monotonic() < deadline:  # made just before the runs
        time.sleep(0.02)
    assert out.exists(), "the run did not start"
    time.sleep(0.5)
    return proc


def test_ctrl_c_during_a_run_says_so_leaves_no_folder_and_stops_the_script_around_it(tmp_path):
    """A terminal's Ctrl-C reaches the whole foreground group: here a shell script and the run
    it runs. culturesim says so, cleans up and ends killed by SIGINT, so the shell stops too;
    it used to exit with status 130, after which a shell goes on to its next command (and
    Python itself ended it by SIGINT now and then: a Ctrl-C landing in an import's ``exec``)."""
    out = tmp_path / "new" / "out"
    script = '"$0" -m culturesim run baseline --seeds 500 --out "$1"; echo "went on: $?"'
    command = ["bash", "-c", script, sys.executable, out]
    proc = start_a_long_run(command, out, start_new_session=True)  # a foreground group
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
    said, err = proc.communicate(timeout=60)
    assert "went on" not in said, said
    assert proc.returncode == -signal.SIGINT, (proc.returncode, err)
    assert err == "\nculturesim: interrupted\n", err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("sig", "preexec"),
    [(signal.SIGTERM, terminal_signals), (signal.SIGHUP, terminal_signals),
     (signal.SIGTERM, ignore_sigint)],
    ids=["SIGTERM", "SIGHUP", "SIGTERM-with-SIGINT-ignored"],
)  # fmt: skip
def test_sigterm_or_sighup_during_a_run_stop_it_as_ctrl_c_does(tmp_path, sig, preexec):
    """``timeout``, ``kill``, ``scancel`` or a closed terminal: the run stops as after a
    Ctrl-C (its folders made for the results were left behind, empty) and ends killed by the
    signal that stopped it; also where SIGINT is ignored."""
    out = tmp_path / "new" / "out"
    command = [sys.executable, "-m", "culturesim", "run", "baseline", "--seeds", "500", "--out",
               out]  # fmt: skip
    proc = start_a_long_run(command, out, preexec_fn=preexec)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -sig, (proc.returncode, err)
    assert err == "\nculturesim: interrupted\n", err
    assert not (tmp_path / "new").exists()


def test_a_run_started_with_nohup_goes_on_after_a_sighup(tmp_path):
    """``nohup culturesim run ...`` outlives its terminal: a SIGHUP it ignores stays ignored
    (only signals with their default handling stop it as Ctrl-C does); SIGTERM still stops it."""
    out = tmp_path / "new" / "out"
    command = [sys.executable, "-m", "culturesim", "run", "baseline", "--seeds", "500", "--out",
               out]  # fmt: skip
    proc = start_a_long_run(command, out, preexec_fn=nohup)
    proc.send_signal(signal.SIGHUP)
    time.sleep(2)  # a run stopped by it is gone by now (it stops within a month of each run)
    assert proc.poll() is None, "SIGHUP stopped a run started with nohup"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGTERM, (proc.returncode, err)
    assert err == "\nculturesim: interrupted\n", err
    assert not (tmp_path / "new").exists()


def test_a_ctrl_c_swallowed_before_the_runs_began_still_stops_them(monkeypatch):
    """Seen in CI: a Ctrl-C that landed in an import's module-lock callback, before `run` had
    opened its Ctrl-C watch, was swallowed there and forgotten, and the 500 runs went on. The
    program now remembers SIGINT from the start, as it does SIGTERM (``stop_on``)."""
    from culturesim import interrupts

    swallowed, came = [], []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: swallowed.append(u.exc_type))
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as a program has it
    try:
        interrupts.stop_on((signal.SIGINT,), came)
        land_in_a_callback(signal.SIGINT)  # no watch open yet
        with pytest.raises(KeyboardInterrupt), interrupts.noticing_ctrl_c() as check:
            check()  # a loop's first check, before its first run
    finally:
        signal.signal(signal.SIGINT, before)
        interrupts._STOPPED_AT.clear()
    assert swallowed == [KeyboardInterrupt] and came == [signal.SIGINT]


def test_a_stop_asked_for_again_soon_lets_the_first_clean_up(monkeypatch):
    """Ctrl-C pressed twice: the second, within ``REPEAT_SECONDS`` of the first, is the same
    stop and lets its clean-up go on (raised again, it cut the clean-up short); one later
    interrupts a clean-up that has taken that long."""
    from culturesim import interrupts

    clock = [100.0]
    monkeypatch.setattr(interrupts.time, "monotonic", lambda: clock[0])
    record: list[float] = []
    with pytest.raises(KeyboardInterrupt):
        interrupts._interrupt(record, signal.SIGINT, None)
    clock[0] += interrupts.REPEAT_SECONDS - 0.1
    interrupts._interrupt(record, signal.SIGINT, None)  # absorbed: no exception
    clock[0] += 0.2
    with pytest.raises(KeyboardInterrupt):
        interrupts._interrupt(record, signal.SIGINT, None)
    assert record == [100.0]


def test_a_stop_landing_in_an_import_comes_once_the_import_has_ended(tmp_path, monkeypatch):
    """Seen in CI: a SIGTERM early in ``culturesim run`` landed in Python's import machinery
    between its taking its global lock and the ``try`` that releases it; the lock stayed held,
    and the runs' threads, importing as they loaded the compiled kernels, waited for ever (so
    did the program). Another, landing in a compiled module's initialisation, came out as an
    ImportError traceback. A stop in an import now comes once the import has ended."""
    from culturesim import interrupts

    (tmp_path / "slow_to_import.py").write_text(
        "import signal\nimport time\n\n"
        "signal.raise_signal(signal.SIGTERM)  # lands in the import\n"
        "for _ in range(20):\n    time.sleep(0.01)\n"
        "done = True\n"
    )
    monkeypatch.syspath_prepend(tmp_path)

    def import_then_wait():
        import slow_to_import  # noqa: F401

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # where the stop comes
            time.sleep(0.01)

    before, came = signal.signal(signal.SIGTERM, signal.SIG_DFL), []
    try:
        interrupts.stop_on((signal.SIGTERM,), came)
        with pytest.raises(KeyboardInterrupt) as raised:
            import_then_wait()
        imported = sys.modules.get("slow_to_import")
    finally:
        signal.signal(signal.SIGTERM, before)
        interrupts._STOPPED_AT.clear()
        sys.modules.pop("slow_to_import", None)
    assert imported is not None and imported.done, "the stop was raised inside the import"
    frames = [entry.name for entry in raised.traceback]  # ... where it landed, the handler's
    assert frames[frames.index("_stop") - 1] == "import_then_wait", frames
    assert came == [signal.SIGTERM]


def test_a_stop_during_the_runs_is_raised_between_two_waits_not_inside_one():
    """A stop landing inside ``run_seeds``' wait on a run's future (a lock's wait) could leave
    the future's lock held, and the run's thread, setting its result, would wait for ever (the
    pool's shutdown with it). The stop is held there and raised by the check between waits."""
    from culturesim import interrupts
    from culturesim.run import run_seeds

    main = threading.main_thread().ident

    class StopAtTheFirstRun:  # a progress bar that sends SIGTERM as the first run finishes
        def tick(self):
            signal.pthread_kill(main, signal.SIGTERM)

    before, came = signal.signal(signal.SIGTERM, signal.SIG_DFL), []
    try:
        interrupts.stop_on((signal.SIGTERM,), came)
        with pytest.raises(KeyboardInterrupt) as raised:
            run_seeds(
                "baseline", list(range(40)), months=6, threads=2, progress=StopAtTheFirstRun()
            )
    finally:
        signal.signal(signal.SIGTERM, before)
        interrupts._STOPPED_AT.clear()
    assert raised.traceback[-1].name == "check", raised.traceback[-1]
    assert came == [signal.SIGTERM]


def test_a_stop_while_the_files_move_in_waits_for_the_last_of_them(tmp_path, monkeypatch):
    """``run --out`` and ``compare --out`` move their files in one by one, replacing an earlier
    run's: a stop landing between two renames left the new files beside the old ones. The
    stop now waits for the last rename (and a stop again meanwhile is the same stop)."""
    from culturesim import interrupts, manifest

    out = tmp_path / "out"
    out.mkdir()
    for name in "abc":
        (out / name).write_text("earlier")
    real, came = os.replace, []

    def replace(src, dst):
        real(src, dst)
        signal.raise_signal(signal.SIGTERM)  # lands right after each rename

    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        interrupts.stop_on((signal.SIGTERM,), came)
        monkeypatch.setattr(manifest.os, "replace", replace)
        with pytest.raises(KeyboardInterrupt):
            manifest.write_files(out, dict.fromkeys("abc", lambda path: path.write_text("new")))
    finally:
        monkeypatch.undo()
        signal.signal(signal.SIGTERM, before)
        interrupts._STOPPED_AT.clear()
    assert {path.name: path.read_text() for path in out.iterdir()} == dict.fromkeys("abc", "new")
    assert came == [signal.SIGTERM]


#: Sends the signal again at each call (each function once) its handler makes, directly or not:
#: a second signal landing wherever the first one's handler is. Prints what was noted.
SIGNAL_WITHIN_ITS_HANDLER = """
import signal, sys
which = sys.argv[1]
if which == "stop":
    from culturesim import interrupts
    came = []
    interrupts.stop_on((signal.SIGUSR1,), came)  # as SIGTERM and SIGHUP in the program
    sig, names, noted = signal.SIGUSR1, {"_stop"}, lambda: (came, interrupts._STOPPED_AT)
else:
    from culturesim.ui import serve
    serve.hold_sigint()  # the UI server while it starts
    sig, names, noted = signal.SIGINT, {"note"}, lambda: serve.HELD
sent = set()

def tracer(frame, event, arg):
    handlers, f = 0, frame.f_back
    while f is not None:
        handlers += f.f_code.co_name in names
        f = f.f_back
    if handlers == 1 and frame.f_code.co_name not in sent:  # within the first handler only
        sent.add(frame.f_code.co_name)
        signal.raise_signal(sig)

sys.settrace(tracer)
try:
    signal.raise_signal(sig)
except KeyboardInterrupt:
    print("interrupted")
sys.settrace(None)
print(sorted(sent), bool(noted()))
"""


@pytest.mark.parametrize("which", ["stop", "hold"])
def test_a_signal_landing_inside_the_handler_of_the_one_before_is_taken(which):
    """Ctrl-C pressed twice, the second landing while the first's handler runs (a handler runs
    between any two steps of the main thread, even of a handler): the handlers noted the
    signal in a ``threading.Event``, and the second, setting it while the first held its lock,
    waited for ever. Covers the program's stop (``stop_on``) and the UI server's start-up hold."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", SIGNAL_WITHIN_ITS_HANDLER, which],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("the second signal's handler waited for ever")
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout.splitlines()
    assert said[-1].endswith("True"), said  # the signal was noted
    assert ("interrupted" in said) == (which == "stop"), said


def test_an_interrupt_python_swallowed_is_not_reported_once_remembered(swallowed_ctrl_c):
    """What a run's stderr met now and then after a SIGHUP: the signal had landed in a weakref
    callback, and Python printed "Exception ignored" and a traceback above "interrupted". The
    program's hook drops an interrupt that will be raised again, and nothing else; and one
    swallowed after a loop's last check still stops it, at the end of its block."""
    from culturesim import interrupts

    land_in_a_callback, reported = swallowed_ctrl_c  # reported: what reached the hook before
    interrupts.quiet_when_remembered()  # wraps the fixture's hook, which it then restores
    with pytest.raises(KeyboardInterrupt), interrupts.noticing_ctrl_c():
        land_in_a_callback()  # no check() after it in the block
    assert reported == []
    land_in_a_callback()  # no block open: nothing remembers it, so it is reported as before

    def fail(_):
        raise ValueError("a callback's own error")

    class Thing:
        pass

    thing = Thing()
    ref = weakref.ref(thing, fail)
    del thing
    assert ref() is None and reported == [KeyboardInterrupt, ValueError]
    stopped_by, before = [], signal.getsignal(signal.SIGUSR1)
    try:
        interrupts.stop_on((signal.SIGUSR1,), stopped_by)  # as SIGTERM and SIGHUP in the program
        land_in_a_callback(signal.SIGUSR1)  # outside a block too, but remembered
    finally:
        signal.signal(signal.SIGUSR1, before)
        interrupts._STOPPED_AT.clear()
    assert stopped_by == [signal.SIGUSR1] and reported == [KeyboardInterrupt, ValueError]


LANDS_IN_A_CALLBACK = """
import signal
import culturesim.run
from culturesim.cli import console
from tests.conftest import land_in_a_callback

real = culturesim.run._result

def first_result(future, check):  # the first wait for a run: SIGTERM lands in a callback
    culturesim.run._result = real
    land_in_a_callback(signal.SIGTERM)
    return real(future, check)

culturesim.run._result = first_result
console()
"""


def test_a_stop_signal_python_swallowed_still_stops_the_program_with_one_line(tmp_path):
    """The program end to end, with the signal made to land where Python swallows it (CI met
    it by chance): the run stops, says only that it was interrupted, leaves no folder and ends
    killed by the signal."""
    out = tmp_path / "new" / "out"
    proc = subprocess.run(
        [sys.executable, "-c", LANDS_IN_A_CALLBACK, "run", "baseline", "--seeds", "4",
         "--months", "6", "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,  # ROOT: for tests.conftest
    )  # fmt: skip
    assert proc.returncode == -signal.SIGTERM, (proc.returncode, proc.stderr)
    assert proc.stderr == "\nculturesim: interrupted\n", proc.stderr
    assert not (tmp_path / "new").exists()


def test_summaries_show_the_report_months_within_the_horizon_and_its_end():
    from culturesim.kpis import report_months

    assert report_months(60) == [12, 36, 60]
    assert report_months(24) == [12, 24]
    assert report_months(6) == [6]
    assert report_months(120) == [12, 36, 60, 120]


def test_set_changes_the_scenario_run_and_the_manifest_records_it(tmp_path):
    from culturesim import load_scenario, simulate
    from culturesim.scenario import scenario_from_dict

    out = tmp_path / "res"
    change = "levers.innovation_time=0.3"
    proc = cli("run", "baseline", "--set", change, "--set", "market.user_network=scale_free",
               "--seeds", "2", "--months", "13", "--out", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(
        "baseline (levers.innovation_time=0.3, market.user_network=scale_free): 2 seeds"
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario_changes"] == {
        "levers.innovation_time": 0.3,  # read as TOML: a number, and a word as text
        "market.user_network": "scale_free",
    }
    changed = load_scenario("baseline").with_changes(manifest["scenario_changes"])
    assert scenario_from_dict(manifest["scenario"]) == changed
    saved = pd.read_parquet(out / "timeseries.parquet")
    saved = saved[saved["run_id"] == 1].set_index("month")[list(KPIS)]
    pd.testing.assert_frame_equal(
        saved, simulate(changed, seed=1, months=13).kpis, check_exact=True, check_names=False
    )
    plain = simulate("baseline", seed=1, months=13).kpis
    assert saved["ideas"].sum() != plain["ideas"].sum()  # the change made a difference


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        (
            "levers.innovation_time=0.9",
            "innovation_time: value 0.9 out of range; allowed range 0 to 0.5",
        ),
        (
            "levers.innovation_tme=0.2",
            "innovation_tme: unknown key (did you mean innovation_time?); allowed keys: "
            "innovation_time, ",
        ),
        ("organization.employees=many", "organization.employees: wrong type str ('many')"),
        ("market.user_network=ring", "allowed; input should be 'small_world', 'scale_free'"),
        ("innovation_time", "expected KEY=VALUE, e.g. levers.innovation_time=0.2"),
    ],
)
def test_a_bad_set_exits_2_names_the_key_and_writes_nothing(tmp_path, setting, said):
    out = tmp_path / "out"
    proc = cli("run", "baseline", "--set", setting, "--out", out)
    assert proc.returncode == 2, proc.stderr
    assert said in proc.stderr, proc.stderr
    if "=" in setting:
        assert proc.stderr.startswith("baseline --set: ")  # the file and the option
    assert "Traceback" not in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["run", "baseline", "--months", "2", "--seeds", "1", "--out"],
        ["compare", "baseline", "--set-b", "levers.inclusion=0.9", "--months", "2", "--out"],
        ["sweep", str(ROOT / "experiments" / "innovation_time_sweep.toml"), "--out"],
        ["analyze"],
        ["report"],
        ["dock", "--quick", "--figures"],
    ],
    ids=lambda args: args[0],
)
def test_an_empty_folder_name_is_refused(tmp_path, args):
    """``--out "$OUT"`` with OUT unset: run, compare and dock ran and wrote nothing, saying
    nothing; sweep, analyze and report took the current folder."""
    proc = cli(*args, "", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1].endswith(
        "expected a folder, got '' (an unset shell variable?); the current folder is ."
    )
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "args",
    [
        ["run", "baseline", "--months", "2", "--seeds", "1", "--out"],
        ["compare", "baseline", "--set-b", "levers.inclusion=0.9", "--months", "2", "--out"],
        ["sweep", str(ROOT / "experiments" / "innovation_time_sweep.toml"), "--out"],
        ["dock", "--quick", "--figures"],
    ],
    ids=lambda args: args[0],
)
def test_a_folder_named_by_a_broken_link_is_refused_saying_so(tmp_path, args):
    """``--out`` a link whose target is gone (a results folder moved away, say) said "cannot
    make it: File exists": what exists, and where it points, was left to find."""
    (tmp_path / "out").symlink_to(tmp_path / "moved" / "away")
    proc = cli(*args, "out", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    option = "--figures" if args[0] == "dock" else "--out"
    assert proc.stderr.splitlines()[-1] == (
        f"culturesim: {option} out: a link to {tmp_path / 'moved' / 'away'}, which does not exist"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and not (tmp_path / "moved").exists()


def in_bash(command: str) -> subprocess.CompletedProcess:
    """``command`` run by bash, ``culturesim`` standing for this Python's module."""
    culturesim = f"{shlex.quote(sys.executable)} -m culturesim"
    return subprocess.run(["bash", "-c", command.replace("culturesim", culturesim, 1)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_a_scenario_piped_in_runs_and_compare_reads_it_once(tmp_path):
    """``culturesim run <(...)`` said "/dev/fd/63: no such file"; read twice, as compare read
    A's file for B, a pipe would have given B nothing: the built-in baseline."""
    scenario = "<(printf '[meta]\\nname = \"piped\"\\n[levers]\\ninnovation_time = 0.35\\n')"
    out = tmp_path / "run"
    proc = in_bash(f"culturesim run {scenario} --seeds 1 --months 2 --out {out}")
    assert proc.returncode == 0, proc.stderr
    ran = json.loads((out / "manifest.json").read_text())["scenario"]
    assert ran["meta"]["name"] == "piped" and ran["levers"]["innovation_time"] == 0.35
    out = tmp_path / "compare"
    proc = in_bash(f"culturesim compare {scenario} --set-b levers.inclusion=0.9 --seeds 2 "
                   f"--months 2 --out {out}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    a, b = (manifest[arm]["scenario"] for arm in "ab")
    assert b["levers"] == {**a["levers"], "inclusion": 0.9} and b["meta"] == a["meta"]
    assert a["levers"]["innovation_time"] == 0.35
    # an experiment's scenario is found beside it: a pipe has no folder, and is refused
    proc = in_bash(f"culturesim sweep <(cat {ROOT / 'experiments' / 'innovation_time_sweep.toml'})"
                   f" --out {tmp_path / 'sweep'}")  # fmt: skip
    assert proc.returncode == 2 and "a pipe or a device, not a saved file" in proc.stderr
    assert not (tmp_path / "sweep").exists()


def test_a_file_far_larger_than_a_scenario_is_refused_unread(tmp_path):
    """Any file was read whole: /dev/zero filled the memory, a results file given by mistake
    was read in full to be told it is no UTF-8."""
    big = tmp_path / "timeseries.parquet"
    with big.open("wb") as f:
        f.truncate(17_000_000)  # sparse: nothing on the disk
    for path in (big, "/dev/zero"):
        proc = cli("validate", path)
        assert proc.returncode == 2
        assert proc.stderr == (f"{path}: larger than 16 MB; a scenario or an experiment file is "
                               "a few KB (a run's manifest.json some more): is it the file you "
                               "meant?\n")  # fmt: skip


DEEP = "[" * 5000 + "]" * 5000  # deeper than Python's readers go (its recursion limit)
DEEP_JSON = "[" * 100_000 + "]" * 100_000  # Python 3.13's JSON reader goes past 5,000


@pytest.mark.parametrize(
    ("name", "text", "args"),
    [
        ("deep.toml", f"[levers]\ninnovation_time = {DEEP}\n", ()),
        ("manifest.json", DEEP_JSON, ()),
        ("manifest.json", '{"kind": "run", "scenario": {"meta": ' + DEEP[2000:-2000] + "}}", ()),
        ("deep.toml", f'[experiment]\nname = "x"\nscenario = "baseline"\nsamples = {DEEP}\n', ()),
        ("ok.toml", "[levers]\n", ("--set", f"levers.innovation_time={DEEP}")),
    ],
    ids=["scenario", "manifest", "manifest-scenario", "experiment", "set"],
)
def test_a_file_nested_deeper_than_python_reads_is_refused_in_a_line(tmp_path, name, text, args):
    """A scenario, manifest or experiment nested some thousand levels deep (valid TOML or JSON:
    neither sets a limit) ended in a RecursionError's traceback of a few hundred lines.

    A manifest's scenario 3,000 levels deep is read whole by Python 3.13's JSON reader, and
    went on to a traceback from the scenario's reading (3.12 refuses it while reading it).
    """
    path = tmp_path / name
    path.write_text(text)
    command = "sweep" if "experiment" in text else "run"
    out = tmp_path / "out"
    for argv in (("validate", path), (command, path, *args, "--out", out)):
        if args and argv[0] == "validate":
            continue
        proc = cli(*argv)
        assert proc.returncode == 2, proc.stderr
        assert "nested too deeply (a few hundred levels) for Python to read" in proc.stderr
        lines = proc.stderr.splitlines()
        if args:  # argparse's usage, then its error
            assert lines[-1].startswith(f"culturesim {command}: error: argument --set: levers.")
        else:
            assert len(lines) == 1 and str(path) in lines[0], proc.stderr
        assert "Traceback" not in proc.stderr
        assert not out.exists()


def test_a_long_value_is_quoted_short_in_its_message(tmp_path):
    """A list of 20,000 numbers given as a lever was quoted whole: one line of 100 KB."""
    path = tmp_path / "long.toml"
    path.write_text(f"[levers]\ninnovation_time = [{', '.join(['0.1'] * 20_000)}]\n"
                    f'[market]\nuser_network = "{"x" * 10_000}"\n')  # fmt: skip
    proc = cli("validate", path)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert f"{path}: levers.innovation_time: wrong type list ([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, " \
           "...]); expected a valid number" in lines  # fmt: skip
    assert max(map(len, lines)) < 200 + len(str(path)), lines


@pytest.mark.parametrize("command", ["run", "compare"])
def test_seeds_past_the_largest_are_refused_and_the_largest_is_kept_exactly(
    tmp_path, capsys, command
):
    """Two seeds from meta.seed 2**63 - 1 ran seed 2**63: runs.parquet's seed column turned
    unsigned and timeseries.parquet's floating point, where the two seeds read the same."""
    from culturesim import cli as cli_module

    top, out = 2**63 - 1, tmp_path / "out"
    first = {
        "run": ["run", "baseline", "--set"],
        "compare": ["compare", "baseline", "--set-b", "levers.inclusion=0.8", "--set-a"],
    }[command]
    args = ["--seeds", "2", "--months", "2", "--out", str(out)]
    assert cli_module.main([*first, f"meta.seed={top}", *args]) == 2
    said = capsys.readouterr().err
    assert said.startswith(f"baseline: meta.seed: value {top} with 2 seeds (seeds meta.seed to "
                           f"meta.seed + 1) passes the largest seed, {top}; allowed range 0 to "
                           f"{top - 1} for 2 seeds\n"), said  # fmt: skip
    assert not out.exists()
    if command == "run":  # the largest seed itself runs, kept exactly
        assert cli_module.main([*first, f"meta.seed={top - 1}", *args]) == 0
        for name in ("runs", "timeseries"):
            seeds = pd.read_parquet(out / f"{name}.parquet")["seed"]
            assert seeds.dtype == np.int64 and sorted(set(seeds)) == [top - 1, top], name


@pytest.mark.parametrize("command", ["run", "compare"])
def test_more_seeds_than_a_command_holds_are_refused_at_once(capsys, command):
    """``--seeds 100000000`` filled 5 GB in half a minute before its first run finished: run
    and compare hold every run's KPIs in memory. Past 10,000 seeds it is a sweep's work."""
    from culturesim import cli as cli_module

    with pytest.raises(SystemExit) as info:
        cli_module.main([command, "baseline", "--seeds", "100000000"])
    assert info.value.code == 2
    said = capsys.readouterr().err
    assert said.endswith(f"culturesim {command}: error: argument --seeds: must be at most 10000, "
                         "got 100000000\n"), said  # fmt: skip


def test_compare_and_show_refuse_a_bad_change_as_run_does(tmp_path):
    out = tmp_path / "out"
    said = "levers.inclusion: value 2 out of range; allowed range 0 to 1"
    for args, option in (
        (("compare", "baseline", "--set-b", "levers.inclusion=2", "--out", out), "--set-b"),
        (("compare", "baseline", "hypergrowth", "--set-a", "levers.inclusion=2"), "--set-a"),
        (("show", "baseline", "--set", "levers.inclusion=2"), "--set"),
    ):
        proc = cli(*args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == f"baseline {option}: {said}\n"
        assert not out.exists()
    for args, said in (
        (
            ("--charts", "ideas,lunches", "--out", out),
            "unknown KPI 'lunches' (did you mean launches?)",
        ),
        (("--charts", "ideas,ideas", "--out", out), "KPI 'ideas' is named twice"),
        (("--charts", ",", "--out", out), "no KPI named; allowed: headcount"),
        (("--charts", "ideas"), "--charts picks what compare.png draws; give --out DIR too"),
    ):
        proc = cli("compare", "baseline", "--set-b", "levers.inclusion=0.9", *args)
        assert proc.returncode == 2 and said in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and not out.exists()


def test_compare_a_scenario_with_itself_changed(tmp_path):
    out = tmp_path / "cmp"
    proc = cli("compare", "baseline", "--set-b", "levers.transparency=0.9", "--seeds", "3",
               "--months", "12", "--out", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("A = baseline, B = baseline (levers.transparency=0.9):")
    table = pd.read_csv(out / "compare.csv")
    trust = table[(table["kpi"] == "trust_in_leadership") & (table["month"] == 12)].iloc[0]
    assert trust["ci_lo"] > 0  # more transparency, more trust: B is the changed baseline
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["b"]["scenario_file"] == "baseline"
    assert manifest["b"]["scenario_changes"] == {"levers.transparency": 0.9}
    assert manifest["b"]["scenario"]["levers"]["transparency"] == 0.9
    assert "scenario_changes" not in manifest["a"]
    proc = cli("compare", "baseline", "--set-a", "levers.transparency=0.1", "--seeds", "2",
               "--months", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr  # A changed, B the file as it is
    assert proc.stdout.startswith("A = baseline (levers.transparency=0.1), B = baseline:")
    proc = cli("compare", "baseline")  # nothing to compare with
    assert proc.returncode == 2
    assert "give scenario B, or A's changes for B with --set-b" in proc.stderr
    # what is wrong with A is said first (asking for B, it used to send a user round twice)
    proc = cli("compare", tmp_path / "nope.toml")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"{tmp_path / 'nope.toml'}: no such file"


def test_show_prints_either_scenario_of_a_compare_folder(tmp_path):
    """``show DIR/manifest.json`` of a compare folder refused with "a .json scenario is the
    manifest.json of a `culturesim run` results folder": B, as it ran, could not be seen."""
    from culturesim import load_scenario
    from culturesim.scenario import parse_toml, scenario_from_dict

    out = tmp_path / "cmp"
    proc = cli("compare", "baseline", "--set-b", "levers.transparency=0.9", "--seeds", "2",
               "--months", "1", "--out", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    manifest = out / "manifest.json"
    for arm, expected in (
        ("a", load_scenario("baseline")),
        ("B", load_scenario("baseline").with_changes({"levers.transparency": 0.9})),
    ):
        proc = cli("show", manifest, "--arm", arm)
        assert proc.returncode == 0, proc.stderr
        assert scenario_from_dict(parse_toml(proc.stdout.encode(), "shown")) == expected
    proc = cli("show", manifest, "--arm", "b", "--set", "levers.inclusion=0.8")
    assert proc.returncode == 0 and "\ninclusion = 0.8\n" in proc.stdout, proc.stderr
    for args, said in (
        ((manifest,), "holds two scenarios, as compare ran them: pick one with --arm a or --arm b"),
        (("baseline", "--arm", "a"), "--arm picks A or B of a compare folder's manifest.json"),
    ):
        proc = cli("show", *args)
        assert proc.returncode == 2 and said in proc.stderr, proc.stderr
        assert proc.stdout == "" and "Traceback" not in proc.stderr


def test_show_with_set_prints_the_changed_scenario():
    from culturesim import load_scenario
    from culturesim.scenario import parse_toml, scenario_from_dict

    proc = cli("show", "baseline", "--set", "levers.inclusion=0.8", "--set", "meta.months=36")
    assert proc.returncode == 0, proc.stderr
    shown = scenario_from_dict(parse_toml(proc.stdout.encode(), "shown"))
    expected = load_scenario("baseline").with_changes({"levers.inclusion": 0.8, "meta.months": 36})
    assert shown == expected


def test_set_takes_a_number_as_python_and_shells_write_it():
    """``--set levers.innovation_time=.2`` said "wrong type str ('.2'); expected a valid
    number": TOML wants a digit on both sides of the point, a user typing a share does not."""
    from culturesim.cli import _setting

    assert _setting("levers.innovation_time=.2") == ("levers.innovation_time", 0.2)
    assert _setting("levers.innovation_time=-.1") == ("levers.innovation_time", -0.1)
    assert _setting("organization.cash=5.e6") == ("organization.cash", 5e6)
    assert _setting("levers.transparency=0.5") == ("levers.transparency", 0.5)  # TOML's own
    for text in (".2.3", "20%", ".", "1.2.3", "e5", ".e5", "-"):  # still text
        assert _setting(f"levers.inclusion={text}") == ("levers.inclusion", text)
    proc = cli("show", "baseline", "--set", "levers.innovation_time=.2")
    assert proc.returncode == 0 and "\ninnovation_time = 0.2\n" in proc.stdout, proc.stderr


def test_set_takes_a_key_quoted_whole_as_an_experiments_parameters_are():
    """``--set '"levers.transparency"=0.3'`` said '"levers: unknown key (did you mean
    levers?)'."""
    from culturesim.cli import _setting

    for quoted in ('"levers.transparency"', "'levers.transparency'", '" levers.transparency "'):
        assert _setting(f"{quoted}=0.3") == ("levers.transparency", 0.3)
    assert _setting('"levers.transparency=0.3') == ('"levers.transparency', 0.3)  # unmatched
    proc = cli("show", "baseline", "--set", '"levers.transparency"=0.3')
    assert proc.returncode == 0 and "\ntransparency = 0.3\n" in proc.stdout, proc.stderr
    proc = cli("show", "baseline", "--set", '""=0.3')
    assert proc.returncode == 2 and "expected KEY=VALUE" in proc.stderr, proc.stderr


def ascii_cli(*args):
    """``cli`` where stdout and stderr are ASCII (a C locale, Windows' code page when piped)."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C", "LANG": "C"}
    return subprocess.run(
        [sys.executable, "-m", "culturesim", *map(str, args)],
        capture_output=True, text=True, env=env, encoding="ascii", timeout=300,
    )  # fmt: skip


NAMED = '[meta]\nname = "Z\u00fcrich \u5317\u4eac \U0001f600"\ndescription = "Caf\u00e9"\n'


def test_a_name_the_output_cannot_show_is_escaped_not_a_traceback(tmp_path):
    """A run whose scenario name and folder the output's encoding cannot show used to write its
    results and then end in a traceback (exit 1) printing them."""
    path = tmp_path / "z\u00fcrich.toml"
    path.write_text(NAMED, encoding="utf-8")
    out = tmp_path / "r\u00e9sultats"
    proc = ascii_cli("run", path, "--seeds", "1", "--months", "2", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "UserWarning" not in proc.stderr, proc.stderr
    assert proc.stdout.startswith("Z\\xfcrich \\u5317\\u4eac \\U0001f600: 1 seed x 2 months")
    assert f"dashboard: {tmp_path}/r\\xe9sultats/dashboard.png" in proc.stdout
    assert (out / "dashboard.png").exists()


def test_a_name_no_font_has_is_one_notice_not_a_warning_per_character(tmp_path):
    """Matplotlib warns of each missing character at each drawing (four lines and their source
    for a two-character name): the run says it once, in one line."""
    path = tmp_path / "hieroglyphs.toml"
    path.write_text('[meta]\nname = "Firm \\U00013000\\U00013001"\n', encoding="utf-8")
    proc = cli("run", path, "--seeds", "1", "--months", "2", "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        "culturesim: warning: no font on this machine has '\U00013000\U00013001' (in 'Firm "
        "\U00013000\U00013001'): figures show them as boxes (a font such as Noto Sans CJK adds "
        "them)\n"
    )


def test_show_on_an_ascii_output_still_loads_back_to_the_same_scenario(tmp_path):
    from culturesim import load_scenario
    from culturesim.scenario import parse_toml, scenario_from_dict

    path = tmp_path / "named.toml"
    path.write_text(NAMED, encoding="utf-8")
    proc = ascii_cli("show", path)
    assert proc.returncode == 0, proc.stderr
    assert 'name = "Z\\u00fcrich \\u5317\\u4eac \\U0001f600"' in proc.stdout
    shown = scenario_from_dict(parse_toml(proc.stdout.encode(), "shown"))
    assert shown == load_scenario(path)
    assert shown.meta.name == "Z\u00fcrich \u5317\u4eac \U0001f600"


@pytest.mark.parametrize(
    ("error", "named", "said"),
    [("ENOSPC", None, "No space left on device: free some space"),
     ("EROFS", None, "Read-only file system"),  # remounted read-only: no space to free
     ("EROFS", "out", "Read-only file system"),  # the folder named once, not twice
     ("EIO", "file", "Input/output error (out/x)")],
)  # fmt: skip
def test_a_full_disk_is_one_line_and_leaves_nothing(
    tmp_path, monkeypatch, capsys, error, named, said
):
    """The line said "cannot write: No space left on device": the error of a write names no
    file, so where was left to guess; an error naming the folder itself then named it twice."""
    import errno

    from culturesim import cli as cli_module

    def full(self, target, *args, **kwargs):
        number = getattr(errno, error)
        filename = {"out": str(out), "file": str(out / "x")}.get(named)
        raise OSError(number, os.strerror(number), filename)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    out = tmp_path / "results"
    args = ["run", str(SCENARIOS / "baseline.toml"), "--seeds", "1", "--months", "3"]
    code = cli_module.main([*args, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    said = said.replace("out/", f"{out}/")
    assert code == 1 and err == [f"culturesim: cannot write in {out}: {said}"], err
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["run", "baseline", "--months", "2", "--seeds", "1", "--out"],
        ["compare", "baseline", "--set-b", "levers.inclusion=0.9", "--months", "2", "--out"],
        ["dock", "--quick", "--figures"],
    ],
    ids=lambda args: args[0],
)
def test_a_disk_that_takes_nothing_is_one_line_naming_the_folder(tmp_path, args):
    """Every write failing (a file's size limited to 0, as on a full disk): dock said "cannot
    write: File too large", naming no folder (its option is --figures, not --out)."""
    from tests.test_batch import no_file_may_grow

    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "culturesim", *args, str(out)],
        capture_output=True, text=True, timeout=300, preexec_fn=no_file_may_grow,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines()[-1] == f"culturesim: cannot write in {out}: File too large"
    assert not out.exists()


@pytest.mark.parametrize(
    ("command", "runs"),
    [(["run", "baseline", "--seeds", "50"], "culturesim.run.run_seeds"),
     (["compare", "baseline", "--set-b", "levers.inclusion=0.9"], "culturesim.run.run_seeds"),
     (["dock", "--figures"], "culturesim.classics.dock.run_checks")],
    ids=lambda x: x[0] if isinstance(x, list) else "",
)  # fmt: skip
def test_a_disk_that_takes_nothing_fails_before_the_computation(
    tmp_path, monkeypatch, capsys, command, runs
):
    """A full disk (whose writes are taken and whose flush to it fails, as with delayed
    allocation) or a read-only one, in a folder that exists already: `run --seeds 50 --out`
    ran all 50 seeds, and dock all its checks, before failing to write their files."""
    import errno

    from culturesim import cli as cli_module

    computed = []
    monkeypatch.setattr(runs, lambda *args, **kwargs: computed.append(args))
    out = tmp_path / "results"
    out.mkdir()
    for number, said in ((errno.ENOSPC, "No space left on device: free some space"),
                         (errno.EROFS, "Read-only file system")):  # fmt: skip

        def full(fd, number=number):
            raise OSError(number, os.strerror(number))

        monkeypatch.setattr(os, "fsync", full)
        option = "--figures" if command[0] == "dock" else "--out"
        argv = [*command, *([option] * (option not in command)), str(out)]
        code = cli_module.main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 1 and err[-1] == f"culturesim: cannot write in {out}: {said}", err
        assert not computed and list(out.iterdir()) == []  # the probe's file gone too
    monkeypatch.undo()  # a disk with room: the probe passes and leaves nothing
    code = cli_module.main(["run", "baseline", "--seeds", "1", "--months", "1", "--out", str(out)])
    assert code == 0 and sorted(f.name for f in out.iterdir()) == [
        "dashboard.png", "manifest.json", "runs.parquet", "timeseries.parquet"]  # fmt: skip


def test_files_are_moved_in_holding_the_folders_lock(tmp_path):
    """Two commands writing one folder at once leave one's files, not a mix of both."""
    import fcntl
    import threading

    from culturesim.manifest import write_files

    out = tmp_path / "out"
    out.mkdir()
    written = threading.Event()

    def writer(text):
        def write(path):
            path.write_text(text)
            if path.name == "b.txt":
                written.set()

        return write

    held = os.open(out, os.O_RDONLY)  # another command moving its files in
    fcntl.flock(held, fcntl.LOCK_EX)
    thread = threading.Thread(
        target=write_files, args=(out, {"a.txt": writer("A"), "b.txt": writer("B")})
    )
    thread.start()
    assert written.wait(30)
    time.sleep(0.3)  # unlocked, the renames take microseconds
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == []
    os.close(held)
    thread.join(30)
    assert (out / "a.txt").read_text() == "A" and (out / "b.txt").read_text() == "B"
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]  # no temporary left


def test_run_and_compare_say_which_events_fall_after_their_months(capsys):
    from culturesim import cli as cli_module

    line = "events[0] (incident at month 18) falls after the runs' 12 months: it does not happen"
    assert cli_module.main(["run", "ai_incident", "--months", "12", "--seeds", "1"]) == 0
    assert line in capsys.readouterr().out.splitlines()
    assert (
        cli_module.main(["compare", "baseline", "ai_incident", "--months", "12", "--seeds", "2"])
        == 0
    )
    assert f"B's {line}" in capsys.readouterr().out.splitlines()
    assert cli_module.main(["run", "ai_incident", "--months", "18", "--seeds", "1"]) == 0
    assert "falls after" not in capsys.readouterr().out  # month 18 is run


def test_a_run_that_will_compile_the_model_says_so_on_a_terminal(tmp_path, monkeypatch, capsys):
    """After an install or a `git pull` the first run compiled for half a minute or more with
    nothing on the terminal, not even the progress bar (it shows after the first run)."""
    import io

    from culturesim import cli as cli_module
    from culturesim import compiled

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    args = ["run", "baseline", "--seeds", "1", "--months", "1"]
    said = "culturesim: compiling the model for this version of the code, once: half a minute"
    for cached, terminal in ((False, True), (True, True), (False, False)):
        folder = tmp_path / f"kernels-{cached}-{terminal}"
        (folder / "culturesim_0123").mkdir(parents=True)
        if cached:  # Numba's index files, one folder per module
            (folder / "culturesim_0123" / "model._age-1.py312.nbi").write_bytes(b"")
        monkeypatch.setattr(compiled, "CACHE_FOLDER", folder)
        assert compiled.kernels_cached() == cached
        stderr = Terminal() if terminal else io.StringIO()
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stderr", stderr)
            assert cli_module.main(args) == 0
        assert stderr.getvalue().startswith(said) == (terminal and not cached), stderr.getvalue()
        capsys.readouterr()
    monkeypatch.setattr(compiled, "CACHE_FOLDER", None)  # nowhere to cache: every run compiles
    assert not compiled.kernels_cached()


def test_run_and_compare_draw_a_progress_bar_on_a_terminal_only(monkeypatch, capsys):
    import io

    from culturesim import cli as cli_module

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    commands = {
        "run": (["run", "baseline", "--seeds", "3", "--months", "2"], 3),
        "compare": (["compare", "baseline", "--set-b", "levers.inclusion=0.9", "--seeds", "2",
                     "--months", "2"], 4),
    }  # fmt: skip
    for args, runs in commands.values():
        terminal = Terminal()
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stderr", terminal)
            assert cli_module.main(args) == 0
        drawn = terminal.getvalue()
        assert drawn.count("\r") == runs and f"] {runs}/{runs} runs, ETA" in drawn, drawn
        assert drawn.endswith("\n")
        capsys.readouterr()
        assert cli_module.main(args) == 0  # not a terminal (a script's pipe): nothing added
        assert capsys.readouterr().err == ""


def test_a_runs_manifest_is_a_scenario_that_reproduces_it(tmp_path, capsys):
    """`culturesim run DIR/manifest.json` runs the scenario as it ran, --set changes included,
    and for as many seeds and months as it ran (they took the defaults, 10 seeds of the
    scenario's horizon: another run); a compare folder's manifest likewise runs A and B again."""
    from culturesim import cli as cli_module

    first, again = tmp_path / "first", tmp_path / "again"
    args = ["--seeds", "2", "--months", "3"]
    assert cli_module.main(["run", "baseline", *args, "--set", "levers.inclusion=0.8",
                            "--out", str(first)]) == 0  # fmt: skip
    said = capsys.readouterr().out
    assert cli_module.main(["run", str(first / "manifest.json"), "--out", str(again)]) == 0
    assert capsys.readouterr().out.splitlines()[:-2] == said.splitlines()[:-2]  # but the paths
    assert said.startswith("baseline (levers.inclusion=0.8): 2 seeds x 3 months")
    series = [pd.read_parquet(f / "timeseries.parquet") for f in (first, again)]
    pd.testing.assert_frame_equal(*series, check_exact=True)
    recorded = [json.loads((f / "manifest.json").read_text()) for f in (first, again)]
    assert recorded[0]["scenario_hash"] == recorded[1]["scenario_hash"]
    assert recorded[1]["scenario"]["levers"]["inclusion"] == 0.8
    assert cli_module.main(["run", str(first / "manifest.json"), "--seeds", "1"]) == 0
    assert "1 seed x 3 months" in capsys.readouterr().out  # the options still decide

    cmp, cmp_again = tmp_path / "cmp", tmp_path / "cmp_again"
    assert cli_module.main(["compare", "baseline", "--set-b", "levers.inclusion=0.8", *args,
                            "--out", str(cmp)]) == 0  # fmt: skip
    said = capsys.readouterr().out
    assert cli_module.main(["compare", str(cmp / "manifest.json"), "--out", str(cmp_again)]) == 0
    assert capsys.readouterr().out.splitlines()[:-1] == said.splitlines()[:-1]
    tables = [pd.read_csv(f / "compare.csv") for f in (cmp, cmp_again)]
    pd.testing.assert_frame_equal(*tables, check_exact=True)
    assert said.startswith("A = baseline, B = baseline (levers.inclusion=0.8): means over 2 ")
    assert cli_module.main(["compare", str(cmp / "manifest.json"), "baseline"]) == 2
    assert "holds both A and B; change B with --set-b" in capsys.readouterr().err
    assert cli_module.main(["validate", str(cmp / "manifest.json")]) == 2
    assert "the manifest of culturesim compare; run it again with `culturesim compare` " \
        "(`culturesim show` with --arm a or --arm b writes A or B as TOML): a .json scenario " \
        "is the manifest.json of a `culturesim run` results folder" \
        in capsys.readouterr().err  # fmt: skip


def test_a_manifests_seeds_and_months_are_held_to_the_options_limits(tmp_path, capsys):
    """A manifest edited to 500 months ran 500 months (--months allows 1-120), one listing
    20,000 seeds ran them all (--seeds allows 10,000), and a compare manifest's single seed
    was let through where compare needs two: each is now the manifest's problem, exit 2."""
    from culturesim import cli as cli_module

    run, cmp = tmp_path / "run", tmp_path / "cmp"
    args = ["--seeds", "2", "--months", "3"]
    assert cli_module.main(["run", "baseline", *args, "--out", str(run)]) == 0
    assert cli_module.main(["compare", "baseline", "--set-b", "levers.inclusion=0.8", *args,
                            "--out", str(cmp)]) == 0  # fmt: skip
    capsys.readouterr()
    for folder, command, key, value, said in (
        (run, "run", "months", 500, "months: value 500 out of range; allowed range 1 to 120"),
        (run, "run", "seeds", list(range(20_000)), "seeds: 20,000 listed; allowed 1 to 10,000"),
        (cmp, "compare", "months", 0, "months: value 0 out of range; allowed range 1 to 120"),
        (cmp, "compare", "seeds", [0], "seeds: 1 listed; allowed 2 to 10,000"),
    ):
        manifest = json.loads((folder / "manifest.json").read_text())
        edited = tmp_path / f"{command}-{key}.json"
        edited.write_text(json.dumps(manifest | {key: value}))
        out = tmp_path / f"out-{command}-{key}"
        letter = "M" if key == "months" else "N"  # as --help names them
        assert cli_module.main([command, str(edited), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err == f"{edited}: {said} (--{key} {letter} runs {letter} {key})\n", err
        assert not out.exists()
        option = ["--seeds", "2"] if key == "seeds" else ["--months", "2"]
        assert cli_module.main([command, str(edited), *option]) == 0  # the option decides
        capsys.readouterr()


@pytest.mark.parametrize("columns", [80, 120])
def test_levers_and_kpis_fit_the_terminal(monkeypatch, capsys, columns):
    """`culturesim kpis` printed lines of up to 250 characters, and `levers` its help on one
    line: both wrap to the terminal's width now, each name's text under its first line."""
    from culturesim import cli as cli_module
    from culturesim.kpis import KPIS
    from culturesim.levers import LEVERS

    monkeypatch.setenv("COLUMNS", str(columns))
    for command, names, indent in (("kpis", KPIS, 29), ("levers", LEVERS, 27)):
        assert cli_module.main([command]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert max(map(len, lines)) <= columns and len(lines) > len(names) + 5
        starts = [line.split()[0] for line in lines if not line.startswith(" ")]
        assert starts == list(names)  # every other line runs under a name's text
        assert all(line[:indent].isspace() and line[indent] != " " for line in lines
                   if line.startswith(" "))  # fmt: skip


def test_a_changed_table_is_named_in_the_title_as_toml_as_it_was_typed():
    """`--set events=[{...}]` titled the run with Python's repr ({'month': 1, ...}); now with
    the inline TOML it was typed in, which reads back to the same value."""
    import tomllib

    from culturesim import load_scenario
    from culturesim.cli import _label

    changes = {
        "market.user_network": "scale_free",
        "events": [{"month": 1, "kind": "incident", "severity": 0.5}],
        "organization.core_values": {"user focus": 0.9, "日本": 0.5, "craft": 1},
    }
    title = _label(load_scenario("baseline"), changes)
    assert title.startswith("baseline (market.user_network=scale_free, events=[{month = 1, ")
    assert "'" not in title
    for key in ("events", "organization.core_values"):
        text = title.split(f"{key}=", 1)[1]
        toml = next(text[:i] for i in range(len(text), 0, -1) if _reads(text[:i]))
        assert tomllib.loads(f"x = {toml}")["x"] == changes[key]


def _reads(text: str) -> bool:
    import tomllib

    try:
        tomllib.loads(f"x = {text}")
    except tomllib.TOMLDecodeError:
        return False
    return True
