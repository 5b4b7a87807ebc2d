"""Batch sweeps: designs, executors that agree, resume after SIGKILL, failures, bad input."""

import collections
import contextlib
import io
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from culturesim.batch import ExperimentError, load_experiment, run_sweep
from culturesim.batch import sweep as sweep_module
from culturesim.batch.report import write_report
from culturesim.batch.sweep import SINGLE_THREADED, design_points, is_complete, process_pool
from culturesim.compiled import SOURCE_DIGEST
from culturesim.kpis import KPIS
from culturesim.manifest import running_code
from culturesim.notices import Notice
from culturesim.processes import hiring
from tests.conftest import (
    ROOT,
    culturesim_here,
    culturesim_process,
    descendants,
    land_in_a_callback,
    reaped,
    terminal_signals,
    wait_gone,
)

VENV_BIN = Path(sys.executable).parent

SCENARIO = """
[meta]
name = "tiny"
months = 12
[organization]
employees = 30
[market]
potential_users = 2000
initial_active_users = 150
"""


def write_experiment(folder: Path, body: str, name: str = "exp.toml") -> Path:
    (folder / "tiny.toml").write_text(SCENARIO)
    path = folder / name
    path.write_text(body)
    return path


GRID = """
[experiment]
name = "grid"
scenario = "tiny.toml"
design = "grid"
replications = 2
months = 12
seed = 5
outputs = ["launches", "attrition_rate_annual", "user_trust", "headcount"]
[parameters]
"levers.innovation_time" = [0.0, 0.2, 0.4]
"levers.transparency" = [0.2, 0.8]
"""


cli = culturesim_here  # culturesim_process where a test needs a process of its own


def read(out: Path):
    return pd.read_parquet(out / "runs.parquet"), pd.read_parquet(out / "timeseries.parquet")


def test_grid_pairs_points_through_seeds(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, GRID))
    points = design_points(exp)
    assert len(points) == 6
    out = run_sweep(exp, tmp_path / "out", workers=1, progress=False)
    runs, ts = read(out)
    assert runs["run_id"].tolist() == list(range(12))
    assert (runs.groupby("point")["seed"].apply(list) == pd.Series([[5, 6]] * 6)).all()
    assert set(ts.columns) == {"run_id", "month", "launches", "attrition_rate_annual",
                               "user_trust", "headcount"}  # fmt: skip
    assert ts.groupby("run_id")["month"].max().eq(12).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["experiment_hash"] and manifest["scenario_hash"]
    # a grid runs its lists' combinations: no "samples": 16 (the unused default) to mislead
    assert manifest["experiment"]["design"] == "grid" and "samples" not in manifest["experiment"]
    assert manifest["design_points"] == 6


def test_a_sweep_into_an_empty_folder_name_is_refused_writing_nothing(tmp_path, monkeypatch):
    """``run_sweep(exp, "")`` (an unset variable) does not take the current folder."""
    (tmp_path / "exp").mkdir()
    exp = load_experiment(write_experiment(tmp_path / "exp", GRID))
    monkeypatch.chdir(tmp_path)
    for out in ("", "  "):
        with pytest.raises(ValueError, match="out: expected a folder"):
            run_sweep(exp, out, workers=1, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["exp"]


def test_a_sweeps_manifest_runs_it_again_with_the_same_numbers(tmp_path, capsys):
    """The manifest records the experiment and the scenario as they ran: a sweep runs again
    from it alone (its files since changed), and a run's manifest or a sweep's are each
    pointed to the command that takes them."""
    from culturesim import cli as cli_module
    from culturesim.scenario import ScenarioError, load_scenario

    body = GRID.replace('design = "grid"', 'design = "lhs"\nsamples = 3').replace(
        "replications = 2", "replications = 1"
    )
    body = body.split("[parameters]")[0] + (
        '[parameters]\n"levers.innovation_time" = { min = 0.0, max = 0.4 }\n'
        '"organization.employees" = { min = 20, max = 40 }\n'
    )
    path = write_experiment(tmp_path, body)
    first = run_sweep(load_experiment(path), tmp_path / "first", workers=1, progress=False)
    (tmp_path / "tiny.toml").write_text(SCENARIO.replace("employees = 30", "employees = 60"))
    path.write_text(body.replace("seed = 5", "seed = 6"))  # both files changed since
    again = load_experiment(first / "manifest.json")
    assert again.scenario == load_experiment(write_experiment(tmp_path / "first", body)).scenario
    assert again.scenario.organization.employees == 30 and again.settings.seed == 5
    second = run_sweep(again, tmp_path / "second", workers=1, progress=False)
    (runs1, ts1), (runs2, ts2) = read(first), read(second)
    pd.testing.assert_frame_equal(ts1, ts2)
    columns = ["run_id", "point", "seed", "levers.innovation_time", "organization.employees"]
    pd.testing.assert_frame_equal(runs1[columns], runs2[columns])
    assert cli_module.main(["validate", str(first / "manifest.json")]) == 0
    assert "ok (experiment: 3 design points x 1 replication = 3 runs)" in capsys.readouterr().out
    with pytest.raises(ScenarioError, match="run it again with `culturesim sweep`"):
        load_scenario(first / "manifest.json")
    tiny, run_folder = str(tmp_path / "tiny.toml"), str(tmp_path / "r")
    assert cli_module.main(["run", tiny, "--seeds", "1", "--months", "1", "--out", run_folder]) == 0
    with pytest.raises(
        ExperimentError, match="manifest of culturesim run; run it with `culturesim"
    ):
        load_experiment(tmp_path / "r" / "manifest.json")


def test_any_scenario_field_can_vary_text_included(tmp_path):
    body = GRID.replace(
        '"levers.transparency" = [0.2, 0.8]',
        '"market.user_network" = ["small_world", "mixed"]\n"organization.employees" = [20, 40]',
    ).replace("replications = 2", "replications = 1")
    exp = load_experiment(write_experiment(tmp_path, body))
    runs, ts = read(run_sweep(exp, tmp_path / "out", workers=1, progress=False))
    assert len(runs) == 3 * 2 * 2 and runs["status"].eq("ok").all()
    assert set(runs["market.user_network"]) == {"small_world", "mixed"}
    first = ts[ts["month"] == 0].merge(runs, on="run_id")
    assert (first["headcount"] == first["organization.employees"]).all()


def test_a_scenario_path_from_the_home_folder_is_the_users(tmp_path, monkeypatch):
    """``scenario = "~/tiny.toml"``: no shell expands a path in a file, and it was looked for
    as a folder named "~" beside the experiment."""
    home, elsewhere = tmp_path / "home", tmp_path / "experiments"
    home.mkdir(), elsewhere.mkdir()
    write_experiment(home, "")  # tiny.toml in the home folder
    monkeypatch.setenv("HOME", str(home))
    path = elsewhere / "exp.toml"
    path.write_text(GRID.replace('scenario = "tiny.toml"', 'scenario = "~/tiny.toml"'))
    assert load_experiment(path).scenario.meta.name == "tiny"


def test_a_whole_number_parameter_stays_whole_beside_real_ones(tmp_path):
    """A design row of numbers is upcast to floats: sites were recorded (and run) as 2.0."""
    body = GRID.replace(GRID_PARAMETERS, '"levers.transparency" = [0.2, 0.8]\n'
                        '"organization.sites" = [1, 2]').replace("replications = 2",
                                                                 "replications = 1")  # fmt: skip
    exp = load_experiment(write_experiment(tmp_path, body))
    seen = []
    real = sweep_module.run_one

    def spy(scenario, changes, seed, months, outputs):
        seen.append(changes["organization.sites"])
        return real(scenario, changes, seed, months, outputs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweep_module, "run_one", spy)
        runs, _ = read(run_sweep(exp, tmp_path / "out", workers=1, progress=False))
    assert sorted(seen) == [1, 1, 2, 2] and all(type(v) is int for v in seen)
    assert runs["organization.sites"].dtype.kind == "i"
    assert runs["levers.transparency"].dtype.kind == "f"


def test_an_events_field_can_vary_by_its_position(tmp_path):
    body = GRID.replace(
        '"levers.innovation_time" = [0.0, 0.2, 0.4]\n"levers.transparency" = [0.2, 0.8]',
        '"events.0.severity" = [0.1, 0.9]\n"events.0.month" = [3, 6]',
    ).replace("replications = 2", "replications = 1")
    path = write_experiment(tmp_path, body)
    (tmp_path / "tiny.toml").write_text(
        SCENARIO + '[[events]]\nmonth = 3\nkind = "incident"\nseverity = 0.5\n'
    )
    runs, ts = read(run_sweep(load_experiment(path), tmp_path / "out", workers=1, progress=False))
    assert len(runs) == 4 and runs["status"].eq("ok").all()
    trust = (
        ts[ts["month"] == 12]
        .merge(runs, on="run_id")
        .set_index(["events.0.month", "events.0.severity"])["user_trust"]
    )
    for month in (3, 6):  # the same seed at every point: a harder incident costs more trust
        assert trust[(month, 0.9)] < trust[(month, 0.1)]
    before = ts[ts["month"] == 5].merge(runs, on="run_id")
    late = before[before["events.0.month"] == 6]  # its incident has not happened by month 5
    assert late["user_trust"].nunique() == 1
    (tmp_path / "exp.toml").write_text(body.replace('"events.0.month"', '"events.1.month"'))
    with pytest.raises(ExperimentError, match=r"events\.1\.month: events is a list with one "):
        load_experiment(tmp_path / "exp.toml")


def test_the_runs_months_are_the_experiments_for_the_events_too(tmp_path):
    """An event the runs reach is allowed though past the scenario's own months; one they never
    reach is an error, whether the scenario's, a parameter's or after --months shortens them."""
    incident = '[[events]]\nmonth = 9\nkind = "incident"\nseverity = 0.9\n'
    body = (
        GRID.replace(GRID_PARAMETERS, '"events[0].month" = [3, 16]')
        .replace("replications = 2", "replications = 1")
        .replace("months = 12", "months = 18")
    )  # the scenario's are 12
    path = write_experiment(tmp_path, body)
    (tmp_path / "tiny.toml").write_text(SCENARIO + incident)
    runs, ts = read(run_sweep(load_experiment(path), tmp_path / "out", workers=1, progress=False))
    assert runs["status"].eq("ok").all(), runs["error"].tolist()  # it was "past the horizon"
    trust = ts.merge(runs, on="run_id").pivot(index="month", columns="events[0].month",
                                              values="user_trust")  # fmt: skip
    for month in (3, 16):  # each incident happened, the one at 16 too: trust fell
        assert trust.loc[month + 1, month] < trust.loc[month - 1, month]
    refused = {
        "shortened": "parameters.events[0].month: value 16 is past the runs' 12 months "
                     "(experiment.months); allowed range 1 to 12",
        "never": "experiment.months: the runs end at month 18, before the scenario's events[1] "
                 "(incident at month 20), which would never happen",
    }  # fmt: skip
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path, months=12)
    assert refused["shortened"] in str(caught.value)
    # a scenario of 24 months whose second incident, at 20, the experiment's 18 never reach
    longer = SCENARIO.replace("months = 12", "months = 24") + incident + incident.replace("9", "20")
    (tmp_path / "tiny.toml").write_text(longer)
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    assert refused["never"] in str(caught.value)
    proc = cli("sweep", path, "--out", tmp_path / "o2", "--months", "12")
    assert proc.returncode == 2 and "experiment.months: the runs end at month 12" in proc.stderr
    assert not (tmp_path / "o2").exists()


@pytest.mark.parametrize("design", ["lhs", "sobol", "morris"])
def test_sampled_designs_use_their_samplers(tmp_path, design):
    body = (
        GRID.replace('design = "grid"', f'design = "{design}"')
        .replace(
            '"levers.innovation_time" = [0.0, 0.2, 0.4]\n"levers.transparency" = [0.2, 0.8]',
            '"levers.innovation_time" = { min = 0.0, max = 0.5 }\n'
            '"levers.transparency" = { min = 0.0, max = 1.0 }\n'
            '"organization.employees" = { min = 19.5, max = 40.0 }',
        )
        .replace("replications = 2", "replications = 1\nsamples = 4")
    )
    exp = load_experiment(write_experiment(tmp_path, body))
    points = design_points(exp)
    expected = {"lhs": 4, "sobol": 4 * (3 + 2), "morris": 4 * (3 + 1)}[design]
    assert len(points) == expected
    assert points["levers.innovation_time"].between(0, 0.5).all()
    assert points["organization.employees"].between(19.5, 40).all()
    # a head count is sampled as a real number and runs as a whole one within the range
    ran = sweep_module.run_changes(exp, points.to_dict("index"))
    heads = [changes["organization.employees"] for changes in ran.values()]
    assert all(type(h) is int and 20 <= h <= 40 for h in heads)
    run = sweep_module.run_one(exp.scenario.to_dict(), ran[0], 0, 1, ["headcount"])
    assert run["headcount"].iloc[0] == heads[0]
    assert [changes["levers.transparency"] for changes in ran.values()] == list(
        points["levers.transparency"]
    )  # a real-valued key runs as sampled
    if design == "lhs":  # one sample in each of the 4 strata of every parameter
        strata = (points["levers.transparency"] * 4).astype(int)
        assert sorted(strata) == [0, 1, 2, 3]


