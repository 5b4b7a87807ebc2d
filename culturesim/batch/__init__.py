"""Batch experiments: experiment files, designs, executors and a resumable Parquet store.

The sweep's names (:func:`design_points`, :func:`run_sweep`) are imported when first used
(PEP 562), so reading and validating an experiment file loads neither the model nor the
samplers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from culturesim.batch.experiment import Experiment, ExperimentError, load_experiment

__all__ = ["Experiment", "ExperimentError", "design_points", "load_experiment", "run_sweep"]

if TYPE_CHECKING:
    from culturesim.batch.sweep import design_points, run_sweep


def __getattr__(name: str):
    """Import the sweep's names on first use."""
    if name in ("design_points", "run_sweep"):
        from culturesim.batch import sweep

        value = getattr(sweep, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'culturesim.batch' has no attribute {name!r}")
