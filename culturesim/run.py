"""Running scenarios: one run (:func:`simulate`) and many seeds (:func:`run_seeds`)."""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from culturesim.interrupts import held, noticing_ctrl_c
from culturesim.model import CultureModel, whole_months
from culturesim.notices import notices_kept_quiet, summarize
from culturesim.progress import Progress
from culturesim.scenario import Scenario, load_scenario

__all__ = ["SimulationResult", "cores", "default_threads", "run_seeds", "simulate"]


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

    Raises:
        ScenarioError: If the scenario is invalid.
        TypeError: If ``months`` is not a whole number.
        ValueError: If ``months`` is negative.
    """
    config = load_scenario(scenario)
    model = CultureModel(scenario=config, rng=seed)
    kpis = model.run(config.meta.months if months is None else months)
    return SimulationResult(config, model.seed, kpis, model)


def run_seeds(
    scenario: Scenario | str | Path | dict | None,
    seeds: list[int],
    months: int | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
    name: str = "",
) -> pd.DataFrame:
    """Run a scenario for each seed; return KPIs stacked with ``run_id``, ``seed``, ``month``.

    The runs go in threads, one per core unless ``threads`` says otherwise (fewer where the
    machine's available memory would not hold that many runs of the scenario at once, by
    :meth:`~culturesim.scenario.Scenario.memory_estimate`): the model's compiled kernels
    release Python's GIL, so runs step side by side. Each run's numbers are
    :func:`simulate`'s for its seed, whatever the threads. A Ctrl-C (or a run that fails)
    stops the others within a month, and ``KeyboardInterrupt`` (or the run's error) is raised.
    ``progress``, if given, is ticked as each run finishes (``culturesim run`` and ``compare``
    draw it on a terminal). The runs' notices are given once a kind when all have finished,
    for the lowest seed that gave it, naming the others (:func:`~culturesim.notices.summarize`;
    ``name``, if given, before each: compare's ``A`` and ``B``).

    Raises:
        TypeError: If ``months`` is not a whole number.
        ValueError: If ``months`` is negative or ``threads`` below 1.
    """
    config = load_scenario(scenario)
    horizon = config.meta.months if months is None else whole_months(months)
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be 1 or more, got {threads}")
    workers = threads or default_threads(config, len(seeds))
    stop = threading.Event()
    finished: list[CultureModel] = []

    def run(seed: int) -> pd.DataFrame | None:
        with notices_kept_quiet():  # said once a kind after all the runs (summarize)
            model = CultureModel(scenario=config, rng=seed)
            for _ in range(horizon):
                if stop.is_set():
                    return None
                model.step()
        frame = model.kpi_frame()
        finished.append(model)
        if progress is not None:
            progress.tick()
        return frame

    frames = []
    pool = ThreadPoolExecutor(workers, thread_name_prefix="culturesim-run")
    try:
        # a stop is raised by check_ctrl_c() between waits, not where it lands (held): landing
        # inside a wait on a future, it could leave the future's lock held, and the run's
        # thread, setting the result, would wait for ever (and the pool's shutdown for it)
        with noticing_ctrl_c() as check_ctrl_c, held():
            # each run in a copy of this context: notices kept quiet here stay quiet there
            futures = [pool.submit(contextvars.copy_context().run, run, seed) for seed in seeds]
            for run_id, (seed, future) in enumerate(zip(seeds, futures, strict=True)):
                frame = _result(future, check_ctrl_c).reset_index()
                frame.insert(0, "seed", seed)
                frame.insert(0, "run_id", run_id)
                frames.append(frame)
    finally:
        stop.set()  # runs still going (after a Ctrl-C or a failure) end at their next month
        pool.shutdown(wait=True, cancel_futures=True)
    summarize(finished, name)
    return pd.concat(frames, ignore_index=True)


#: Where Linux mounts its control groups, whose limits are a container's or a batch job's share
#: of the machine, and where a process finds its own groups.
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
MEMINFO = Path("/proc/meminfo")  # the machine's memory (Linux)


def cores() -> int:
    """The CPU cores this process may run on, 1 or more.

    Its affinity where the system says (the share of a batch job, a container's ``--cpuset-cpus``
    or ``taskset``: ``os.cpu_count()`` counts the whole machine's), else the machine's cores;
    fewer where a control group's CPU quota allows fewer (a container's ``--cpus``, a
    Kubernetes CPU limit: 1.5 cores count as 2).
    """
    try:
        have = max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this system (macOS, Windows)
        have = max(1, os.cpu_count() or 1)
    quota = _cpu_quota()
    return have if quota is None else max(1, min(have, math.ceil(quota)))


def default_threads(scenario: Scenario, runs: int) -> int:
    """Threads (or a sweep's processes) for ``runs`` runs of ``scenario``.

    One per core (:func:`cores`), as many as memory holds, no more than the runs, 1 or more.
    Memory is what the system says is available (``MemAvailable``); where it says nothing, the
    cores alone decide.
    """
    threads = min(runs, cores())
    available = _available_memory()
    if available is not None:
        threads = min(threads, int(available // scenario.memory_estimate()))
    return max(threads, 1)


def _available_memory() -> float | None:
    """Bytes of memory available to new work, or None if unknown.

    Linux's ``MemAvailable``, or less where a control group limits this process (a container's
    ``--memory``, a Kubernetes or batch job's memory limit): ``MemAvailable`` counts the whole
    machine's, and runs started on it were killed for memory at the group's limit.
    """
    found = [line.split() for line in _read_lines(MEMINFO) if line.startswith("MemAvailable:")]
    machine = float(found[0][1]) * 1024.0 if found and len(found[0]) > 1 else None  # in kB
    known = [m for m in (machine, _cgroup_memory_free()) if m is not None]
    return min(known, default=None)


def _cgroup_dirs(controller: str) -> list[Path]:
    """The control-group folders whose ``controller`` limits apply to this process.

    Its own group's and every one above it, up to the mount's root (a limit set above applies
    too), for cgroup v2 and v1. A container that sees only its own group (mounted at the root,
    its path in ``/proc/self/cgroup`` being the host's) starts at the root. None off Linux.
    """
    try:
        lines = PROC_CGROUP.read_text().splitlines()
    except OSError:
        return []
    dirs: list[Path] = []
    for line in lines:
        if line.count(":") < 2:  # not "id:controllers:path"
            continue
        _, names, path = line.split(":", 2)
        if names == "":  # v2: one hierarchy for all, mounted at the root or (hybrid) at unified
            unified = (CGROUP_ROOT / "cgroup.controllers").exists()
            base = CGROUP_ROOT if unified else CGROUP_ROOT / "unified"
        elif controller in names.split(","):  # v1: e.g. memory, or cpu (cpu,cpuacct)
            base = CGROUP_ROOT / controller
        else:
            continue
        folder = base / path.lstrip("/")
        folder = folder if folder.is_dir() else base
        while True:
            dirs.append(folder)
            if folder == base:
                break
            folder = folder.parent
    return dirs


def _cpu_quota() -> float | None:
    """The cores a control group's CPU quota allows (2.5 for ``--cpus 2.5``), or None if none."""
    quotas = []
    for folder in _cgroup_dirs("cpu"):
        with contextlib.suppress(ValueError, IndexError, ZeroDivisionError):  # a file unlike these
            v2 = _read_words(folder / "cpu.max")  # "200000 100000", or "max 100000"
            if len(v2) == 2 and v2[0] != "max":
                quotas.append(int(v2[0]) / int(v2[1]))
            v1 = _read_words(folder / "cpu.cfs_quota_us")  # -1: none
            if v1 and int(v1[0]) > 0:
                quotas.append(int(v1[0]) / int(_read_words(folder / "cpu.cfs_period_us")[0]))
    return min(quotas, default=None)


def _cgroup_memory_free() -> float | None:
    """Bytes a control group's memory limit leaves free to this process, or None if none.

    The limit less the group's use, not counting the file cache the kernel reclaims first
    (``inactive_file``), as ``docker stats`` counts it.
    """
    free = []
    for folder in _cgroup_dirs("memory"):
        for limit_file, use_file, cache in (
            ("memory.max", "memory.current", "inactive_file"),  # v2
            ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"),  # v1
        ):
            limit = _read_words(folder / limit_file)
            if not limit or limit[0] == "max":
                continue
            with contextlib.suppress(ValueError, IndexError):  # a file unlike these
                if int(limit[0]) >= 2**60:  # v1's "no limit" is a huge number
                    continue
                use = _read_words(folder / use_file)
                stat = dict(
                    line.split()[:2] for line in _read_lines(folder / "memory.stat") if " " in line
                )
                used = (int(use[0]) if use else 0) - int(stat.get(cache, 0))
                free.append(float(max(0, int(limit[0]) - max(0, used))))
    return min(free, default=None)


def _read_words(path: Path) -> list[str]:
    """The words of a small system file, or none if it cannot be read."""
    return " ".join(_read_lines(path)).split()


def _read_lines(path: Path) -> list[str]:
    """The lines of a small system file, or none if it cannot be read."""
    try:
        return path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _result(future: Future, check_ctrl_c: Callable[[], None]) -> pd.DataFrame:
    """Wait for ``future``'s run, asking after a Ctrl-C Python swallowed meanwhile."""
    while True:
        check_ctrl_c()
        try:
            return future.result(timeout=0.1)
        except TimeoutError:
            continue