def test_a_sampled_whole_number_runs_each_value_in_its_range_equally_often(tmp_path):
    """Sites 1 to 3 ran 1, 2 and 3 a quarter, a half and a quarter of the time (rounded)."""
    body = lhs('"organization.employees" = { min = 19.5, max = 40.0 }\n'
               '"organization.sites" = { min = 1, max = 3 }')  # fmt: skip
    body = body.replace("replications = 2", "replications = 1\nsamples = 21")
    body = body.replace("months = 12", "months = 1")
    runs, ts = read(run_sweep(load_experiment(write_experiment(tmp_path, body)),
                              tmp_path / "out", workers=1, progress=False))  # fmt: skip
    # a Latin hypercube has one of its 21 samples in each 21st of a range: 21 head counts from
    # 20 to 40 run once each, and 1, 2 and 3 sites 7 times each
    founders = ts[ts["month"] == 0].set_index("run_id")["headcount"]
    assert sorted(founders) == list(range(20, 41))
    assert runs["organization.employees"].between(19.5, 40).all()  # kept as sampled
    exp = load_experiment(tmp_path / "exp.toml")
    ran = sweep_module.run_changes(exp, design_points(exp).to_dict("index"))
    sites = collections.Counter(changes["organization.sites"] for changes in ran.values())
    assert sites == {1: 7, 2: 7, 3: 7}
    # the report shows them as run (it showed "2.921 sites")
    rows = [line.split(" | ") for line in write_report(tmp_path / "out").read_text().splitlines()
            if line.startswith("| ") and line[2].isdigit()]  # fmt: skip
    shown = {int(row[0][2:]): (row[1], row[2]) for row in rows}
    assert shown == {
        point: (str(changes["organization.employees"]), str(changes["organization.sites"]))
        for point, changes in ran.items()
    }
    # from the manifest as recorded: a folder whose scenario this code would refuse (a key a
    # later version dropped) is reported all the same
    path = tmp_path / "out" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["scenario"]["organization"]["dropped_key"] = 1
    path.write_text(json.dumps(manifest))
    assert "| 0 | " + " | ".join(rows[0][1:3]) in write_report(tmp_path / "out").read_text()
    # a range holding no whole number is refused, naming the key
    none = body.replace("{ min = 1, max = 3 }", "{ min = 1.2, max = 1.8 }")
    with pytest.raises(ExperimentError) as caught:
        load_experiment(write_experiment(tmp_path, none, "none.toml"))
    assert caught.value.problems == [
        "parameters.organization.sites: takes whole numbers, and there is none from min 1.2 to "
        "max 1.8"
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dask_scheduler(tmp_path: Path):
    """A real Dask scheduler on 127.0.0.1 (a process of its own), and a way to add workers.

    Yields:
        Its address; ``start_worker(*args)``, which starts a ``dask worker`` process with
        ``args`` (``--nthreads``, ``--preload``, ...) and returns it; and the scheduler's
        process. Workers stop first when it ends, each
        gone before the next: a worker told to stop while its scheduler stops too often hangs
        until its nanny kills it 8 s later (Dask's, not culturesim's).
    """
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = os.environ | {"DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [
        subprocess.Popen(
            [VENV_BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", ":0", "--no-show"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
    ]  # fmt: skip

    def start_worker(*args: str) -> subprocess.Popen:
        procs.append(
            subprocess.Popen(
                [VENV_BIN / "dask", "worker", address, "--nworkers", "1", "--host", "127.0.0.1",
                 "--dashboard-address", ":0", "--local-directory", str(tmp_path / "dask-scratch"),
                 *args],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            )
        )  # fmt: skip
        return procs[-1]

    try:
        deadline = time.monotonic() + 60
        while True:  # until the scheduler listens (a second or two; more on a busy machine)
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert procs[0].poll() is None, "the Dask scheduler exited on start"
            assert time.monotonic() < deadline, "the Dask scheduler did not listen within 60 s"
            time.sleep(0.1)
        yield address, start_worker, procs[0]
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)


def wait_for_workers(address: str, n: int) -> None:
    """Wait until ``n`` workers have joined the scheduler at ``address``."""
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(n, timeout=60)


@pytest.fixture
def dask_cluster(tmp_path):
    """A real Dask scheduler with two workers on 127.0.0.1, as separate processes.

    The first runs two tasks at once in two threads, as a worker started without
    ``--nthreads`` does (one thread per core): runs in threads give the same numbers.
    """
    with dask_scheduler(tmp_path) as (address, start_worker, _):
        start_worker("--nthreads", "2")
        start_worker("--nthreads", "1")
        wait_for_workers(address, 2)
        yield address


#: A worker's preload: culturesim is not installed there (it cannot be imported).
NO_CULTURESIM = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "culturesim":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NotInstalled())
"""

#: A worker's preload: another culturesim is installed there (its code digest differs).
OTHER_CULTURESIM = """
import culturesim.compiled

culturesim.compiled.SOURCE_DIGEST = "0123456789abcdef01234567"
"""


def test_a_cluster_whose_workers_cannot_run_this_code_is_refused_before_any_run(tmp_path):
    """A worker without culturesim cannot read a run: it dropped its connection at the first
    run sent and stopped, and the sweep then waited for ever, saying nothing. Now every worker
    is asked first; one that cannot run this code is named, and nothing is run or written."""
    path = write_experiment(tmp_path, GRID)
    (tmp_path / "not_installed.py").write_text(NO_CULTURESIM)
    (tmp_path / "other_code.py").write_text(OTHER_CULTURESIM)
    with dask_scheduler(tmp_path) as (address, start_worker, _):
        start_worker("--nthreads", "1")
        start_worker("--nthreads", "1", "--preload", str(tmp_path / "not_installed.py"))
        start_worker("--nthreads", "1", "--preload", str(tmp_path / "other_code.py"))
        wait_for_workers(address, 3)
        proc = subprocess.run(
            [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(tmp_path / "o"),
             "--scheduler", address],
            capture_output=True, text=True, timeout=120,  # it used to wait for ever
        )  # fmt: skip
        from distributed import Client

        with Client(address, timeout=30) as client:
            still = len(client.scheduler_info()["workers"])
    assert proc.returncode == 2, proc.stderr
    said = proc.stderr.strip()
    assert "\n" not in said and "Traceback" not in said, said
    assert said.startswith(f"culturesim: --scheduler {address}: 2 of 3 workers cannot run "), said
    assert "cannot run culturesim (ModuleNotFoundError: No module named 'culturesim')" in said
    digest = f"culturesim code digest 0123456789abcdef01234567, here {SOURCE_DIGEST}"
    assert f"runs other code ({digest})" in said, said
    assert said.endswith("(`pip install .` from this checkout) and restart them"), said
    assert not (tmp_path / "o").exists()
    assert still == 3  # asking stopped no worker (a run sent to the first one stopped it)


def test_a_sweep_without_workers_says_so_and_runs_when_one_joins(tmp_path):
    """Started before any worker, and again when its only worker dies part-way (a sweep
    used to wait without a word then), the sweep says it waits, once each time however long
    it waits, and finishes when one joins."""
    # 120 runs: with 12, the worker had now and then run them all by the time the sweep had
    # stored two (its first store loads the Parquet writer, a second or more on a busy
    # machine), and the kill came after the end (one time in ten, two at once on two cores)
    path = write_experiment(tmp_path, GRID.replace("replications = 2", "replications = 20"))
    parts = tmp_path / "o" / "parts"
    with dask_scheduler(tmp_path) as (address, start_worker, _):
        proc = subprocess.Popen(
            [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(tmp_path / "o"),
             "--scheduler", address],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr])
        reader.start()
        guard = threading.Timer(180, proc.kill)  # a sweep that waits without a word ends here
        guard.start()
        try:
            first = lines.get(timeout=120)  # the sweep waits, having said why
            time.sleep(sweep_module.IDLE_SECONDS + 1.5)  # and does not say it again ("now")
            assert lines.empty(), list(lines.queue)
            worker = start_worker("--no-nanny", "--nthreads", "1")  # kill -9 kills the worker
            while len(list(parts.glob("run-*.parquet"))) < 2:
                assert proc.poll() is None
                time.sleep(0.02)
            worker.kill()  # its machine died, say
            said = []
            while not (said and said[-1].startswith("culturesim: warning: no Dask worker")):
                said.append(lines.get(timeout=60))
            stored = len(list(parts.glob("run-*.parquet")))
            start_worker("--nthreads", "2")
            status = proc.wait(timeout=120)
        finally:
            guard.cancel()
            if proc.poll() is None:  # the test failed half-way: the sweep ends with it
                proc.kill()
            reader.join(timeout=60)
            proc.stderr.close()
    rest = "".join(lines.queue)

    def waiting(left: int) -> str:
        return (
            f"culturesim: warning: no Dask worker at {address} now: the {left} runs left wait "
            f"for one to join (`dask worker {address}`); Ctrl-C stops the sweep, and --resume "
            "continues it\n"
        )

    assert first == waiting(120)
    assert said[-1] == waiting(120 - stored)
    assert 2 <= stored < 120  # said while runs were left
    assert status == 0, rest
    assert "warning" not in rest  # said once
    runs = pd.read_parquet(tmp_path / "o" / "runs.parquet")
    assert len(runs) == 120 and (runs["status"] == "ok").all()


def test_a_scheduler_lost_mid_sweep_is_one_line_and_keeps_the_finished_runs(tmp_path):
    """Dask's client logged a traceback of its failed reconnection before the sweep's line."""
    # 120 runs: with 12, the sweep could finish between the second run and the kill (one time
    # in twenty, two at once on two cores)
    path = write_experiment(tmp_path, GRID.replace("replications = 2", "replications = 20"))
    parts = tmp_path / "o" / "parts"
    with dask_scheduler(tmp_path) as (address, start_worker, scheduler):
        start_worker("--nthreads", "1")
        wait_for_workers(address, 1)
        proc = subprocess.Popen(
            [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(tmp_path / "o"),
             "--scheduler", address],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while len(list(parts.glob("run-*.parquet"))) < 2:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        scheduler.kill()  # its machine died, say
        _, err = proc.communicate(timeout=120)
    lines = [line for line in err.splitlines() if "runs, ETA" not in line]
    finished = len(list(parts.glob("run-*.parquet")))
    assert lines == [
        "culturesim: a run was cancelled: its worker or the Dask scheduler was lost. The "
        f"{finished} finished runs are kept in {tmp_path / 'o'}: continue with --resume"
    ], err
    assert proc.returncode == 1 and finished >= 2


def test_a_closed_dask_client_is_a_lost_scheduler_though_it_still_counts_workers():
    """dask 2025.9 now and then left a sweep's runs pending when its scheduler was lost (the
    test above waited two minutes, one time in eight): the client closed, and asked for its
    workers, answered with those it last knew. A closed client now stops the sweep, as cancelled
    runs do; a running one that lost its workers is still told apart."""
    from culturesim.batch.sweep import CANCELLED, WorkerLostError, WorkerWatch

    class Client:
        status = "closed"

        def scheduler_info(self, n_workers=0):
            return {"n_workers": 1}  # what it last knew

    watch = WorkerWatch(Client(), "tcp://there:8786")
    with pytest.raises(WorkerLostError, match=f"^{CANCELLED}$"):
        watch(5)
    Client.status = "running"
    assert watch(5) is None  # a worker: nothing to say
    Client.scheduler_info = lambda self, n_workers=0: {"n_workers": 0}
    assert watch(5).startswith("no Dask worker at tcp://there:8786 now: the 5 runs left wait")


#: Logs what Dask logs as a connection breaks, and something else, while a sweep's Dask client
#: lives and after, in a process whose logging is Dask's, as the `culturesim` command's is.
LOG_WHILE_HELD = """
import logging, sys
from distributed.comm import CommClosedError
from culturesim.batch.sweep import make_executor

def lost():
    try:
        raise CommClosedError("in <TCP (closed)>: Stream is closed")
    except CommClosedError:
        logging.getLogger("distributed.batched").info("Batched Comm Closed", exc_info=True)

