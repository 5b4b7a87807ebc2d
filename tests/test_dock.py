"""The docking command: every check runs, is reported, and the exit status tells."""

import json
import subprocess
import sys


def test_dock_quick_reports_every_check_as_json():
    proc = subprocess.run(
        [sys.executable, "-m", "culturesim", "dock", "--quick", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    checks = json.loads(proc.stdout)
    assert len(checks) == 23  # 18 of the classics, 5 of the core's own processes
    assert {c["level"] for c in checks} == {"distributional", "relational"}
    for c in checks:
        assert set(c) == {"model", "published", "reproduced", "tolerance", "level", "passed"}
    failing = [c["model"] for c in checks if not c["passed"]]
    assert failing == []
    assert proc.returncode == 0


def test_dock_figures_are_drawn(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from culturesim.classics.figures import write_figures

    paths = write_figures(tmp_path, quick=True)
    assert sorted(p.name for p in paths) == ["classics.png", "core.png"]
    for p in paths:
        assert p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 20_000
