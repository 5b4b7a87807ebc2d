"""Scenario files: organization, market, levers, dynamics and events, validated with pydantic.

A scenario is a TOML file; it is everything a run needs to be reproduced (with a seed)::

    [meta]
    name = "baseline"
    months = 60
    seed = 0

    [organization]
    employees = 120

    [levers]
    innovation_time = 0.2

    [[events]]
    month = 24
    kind = "set_lever"
    lever = "transparency"
    value = 0.8

Unknown keys, wrong types (strictly: ``"0.2"`` is text, ``true`` no number, ``12.0`` no head
count) and out-of-range values (every number has a finite range; TOML's ``inf`` and ``nan`` are
refused) raise :class:`ScenarioError`, whose lines name the file, the key and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import reprlib
import textwrap
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import numpy as np
import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from culturesim.kpis import did_you_mean
from culturesim.levers import LEVERS
from culturesim.manifest import DERIVED

__all__ = [
    "EVENT_DEFAULTS",
    "Dynamics",
    "Event",
    "LayoffEvent",
    "Levers",
    "Market",
    "Meta",
    "Organization",
    "Partners",
    "Scenario",
    "ScenarioError",
    "SetLeverEvent",
    "commented_toml",
    "compare_arm",
    "load_scenario",
    "manifest_kind",
    "scenario_from_dict",
    "scenario_from_manifest",
    "seeds_from",
]

_HERE = Path(__file__).resolve().parent
#: The shipped scenarios: ``scenarios/`` at the top of a checkout (and of an editable install);
#: an installed wheel carries them inside the package (see pyproject.toml).
SCENARIO_DIR = next(
    (d for d in (_HERE / "scenarios", _HERE.parent / "scenarios") if d.is_dir()),
    _HERE.parent / "scenarios",
)
MAX_MONTHS = 120
#: The most people a company may plan to have: founding employees plus mergers and new sites
#: (checked here), and the growth plan (it stops growing there, see processes/hiring.py). About
#: 1.1 KB of memory a person (600 MB at 355,000), so about 6 GB at the limit.
MAX_HEADCOUNT = 5_000_000
#: The most ties the users' network may hold (potential users x ties per user): about 37 bytes of
#: memory a tie at its peak (1.5 GB for 40 million), so about 7 GB at the limit.
MAX_USER_TIES = 200_000_000
MAX_POTENTIAL_USERS = 10_000_000
#: The largest seed: a run's seed is a whole number from 0 to 2**63 - 1, what a signed 64-bit
#: integer holds (the seed columns of the results' Parquet files).
MAX_SEED = 2**63 - 1


def seeds_from(first: int, count: int, key: str = "meta.seed", runs: str = "seeds") -> list[int]:
    """The seeds of ``count`` runs from ``first`` on: ``first``, ``first + 1``, ...

    Raises:
        ValueError: If the last one would pass :data:`MAX_SEED`, naming ``key`` (where
            ``first`` comes from) and the most it may be for ``count`` ``runs``.
    """
    if first + count - 1 > MAX_SEED:
        raise ValueError(
            f"{key}: value {first} with {count} {runs} (seeds {key} to {key} + {count - 1}) "
            f"passes the largest seed, {MAX_SEED}; allowed range 0 to {MAX_SEED - count + 1} "
            f"for {count} {runs}"
        )
    return [first + i for i in range(count)]


class ScenarioError(ValueError):
    """A scenario file or dict that cannot be used.

    Attributes:
        source: The file (or ``"<dict>"``) the scenario came from.
        problems: One human-readable line per problem, each naming the key.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))

    def __reduce__(self):
        # pickled as its two arguments: a run failing in a worker process sends it back (the
        # default, the message alone, could not be unpickled and broke the whole process pool)
        return type(self), (self.source, self.problems)


