"""The docking command: every check runs, is reported, the exit status tells, figures drawn."""

import json

import pytest

from culturesim.classics.dock import run_checks
from tests.conftest import ROOT, culturesim_here


def test_dock_quick_reports_every_check_and_draws_the_figures_with_a_manifest(tmp_path):
    proc = culturesim_here("dock", "--quick", "--json", "--figures", tmp_path)
    checks = json.loads(proc.stdout)
    assert len(checks) == 23  # 18 of the classics, 5 of the core's own processes
    assert {c["level"] for c in checks} == {"distributional", "relational"}
    for c in checks:
        assert set(c) == {"model", "published", "reproduced", "tolerance", "level", "passed"}
    failing = [c["model"] for c in checks if not c["passed"]]
    assert failing == []
    assert proc.returncode == 0
    names = ["classics.png", "core.png"]
    for name in names:
        png = (tmp_path / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 20_000
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["kind"] == "dock" and manifest["quick"] is True
    assert manifest["figures"] == names and manifest["checks"] == checks
    assert manifest["command"][1:] == ["dock", "--quick", "--json", "--figures", str(tmp_path)]


def test_a_figures_folder_that_cannot_be_made_is_refused_before_the_checks(tmp_path):
    taken = tmp_path / "a-file"
    taken.write_text("mine")
    proc = culturesim_here("dock", "--quick", "--figures", taken / "figs")
    assert proc.returncode == 2 and proc.stdout == ""  # no check ran
    assert (
        proc.stderr.strip()
        == f"culturesim: --figures {taken / 'figs'}: cannot make it: Not a directory"
    )
    assert taken.read_text() == "mine"


@pytest.mark.slow
def test_the_validation_table_is_what_the_full_run_gives():
    """docs/VALIDATION.md's table is the full `culturesim dock` run (12 seconds): every row's
    published, reproduced, tolerance, level and result as the code gives them today."""
    table = (ROOT / "docs" / "VALIDATION.md").read_text()
    for c in run_checks(quick=False):
        result = "pass" if c.passed else "FAIL"
        row = (
            f"| {c.model} | {c.published} | {c.reproduced} | {c.tolerance} | {c.level} | {result} |"
        )
        assert row in table, f"docs/VALIDATION.md lacks the row, as the full run gives it:\n{row}"
