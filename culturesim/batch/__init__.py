"""Batch experiments: experiment files, designs, executors and a resumable Parquet store.

The sweep (:func:`run_sweep`) is imported when first used (PEP 562), so reading and
validating an experiment file does not load the model; a sampled design's sampler is imported
as its points are made (:func:`design_points`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from culturesim.batch.experiment import Experiment, ExperimentError, design_points, load_experiment

__all__ = ["Experiment", "ExperimentError", "design_points", "load_experiment", "run_sweep"]

if TYPE_CHECKING:
    from culturesim.batch.sweep import run_sweep


def __getattr__(name: str):
    """Import the sweep's names on first use."""
    if name == "run_sweep":
        from culturesim.batch import sweep

        value = sweep.run_sweep
        globals()[name] = value
        return value
    raise AttributeError(f"module 'culturesim.batch' has no attribute {name!r}")