def parse_toml(data: bytes, source: str, error: type[ScenarioError] = ScenarioError) -> dict:
    """Return the tables of a TOML file's bytes; raise ``error`` naming ``source`` if it is none.

    The text must be UTF-8; a leading byte-order mark, which some Windows editors write, is
    allowed (TOML itself does not).

    Args:
        data: The file's bytes.
        source: The file's name, for the message.
        error: The error to raise (a :class:`ScenarioError` or a subclass).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            source,
            [f"not UTF-8 text (byte {data[exc.start]:#04x} at position {exc.start}); "
             "save it as UTF-8"],
        ) from None  # fmt: skip
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(source, [f"not valid TOML: {exc}"]) from None
    except RecursionError:  # Python's reader recurses per level: a traceback, before this
        raise error(source, [f"not valid TOML here: {TOO_DEEP}"]) from None


#: What a file nested deeper than Python's readers go is told.
TOO_DEEP = "arrays or tables nested too deeply (a few hundred levels) for Python to read"


def parse_json(data: bytes, source: str, error: type[ScenarioError] = ScenarioError) -> Any:
    """Return what a JSON file's bytes hold; raise ``error`` naming ``source`` if not JSON.

    Args:
        data: The file's bytes.
        source: The file's name, for the message.
        error: The error to raise (a :class:`ScenarioError` or a subclass).
    """
    try:
        return json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise error(source, [f"not valid JSON: {exc}"]) from None
    except RecursionError:
        raise error(source, [f"not valid JSON here: {TOO_DEEP}"]) from None


#: Levels of named values (the culture core, a team's or a region's values), each in [0, 1].
ValueTable = dict[str, Annotated[float, Field(ge=0.0, le=1.0)]]


class _Strict(BaseModel):
    # allow_inf_nan: TOML reads `inf` and `nan` as numbers; no key of a scenario means either
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False, strict=True
    )


class Meta(_Strict):
    """Name, description, horizon and seed."""

    name: str = Field("unnamed", description="Short name of the scenario.")
    description: str = Field("", description="What the scenario is about.")
    months: int = Field(
        60,
        ge=1,
        le=MAX_MONTHS,
        description=(
            "Horizon in months. The model is built for 36-60: past five years a fixed growth "
            "plan outruns a market that has levelled off (docs/ODD.md section 2)."
        ),
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Default random seed.")


class Organization(_Strict):
    """The company at month 0 and its plan."""

    employees: int = Field(120, ge=1, le=1_000_000, description="Initial headcount.")
    sites: int = Field(1, ge=1, le=50, description="Number of sites (offices or regions).")
    site_value_spread: float = Field(
        0.1,
        ge=0.0,
        le=0.5,
        description="Spread (sd) of each site's regional values around the pool's.",
    )
    age_months: int = Field(
        36,
        ge=0,
        le=120,
        description="Months since founding: the founders joined evenly over them, and their "
        "months are replayed (0: everyone joins at month 0).",
    )
    team_size: int = Field(7, ge=3, le=20, description="Mean team size, manager included.")
    teams_per_department: int = Field(6, ge=1, le=50, description="Teams per department.")
    core_values: ValueTable = Field(
        default_factory=lambda: {
            "innovation": 0.8,
            "collaboration": 0.7,
            "user_focus": 0.75,
            "openness": 0.65,
        },
        description="The culture core leadership espouses: value name -> level in [0, 1].",
    )
    talent_pool_values: float = Field(
        0.5, ge=0.0, le=1.0, description="Mean values of the labour pool, on every dimension."
    )
    value_spread: float = Field(
        0.3, ge=0.0, le=0.5, description="Spread (sd) of newcomers' own values around their site's."
    )
    cash: float = Field(40e6, ge=0.0, le=1e15, description="Cash at month 0, $.")
    growth_per_year: float = Field(
        0.3, ge=-0.5, le=3.0, description="Planned headcount growth per year (0.3 = +30%)."
    )
    salary_per_year: float = Field(
        150_000.0, gt=0.0, le=1e9, description="Market median salary, $ per year."
    )
    overhead_rate: float = Field(
        0.25, ge=0.0, le=1.0, description="Benefits, taxes and office cost as a share of payroll."
    )
    hiring_freeze_runway_months: float = Field(
        9.0, ge=0.0, le=60.0, description="No hiring while runway is below this."
    )
    layoff_runway_months: float = Field(
        3.0, ge=0.0, le=24.0, description="Below this runway, layoffs cut burn."
    )

    @field_validator("core_values")
    @classmethod
    def _some_values(cls, v: dict[str, float]) -> dict[str, float]:
        if not 1 <= len(v) <= 8:
            raise ValueError("needs between 1 and 8 named values")
        return v


class Market(_Strict):
    """The market the company sells into and hires from."""

    potential_users: int = Field(
        200_000,
        ge=0,
        le=MAX_POTENTIAL_USERS,
        description="Market size: people who could use the product.",
    )
    initial_active_users: int = Field(
        15_000,
        ge=0,
        le=MAX_POTENTIAL_USERS,
        description="Active users at month 0 (the rest are prospects).",
    )
    initial_awareness: float = Field(
        0.2, ge=0.0, le=1.0, description="Share of prospects aware of the product at month 0."
    )
    price_per_user_month: float = Field(
        60.0, ge=0.0, le=1e6, description="Revenue per active user per month, $."
    )
    user_network: Literal["small_world", "scale_free", "mixed"] = Field(
        "small_world", description="Social network among users (mixed = mean field)."
    )
    user_degree: int = Field(10, ge=2, le=100, description="Mean number of ties per user.")
    external_influence: float = Field(
        0.005, ge=0.0, le=1.0, description="Bass p: monthly awareness from brand at full awareness."
    )
    word_of_mouth: float = Field(
        0.04, ge=0.0, le=5.0, description="Bass q: monthly awareness per share of active ties."
    )
    conversion_rate: float = Field(
        0.04,
        ge=0.0,
        le=1.0,
        description="Monthly chance an aware prospect tries a perfect product.",
    )
    talent_demand: float = Field(
        0.5, ge=0.0, le=1.0, description="How hot the labour market is (outside offers)."
    )
    turbulence_per_year: float = Field(
        0.1, ge=0.0, le=1.0, description="Chance per year that a market dimension flips."
    )

    @model_validator(mode="after")
    def _fits(self) -> Market:
        if self.initial_active_users > self.potential_users:
            raise ValueError(
                f"initial_active_users: value {self.initial_active_users} exceeds "
                f"potential_users; allowed range 0 to {self.potential_users}"
            )
        ties = self.potential_users * self.user_degree
        if ties > MAX_USER_TIES:
            raise ValueError(
                f"user_degree: {self.potential_users:,} potential_users x {self.user_degree} ties "
                f"each is {ties:,} ties; at most {MAX_USER_TIES:,} allowed (fewer users or ties)"
            )
        return self


class Partners(_Strict):
    """Partners at month 0, by kind."""

    universities: int = Field(2, ge=0, le=100, description="Research collaborations and talent.")
    investors: int = Field(2, ge=0, le=100, description="Funding rounds, sized by growth.")
    open_source: int = Field(1, ge=0, le=100, description="Communities: awareness and trust.")
    channels: int = Field(1, ge=0, le=100, description="Channel and enterprise partners: reach.")
    initial_strength: float = Field(
        0.4, ge=0.0, le=1.0, description="Relationship strength at month 0."
    )
    funding_round_months_of_burn: float = Field(
        24.0, ge=0.0, le=120.0, description="A full investor round (30% growth), months of costs."
    )
    funding_round_revenue_years: float = Field(
        3.0, ge=0.0, le=100.0, description="A round's most, in years of revenue."
    )


class Dynamics(_Strict):
    """Rates and coefficients of the processes (calibration; sources in docs/ODD.md)."""

    market_dimensions: int = Field(30, ge=1, le=200, description="March's m.")
    socialization_rate: float = Field(
        0.05, ge=0.0, le=1.0, description="March's p1, per month: pull of beliefs to the code."
    )
    initial_code_knowledge: float = Field(
        0.5, ge=0.0, le=1.0, description="Share of reality the code knows at the start (March: 0)."
    )
    code_learning_rate: float = Field(
        0.1, ge=0.0, le=1.0, description="March's p2, per month: code learning from the best."
    )
    exploration_rate: float = Field(
        0.25, ge=0.0, le=1.0, description="Dimensions tested per month per unit innovation time."
    )
    ideas_per_year: float = Field(
        3.0, ge=0.0, le=50.0, description="Ideas per employee-year at full innovation time."
    )
    launch_effort_person_months: float = Field(
        24.0, gt=0.0, le=10_000.0, description="Delivery effort to ship one idea, person-months."
    )
    roadmap_load: float = Field(
        0.45,
        ge=0.0,
        le=1.0,
        description="Share of a full-time person's capacity the roadmap needs.",
    )
    culture_socialization: float = Field(
        0.08, ge=0.0, le=1.0, description="Monthly pull of a newcomer's values (Harrison-Carroll)."
    )
    socialization_halflife_months: float = Field(
        12.0, gt=0.0, le=1200.0, description="Tenure at which socialization has halved."
    )
    culture_decay: float = Field(
        0.03, ge=0.0, le=1.0, description="Monthly drift of values back to one's own."
    )
    confidence_threshold: float = Field(
        0.25, ge=0.0, le=1.0, description="Bounded confidence d at inclusion 0 (Deffuant)."
    )
    base_quit_rate_per_year: float = Field(
        0.12, ge=0.0, le=1.0, description="Annual quit rate of an average employee."
    )
    quit_contagion: float = Field(
        1.0, ge=0.0, le=10.0, description="Hazard multiplier per share of recently departed peers."
    )
    hiring_fill_rate: float = Field(
        0.5, ge=0.0, le=1.0, description="Monthly chance to fill a vacancy at selectivity 0."
    )
    switched_off: list[
        Literal[
            "finance", "knowledge", "culture", "skill", "engagement",
            "turnover", "hiring", "users", "partners", "brand",
        ]
    ] = Field(
        default_factory=list,
        description="Processes that do not step (their state stays as set up): for docking "
        "one process against its classic model with the others held still.",
    )  # fmt: skip


def _lever_fields() -> dict[str, Any]:
    return {
        name: (
            float,
            Field(
                lever.default, ge=lever.lo, le=lever.hi, description=f"{lever.help} ({lever.unit})"
            ),
        )
        for name, lever in LEVERS.items()
    }


Levers = create_model(
    "Levers",
    __base__=_Strict,
    __doc__="Policy lever values (see culturesim.levers).",
    **_lever_fields(),
)


class _EventBase(_Strict):
    month: int = Field(ge=1, le=MAX_MONTHS, description="Month at whose start the event happens.")


class SetLeverEvent(_EventBase):
    """Change a lever's value from this month on."""

    kind: Literal["set_lever"]
    lever: Literal[tuple(LEVERS)] = Field(  # type: ignore[valid-type]
        description="The lever to set."
    )
    value: float = Field(description="Its value from this month on, within the lever's range.")

    @model_validator(mode="after")
    def _in_range(self) -> SetLeverEvent:
        lever = LEVERS[self.lever]
        if not lever.lo <= self.value <= lever.hi:
            raise ValueError(
                f"value {self.value} out of range for lever '{self.lever}': "
                f"allowed range {lever.lo:g} to {lever.hi:g}"
            )
        return self


