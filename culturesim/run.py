"""Running scenarios: one run (:func:`simulate`) and many seeds (:func:`run_seeds`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from culturesim.interrupts import noticing_ctrl_c
from culturesim.model import CultureModel
from culturesim.scenario import Scenario, load_scenario

__all__ = ["SimulationResult", "run_seeds", "simulate"]


@dataclass
class SimulationResult:
    """The outcome of one run.

    Attributes:
        scenario: The scenario that was run.
        seed: The seed it was run with.
        kpis: KPIs by month (index ``month`` = 0..months), one column per KPI.
        model: The model at the end of the run (for inspection).
    """

    scenario: Scenario
    seed: int
    kpis: pd.DataFrame
    model: CultureModel


def simulate(
    scenario: Scenario | str | Path | dict | None = None,
    seed: int | None = None,
    months: int | None = None,
) -> SimulationResult:
    """Run one scenario once.

    Args:
        scenario: A scenario, a path to a TOML file, a name in ``scenarios/``, a dict shaped like
            a scenario file, or ``None`` for the baseline.
        seed: Random seed; ``None`` uses the scenario's ``meta.seed``.
        months: Months to simulate (0 or more); ``None`` uses the scenario's ``meta.months``.

    Returns:
        A :class:`SimulationResult` whose ``kpis`` has rows for months 0..months.
    """
    config = load_scenario(scenario)
    model = CultureModel(scenario=config, rng=seed)
    kpis = model.run(config.meta.months if months is None else months)
    return SimulationResult(config, model.seed, kpis, model)


def run_seeds(
    scenario: Scenario | str | Path | dict | None, seeds: list[int], months: int | None = None
) -> pd.DataFrame:
    """Run a scenario for each seed; return KPIs stacked with ``run_id``, ``seed``, ``month``."""
    frames = []
    with noticing_ctrl_c() as check_ctrl_c:
        for run_id, seed in enumerate(seeds):
            frame = simulate(scenario, seed=seed, months=months).kpis.reset_index()
            frame.insert(0, "seed", seed)
            frame.insert(0, "run_id", run_id)
            frames.append(frame)
            check_ctrl_c()  # a Ctrl-C that Python swallowed stops here
    return pd.concat(frames, ignore_index=True)
