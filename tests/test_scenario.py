import itertools
import math
import re
import tomllib

import numpy as np
import pytest

from culturesim import Scenario, ScenarioError, load_scenario
from culturesim.levers import LEVERS
from culturesim.scenario import scenario_from_dict
from tests.conftest import ALL_EVENTS, ROOT, SCENARIOS, scenario_numbers

SHIPPED = sorted(SCENARIOS.glob("*.toml"))


def test_shipped_scenarios_are_valid():
    names = {p.stem for p in SHIPPED}
    assert {
        "baseline",
        "google_20pct",
        "training_heavy",
        "transparency_first",
        "cost_cutting",
        "hypergrowth",
    } <= names
    for path in SHIPPED:
        sc = load_scenario(path)
        assert sc.meta.name == path.stem


def test_baseline_is_a_series_a_startup(baseline):
    assert 100 <= baseline.organization.employees <= 150
    assert baseline.market.potential_users > 0


def test_load_by_name_and_default():
    assert load_scenario("baseline").meta.name == "baseline"
    assert load_scenario(None) == Scenario()


def test_a_dict_shaped_like_a_file_is_a_scenario_everywhere():
    from culturesim import CultureModel, simulate
    from culturesim.run import run_seeds

    data = {"levers": {"innovation_time": 0.2}, "meta": {"months": 2}}
    assert load_scenario(data) == scenario_from_dict(data)
    assert CultureModel(scenario=data, rng=1).config.levers.innovation_time == 0.2
    assert simulate(data, seed=1).kpis.index[-1] == 2
    with pytest.raises(ScenarioError, match=r"<dict>: levers.innovation_time: .*0 to 0.5"):
        load_scenario({"levers": {"innovation_time": 2}})
    with pytest.raises(ValueError, match="months must be 0 or more"):
        simulate(data, months=-1)
    for months in (2.5, "3", True):  # were run as 2 months, a TypeError deep inside, 1 month
        with pytest.raises(TypeError, match=f"months must be a whole number, got {months!r}"):
            simulate(data, months=months)
        with pytest.raises(TypeError, match="months must be a whole number"):
            run_seeds(data, [0], months=months)
    assert simulate(data, seed=1, months=np.int64(1)).kpis.index[-1] == 1


def test_levers_schema_follows_levers_py():
    fields = Scenario.model_fields["levers"].annotation.model_fields
    assert list(fields) == list(LEVERS)
    sc = Scenario()
    for name, lever in LEVERS.items():
        assert getattr(sc.levers, name) == lever.default


def test_toml_round_trip(baseline):
    text = baseline.to_toml()
    again = scenario_from_dict(tomllib.loads(text))
    assert again == baseline
    assert again.digest() == baseline.digest()


def test_with_changes_validates():
    sc = Scenario().with_changes({"levers.innovation_time": 0.2, "meta.months": 36})
    assert sc.levers.innovation_time == 0.2
    assert sc.meta.months == 36
    with pytest.raises(ScenarioError, match=r"levers\.nope: unknown key; allowed keys: innovation"):
        Scenario().with_changes({"levers.nope": 1})
    with pytest.raises(ScenarioError, match="nope: unknown key; allowed keys: meta, organization"):
        Scenario().with_changes({"nope.x": 1})
    with pytest.raises(ScenarioError, match=r"levers\.innovation_time is a value, not a table"):
        Scenario().with_changes({"levers.innovation_time.x": 1})
    with pytest.raises(ScenarioError, match=r"levers\.innovation_time"):
        Scenario().with_changes({"levers.innovation_time": 0.9})


