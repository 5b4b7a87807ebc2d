"""The speed benchmarks run, small, and what they print adds up.

Their figures are recorded in ``benchmarks/RESULTS.md``, not checked here: speed is measured in
benchmarks, not in timed tests. These tests keep the scripts working (they are a deliverable of
the foundation) and hold them to timing the company they say they time.
"""

import importlib.util
import re
import subprocess
import sys

import numpy as np
import pytest

from culturesim import CultureModel
from tests.conftest import ROOT

BENCHMARKS = ROOT / "benchmarks"


def script(name: str, *args) -> str:
    """Run ``benchmarks/<name>`` with ``args``; return what it printed (it must succeed)."""
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=BENCHMARKS,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def bench_model():
    """The ``benchmarks/bench_model.py`` module (not a package: loaded from its file)."""
    spec = importlib.util.spec_from_file_location("bench_model", BENCHMARKS / "bench_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def number(text: str) -> float:
    """A printed number (with thousands separators) as a float."""
    return float(text.replace(",", ""))


def test_bench_model_times_the_company_it_names_and_its_ratios_add_up(bench_model):
    sizes, months = (40, 80), 4
    out = script(
        "bench_model.py", "--sizes", *sizes, "--months", months, "--repeat", 1,
        "--users", 2000, "--big", 0, 0,
    )  # fmt: skip
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["employees"])
    rows = [[number(x) for x in line.split()] for line in lines[header + 1 : header + 3]]
    assert [int(row[0]) for row in rows] == list(sizes)
    for n, final, setup, run, us, boltzmann, ratio, handles in rows:
        model = CultureModel(scenario=bench_model.company(int(n)), rng=1)  # the script's seed
        model.run(months)
        assert final == model.headcount
        assert min(setup, run) >= 0 and min(us, boltzmann, handles) > 0
        # the ratio is the two columns before it (each printed to 0.01)
        assert ratio == pytest.approx(us / boltzmann, abs=0.01 + 0.01 * ratio)
    assert any(line.startswith("A month = ") for line in lines)
    users = next(line for line in lines if line.split()[:1] == ["2,000"]).split()
    assert number(users[2]) > 0  # microseconds a user-month


def test_bench_model_times_boltzmann_wealth_as_the_example_ships_it(bench_model, monkeypatch):
    """The denominator is Mesa's example with its own defaults, not a crowded grid of it."""
    built = []

    class Recorded(bench_model.BoltzmannWealth):
        def __init__(self, scenario=None):
            super().__init__(scenario=scenario)
            built.append(self)

    monkeypatch.setattr(bench_model, "BoltzmannWealth", Recorded)
    steps = 3
    assert bench_model.boltzmann_cost(models=2, steps=steps) > 0
    shipped = bench_model.BoltzmannScenario()
    assert len(built) == 2
    for model in built:  # fresh models of the example's size, on its grid, each run ``steps``
        assert len(model.agents) == model.num_agents == shipped.n
        assert model.grid.dimensions == (shipped.width, shipped.height)
        assert model.time == steps


def test_profile_month_splits_the_month_of_the_benchmarks_company(bench_model):
    n, months = 40, 4
    out = script(
        "profile_month.py", "--employees", n, "--months", months, "--runs", 1, "--kernels", 3
    )
    lines = out.splitlines()
    head = re.match(
        rf"{n} founding employees \(([\d,]+) staff on average\), {months} months, fastest of 1 "
        r"run: a month ([\d,]+) us, of it ([\d,]+) in (\d+) kernel calls",
        lines[0],
    )
    assert head, lines[0]
    model = CultureModel(scenario=bench_model.company(n), rng=0)  # its one run's seed
    model.run(months)
    assert number(head[1]) == round(float(np.mean(model.history["headcount"][1:])))
    month, in_kernels = number(head[2]), number(head[3])
    assert 0 < in_kernels <= month and int(head[4]) > 0
    names = [p.name for p in model.processes] + ["record"]
    table = lines[2 : lines.index("")]  # the processes' rows, then a blank line
    rows = {line.split()[0]: [number(x) for x in line.split()[1:]] for line in table}
    processes = {name: rows[name] for name in names}  # every process has its row
    for total, kernels, python in processes.values():
        assert total == pytest.approx(kernels + python, abs=0.11)  # each printed to 0.1
        assert total > 0 and kernels >= 0
    assert sum(row[1] for row in processes.values()) <= in_kernels + 1  # rounding
    kernel_rows = lines[next(i for i, x in enumerate(lines) if x.startswith("kernel")) + 1 :]
    assert len(kernel_rows) == 3
    for row in kernel_rows:
        name, us, calls = row.split()
        assert re.fullmatch(r"\w+\.\w+", name) and number(us) > 0 and number(calls) > 0
