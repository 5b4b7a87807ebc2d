"""Packaging: an installed release (a wheel) works on its own, the oldest pins are the lower
bounds, and the Makefile makes its venv with Python 3.12."""

from __future__ import annotations

import json
import os
import re
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
    declares, and every bound pinned, or the bounds it keeps true are other ones. Any other pin
    is of a dependency's own dependency (matplotlib 3.8.0's pyparsing), so it must be one."""
    import tomllib
    from importlib import metadata

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
    theirs = set(pins) - set(bounds)
    for name in theirs:
        needs = [p for p in bounds for r in metadata.requires(p) or []
                 if canonicalize_name(Requirement(r).name) == name]  # fmt: skip
        assert needs, f"{name} is pinned, but none of culturesim's dependencies needs it"
        del pins[name]
    assert set(pins) == set(bounds)
    for name, lower in bounds.items():  # 0.59 is 0.59.0, 14 is 14.0.0
        assert Version(pins[name]) == Version(lower), name


def another_python() -> str:
    """A Python on this machine that is not 3.12 (its ``python3`` is 3.11; pyenv has others)."""
    names = ("python3.11", "python3.13", "python3.10", "python3")
    found = [shutil.which(name) for name in names]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        found += sorted(str(p) for p in Path(root).glob("versions/3.1[013]*/bin/python3"))
    for python in filter(None, found):
        version = [python, "-c", "import sys; print(sys.version_info[:2] != (3, 12))"]
        if subprocess.run(version, capture_output=True, text=True).stdout == "True\n":
            return python
    pytest.fail("the test needs a Python other than 3.12 (python3.11, or one in pyenv)")


def make(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """``make ARGS`` in ``folder``, which holds the checkout's Makefile and .python-version."""
    for name in ("Makefile", ".python-version"):
        shutil.copy(ROOT / name, folder / name)
    command = ["make", "--no-print-directory", *args]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120)


def test_make_finds_the_chromium_named_or_on_path_and_says_what_to_do_without_one(tmp_path):
    """`make test` looked for `chromium` on PATH, else ran apt-get (sudo where not root): where
    there is no apt (macOS, Fedora) it failed with "apt-get: command not found", and where
    there is no sudo, "sudo: command not found". CHROMIUM names one anywhere; without one, and
    without apt or the right to use it, make says what to do."""
    here = tmp_path / "bin"
    here.mkdir()
    (here / "chromium").write_text("#!/bin/sh\n")
    (here / "chromium").chmod(0o755)
    gnu_make = shutil.which("make")
    for name in ("Makefile", ".python-version"):
        shutil.copy(ROOT / name, tmp_path / name)
    tools = tmp_path / "tools"  # what the Makefile runs besides (neither chromium nor apt-get)
    tools.mkdir()
    for tool in ("cat", "id", "ls", "sort"):
        (tools / tool).symlink_to(shutil.which(tool))

    def chromium(path: Path, **named: str) -> subprocess.CompletedProcess:
        env = {"PATH": f"{path}:{tools}", "HOME": str(tmp_path), **named}
        return subprocess.run([gnu_make, "--no-print-directory", "chromium"], cwd=tmp_path,
                              capture_output=True, text=True, env=env, timeout=60)  # fmt: skip

    found = chromium(here)
    assert found.returncode == 0 and found.stdout + found.stderr == ""
    named = chromium(tmp_path, CHROMIUM=str(here / "chromium"))  # not on PATH: named
    assert named.returncode == 0 and named.stdout + named.stderr == ""
    wrong = chromium(here, CHROMIUM=str(tmp_path / "nowhere"))
    assert wrong.returncode != 0
    assert f"error: CHROMIUM={tmp_path / 'nowhere'} is not a program here" in wrong.stderr
    none = chromium(tmp_path)  # no chromium, no apt-get
    assert none.returncode != 0 and "command not found" not in none.stderr
    assert "there is no apt-get here to install it" in none.stderr
    assert "make test CHROMIUM=/path/to/chromium" in none.stderr
    (here / "chromium").rename(here / "apt-get")  # apt, but not root and no sudo
    (here / "id").write_text("#!/bin/sh\necho 1000\n")
    (here / "id").chmod(0o755)
    no_sudo = chromium(here)
    assert no_sudo.returncode != 0 and "command not found" not in no_sudo.stderr
    assert "installing it with apt needs root (no sudo here)" in no_sudo.stderr