_, _, close, _ = make_executor(None, sys.argv[1])
lost()
logging.getLogger("distributed.worker").warning("something else")
close()
lost()
"""


def test_dasks_reports_of_a_lost_connection_are_dropped_only_while_a_sweep_holds_its_client(
    tmp_path,
):
    """Whichever of Dask's loggers reports the broken connection, its record is dropped.

    The scheduler-lost test above met this only now and then: a ``distributed.batched`` record
    (the client was sending as the connection broke) got through a filter on the client's
    logger. Dask's loggers write through one handler, and the filter now sits there.
    """
    with dask_scheduler(tmp_path) as (address, start_worker, _):
        start_worker("--nthreads", "1")
        wait_for_workers(address, 1)
        proc = subprocess.run(
            [sys.executable, "-c", LOG_WHILE_HELD, address],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    said = [line for line in proc.stderr.splitlines() if " - " in line]
    assert [line.split(" - ", 1)[1] for line in said] == [
        "distributed.worker - WARNING - something else",
        "distributed.batched - INFO - Batched Comm Closed",  # the client closed: Dask's again
    ], proc.stderr


def test_executors_agree_bit_for_bit(tmp_path, dask_cluster):
    path = write_experiment(tmp_path, GRID)
    results = {}
    for name, args in {
        "inline": ["--workers", "1"],
        "processes": ["--workers", "2"],
        "dask": ["--scheduler", dask_cluster],
    }.items():
        command = culturesim_process if name == "dask" else cli  # Dask's client: a process
        proc = command("sweep", path, "--out", tmp_path / name, *args)
        assert proc.returncode == 0, proc.stderr
        results[name] = read(tmp_path / name)
    for name in ("processes", "dask"):
        pd.testing.assert_frame_equal(results["inline"][0], results[name][0], check_exact=True)
        pd.testing.assert_frame_equal(results["inline"][1], results[name][1], check_exact=True)
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["executor"].startswith("dask:")


def test_a_sweeps_workers_are_forked_from_a_single_threaded_fork_server(tmp_path):
    """The fork server had imported NumPy, SciPy and pyarrow, whose OpenBLAS pools and jemalloc
    thread made it a process of four threads: each worker's fork copied whatever lock one of
    them held, and Python warned "This process ... is multi-threaded, use of fork() may lead to
    deadlocks in the child" (shown where warnings are, as here)."""
    path = write_experiment(tmp_path, GRID)
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    for name in SINGLE_THREADED:
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(tmp_path / "out"),
         "--workers", "2"],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "multi-threaded" not in proc.stderr, proc.stderr


def test_the_fork_servers_settings_leave_this_process_and_the_users_own_as_they_were(
    monkeypatch,
):
    from multiprocessing import forkserver

    seen = []
    monkeypatch.setattr(forkserver, "ensure_running", lambda: seen.append(dict(os.environ)))
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("JE_ARROW_MALLOC_CONF", "narenas:1")  # a user's own: kept
    process_pool(1).shutdown()
    assert seen[0]["OPENBLAS_NUM_THREADS"] == "1"
    assert seen[0]["JE_ARROW_MALLOC_CONF"] == "narenas:1"
    assert "OPENBLAS_NUM_THREADS" not in os.environ
    assert os.environ["JE_ARROW_MALLOC_CONF"] == "narenas:1"


def test_sweep_killed_and_resumed_equals_an_uninterrupted_one(tmp_path):
    body = GRID.replace("replications = 2", "replications = 4").replace(
        "months = 12", "months = 36"
    )
    path = write_experiment(tmp_path, body)
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(out),
         "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    parts = out / "parts"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if parts.exists() and len(list(parts.glob("run-*.parquet"))) >= 5:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(parts.glob("run-*.parquet")))
    assert 5 <= done_before < 24, "kill the sweep part-way"
    assert not (out / "runs.parquet").exists()
    again = cli("sweep", path, "--out", out, "--workers", "2", "--resume")
    assert again.returncode == 0, again.stderr
    said = f"resuming {out}: {done_before} of 24 runs were finished, {24 - done_before} to run"
    assert said in again.stderr
    assert cli("sweep", path, "--out", tmp_path / "whole", "--workers", "1").returncode == 0
    runs, ts = read(out)
    assert runs["run_id"].is_unique and len(runs) == 24
    assert ts.groupby("run_id").size().eq(37).all()  # every run exactly once, months 0..36
    whole_runs, whole_ts = read(tmp_path / "whole")
    pd.testing.assert_frame_equal(runs, whole_runs, check_exact=True)
    pd.testing.assert_frame_equal(ts, whole_ts, check_exact=True)
    assert json.loads((out / "manifest.json").read_text())["resumed"]


def test_a_damaged_folder_resumes_its_damaged_runs_or_refuses_to_guess(tmp_path, monkeypatch):
    """A part cut short (a full disk, a crash) runs again; an unreadable manifest is refused."""
    path = write_experiment(tmp_path, GRID.replace("replications = 2", "replications = 1"))
    whole, out = tmp_path / "whole", tmp_path / "out"
    assert cli("sweep", path, "--out", whole, "--workers", "1").returncode == 0
    failing_at(monkeypatch, 0.4, KeyboardInterrupt)  # stopped at the last point's runs
    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_experiment(path), out, workers=1, progress=False)
    monkeypatch.undo()  # the runs below, in this process too, fail no more
    parts = sorted((out / "parts").glob("run-*.parquet"))
    assert len(parts) == 4
    parts[1].write_bytes(b"")  # renamed but never written
    parts[3].write_bytes(parts[3].read_bytes()[:200])  # cut short
    manifest = (out / "manifest.json").read_text()
    (out / "manifest.json").write_text(manifest[:50])
    refused = cli("sweep", path, "--out", out, "--workers", "1", "--resume")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"{out}: holds a manifest.json culturesim cannot read" in refused.stderr
    assert "choose another folder" in refused.stderr
    assert parts[1].read_bytes() == b""  # nothing touched
    (out / "manifest.json").unlink()  # runs without a manifest: the same
    refused = cli("sweep", path, "--out", out, "--workers", "1", "--resume")
    assert refused.returncode == 2 and "holds runs but no manifest.json" in refused.stderr
    (out / "manifest.json").write_text(manifest)
    again = cli("sweep", path, "--out", out, "--workers", "1", "--resume")
    assert again.returncode == 0, again.stderr
    assert "2 finished runs in" in again.stderr and "run-0000001.parquet); they run again" in (
        again.stderr
    )
    for a, b in zip(read(out), read(whole), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_a_finished_sweep_keeps_its_results_only_and_a_resume_leaves_them(tmp_path):
    """A finished sweep kept a file for every run beside runs.parquet and timeseries.parquet,
    which hold them all: twice the disk (about 30 KB a run), and its lock file."""
    path = write_experiment(tmp_path, GRID.replace("replications = 2", "replications = 1"))
    out = tmp_path / "out"
    assert cli("sweep", path, "--out", out, "--workers", "1").returncode == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json", "runs.parquet", "timeseries.parquet"
    ]  # fmt: skip
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    again = cli("sweep", path, "--out", out, "--workers", "1", "--resume")
    assert again.returncode == 0, again.stderr
    assert again.stderr == f"all 6 runs in {out} are finished: nothing to run\n"
    assert again.stdout == ""  # it wrote nothing, and says no "wrote"
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before
    runs, ts = read(out)
    assert len(runs) == 6 and runs["status"].eq("ok").all() and ts["run_id"].nunique() == 6


@pytest.mark.parametrize("left", [0, 3], ids=["all parts gone", "some parts left"])
def test_a_sweep_stopped_as_it_tidies_up_has_finished_and_loses_nothing(
    tmp_path, monkeypatch, left
):
    """A Ctrl-C in the second a finished sweep takes to remove its runs' parts (10,000 files):
    with every part gone, the stopped sweep took the folder for one that had finished no run
    and removed its manifest, so report and analyze refused the results; with some left, it
    said to resume a sweep that had finished."""
    exp = load_experiment(write_experiment(tmp_path, GRID))
    out = tmp_path / "out"
    real = sweep_module.shutil.rmtree

    def stopped_part_way(path, ignore_errors=False):
        for part in sorted(Path(path).glob("run-*"))[left:]:
            part.unlink()
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_module.shutil, "rmtree", stopped_part_way)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(exp, out, workers=1, progress=False)
    monkeypatch.setattr(sweep_module.shutil, "rmtree", real)
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert sweep_module.kept(out) == f"The sweep had finished: its results are in {out}"
    write_report(out)  # the results are whole
    run_sweep(exp, out, workers=1, resume=True, progress=False)  # nothing to run: it tidies
    assert not (out / sweep_module.PARTS).exists() and not (out / sweep_module.LOCK).exists()
    runs, ts = read(out)
    assert len(runs) == 12 and runs["status"].eq("ok").all() and ts["run_id"].nunique() == 12


def test_a_folder_another_sweep_is_writing_is_refused_untouched(tmp_path):
    """A second sweep on a folder that a running sweep writes exits 2, naming the holder."""
    path = write_experiment(tmp_path, GRID.replace("months = 12", "months = 24"))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(out),
         "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list((out / "parts").glob("run-*")):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGSTOP)  # frozen part-way, holding the folder
    try:
        assert not (out / "runs.parquet").exists(), "stop the first sweep part-way"
        before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        refused = cli("sweep", path, "--out", out, "--workers", "1", "--resume")
        after = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    _, err = proc.communicate(timeout=300)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"{out} is being written by another sweep (process {proc.pid} on " in refused.stderr
    assert after == before  # not a byte touched: not even a half-written part of the first
    assert proc.returncode == 0, err  # the first sweep goes on to the end
    runs, ts = read(out)
    assert len(runs) == 12 and runs["status"].eq("ok").all()
    assert ts.groupby("run_id").size().eq(25).all()  # each run once, months 0..24
    assert cli("sweep", path, "--out", out, "--workers", "1", "--resume").returncode == 0


@pytest.mark.parametrize("system", ["file system without locks", "no flock (Windows)"])
def test_without_locks_a_sweep_goes_on_with_a_notice_and_files_are_written(
    tmp_path, monkeypatch, system
):
    import errno
    import sys

    from culturesim.manifest import write_files

    if system == "file system without locks":
        import fcntl

        def no_locks(file, operation):
            raise OSError(errno.ENOLCK, "No locks available")

        monkeypatch.setattr(fcntl, "flock", no_locks)
        said = "No locks available"
    else:
        monkeypatch.setitem(sys.modules, "fcntl", None)  # `import fcntl` raises ImportError
        said = "no flock on this system"
    exp = load_experiment(
        write_experiment(tmp_path, GRID.replace("replications = 2", "replications = 1"))
    )
    with pytest.warns(Notice, match=f"cannot be locked \\({said}\\)"):
        out = run_sweep(exp, tmp_path / "out", workers=1, progress=False)
    runs, _ = read(out)
    assert len(runs) == 6 and runs["status"].eq("ok").all()
    write_files(out, {"a.txt": lambda path: path.write_text("a")})  # moved in unlocked
    assert (out / "a.txt").read_text() == "a"


