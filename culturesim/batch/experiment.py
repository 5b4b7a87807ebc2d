"""Experiment files: a scenario, the parameters to vary, the design, replications and outputs.

::

    [experiment]
    name = "innovation_time_sweep"
    scenario = "../scenarios/baseline.toml"   # relative to this file
    design = "grid"            # grid | lhs | sobol | morris
    samples = 64               # lhs, sobol (base N), morris (trajectories)
    replications = 10
    months = 60
    seed = 2026
    outputs = ["launches", "attrition_rate_annual"]

    [parameters]
    "levers.innovation_time" = [0.0, 0.1, 0.2]          # grid: a list of values
    # lhs / sobol / morris: "levers.transparency" = { min = 0.0, max = 1.0 }

The ``manifest.json`` of a ``culturesim sweep`` folder is an experiment too: it records the
``[experiment]`` table, the parameters and the scenario as they ran, so a sweep runs again from
it with the same numbers (the scenario taken from the manifest, not from its file, which may
have changed since).

Problems raise :class:`ExperimentError`, one line each, naming the file and the key.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from culturesim.kpis import KPIS, check_names, did_you_mean
from culturesim.manifest import DERIVED
from culturesim.notices import Notice
from culturesim.scenario import (
    MAX_MONTHS,
    MAX_SEED,
    Scenario,
    ScenarioError,
    field_bounds,
    key_path,
    key_text,
    load_scenario,
    manifest_kind,
    missing_key,
    parse_json,
    parse_toml,
    read_file,
    scenario_from_dict,
    seeds_from,
    wrong_type,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DESIGNS",
    "Experiment",
    "ExperimentError",
    "Range",
    "as_run",
    "changes_as_run",
    "design_points",
    "is_whole",
    "load_experiment",
    "run_changes",
    "whole_numbers",
]

DESIGNS = ("grid", "lhs", "sobol", "morris")
#: The most runs a sweep may have (design points x replications): it lists them all in memory
#: and keeps a file a run until it ends. A million runs of the baseline are some 100 core-hours.
MAX_RUNS = 1_000_000
#: The most values timeseries.parquet may hold (runs x (months + 1) x (outputs + 2 columns)):
#: the sweep gathers them in memory as it ends, 8 bytes each and as much again as it writes
#: them (4 GB at the limit). A grid of four levers at 50-100 values each asked for 500 billion
#: runs, was counted and validated, and filled the memory as the sweep listed its points.
MAX_TIMESERIES_VALUES = 250_000_000


class ExperimentError(ScenarioError):
    """An experiment file that cannot be used (one line per problem, naming the key)."""


class Range(BaseModel):
    """Bounds of a parameter for sampled designs."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    min: float
    max: float


class Settings(BaseModel):
    """The ``[experiment]`` table."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = "experiment"
    scenario: str = Field(
        description="The scenario it varies: a file (relative to this one) or a shipped "
        "scenario's name, as baseline"
    )
    design: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: int = Field(16, ge=1, le=100_000)
    replications: int = Field(1, ge=1, le=10_000)
    months: int | None = Field(None, ge=1, le=120)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    outputs: list[str] = Field(default_factory=lambda: list(KPIS))

    @field_validator("outputs")
    @classmethod
    def _known(cls, outputs: list[str]) -> list[str]:
        """KPI names, checked with the table's other keys (so said with their problems)."""
        check_names(outputs)
        return outputs


