"""The ``culturesim`` command.

    culturesim run SCENARIO [--set KEY=VALUE ...] [--seeds N] [--months M] [--out DIR]
    culturesim sweep EXPERIMENT --out DIR [--workers N] [--scheduler ADDRESS] [--resume]
    culturesim analyze DIR | report DIR
    culturesim compare A [B] [--set-a KEY=VALUE ...] [--set-b KEY=VALUE ...] [--seeds N]
        [--months M] [--out DIR]
    culturesim validate FILE...
    culturesim dock [--quick] [--json] [--figures DIR]
    culturesim ui [--host 127.0.0.1] [--port 8765]
    culturesim show SCENARIO [--set KEY=VALUE ...] [--arm a|b]
    culturesim levers | kpis

Bad input (an invalid scenario, an unknown option value) exits with status 2 and one line per
problem on stderr, and writes nothing. A disk that cannot be written (full, read-only) exits
with status 1 and one line (where a small file tried first fails: before the computation);
``run`` and ``compare`` leave nothing then, a sweep its finished runs.
Ctrl-C (or SIGTERM, SIGHUP) says so, leaves the same, and ends the program killed by that
signal (:func:`console`).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import errno
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from culturesim import __version__
from culturesim.interrupts import quiet_when_remembered, remembered, stop_on
from culturesim.kpis import (
    COMPARE_CHARTS,
    KPIS,
    check_names,
    did_you_mean,
    format_number,
    format_numbers,
    in_dollars,
    report_months,
    shown,
    shown_as_total,
)
from culturesim.levers import LEVERS, starting_context
from culturesim.manifest import (
    DERIVED,
    DISK_ERRORS,
    is_complete,
    made_folder,
    maker,
    now,
    probe_folder,
    provenance,
    results_kind,
    same_folder,
    scenario_record,
    set_command_line,
    why_refused,
    write_files,
    write_json,
)
from culturesim.notices import KernelCacheWarning, Notice
from culturesim.progress import Progress
from culturesim.scenario import (
    MAX_HEADCOUNT,
    MAX_MONTHS,
    MAX_POTENTIAL_USERS,
    TOO_DEEP,
    Scenario,
    ScenarioError,
    commented_toml,
    compare_arm,
    exact_number,
    load_scenario,
    manifest_kind,
    parse_json,
    parse_toml,
    read_file,
    seeds_from,
)
from culturesim.ui import UI_MAX_EMPLOYEES, UI_MAX_EVENTS, UI_MAX_USERS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["console", "main"]


#: :func:`main`'s status after a Ctrl-C (128 + SIGINT, what a shell reports for one).
INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line input; reported on stderr with exit status 2."""


def _whole(lo: int, hi: int | None = None):
    """An argparse type: a whole number from ``lo`` to ``hi`` (no upper bound if None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"must be at least {lo}, got {value}")
        if hi is not None and value > hi:
            raise argparse.ArgumentTypeError(f"must be at most {hi}, got {value}")
        return value

    return parse


_positive = _whole(1)
#: The most seeds ``run`` and ``compare`` take: they hold every run's KPIs in memory, and
#: 100,000,000 filled 5 GB in half a minute before the first run. More runs are a sweep's work.
MAX_SEEDS = 10_000
_months = _whole(1, MAX_MONTHS)  # as meta.months and an experiment's months allow


def _folder(text: str) -> str:
    """An argparse type: a folder's name, not empty (``--out "$DIR"`` with DIR unset)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"expected a folder, got {text!r} (an unset shell variable?); the current folder is ."
        )
    return text


def _kpi_names(text: str) -> list[str]:
    """An argparse type: KPI names separated by commas (``ideas,launches``)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    try:
        check_names(names)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return names


_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?")  # digits on one side at least


def _setting(text: str) -> tuple[str, Any]:
    """An argparse type: ``KEY=VALUE``, a dotted scenario key and a TOML value (or a word).

    ``levers.innovation_time=0.2`` gives ``("levers.innovation_time", 0.2)``, and so does
    ``=.2`` (TOML wants a digit on both sides of the point; ``=2.`` is 2.0); a value that is
    not TOML (``market.user_network=scale_free``) is taken as text. A key may be quoted whole,
    as an experiment's parameters are (``"levers.innovation_time"=0.2``).
    """
    key, sep, raw = (part.strip() for part in text.partition("="))
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        key = key[1:-1].strip()
    if not sep or not key or not raw:
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE, e.g. levers.innovation_time=0.2; got {text!r}"
        )
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        # a number TOML spells otherwise (".2", "2."), as Python and a shell user write it;
        # else a bare word
        value = float(raw) if _DECIMAL.fullmatch(raw) else raw
    except RecursionError:
        raise argparse.ArgumentTypeError(f"{key}: value with {TOO_DEEP}") from None
    return key, value


def _scenario(
    path: str,
    settings: list[tuple[str, Any]] | None,
    option: str = "--set",
    loaded: Scenario | None = None,
):
    """The scenario at ``path`` with the ``option`` settings made; and those changes.

    ``loaded``: the scenario already read from ``path`` (a pipe reads once).

    Raises:
        ScenarioError: If the file is invalid, or a change is (naming the file, the option,
            the key and what is allowed).
    """
    scenario = load_scenario(path) if loaded is None else loaded
    changes = dict(settings or [])  # a key set twice: the last one counts
    if changes:
        scenario = scenario.with_changes(changes, source=f"{path} {option}")
    return scenario, changes


def _from_record(path: str, manifest: dict, arm: str, settings, option: str):
    """Scenario ``arm`` ("a" or "b") of a compare folder's manifest, with ``option``'s changes.

    Returns the scenario and ``option``'s changes.

    Raises:
        ScenarioError: If the manifest does not record the scenario, or a change is invalid.
    """
    scenario = compare_arm(manifest, arm, path)
    changes = dict(settings or [])
    if changes:
        scenario = scenario.with_changes(changes, source=f"{path} {option}")
    return scenario, changes


def _recorded_changes(record: dict | None) -> dict[str, Any]:
    """The ``--set`` changes a manifest's scenario record says were made (for labels)."""
    changes = (record or {}).get("scenario_changes")
    return changes if isinstance(changes, dict) else {}


def _label(scenario: Scenario, changes: dict[str, Any]) -> str:
    """A scenario's name, with the changes made to it: ``baseline (levers.inclusion=0.8)``."""
    if not changes:
        return scenario.meta.name

    def text(value: Any) -> str:  # numbers as the tables write them (2e6 as 2.00M)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if isinstance(value, dict | list):  # as it was typed: TOML, not Python's repr
            return _inline_toml(value)
        return format_number(value) if number else str(value)

    return f"{scenario.meta.name} ({', '.join(f'{k}={text(v)}' for k, v in changes.items())})"