def test_with_changes_reaches_the_events_by_position():
    incident = load_scenario("ai_incident")
    assert [ev.kind for ev in incident.events] == ["incident"]
    changed = incident.with_changes({"events.0.severity": 0.2, "events.0.month": 30})
    assert (changed.events[0].severity, changed.events[0].month) == (0.2, 30)
    # the form the messages name an event's key by works too (copied from one, say)
    assert incident.with_changes({"events[0].severity": 0.2, "events[0].month": 30}) == changed
    layoff = {"month": 3, "kind": "layoff", "share": 0.1}
    assert incident.with_changes({"events.0": layoff}).events[0].kind == "layoff"
    assert incident.with_changes({"events[0]": layoff}).events[0].kind == "layoff"
    for path, said in (
        ("events.1.severity", "events is a list with one entry, at position 0; got '1'"),
        ("events.first.month", "events is a list with one entry, at position 0; got 'first'"),
        ("events[-1].month", "events is a list with one entry, at position 0; got '-1'"),
        ("events[last].month", "events is a list with one entry, at position 0; got 'last'"),
        (
            "events.0.severity",
            "events[0].severity: value 2 out of range; allowed range 0 (excluded) to 1",
        ),
        ("events.0.nope", "events[0].nope: unknown key; allowed keys: month, kind, severity"),
    ):
        with pytest.raises(ScenarioError) as caught:
            incident.with_changes({path: 2}, source="--set")
        assert str(caught.value).startswith("--set: ") and said in str(caught.value), path
    with pytest.raises(ScenarioError, match="events is a list with no entries"):
        Scenario().with_changes({"events.0.month": 3})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"levers": {"innovaton_time": 0.2}},
         ["levers.innovaton_time", "unknown key", "innovation_time"]),
        ({"levers": {"innovation_time": 0.8}}, ["levers.innovation_time", "0 to 0.5"]),
        ({"levers": {"transparency": "high"}}, ["levers.transparency", "wrong type"]),
        # the schema is strict: a number in quotes, a boolean or 12.0 heads are wrong types
        ({"levers": {"transparency": "0.5"}},
         ["levers.transparency: wrong type str ('0.5'); expected a valid number"]),
        ({"levers": {"inclusion": True}}, ["levers.inclusion: wrong type bool (True)"]),
        ({"organization": {"sites": True}}, ["organization.sites: wrong type bool (True)"]),
        ({"organization": {"employees": 12.0}},
         ["organization.employees: wrong type float (12.0); expected a valid integer"]),
        ({"organization": {"cash": float("inf")}},
         ["organization.cash: value inf is not a finite number; allowed range 0 to "]),
        ({"organization": {"employees": -3}}, ["organization.employees", "1 to 1,000,000"]),
        ({"meta": {"months": 24}, "events": [{"month": 30, "kind": "layoff", "share": 0.1}]},
         ["events[0].month", "horizon", "1 to meta.months = 24"]),
        ({"events": [{"month": 5, "kind": "set_lever", "lever": "inclusion", "value": 2.0}]},
         ["events[0]", "inclusion", "0 to 1"]),
        ({"events": [{"month": 5, "kind": "acquisition"}]},
         ["events[0]", "acquisition", "set_lever", "merger", "leadership_change"]),
        ({"events": [{"month": 5, "kind": "merger", "headcount": 10}]},
         ["events[0].values", "missing"]),
        ({"events": [{"month": 5, "kind": "merger", "headcount": 10, "values": {"x": 0.1}}]},
         ["events[0].values", "core values"]),
        ({"events": [{"month": 5, "kind": "incident", "severity": 1.5}]},
         ["events[0].severity", "0 (excluded) to 1"]),
        ({"market": {"potential_users": 100, "initial_active_users": 500}},
         ["market.initial_active_users", "0 to 100"]),
        ({"market": {"user_network": "random"}}, ["market.user_network", "small_world"]),
        ({"market": {"potential_users": 10_000_000, "user_degree": 40}},
         ["market.user_degree", "400,000,000 ties", "at most 200,000,000"]),
        # a missing key is said with what it is and allows (it read "required key is missing")
        ({"events": [{"month": 5, "kind": "layoff"}]},
         ["events[0].share: required key is missing; share of employees laid off; allowed "
          "range 0 (excluded) to 0.9"]),
        ({"events": [{"month": 5, "kind": "set_lever"}]},
         ["events[0].lever: required key is missing; the lever to set; allowed: "
          "innovation_time, training_budget", "partnership_openness"]),
        ({"events": [{"month": 5, "kind": "set_lever", "lever": "innovation_time"}]},
         ["events[0].value: required key is missing", "(innovation_time: 0 to 0.5)"]),
        ({"events": [{"month": 5, "kind": "leadership_change"}]},
         ["events[0].values: required key is missing; the new core values", "levels 0 to 1"]),
        # a table of values given as a list: "expected a valid dictionary"
        ({"events": [{"month": 5, "kind": "merger", "headcount": 10, "values": [0.1, 0.2]}]},
         ["events[0].values: wrong type list ([0.1, 0.2]); expected a table of levels 0 to 1 "
          "by value name, as { innovation = 0.8"]),
        ({"organization": {"core_values": [0.5]}},
         ["organization.core_values: wrong type list ([0.5]); expected a table of levels"]),
        # a level out of range in such a table: "Input should be less than or equal to 1"
        ({"organization": {"core_values": {"innovation": 1.3}}},
         ["organization.core_values.innovation: value 1.3 out of range; allowed range 0 to 1"]),
        ({"events": [{"month": 5, "kind": "new_site", "headcount": 10,
                      "values": {"innovation": -0.1}}]},
         ["events[0].values.innovation: value -0.1 out of range; allowed range 0 to 1"]),
        # a table or the events given as something else: "expected a valid dictionary or
        # instance of Levers", "... or object to extract fields from"
        ({"levers": 3}, ["levers: wrong type int (3); expected a table, [levers], of these keys: "
                         "innovation_time, training_budget", "partnership_openness"]),
        ({"meta": [1]}, ["meta: wrong type list ([1]); expected a table, [meta], of these keys: "
                         "name, description, months, seed"]),
        ({"events": {"month": 3}}, ["events: wrong type dict ({'month': 3}); expected [[events]] "
                                    "tables, each with month, kind and the kind's fields"]),
        ({"events": [3]}, ["events[0]: wrong type int (3); expected an [[events]] table, with "
                           "month, kind and its fields"]),
        ({"meta": {"name": ["x"]}}, ["meta.name: wrong type list (['x']); expected a valid "
                                     "string"]),
        # an excluded bound: "allowed range 0 to 1,000,000,000" refused a salary of 0
        ({"organization": {"salary_per_year": 0.0}},
         ["organization.salary_per_year: value 0.0 out of range; allowed range 0 (excluded) "
          "to 1,000,000,000"]),
        ({"events": [{"month": 5, "kind": "poaching_wave", "intensity": 1.0, "duration": 0}]},
         ["events[0].duration: value 0 out of range; allowed range 1 to 36"]),
        ({"organization": {"employees": 1_000_000},
          "events": [{"month": m, "kind": "merger", "headcount": 1_000_000,
                      "values": dict.fromkeys(Scenario().organization.core_values, 0.5)}
                     for m in (1, 2, 3, 4, 5)]},
         ["organization.employees (1,000,000)", "is 6,000,000", "at most 5,000,000 allowed"]),
    ],
)  # fmt: skip
def test_errors_name_the_key_and_the_allowed_values(data, expected):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="bad.toml")
    text = str(info.value)
    assert text.startswith("bad.toml: ")
    for piece in expected:
        assert piece in text