class Experiment(BaseModel):
    """A validated experiment, with its scenario loaded.

    Attributes:
        settings: The ``[experiment]`` table.
        parameters: Dotted scenario path -> list of values (grid; numbers, text or booleans)
            or :class:`Range` (sampled designs; numeric fields).
        scenario: The scenario the parameters vary.
        source: The file the experiment came from.
        digest: SHA-256 of the experiment file's bytes.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    settings: Settings
    parameters: dict[str, list[bool | int | float | str] | Range]  # each value as written
    scenario: Scenario
    source: str = "<dict>"
    digest: str = ""

    @property
    def months(self) -> int:
        """Months per run (the experiment's, else the scenario's horizon)."""
        return self.settings.months or self.scenario.meta.months

    @property
    def design_size(self) -> int:
        """How many design points :func:`design_points` makes.

        Grid: the product of the lists' lengths; LHS: ``samples``; Sobol (no second order):
        ``samples x (D + 2)``; Morris: ``samples x (D + 1)``, for D parameters. Counted without
        building the design (the samplers are slow to import).
        """
        n, d = self.settings.samples, len(self.parameters)
        design = self.settings.design
        if design == "grid":
            return math.prod(len(values) for values in self.parameters.values())
        return {"lhs": n, "sobol": n * (d + 2), "morris": n * (d + 1)}[design]

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if problems := _shape_problems(self.settings.design, self.settings.samples,
                                       self.parameters):  # fmt: skip
            raise ValueError("\n".join(problems))
        seeds_from(self.settings.seed, self.settings.replications, "experiment.seed",
                   "replications")  # fmt: skip
        points, reps = self.design_size, self.settings.replications
        if points * reps > MAX_RUNS:
            raise ValueError(
                f"experiment: {points * reps:,} runs ({points:,} design points x {reps:,} "
                f"replications); at most {MAX_RUNS:,} allowed"
            )
        rows, columns = points * reps * (self.months + 1), len(self.settings.outputs) + 2
        if rows * columns > MAX_TIMESERIES_VALUES:
            raise ValueError(
                f"experiment.outputs: the results would hold {rows * columns:,} values "
                f"({points * reps:,} runs x {self.months + 1} months, 0 to {self.months}, x "
                f"{columns} columns: "
                f"run_id, month and {columns - 2} outputs); at most {MAX_TIMESERIES_VALUES:,} "
                "allowed, gathered in memory as the sweep ends: fewer runs, months or outputs"
            )
        return self


def is_whole(scenario: dict, key: str) -> bool:
    """Whether ``key`` of ``scenario`` (plain data) holds a whole number: a head count, a month.

    Args:
        scenario: The scenario as plain data (:meth:`Scenario.to_dict`).
        key: A dotted scenario key (events by position).
    """
    node: Any = scenario
    try:
        for part in key_path(key):  # tables by key, the events by position
            node = node[int(part)] if isinstance(node, list) else node[part]
    except (KeyError, IndexError, ValueError, TypeError):
        return False  # no such key: the scenario's check names it
    return isinstance(node, int) and not isinstance(node, bool)


def whole_numbers(lo: float, hi: float) -> tuple[int, int]:
    """The first and last whole numbers from ``lo`` to ``hi`` (first > last if there is none)."""
    return math.ceil(lo), math.floor(hi)


def as_run(value: float, bounds: Range) -> int:
    """A sampled ``value`` of a whole-number key as a run takes it.

    ``[min, max]`` is cut into as many equal cells as it holds whole numbers, and a value in the
    k-th cell runs the k-th of them, so a design that samples the range evenly runs each whole
    number equally often (``{ min = 1, max = 3 }``: 1, 2 and 3 a third of the time each;
    rounding to the nearest ran the two ends half as often as the others).

    Args:
        value: The design's value (within ``bounds``).
        bounds: The parameter's range (holding a whole number: see :func:`whole_numbers`).
    """
    first, last = whole_numbers(bounds.min, bounds.max)
    cells = last - first + 1
    share = (float(value) - bounds.min) / (bounds.max - bounds.min)
    return first + min(max(math.floor(share * cells), 0), cells - 1)


def design_points(exp: Experiment) -> pd.DataFrame:
    """Return the design: one row per point (index ``point``), one column per parameter.

    Grid: the full factorial of the listed values. LHS: ``scipy.stats.qmc.LatinHypercube``.
    Sobol: ``SALib.sample.sobol`` (Saltelli, no second order: N x (D + 2) points). Morris:
    ``SALib.sample.morris`` (N trajectories x (D + 1) points). Samplers are seeded with the
    experiment's seed.
    """
    import pandas as pd

    names = list(exp.parameters)
    design, n, seed = exp.settings.design, exp.settings.samples, exp.settings.seed
    if design == "grid":
        rows = list(itertools.product(*(exp.parameters[k] for k in names)))
        frame = pd.DataFrame(rows, columns=names)
    else:
        bounds = [[exp.parameters[k].min, exp.parameters[k].max] for k in names]
        if design == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(names), seed=seed).random(n)
            lo, hi = np.array(bounds).T
            values = lo + unit * (hi - lo)
        else:
            problem = {"num_vars": len(names), "names": names, "bounds": bounds}
            if design == "sobol":
                from SALib.sample import sobol

                with warnings.catch_warnings():  # load_experiment said so, in one line
                    warnings.filterwarnings("ignore", "The balance properties of Sobol")
                    values = sobol.sample(problem, n, calc_second_order=False, seed=seed)
            else:
                from SALib.sample import morris

                values = morris.sample(problem, n, seed=seed)
        frame = pd.DataFrame(values, columns=names)
    frame.index.name = "point"
    return frame


def run_changes(exp: Experiment, values: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The changes each design point's runs make to the scenario: its values, as runs take them.

    A sampled value of a whole-number key (a head count, an event's month) runs as a whole
    number, each within the parameter's range equally often
    (:func:`culturesim.batch.experiment.as_run`); ``runs.parquet`` keeps the value as sampled,
    which the indices use.

    Args:
        exp: The experiment.
        values: Each point's values (``design_points(exp).to_dict("index")``).
    """
    return changes_as_run(exp.scenario.to_dict(), exp.parameters, values)


