"""Batch experiments: experiment files, designs, executors and a resumable Parquet store."""

from culturesim.batch.experiment import Experiment, ExperimentError, load_experiment
from culturesim.batch.sweep import design_points, run_sweep

__all__ = ["Experiment", "ExperimentError", "design_points", "load_experiment", "run_sweep"]