def test_make_alone_lists_every_target_and_sets_up_nothing(tmp_path):
    """`make` alone ran the set-up and said only "'.venv/.installed' is up to date"."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    listed = make(tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert not (tmp_path / ".venv").exists()
    phony = re.search(r"^\.PHONY: (.*)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    said = set(re.findall(r"[\w-]+", listed.stdout))
    assert set(phony.split()) - {"help"} <= said, listed.stdout
    assert "  demo         serve the web UI at http://127.0.0.1:8765/" in listed.stdout


def test_make_clean_removes_what_git_ignores_and_nothing_else(tmp_path):
    """`make clean` left the lock, ruff's and hypothesis' caches, the compiled kernels and
    test-artifacts/ behind. It removes each thing .gitignore names (this test makes one of
    each), and keeps the rest."""
    made = []
    for pattern in (ROOT / ".gitignore").read_text().split():
        name = pattern.rstrip("/").replace("*", "culturesim")
        where = [Path(name)] if name != "__pycache__" else [Path("culturesim", name), Path(name)]
        for path in where:
            target = tmp_path / path / "x" if pattern.endswith("/") else tmp_path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("")
            made.append(tmp_path / path)
    kept = [tmp_path / "culturesim" / "model.py", tmp_path / "scenarios" / "baseline.toml"]
    for path in kept:
        path.parent.mkdir(exist_ok=True)
        path.write_text("")
    cleaned = make(tmp_path, "clean")
    assert cleaned.returncode == 0, cleaned.stderr
    assert [path for path in made if path.exists()] == []
    assert all(path.exists() for path in kept)


@pytest.mark.parametrize("venv", ["python-3.11", "python-gone", "moved"])
def test_make_makes_a_venv_of_another_python_or_folder_again(tmp_path, venv):
    """``python3 -m venv .venv`` (3.11 here) before ``make test`` ended in pip's "requires a
    different Python" and no word of what to do; a venv whose interpreter was removed (a
    pyenv version uninstalled) failed too; and a checkout moved or copied with its venv ran
    commands whose first line names the old folder's Python ("cannot execute: required file
    not found", or, where the old folder is still there, its culturesim). The Makefile's venv
    step makes each again, saying why."""
    here = tmp_path / ".venv"
    if venv == "python-3.11":
        python = another_python()
        subprocess.run([python, "-m", "venv", "--without-pip", str(here)], check=True)
        v = subprocess.run([python, "-V"], capture_output=True, text=True).stdout.split()[1]
        said = f"has Python {v}, not Python 3.12"
    elif venv == "python-gone":
        (here / "bin").mkdir(parents=True)
        (here / "bin" / "python").symlink_to(tmp_path / "uninstalled" / "python3.12")
        said = "has no working Python 3.12"
    else:
        first = tmp_path / "first" / ".venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(first)], check=True)
        first.rename(here)
        said = f"was made as {first} (moved or copied here since)"
    (tmp_path / "venv.mk").write_text("venv:\n\t$(call venv_312,$(VENV))\n")  # that step alone
    out = make(tmp_path, "-f", "Makefile", "-f", "venv.mk", "venv")
    assert out.returncode == 0, out.stderr
    assert out.stderr == f".venv {said}: making it again\n"
    version = [here / "bin" / "python", "-c", "import sys; print(sys.version_info[:2])"]
    assert subprocess.run(version, capture_output=True, text=True).stdout == "(3, 12)\n"
    made = (here / "pyvenv.cfg").stat().st_mtime_ns
    again = make(tmp_path, "-f", "Makefile", "-f", "venv.mk", "venv")
    assert again.returncode == 0 and again.stderr == ""  # a 3.12 venv made here is kept
    assert (here / "pyvenv.cfg").stat().st_mtime_ns == made


def test_a_checkout_whose_path_is_not_ascii_runs_under_an_ascii_locale(tmp_path):
    """Python 3.12 reads a venv's .pth files in the locale's encoding: under LC_ALL=C, the
    editable install's, naming a checkout in /tmp/.../cs \u00fc, stopped every command as
    it started ("Fatal Python error: init_import_site", a UnicodeDecodeError; three tests of
    `make test` there failed). The set-up writes the paths the .pth files name relative to the
    venv's site-packages, as it does here to a venv whose .pth names a module in the checkout."""
    checkout = tmp_path / "cs \u00fc"
    venv = checkout / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (checkout / "src").mkdir()
    (checkout / "src" / "mine.py").write_text("HERE = True\n")
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([venv / "bin" / "python", "-c", where],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    pth = Path(site) / "_editable_impl_mine.pth"
    pth.write_text(f"{checkout / 'src'}\n", encoding="utf-8")  # as hatchling writes it
    (checkout / "pth.mk").write_text("pth:\n\t$(call relative_pth,$(VENV))\n")  # that step alone
    done = make(checkout, "-f", "Makefile", "-f", "pth.mk", "pth")
    assert done.returncode == 0, done.stderr
    assert pth.read_text(encoding="utf-8") == "../../../../src\n"
    ascii_locale = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    ran = subprocess.run([venv / "bin" / "python", "-c", "import mine; print(mine.HERE)"],
                         capture_output=True, text=True, env=ascii_locale)  # fmt: skip
    assert ran.returncode == 0 and ran.stdout == "True\n", ran.stderr


@pytest.mark.skipif(shutil.which("flock") is None, reason="no flock here (macOS): unguarded")
@pytest.mark.parametrize(
    "targets",
    [(".venv",) * 2, (".venv-oldest",) * 2, (".venv", ".venv-oldest")],
    ids=["both-venv", "both-oldest", "one-each"],
)
def test_two_makes_started_at_once_set_up_one_at_a_time(tmp_path, targets):
    """`make demo` and `make test` started together on a fresh clone each ran the set-up,
    installing into one venv at once. The second now says it waits for the first and finds
    it done (not make's "'.venv/.installed' is up to date"). Both venvs' set-ups (`make
    test-oldest`'s too) take the one lock, so they also run one at a time. (The set-ups are
    stand-ins here that take a second, as pip's take a minute.)"""
    for name in ("Makefile", ".python-version", "pyproject.toml", ".ci/oldest.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    stand_ins = [
        f"{variable}=@mkdir -p {venv}; echo start {venv} >> setup.log; sleep 1; "
        f"echo end {venv} >> setup.log"
        for variable, venv in [("SET_UP", ".venv"), ("SET_UP_OLDEST", ".venv-oldest")]
    ]
    # as from a terminal: not a make's child (`make test` runs this), which says its directory
    terminal = {
        k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    makes = [
        subprocess.Popen(["make", *stand_ins, f"{venv}/.installed"], cwd=tmp_path, env=terminal,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for venv in targets
    ]  # fmt: skip
    said = []
    for made in makes:
        out, err = made.communicate(timeout=60)
        assert made.returncode == 0, err
        assert "up to date" not in out + err and "directory" not in out + err  # make's own
        said.append(err)
    log = (tmp_path / "setup.log").read_text().splitlines()
    ran = sorted(set(targets))  # each set-up once, one after the other (never overlapping)
    assert sorted(log[::2]) == [f"start {venv}" for venv in ran]
    assert [line.split()[1] for line in log[::2]] == [line.split()[1] for line in log[1::2]]
    assert sorted(said) == ["", "another make is setting up (.venv.lock): waiting for it\n"]
    for venv in targets:
        assert (tmp_path / venv / ".installed").read_text() == f"{tmp_path}\n"


def test_a_set_up_done_in_another_folder_is_done_again(tmp_path):
    """The set-up runs when its stamp (in the venv) is older than pyproject.toml, or was written
    in another folder: a checkout moved or copied with its venv, whose venv step (above) then
    makes it again."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    stamp = tmp_path / ".venv" / ".installed"
    stamp.parent.mkdir()
    for written_in, sets_up in [(tmp_path / "elsewhere", True), (tmp_path, False), ("", True)]:
        stamp.write_text(f"{written_in}\n")  # "": a stamp of an earlier Makefile (empty)
        planned = make(tmp_path, "-n", "lint")  # make's plan: the commands it would run
        assert planned.returncode == 0, planned.stderr
        assert ("pip install" in planned.stdout) == sets_up, (written_in, planned.stdout)
        assert "ruff check" in planned.stdout
    stamp.write_text(f"{tmp_path}\n")  # this folder's, but older than pyproject.toml
    made = (tmp_path / "pyproject.toml").stat().st_mtime
    os.utime(stamp, (made - 60, made - 60))
    assert "pip install" in make(tmp_path, "-n", "lint").stdout