def test_a_sweep_killed_outright_leaves_no_worker_running(tmp_path):
    """``kill -9`` or the out-of-memory killer on the sweep itself: its workers (waiting for
    work on a queue they hold both ends of) and their fork server ran on for good."""
    path = write_experiment(tmp_path, GRID.replace("months = 12", "months = 30"))
    out = tmp_path / "out"
    args = ["--workers", "2", "--replications", "30"]  # 180 runs: still going when we kill
    proc = subprocess.Popen(
        [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(out), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((out / "parts").glob("run-*"))) < 3:
        time.sleep(0.05)
    below = descendants(proc.pid)  # the fork server and the two workers it forked
    assert sorted(below.values()).count(2) == 2, below
    proc.kill()
    proc.wait()
    left = wait_gone(below, timeout=15)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running after the sweep was killed: {left}"


def test_a_worker_killed_mid_sweep_stops_it_and_resume_redoes_its_run(tmp_path):
    """A worker process killed (by the kernel's out-of-memory killer, say) broke the pool: the
    sweep failed with a traceback and recorded the lost runs as failed, for good."""
    path = write_experiment(tmp_path, GRID.replace("months = 12", "months = 30"))
    out = tmp_path / "out"
    args = ["--workers", "2", "--replications", "30"]  # 180 runs: still going when we kill
    proc = subprocess.Popen(
        [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(out), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((out / "parts").glob("run-*"))) < 3:
        time.sleep(0.05)
    # the pool's workers: forked by its fork server, the sweep's child
    workers = [p for p, depth in descendants(proc.pid).items() if depth == 2]
    assert workers, descendants(proc.pid)
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "a worker died before its run finished" in err, err
    assert "continue with --resume" in err
    kept = list((out / "parts").glob("run-*.parquet"))
    assert 3 <= len(kept) < 180 and not (out / "runs.parquet").exists()
    assert all(pd.read_parquet(p)["_status"].eq("ok").all() for p in kept)  # none failed
    again = cli("sweep", path, "--out", out, "--resume", *args)
    assert again.returncode == 0, again.stderr
    runs, ts = read(out)
    assert len(runs) == 180 and runs["status"].eq("ok").all()
    assert ts.groupby("run_id").size().eq(31).all()


def failing_at(
    monkeypatch, innovation_time: float, error: type[BaseException] | BaseException, seed=None
):
    """Make the sweep's runs at ``innovation_time`` (and ``seed``, if given) raise ``error``;
    return the real run_one."""
    real = sweep_module.run_one

    def run_one(scenario, changes, run_seed, months, outputs):
        if changes["levers.innovation_time"] == innovation_time and seed in (None, run_seed):
            raise error
        return real(scenario, changes, run_seed, months, outputs)

    monkeypatch.setattr(sweep_module, "run_one", run_one)
    return real


def test_a_run_out_of_memory_stops_the_sweep_and_resume_redoes_it(tmp_path, monkeypatch):
    """A MemoryError depends on what else the machine ran: recorded as the run's failure, the
    run would never be redone."""
    exp = load_experiment(write_experiment(tmp_path, GRID))
    real = failing_at(monkeypatch, 0.2, MemoryError)
    out = tmp_path / "out"
    with pytest.raises(sweep_module.WorkerLostError, match="a run ran out of memory"):
        run_sweep(exp, out, workers=1, progress=False)
    kept = sorted(out.glob("parts/run-*.parquet"))
    assert kept and all(pd.read_parquet(p)["_status"].eq("ok").all() for p in kept)
    monkeypatch.setattr(sweep_module, "run_one", real)
    runs, _ = read(run_sweep(exp, out, workers=1, progress=False, resume=True))
    assert len(runs) == 12 and runs["status"].eq("ok").all()


def test_report_and_analyze_of_an_unfinished_sweep_say_how_to_finish_it(
    tmp_path, monkeypatch, capsys
):
    """They said "not a finished sweep folder (no manifest.json/runs.parquet)" of a folder with
    a manifest.json: which of the two was missing, and what to do, was left to guess."""
    from culturesim import cli as cli_module

    exp = load_experiment(write_experiment(tmp_path, GRID))
    failing_at(monkeypatch, 0.4, KeyboardInterrupt)  # a Ctrl-C at the last point's runs
    out = tmp_path / "out dir"  # quoted in the command to copy
    with pytest.raises(KeyboardInterrupt):
        run_sweep(exp, out, workers=1, progress=False)
    written = len(list(out.glob("parts/run-*.parquet")))
    assert 0 < written < 12
    for command in ("report", "analyze"):
        assert cli_module.main([command, str(out)]) == 2
        assert capsys.readouterr().err == (
            f"culturesim: {out}: its sweep has not finished ({written} of 12 runs written): "
            f"continue it with `culturesim sweep {tmp_path / 'exp.toml'} --out '{out}' --resume` "
            "(unless it is running)\n"
        )


def test_what_says_a_run_was_lost_with_its_worker():
    from concurrent.futures import CancelledError
    from concurrent.futures.process import BrokenProcessPool

    from distributed import KilledWorker

    lost = sweep_module.lost_with_its_worker
    assert lost(BrokenProcessPool("gone")) and lost(CancelledError())
    assert lost(KilledWorker("run_one-1", None, 3))  # Dask: the task's workers kept dying
    assert lost(MemoryError())  # the memory of the worker's machine, not the run, fell short
    assert not lost(RuntimeError("boom")) and not lost(ValueError("bad"))
    said = sweep_module._lost(MemoryError())
    assert said == "a run ran out of memory (MemoryError); try fewer --workers"
    said = sweep_module._lost(CancelledError())
    assert said == "a run was cancelled: its worker or the Dask scheduler was lost"
    said = sweep_module._lost(BrokenProcessPool("A child process terminated abruptly."))
    assert said.endswith(
        "(BrokenProcessPool: A child process terminated abruptly); out of memory? Try fewer "
        "--workers"
    )


def signal_masks(pid: int) -> str:
    """The blocked, ignored and caught signal masks of ``pid`` (for a failure's message)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError as exc:
        return f"no /proc/{pid}/status: {exc}"
    return " ".join(line for line in status if line.startswith(("SigBlk", "SigIgn", "SigCgt")))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda sig: sig.name)
def test_ctrl_c_or_sigterm_leaves_a_resumable_folder(tmp_path, sig):
    """SIGTERM (``timeout``, ``scancel``) stops a sweep as Ctrl-C does: its workers shut down
    (killed outright, the sweep left their semaphores for Python to report as leaked)."""
    body = GRID.replace("months = 12", "months = 36")
    path = write_experiment(tmp_path, body)
    out = tmp_path / "out"
    reps = 30  # 180 runs: the sweep is still going when the first parts land (runs are fast)
    workers = "1" if sig == signal.SIGINT else "2"  # in this process, and a pool of processes
    args = ["--workers", workers, "--replications", str(reps), "--months", "30"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(out), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=terminal_signals,  # what a terminal's job would meet
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((out / "parts").glob("run-*"))) < 3:
        time.sleep(0.05)
    masks = signal_masks(proc.pid)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -sig, f"{masks}\n{err[-2000:]}"  # see test_cli
    assert "--resume" in err and "Traceback" not in err and "leaked" not in err, err
    assert len(list((out / "parts").glob("run-*"))) < 6 * reps  # it stopped part-way
    again = cli("sweep", path, "--out", out, "--resume", *args)
    assert again.returncode == 0, again.stderr
    runs, ts = read(out)
    assert len(runs) == 6 * reps and runs["status"].eq("ok").all()
    assert ts["month"].max() == 30  # the command-line overrides apply
    assert not list((out / "parts").glob(".*"))


def _ended(proc: subprocess.Popen, timeout: float, failure: str) -> str:
    """The stderr of ``proc`` once it ends; if not within ``timeout`` s, kill its group, fail."""
    try:
        return proc.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(failure)


@pytest.mark.parametrize("between", [0.0, 0.2], ids=["at-once", "0.2s-apart"])
def test_ctrl_c_pressed_twice_stops_a_sweep_of_processes_with_one_line(tmp_path, between):
    """An impatient Ctrl-C, again, reaches the whole group: the sweep and its workers. The
    workers printed tracebacks (interrupted while waiting for work), and the sweep could wait
    for ever at its exit for a worker whose pool's queue another had left locked, or for the
    lock of its own record of the first Ctrl-C, which the second's handler was setting too."""
    path = write_experiment(tmp_path, GRID.replace("months = 12", "months = 36"))
    out = tmp_path / "out"
    args = ["--workers", "2", "--replications", "30", "--months", "30"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(out), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=terminal_signals, start_new_session=True,  # a terminal's foreground group
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((out / "parts").glob("run-*"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(between)
    with contextlib.suppress(ProcessLookupError):  # it may be gone already
        os.killpg(proc.pid, signal.SIGINT)
    err = _ended(proc, 60, "the sweep did not end after Ctrl-C twice")
    assert proc.returncode == -signal.SIGINT, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "finished runs are kept" in lines[0] and "--resume" in lines[0], err
    # (that --resume finishes such a sweep: test_ctrl_c_or_sigterm_leaves_a_resumable_folder)


#: A sweep whose Ctrl-C lands at the worst moment for it: inside ``concurrent.futures.wait``,
#: after it has locked one of the running futures and before the rest (``_AcquireFutures``).
CTRL_C_INSIDE_WAIT = """
import os, signal, sys
from concurrent.futures import _base
from pathlib import Path
from culturesim.cli import console

parts, came, real = Path(sys.argv[3]) / "parts", [], _base._AcquireFutures.__enter__

def enter(self):
    if came or len(self.futures) < 2 or len(list(parts.glob("run-*"))) < 2:
        return real(self)
    came.append(True)
    self.futures[0]._condition.acquire()
    os.kill(os.getpid(), signal.SIGINT)  # its handler runs as this call returns
    for future in self.futures[1:]:
        future._condition.acquire()

_base._AcquireFutures.__enter__ = enter
sys.argv = ["culturesim", "sweep", *sys.argv[1:]]
console()
"""


def test_a_ctrl_c_inside_the_wait_for_runs_stops_a_sweep_of_processes(tmp_path):
    """A Ctrl-C raised in the middle of the sweep's wait for its runs left a future locked for
    good (``wait`` locks the running futures one by one), and the pool's shut-down then waited
    for ever on the thread that must lock it to cancel it: the sweep hung, saying nothing (a
    fresh-clone test run met it once under Ctrl-C pressed twice). The sweep now takes a stop
    between its waits, not inside them."""
    path = write_experiment(tmp_path, GRID.replace("months = 12", "months = 36"))
    out = tmp_path / "out"
    args = [str(path), "--out", str(out), "--workers", "2", "--replications", "30"]
    proc = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_INSIDE_WAIT, *args, "--months", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=terminal_signals, start_new_session=True,
    )  # fmt: skip
    err = _ended(proc, 120, "the sweep did not end after a Ctrl-C inside its wait for runs")
    assert proc.returncode == -signal.SIGINT, err
    assert "finished runs are kept" in err and "--resume" in err, err
    finished = len(list((out / "parts").glob("run-*.parquet")))
    assert 2 <= finished < 30 * 6, finished  # stopped part-way, what finished kept


def test_a_closed_pool_of_processes_does_not_wait_for_its_running_runs():
    """A sweep stopping (Ctrl-C, SIGTERM to the sweep alone: ``kill``, ``docker stop``) stops its
    workers' runs rather than wait for them, which would be of no use: a large run takes a
    minute or more, and the pool's shut-down used to wait for it."""
    pool, _, close, _ = sweep_module.make_executor(2, None)
    started = time.monotonic()
    running = pool.submit(time.sleep, 120)
    while not running.running():
        time.sleep(0.01)
    close()
    assert time.monotonic() - started < 60  # long before the run would have ended
    assert running.done()


def test_workers_and_a_scheduler_together_are_refused_at_once(tmp_path):
    """A Dask cluster's workers are its own: --workers beside --scheduler was ignored without a
    word (after up to 30 s of trying an address that does not answer)."""
    path = write_experiment(tmp_path, GRID)
    out = tmp_path / "out"
    proc = cli("sweep", path, "--out", out, "--workers", "2", "--scheduler", "tcp://127.0.0.1:9")
    assert proc.returncode == 2
    assert "argument --scheduler: not allowed with argument --workers" in proc.stderr
    assert not out.exists()


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    exp = load_experiment(write_experiment(tmp_path, GRID))
    failing_at(monkeypatch, 0.2, RuntimeError("boom"), seed=6)
    # it said nothing of them: a sweep ended as if all had run
    with pytest.warns(
        Notice, match=r"^2 of 12 runs failed, the first \(run 5\): RuntimeError: boom"
    ):
        runs, ts = read(run_sweep(exp, tmp_path / "out", workers=1, progress=False))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["command"] is None  # from Python: no CLI
    assert manifest["code_digest"] == SOURCE_DIGEST
    failed = runs[runs["status"] == "error"]
    assert len(failed) == 2 and failed["error"].str.contains("boom").all()
    assert (runs["status"] == "ok").sum() == 10
    assert set(ts["run_id"]) == set(runs.loc[runs["status"] == "ok", "run_id"])
    report = write_report(tmp_path / "out").read_text()  # says which runs failed, and why
    assert "10 of 12 runs ok" in report and "## Runs that failed" in report
    for r in failed.itertuples():
        assert f"| {r.run_id} | {r.point} | 6 | RuntimeError: boom |" in report


def test_a_sweep_with_failed_runs_exits_1_and_so_does_its_resume(tmp_path, monkeypatch, capsys):
    """It exited 0, so `sweep && analyze` went on as if every run had given numbers."""
    from culturesim import cli as cli_module

    path, out = write_experiment(tmp_path, GRID), tmp_path / "out"
    real = failing_at(monkeypatch, 0.4, RuntimeError("boom"), seed=6)
    args = ["sweep", str(path), "--out", str(out), "--workers", "1"]
    assert cli_module.main(args) == 1
    err = capsys.readouterr().err
    assert "culturesim: warning: 2 of 12 runs failed, the first (run 9): RuntimeError: boom" in err
    assert (out / "runs.parquet").exists() and is_complete(out)  # the folder is whole
    assert cli_module.main([*args, "--resume"]) == 1  # nothing to run, and still a failure
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        f"culturesim: 2 of 12 runs in {out} failed (runs.parquet's error column has them, "
        "and `culturesim report` lists them)"
    )
    monkeypatch.setattr(sweep_module, "run_one", real)
    assert (
        cli_module.main(["sweep", str(path), "--out", str(tmp_path / "ok"), "--workers", "1"]) == 0
    )


PAIRED = GRID.replace('"levers.innovation_time" = [0.0, 0.2, 0.4]', (
    '"market.potential_users" = [1000, 5000]\n"market.initial_active_users" = [100, 1500]'
)).replace('"levers.transparency" = [0.2, 0.8]\n', "")  # fmt: skip


def test_values_valid_alone_but_not_together_are_refused_before_any_run(tmp_path):
    """Each value was checked alone, so 1,500 active users of a market of 1,000 (a grid's
    pair, or a sampled box's corner) was validated "ok"; the sweep ran, recorded that point's
    runs as failed without a word, and a Sobol sweep's indices then refused the whole sweep."""
    path = write_experiment(tmp_path, PAIRED)
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    [line] = str(caught.value).splitlines()
    assert line.startswith(f"{path}: parameters: 1 of 4 design points makes no valid scenario")
    assert "point 1 (market.potential_users = 1000, market.initial_active_users = 1500)" in line
    assert "value 1500 exceeds potential_users; allowed range 0 to 1000" in line
    box = {
        'design = "grid"': 'design = "lhs"\nsamples = 16',
        "[1000, 5000]": "{ min = 1000, max = 2000 }",  # the scenario's potential_users: 2000
        "[100, 1500]": "{ min = 100, max = 1900 }",
    }
    sampled = PAIRED
    for written, instead in box.items():
        sampled = sampled.replace(written, instead)
    sampled = write_experiment(tmp_path, sampled, "lhs.toml")
    proc = cli("sweep", sampled, "--out", tmp_path / "out", "--workers", "1")
    assert proc.returncode == 2 and not (tmp_path / "out").exists(), proc.stderr
    assert re.search(r"parameters: \d+ of 16 design points make", proc.stderr), proc.stderr
    assert "narrow the ranges" in proc.stderr and "Traceback" not in proc.stderr


def test_values_that_break_a_rule_only_with_keys_varied_too_are_judged_with_them(tmp_path):
    """A smaller market than the scenario's 150 active users, swept with fewer active users:
    each market size was probed alone, in the scenario, and refused ("with value 120,
    market.initial_active_users: value 150 exceeds potential_users"), though every point of
    the grid is valid."""
    fewer = PAIRED.replace("[1000, 5000]", "[120, 5000]").replace("[100, 1500]", "[50, 100]")
    exp = load_experiment(write_experiment(tmp_path, fewer))
    assert len(design_points(exp)) == 4
    # judged with them: a point that does break the rule is still named, before any run
    worse = fewer.replace("[50, 100]", "[50, 130]")
    with pytest.raises(ExperimentError) as caught:
        load_experiment(write_experiment(tmp_path, worse, "worse.toml"))
    [line] = str(caught.value).splitlines()
    assert "1 of 4 design points makes no valid scenario" in line
    assert "market.potential_users = 120, market.initial_active_users = 130" in line
    assert "The values are allowed one by one, not together: narrow the lists" in line
    # a value breaking a rule with a key not varied is still the value's problem
    alone = fewer.replace('"market.initial_active_users" = [50, 100]', "")
    with pytest.raises(ExperimentError, match=r"parameters\.market\.potential_users: with value "
                       r"120, market\.initial_active_users: value 150 exceeds"):  # fmt: skip
        load_experiment(write_experiment(tmp_path, alone, "alone.toml"))


def test_a_scenario_error_in_a_worker_is_that_runs_error_only(tmp_path):
    # an experiment made in Python is not checked point by point: a worker's ScenarioError
    # must come back as the run's error, not break the pool, and the sweep says so
    exp = load_experiment(write_experiment(tmp_path, PAIRED.replace("1500]", "150]")))
    exp.parameters["market.initial_active_users"] = [100, 1500]
    with pytest.warns(Notice, match=r"2 of 8 runs failed, the first \(run 2\): .*ScenarioError"):
        runs, _ = read(run_sweep(exp, tmp_path / "out", workers=2, progress=False))
    bad = (runs["market.potential_users"] == 1000) & (runs["market.initial_active_users"] == 1500)
    assert (runs.loc[~bad, "status"] == "ok").all() and len(runs) == 8
    assert (
        runs.loc[bad, "error"]
        .str.contains("ScenarioError: <changes>: market.initial_active_users: value 1500 exceeds")
        .all()
    )


def test_runs_that_reach_the_headcount_limit_are_kept_and_told_once(tmp_path, monkeypatch):
    # 300% a year plans about 480 people from 30 over two years; 10% stays near 36
    body = GRID.replace("months = 12", "months = 24").replace(
        '"levers.innovation_time" = [0.0, 0.2, 0.4]\n"levers.transparency" = [0.2, 0.8]',
        '"organization.growth_per_year" = [0.1, 3.0]',
    )
    path = write_experiment(tmp_path, body)
    (tmp_path / "tiny.toml").write_text(
        SCENARIO.replace("employees = 30", "employees = 30\ncash = 1e12")
    )
    exp = load_experiment(path)
    monkeypatch.setattr(hiring, "MAX_HEADCOUNT", 100)
    with pytest.warns(Notice) as caught:
        runs, ts = read(run_sweep(exp, tmp_path / "out", workers=1, progress=False))
    # the runs do not warn one by one: the sweep says it once, with the count and the first
    [said] = [str(w.message) for w in caught]
    assert re.fullmatch(
        r"2 of 4 runs gave notice, the first: seed \d+, month \d+: the growth plan reached 100 "
        r"employees, the simulator's limit, and grows no further \(runs.parquet's warning column "
        r"has them all\)",
        said,
    )
    fast = runs["organization.growth_per_year"] == 3.0
    assert runs.loc[fast, "warning"].str.match(r"seed \d+, month \d+: the growth plan").all()
    assert (runs.loc[~fast, "warning"] == "").all()
    # the plan stops at the limit; the staff follows it up to it (quits and unfilled vacancies
    # may keep it a few below), never past it
    assert 90 <= ts.loc[ts["run_id"].isin(runs.loc[fast, "run_id"]), "headcount"].max() <= 100
    report = write_report(tmp_path / "out").read_text()
    assert "4 runs ok. 2 gave notice (below)." in report
    table = report.split("## Runs that gave notice\n\n| run_id | point | seed | warning |\n")[1]
    row = r"\| \d+ \| \d+ \| \d+ \| seed \d+, month \d+: the growth plan"
    assert len(re.findall(row, table)) == 2


def test_a_sweep_run_keeps_its_notices_quiet_without_touching_the_warning_filters(monkeypatch):
    """A Dask worker runs tasks in threads: one run must not change the filters others use
    (``warnings.catch_warnings`` did, for the whole process, while the run lasted)."""
    import warnings

    from culturesim import simulate
    from culturesim.model import CultureModel
    from culturesim.scenario import scenario_from_dict

    monkeypatch.setattr(hiring, "MAX_HEADCOUNT", 100)
    scenario = scenario_from_dict(
        {
            "organization": {"employees": 30, "cash": 1e12, "growth_per_year": 3.0},
            "market": {"potential_users": 2000, "initial_active_users": 150},
            "meta": {"months": 24},
        }
    )
    seen = []
    step = CultureModel.step

    def watched(model):
        seen.append(list(warnings.filters))
        step(model)

    monkeypatch.setattr(CultureModel, "step", watched)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        frame = sweep_module.run_one(scenario.to_dict(), {}, 1, 24, ["headcount"])
    assert len(seen) == 24 and all(filters == before for filters in seen)
    assert caught == []  # quiet...
    assert frame.attrs["notices"] and frame["headcount"].max() <= 100  # ...and kept
    with pytest.warns(hiring.HeadcountLimitWarning):  # outside a sweep the run warns
        simulate(scenario, seed=1)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_on_a_terminal_and_writes_a_line_a_tenth_to_a_log():
    from culturesim.progress import Progress

    log, terminal, unlogged = io.StringIO(), _Terminal(), io.StringIO()
    for stream, log_too in ((log, True), (terminal, True), (unlogged, False)):
        bar = Progress(total=200, done=40, stream=stream, log=log_too)  # resumed at 40
        for _ in range(160):
            bar.tick()
        bar.close()
        assert bar.done == 200
    lines = log.getvalue().splitlines()  # a redraw per run made one line of 160 updates
    assert "\r" not in log.getvalue() and len(lines) == 8  # tenths 3 to 10
    assert lines[0].startswith("60/200 runs, ETA ") and lines[-1].startswith("200/200 runs")
    assert terminal.getvalue().count("\r") == 160 and terminal.getvalue().endswith("\n")
    assert unlogged.getvalue() == ""  # run and compare: a bar on a terminal, else nothing


@pytest.mark.parametrize("where", ["workers", "here"])
def test_the_kernel_cache_warnings_of_a_sweeps_runs_are_said_once_each_on_a_line(
    tmp_path, monkeypatch, where
):
    """Each worker said it could not cache the kernels, in Python's two-line form, under the
    bar's line: the sweep says each warning its runs bring back once, on a line of its own.
    Runs in this process (--workers 1) keep theirs quiet too, and the sweep says them."""
    import errno

    from culturesim import cli, compiled
    from culturesim.notices import notices_kept_quiet

    real, ran = sweep_module.run_one, []
    folders = [Path("/w1"), Path("/w2")]
    warned = [
        f"cannot cache the compiled kernels in {folder}: No space left on device: each new "
        "process compiles them again (half a minute or more); free some space"
        for folder in folders
    ]

    def run_one(*args):  # from the third run on, as kernels compiled late would
        ran.append(args)
        if where == "here" and len(ran) in (3, 4):  # a kernel compiled in a run of this process
            with notices_kept_quiet():
                compiled._cannot_cache(OSError(errno.ENOSPC, "full"), folders[len(ran) - 3])
        frame = real(*args)
        if where == "workers":  # another process's, handed back
            frame.attrs["uncached"] = warned[: max(0, len(ran) - 2)]
        return frame

    monkeypatch.setattr(sweep_module, "run_one", run_one)
    monkeypatch.setattr(compiled, "CACHE_ERRORS", set(), raising=False)
    monkeypatch.setattr(compiled, "_WARNED", set(), raising=False)
    monkeypatch.setattr(sys, "stderr", terminal := _Terminal())
    path = write_experiment(tmp_path, GRID)
    assert cli.main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1"]) == 0
    said = terminal.getvalue()
    for message in warned:
        line = f"culturesim: warning: {message}\n"
        assert said.count(line) == 1, said
        assert f"\n{line}" in said, said  # the bar's line ended first
    assert said.index(warned[0]) < said.index(warned[1])  # in the runs' order
    assert said.endswith("] 12/12 runs, ETA 0:00:00\n")  # the bar goes on below


def _screen(drawn: str, columns: int) -> list[str]:
    """The lines a terminal of ``columns`` shows after ``drawn``: ``\\r`` returns to the start
    of the cursor's row, a full row wraps to the next."""
    rows, row, col = [""], 0, 0
    for char in drawn:
        if char == "\r":
            col = 0
        elif char == "\n":
            rows.append("")
            row, col = row + 1, 0
        else:
            if col == columns:  # wraps
                rows.append("")
                row, col = row + 1, 0
            rows[row] = rows[row][:col].ljust(col) + char + rows[row][col + 1 :]
            col += 1
    return rows


@pytest.mark.parametrize(("reported", "columns"), [(80, 80), (40, 40), (30, 30), (0, 80)])
def test_a_terminals_bar_is_redrawn_whole_within_its_width(monkeypatch, reported, columns):
    """The ETA's 10:00:00 redrawn as 9:57:44 left its last 0 (9:57:440), and a line wider than
    the terminal wrapped, so that each redraw added a row instead of replacing its own. A
    terminal reporting 0 columns (a pseudo-terminal nobody sized) is taken as 80 wide."""
    from culturesim import progress

    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    monkeypatch.delenv("COLUMNS", raising=False)
    terminal = _Terminal()
    terminal.fileno = lambda: 2
    monkeypatch.setattr(
        progress.os, "get_terminal_size", lambda fd: os.terminal_size((reported, 24))
    )
    bar = progress.Progress(total=1001, stream=terminal)
    for now[0] in (36.0, 71.8):  # 1,000 runs left at 36 s, then 999 at 35.9 s
        bar.tick()
    rows = _screen(terminal.getvalue(), columns)
    assert len(rows) == 1, rows  # redrawn in place
    assert rows[0].rstrip().endswith(" 2/1001 runs, ETA 9:57:44") or columns < 35, rows
    assert rows[0].rstrip() == "2/1001 runs, ETA 9:57:44" or columns >= 35, rows  # no bar
    assert len(rows[0]) < columns
    assert rows[0].startswith("[" + "." * 30 + "]") == (columns == 80)  # the whole bar in 80


def test_progress_reckons_the_time_left_from_the_recent_runs_not_a_wait(monkeypatch):
    """A resumed Dask sweep that waited 28 minutes for a worker, then ran a run a second,
    showed an ETA of 0:49:10 with 12 runs left: the pace was reckoned since the start."""
    from culturesim import progress

    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    log = io.StringIO()
    bar = progress.Progress(total=40, stream=log)
    now[0] = 1680.0  # waited for a worker
    for _ in range(40):
        now[0] += 1.0  # then a run a second
        bar.tick()
    lines = log.getvalue().splitlines()
    assert lines[1] == "8/40 runs, ETA 1:52:32"  # the wait is among the last 10 runs' time
    assert lines[2:] == [f"{n}/40 runs, ETA 0:00:{40 - n:02d}" for n in range(12, 44, 4)]


def test_a_scenario_file_given_as_an_experiment_says_so():
    from culturesim.batch.experiment import ExperimentError

    scenario = ROOT / "scenarios" / "baseline.toml"
    with pytest.raises(ExperimentError, match="a scenario file, not an experiment: run it with"):
        load_experiment(scenario)


def test_run_and_sweep_folders_are_not_mistaken_for_each_other(tmp_path, capsys):
    """A command that writes a results folder refuses another's; analyze and report a run's.

    The folders are written by the program; the refusals are asked of :func:`cli.main` in
    process (the status it returns is the program's: the CLI tests run the program itself).
    """
    from culturesim import cli as cli_module

    def refused(*args) -> str:
        """What ``culturesim *args`` said, having exited 2."""
        status = cli_module.main([str(a) for a in args])
        err = capsys.readouterr().err
        assert status == 2, (args, err)
        assert len(err.strip().splitlines()) == 1, err  # one line, no traceback
        return err

    path = write_experiment(tmp_path, GRID.replace("replications = 2", "replications = 1"))
    sweep_out, run_out = tmp_path / "sweep", tmp_path / "run"
    assert cli("sweep", path, "--out", sweep_out, "--workers", "1").returncode == 0
    before = {f.name: f.read_bytes() for f in sweep_out.iterdir() if f.is_file()}
    err = refused("run", tmp_path / "tiny.toml", "--seeds", "1", "--out", sweep_out)
    assert "holds results of culturesim sweep" in err
    assert {f.name: f.read_bytes() for f in sweep_out.iterdir() if f.is_file()} == before
    assert cli("run", tmp_path / "tiny.toml", "--seeds", "1", "--out", run_out).returncode == 0
    again = cli("run", tmp_path / "tiny.toml", "--seeds", "2", "--out", run_out)
    assert again.returncode == 0  # a run's own results are replaced by a new run
    for command in ("analyze", "report"):
        assert "not of culturesim sweep" in refused(command, run_out)
    # every command that writes a folder with a manifest keeps out of another command's
    tiny = tmp_path / "tiny.toml"
    writers = {
        "compare": ["compare", tiny, "--set-b", "levers.transparency=0.9", "--seeds", "2",
                    "--months", "2", "--out"],
        "dock": ["dock", "--quick", "--figures"],
        "sweep": ["sweep", path, "--resume", "--out"],
    }  # fmt: skip
    for folder, kind in ((sweep_out, "sweep"), (run_out, "run")):
        before = {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file()}
        for command, args in writers.items():
            if command == kind:
                continue
            want = f"{folder}: holds results of culturesim {kind}; choose another folder"
            assert refused(*args, folder).strip().endswith(want), command
        assert {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file()} == before


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_months_beyond_the_schemas_limit_are_refused(tmp_path, command):
    path = write_experiment(tmp_path, GRID)
    args = {
        "run": ["run", tmp_path / "tiny.toml"],
        "compare": ["compare", tmp_path / "tiny.toml", tmp_path / "tiny.toml"],
        "sweep": ["sweep", path, "--out", tmp_path / "o"],
    }[command]
    proc = cli(*args, "--months", "121")
    assert proc.returncode == 2 and "--months: must be at most 120" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_an_unreachable_scheduler_is_a_clear_error_and_writes_nothing(tmp_path):
    """Nothing listening, not an address, or another server there (a scheduler's dashboard,
    given for the scheduler: Dask waited for its handshake for ever, dask/distributed#8071)."""
    path = write_experiment(tmp_path, GRID)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    silent = socket.socket()  # a server that takes the connection and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    said = {
        f"tcp://127.0.0.1:{port}": "is a Dask scheduler running there?",
        "nonsense": "",
        f"tcp://127.0.0.1:{silent.getsockname()[1]}": "something answers there, but no Dask "
        "scheduler did within 8 s (is it the scheduler's address, which `dask scheduler` prints, "
        "port 8786 by default, and not its dashboard's, 8787?)",
    }
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "4s"}
    with silent, contextlib.ExitStack() as stack:  # all at once: each waits seconds for Dask
        procs = {
            address: stack.enter_context(reaped(subprocess.Popen(
                [sys.executable, "-m", "culturesim", "sweep", str(path), "--out",
                 str(tmp_path / f"o{i}"), "--scheduler", address],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
            )))
            for i, address in enumerate(said)
        }  # fmt: skip
        ended = {
            address: (proc.communicate(timeout=120)[1], proc) for address, proc in procs.items()
        }
    for i, (address, what) in enumerate(said.items()):
        stderr, proc = ended[address]
        assert proc.returncode == 2, stderr
        assert f"--scheduler {address}:" in stderr and "Traceback" not in stderr
        assert what in stderr, stderr
        # while Dask tries, the sweep says so (it was silent for Dask's 30 s by default)
        waiting = f"warning: --scheduler {address}: no answer yet; Dask tries for up to 4s"
        assert (waiting in stderr) == address.startswith("tcp"), stderr
        assert not (tmp_path / f"o{i}").exists()
    # `--scheduler "$ADDRESS"` with ADDRESS unset: a TypeError's traceback
    proc = cli("sweep", path, "--out", tmp_path / "o", "--scheduler", "")
    assert proc.returncode == 2 and proc.stderr == (
        "culturesim: --scheduler '': expected an address, e.g. tcp://127.0.0.1:8786 (an unset "
        "shell variable?)\n"
    )
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("stale", "said"),
    [
        ({"packages": {"numpy": "1.26.0"}}, "numpy 1.26.0, here {numpy}"),
        ("0123456789abcdef01234567", "culturesim code digest 0123456789abcdef01234567, here"),
    ],
)
def test_a_run_by_other_code_stops_the_sweep_which_resumes(tmp_path, monkeypatch, stale, said):
    """A Dask worker with another culturesim or other packages installed could compute other
    numbers: the sweep stops at its first run, keeps the runs finished before, and continues
    with --resume once the workers agree (a run recorded as failed would stay failed). An older
    culturesim recorded only its digest."""
    exp = load_experiment(write_experiment(tmp_path, GRID))
    real = sweep_module.run_one
    numpy = running_code()["packages"]["numpy"]

    def stale_worker(scenario, changes, seed, months, outputs):
        frame = real(scenario, changes, seed, months, outputs)
        if changes["levers.innovation_time"] == 0.2:
            if isinstance(stale, str):
                frame.attrs["code"] = stale
            else:
                frame.attrs["code"]["packages"] |= stale["packages"]
        return frame

    monkeypatch.setattr(sweep_module, "run_one", stale_worker)
    out = tmp_path / "out"
    with pytest.raises(
        sweep_module.OtherCodeError, match=r"finished runs are kept in .*: continue with --resume"
    ) as info:
        run_sweep(exp, out, workers=1, progress=False)
    assert said.format(numpy=numpy) in str(info.value)
    kept = sorted(out.glob("parts/run-*.parquet"))
    assert 0 < len(kept) < 12 and not (out / "runs.parquet").exists()
    assert all(pd.read_parquet(p)["_status"].eq("ok").all() for p in kept)
    monkeypatch.setattr(sweep_module, "run_one", real)  # the workers updated
    runs, ts = read(run_sweep(exp, out, workers=1, progress=False, resume=True))
    assert len(runs) == 12 and runs["status"].eq("ok").all()
    whole_runs, whole_ts = read(run_sweep(exp, tmp_path / "whole", workers=1, progress=False))
    pd.testing.assert_frame_equal(runs, whole_runs, check_exact=True)
    pd.testing.assert_frame_equal(ts, whole_ts, check_exact=True)