def changes_as_run(
    scenario: dict, parameters: dict[str, Any], values: dict[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """:func:`run_changes` from plain data: a sweep manifest's ``scenario`` and ``parameters``.

    Args:
        scenario: The scenario the parameters vary (plain data).
        parameters: Each parameter's list of values (a grid) or range (a :class:`Range`, or
            its ``min`` and ``max`` as a manifest records them).
        values: Each point's values.
    """
    whole = {
        key: spec if isinstance(spec, Range) else Range(**spec)
        for key, spec in parameters.items()
        if isinstance(spec, Range | dict) and is_whole(scenario, key)
    }
    return {
        point: {key: as_run(v, whole[key]) if key in whole else v for key, v in row.items()}
        for point, row in values.items()
    }


def _event_of(key: str) -> int | None:
    """The position of the event whose month ``key`` names (``events.0.month``), else None."""
    parts = key_path(key)
    is_month = len(parts) == 3 and parts[0] == "events" and parts[2] == "month"
    return int(parts[1]) if is_month and parts[1].isdigit() else None


def _dotted(table: dict[str, Any], prefix: str = "") -> tuple[dict[str, Any], list[str]]:
    """``[parameters]`` keyed by dotted paths, and the problems found (a key given twice).

    Unquoted, ``levers.innovation_time = [0.1, 0.2]`` is in TOML a table ``levers`` holding
    ``innovation_time``; quoted, one key with a dot. Both name the same scenario key: a table
    is read as the keys it holds, unless it is a range (it has ``min`` or ``max``).
    """
    flat: dict[str, Any] = {}
    problems = []
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not {"min", "max"} & set(value):
            inner, more = _dotted(value, f"{path}.")
            problems += more
        else:
            inner = {path: value}
        for name, spec in inner.items():
            if name in flat:
                problems.append(
                    f"parameters.{name}: given twice (quoted and as a table); vary each key once"
                )
            flat[name] = spec
    return flat, problems


def _late_events(scenario: Scenario, months: int, parameters: dict) -> list[str]:
    """The scenario's events after the runs' last month (that no parameter moves): problems.

    Such an event would never happen in any run, which is never what an experiment means.
    """
    moved = {_event_of(key) for key in parameters}
    return [
        f"experiment.months: the runs end at month {months}, before the scenario's events[{i}] "
        f"({event.kind} at month {event.month}), which would never happen: run {event.month} "
        f"months or more, or vary events.{i}.month"
        for i, event in enumerate(scenario.events)
        if event.month > months and i not in moved
    ]


def _shape_problems(design: str | None, samples: int | None, parameters: dict) -> list[str]:
    """What is wrong with the parameters' shape for the design, a line each (or none).

    At most one line a parameter (its first problem), so that every parameter is said at once.
    ``design`` or ``samples`` is ``None`` where the ``[experiment]`` table's own is invalid
    (said with that table's problems): the checks that need it are left out. A range may be a
    :class:`Range` or, as read from the file, a table with ``min`` and ``max``.
    """
    problems = []
    if design in ("sobol", "morris") and samples is not None and samples < 2:
        problems.append(
            f"experiment.samples: value {samples} out of range; {design} needs 2 or more (its "
            "confidence intervals are bootstrapped over the samples"
            + (", its sigma a spread over them)" if design == "morris" else ")")
        )
    spelled: dict[tuple[str, ...], str] = {}  # a key by its parts: events.0 is events[0]
    for path, spec in parameters.items():
        bounds = spec.model_dump() if isinstance(spec, Range) else spec
        is_range = isinstance(bounds, dict) and set(bounds) == {"min", "max"}
        numbers = is_range and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in bounds.values()
        )
        if (first := spelled.setdefault(tuple(key_path(path)), path)) != path:
            problem = f'the same key as "{first}"; vary each key once'
        elif key_path(path)[0] == "meta":
            problem = (
                "an experiment does not vary meta: a run's seed is experiment.seed + its "
                "replication, its months experiment.months"
            )
        elif design == "grid" and not isinstance(spec, list):
            problem = "a grid needs a list of values"
        elif design not in (None, "grid") and not isinstance(bounds, dict):
            problem = f"design {design!r} needs {{ min, max }}"
        elif isinstance(spec, list) and not spec:
            problem = "the list of values is empty"
        elif isinstance(spec, list) and (twice := [v for i, v in enumerate(spec) if v in spec[:i]]):
            problem = (
                f"value {twice[0]!r} is listed twice (a grid runs each value once; "
                "experiment.replications repeats runs)"
            )
        elif numbers and not bounds["min"] < bounds["max"]:
            problem = f"min {bounds['min']:g} must be below max {bounds['max']:g}"
        else:
            continue
        problems.append(f"parameters.{path}: {problem}")
    if not parameters:
        problems.append("parameters: at least one parameter is needed")
    return problems


def _invalid_points(exp: Experiment) -> list[str]:
    """The design points that make no valid scenario, as a problem (or none).

    Each parameter's values were checked alone, in the scenario (but for a rule with other
    varied keys only, left to this check); values valid alone can break a rule between keys
    together (``market.initial_active_users`` over ``market.potential_users``, founding staff
    and a merger's headcount over the limit). Every point is checked as its runs take
    it, so that a sweep does not find a bad point hours in, as a failed run whose design the
    indices then cannot use.
    """
    points = design_points(exp)
    bad, first = 0, None
    for start in range(0, len(points), 10_000):  # a chunk at a time: a million points fit
        ran = run_changes(exp, points.iloc[start : start + 10_000].to_dict("index"))
        for point, changes in ran.items():
            try:
                exp.scenario.with_changes({**changes, "meta.months": exp.months})
            except ScenarioError as exc:
                bad += 1
                first = first or (point, changes, exc.problems[0])
    if first is None:
        return []
    point, changes, problem = first
    values = ", ".join(
        f"{key} = {value:g}" if isinstance(value, float) else f"{key} = {value!r}"
        for key, value in changes.items()
    )
    some = (
        f"{bad:,} of {len(points):,} design points make"
        if bad > 1
        else (f"1 of {len(points):,} design points makes")
    )
    which = "the first, point" if bad > 1 else "point"
    return [
        f"parameters: {some} no valid scenario; {which} {point} ({values}): {problem}. The "
        "values are allowed one by one, not together: narrow the "
        f"{'lists' if exp.settings.design == 'grid' else 'ranges'}"
    ]


def _message(err: dict, model: type[BaseModel] | None = None) -> str:
    """Pydantic's error ``err`` in words; ``model`` is the one whose field ``err`` names."""
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function"))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "literal_error":
        hint = did_you_mean(err["input"], DESIGNS)  # the only choice of names an experiment has
        return f"{loc}: {err['input']!r} is not allowed{hint}; {msg.lower()}"
    if err["type"] == "extra_forbidden":  # in [experiment], or a parameter's { min, max }
        keys = list((Range if "parameters" in err["loc"] else Settings).model_fields)
        hint = did_you_mean(err["loc"][-1], keys) if err["loc"] else ""
        return f"{loc}: unknown key{hint}; allowed keys: {', '.join(keys)}"
    if err["type"] in ("greater_than_equal", "less_than_equal"):  # as a scenario's are said
        name = err["loc"][-1] if err["loc"] else None
        bounds = field_bounds(model, name) if model and name in model.model_fields else ""
        return f"{loc}: value {err['input']!r} out of range; {bounds or msg.lower()}"
    if err["type"] == "missing":  # as a scenario's are said: what the key is
        name = err["loc"][-1] if err["loc"] else None
        what = key_text(model, name) if model and name in model.model_fields else ""
        return missing_key(loc, what)
    if msg.startswith("Input should be ") and "input" in err:  # as a scenario's are said
        msg = wrong_type(err)
    return f"{loc}: {msg}" if loc else msg


def _from_manifest(raw: bytes, source: str) -> dict[str, Any]:
    """The experiment, parameters and scenario a sweep folder's ``manifest.json`` records.

    The manifest of ``analyze``'s or ``report``'s files written outside the sweep's folder
    holds the sweep's (``sweep``): it is read.

    Raises:
        ExperimentError: If ``raw`` is not JSON or not the manifest of a sweep.
    """
    manifest = parse_json(raw, source, ExperimentError)
    kind = manifest_kind(manifest)
    if kind in DERIVED and isinstance(manifest.get("sweep"), dict):
        manifest = manifest["sweep"]
        kind = manifest_kind(manifest)
    tables = ("experiment", "parameters", "scenario")
    if kind == "sweep" and all(isinstance(manifest.get(t), dict) for t in tables):
        return {t: manifest[t] for t in tables}
    what = f"the manifest of culturesim {kind}" if isinstance(kind, str) else "no manifest"
    hint = "; run it with `culturesim run`" if kind == "run" else ""
    raise ExperimentError(
        source,
        [f"{what}{hint}: a .json experiment is the manifest.json of a `culturesim sweep` "
         "results folder (it records the experiment as run); else give a TOML experiment file"],
    )  # fmt: skip


def load_experiment(path: str | Path, **overrides: Any) -> Experiment:
    """Load and validate an experiment file (its scenario path is relative to the file).

    ``~`` at the start of the scenario path is the user's home folder, as in a shell.

    Args:
        path: The experiment file, or the ``manifest.json`` of a sweep's folder (the
            experiment as it ran, its scenario included).
        overrides: Settings of the ``[experiment]`` table that replace the file's (the sweep
            command's ``--months`` and ``--replications``), checked as the file's are: the
            scenario's events and the parameters' event months must fall within the months.

    Raises:
        ExperimentError: If the file, its scenario or a parameter is invalid.
    """
    if not str(path).strip():  # no name at all: say so, not "a folder" (Path("") is ".")
        raise ExperimentError('""', ["no name: give an experiment file"])
    p = Path(path)
    if not p.is_file():
        raise ExperimentError(
            str(path),
            ["a folder, not a file" if p.is_dir() else
             "a pipe or a device, not a saved file: an experiment is read from its file (its "
             "scenario's path is relative to the file's folder)" if p.exists() else
             "no such file"],
        )  # fmt: skip
    raw = read_file(p, ExperimentError)
    recorded = _from_manifest(raw, str(p)) if p.suffix == ".json" else None
    data: dict[str, Any] = recorded or parse_toml(raw, str(p), ExperimentError)
    extra = set(data) - {"experiment", "parameters"} - set(recorded or ())
    if "experiment" not in data and extra & set(Scenario.model_fields):  # a scenario's tables
        raise ExperimentError(
            str(p),
            ["a scenario file, not an experiment: run it with `culturesim run`, or vary it "
             "from an experiment file (README: Experiments)"],
        )  # fmt: skip
    if extra:
        raise ExperimentError(
            str(p), [f"{sorted(extra)[0]}: unknown table; allowed: experiment, parameters"]
        )
    for table, holds in (
        ("experiment", "the scenario, design, samples, replications ..."),
        ("parameters", "a dotted scenario key = a list of values or { min, max } on each line"),
    ):
        if not isinstance(data.get(table, {}), dict):
            raise ExperimentError(
                str(p),
                [f"{table}: expected a table ([{table}]: {holds}), "
                 f"got {type(data[table]).__name__}"],
            )  # fmt: skip
    table = {**data.get("experiment", {}), **overrides}
    said: list[str] = []  # the [experiment] table's problems, said with the parameters'
    failed: set[str] = set()  # its keys that are invalid
    try:
        settings = Settings.model_validate(table)
    except ValidationError as exc:
        said = [f"experiment.{_message(e, Settings)}" for e in exc.errors()]
        failed = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        try:  # the table without them (their defaults), to check the parameters all the same
            settings = Settings.model_validate({k: v for k, v in table.items() if k not in failed})
        except ValidationError:  # the scenario itself is not named: nothing to check them in
            raise ExperimentError(str(p), said) from None
    n = settings.samples  # (no notices about a table not valid yet: its problems come first)
    if not said and settings.design == "sobol" and n & (n - 1):
        warnings.warn(
            f"{p}: experiment.samples = {n}: Sobol' points are balanced only when it is a "
            f"power of 2 ({2 ** (n.bit_length() - 1)} or {2 ** n.bit_length()}); the indices "
            "converge more slowly",
            Notice,
            stacklevel=2,
        )
    if not said and settings.design == "grid" and recorded is None and "samples" in table:
        warnings.warn(  # left from a sampled design, say: it changes nothing, which may surprise
            f"{p}: experiment.samples = {n} is not used: a grid runs every combination of its "
            "lists once (samples is for lhs, sobol and morris; replications repeats runs)",
            Notice,
            stacklevel=2,
        )
    # a path in a file: no shell expands its ~ (an absolute path stays as it is)
    scenario_path = (p.parent / Path(settings.scenario).expanduser()).resolve()
    name = Path(settings.scenario)
    # "baseline", not "x.toml" (and "" is no name, not the experiment's folder)
    bare = not settings.scenario.strip() or (str(name) == name.stem and not scenario_path.exists())
    parameters, problems = _dotted(data.get("parameters", {}))
    shape = _shape_problems(
        None if "design" in failed else settings.design,
        None if "samples" in failed else settings.samples,
        parameters,
    )
    shaped = {k for k in parameters if any(q.startswith(f"parameters.{k}: ") for q in shape)}
    try:  # a bare name not beside the file: a shipped scenario's (or a did-you-mean)
        if recorded:  # the scenario as it ran, whatever its file holds now
            scenario = scenario_from_dict(recorded["scenario"], source="the recorded scenario")
        else:
            scenario = load_scenario(settings.scenario if bare else scenario_path)
    except ScenarioError as exc:  # the parameters' shapes are said too: they need no scenario
        raise ExperimentError(
            str(p), [*said, f"experiment.scenario: {exc}", *problems, *shape]
        ) from None
    problems = [*said, *problems, *shape]
    months = settings.months or scenario.meta.months
    timed = "months" not in failed  # the runs' horizon is known: event months are checked
    if timed:
        problems += _late_events(scenario, months, parameters)
    # the runs' horizon is the experiment's: values are probed on the longest scenario (no
    # event is late there), event months against the runs' months below
    probed = scenario.with_changes({"meta.months": MAX_MONTHS})
    base = scenario.to_dict()
    varied = {tuple(key_path(key)) for key in parameters}
    for key, value in parameters.items():
        if key in shaped or key_path(key)[0] == "meta":
            continue  # its shape is wrong (said above), or meta (never varied)
        if isinstance(value, list) and (nested := [v for v in value if isinstance(v, list | dict)]):
            kind = "a list" if isinstance(nested[0], list) else "a table"
            problems.append(
                f"parameters.{key}: a grid's values are numbers, text or booleans, not {kind}; "
                'vary a key within it, an event\'s by its position ("events.0.month")'
            )
            continue
        if isinstance(value, list):
            probes = value
        elif isinstance(value, dict) and set(value) == {"min", "max"}:
            lo, hi = probes = [value["min"], value["max"]]
            numbers = all(isinstance(v, int | float) for v in probes)
            if numbers and lo < hi and is_whole(base, key):
                # a run takes a sampled value as a whole number within the range (as_run)
                first, last = probes = list(whole_numbers(lo, hi))
                if first > last:
                    problems.append(
                        f"parameters.{key}: takes whole numbers, and there is none from min "
                        f"{lo:g} to max {hi:g}"
                    )
                    continue
        else:
            problems.append(f"parameters.{key}: expected a list of values or {{ min, max }}")
            continue
        for probe in probes:  # every listed value, or both bounds, must make a valid scenario
            try:
                probed.with_changes({key: probe})
            except ScenarioError as exc:
                broken = {tuple(key_path(q.partition(": ")[0])) for q in exc.problems}
                # a rule only with keys varied too (a smaller market, fewer active users): the
                # design points judge the values together (_invalid_points), not the scenario's
                if not broken <= varied - {tuple(key_path(key))}:
                    where, _, what = exc.problems[0].partition(": ")
                    if key_path(where) != key_path(key):  # the value breaks another key
                        what = f"with value {probe!r}, {exc.problems[0]}"
                    problems.append(f"parameters.{key}: {what}")
                    break
            if timed and _event_of(key) is not None and probe > months:  # a valid month
                problems.append(
                    f"parameters.{key}: value {probe} is past the runs' {months} months "
                    f"(experiment.months); allowed range 1 to {months}"
                )
                break
    if problems:
        raise ExperimentError(str(p), problems)
    try:
        exp = Experiment(
            settings=settings,
            parameters=parameters,
            scenario=scenario,
            source=str(p),
            digest=hashlib.sha256(raw).hexdigest(),
        )
    except ValidationError as exc:  # _consistent says its problems a line each
        lines = [line for e in exc.errors() for line in _message(e).splitlines()]
        raise ExperimentError(str(p), lines) from None
    if problems := _invalid_points(exp):
        raise ExperimentError(str(p), problems)
    return exp
