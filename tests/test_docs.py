import re

import networkx as nx
import numpy as np
import pytest

from culturesim import CultureModel, Scenario
from culturesim.kpis import KPIS
from culturesim.levers import LEVERS
from culturesim.processes import DEFAULT_PROCESSES
from tests.conftest import ROOT


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    code = re.search(r"## Python in ten lines\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 11
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["b"].loc[60, "ideas"] > namespace["a"].loc[60, "ideas"]


def test_odd_names_every_lever_process_and_kpi():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    for name in [*LEVERS, *KPIS, *(p.name for p in DEFAULT_PROCESSES)]:
        assert f"`{name}`" in odd or f"**{name}**" in odd, name


def test_odd_gives_every_scenario_default_a_source_or_calls_it_a_guess():
    """Every number a scenario file may set, its default in section 6's table (source or guess)."""
    from culturesim.scenario import Dynamics, Market, Organization, Partners

    odd = (ROOT / "docs" / "ODD.md").read_text()
    table = odd[odd.index("## 6. Input data") : odd.index("## 7. Submodels")]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    sections = {"organization": Organization, "market": Market, "partners": Partners,
                "dynamics": Dynamics}  # fmt: skip
    for section, model in sections.items():
        for name in model.model_fields:
            row = next((r for r in rows if f"`{section}.{name}`" in r or f"`{name}`" in r), None)
            assert row is not None, f"{section}.{name} has no row in docs/ODD.md section 6"
            assert row.count("|") >= 4 and row.split("|")[3].strip(), f"{section}.{name}: source"


def test_sampled_efficiency_equals_networkx_from_the_same_sources():
    model = CultureModel(scenario=Scenario().with_changes({"organization.employees": 200}), rng=3)
    model.run(8)
    g = model.org_graph()
    ids = model.employees.ids
    sources = ids[[0, 7, 50]]
    n = g.number_of_nodes()
    exact = np.mean(
        [
            sum(
                1 / d for t, d in nx.single_source_shortest_path_length(g, int(s)).items() if t != s
            )
            / (n - 1)
            for s in sources
        ]
    )
    assert model.org.efficiency(model.employees.alive, sources) == pytest.approx(exact, rel=1e-12)