class LayoffEvent(_EventBase):
    """Lay off a share of employees (lowest performers first, with noise)."""

    kind: Literal["layoff"]
    share: float = Field(gt=0.0, le=0.9, description="Share of employees laid off.")


class IncidentEvent(_EventBase):
    """A public AI incident (a harmful output, a data leak): users' and partners' trust falls."""

    kind: Literal["incident"]
    severity: float = Field(gt=0.0, le=1.0, description="How bad, 0-1.")


class FundingRoundEvent(_EventBase):
    """A funding round closes: cash arrives."""

    kind: Literal["funding_round"]
    amount: float = Field(gt=0.0, le=1e11, description="Cash raised, $.")


class MarketShiftEvent(_EventBase):
    """The market changes: a share of what was true no longer is."""

    kind: Literal["market_shift"]
    turbulence: float = Field(gt=0.0, le=1.0, description="Share of market dimensions that flip.")


class PoachingWaveEvent(_EventBase):
    """Competitors hunt the company's skilled people for a while."""

    kind: Literal["poaching_wave"]
    intensity: float = Field(gt=0.0, le=5.0, description="Extra quit hazard for the most skilled.")
    duration: int = Field(gt=0, le=36, description="Months it lasts.")


class _SiteEvent(_EventBase):
    headcount: int = Field(gt=0, le=1_000_000, description="People who join at the new site.")
    values: ValueTable = Field(description="Their values, by core value name.")


class MergerEvent(_SiteEvent):
    """An acquired team joins as a new site, holding its own values (headcount, values)."""

    kind: Literal["merger"]


class NewSiteEvent(_SiteEvent):
    """A new site opens and hires locally from a pool with regional values (headcount, values)."""

    kind: Literal["new_site"]