def _inline_toml(value: Any) -> str:
    """``value`` as an inline TOML value: ``[{month = 1, kind = "incident"}]``."""

    def key(k: str) -> str:  # bare where TOML allows it, else quoted
        return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)

    if isinstance(value, dict):
        return "{" + ", ".join(f"{key(k)} = {_inline_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_inline_toml, value)) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    return repr(value)


def _seeds(path: str, scenario: Scenario, count: int) -> list[int]:
    """The seeds of ``count`` runs of ``scenario`` (from ``path``): ``meta.seed`` on.

    Raises:
        ScenarioError: If they would pass the largest seed, naming ``path`` and ``meta.seed``.
    """
    try:
        return seeds_from(scenario.meta.seed, count)
    except ValueError as exc:
        raise ScenarioError(path, [str(exc)]) from None


def _say_if_compiling() -> None:
    """On a terminal, say so when this run will first compile the model (half a minute or more).

    After an install or a `git pull` the first run compiles the kernels, and the progress bar
    shows only once a run has finished: a terminal showed nothing for half a minute or more.
    A script's stderr is left as it was.
    """
    from culturesim.compiled import kernels_cached

    if sys.stderr is not None and sys.stderr.isatty() and not kernels_cached():
        print(
            "culturesim: compiling the model for this version of the code, once: half a minute "
            "to a minute (`python -m culturesim.warm` does it ahead)",
            file=sys.stderr,
        )


def _recorded(path: str, *kinds: str) -> dict | None:
    """The manifest at ``path`` if it is the ``manifest.json`` of a folder of one of ``kinds``.

    None if it is not.

    Given back to ``run`` or ``compare``, such a manifest reproduces what it records: the
    scenarios as they ran and, unless ``--seeds`` or ``--months`` say otherwise, the seeds and
    months.
    """
    p = Path(path)
    if p.suffix != ".json" or not p.is_file():
        return None
    try:
        manifest = parse_json(read_file(p), path)
    except ScenarioError:  # unreadable or not JSON: load_scenario says so
        return None
    return manifest if manifest_kind(manifest) in kinds else None


def _seeds_and_months(
    args: argparse.Namespace,
    recorded: dict | None,
    seeds: int,
    months: int | None,
    path: str,
    fewest: int = 1,
):
    """How many seeds and months to run: the options', else the manifest's, else the defaults.

    A manifest whose seeds and months cannot be read gives the defaults.

    Raises:
        ScenarioError: If the manifest at ``path`` (its seeds, when ``--seeds`` does not say,
            or its months, when ``--months`` does not) asks for more than the options allow:
            ``fewest`` to :data:`MAX_SEEDS` seeds, 1 to ``MAX_MONTHS`` months.
    """
    recorded = recorded or {}
    n = len(recorded["seeds"]) if isinstance(recorded.get("seeds"), list) else seeds
    m = recorded.get("months") if isinstance(recorded.get("months"), int) else months
    problems = []
    if args.seeds is None and not fewest <= n <= MAX_SEEDS:
        problems.append(
            f"seeds: {n:,} listed; allowed {fewest} to {MAX_SEEDS:,} (--seeds N runs N seeds)"
        )
    if args.months is None and m is not None and not 1 <= m <= MAX_MONTHS:
        problems.append(
            f"months: value {m} out of range; allowed range 1 to {MAX_MONTHS} (--months M runs "
            "M months)"
        )
    if problems:
        raise ScenarioError(path, problems)
    return args.seeds or n, args.months or m


_SET_HELP = (
    "change a scenario key (repeatable): a dotted key and a TOML value, e.g. "
    "levers.innovation_time=0.2, market.user_network=scale_free or events.0.month=24 (the first "
    "event's month; events[0].month too)"
)

_TOTALS = [name for name in KPIS if shown_as_total(name)]
#: How tables show counted flows (see :func:`culturesim.kpis.shown_as_total`).
TOTALS_NOTE = f"{', '.join(_TOTALS[:-1])} and {_TOTALS[-1]}: the total so far"


#: The width of a table's KPI column (the longest name and two spaces).
KPI_COLUMN = max(len(k) for k in KPIS) + 2


def compare_table(table: pd.DataFrame) -> str:
    """Format a comparison's table (:meth:`Comparison.table`) by month: A, B, and B - A [CI].

    A row's A and B read in one unit, as do its difference and interval (``"-0.94M"`` beside
    ``"-1.03M"``, not ``"-0.939M"``; ``"0.091M [0.071M, 0.110M]"``, not ``"90,656 [70,832,
    0.11M]"``: :func:`~culturesim.kpis.format_numbers`).
    """
    width = KPI_COLUMN
    lines = []
    for month, rows in table.groupby("month"):
        lines += ["", f"month {month}"]
        lines.append(
            "KPI".ljust(width) + "A".rjust(12) + "B".rjust(12) + "B - A [95% CI]".rjust(36)
        )
        for r in rows.itertuples():
            money = KPIS[r.kpi].money
            a, b = format_numbers((r.A, r.B), money)
            diff, lo, hi = format_numbers((r.diff, r.ci_lo, r.ci_hi), money)
            lines.append(
                r.kpi.ljust(width) + a.rjust(12) + b.rjust(12) + f"{diff} [{lo}, {hi}]".rjust(36)
            )
    return "\n".join(lines)


def indices_table(table: pd.DataFrame) -> str:
    """Format sensitivity indices (:func:`~culturesim.batch.analyze.sensitivity_table`) to read.

    One line per output and parameter; a line's statistics read in one unit
    (:func:`~culturesim.kpis.format_numbers`: Morris's in the output's, a dollar output's in
    millions from $100,000), a PRCC's p-value in two significant digits. Printed as pandas
    prints a frame, Morris's mu read "3.470000e-01" beside mu* "0.347", and cash's mu*
    "47235717.793".
    """
    stats = [c for c in table.columns[2:] if c != "PRCC_p"]
    rows = [["output", "parameter", *table.columns[2:]]]
    for r in table.itertuples(index=False):
        money = in_dollars(r.output) and "mu" in stats  # Morris: in its unit
        cells = format_numbers([getattr(r, c) for c in stats], money)
        if "PRCC_p" in table.columns:
            cells.append(f"{r.PRCC_p:.2g}")
        rows.append([r.output, r.parameter, *cells])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                  for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
        for row in rows
    )  # fmt: skip


def summary_table(timeseries: pd.DataFrame) -> str:
    """Format each KPI as 'median [p10, p90]' over runs at the :func:`report_months`."""
    import numpy as np

    months = report_months(int(timeseries["month"].max()))
    width = KPI_COLUMN
    head = "KPI".ljust(width) + "".join(f"month {m}".rjust(30) for m in months)
    lines = [head, "-" * len(head)]
    for name in KPIS:
        cells, values = [], shown(timeseries, name)  # counted flows: totals so far
        money = KPIS[name].money
        for m in months:
            x = values[timeseries["month"] == m].to_numpy()
            p10, med, p90 = format_numbers(np.quantile(x, [0.1, 0.5, 0.9]), money)
            cells.append(f"{med} [{p10}, {p90}]".rjust(30))
        lines.append(name.ljust(width) + "".join(cells))
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario for several seeds, print a summary, optionally write results."""
    # raises ScenarioError before anything is written (or imported: the model and the plots
    # take seconds to import, a typo's answer should not)
    scenario, changes = _scenario(args.scenario, args.set)
    recorded = _recorded(args.scenario, "run")  # a run's manifest: its seeds and months too
    name = _label(scenario, {**_recorded_changes(recorded), **changes})
    out = Path(args.out) if args.out else None
    n_seeds, months = _seeds_and_months(args, recorded, 10, scenario.meta.months, args.scenario)
    seeds = _seeds(args.scenario, scenario, n_seeds)
    started = now()
    with _output_folder(out, "run"):  # a bad folder fails now, not after the runs
        import pandas as pd

        from culturesim.run import run_seeds

        _say_if_compiling()
        with Progress(len(seeds), log=False) as bar:  # a bar on a terminal, else nothing
            ts = run_seeds(scenario, seeds, months, progress=bar)
        if out is not None:  # the results before the summary: a reader that stops early
            # (`| head`) takes nothing away
            from culturesim.plots import dashboard

            runs = pd.DataFrame(
                {
                    "run_id": range(len(seeds)),
                    "seed": seeds,
                    "scenario": scenario.meta.name,
                    "months": months,
                    "status": "ok",
                }
            )
            manifest = {
                **provenance("run"),
                **scenario_record(scenario, args.scenario, changes),
                "seeds": seeds,
                "months": months,
                "start_time": started,
                "end_time": now(),
            }
            write_files(
                out,
                {
                    "runs.parquet": lambda path: runs.to_parquet(path, index=False),
                    "timeseries.parquet": lambda path: ts.to_parquet(path, index=False),
                    "manifest.json": lambda path: write_json(path, manifest),
                    "dashboard.png": lambda path: dashboard(ts, title=name).savefig(path, dpi=110),
                },
            )
    print(
        f"{name}: {_count(len(seeds), 'seed')} x {_count(months, 'month')}; each KPI as median "
        f"[10%, 90%] over the seeds ({TOTALS_NOTE})"
    )
    for line in _unreached(scenario, months):
        print(line)
    print(summary_table(ts))
    if out is not None:
        print(
            f"wrote {out / 'runs.parquet'}, {out / 'timeseries.parquet'}, {out / 'manifest.json'}"
        )
        print(f"dashboard: {(out / 'dashboard.png').resolve()}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate scenario and experiment files; print one line per problem."""
    bad = False
    for f in args.files:
        try:
            if _is_experiment(f):
                print(f"{f}: ok ({_experiment_size(f)})")
            else:
                # a file that sets nothing (empty, say, saved by mistake) runs the baseline
                empty = load_scenario(f) == Scenario()
                print(f"{f}: ok" + " (it sets nothing: the built-in baseline)" * empty)
        except ScenarioError as exc:  # an ExperimentError too
            bad = True
            for line in str(exc).splitlines():
                print(line, file=sys.stderr)
    return 2 if bad else 0