def test_the_command_says_which_code_differs_and_exits_2(tmp_path, monkeypatch, capsys):
    from culturesim import cli as cli_module

    path = write_experiment(tmp_path, GRID)
    real = sweep_module.run_one

    def stale_worker(*args):
        frame = real(*args)
        frame.attrs["code"]["python"] = "3.12.0"
        return frame

    monkeypatch.setattr(sweep_module, "run_one", stale_worker)
    code = cli_module.main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("culturesim: a run was computed by other code (Python 3.12.0, here")
    # the first run's worker was stale: no run had finished, and the sweep left nothing behind
    assert err[0].endswith("on every worker. No run had finished, so nothing is kept")
    assert not (tmp_path / "o").exists()


def filling_after(monkeypatch, writes: int, cut_short: bool = False) -> list:
    """Make Parquet's writer (the parts', and pandas' to_parquet's) fail as a full disk does
    after ``writes`` tables, leaving the file it failed on ``cut_short`` if asked; return the
    tables written, which grows as they are. ``monkeypatch.undo()`` frees the space."""
    import errno

    import pyarrow.parquet as pq

    real = pq.write_table
    written = []

    def filling(table, target, *args, **kwargs):
        if len(written) == writes:
            if cut_short:
                Path(target).write_bytes(b"PAR1")
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(table)
        return real(table, target, *args, **kwargs)

    monkeypatch.setattr(pq, "write_table", filling)
    return written