class LeadershipChangeEvent(_EventBase):
    """New leadership espouses new core values."""

    kind: Literal["leadership_change"]
    values: ValueTable = Field(description="The new core values, by core value name.")


EVENT_TYPES = {
    "set_lever": SetLeverEvent,
    "layoff": LayoffEvent,
    "incident": IncidentEvent,
    "funding_round": FundingRoundEvent,
    "market_shift": MarketShiftEvent,
    "poaching_wave": PoachingWaveEvent,
    "merger": MergerEvent,
    "new_site": NewSiteEvent,
    "leadership_change": LeadershipChangeEvent,
}

Event = Annotated[
    SetLeverEvent
    | LayoffEvent
    | IncidentEvent
    | FundingRoundEvent
    | MarketShiftEvent
    | PoachingWaveEvent
    | MergerEvent
    | NewSiteEvent
    | LeadershipChangeEvent,
    Field(discriminator="kind"),
]

#: Starting parameters of an event of each kind (the UI's timeline editor adds events with them,
#: :mod:`culturesim.warm` runs one of each); events with ``values`` take the core's.
EVENT_DEFAULTS: dict[str, dict] = {
    "set_lever": {"lever": "innovation_time", "value": 0.2},
    "layoff": {"share": 0.1},
    "incident": {"severity": 0.5},
    "funding_round": {"amount": 20e6},
    "market_shift": {"turbulence": 0.2},
    "poaching_wave": {"intensity": 1.0, "duration": 6},
    "merger": {"headcount": 60},
    "new_site": {"headcount": 30},
    "leadership_change": {},
}

#: Help line per event kind (read by the CLI, UI and docs).
EVENT_HELP = {
    "set_lever": "Set a lever (lever, value) from this month on.",
    "layoff": "Lay off a share of employees (share), lowest performers first.",
    "incident": "A public AI incident (severity 0-1): user and partner trust fall.",
    "funding_round": "A round closes (amount, $): cash arrives.",
    "market_shift": "The market changes (turbulence: share of market dimensions that flip).",
    "poaching_wave": "Competitors poach skilled staff (intensity, duration in months).",
    "merger": "An acquired team joins as a new site (headcount, values).",
    "new_site": "A new site opens and hires locally (headcount, regional values).",
    "leadership_change": "New leadership espouses new core values (values).",
}


def _late(index: int, month: int, months: int) -> str:
    """The line for event ``index`` at ``month``, past a horizon of ``months``."""
    return (
        f"events[{index}].month: value {month} is past the horizon; "
        f"allowed range 1 to meta.months = {months}"
    )


def _late_elsewhere(data: dict, problems: list[str]) -> list[str]:
    """The events past the horizon of a scenario refused for other ``problems``.

    The horizon is checked once every key is valid; a file with another problem too said the
    late events only at the next try. Here the raw ``data`` is read for them, where the horizon
    and the events' months are valid in themselves and no line names them yet.
    """
    if not isinstance(data, dict):
        return []
    meta, events = data.get("meta", {}), data.get("events", [])
    if not isinstance(meta, dict) or not isinstance(events, list):
        return []
    months = meta.get("months", Meta.model_fields["months"].default)
    named = {problem.split(": ")[0] for problem in problems}

    def whole(x: Any) -> bool:
        return isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= MAX_MONTHS

    if not whole(months) or any(key.startswith("meta.months") for key in named):
        return []
    return [
        _late(i, event["month"], months)
        for i, event in enumerate(events)
        if isinstance(event, dict)
        and whole(event.get("month"))
        and event["month"] > months
        and f"events[{i}].month" not in named
    ]