def _is_experiment(path: str) -> bool:
    """Whether ``path`` is an experiment (else: a scenario).

    A TOML file with an ``[experiment]`` table, or a sweep folder's ``manifest.json`` (or
    the one of its report or indices written into another folder, which holds the sweep's).
    """
    p = Path(path)
    if not p.is_file():
        return False
    if p.suffix == ".json":
        return _recorded(path, "sweep", *DERIVED) is not None
    try:
        return "experiment" in parse_toml(read_file(p), path)
    except ScenarioError:  # unreadable or not TOML: load_scenario says so
        return False


def _experiment_size(path: str) -> str:
    """Validate the experiment in ``path`` (its scenario too); describe the runs it asks for."""
    from culturesim.batch import load_experiment

    exp = load_experiment(path)
    points, reps = exp.design_size, exp.settings.replications
    return (
        f"experiment: {_count(points, 'design point')} x {_count(reps, 'replication')} = "
        f"{_count(points * reps, 'run')}"
    )


def _count(n: int, thing: str) -> str:
    """``n`` things, in words: "1 run", "768 runs", "20,480 runs"."""
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run an experiment file's design points x replications; write a results folder."""
    from culturesim.batch import load_experiment

    overrides = {"replications": args.replications, "months": args.months}
    exp = load_experiment(  # raises before anything is written (or imported)
        args.experiment, **{key: value for key, value in overrides.items() if value is not None}
    )
    from culturesim.batch import run_sweep
    from culturesim.batch.sweep import (
        OtherCodeError,
        SchedulerError,
        WorkerLostError,
        WorkerStartError,
        kept,
    )

    if args.scheduler is None:  # a cluster's workers compile, or not, on their own machines
        _say_if_compiling()
    finished = args.resume and is_complete(Path(args.out))  # then nothing is run or written
    try:
        # a sweep keeps what it wrote (see _output_folder), and resumes only its own folders
        with _output_folder(Path(args.out), "sweep", probe=not finished):  # reads only
            out = run_sweep(
                exp, args.out, workers=args.workers, scheduler=args.scheduler, resume=args.resume
            )
    except (FileExistsError, SchedulerError, OtherCodeError) as exc:
        raise UsageError(str(exc)) from None
    except (WorkerLostError, WorkerStartError) as exc:  # not the input's fault: exit 1
        print(f"culturesim: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, say: the parts written are whole (see run_sweep)
        if exc.errno in DISK_ERRORS:
            said = _cannot_write(exc, args.out)
        elif exc.errno in FILE_LIMIT_ERRORS:  # a pool's pipes, say
            said = f"{_file_limit(exc)} or use fewer --workers"
        else:
            raise
        print(f"culturesim: {said}. {kept(Path(args.out))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted. {kept(Path(args.out))}", file=sys.stderr)
        return INTERRUPTED
    if not finished:
        print(
            f"wrote {out / 'runs.parquet'}, {out / 'timeseries.parquet'}, {out / 'manifest.json'}"
        )
    return _failed_runs(out, told=not finished)


def _failed_runs(out: Path, *, told: bool) -> int:
    """A finished sweep's exit status: 1 if any of its runs failed (a script stops there), else 0.

    A sweep that ran has said how many failed and the first error (``told``); resuming a
    finished sweep runs nothing, and this says it here.
    """
    import pyarrow.parquet as pq

    status = pq.read_table(out / "runs.parquet", columns=["status"]).column("status")
    failed = len(status) - status.to_pylist().count("ok")
    if failed and not told:
        print(
            f"culturesim: {failed} of {len(status)} runs in {out} failed (runs.parquet's error "
            "column has them, and `culturesim report` lists them)",
            file=sys.stderr,
        )
    return 1 if failed else 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Run two scenarios with the same seeds; print A, B and B - A with 95% CIs."""
    recorded = _recorded(args.a, "compare")  # A and B as they ran, and their seeds and months
    if recorded and args.b is not None:
        raise UsageError(f"compare: {args.a} holds both A and B; change B with --set-b")
    if args.b is None and not (args.set_a or args.set_b or recorded):
        load_scenario(args.a)  # what is wrong with A first: B would not mend it
        raise UsageError("compare: give scenario B, or A's changes for B with --set-b KEY=VALUE")
    if args.charts and args.out is None:
        raise UsageError("compare: --charts picks what compare.png draws; give --out DIR too")
    if recorded:
        a, a_changes = _from_record(args.a, recorded, "a", args.set_a, "--set-a")
        b, b_changes = _from_record(args.a, recorded, "b", args.set_b, "--set-b")
        b_file = args.a
    else:
        b_file = args.b if args.b is not None else args.a  # B: A's file (changed by --set-b)
        first = load_scenario(args.a)  # read once: a pipe gives its text once
        a, a_changes = _scenario(args.a, args.set_a, "--set-a", first)
        b, b_changes = _scenario(b_file, args.set_b, "--set-b", first if args.b is None else None)
    n_seeds, months = _seeds_and_months(args, recorded, 20, None, args.a, fewest=2)
    seeds = _seeds(args.a, a, n_seeds)  # B runs A's seeds
    a_name, b_name = (
        _label(scenario, {**_recorded_changes((recorded or {}).get(arm)), **changes})
        for scenario, changes, arm in ((a, a_changes, "a"), (b, b_changes, "b"))
    )
    out = Path(args.out) if args.out else None
    started = now()
    with _output_folder(out, "compare"):  # a bad folder fails now, not after the runs
        from culturesim.batch.compare import (  # after the checks: seconds
            compare,
            funding_note,
            many_intervals,
            summary_lines,
        )

        _say_if_compiling()
        with Progress(2 * n_seeds, log=False) as bar:
            result = compare(a, b, seeds=n_seeds, months=months, progress=bar)
        table = result.table()
        if out is not None:  # the results before the table: a reader that stops early
            # (`| head`) takes nothing away
            manifest = {
                **provenance("compare"),
                "a": scenario_record(a, args.a, a_changes),
                "b": scenario_record(b, b_file, b_changes),
                "seeds": seeds,  # as compare() uses
                "months": months or a.meta.months,
                "start_time": started,
                "end_time": now(),
            }
            charts, names = tuple(args.charts or COMPARE_CHARTS), (f"A: {a_name}", f"B: {b_name}")
            write_files(
                out,
                {
                    "compare.csv": lambda path: table.to_csv(path, index=False),
                    "compare.png": lambda path: result.figure(charts, names).savefig(path, dpi=110),
                    "manifest.json": lambda path: write_json(path, manifest),
                },
            )
    print(
        f"A = {a_name}, B = {b_name}: means over {n_seeds} paired seeds, and "
        f"B - A with its 95% CI (a t interval over the seeds' differences; {TOTALS_NOTE})"
    )
    if months is None and b.meta.months != a.meta.months:
        print(
            f"Both run A's horizon, {a.meta.months} months: B's meta.months "
            f"({b.meta.months}) is not used (--months sets the horizon)"
        )
    if b.meta.seed != a.meta.seed:
        print(
            f"Both run A's seeds, from its meta.seed {a.meta.seed}: B's ({b.meta.seed}) is not "
            "used (the same seeds pair the runs)"
        )
    for label, scenario in (("A", a), ("B", b)):
        for line in _unreached(scenario, months or a.meta.months, f"{label}'s "):
            print(line)
    print(compare_table(table))
    print("\nIn short, B against A (the strategist page's summary):")
    for line in summary_lines(result):
        print(f"  {line}")
    if note := funding_note(result):  # cash that the rounds, moved by B, explain
        print(_wrapped(note, "", 2))
    print(_wrapped(many_intervals(), "", 2))  # eleven at once
    if out is not None:
        print(f"\nwrote {out / 'compare.csv'}, {out / 'compare.png'}, {out / 'manifest.json'}")
    return 0


@contextlib.contextmanager
def _output_folder(
    out: Path | None,
    kind: str,
    option: str = "--out",
    also: tuple[str, ...] = (),
    *,
    probe: bool = True,
) -> Iterator[None]:
    """Make the folder ``out`` before a long computation that ends by writing into it.

    A folder that cannot be made, that cannot take a file (a full or read-only disk: a small
    file is written there and removed, unless not ``probe``) or that holds another command's
    results (its manifest would be replaced) fails at once, not after the runs; if the block
    fails or is interrupted, the folders made here are removed again (those still empty), so
    nothing is left behind. ``None``: no folder.

    Args:
        out: The folder, or ``None``.
        kind: The command's manifest kind (see :data:`culturesim.manifest.KINDS`): a folder
            of its own results may be written again.
        option: The command-line option that named it, for the message.
        also: Other commands' kinds whose folders it may write (their files are among its own).
        probe: Whether to try a small file there first (not for a command that only reads).

    Raises:
        UsageError: If ``out`` is a file, holds other results or cannot be made.
    """
    if out is None:
        yield
        return
    if out.exists() and not out.is_dir():
        raise UsageError(f"{option} {out}: exists and is not a folder")
    if out.is_symlink() and not out.exists():  # mkdir says only "File exists"
        raise UsageError(f"{option} {out}: a link to {os.readlink(out)}, which does not exist")
    if refused := why_refused(out, kind, also):
        raise UsageError(f"{option} {refused}")
    with contextlib.ExitStack() as made:
        try:
            made.enter_context(made_folder(out))
        except OSError as exc:
            raise UsageError(f"{option} {out}: cannot make it: {exc.strerror}") from None
        if probe:
            probe_folder(out)  # a disk error: one line and exit 1 (main), as at the end
        yield


def _unfinished(path: Path) -> str:
    """What to say of a sweep folder whose sweep has not finished (interrupted, or running)."""
    from culturesim.batch.sweep import PARTS

    manifest = json.loads((path / "manifest.json").read_text())
    points, reps = manifest.get("design_points"), manifest.get("replications")
    written = sum(1 for _ in (path / PARTS).glob("run-*.parquet"))
    of = f" of {points * reps}" if isinstance(points, int) and isinstance(reps, int) else ""
    experiment = shlex.quote(str(manifest.get("experiment_file") or "EXPERIMENT"))
    return (
        f"{path}: its sweep has not finished ({written}{of} runs written): continue it with "
        f"`culturesim sweep {experiment} --out {shlex.quote(str(path))} --resume` (unless it "
        "is running)"
    )


def _on_sweep_folder(args: argparse.Namespace, action):
    """Run ``action(folder, out)`` on a finished sweep folder; bad folders are usage errors.

    ``out`` is the folder ``--out`` names (made here, see :func:`_output_folder`), or the
    sweep's own. A sweep folder that cannot be written in (read-only, another user's, full)
    gets a note naming ``--out``.
    """
    path = Path(args.folder)
    if results_kind(path) == "sweep" and not is_complete(path):
        raise UsageError(_unfinished(path))
    if not (path / "manifest.json").is_file() or not (path / "runs.parquet").is_file():
        raise UsageError(f"{path}: not a finished sweep folder (no manifest.json/runs.parquet)")
    kind = results_kind(path)
    if kind != "sweep":
        raise UsageError(f"{path}: holds results of {maker(kind)}, not of culturesim sweep")
    out = None if args.out is None else Path(args.out)
    if out is not None and same_folder(out, path):
        out = None  # the sweep's own folder, named twice
    try:
        # a report's files include analyze's: it may replace them
        also = DERIVED if args.command == "report" else ()
        with _output_folder(out, args.command, also=also):
            return action(path, path if out is None else out)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        there = exc.filename and Path(exc.filename) == path  # its temporary folder (write_files)
        if out is None and (there or exc.errno in (errno.EROFS, *FULL)):
            exc.add_note(
                f"`culturesim {args.command} {shlex.quote(str(path))} --out DIR` writes "
                f"{'them' if args.command == 'analyze' else 'it'} into another folder"
            )
        raise


def cmd_analyze(args: argparse.Namespace) -> int:
    """Sensitivity indices of a Sobol, Morris or LHS sweep."""

    def analyze(folder: Path, out: Path):  # imported once the folder is checked: takes seconds
        from culturesim.batch.analyze import analyze_folder, interval_note

        table = analyze_folder(folder, out)
        experiment = json.loads((folder / "manifest.json").read_text())["experiment"]
        return table, interval_note(table, experiment["design"], experiment["samples"]), out

    table, note, out = _on_sweep_folder(args, analyze)
    print(indices_table(table))
    for output in table.loc[table.iloc[:, 2:].isna().all(axis=1), "output"].unique():
        print(
            f"note: {output} is the same at every design point: it has no indices", file=sys.stderr
        )
    if note:
        print(f"note: {note}", file=sys.stderr)
    beside = ", .json and manifest.json" if out != Path(args.folder) else " and .json"
    print(f"wrote {out / 'sensitivity.csv'}, sensitivity.png{beside} beside it")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Figures and a Markdown summary of a sweep folder."""

    def report(folder: Path, out: Path) -> Path:  # imported once the folder is checked: seconds
        from culturesim.batch.report import write_report

        return write_report(folder, out)

    print(f"wrote {_on_sweep_folder(args, report)}")
    return 0