def test_every_event_that_does_not_fit_is_said_at_once():
    """A horizon cut from 60 to 24 months under three events said the first one late, then
    the next at the next try, and nothing of them while another key was wrong: each event's
    problem is a line of its own now, with the others'."""
    values = dict.fromkeys(Scenario().organization.core_values, 0.5)
    data = {
        "meta": {"months": 24},
        "events": [
            {"month": 30, "kind": "layoff", "share": 0.1},
            {"month": 12, "kind": "incident", "severity": 0.5},  # fits
            {"month": 48, "kind": "incident", "severity": 0.5},
            {"month": 6, "kind": "leadership_change", "values": {"innovation": 0.5}},
            {"month": 40, "kind": "merger", "headcount": 10, "values": values},
        ],
    }
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="bad.toml")
    assert [line.split(": ")[1] for line in str(info.value).splitlines()] == [
        "events[0].month",
        "events[2].month",
        "events[3].values",
        "events[4].month",
    ]
    assert info.value.problems[1] == (
        "events[2].month: value 48 is past the horizon; allowed range 1 to meta.months = 24"
    )
    # a problem elsewhere (checked before the horizon is) kept the late events unsaid
    data["levers"] = {"innovation_time": 0.9}
    data["events"][3]["values"] = values
    data["events"][4]["kind"] = "takeover"
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="bad.toml")
    assert [line.split(": ")[1] for line in str(info.value).splitlines()] == [
        "levers.innovation_time",
        "events[4]",  # an unknown kind
        "events[0].month",
        "events[2].month",
        "events[4].month",
    ]


def test_an_empty_name_or_a_wrong_type_says_what_a_scenario_is():
    """An empty name read as the current folder: ': a folder, not a file'."""
    with pytest.raises(
        ScenarioError,
        match=r'^"": no name: give a scenario file or a shipped one \(ai_incident, baseline, ',
    ):
        load_scenario("")
    with pytest.raises(TypeError, match=r"a scenario is a file's path, .* not int \(42\)$"):
        load_scenario(42)