def test_a_full_disk_stops_the_sweep_in_one_line_and_resume_continues(
    tmp_path, monkeypatch, capsys
):
    """A disk that filled up mid-sweep failed it with pyarrow's traceback."""
    from culturesim import cli as cli_module

    path = write_experiment(tmp_path, GRID)
    out = tmp_path / "out"
    filling_after(monkeypatch, 3, cut_short=True)
    code = cli_module.main(["sweep", str(path), "--out", str(out), "--workers", "1"])
    said = [line for line in capsys.readouterr().err.splitlines() if "culturesim:" in line]
    assert code == 1 and len(said) == 1, said
    assert said[0] == (
        f"culturesim: cannot write in {out}: No space left on device: free some space. The 3 "
        f"finished runs are kept in {out}: continue with --resume"
    )
    assert len(list((out / "parts").glob("run-*.parquet"))) == 3
    assert not list((out / "parts").glob(".*"))  # the part cut short is not left behind
    monkeypatch.undo()  # space freed
    assert cli_module.main(["sweep", str(path), "--out", str(out), "--resume"]) == 0
    whole = run_sweep(load_experiment(path), tmp_path / "whole", workers=1, progress=False)
    for a, b in zip(read(out), read(whole), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_a_disk_that_fills_as_the_results_are_merged_leaves_no_results_file(
    tmp_path, monkeypatch, capsys
):
    """With every run finished and the disk full at timeseries.parquet, the sweep kept
    runs.parquet beside its parts, and `report` of the folder stopped with pyarrow's
    FileNotFoundError traceback (the folder passed for finished: it had a runs.parquet)."""
    from culturesim import cli as cli_module

    path = write_experiment(tmp_path, GRID)  # 12 runs: 12 parts, then the two results
    out = tmp_path / "out"
    written = filling_after(monkeypatch, 12 + 1)  # the parts, runs.parquet: then timeseries
    code = cli_module.main(["sweep", str(path), "--out", str(out), "--workers", "1"])
    said = [line for line in capsys.readouterr().err.splitlines() if "culturesim:" in line]
    assert code == 1 and said == [
        f"culturesim: cannot write in {out}: No space left on device: free some space. The 12 "
        f"finished runs are kept in {out}: continue with --resume"
    ]
    assert "replication" in written[-1].column_names  # runs.parquet was written
    assert sorted(p.name for p in out.iterdir()) == [".sweep.lock", "manifest.json", "parts"]
    monkeypatch.undo()  # space freed
    pd.DataFrame({"run_id": range(12)}).to_parquet(out / "runs.parquet")  # as a kill -9 leaves
    for command in ("report", "analyze"):  # between the two: the manifest says "running"
        assert cli_module.main([command, str(out)]) == 2
        assert capsys.readouterr().err.startswith(
            f"culturesim: {out}: its sweep has not finished (12 of 12 runs written): continue"
        )
    assert cli_module.main(["sweep", str(path), "--out", str(out), "--resume"]) == 0
    runs, ts = read(out)
    assert len(runs) == 12 and ts["run_id"].nunique() == 12
    assert cli_module.main(["report", str(out)]) == 0


def no_file_may_grow():
    """In a child about to run: every write to a file fails, as on a disk full from the start
    (EFBIG, "File too large": the limit on a file's size set to 0; its signal ignored)."""
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))


@pytest.mark.parametrize("where", ["new", "empty"])
def test_a_sweep_on_a_disk_full_from_the_start_leaves_the_folder_as_it_found_it(tmp_path, where):
    """It said "No run had finished, so nothing is kept" and kept its parts folder and lock
    file: the lock's first line (who holds it) was the first write, before the sweep's
    clearing up took charge."""
    path = write_experiment(tmp_path, GRID)
    out = tmp_path / "out"
    if where == "empty":
        out.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(out),
         "--workers", "1"],
        capture_output=True, text=True, timeout=120, preexec_fn=no_file_may_grow,
    )  # fmt: skip
    said = [line for line in proc.stderr.splitlines() if line.startswith("culturesim:")]
    assert proc.returncode == 1 and said == [
        f"culturesim: cannot write in {out}: File too large. No run had finished, so nothing "
        "is kept"
    ], proc.stderr
    if where == "new":
        assert not out.exists()
    else:
        assert out.is_dir() and not list(out.iterdir())


def test_a_resume_on_a_full_disk_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    """It left a `.manifest.json.tmp` (empty) beside the manifest it could not write again."""
    path = write_experiment(tmp_path, GRID)
    failing_at(monkeypatch, 0.4, KeyboardInterrupt)  # a Ctrl-C at the last point's runs
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_experiment(path), out, workers=1, progress=False)

    def files():  # the lock file aside: its holder line is written afresh, or not
        return {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
                if p.is_file() and p.name != ".sweep.lock"}  # fmt: skip

    before = files()
    proc = subprocess.run(
        [sys.executable, "-m", "culturesim", "sweep", str(path), "--out", str(out), "--resume",
         "--workers", "1"],
        capture_output=True, text=True, timeout=120, preexec_fn=no_file_may_grow,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    kept = len(list(out.glob("parts/run-*.parquet")))
    assert proc.stderr.splitlines()[-1] == (
        f"culturesim: cannot write in {out}: File too large. The {kept} finished runs are kept "
        f"in {out}: continue with --resume"
    )
    assert files() == before


@pytest.mark.parametrize("shm_free", [0, 2**30])
def test_workers_that_cannot_start_are_said_to_and_the_folder_is_left_alone(
    tmp_path, monkeypatch, capsys, shm_free
):
    """A full /dev/shm (a container's 64 MB, say) stops the pool's locks being made: the sweep
    said "cannot write in OUT: No space left on device: free some space", sending its user to
    a disk with room."""
    import errno
    import shutil

    from culturesim import cli as cli_module

    def no_room(workers):
        raise OSError(errno.ENOSPC, "No space left on device")

    real = shutil.disk_usage
    monkeypatch.setattr(sweep_module, "process_pool", no_room)
    monkeypatch.setattr(sweep_module, "SHARED_MEMORY", tmp_path, raising=False)  # on any system
    monkeypatch.setattr(
        shutil,
        "disk_usage",
        lambda path: real(path)._replace(free=shm_free) if Path(path) == tmp_path else real(path),
    )
    path = write_experiment(tmp_path, GRID)
    out = tmp_path / "out"
    assert cli_module.main(["sweep", str(path), "--out", str(out), "--workers", "2"]) == 1
    full = f" ({tmp_path}, where their locks are made, is full)" if not shm_free else ""
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"culturesim: cannot start 2 worker processes: No space left on device{full}; --workers 1 "
        "runs the sweep here"
    )
    assert not out.exists()