def _unreached(scenario: Scenario, months: int, whose: str = "") -> list[str]:
    """A line for each event of ``scenario`` after the runs' last month: it does not happen."""
    return [
        f"{whose}events[{i}] ({event.kind} at month {event.month}) falls after the runs' "
        f"{months} months: it does not happen"
        for i, event in enumerate(scenario.events)
        if event.month > months
    ]


def _write_docking_figures(out: Path, checks: list, started: str, *, quick: bool) -> None:
    """Draw the docking figures into ``out`` with their manifest, all or none."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from culturesim.classics.figures import docking_figures

    drawn = docking_figures(quick=quick)
    manifest = {
        **provenance("dock"),
        "quick": quick,
        "figures": list(drawn),
        "checks": [c.to_dict() for c in checks],
        "start_time": started,
        "end_time": now(),
    }
    writers = {
        name: lambda path, fig=fig: fig.savefig(path, dpi=100) for name, fig in drawn.items()
    }
    try:
        write_files(out, {**writers, "manifest.json": lambda path: write_json(path, manifest)})
    finally:
        for fig in drawn.values():
            plt.close(fig)
    for name in drawn:
        print(f"figure: {out / name}", file=sys.stderr)


def cmd_dock(args: argparse.Namespace) -> int:
    """Run the docking checks of the classic models and the core; exit 1 if one fails."""
    from culturesim.classics.dock import run_checks

    started = now()
    figures = None if args.figures is None else Path(args.figures)
    # the figures' folder is made (or refused) before the checks' minutes
    with _output_folder(figures, "dock", "--figures"):
        _say_if_compiling()
        checks = run_checks(quick=args.quick)
        if figures is not None:
            _write_docking_figures(figures, checks, started, quick=args.quick)
    if args.json:
        print(json.dumps([c.to_dict() for c in checks], indent=2))
    else:
        for c in checks:
            mark = "pass" if c.passed else "FAIL"
            print(f"{mark}  {c.model:34} published: {c.published}")
            print(f"      {'':34} reproduced: {c.reproduced}   tolerance: {c.tolerance} "
                  f"({c.level})")  # fmt: skip
    return 0 if all(c.passed for c in checks) else 1


def cmd_ui(args: argparse.Namespace) -> int:
    """Serve the web UI (strategist and classroom pages) with Solara until interrupted."""
    from culturesim.ui import assets, configured_workers

    try:  # the server reads it at its first Run: said there, after a visitor pressed it
        configured_workers()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _check_free(args.host, args.port)  # before anything starts: a clear message, not tracebacks
    if assets.missing():
        print("culturesim: fetching the UI's browser assets from the npm registry ...")
        try:
            assets.install()
        except RuntimeError as exc:
            raise UsageError(str(exc)) from None
    # Solara warns on every first page over http that its cookie falls back to SameSite=Lax:
    # right for this app, which is not meant to be embedded in another site's frame
    quiet = "ignore:Cookies with samesite=none require https:UserWarning"
    python_warnings = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), quiet]))
    env = {
        **os.environ,
        "CULTURESIM_UI_WARMUP": "1",
        "CULTURESIM_UI_PARENT": str(os.getpid()),
        "CULTURESIM_UI_MAX_EMPLOYEES": str(args.max_employees),
        "CULTURESIM_UI_MAX_USERS": str(args.max_users),
        "PYTHONWARNINGS": python_warnings,
        # Solara's "This website runs on Solara" banner sits over the charts' last lines
        "SOLARA_THEME_SHOW_BANNER": os.environ.get("SOLARA_THEME_SHOW_BANNER", "False"),
    }
    print(f"culturesim UI: {_url(args.host, args.port)}  (classroom: /classroom; Ctrl-C stops)")
    if args.host in WILDCARD_HOSTS:  # 0.0.0.0 is no address to open: say which one to give out
        here = _lan_address()
        print(
            f"  from other machines: {_url(here, args.port)}"
            if here
            else f"  from other machines: http://<this machine's address>:{args.port}/"
        )
    sys.stdout.flush()
    cmd = [sys.executable, "-m", "culturesim.ui.serve", "--production",
           "--host", args.host, "--port", str(args.port)]  # fmt: skip
    # The server runs in a session of its own: a terminal's Ctrl-C (sent to its whole process
    # group) reaches this process only, which stops the server, which stops its workers. Before,
    # it also hit the workers, which printed tracebacks. `kill`, `docker stop`, systemd and a
    # closed terminal stop this process: passed on too; should this process die outright, the
    # server stops by itself (it watches CULTURESIM_UI_PARENT). The server is stopped with
    # SIGINT: uvicorn re-raises the signal it stopped for, and SIGTERM's would end the process
    # before Python's exit handlers release the workers' locks (a "leaked semaphore" warning).
    # A signal this process ignores stays ignored: `nohup culturesim ui` outlives its terminal.
    # A server not stopped STOP_WAIT seconds after it was asked is killed (_wait_for).
    # It starts with SIGINT blocked, so that a stop sent before it can take one waits for it
    # (culturesim.ui.serve unblocks SIGINT once its handler is in place). The handlers that
    # pass a stop on are in place before it starts: a SIGTERM in between (kill at once after
    # the start) ended this process alone, the server left to notice it had gone.
    asked: list[float] = []  # when the server was asked to stop
    started: list[subprocess.Popen] = []  # the server, once started
    passed: list[bool] = []  # a stop was passed on to it

    def stop(*_) -> None:
        asked.append(time.monotonic())
        if started:
            passed.append(True)
            started[0].send_signal(signal.SIGINT)

    stopping = [
        sig for sig in (signal.SIGTERM, signal.SIGHUP) if signal.getsignal(sig) != signal.SIG_IGN
    ]
    previous = {sig: signal.signal(sig, stop) for sig in stopping}
    try:
        blocking = hasattr(signal, "pthread_sigmask")
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if blocking else None
        try:
            started.append(subprocess.Popen(cmd, env=env, start_new_session=True))
        finally:
            if blocking:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        server = started[0]
        if asked and not passed:  # asked while it started: passed on now
            server.send_signal(signal.SIGINT)
        if remembered():  # a SIGTERM that came before, swallowed where it landed
            raise KeyboardInterrupt
        return _wait_for(server, asked)
    except KeyboardInterrupt:
        if not started:  # stopped before the server started: nothing to stop
            print("culturesim UI: stopped", file=sys.stderr)
            return INTERRUPTED
        server = started[0]
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        print("culturesim UI: stopped", file=sys.stderr)
        return INTERRUPTED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


#: Seconds ``culturesim ui`` gives its server to stop before killing it.
STOP_WAIT = 20


def _wait_for(server: subprocess.Popen, asked: list[float]) -> int:
    """Wait for ``server`` to end; return its status, or 1 once it had to be killed.

    Args:
        server: The server process.
        asked: When it was asked to stop (:func:`time.monotonic`), filled in meanwhile by a
            signal handler; it is killed :data:`STOP_WAIT` seconds after the first.
    """
    while True:
        try:
            return server.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            if asked and time.monotonic() - asked[0] > STOP_WAIT:
                server.kill()
                server.wait()
                print(f"culturesim UI: stopped (killed after {STOP_WAIT} s)", file=sys.stderr)
                return 1


#: ``--host`` values that serve on every address of the machine.
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def _url(host: str, port: int) -> str:
    """The page's address on ``host`` (an IPv6 address in brackets, as URLs write it)."""
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _lan_address() -> str | None:
    """This machine's address on its network (the one its default route leaves by), or None.

    Connecting a UDP socket sends nothing: it only asks the system which address it would
    send from. With no route (no network), the host name's address if that is not loopback.
    """
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # a documentation address (RFC 5737): nothing is sent
        return s.getsockname()[0]
    with contextlib.suppress(OSError):
        address = socket.gethostbyname(socket.gethostname())
        if not address.startswith("127."):
            return address
    return None