def test_a_value_nested_deeper_than_python_goes_is_an_error_naming_the_source():
    """A dict (a manifest's scenario, read whole by JSON) nested a thousand levels and more
    ended in a RecursionError's traceback, going through it before the schema could refuse it."""
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ScenarioError, match=r"^mine: arrays or tables nested too deeply "):
        scenario_from_dict({"levers": {"innovation_time": deep}}, source="mine")


def test_a_byte_order_mark_is_read_and_other_encodings_are_named(tmp_path):
    # Windows editors may save UTF-8 with a byte-order mark: TOML forbids it, people write it
    marked = tmp_path / "marked.toml"
    marked.write_bytes(b"\xef\xbb\xbf[levers]\ninnovation_time = 0.2\n")
    assert load_scenario(marked).levers.innovation_time == 0.2
    latin = tmp_path / "latin.toml"
    latin.write_bytes('[meta]\nname = "Caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin\.toml: not UTF-8 text \(byte 0xe9 at"):
        load_scenario(latin)


def test_an_experiment_file_given_as_a_scenario_says_so():
    experiment = ROOT / "experiments" / "levers_sobol.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(experiment)
    assert str(info.value) == (
        f"{experiment}: an experiment file, not a scenario: run it with `culturesim sweep` "
        "(its [experiment] table names the scenario it varies)"
    )


def test_bad_toml_and_missing_file(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("[levers\ninnovation_time = 0.2\n")
    with pytest.raises(ScenarioError, match=r"broken\.toml: not valid TOML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "absent.toml")
    with pytest.raises(ScenarioError, match="a folder, not a file"):
        load_scenario(tmp_path)
    # a bare name is a shipped scenario's: a typo is told the names
    with pytest.raises(ScenarioError) as typo:
        load_scenario("basline")
    assert str(typo.value) == (
        "basline: no such file, nor a shipped scenario of that name (did you mean baseline?); "
        f"shipped: {', '.join(sorted(p.stem for p in SCENARIOS.glob('*.toml')))}"
    )
    with pytest.raises(ScenarioError, match=r"^nothing\.toml: no such file$"):
        load_scenario("nothing.toml")  # a file name: no list of names


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_show_writes_every_key_explained_and_loads_back_the_same(path):
    import subprocess
    import sys

    from culturesim.scenario import commented_toml, parse_toml

    scenario = load_scenario(path)
    text = commented_toml(scenario)
    again = scenario_from_dict(parse_toml(text.encode(), "shown"))
    assert again.digest() == scenario.digest()
    lines = text.splitlines()
    explained, section = set(), ""
    for above, line in itertools.pairwise(lines):
        if line.startswith("["):
            section = line.strip("[]")
        if above.startswith("# ") and not section.startswith("events"):
            key = line.split(" = ")[0] if " = " in line else line.strip("[]").split(".")[-1]
            explained.add((section.split(".")[0], key))
    for table, field in Scenario.model_fields.items():
        for key in field.annotation.model_fields if table != "events" else ():
            assert (table, key) in explained, (table, key)  # with a comment right above
    assert "# Planned headcount growth per year (0.3 = +30%); allowed range -0.5 to 3" in lines
    # large numbers grouped, as the shipped files write them: "cash = 40000000.0" was hard to read
    cash = scenario.organization.cash
    assert f"cash = {cash:_}" in lines and (cash < 10_000 or "_" in f"{cash:_}")
    assert any(line.endswith("allowed: small_world, scale_free, mixed") for line in lines)
    assert all(f"#   {kind}: " in text for kind in ("set_lever", "merger", "leadership_change"))
    if path.stem == "baseline":
        proc = subprocess.run([sys.executable, "-m", "culturesim", "show", "baseline"],
                              capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 0 and proc.stdout == text


def test_no_number_in_a_scenario_takes_infinity_or_nan():
    """TOML reads ``inf`` and ``nan`` as numbers; every key refuses them, naming itself."""
    numbers = scenario_numbers(ALL_EVENTS)
    assert {"organization.cash", "events.3.amount", "events.5.duration"} <= {
        key for key, *_ in numbers
    }
    for key, kind, _, _ in numbers:
        shown = re.sub(r"\.(\d+)\.", r"[\1].", key)  # events.3.amount -> events[3].amount
        for value in (math.inf, -math.inf, math.nan):
            with pytest.raises(ScenarioError) as info:
                ALL_EVENTS.with_changes({key: value}, source="f.toml")
            said = "is not a finite number" if kind is float else "expected a valid integer"
            assert str(info.value).startswith(f"f.toml: {shown}: "), key
            assert repr(value) in str(info.value) and said in str(info.value), key


def test_every_number_has_a_finite_range():
    """So that no valid scenario's arithmetic overflows (a salary of 1e308 made costs inf)."""
    unbounded = [
        key
        for key, _, lo, hi in scenario_numbers(ALL_EVENTS)
        if lo is None or hi is None or not math.isfinite(lo) or not math.isfinite(hi)
    ]
    assert unbounded == []


def test_numpy_numbers_are_the_python_numbers_they_hold():
    """A design or ``np.arange`` gives NumPy scalars; the strict schema takes them as numbers."""
    sc = Scenario().with_changes(
        {"organization.employees": np.int64(40), "levers.inclusion": np.float32(0.25)}
    )
    assert sc.organization.employees == 40 and type(sc.organization.employees) is int
    assert sc.levers.inclusion == 0.25 and type(sc.levers.inclusion) is float
    with pytest.raises(ScenarioError, match=r"organization\.sites: wrong type bool"):
        Scenario().with_changes({"organization.sites": np.bool_(True)})


def test_a_mistyped_key_or_kpi_gets_the_nearest_name():
    """British spelling, a dropped letter: the message names the key meant, then all of them."""
    from culturesim.kpis import check_names

    said = {
        "[organisation]\nemployees = 10\n": "organisation: unknown key (did you mean "
        "organization?); allowed keys: meta, organization,",
        "[levers]\ninnovation_tme = 0.2\n": "levers.innovation_tme: unknown key (did you mean "
        "innovation_time?); allowed keys: innovation_time,",
        '[[events]]\nmonth = 3\nkind = "incident"\nsevrity = 0.5\n': "events[0].sevrity: "
        "unknown key (did you mean severity?); allowed keys: month, kind, severity",
        '[[events]]\nmonth = 3\nkind = "incidnet"\n': "events[0]: unknown event kind "
        "'incidnet' (did you mean incident?); allowed: set_lever,",
        '[market]\nuser_network = "smallworld"\n': "market.user_network: 'smallworld' is not "
        "allowed (did you mean small_world?); input should be 'small_world',",
        # a key in the wrong table (or in none: above [levers]) is told the table it is in
        "innovation_time = 0.2\n": "innovation_time: unknown key (did you mean "
        "levers.innovation_time?); allowed keys: meta,",
        '[meta]\nname = "x"\ntransparency = 0.7\n': "meta.transparency: unknown key (did you "
        "mean levers.transparency?); allowed keys: name,",
    }
    for text, expected in said.items():
        with pytest.raises(ScenarioError) as caught:
            scenario_from_dict(tomllib.loads(text), "f.toml")
        assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems
    with pytest.raises(ValueError, match=r"unknown KPI 'atrition_rate_annual' \(did you mean "):
        check_names(["atrition_rate_annual"])


def test_a_quoted_key_with_a_dot_is_told_it_is_one_key():
    """``"levers.innovation_time" = 0.2``, quoted as an experiment's [parameters] are, is one
    key with a dot in it: the message read "levers.innovation_time: unknown key", the very key
    meant."""
    said = {
        '"levers.innovation_time" = 0.2\n': '"levers.innovation_time": unknown key (quoted, it '
        "is one key, dot and all: write levers.innovation_time without the quotes); allowed "
        "keys: meta, organization,",
        '[organization]\n"core_values.innovation" = 0.9\n': 'organization."core_values.'
        'innovation": unknown key (quoted, it is one key, dot and all: write core_values.'
        "innovation without the quotes); allowed keys: employees,",
        '"a.b" = 1\n': '"a.b": unknown key (quoted, it is one key, dot and all); allowed keys: ',
    }  # fmt: skip
    for text, expected in said.items():
        with pytest.raises(ScenarioError) as caught:
            scenario_from_dict(tomllib.loads(text), "f.toml")
        assert [p for p in caught.value.problems if p.startswith(expected)], caught.value.problems