class Scenario(_Strict):
    """A complete scenario: everything a run needs besides the seed."""

    meta: Meta = Field(default_factory=Meta)
    organization: Organization = Field(default_factory=Organization)
    market: Market = Field(default_factory=Market)
    levers: Levers = Field(default_factory=Levers)  # type: ignore[valid-type]
    partners: Partners = Field(default_factory=Partners)
    dynamics: Dynamics = Field(default_factory=Dynamics)
    events: list[Event] = Field(default_factory=list)

    @model_validator(mode="after")
    def _events_fit(self) -> Scenario:
        problems = []  # every event's, a line each (a horizon shortened under several events)
        names = set(self.organization.core_values)
        for i, ev in enumerate(self.events):
            if ev.month > self.meta.months:
                problems.append(_late(i, ev.month, self.meta.months))
            given = getattr(ev, "values", None)
            if given is not None and set(given) != names:
                problems.append(
                    f"events[{i}].values: keys {sorted(given)} must be the core values "
                    f"{sorted(names)} (organization.core_values)"
                )
        founding, joining = self.organization.employees, self.joining_headcount()
        if founding + joining > MAX_HEADCOUNT:
            problems.append(
                f"events: organization.employees ({founding:,}) plus the headcount of merger and "
                f"new_site events ({joining:,}) is {founding + joining:,}; at most "
                f"{MAX_HEADCOUNT:,} allowed"
            )
        if problems:
            raise ValueError("\n".join(problems))  # one error, split into its lines again
        return self

    def joining_headcount(self) -> int:
        """People who join with merger and new-site events (besides hiring)."""
        return sum(ev.headcount for ev in self.events if isinstance(ev, _SiteEvent))

    def planned_headcount(self) -> float:
        """The most people the plan reaches by the horizon (growth never frozen).

        Founding employees and those who join with mergers and new sites, grown at
        ``organization.growth_per_year`` for ``meta.months`` months, as the hiring plan grows.
        """
        org = self.organization
        growth = (1.0 + max(org.growth_per_year, 0.0)) ** (self.meta.months / 12.0)
        return (org.employees + self.joining_headcount()) * growth

    def memory_estimate(self) -> float:
        """Bytes a run of this scenario may need at its peak (an estimate, on the high side).

        About 1.1 KB a person at the planned headcount and 37 bytes a tie of the users' network
        (see :data:`MAX_HEADCOUNT`, :data:`MAX_USER_TIES`), plus 150 MB for the rest (a generous
        guess: a second baseline run kept in a process adds about 25 MB in all).
        """
        ties = self.market.potential_users * self.market.user_degree
        return 1100.0 * self.planned_headcount() + 37.0 * ties + 150e6

    # --- conversions -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as plain data (the same shape as the TOML file)."""
        return self.model_dump(mode="json")

    def to_toml(self) -> str:
        """Return the scenario as TOML text that loads back to an equal scenario."""
        return tomli_w.dumps(self.to_dict())

    def digest(self) -> str:
        """Return a SHA-256 hash of the scenario's canonical JSON form."""
        canon = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()

    def with_changes(self, changes: dict[str, Any], source: str = "<changes>") -> Scenario:
        """Return a copy with fields replaced by dotted path, validated again.

        A path goes into tables by key and into the events by position:
        ``"events.0.severity"`` is the first event's severity, as is ``"events[0].severity"``
        (the form error messages name it by).

        Args:
            changes: e.g. ``{"levers.innovation_time": 0.2, "meta.months": 36}``.
            source: What the changes came from, for error messages.

        Raises:
            ScenarioError: If a path is not a scenario field (the message lists the keys
                allowed there, or the events' positions) or a value is invalid.
        """
        data = self.to_dict()
        for path, value in changes.items():
            node: Any = data
            *parents, leaf = key_path(path)
            for depth, key in enumerate(parents):
                where = ".".join(parents[: depth + 1])
                if isinstance(node, list):
                    node = node[_position(node, key, path, where, source)]
                elif key in node and not isinstance(node[key], dict | list):
                    raise ScenarioError(source, [f"{path}: {where} is a value, not a table"])
                else:
                    node = node.setdefault(key, {})  # an unknown table: validation names it
            if isinstance(node, list):
                node[_position(node, leaf, path, path, source)] = value
            else:
                node[leaf] = value  # an unknown key too, with the keys allowed beside it
        return scenario_from_dict(data, source=source)


#: A position written as an index, ``events[0]``: the same as ``events.0`` (and ``events[-1]``
#: the same as ``events.-1``, which names no position: the message says which there are).
_POSITION = re.compile(r"\[([^\].]*)\]")


def key_path(key: str) -> list[str]:
    """The parts of a dotted scenario key: ``"events[0].month"`` -> ``["events", "0", "month"]``.

    Tables are named by key and events by position, as ``events.0`` or ``events[0]``.
    """
    return _POSITION.sub(r".\1", key).split(".")


def _position(items: list, key: str, path: str, where: str, source: str) -> int:
    """The position ``key`` names in ``items`` (the list at ``where`` of ``path``).

    Raises:
        ScenarioError: If ``key`` is not a position of ``items``.
    """
    if key.isdigit() and int(key) < len(items):
        return int(key)
    parent = where.rsplit(".", 1)[0]
    held = {0: "no entries", 1: "one entry, at position 0"}.get(
        len(items), f"entries at positions 0 to {len(items) - 1}"
    )
    raise ScenarioError(source, [f"{path}: {parent} is a list with {held}; got {key!r}"])


# --- loading and error messages -------------------------------------------------------------


def _field_annotation(loc: tuple) -> Any:
    """The annotation of the field an error location names (None if it names none)."""
    model, name = _field_at(loc)
    return model.model_fields[name].annotation if model is not None and name is not None else None


def _field_at(loc: tuple) -> tuple[type[BaseModel] | None, str | None]:
    """Find the pydantic model class and field name an error location points into."""
    model: Any = Scenario
    for i, part in enumerate(loc):
        if part in EVENT_TYPES:  # the union tag of an event: its fields follow
            model = EVENT_TYPES[part]
            continue
        if isinstance(part, int) or model is None:
            continue
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return model, None
        if i == len(loc) - 1:
            return model, part
        ann = fields[part].annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        if part == "events":
            model = None
    return model, None


def field_bounds(model: type[BaseModel] | None, name: str | None) -> str:
    """A field's allowed values in words: "allowed range 0 to 1", an excluded bound marked.

    A whole-number field's excluded bound is given as the next whole number ("1 to 36", not
    "0 (excluded) to 36"); a float's is marked: "0 (excluded) to 1,000,000,000" (a salary of 0
    was refused with "allowed range 0 to 1,000,000,000").
    """
    if model is None or name is None:
        return ""
    field = model.model_fields[name]
    whole = field.annotation is int
    lo = hi = None
    lo_out = hi_out = False  # the bound itself is not allowed
    for m in field.metadata:
        if getattr(m, "ge", None) is not None:
            lo, lo_out = m.ge, False
        if getattr(m, "gt", None) is not None:
            lo, lo_out = (m.gt + 1, False) if whole else (m.gt, True)
        if getattr(m, "le", None) is not None:
            hi, hi_out = m.le, False
        if getattr(m, "lt", None) is not None:
            hi, hi_out = (m.lt - 1, False) if whole else (m.lt, True)
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f"allowed: {'more than' if lo_out else 'at least'} {exact_number(lo)}"
    if lo is None:
        return f"allowed: {'less than' if hi_out else 'at most'} {exact_number(hi)}"
    excluded = " (excluded)"
    low, high = exact_number(lo) + excluded * lo_out, exact_number(hi) + excluded * hi_out
    return f"allowed range {low} to {high}"