def _check_free(host: str, port: int) -> None:
    """Raise :class:`UsageError` if the server could not listen on ``host``:``port``.

    Binds and releases a socket as the server will (with ``SO_REUSEADDR``, as uvicorn does,
    so a port left in TIME_WAIT by a server just stopped counts as free).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            in_use = exc.errno == errno.EADDRINUSE
            hint = (
                " (is the UI already running? --port chooses another; `make demo PORT=N`)"
                if in_use
                else ""
            )
            raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror}{hint}") from None


def cmd_levers(args: argparse.Namespace) -> int:
    """List the levers with unit, range, default, help and cost."""
    ctx = starting_context(load_scenario("baseline"))
    for lv in LEVERS.values():
        lo, hi, default = map(exact_number, (lv.lo, lv.hi, lv.default))
        print(f"{lv.name:26} {lo} to {hi} (default {default}) {lv.unit}")
        cost = lv.cost_text(lv.default, ctx)
        print(_wrapped(f"{lv.help} Cost at the default, in the baseline: {cost}.", "", 27))
    return 0


def _wrapped(text: str, first: str, indent: int) -> str:
    """``text`` after ``first`` (padded to ``indent``), wrapped to the terminal's width.

    Lines run under the first one's text, at least 40 characters of it a line however narrow
    the terminal; a pipe or a file gets the width of 100 columns.
    """
    width = max(shutil.get_terminal_size((100, 24)).columns, indent + 40)
    return textwrap.fill(
        text, width, initial_indent=first.ljust(indent), subsequent_indent=" " * indent,
        break_long_words=False, break_on_hyphens=False,
    )  # fmt: skip


def cmd_show(args: argparse.Namespace) -> int:
    """Print a scenario with every key, what it means and what is allowed.

    A compare folder's manifest holds two scenarios: ``--arm`` picks A or B.
    """
    recorded = _recorded(args.scenario, "compare")
    if recorded is not None:
        if args.arm is None:
            raise UsageError(
                f"show: {args.scenario} holds two scenarios, as compare ran them: "
                "pick one with --arm a or --arm b"
            )
        scenario = _from_record(args.scenario, recorded, args.arm, args.set, "--set")[0]
    elif args.arm is not None:
        raise UsageError(
            f"show: --arm picks A or B of a compare folder's manifest.json; "
            f"{args.scenario} is not one"
        )
    else:
        scenario = _scenario(args.scenario, args.set)[0]
    text = commented_toml(scenario)
    print(toml_escaped(text, sys.stdout.encoding), end="")
    return 0


def toml_escaped(text: str, encoding: str | None) -> str:
    r"""``text`` with each character ``encoding`` cannot write as TOML's ``\uXXXX`` escape.

    Where the output is ASCII or Latin-1 (a locale, Windows' code page when piped), a name or
    description in another script would otherwise be ``\xNN``, which TOML does not read. In
    the scenario's strings, where such text is, the escape means the same character, so
    ``culturesim show`` still loads back to the same scenario (in a comment it is only text).
    """
    if not encoding:
        return text

    def escaped(ch: str) -> str:
        try:
            ch.encode(encoding)
        except UnicodeEncodeError:
            return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
        return ch

    return "".join(ch if ch.isascii() else escaped(ch) for ch in text)


def cmd_kpis(args: argparse.Namespace) -> int:
    """List the KPIs with unit and meaning."""
    for k in KPIS.values():
        print(_wrapped(f"[{k.unit}] {k.help}", k.name, 29))
    return 0


def _scenario_arguments(parser: argparse.ArgumentParser) -> None:
    """A command's SCENARIO and its ``--set`` changes (``run``, ``show``)."""
    parser.add_argument(
        "scenario",
        metavar="SCENARIO",
        help="scenario file or name, or a run's results manifest.json (the scenario as it ran)",
    )
    parser.add_argument(
        "--set", type=_setting, action="append", metavar="KEY=VALUE", help=_SET_HELP
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``culturesim`` command."""
    parser = argparse.ArgumentParser(
        prog="culturesim",
        description="Simulate culture dynamics in a young AI company.",
    )
    parser.add_argument("--version", action="version", version=f"culturesim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.set_defaults(commands=sub.choices)  # for _main's word on a mistyped one
    run = sub.add_parser(
        "run",
        help="run a scenario for several seeds and summarise the KPIs",
        description=(
            "Run SCENARIO (a TOML file, or the name of one in scenarios/) for N seeds "
            "(meta.seed, meta.seed+1, ..., up to 2**63 - 1) and print each KPI at months 12, 36 "
            "and 60 (those within the horizon, and the horizon's last month) as median "
            f"[10%, 90%] over seeds ({TOTALS_NOTE}); the seeds run in threads, one per core "
            "(as memory allows). --set changes the scenario for this run, e.g. "
            "--set levers.innovation_time=0.2 (the manifest records the scenario as run, and "
            "given as SCENARIO runs it again, for its seeds and months). "
            "With --out, also write runs.parquet, timeseries.parquet, manifest.json and "
            "dashboard.png into DIR."
        ),
    )
    _scenario_arguments(run)
    run.add_argument(
        "--seeds", type=_whole(1, MAX_SEEDS), metavar="N",
        help=f"seeds, 1-{MAX_SEEDS:,} (default 10; a run's manifest.json as SCENARIO: as many as "
        "it ran)",
    )  # fmt: skip
    run.add_argument(
        "--months",
        type=_months,
        default=None,
        metavar="M",
        help=f"months, 1-{MAX_MONTHS} (default meta.months; a run's manifest.json: its months)",
    )
    run.add_argument(
        "--out",
        type=_folder,
        metavar="DIR",
        help="write results, manifest.json and a dashboard PNG here",
    )
    run.set_defaults(func=cmd_run)
    val = sub.add_parser(
        "validate",
        help="check scenario and experiment files",
        description=(
            "Check scenario and experiment files (a file with an [experiment] table, or a "
            "sweep's manifest.json, is an experiment; its scenario is checked too, and every "
            "design point as its runs take it): exit 0 if all are valid, else 2, one line per "
            "problem."
        ),
    )
    val.add_argument("files", nargs="+", metavar="FILE")
    val.set_defaults(func=cmd_validate)
    sweep = sub.add_parser(
        "sweep",
        help="run an experiment: design points x replications, resumable",
        description=(
            "Run every design point of EXPERIMENT (grid, lhs, sobol or morris) for each "
            "replication, replication r with seed experiment.seed + r at every point (at most "
            "2**63 - 1); every point is checked first, as validate does. Finished "
            "runs are written as they finish, so an interrupted sweep continues with --resume "
            "(one sweep at a time writes a folder); the results are runs.parquet, "
            "timeseries.parquet and manifest.json in DIR (a run that fails is recorded there "
            "with its error, the sweep says how many did, and it exits 1). A sweep's "
            "manifest.json as EXPERIMENT runs that sweep again (its experiment and scenario as "
            "they ran): the same numbers; so does the manifest.json of its report or indices "
            "written elsewhere (report --out, analyze --out)."
        ),
    )
    sweep.add_argument(
        "experiment", metavar="EXPERIMENT",
        help="experiment TOML file, or a sweep folder's manifest.json",
    )  # fmt: skip
    sweep.add_argument("--out", type=_folder, required=True, metavar="DIR", help="results folder")
    where = sweep.add_mutually_exclusive_group()  # a Dask cluster's workers are its own
    where.add_argument(
        "--workers", type=_positive, default=None, metavar="N",
        help="1 runs in this process; N local processes (default: one per core, as many as "
        "memory holds)",
    )  # fmt: skip
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://127.0.0.1:8786 (its workers need this culturesim and "
        "its packages: they are asked first; with no worker, the sweep waits and says so)",
    )
    sweep.add_argument("--resume", action="store_true", help="continue an interrupted sweep")
    sweep.add_argument(
        "--replications", type=_positive, metavar="R", help="override the experiment's replications"
    )
    sweep.add_argument(
        "--months",
        type=_months,
        metavar="M",
        help=f"override the experiment's months (1-{MAX_MONTHS})",
    )
    sweep.set_defaults(func=cmd_sweep)
    cmp = sub.add_parser(
        "compare",
        help="paired comparison of two scenarios",
        description=(
            "Run scenarios A and B with the same seeds (common random numbers) and print each "
            "KPI at months 12, 36 and 60 (those within the horizon, and the horizon's last "
            "month): A, B and B - A with a 95% confidence interval over the paired "
            f"differences ({TOTALS_NOTE}); then, in plain words as the strategist page "
            "says it, B against A at the horizon for a few KPIs (costs summed over the "
            "months simulated: what B spends against A; net cash flow: revenue less costs, "
            "B's spending net of its earning), a note where B raised clearly more or less "
            "funding than A (a round brought into the horizon or pushed past it: where B's "
            "cash stands before funding), and a line on reading its "
            "intervals together (one may miss by chance). B may be A changed: `culturesim "
            "compare baseline --set-b levers.innovation_time=0.2`. Both run A's horizon (or "
            "--months) and A's seeds, so that they pair. With --out, also write compare.csv, "
            "compare.png and manifest.json; that manifest.json as A runs its A and B again."
        ),
    )
    cmp.add_argument(
        "a", metavar="A",
        help="scenario A (file or name), or a compare folder's manifest.json (A and B as they ran)",
    )  # fmt: skip
    cmp.add_argument(
        "b", metavar="B", nargs="?", help="scenario B (file or name; default: A, with --set-b)"
    )
    cmp.add_argument(
        "--set-a", type=_setting, action="append", metavar="KEY=VALUE",
        help="change a key of A (repeatable), as run --set",
    )  # fmt: skip
    cmp.add_argument(
        "--set-b", type=_setting, action="append", metavar="KEY=VALUE",
        help="change a key of B (repeatable), as run --set",
    )  # fmt: skip
    cmp.add_argument(
        "--seeds", type=_whole(2, MAX_SEEDS), metavar="N",
        help=f"paired seeds, 2-{MAX_SEEDS:,}: the interval needs two (default 20; a manifest's: "
        "its own)",
    )  # fmt: skip
    cmp.add_argument(
        "--months", type=_months, metavar="M",
        help=f"1-{MAX_MONTHS} (default: A's meta.months; a manifest's: its own)",
    )  # fmt: skip
    cmp.add_argument(
        "--out",
        type=_folder,
        metavar="DIR",
        help="write compare.csv, compare.png and manifest.json here",
    )
    cmp.add_argument(
        "--charts", type=_kpi_names, metavar="KPI,...",
        help=f"the KPIs compare.png draws, a column each, six to a row (default: "
        f"{','.join(COMPARE_CHARTS)})",
    )  # fmt: skip
    cmp.set_defaults(func=cmd_compare)
    ana = sub.add_parser(
        "analyze",
        help="sensitivity indices of a sobol, morris or lhs sweep",
        description=(
            "Compute Sobol indices (S1, ST with confidence intervals), Morris effects (mu*, "
            "sigma) or, of a Latin hypercube, partial rank correlations (PRCC, Marino et al. "
            "2008, with the p-value of no correlation; at least D + 3 points for D "
            "parameters) of each output at the final month (a flow: its total over months "
            "1 to the final), "
            "averaged over replications, from a sweep "
            "folder; write sensitivity.csv and sensitivity.png there, and sensitivity.json, "
            "the code that computed them and the sweep's manifest's SHA-256. Outputs whose 95% "
            "confidence intervals are wider than +/-0.1 (of the largest mu* for Morris) are "
            "named in a note, with the samples that would narrow them to that (a Sobol "
            "interval wider than an index's range, 0 to 1: 16x the samples, a first step)."
        ),
    )
    ana.add_argument(
        "folder", type=_folder, metavar="DIR", help="a folder written by culturesim sweep"
    )
    ana.add_argument(
        "--out",
        type=_folder,
        metavar="OUT",
        help="write them here instead, with a manifest.json recording the sweep (for a sweep "
        "folder you cannot or would not write in)",
    )
    ana.set_defaults(func=cmd_analyze)
    rep = sub.add_parser(
        "report",
        help="figures and a Markdown summary of a sweep",
        description=(
            "Write PNG figures (KPI time series with median and 10-90% bands per design point, "
            "or past 8 points per value of the first parameter with 2-8 values, the rest pooled; "
            "response curves for grid sweeps, each value's mean and 95% t interval over the "
            "replications; scatters for sampled ones; sensitivity bars for "
            "sobol, morris and lhs) and report.md, which includes the manifest (and a table of the "
            "indices of a sobol, morris or lhs sweep), into a sweep folder. "
            "Parameters show as the runs took them (a sampled head count as a whole number); "
            "a grid's one-value lists are named in the figures' titles, not drawn."
        ),
    )
    rep.add_argument(
        "folder", type=_folder, metavar="DIR", help="a folder written by culturesim sweep"
    )
    rep.add_argument(
        "--out",
        type=_folder,
        metavar="OUT",
        help="write them here instead, with a manifest.json recording the sweep (for a sweep "
        "folder you cannot or would not write in)",
    )
    rep.set_defaults(func=cmd_report)
    dock = sub.add_parser(
        "dock",
        help="dock the classic models to their published results",
        description=(
            "Run the classic models (Axelrod, Bass, Deffuant, Hegselmann-Krause, March, "
            "Harrison-Carroll), and the company model's own processes with the others switched "
            "off (core (a)-(d)), over replications and print, for each check: model, published "
            "result, reproduced value, tolerance, pass/fail. Exit 1 if a check fails."
        ),
    )
    dock.add_argument("--quick", action="store_true", help="fewer replications (a smoke test)")
    dock.add_argument("--json", action="store_true", help="print the table as JSON")
    dock.add_argument(
        "--figures",
        type=_folder,
        metavar="DIR",
        help="also draw the docking figures (PNG) into DIR, with a manifest.json",
    )
    dock.set_defaults(func=cmd_dock)
    ui = sub.add_parser(
        "ui",
        help="serve the web UI (strategist what-if page and classroom page)",
        description=(
            "Start the Solara web UI: the strategist's what-if page at / and the classroom page "
            "at /classroom. It binds 127.0.0.1 (this machine only) unless --host says otherwise; "
            "every browser session has its own state. A port in use is reported (exit 2) before "
            "anything starts. Settings larger than --max-employees and --max-users, or with "
            f"more than {UI_MAX_EVENTS} events, are refused in the page with a message (any "
            "valid scenario runs with `culturesim run`)."
        ),
    )
    ui.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; 0.0.0.0 serves other machines too, and the "
        "address they open is printed)",
    )
    ui.add_argument("--port", type=_whole(1, 65535), default=8765, help="port (default 8765)")
    ui.add_argument(
        "--max-employees",
        type=_whole(1, MAX_HEADCOUNT),
        default=UI_MAX_EMPLOYEES,
        metavar="N",
        help="largest headcount a setting may plan by its horizon "
        f"(founding staff, mergers and new sites, grown; default {UI_MAX_EMPLOYEES:,})",
    )
    ui.add_argument(
        "--max-users",
        type=_whole(0, MAX_POTENTIAL_USERS),
        default=UI_MAX_USERS,
        metavar="N",
        help=f"largest market.potential_users a setting may have (default {UI_MAX_USERS:,})",
    )
    ui.set_defaults(func=cmd_ui)
    show = sub.add_parser(
        "show",
        help="print a scenario with every key explained (a start for your own)",
        description=(
            "Print SCENARIO (a TOML file, or the name of one in scenarios/) as TOML with every "
            "key, defaults included, each under a comment saying what it means and what values "
            "are allowed, and the event kinds at the end. It loads back to the same scenario: "
            "`culturesim show baseline > mine.toml` starts a scenario of your own (with "
            "--set, the scenario changed). A run's manifest.json gives its scenario as it ran; "
            "a compare folder's gives A or B, as --arm says."
        ),
    )
    _scenario_arguments(show)
    show.add_argument(
        "--arm",
        choices=["a", "b"],
        type=str.lower,
        help="with a compare folder's manifest.json: scenario A or B, as it ran",
    )
    show.set_defaults(func=cmd_show)
    sub.add_parser(
        "levers",
        help="list the policy levers",
        description="List the levers: range, default, what each does and what it costs a month "
        "at its default in the baseline (for its starting staff, where the cost grows with the "
        "company).",
    ).set_defaults(func=cmd_levers)
    sub.add_parser("kpis", help="list the KPIs", description="List the KPIs.").set_defaults(
        func=cmd_kpis
    )
    return parser


#: Matplotlib's warning for a character its fonts lack, at each drawing: for the names culturesim
#: draws, :func:`culturesim.plots.fonts_for` has given one notice naming them all.
_MISSING_GLYPH = re.compile(r"Glyph \d+ \(.*\) missing from (current )?font")  # 3.8: current


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Show culturesim's own warnings as one line, others as Python does."""
    if issubclass(category, (Notice, KernelCacheWarning)):
        print(f"culturesim: warning: {message}", file=sys.stderr if file is None else file)
    elif issubclass(category, UserWarning) and _MISSING_GLYPH.match(str(message)):
        return
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


#: Those of them that say a disk or a quota is full.
FULL = (errno.ENOSPC, errno.EDQUOT)
#: What Python's ``tempfile`` says (a FileNotFoundError) when no folder for temporary files can
#: be written in.
NO_TEMPORARY_FOLDER = "No usable temporary directory found in "
#: Errors of a process (or system) out of file descriptors: its limit, not the input, is short.
FILE_LIMIT_ERRORS = (errno.EMFILE, errno.ENFILE)


def _file_limit(exc: OSError) -> str:
    """What to say when the open-file limit is reached: the limit, and how to raise it."""
    try:
        import resource

        limit = f", {resource.getrlimit(resource.RLIMIT_NOFILE)[0]} here"
    except (ImportError, OSError, ValueError):  # not POSIX
        limit = ""
    return f"{_file_error(exc)}: raise the limit on open files (`ulimit -n`{limit})"


def _cannot_write(exc: OSError, folder: object) -> str:
    """What to say when the disk a command writes to fails it: where, what, and what to do.

    Args:
        exc: One of :data:`DISK_ERRORS`.
        folder: The folder the command writes in (its ``--out``, a report's sweep folder), or
            None.
    """
    where = f" in {folder}" if folder else ""
    space = exc.errno in FULL
    named = exc.filename and folder and Path(exc.filename) == Path(str(folder))
    said = os.strerror(exc.errno) if named else _file_error(exc)  # the folder said once
    return f"cannot write{where}: {said}" + (": free some space" if space else "")


def _file_error(exc: OSError) -> str:
    """A file system's error in words: what went wrong, and where when known."""
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{os.strerror(exc.errno)}{where}"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status.

    The manifests it writes record ``argv``; warnings print as one line while it runs. Both
    are as they were when it returns (to a notebook or a test calling it in-process).
    """
    shown = warnings.showwarning
    set_command_line(sys.argv[1:] if argv is None else argv)
    warnings.showwarning = _show_warning
    try:
        return _main(argv)
    finally:
        set_command_line(None)
        warnings.showwarning = shown


def _main(argv: list[str] | None) -> int:
    """:func:`main` once its command line is recorded."""
    parser = build_parser()
    given = sys.argv[1:] if argv is None else list(argv)
    if not given:  # `culturesim` alone: what it can do (as `git` alone says), not one line
        parser.print_help(sys.stderr)
        return 2
    commands = parser.get_default("commands")
    if not given[0].startswith("-") and given[0] not in commands:
        parser.error(  # exits 2, as argparse's own errors do
            f"no command {given[0]!r}{did_you_mean(given[0], commands)}; the commands: "
            f"{', '.join(commands)} (culturesim --help says what each does)"
        )
    args = parser.parse_args(given)
    # the commands write figures to files; never open a window. Matplotlib reads MPLBACKEND
    # when first imported, so commands that draw nothing do not import it (a third of a
    # second); an in-process caller may have imported it already
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("Agg")
    else:
        os.environ["MPLBACKEND"] = "Agg"
    try:
        return args.func(args)
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"culturesim: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: nothing half-written is left (see _output_folder)
        print("\nculturesim: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `culturesim kpis | head`: the reader has what it wanted
        # (Python's recipe: point stdout at devnull so that flushing it at exit is quiet too)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE  # as a program killed by SIGPIPE
    except OSError as exc:  # after BrokenPipeError, one of them
        if exc.errno in DISK_ERRORS:
            written = ("out", "figures", "folder")  # the --out, dock's --figures, report's DIR
            folder = next((x for name in written if (x := getattr(args, name, None))), None)
            said = _cannot_write(exc, folder)
        elif exc.errno in (errno.EACCES, errno.EPERM):  # another user's file or folder
            said = _file_error(exc)
        elif exc.errno in FILE_LIMIT_ERRORS:
            said = _file_limit(exc)
        elif str(exc.strerror).startswith(NO_TEMPORARY_FOLDER):
            # Python's tempfile found no folder to write in (a full disk): SALib's dill asks
            said = f"{exc.strerror}: free some space, or set TMPDIR to a folder that has room"
        else:
            raise
        notes = getattr(exc, "__notes__", [])  # what else may be done (report's --out)
        print(f"culturesim: {'; '.join([said, *notes])}", file=sys.stderr)
        return 1


def console() -> None:
    r"""The ``culturesim`` program (and ``python -m culturesim``): :func:`main`, then exit.

    After a Ctrl-C, once :func:`main` has cleaned up and said so, the program ends killed by
    SIGINT rather than with status 130, as Python ends after a ``KeyboardInterrupt`` nothing
    caught: a shell running it in a loop or script stops there (after an exit with 130 it goes
    on to its next command), and ``python -m culturesim`` ends the same way every time (Python
    itself ended it so now and then, when the Ctrl-C had landed in a string ``exec`` of an
    import such as a dataclass's methods). The kill comes after Python's other exit handlers
    (threads joined, files flushed), so nothing is cut short.

    SIGTERM (``timeout``, ``kill``, a batch system's ``scancel``, ``docker stop``) and SIGHUP (a
    closed terminal) stop it the same way, as a Ctrl-C would (no folder left empty, a sweep's
    workers shut down; :func:`~culturesim.interrupts.stop_on`, which also remembers a Ctrl-C
    from the start, so one Python swallowed during the imports still stops the runs), and it
    then ends killed by that signal; one it was started ignoring (``nohup``'s SIGHUP) stays
    ignored. Text stdout's encoding cannot show is escaped (``\xf6``), as on stderr. An
    interrupt Python swallowed where it landed (in a weakref callback) but that is remembered,
    and so stops the program all the same, is not reported with a traceback
    (:func:`~culturesim.interrupts.quiet_when_remembered`).
    """
    stopped_by: list[int] = []  # the signal the program ends by, if one stopped it
    atexit.register(_end_by_signal, stopped_by)  # registered first, so it runs last
    if os.name == "posix":
        stop_on((signal.SIGINT, signal.SIGTERM, signal.SIGHUP), stopped_by)
    quiet_when_remembered()
    # a name or path the output's encoding cannot show (an ASCII or Latin-1 locale, Windows'
    # code page when piped) is escaped, as Python's stderr does, not a traceback after the work
    with contextlib.suppress(AttributeError):  # a stream replaced by one without reconfigure
        sys.stdout.reconfigure(errors="backslashreplace")
    status = main()
    if status == INTERRUPTED and os.name == "posix" and not stopped_by:
        stopped_by.append(signal.SIGINT)
    sys.exit(status)


def _end_by_signal(stopped_by: list[int]) -> None:
    """At exit: end the process killed by the signal in ``stopped_by``, if one (:func:`console`)."""
    if not stopped_by:
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or terminal
            stream.flush()
    signal.signal(stopped_by[0], signal.SIG_DFL)
    os.kill(os.getpid(), stopped_by[0])


if __name__ == "__main__":
    console()
