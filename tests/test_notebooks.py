"""Notebooks are executed end to end (at small size) and must run without errors."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch, tmp_path):
    monkeypatch.setenv("CULTURESIM_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("CULTURESIM_NOTEBOOK_DIR", str(tmp_path / "work"))  # not a new /tmp folder
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for o in outputs), "the notebook draws figures"  # fmt: skip
    assert os.environ["CULTURESIM_NOTEBOOK_SMALL"] == "1"
    if path.stem == "research_sensitivity":  # its results land where it was told
        assert (tmp_path / "work" / "results" / "sensitivity.png").exists()
