"""Packaging: an installed release (a wheel) works on its own, the oldest pins are the lower
bounds, and the Makefile makes its venv with Python 3.12."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_an_installed_wheel_carries_the_shipped_scenarios(tmp_path):
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path)], check=True)
    wheel = next(tmp_path.glob("culturesim-*.whl"))
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    code = (
        "import json, culturesim\n"
        "from culturesim.scenario import load_scenario\n"
        "from culturesim.ui.strategist import scenario_names\n"
        "print(json.dumps([culturesim.__file__, scenario_names(),\n"
        "                  load_scenario('hypergrowth').meta.name]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}  # the wheel's culturesim, not the checkout's
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    where, names, name = json.loads(out.stdout)
    assert Path(where).is_relative_to(site)
    assert names == sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
    assert name == "hypergrowth"


def test_the_public_names_import_on_first_use_and_the_cli_starts_without_the_model():
    check = (
        "import sys, culturesim, culturesim.cli\n"
        "loaded = {'mesa', 'numba', 'pandas', 'culturesim.model'} & set(sys.modules)\n"
        "assert not loaded, loaded  # the help and the scenario checks need none of them\n"
        "from culturesim import CultureModel, simulate, load_scenario\n"
        "import culturesim.model, culturesim.run\n"
        "assert CultureModel is culturesim.model.CultureModel\n"
        "assert simulate is culturesim.run.simulate\n"
        "assert set(culturesim.__all__) <= set(dir(culturesim))\n"
        "try:\n"
        "    culturesim.nothing\n"
        "except AttributeError as exc:\n"
        "    assert 'nothing' in str(exc)\n"
        "else:\n"
        "    raise SystemExit('culturesim.nothing should raise AttributeError')\n"
    )
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_validating_an_experiment_does_not_load_the_model():
    """`culturesim validate` took 3 s for the shipped experiments, importing the model. It
    checks an experiment without it (a sampled design's points are made with SALib's or
    SciPy's sampler, about a second, to check each point as its runs take it)."""
    check = (
        "import sys\n"
        "from culturesim.cli import main\n"
        "assert main(['validate', 'experiments/levers_sobol.toml']) == 0\n"
        "model = {'numba', 'mesa', 'culturesim.batch.sweep', 'culturesim.model'}\n"
        "loaded = model & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "768 design points x 1 replication = 768 runs" in proc.stdout


def test_the_oldest_pins_are_pyprojects_lower_bounds():
    """``make test-oldest`` installs .ci/oldest.txt: each pin must be a lower bound pyproject
    declares, and every bound pinned, or the bounds it keeps true are other ones."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = {}
    for line in declared:
        req = Requirement(line)
        (lower,) = [s.version for s in req.specifier if s.operator == ">="]
        bounds[canonicalize_name(req.name)] = lower
    pins = {}
    for line in (ROOT / ".ci" / "oldest.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            (pin,) = [s.version for s in req.specifier if s.operator == "=="]
            pins[canonicalize_name(req.name)] = pin
    assert pins.pop("distributed") == pins["dask"]  # dask[distributed] pins both
    assert set(pins) == set(bounds)
    for name, lower in bounds.items():  # 0.59 is 0.59.0, 14 is 14.0.0
        assert Version(pins[name]) == Version(lower), name


FAKE_311 = """#!/bin/sh
# a venv's interpreter as Python 3.11 answers the Makefile: not 3.12, and its version
case "$1" in -V) echo "Python 3.11.2" ;; *) exit 1 ;; esac
"""


@pytest.mark.parametrize(
    ("python", "said"),
    [(FAKE_311, "Python 3.11.2"), (None, "no working Python")],
    ids=["python-3.11", "python-gone"],
)
def test_make_makes_a_venv_of_another_python_again_with_312(tmp_path, python, said):
    """``python3 -m venv .venv`` (3.11 here) before ``make test`` ended in pip's "requires a
    different Python" and no word of what to do; a venv whose interpreter was removed (a
    pyenv version uninstalled) failed too. The Makefile's venv step makes either again."""
    for name in ("Makefile", ".python-version"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "venv.mk").write_text("venv:\n\t$(call venv_312,$(VENV))\n")  # that step alone
    bin_ = tmp_path / ".venv" / "bin"
    bin_.mkdir(parents=True)
    if python is None:
        (bin_ / "python").symlink_to(tmp_path / "uninstalled" / "python3.12")
    else:
        (bin_ / "python").write_text(python)
        (bin_ / "python").chmod(0o755)
    make = ["make", "--no-print-directory", "-f", "Makefile", "-f", "venv.mk", "venv"]
    out = subprocess.run(make, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr == f".venv has {said}, not Python 3.12: making it again\n"
    version = [bin_ / "python", "-c", "import sys; print(sys.version_info[:2])"]
    assert subprocess.run(version, capture_output=True, text=True).stdout == "(3, 12)\n"
    made = (tmp_path / ".venv" / "pyvenv.cfg").stat().st_mtime_ns
    again = subprocess.run(make, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stderr == ""  # a 3.12 venv is kept as it is
    assert (tmp_path / ".venv" / "pyvenv.cfg").stat().st_mtime_ns == made