def test_local_workers_are_the_cores_it_may_use_and_never_more_than_the_runs(tmp_path, monkeypatch):
    """`--workers 1000` on two cores started a process for every run (each taking its own
    memory), without a word; the default counted the machine's cores, not the share a
    container or a batch job may use."""
    from concurrent.futures import ThreadPoolExecutor

    from culturesim import run as run_module

    exp = load_experiment(write_experiment(tmp_path, GRID))  # 12 runs
    monkeypatch.setattr(run_module.os, "cpu_count", lambda: 64)  # the machine's
    monkeypatch.setattr(run_module.os, "sched_getaffinity", lambda pid: {0, 1})  # this job's
    monkeypatch.setattr(run_module, "PROC_CGROUP", tmp_path / "none")  # no control groups
    monkeypatch.setattr(run_module, "_available_memory", lambda: None)
    assert run_module.cores() == 2
    assert sweep_module.local_workers(None, exp, 12) == 2
    assert sweep_module.local_workers(None, exp, 1) == 1
    assert sweep_module.local_workers(2, exp, 12) == 2
    started = []

    def pool(n):  # threads stand in for processes: the same runs, cheaper
        started.append(n)
        return ThreadPoolExecutor(n)

    monkeypatch.setattr(sweep_module, "process_pool", pool)
    with pytest.warns(Notice, match=r"^1000 workers, but 2 cores here: the runs take turns"):
        run_sweep(exp, tmp_path / "out", workers=1000, progress=False)
    assert started == [12]  # one per run, no more
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["executor"] == "processes:12"


def test_a_process_out_of_open_files_stops_in_one_line_saying_so(tmp_path, monkeypatch, capsys):
    """A sweep under a low `ulimit -n` (12) stopped with a traceback of EMFILE."""
    import errno
    import resource

    from culturesim import cli as cli_module

    def no_pipes(workers):
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(sweep_module, "process_pool", no_pipes)
    path, out = write_experiment(tmp_path, GRID), tmp_path / "out"
    assert cli_module.main(["sweep", str(path), "--out", str(out), "--workers", "2"]) == 1
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert capsys.readouterr().err.splitlines() == [
        f"culturesim: Too many open files: raise the limit on open files (`ulimit -n`, {limit} "
        "here) or use fewer --workers. No run had finished, so nothing is kept"
    ]
    assert not out.exists()

    def no_files(self, target, *args, **kwargs):
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", no_files)  # any command: one line
    args = ["run", str(tmp_path / "tiny.toml"), "--seeds", "1", "--out", str(tmp_path / "run")]
    assert cli_module.main(args) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"culturesim: Too many open files: raise the limit on open files (`ulimit -n`, {limit} "
        "here)"
    ]


@pytest.mark.parametrize("made", [False, True], ids=["new folder", "the user's empty folder"])
def test_a_sweep_stopped_before_any_run_finished_leaves_nothing_behind(
    tmp_path, monkeypatch, capsys, made
):
    """Under `ulimit -n 12` a sweep failed writing its manifest, and left a folder holding an
    empty parts/ and its lock, saying "The finished runs are kept" of none."""
    import errno

    from culturesim import cli as cli_module
    from culturesim import manifest as manifest_module

    path, out = write_experiment(tmp_path, GRID), tmp_path / "out"
    if made:
        out.mkdir()
    real = manifest_module.write_json

    def no_files(target, data):
        raise OSError(errno.EMFILE, "Too many open files", str(target))

    monkeypatch.setattr(sweep_module, "write_json", no_files)
    assert cli_module.main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].endswith("or use fewer --workers. No run had finished, so nothing is kept")
    assert (list(out.iterdir()) == []) if made else not out.exists()
    monkeypatch.setattr(sweep_module, "write_json", real)
    run_one = failing_at(monkeypatch, 0.0, KeyboardInterrupt)  # a Ctrl-C in the first run
    assert cli_module.main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 130
    assert capsys.readouterr().err.endswith(
        "\ninterrupted. No run had finished, so nothing is kept\n"
    )
    assert (list(out.iterdir()) == []) if made else not out.exists()
    monkeypatch.setattr(sweep_module, "run_one", run_one)
    failing_at(monkeypatch, 0.4, KeyboardInterrupt)  # at the last point: 8 runs are finished
    assert cli_module.main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 130
    assert capsys.readouterr().err.endswith(
        f"\ninterrupted. The 8 finished runs are kept in {out}: continue with --resume\n"
    )
    assert len(list(out.glob("parts/run-*.parquet"))) == 8


def test_refuses_to_overwrite_without_resume(tmp_path):
    path = write_experiment(tmp_path, GRID.replace("replications = 2", "replications = 1"))
    mine = tmp_path / "mine"  # a folder of the user's own files holds no sweep to continue
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    for resume in ((), ("--resume",)):
        proc = cli("sweep", path, "--out", mine, "--workers", "1", *resume)
        assert proc.returncode == 2, proc.stderr
        assert "is not empty and holds no sweep: choose a new or empty folder" in proc.stderr
    assert [f.name for f in mine.iterdir()] == ["notes.txt"]
    assert cli("sweep", path, "--out", tmp_path / "o", "--workers", "1").returncode == 0
    proc = cli("sweep", path, "--out", tmp_path / "o", "--workers", "1")
    assert proc.returncode == 2 and "--resume" in proc.stderr
    # a folder begun by another version is not resumed: its runs would mix two codes
    manifest_path = tmp_path / "o" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "code_digest": "0" * 24}))
    proc = cli("sweep", path, "--out", tmp_path / "o", "--workers", "1", "--resume")
    assert proc.returncode == 2, proc.stderr
    assert "begun by other code (culturesim code digest 000000000000000000000000" in proc.stderr
    # nor one begun with other packages: the manifest would say one NumPy for runs of two
    packages = {**manifest["packages"], "networkx": "1.0"}
    manifest_path.write_text(json.dumps({**manifest, "packages": packages}))
    proc = cli("sweep", path, "--out", tmp_path / "o", "--workers", "1", "--resume")
    assert proc.returncode == 2, proc.stderr
    here = manifest["packages"]["networkx"]
    assert f"begun by other code (networkx 1.0, here {here})" in proc.stderr
    manifest_path.write_text(json.dumps(manifest))
    proc = cli("sweep", path, "--out", tmp_path / "o", "--workers", "1", "--resume")
    assert proc.returncode == 0, proc.stderr
    assert f"all 6 runs in {tmp_path / 'o'} are finished: nothing to run" in (proc.stderr)
    # nor one of another experiment, and the message says what differs
    before = {f.name: f.read_bytes() for f in (tmp_path / "o").iterdir() if f.is_file()}
    other = {
        ("--replications", "2", "--months", "6"): "months 6, the folder's 12; replications 2, "
                                                   "the folder's 1",
        (): f"({path} changed since it was begun)",  # after the edit below
    }  # fmt: skip
    for args, said in other.items():
        if not args:
            path.write_text(path.read_text().replace("seed = 5", "seed = 6"))
        proc = cli("sweep", path, "--out", tmp_path / "o", "--workers", "1", "--resume", *args)
        assert proc.returncode == 2 and said in proc.stderr, proc.stderr
        assert "resume it as it was begun, or start a new folder" in proc.stderr
    assert {f.name: f.read_bytes() for f in (tmp_path / "o").iterdir() if f.is_file()} == before


GRID_PARAMETERS = '"levers.innovation_time" = [0.0, 0.2, 0.4]\n"levers.transparency" = [0.2, 0.8]'


def lhs(parameters: str) -> str:
    """The GRID experiment as a Latin hypercube over ``parameters`` (TOML lines)."""
    return GRID.replace('design = "grid"', 'design = "lhs"').replace(GRID_PARAMETERS, parameters)


#: The GRID experiment of a shipped scenario with an event (an AI incident at month 18).
INCIDENT = GRID.replace('"tiny.toml"', '"ai_incident"').replace("months = 12", "months = 24")

BAD = {
    "unknown_design": (GRID.replace('design = "grid"', 'design = "factorial"'),
                       "experiment.design"),
    "mistyped_design": (GRID.replace('design = "grid"', 'design = "lhss"'),
                        "experiment.design: 'lhss' is not allowed (did you mean lhs?); input "
                        "should be 'grid', 'lhs', 'sobol' or 'morris'"),
    "not_a_field": (GRID.replace('"levers.transparency"', '"levers.transparncy"'),
                    "parameters.levers.transparncy"),
    "reversed_bounds": (lhs('"levers.transparency" = { min = 0.9, max = 0.1 }'),
                        "parameters.levers.transparency"),
    # the allowed range said as a scenario's is: it read "input should be greater than or equal
    # to 1"
    "zero_replications": (GRID.replace("replications = 2", "replications = 0"),
                          "experiment.replications: value 0 out of range; allowed range 1 to "
                          "10,000"),
    "long_months": (GRID.replace("months = 12", "months = 500"),
                    "experiment.months: value 500 out of range; allowed range 1 to 120"),
    # said as a scenario's wrong type is: it read "Input should be a valid integer"
    "text_replications": (GRID.replace("replications = 2", 'replications = "2"'),
                          "experiment.replications: wrong type str ('2'); expected a valid "
                          "integer"),
    # said as a scenario's missing key is, with what it is: it read "Field required"
    "no_scenario": (GRID.replace('scenario = "tiny.toml"\n', ""),
                    "experiment.scenario: required key is missing; the scenario it varies: a "
                    "file (relative to this one) or a shipped scenario's name, as baseline"),
    # a level in a table of values, as a scenario's: it read "Input should be less than or
    # equal to 1"
    "value_table_level": (GRID.replace('scenario = "tiny.toml"', 'scenario = "merger"')
                          .replace("months = 12", "months = 24")
                          .replace(GRID_PARAMETERS, '"events.0.values.innovation" = [0.1, 1.5]'),
                          "parameters.events.0.values.innovation: value 1.5 out of range; "
                          "allowed range 0 to 1"),
    # in TOML's words: it read "expected a valid list"
    "outputs_not_a_list": (GRID.replace('outputs = ["launches",', 'outputs = "launches"\n#'),
                           "experiment.outputs: wrong type str ('launches'); expected an array, "
                           "[value, ...]"),
    "unknown_setting": (GRID.replace("replications = 2", "replicatons = 2"),
                        "experiment.replicatons: unknown key (did you mean replications?); "
                        "allowed keys: name, scenario, design, samples, replications,"),
    "unknown_output": (GRID.replace('"headcount"]', '"head_count"]'), "experiment.outputs"),
    "output_twice": (GRID.replace('"headcount"]', '"launches"]'),
                     "experiment.outputs: KPI 'launches' is named twice"),
    "value_twice": (GRID.replace('"levers.transparency" = [0.2, 0.8]',
                                 '"levers.transparency" = [0.2, 0.8, 0.20]'),
                    "parameters.levers.transparency: value 0.2 is listed twice (a grid runs "
                    "each value once; experiment.replications repeats runs)"),
    # a whole list of events as a grid's value: nine lines of pydantic's union internals
    "events_as_values": (GRID.replace('"levers.transparency" = [0.2, 0.8]',
                                      '"events" = [[{month = 3, kind = "layoff"}], []]'),
                         "parameters.events: a grid's values are numbers, text or booleans, not "
                         "a list; vary a key within it, an event's by its position "
                         '("events.0.month")'),
    "table_as_value": (GRID.replace('"levers.transparency" = [0.2, 0.8]',
                                    '"levers" = [{ transparency = 0.2 }]'),
                       "parameters.levers: a grid's values are numbers, text or booleans, not a "
                       "table"),
    "no_outputs": (GRID.replace('outputs = ["launches", "attrition_rate_annual", "user_trust", '
                                '"headcount"]', "outputs = []"),
                   "experiment.outputs: no KPI named; allowed: headcount"),
    # a grid lists values as they run: 30.0 is no head count (a sampled range runs whole ones)
    "float_head_count": (GRID.replace('"levers.transparency" = [0.2, 0.8]',
                                      '"organization.employees" = [20, 30.0]'),
                         "parameters.organization.employees: wrong type float (30.0)"),
    "text_bound": (lhs('"levers.transparency" = { min = 0.1, max = "0.9" }'),
                   "parameters.levers.transparency: wrong type str ('0.9')"),
    "range_extra_key": (lhs('"levers.transparency" = { min = 0.1, max = 0.9, step = 0.1 }'),
                        "parameters.levers.transparency: expected a list of values or { min,"),
    "infinite_bound": (lhs('"organization.cash" = { min = 0.0, max = inf }'),
                       "parameters.organization.cash: value inf is not a finite number"),
    "parameters_not_a_table": ('parameters = ["levers.transparency"]\n'
                               + GRID.split("[parameters]")[0],
                               "parameters: expected a table ([parameters]: "),
    "experiment_not_a_table": ('experiment = "grid"\n[parameters]\n"levers.transparency" = [0.2]\n',
                               "experiment: expected a table ([experiment]: "),
    "one_sobol_sample": (lhs('"levers.transparency" = { min = 0.1, max = 0.9 }').replace(
        'design = "lhs"', 'design = "sobol"\nsamples = 1'),
        "experiment.samples: value 1 out of range; sobol needs 2 or more"),
    # the sweep sets these for every run: varied, they would change nothing
    "meta_seed": (GRID.replace('"levers.transparency" = [0.2, 0.8]', '"meta.seed" = [1, 2]'),
                  "parameters.meta.seed: an experiment does not vary meta: a run's seed is"),
    "meta_months": (lhs('"meta.months" = { min = 6, max = 12 }'),
                    "parameters.meta.months: an experiment does not vary meta"),
    # with an event at month 18, this said the event was past a 12-month horizon
    "meta_months_with_an_event": (INCIDENT.replace(GRID_PARAMETERS, '"meta.months" = [12, 24]'),
                                  "parameters.meta.months: an experiment does not vary meta"),
    # a value that breaks another key names it: this said "events.0.kind: required key is
    # missing" (a layoff needs a share)
    "kind_missing_a_field": (INCIDENT.replace(GRID_PARAMETERS,
                                              '"events.0.kind" = ["incident", "layoff"]'),
                             "parameters.events.0.kind: with value 'layoff', events[0].share: "
                             "required key is missing"),
    # one key in two spellings: one value silently overrode the other
    "key_twice": (INCIDENT.replace(GRID_PARAMETERS, '"events.0.severity" = [0.2, 0.9]\n'
                                                    '"events[0].severity" = [0.3]'),
                  'parameters.events[0].severity: the same key as "events.0.severity"; vary '
                  "each key once"),
    # unquoted, levers.transparency is a table in TOML: read as the key it spells, so twice here
    "key_quoted_and_as_a_table": (GRID.replace('"levers.transparency" = [0.2, 0.8]',
                                               '"levers.transparency" = [0.2, 0.8]\n'
                                               "levers.transparency = [0.3]"),
                                  "parameters.levers.transparency: given twice (quoted and as a "
                                  "table); vary each key once"),
    # 525 billion runs were validated, and the sweep filled the memory listing them
    "too_many_runs": (GRID.replace("replications = 2", "replications = 10000").replace(
        "[0.0, 0.2, 0.4]", str([i / 100 for i in range(51)])),
        "experiment: 1,020,000 runs (102 design points x 10,000 replications); at most "
        "1,000,000 allowed"),
    "too_many_values": (GRID.replace("replications = 2", "replications = 10000").replace(
        "months = 12", "months = 120").replace(
        'outputs = ["launches", "attrition_rate_annual", "user_trust", "headcount"]\n', ""),
        f"experiment.outputs: the results would hold {60_000 * 121 * (len(KPIS) + 2):,} values "
        f"(60,000 runs x 121 months, 0 to 120, x {len(KPIS) + 2} columns: run_id, month and "
        f"{len(KPIS)} outputs); at most 250,000,000 allowed"),
    # replication 1's seed was 2**63: runs.parquet's seed column turned unsigned
    "seeds_past_the_largest": (GRID.replace("seed = 5", f"seed = {2**63 - 1}"),
                               f"experiment.seed: value {2**63 - 1} with 2 replications (seeds "
                               "experiment.seed to experiment.seed + 1) passes the largest seed, "
                               f"{2**63 - 1}; allowed range 0 to {2**63 - 2} for 2 replications"),
}  # fmt: skip