def exact_number(x: float) -> str:
    """A bound or setting as messages and listings give it: ``2,000,000``, ``0.5``, ``-0.2``."""
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _choices(annotation: Any) -> tuple:
    """The allowed values of a ``Literal`` field, or of a list of them; () for other fields."""
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
    return get_args(annotation) if get_origin(annotation) is Literal else ()


#: What ``events`` holds, in words.
EVENTS_SHAPE = "[[events]] tables, each with month, kind and the kind's fields"

#: What a table of named values (:data:`ValueTable`) allows, in words.
VALUE_TABLE = "a table of levels 0 to 1 by value name, as { innovation = 0.8, openness = 0.65 }"


def key_text(model: type[BaseModel], name: str, shape: bool = True) -> str:
    """What a key means and allows: "Share of employees laid off; allowed range 0 ... to 0.9".

    A table of values (:data:`ValueTable`) is said to be one, as one is written, unless not
    ``shape`` (where the table follows).
    """
    field = model.model_fields[name]
    choices = _choices(field.annotation)
    allowed = (
        "allowed: " + ", ".join(map(str, choices))
        if choices
        else "allowed: " + VALUE_TABLE * shape
        if field.annotation == ValueTable
        else field_bounds(model, name)
    ).removesuffix("allowed: ")
    return "; ".join(part for part in ((field.description or "").rstrip("."), allowed) if part)


def missing_key(key: str, what: str) -> str:
    """The line for a required ``key`` left out, with ``what`` it is (:func:`key_text`), if any.

    "events[0].share: required key is missing; share of employees laid off; allowed ...".
    """
    return f"{key}: required key is missing" + f"; {what[:1].lower()}{what[1:]}" * bool(what)


def _key_comment(model: type[BaseModel], name: str) -> list[str]:
    """``# what the key means; what is allowed``, wrapped, for a scenario file."""
    return ["# " + line for line in textwrap.wrap(key_text(model, name, shape=False), 96)]