def test_a_parameter_as_a_toml_dotted_key_or_table_is_the_key_it_spells(tmp_path):
    """``levers.innovation_time = [...]`` unquoted (TOML: a table ``levers``) was refused with
    "parameters.levers: expected a list of values or { min, max }"."""
    quoted = load_experiment(write_experiment(tmp_path, GRID, "quoted.toml"))
    dotted = GRID.replace('"levers.innovation_time"', "levers.innovation_time")
    table = GRID.replace(GRID_PARAMETERS, "[parameters.levers]\ninnovation_time = [0.0, 0.2, 0.4]"
                                          "\ntransparency = [0.2, 0.8]")  # fmt: skip
    for body in (dotted, table):
        assert body != GRID
        exp = load_experiment(write_experiment(tmp_path, body, "other.toml"))
        assert exp.parameters == quoted.parameters  # the same keys, values and order of values
        assert design_points(exp).equals(design_points(quoted))


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_experiments_exit_2_with_one_line_and_write_nothing(tmp_path, case):
    body, key = BAD[case]
    path = write_experiment(tmp_path, body)
    out = tmp_path / "out"
    proc = cli("sweep", path, "--out", out, "--workers", "1")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and str(path) in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_an_experiment_tables_problems_are_said_together(tmp_path):
    """An unknown output was checked after the table's other keys: a file with it and a bad
    replications said only the replications, and the output at the next try."""
    body = GRID.replace("replications = 2", "replications = 0").replace(
        '"headcount"]', '"head_count"]'
    )
    path = write_experiment(tmp_path, body)
    proc = cli("validate", path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert [line.split(": ")[1] for line in proc.stderr.strip().splitlines()] == [
        "experiment.replications",
        "experiment.outputs",
    ], proc.stderr
    assert "unknown KPI 'head_count' (did you mean headcount?)" in proc.stderr


def problem_keys(path: Path) -> list[str]:
    """The keys an experiment file's problems name, in the order they are said."""
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    return [problem.split(": ")[0] for problem in caught.value.problems]


def test_an_experiments_parameters_are_said_with_its_tables_problems(tmp_path):
    """The parameters were checked only once the ``[experiment]`` table was valid: a file with
    a bad replications and two bad parameters said the first, and the others at the next try.
    With the runs' months invalid, no event month is judged against them."""
    body = (
        GRID.replace("replications = 2", "replications = 0")
        .replace("months = 12", "months = 500")
        .replace("[0.0, 0.2, 0.4]", "[0.0, 0.9]")
        .replace('"levers.transparency"', '"levers.transparncy"')
    )
    assert problem_keys(write_experiment(tmp_path, body)) == [
        "experiment.replications",
        "experiment.months",
        "parameters.levers.innovation_time",
        "parameters.levers.transparncy",
    ]
    late = INCIDENT.replace("months = 24", "months = 500").replace(
        GRID_PARAMETERS, '"events.0.month" = [6, 100]'
    )  # 100 is past the scenario's 60 months, not past the 500 the file asks for
    assert problem_keys(write_experiment(tmp_path, late)) == ["experiment.months"]
    unnamed = GRID.replace('scenario = "tiny.toml"', "scenario = 3").replace(
        "[0.0, 0.2, 0.4]", "[0.9]"
    )
    assert problem_keys(write_experiment(tmp_path, unnamed)) == ["experiment.scenario"]
    # a scenario that cannot be read hid the parameters' shapes, which need none
    missing = GRID.replace('"tiny.toml"', '"gone.toml"').replace("[0.2, 0.8]", "[0.2, 0.2]")
    assert problem_keys(write_experiment(tmp_path, missing)) == [
        "experiment.scenario",
        "parameters.levers.transparency",
    ]


def test_every_parameter_whose_shape_is_wrong_is_said_at_once(tmp_path):
    """The parameters' shapes (a range for a sampled design, values once, min below max, no
    meta) were checked one at a time: three wrong parameters took three tries."""
    body = lhs(
        '"levers.innovation_time" = { min = 0.4, max = 0.1 }\n'
        '"levers.transparency" = [0.2, 0.8]\n'
        '"meta.seed" = { min = 1, max = 9 }\n'
        '"levers.inclusion" = { min = 0.1, max = 0.9 }'
    ).replace('design = "lhs"', 'design = "sobol"\nsamples = 1')
    assert problem_keys(write_experiment(tmp_path, body)) == [
        "experiment.samples",
        "parameters.levers.innovation_time",
        "parameters.levers.transparency",
        "parameters.meta.seed",
    ]
    grid = GRID.replace("[0.0, 0.2, 0.4]", "[0.0, 0.2, 0.2]").replace("[0.2, 0.8]", "[]")
    assert problem_keys(write_experiment(tmp_path, grid)) == [
        "parameters.levers.innovation_time",
        "parameters.levers.transparency",
    ]


def ctrl_c_in_the_second_run(tmp_path, monkeypatch, land_in_a_callback, error=None):
    """Run GRID's sweep in this process with a Ctrl-C landing where Python swallows it during
    the second run (which then raises ``error``, if given); return the runs started and the
    folder. The sweep must stop with ``KeyboardInterrupt``."""
    exp = load_experiment(write_experiment(tmp_path, GRID))
    real = sweep_module.run_one
    calls = []

    def run_and_get_interrupted(*args):
        calls.append(args)
        if len(calls) == 2:
            land_in_a_callback()
            if error is not None:
                raise error
        return real(*args)

    monkeypatch.setattr(sweep_module, "run_one", run_and_get_interrupted)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(exp, out, workers=1, progress=False)
    monkeypatch.setattr(sweep_module, "run_one", real)
    return calls, out


def test_a_ctrl_c_python_swallowed_still_stops_the_sweep(tmp_path, monkeypatch, swallowed_ctrl_c):
    land_in_a_callback, swallowed = swallowed_ctrl_c
    calls, out = ctrl_c_in_the_second_run(tmp_path, monkeypatch, land_in_a_callback)
    assert swallowed == [KeyboardInterrupt]  # Python swallowed it where it landed
    assert len(calls) == 2 and len(list((out / "parts").glob("run-*"))) == 2
    assert not (out / "runs.parquet").exists()


def test_a_run_that_fails_after_a_swallowed_ctrl_c_is_redone_not_recorded(
    tmp_path, monkeypatch, swallowed_ctrl_c
):
    """A Ctrl-C that a library drops, failing the run with an error of its own (seen once:
    NumPy turning networkx's edges into an array, "int() argument must be ... not 'EdgeView'"),
    was recorded as the run's error: the sweep stopped, and --resume kept the run as failed and
    ended saying "1 of 180 runs failed". The run is interrupted, so left for --resume."""
    land_in_a_callback, swallowed = swallowed_ctrl_c
    error = TypeError("int() argument must be a string, ..., not 'EdgeView'")
    calls, out = ctrl_c_in_the_second_run(tmp_path, monkeypatch, land_in_a_callback, error)
    assert swallowed == [KeyboardInterrupt]
    assert len(calls) == 2 and len(list((out / "parts").glob("run-*"))) == 1  # the first only
    exp = load_experiment(tmp_path / "exp.toml")
    run_sweep(exp, out, workers=1, progress=False, resume=True)
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 12 and (runs["status"] == "ok").all(), runs["error"].tolist()


def test_a_stop_signal_python_swallowed_stops_the_sweep_where_sigint_is_ignored(
    tmp_path, monkeypatch
):
    """``interrupts.stop_on`` (SIGTERM and SIGHUP for the program; SIGUSR1 here): its
    ``KeyboardInterrupt`` landing where Python swallows it still stops the sweep after the
    run, though SIGINT is ignored (a job started in the background), so that the sweep's
    Ctrl-C watch cannot see it."""
    from culturesim import interrupts

    swallowed, came = [], []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: swallowed.append(u.exc_type))
    before = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.getsignal(signal.SIGUSR1)
    exp = load_experiment(write_experiment(tmp_path, GRID))
    real = sweep_module.run_one
    calls = []

    def run_and_get_stopped(*args):
        calls.append(args)
        if len(calls) == 2:
            land_in_a_callback(signal.SIGUSR1)
        return real(*args)

    monkeypatch.setattr(sweep_module, "run_one", run_and_get_stopped)
    try:
        interrupts.stop_on((signal.SIGUSR1,), came)
        with pytest.raises(KeyboardInterrupt):
            run_sweep(exp, tmp_path / "out", workers=1, progress=False)
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGUSR1, before[1])
        interrupts._STOPPED_AT.clear()
    assert swallowed == [KeyboardInterrupt] and came == [signal.SIGUSR1]
    assert len(calls) == 2 and len(list((tmp_path / "out" / "parts").glob("run-*"))) == 2


def test_a_ctrl_c_that_surfaces_as_another_error_stops_an_inline_sweep():
    """A Ctrl-C landing inside a compiled call surfaces as a SystemError caused by it: that is
    the sweep being interrupted, not the run failing (a failed run is not redone on resume)."""

    def interrupted_in_a_kernel():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ctrl_c:
            raise SystemError("returned a result with an exception set") from ctrl_c

    def failing():
        raise ValueError("the run's own error")

    pool = sweep_module.InlineExecutor()
    with pytest.raises(KeyboardInterrupt):
        pool.submit(interrupted_in_a_kernel)
    assert isinstance(pool.submit(failing).exception(), ValueError)  # a run's error is kept