def commented_toml(scenario: Scenario) -> str:
    """The scenario as TOML with every key, each under a comment on what it means and allows.

    A starting point for writing a scenario: it loads back to an equal scenario (comments
    aside, it is :meth:`Scenario.to_toml`'s content).

    Args:
        scenario: The scenario to write out.
    """
    data = scenario.to_dict()
    lines = [
        f"# culturesim scenario {scenario.meta.name!r}, every key written out. A key left out "
        "takes its default.",
        "# Check a file with `culturesim validate FILE`; run it with `culturesim run FILE`.",
    ]
    for table, field in Scenario.model_fields.items():
        if table == "events":
            continue
        model = field.annotation
        lines += ["", f"[{table}]"]
        subtables = []
        for key in model.model_fields:
            value = data[table][key]
            if isinstance(value, dict):  # e.g. organization.core_values: a table of its own
                subtables.append(key)
                continue
            lines += [*_key_comment(model, key), f"{key} = {_toml_value(value)}"]
        for key in subtables:
            lines += ["", *_key_comment(model, key), f"[{table}.{key}]"]
            lines += tomli_w.dumps(data[table][key]).rstrip().splitlines()
    lines += ["", "# Events: [[events]] tables with month (1 to meta.months), kind and the kind's "
              "fields. Kinds:"]  # fmt: skip
    lines += [f"#   {kind}: {text}" for kind, text in EVENT_HELP.items()]
    for event in data["events"]:  # as tables: a short event would be written inline, in [dynamics]
        first = {k: event[k] for k in ("month", "kind")}
        rest = {k: v for k, v in event.items() if k not in first and not isinstance(v, dict)}
        lines += ["", "[[events]]", *(f"{k} = {_toml_value(v)}" for k, v in (first | rest).items())]
        for key, value in event.items():
            if isinstance(value, dict):  # an event's values
                lines += [f"[events.{key}]", *tomli_w.dumps(value).rstrip().splitlines()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    """``value`` as a TOML value; a large number's digits grouped, as the shipped files write it.

    ``cash = 40_000_000.0``, not ``40000000.0`` (TOML reads both as the same number).
    """
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and abs(value) >= 10_000 and "e" not in repr(value):
        return f"{value:_}"  # TOML reads 40_000_000.0 as 40000000.0
    return tomli_w.dumps({"x": value}).removeprefix("x = ").rstrip()


#: How a message shows a value it quotes: a 20,000-number list as a lever's value was
#: written out whole, one line of 100 KB (nested ones, a list in a list, at most 3 deep).
_SHOWN = reprlib.Repr(maxlevel=3, maxlist=6, maxdict=6, maxstring=60, maxother=60)


def _tables_with(key: Any) -> list[str]:
    """The scenario's tables that have a key named ``key`` (``levers`` for innovation_time)."""
    return [
        table
        for table, field in Scenario.model_fields.items()
        if isinstance(field.annotation, type)
        and issubclass(field.annotation, BaseModel)
        and key in field.annotation.model_fields
    ]


def _describe(err: dict) -> str:
    # drop the union tags (event kinds) and validator names pydantic puts into locations
    loc = tuple(p for p in err["loc"] if p not in EVENT_TYPES and not str(p).startswith("function"))
    key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    kind = err["type"]
    model, name = _field_at(tuple(err["loc"]))
    if kind == "extra_forbidden":
        parent, _ = _field_at((*tuple(err["loc"])[:-1], "__x__"))
        fields = list(getattr(parent, "model_fields", {})) if parent else []
        hint = did_you_mean(loc[-1], fields) if loc else ""
        if loc and not hint and loc[0] != "events" and (elsewhere := _tables_with(loc[-1])):
            # innovation_time = 0.2 above [levers], or under [meta]; "innovation_time" = [...]
            # among an experiment's parameters
            hint = f" (did you mean {elsewhere[0]}.{loc[-1]}?)"
        if loc and "." in str(loc[-1]):
            # "levers.innovation_time" = 0.2, quoted as an experiment's [parameters] are: one
            # key, dot and all, which read as the valid key it spells
            key = key.removesuffix(str(loc[-1])) + f'"{loc[-1]}"'
            unquote = f": write {loc[-1]} without the quotes" * (loc[-1].split(".")[0] in fields)
            hint = f" (quoted, it is one key, dot and all{unquote})"
        allowed = f"; allowed keys: {', '.join(fields)}" if fields else ""
        return f"{key}: unknown key{hint}{allowed}"
    in_table = model is None and _field_annotation(tuple(err["loc"])[:-1]) == ValueTable
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        # a level in a table of values (core values, an event's) has no field of its own
        bounds = "allowed range 0 to 1" if in_table else field_bounds(model, name) or err["msg"]
        return f"{key}: value {_SHOWN.repr(err['input'])} out of range; {bounds}"
    if kind == "finite_number":
        bounds = field_bounds(model, name) or "allowed: a finite number"
        return f"{key}: value {_SHOWN.repr(err['input'])} is not a finite number; {bounds}"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        hint = did_you_mean(err["input"], choices)
        return f"{key}: {_SHOWN.repr(err['input'])} is not allowed{hint}; {err['msg'].lower()}"
    if kind == "union_tag_invalid":
        given = err["input"].get("kind")
        hint = did_you_mean(given, EVENT_HELP)
        allowed = ", ".join(EVENT_HELP)
        return f"{key}: unknown event kind {_SHOWN.repr(given)}{hint}; allowed: {allowed}"
    if kind == "union_tag_not_found":
        return f"{key}: missing 'kind'; allowed: " + ", ".join(EVENT_HELP)
    if kind == "missing":  # an event's field: what it is and allows
        what = key_text(model, name) if model is not None and name is not None else ""
        event = err["input"] if isinstance(err["input"], dict) else {}  # the key's table
        if name == "value" and (lever := LEVERS.get(str(event.get("lever")))):
            what = f"{what} ({lever.name}: {lever.lo:g} to {lever.hi:g})"
        return missing_key(key, what)
    if kind == "value_error":
        msg = err["msg"].removeprefix("Value error, ")
        if key and re.match(r"[a-z_]+: ", msg):  # a table's check names its key: market.key
            return f"{key}.{msg}"
        return f"{key}: {msg}" if key else msg
    given = wrong_type(err).partition("; ")[0]
    if kind == "dict_type" and _field_annotation(tuple(err["loc"])) == ValueTable:
        return f"{key}: {given}; expected {VALUE_TABLE}"
    if kind == "model_type" and model is not None and name is not None:  # [levers] = 3
        keys = ", ".join(model.model_fields[name].annotation.model_fields)
        return f"{key}: {given}; expected a table, [{key}], of these keys: {keys}"
    if key == "events" and kind == "list_type":  # events = 3
        return f"{key}: {given}; expected {EVENTS_SHAPE}"
    if key.startswith("events[") and kind == "model_attributes_type":  # events = [3]
        return f"{key}: {given}; expected an [[events]] table, with month, kind and its fields"
    return f"{key}: {wrong_type(err)}"


def wrong_type(err: dict) -> str:
    """Pydantic's error ``err`` of a value of the wrong type, in words, the value quoted short.

    For example "wrong type str ('2'); expected a valid integer".
    """
    expected = err["msg"].removeprefix("Input should be ").removesuffix(".")
    expected = {  # in TOML's words
        "a valid dictionary": "a table, { key = value, ... }",
        "a valid list": "an array, [value, ...]",
    }.get(expected, expected)
    given = f"{type(err['input']).__name__} ({_SHOWN.repr(err['input'])})"
    return f"wrong type {given}; expected {expected}"


def scenario_from_dict(data: dict[str, Any], source: str = "<dict>") -> Scenario:
    """Validate plain data (the shape of a scenario file) into a :class:`Scenario`.

    Args:
        data: Parsed TOML or equivalent dict.
        source: Where the data came from, for error messages.

    Raises:
        ScenarioError: With one line per problem, naming the key and what is allowed.
    """
    if "experiment" in data:  # the other kind of file culturesim reads
        raise ScenarioError(
            source,
            ["an experiment file, not a scenario: run it with `culturesim sweep` "
             "(its [experiment] table names the scenario it varies)"],
        )  # fmt: skip
    try:
        data = _python_scalars(data)
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [line for e in exc.errors() for line in _describe(e).splitlines()]
        raise ScenarioError(source, problems + _late_elsewhere(data, problems)) from None
    except RecursionError:  # read whole (JSON goes deeper than TOML), too deep to go through
        raise ScenarioError(source, [TOO_DEEP]) from None


def _python_scalars(data: Any) -> Any:
    """``data`` with NumPy scalars as the Python numbers they hold, in tables and lists.

    The schema is strict (a TOML file's ``12.0`` is no head count, ``"0.2"`` no share), and
    NumPy's integers are not Python's: ``np.int64(40)`` from a design or ``np.arange`` is 40.
    """
    if isinstance(data, dict):
        return {key: _python_scalars(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_python_scalars(value) for value in data]
    return data.item() if isinstance(data, np.generic) else data


#: The largest file read as a scenario or an experiment: far past any (they are a few KB).
MAX_FILE_BYTES = 16_000_000


def read_file(path: Path, error: type[ScenarioError] = ScenarioError) -> bytes:
    """The bytes of the file at ``path``; raise ``error`` naming it if it cannot be read.

    Args:
        path: The file (a scenario or an experiment).
        error: The error to raise (a :class:`ScenarioError` or a subclass), saying why: the
            file may be another user's, or on a disk that fails.
    """
    try:
        with path.open("rb") as f:  # a pipe too (`culturesim run <(...)`), read once
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise error(str(path), [f"cannot read it: {exc.strerror}"]) from None
    if len(data) > MAX_FILE_BYTES:  # say, results.parquet given by mistake, or /dev/zero
        raise error(
            str(path),
            [f"larger than {MAX_FILE_BYTES // 1_000_000} MB; a scenario or an experiment file is "
             "a few KB (a run's manifest.json some more): is it the file you meant?"],
        )  # fmt: skip
    return data


def _missing(p: Path) -> str:
    """Why ``p`` is no scenario file: a folder, or no such file (a bare name: nor shipped)."""
    if p.is_dir():
        return "a folder, not a file"
    names = shipped_names()
    if p.suffix or len(p.parts) > 1 or not names:
        return "no such file"
    return (
        "no such file, nor a shipped scenario of that name"
        + did_you_mean(p.name, names)
        + f"; shipped: {', '.join(names)}"
    )


def shipped_names() -> list[str]:
    """The names of the scenarios shipped in ``scenarios/``, sorted."""
    return sorted(f.stem for f in SCENARIO_DIR.glob("*.toml"))


def load_scenario(path: str | Path | Scenario | Mapping | None = None) -> Scenario:
    """Load and validate a scenario.

    Args:
        path: A TOML file, the name of a file in ``scenarios/`` (with or without ``.toml``),
            the ``manifest.json`` of a ``culturesim run`` results folder (the scenario as it
            ran, ``--set`` changes included), a :class:`Scenario` (returned as is), a mapping
            shaped like a scenario file (``{"levers": {"innovation_time": 0.2}}``), or ``None``
            for the built-in baseline.

    Raises:
        ScenarioError: If the file is missing, unreadable, not TOML, or not a valid scenario.
    """
    if isinstance(path, Scenario):
        return path
    if isinstance(path, Mapping):
        return scenario_from_dict(dict(path), source="<dict>")
    if path is None:
        return Scenario()
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            "a scenario is a file's path, a shipped scenario's name, a Scenario, a mapping or "
            f"None, not {type(path).__name__} ({path!r:.60})"
        )
    if not str(path).strip():  # no name at all: say so, not "a folder" (Path("") is ".")
        shipped = ", ".join(shipped_names())
        raise ScenarioError('""', [f"no name: give a scenario file or a shipped one ({shipped})"])
    p = Path(path)
    if not p.exists() and not p.suffix:
        candidate = SCENARIO_DIR / f"{p.name}.toml"
        p = candidate if candidate.exists() else p
    if not p.exists() or p.is_dir():  # a pipe is read as a file: it is one to its writer
        raise ScenarioError(str(path), [_missing(p)])
    if p.suffix == ".json":
        return _from_manifest(p)
    return scenario_from_dict(parse_toml(read_file(p), str(p)), source=str(p))


def _from_manifest(p: Path) -> Scenario:
    """The scenario a ``culturesim run`` results folder's ``manifest.json`` records as run."""
    return scenario_from_manifest(read_file(p), str(p))


def manifest_kind(manifest: object) -> object:
    """The command that wrote a results folder's manifest (read from JSON), or None.

    ``"run"``, ``"compare"``, ``"sweep"`` ...: its ``kind``; None if it is no manifest.
    """
    return manifest.get("kind") if isinstance(manifest, dict) else None


def compare_arm(manifest: dict, arm: str, source: str = "<manifest>") -> Scenario:
    """Scenario ``arm`` ("a" or "b") of a ``culturesim compare`` folder's manifest, as it ran.

    Args:
        manifest: The manifest, read (its ``kind`` is ``"compare"``).
        arm: ``"a"`` or ``"b"``.
        source: Where it came from, for error messages (``(A)`` or ``(B)`` is added).

    Raises:
        ScenarioError: If the manifest records no such scenario, or an invalid one.
    """
    record = manifest.get(arm)
    if not isinstance(record, dict) or not isinstance(record.get("scenario"), dict):
        raise ScenarioError(
            source, [f"{arm}: the manifest of culturesim compare records no scenario"]
        )
    return scenario_from_dict(record["scenario"], source=f"{source} ({arm.upper()})")


def scenario_from_manifest(data: bytes, source: str = "<manifest>") -> Scenario:
    """The scenario recorded by the ``manifest.json`` of a ``culturesim run`` results folder.

    The manifest records the scenario as it ran (``--set`` changes included; the seeds and
    months beside it), so it reproduces the run: the command line and the web UI's upload read
    it as a scenario.

    Args:
        data: The manifest's bytes.
        source: Where they came from, for error messages.

    Raises:
        ScenarioError: If the bytes are not JSON or not the manifest of a run.
    """
    manifest = parse_json(data, source)
    kind = manifest_kind(manifest)
    if kind != "run" or not isinstance(manifest.get("scenario"), dict):
        what = f"the manifest of culturesim {kind}" if isinstance(kind, str) else "no manifest"
        if kind in ("sweep", "compare"):
            what += f"; run it again with `culturesim {kind}`"
        elif kind in DERIVED:  # it records the sweep it was computed from
            what += "; run its sweep again with `culturesim sweep`"
        if kind == "compare":  # its A or B as a scenario of their own
            what += " (`culturesim show` with --arm a or --arm b writes A or B as TOML)"
        raise ScenarioError(
            source,
            [f"{what}: a .json scenario is the manifest.json of a `culturesim run` results "
             "folder (it records the scenario as run); else give a TOML scenario file"],
        )  # fmt: skip
    return scenario_from_dict(manifest["scenario"], source=source)
