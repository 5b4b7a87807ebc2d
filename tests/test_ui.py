"""Component tests of the web UI with ``solara.render`` (wrapped in an AppLayout, as Mesa does).

Replications run inline here (``CULTURESIM_UI_WORKERS=0``); the browser tests use real worker
processes.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara
from ipywidgets import Widget

from culturesim.batch.compare import many_intervals
from culturesim.kpis import SUMMARY_KPIS
from culturesim.levers import LEVERS
from culturesim.model import CultureModel
from culturesim.plots import band
from culturesim.scenario import Scenario, ScenarioError
from culturesim.ui import charts, runs, strategist
from culturesim.ui.classroom import ClassroomPage, month_text
from culturesim.ui.echarts import Chart, OptionWidget
from culturesim.ui.lessons import LESSONS
from culturesim.ui.strategist import StrategistPage


@pytest.fixture(autouse=True)
def inline_runs(monkeypatch):
    monkeypatch.setenv("CULTURESIM_UI_WORKERS", "0")
    monkeypatch.setattr(runs, "_POOL", {})
    monkeypatch.setattr(runs, "_KEPT", runs.Kept())  # each test runs its replications itself


OPEN: list = []  # render contexts of the running test, closed after it


@pytest.fixture(autouse=True)
def close_pages():
    yield
    while OPEN:
        OPEN.pop().close()  # no page of this test re-renders during the next one


def render(page):
    @solara.component
    def Wrapped():
        with solara.AppLayout():
            page()

    box, rc = solara.render(Wrapped(), handle_error=False)
    OPEN.append(rc)
    return box, rc


def widgets(root):
    """Every widget under ``root``, children, slots and all (depth first)."""
    seen, stack = set(), [root]
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        if isinstance(w, Widget):
            yield w
            stack.extend(getattr(w, k) for k in w.keys if k not in ("layout", "style"))
        elif isinstance(w, (list, tuple)):
            stack.extend(w)
        elif isinstance(w, dict):
            stack.extend(w.values())


def of(rc, cls):
    """Widgets of type ``cls`` in the rendered page."""
    return [w for w in widgets(rc.find().widgets) if isinstance(w, cls)]


def html_text(rc, cls: str) -> list[str]:
    """Texts of the v.Html elements whose classes include ``cls``."""
    return [
        "".join(str(c) for c in w.children)
        for w in of(rc, v.Html)
        if cls in (w.class_ or "").split()
    ]


def alert_text(rc, cls: str) -> list[str]:
    """Texts of the alerts (``solara.Error``, ``solara.Info`` ...) whose classes include ``cls``."""
    return [
        "".join(str(c) for c in w.children)
        for w in of(rc, v.Alert)
        if cls in (w.class_ or "").split()
    ]


def dump(rc) -> str:
    """Every string any widget in the page holds (texts, labels, markdown, alerts)."""
    out = []
    for w in widgets(rc.find().widgets):
        for k in w.keys:
            value = getattr(w, k, None)
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, (list, tuple)):
                out.extend(x for x in value if isinstance(x, str))
    return " | ".join(out)


def wait(condition, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def click(rc, label):
    buttons = [w for w in of(rc, v.Btn) if label in [str(c) for c in w.children]]
    assert buttons, f"no button {label!r}"
    buttons[0].click()


def set_run_size(rc, months: int, replications: int) -> None:
    """Move the horizon and replications sliders."""
    for slider in of(rc, v.Slider):
        if (slider.min, slider.max) == strategist.MONTHS_RANGE:
            slider.v_model = months
        if slider.max == strategist.MAX_REPLICATIONS:
            slider.v_model = replications


def lever_cost(rc, name: str) -> str:
    """The cost line under lever ``name``'s slider."""
    [div] = [w for w in of(rc, v.Html) if f"lever-{name}" in (w.class_ or "").split()]
    [text] = [
        "".join(map(str, w.children))
        for w in widgets(div)
        if isinstance(w, v.Html) and "lever-cost" in (w.class_ or "").split()
    ]
    return text


def set_slider(rc, div_class: str, value):
    divs = [w for w in of(rc, v.Html) if div_class in (w.class_ or "").split()]
    assert len(divs) == 1, div_class
    sliders = [w for w in widgets(divs[0]) if isinstance(w, v.Slider)]
    assert len(sliders) == 1, div_class
    sliders[0].v_model = value


def test_a_slider_for_every_lever_with_its_cost_and_help():
    _, rc = render(StrategistPage)
    for lever in LEVERS.values():
        set_slider(rc, f"lever-{lever.name}", lever.default)  # exactly one slider per lever
    costs = html_text(rc, "lever-cost")
    assert len(costs) == len(LEVERS)
    assert all("/month" in c for c in costs)
    text = dump(rc)
    for lever in LEVERS.values():
        assert lever.help in text, lever.name  # the tooltip
        assert f"{lever.label} ({lever.unit})" in text  # label with unit
    # the cost follows the slider
    before = lever_cost(rc, "training_budget")
    set_slider(rc, "lever-training_budget", 8000.0)
    after = lever_cost(rc, "training_budget")
    assert before != after and after.startswith("8,000 ·")


def test_a_levers_setting_and_cost_read_as_money():
    base = Scenario()
    assert runs.lever_text("compensation_premium", -0.2, base) == (
        "-0.2 · −$300k/month cash for 120 staff (a saving)"  # 20% of 120 x $150k / 12
    )
    assert runs.lever_text("brand_spend", 2e6, base) == "2.00M · $2.00M/month cash"  # not 2e+06
    assert runs.lever_text("training_budget", 0, base) == "0 · $0/month cash"
    assert runs.lever_text("innovation_time", 0.2, base) == (
        "0.2 · $300k/month of work time for 120 staff (not paid out)"
    )


def test_a_levers_cost_says_the_staff_it_is_for_when_it_grows_with_them():
    """ "$13k/month" of training read as the lever's cost, though it is the starting company's:
    a company growing 30% a year pays 3.7 times as much by year five. A cost that grows with
    the company now says the staff it is for; a fixed one (brand spend, partnerships) does not."""
    big = Scenario().with_changes({"organization.employees": 2500})
    for name, lever in LEVERS.items():
        text = runs.lever_text(name, lever.hi, big)
        grows = name not in ("brand_spend", "partnership_openness")  # $ a month, whatever the size
        assert (" for 2,500 staff" in text) is grows, text
    assert (
        runs.lever_text("training_budget", 1200, big) == "1,200 · $250k/month cash for 2,500 staff"
    )


def test_run_updates_the_charts_and_a_lever_changes_them():
    _, rc = render(StrategistPage)
    set_run_size(rc, months=36, replications=2)
    echarts = solara.components.echarts.EchartsWidget
    assert not of(rc, echarts)
    click(rc, "Run")
    wait(lambda: "2 of 2 replications" in " ".join(html_text(rc, "run-progress")))
    n_charts = sum(map(len, runs.FAMILY_KPIS.values()))
    wait(lambda: len(html_text(rc, "kpi-caption")) == n_charts)
    charts = of(rc, echarts)
    assert len(charts) == n_charts
    assert all(len(c.option["series"][-1]["data"]) == 37 for c in charts)  # months 0..36
    assert "gave notice" not in dump(rc)  # the baseline stays in the black

    def attrition():
        return html_text(rc, "caption-attrition_rate_annual")[0]

    first = attrition()
    set_slider(rc, "lever-compensation_premium", 0.4)
    click(rc, "Run")
    wait(lambda: attrition() != first)


def test_an_ensembles_bands_follow_the_replications_as_they_land():
    setting = Scenario().with_changes(
        {"meta.months": 12, "market.potential_users": 2_000, "market.initial_active_users": 150}
    )
    full = runs.run_ensemble(setting, 3)
    landing = runs.Ensemble(full.scenario, full.seeds)
    first = full.seeds[0]
    landing.frames[first] = full.frames[first]
    one = landing.band("engagement")
    assert landing.band("engagement") is one  # kept while nothing lands
    assert set(landing.timeseries()["seed"]) == {first}
    for seed in full.seeds[1:]:
        landing.frames[seed] = full.frames[seed]
    assert set(landing.timeseries()["seed"]) == set(full.seeds)
    three = landing.band("engagement")
    assert not three.equals(one)
    assert three.equals(band(full.timeseries(), "engagement"))


def test_replications_run_before_by_any_session_land_at_once_and_the_same(monkeypatch):
    ran = []
    real = runs.run_one

    def counted(data, seed, months, snapshots):
        ran.append((data["levers"]["transparency"], seed, snapshots))
        return real(data, seed, months, snapshots)

    monkeypatch.setattr(runs, "run_one", counted)
    setting = Scenario().with_changes(
        {"meta.months": 6, "market.potential_users": 2_000, "market.initial_active_users": 150}
    )
    first = runs.run_ensemble(setting, 2)
    assert ran == [(0.5, 0, True), (0.5, 1, False)]
    again = runs.run_ensemble(setting, 3)  # another visitor, one replication more
    assert ran[2:] == [(0.5, 2, False)]
    assert all(again.frames[seed] is first.frames[seed] for seed in (0, 1))
    assert again.snapshots is first.snapshots
    fresh = real(setting.to_dict(), 1, 6, False)[0]  # what running it again gives
    pd.testing.assert_frame_equal(again.frames[1], fresh, check_exact=True)
    other = setting.with_changes({"levers.transparency": 0.8})
    runs.run_ensemble(other, 1)
    assert ran[3:] == [(0.8, 0, True)]  # another setting runs


def test_kept_replications_are_bounded_in_bytes_and_the_least_recently_used_go_first():
    setting = Scenario().with_changes(
        {"meta.months": 2, "market.potential_users": 2_000, "market.initial_active_users": 150}
    )
    result = runs.run_one(setting.to_dict(), 0, 2, False)
    size = int(result[0].memory_usage(index=True).sum())
    kept = runs.Kept(limit=2 * size)
    keys = [runs.Kept.key(setting.to_dict(), seed, 2, False) for seed in range(3)]
    kept.put(keys[0], result)
    kept.put(keys[1], result)
    assert kept.get(keys[0]) is result  # used again: now the most recent
    kept.put(keys[2], result)  # over the limit: the least recently used, seed 1, goes
    assert (kept.get(keys[1]), len(kept), kept.size) == (None, 2, 2 * size)
    assert kept.get(keys[0]) is result and kept.get(keys[2]) is result
    # a run larger than the whole limit (a company of tens of thousands, with its network
    # snapshots) is not kept, and does not push out the runs kept before it on its way
    big = runs.run_one(setting.with_changes({"organization.employees": 400}).to_dict(), 0, 2, True)
    kept.put(runs.Kept.key({"big": True}, 0, 2, True), big)
    assert (len(kept), kept.size) == (2, 2 * size)
    assert kept.get(keys[0]) is result and kept.get(keys[2]) is result


def test_sessions_asking_for_a_running_replication_share_it():
    from concurrent.futures import Future

    kept = runs.Kept()
    started = []

    def start():
        started.append(Future())
        return started[-1]

    key = runs.Kept.key({"levers": {}}, 0, 12, True)
    a = kept.submit(key, start)
    b = kept.submit(key, start)  # a second class member presses Run meanwhile
    assert b is a and len(started) == 1
    kept.release(key, a)  # the first closes the page: the second still waits
    assert not a.cancelled()
    kept.release(key, b)  # nobody waits any more: dropped
    assert a.cancelled() and kept.get(key) is None
    c = kept.submit(key, start)  # asked again: runs anew, and is kept when it lands
    assert c is not a and len(started) == 2
    frame = pd.DataFrame({"engagement": [0.6]})
    c.set_result((frame, None, []))
    assert kept.get(key)[0] is frame
    d = kept.submit(key, start)
    assert d.done() and d.result()[0] is frame and len(started) == 2
    failed = runs.Kept.key({"levers": {}}, 1, 12, False)
    e = kept.submit(failed, start)
    e.set_exception(RuntimeError("a worker died"))
    assert kept.get(failed) is None and kept.submit(failed, start) is not e  # tried again


def test_a_chart_sends_its_option_as_plain_json_and_follows_changes():
    option = solara.reactive(charts.band_option("engagement", pd.DataFrame(
        {"lo": [0.5, 0.6], "median": [0.6, 0.7], "hi": [0.7, 0.8]})))  # fmt: skip

    @solara.component
    def Page():
        Chart(option.value, "200px")

    _, rc = solara.render(Page(), handle_error=False)
    OPEN.append(rc)
    [widget] = of(rc, OptionWidget)
    sent = widget.get_state()["option"]
    assert type(sent) is dict and json.loads(json.dumps(sent)) == json.loads(
        json.dumps(option.value)
    )
    assert widget.attributes == {"style": "height: 200px;"}
    option.value = charts.band_option("trust_in_leadership", pd.DataFrame(
        {"lo": [0.1], "median": [0.2], "hi": [0.3]}))  # fmt: skip
    [widget] = of(rc, OptionWidget)
    assert widget.get_state()["option"]["series"][2]["data"] == [0.2]


@pytest.fixture
def upload(monkeypatch):
    """``upload(rc, name, data, size=None)``: a visitor's upload, in place of the file input.

    The page's file input is tested in a browser (test_ui_browser.py); here a button stands in
    for it and hands the page what the input would.
    """
    pending = []

    @solara.component
    def FakeUpload(on_file):
        return solara.Button("fake-upload", on_click=lambda: on_file(pending.pop()))

    def upload(rc, name, data, size=None):
        pending.append({"name": name, "size": len(data) if size is None else size,
                        "file_obj": io.BytesIO(data)})  # fmt: skip
        click(rc, "fake-upload")

    monkeypatch.setattr(strategist, "ScenarioUpload", FakeUpload)
    return upload


def test_a_bad_upload_shows_an_error_and_keeps_the_setting(upload):
    _, rc = render(StrategistPage)
    upload(rc, "../../etc/evil.toml", b"[levers]\ninnovation_time = 0.9\n")
    text = dump(rc)
    assert "levers.innovation_time" in text and "allowed range 0 to 0.5" in text
    assert "evil.toml" in text and "../" not in text  # the name is a label, never a path
    upload(rc, "/tmp/../x.toml", b"", size=2_000_000)
    assert "at most 1 MB" in dump(rc) and "/tmp" not in dump(rc)
    upload(rc, "y.toml", b"this is not = = toml")
    assert "not valid TOML" in dump(rc)
    # valid TOML, but deeper than Python reads: a RecursionError's traceback in the page
    upload(rc, "deep.toml", b"a = " + b"[" * 5000 + b"]" * 5000)
    assert "deep.toml: not valid TOML here: arrays or tables nested too deeply" in dump(rc)
    # the levers on screen are still the baseline's
    assert lever_cost(rc, "innovation_time").startswith(f"{LEVERS['innovation_time'].default:g} ·")
    upload(
        rc, "mine.toml", b'[meta]\nname = "mine"\nmonths = 48\n[levers]\ninnovation_time = 0.3\n'
    )
    assert lever_cost(rc, "innovation_time").startswith("0.3 ·")
    assert "not valid TOML" not in dump(rc)


def test_a_scenarios_name_is_shown_as_text_not_markup(upload):
    """The run's heading and the pinned line were Markdown, which the page compiles as a Vue
    template: a name's ``$...$`` became a formula, its HTML tags markup and its ``{{ }}`` an
    expression run in the visitor's browser. A name is whatever a visitor uploaded."""
    name = "{{ 6*7 }} <b>bold</b> $x$ *not em*"
    _, rc = render(StrategistPage)
    toml = f'[meta]\nname = "{name}"\n'.encode()
    upload(rc, "odd.toml", toml)
    set_run_size(rc, months=12, replications=1)
    click(rc, "Run")
    wait(lambda: "1 of 1 replications" in " ".join(html_text(rc, "run-progress")))
    templates = [w.template for w in of(rc, v.VuetifyTemplate) if isinstance(w.template, str)]
    assert not [t for t in templates if "{{ 6" in t or "<b>bold" in t]  # none the page compiles
    heading = html_text(rc, "run-heading")[0]
    assert heading.startswith(f"{name} — 1 of 1 replications")
    assert heading.endswith("12 months, seed 0.")  # it said "seeds 0–0"
    click(rc, "Pin as A")
    [tabs] = [w for w in of(rc, v.BtnToggle) if "view-tabs" in (w.class_ or "")]
    tabs.v_model = "Compare"
    wait(lambda: html_text(rc, "pinned-line"))
    assert html_text(rc, "pinned-line")[0].startswith(f"A is pinned: {name}, 1 replications")
    templates = [w.template for w in of(rc, v.VuetifyTemplate) if isinstance(w.template, str)]
    assert not [t for t in templates if "{{ 6" in t or "<b>bold" in t]


def test_a_runs_manifest_uploads_as_the_scenario_it_ran(upload, tmp_path):
    """The manifest.json of `culturesim run` is a scenario on the page, as on the command line."""
    from culturesim.cli import main

    out = tmp_path / "run"
    args = ["run", "baseline", "--seeds", "1", "--months", "2", "--out", str(out)]
    assert main([*args, "--set", "levers.innovation_time=0.35"]) == 0
    _, rc = render(StrategistPage)
    upload(rc, "manifest.json", (out / "manifest.json").read_bytes())
    assert lever_cost(rc, "innovation_time").startswith("0.35 ·")
    # another command's manifest, or no JSON, is refused with the setting kept
    upload(rc, "sweep.json", b'{"kind": "sweep", "experiment": {}}')
    assert "the manifest of culturesim sweep; run it again with `culturesim sweep`" in dump(rc)
    upload(rc, "x.json", b"[levers]")
    assert "x.json: not valid JSON" in dump(rc)
    assert lever_cost(rc, "innovation_time").startswith("0.35 ·")


def test_a_comparisons_manifest_uploads_as_its_a_and_b(upload, tmp_path):
    """The manifest.json of `culturesim compare` was refused ("the manifest of culturesim
    compare"): a strategist sent a comparison could not open it. A and B, as they ran, are now
    both listed, A chosen."""
    from culturesim.cli import main

    assert main(["compare", "baseline", "google_20pct", "--seeds", "2", "--months", "2",
                 "--out", str(tmp_path / "cmp")]) == 0  # fmt: skip
    _, rc = render(StrategistPage)
    [select] = [w for w in of(rc, v.Select) if w.label == "Scenario file"]
    upload(rc, "manifest.json", (tmp_path / "cmp" / "manifest.json").read_bytes())
    assert select.v_model == "manifest.json A (uploaded)"
    assert select.items[-2:] == ["manifest.json A (uploaded)", "manifest.json B (uploaded)"]
    assert "Loaded upload manifest.json A." in dump(rc)
    default = f"{LEVERS['innovation_time'].default:g} ·"
    assert lever_cost(rc, "innovation_time").startswith(default)  # A: the baseline
    select.v_model = "manifest.json B (uploaded)"
    wait(lambda: lever_cost(rc, "innovation_time").startswith("0.2 ·"))  # B: the 20% rule
    assert "Loaded upload manifest.json B." in dump(rc)
    select.v_model = "manifest.json A (uploaded)"  # and back
    wait(lambda: lever_cost(rc, "innovation_time").startswith(default))


def test_an_uploads_events_after_the_pages_horizon_are_left_out_and_said(upload):
    """A ten-year scenario loads at the page's 60 months; its event at month 90 was kept and
    Run then refused the whole setting ("past the horizon"). Now the page leaves it out, says
    so as it loads (as `run --months` says so), and runs the rest."""
    layoff = '[[events]]\nmonth = {}\nkind = "layoff"\nshare = {}\n'
    text = '[meta]\nname = "long"\nmonths = 120\n' + layoff.format(30, 0.1) + layoff.format(90, 0.2)
    _, rc = render(StrategistPage)
    upload(rc, "long.toml", text.encode())
    said = "horizon set to 60 months; left out, after it: layoff at month 90"
    assert f"Loaded upload long.toml ({said})." in dump(rc)
    [tabs] = [w for w in of(rc, v.BtnToggle) if "view-tabs" in (w.class_ or "")]
    tabs.v_model = "Events"
    assert "Month 30: layoff" in dump(rc) and "Month 90" not in dump(rc)
    set_run_size(rc, months=36, replications=1)
    click(rc, "Run")
    wait(lambda: "1 of 1 replications" in " ".join(html_text(rc, "run-progress")))
    assert "past the horizon" not in dump(rc)


def test_an_upload_is_listed_and_the_scenarios_can_be_chosen_again_after_it(upload):
    """After an upload the scenario list still said "baseline", and choosing baseline there did
    nothing (the list's value had not changed): the page kept the upload. The upload is now the
    list's choice, and either can be chosen again."""
    _, rc = render(StrategistPage)
    [select] = [w for w in of(rc, v.Select) if w.label == "Scenario file"]
    upload(rc, "mine.toml", b"[meta]\nmonths = 48\n[levers]\ninnovation_time = 0.3\n")
    assert select.v_model == "mine.toml (uploaded)" and "mine.toml (uploaded)" in select.items
    select.v_model = "baseline"
    default = f"{LEVERS['innovation_time'].default:g} ·"
    wait(lambda: lever_cost(rc, "innovation_time").startswith(default))
    assert "Loaded scenarios/baseline.toml." in dump(rc)
    assert "Horizon: 60 months" in dump(rc)
    select.v_model = "mine.toml (uploaded)"  # the upload again, as it was loaded
    wait(lambda: lever_cost(rc, "innovation_time").startswith("0.3 ·"))
    assert "Loaded upload mine.toml." in dump(rc) and "Horizon: 48 months" in dump(rc)


def test_a_setting_larger_than_the_server_runs_is_refused(monkeypatch):
    setting = strategist.compose(strategist.load_scenario("hypergrowth"), {}, [], 60)
    planned = setting.planned_headcount()  # 120 doubling every year: 120 x 2^5
    assert planned == pytest.approx(3840.0)
    monkeypatch.setenv("CULTURESIM_UI_MAX_EMPLOYEES", "3000")
    monkeypatch.setenv("CULTURESIM_UI_MAX_USERS", "150000")
    with pytest.raises(ScenarioError) as info:
        strategist.compose(setting, {}, [], 60)
    assert info.value.problems == [
        "organization.employees: this setting plans up to 3,840 employees by month 60; this "
        "server runs at most 3,000 (culturesim ui --max-employees); any size runs with "
        "culturesim run",
        "market.potential_users: 200,000; this server runs at most 150,000 (culturesim ui "
        "--max-users); any size runs with culturesim run",
    ]
    # a merger's people count, and a shorter horizon plans fewer
    merger = {"month": 6, "kind": "merger", "headcount": 1000,
              "values": dict.fromkeys(setting.organization.core_values, 0.5)}  # fmt: skip
    monkeypatch.setenv("CULTURESIM_UI_MAX_USERS", "200000")
    assert strategist.compose(setting, {}, [], 36).meta.months == 36  # 960 planned
    with pytest.raises(ScenarioError, match="plans up to 8,960 employees by month 36"):
        strategist.compose(setting, {}, [merger], 36)


def test_an_upload_with_more_events_than_the_page_lists_is_refused():
    """12,000 events fit in a 1 MB upload: the Events view listed them all, and the server was
    busy for a minute, other visitors' pages waiting (11 s for a page that loads in 2)."""
    event = '[[events]]\nmonth = 3\nkind = "set_lever"\nlever = "transparency"\nvalue = 0.6\n'
    limit = runs.UI_MAX_EVENTS
    [(label, scenario)] = runs.parse_upload("ok.toml", (event * limit).encode())
    assert label == "ok.toml" and len(scenario.events) == limit
    said = (f"events: {limit + 1:,} events; this page lists and edits at most {limit:,}; any "
            "number runs with culturesim run")  # fmt: skip
    with pytest.raises(ScenarioError) as info:
        runs.parse_upload("many.toml", (event * (limit + 1)).encode())
    assert str(info.value) == f"many.toml: {said}"
    # nor does the page's own editor go past it
    base = strategist.load_scenario("baseline")
    events = [{"month": 3, "kind": "set_lever", "lever": "transparency", "value": 0.6}] * limit
    assert len(strategist.compose(base, {}, events, 60).events) == limit
    with pytest.raises(ScenarioError) as info:
        strategist.compose(base, {}, [*events, events[0]], 60)
    assert info.value.problems == [said]


def test_replications_past_the_largest_seed_are_refused_in_the_page():
    """An upload's meta.seed near 2**63 - 1 with ten replications ran seeds past it; the page
    now says so where it shows a setting's problems, and Run runs nothing."""
    top = 2**63 - 1
    base = strategist.load_scenario("baseline").with_changes({"meta.seed": top - 9})
    assert strategist.compose(base, {}, [], 60, 10).meta.seed == top - 9  # the last one fits
    with pytest.raises(ScenarioError) as info:
        strategist.compose(base, {}, [], 60, 11)
    assert info.value.problems == [
        f"meta.seed: value {top - 9} with 11 replications (seeds meta.seed to meta.seed + 10) "
        f"passes the largest seed, {top}; allowed range 0 to {top - 10} for 11 replications"
    ]


def test_two_sessions_keep_their_own_levers():
    _, rc1 = render(StrategistPage)
    _, rc2 = render(StrategistPage)
    set_slider(rc1, "lever-innovation_time", 0.45)
    set_slider(rc2, "lever-innovation_time", 0.0)
    assert lever_cost(rc1, "innovation_time").startswith("0.45 ·")
    assert lever_cost(rc2, "innovation_time").startswith("0 ·")


def test_event_editor_adds_edits_and_removes_events():
    _, rc = render(StrategistPage)
    [tabs] = [w for w in of(rc, v.BtnToggle) if "view-tabs" in (w.class_ or "")]
    tabs.v_model = "Events"
    click(rc, "Add event")  # the default: an incident at month 18
    assert "Month 18: incident (severity=0.5)" in dump(rc)
    click(rc, "Edit")
    month = next(w for w in of(rc, v.TextField) if w.label == "Month")
    month.v_model = "70"  # past the horizon: refused with the reason
    click(rc, "Save event")
    assert "past the horizon" in dump(rc)
    month.v_model = "24"
    click(rc, "Save event")
    assert "Month 24: incident" in dump(rc) and "Month 18: incident" not in dump(rc)
    click(rc, "Remove")
    assert "Month 24: incident" not in dump(rc)


def test_the_classroom_month_keeps_its_width_as_it_plays():
    """From "Month 9" to "Month 10" the counter grew, and on a 1280-px projector the Reset
    button beside it jumped to a line of its own. Months are padded to the horizon's digits
    with figure spaces (a digit's width; the counter's digits are tabular)."""
    texts = [month_text(m, 48) for m in (0, 9, 10, 48)] + [month_text(5, 120)]
    assert texts[0] == "Month \u20070 of 48" and texts[2] == "Month 10 of 48"
    assert len({len(t) for t in texts[:4]}) == 1 and texts[4] == "Month \u2007\u20075 of 120"
    assert month_text(None, 48) == "Month —"


def built(rc, months: int) -> bool:
    """Whether the classroom's company is built and shown (Setup's task is done)."""
    text = dump(rc)
    return month_text(0, months) in text and "Building the company" not in text


def first_lesson_built():
    """The classroom at its first lesson, a prediction made and the company built.

    Returns:
        The render context, the lesson and its horizon.
    """
    _, rc = render(ClassroomPage)
    lesson = next(iter(LESSONS.values()))
    months = lesson.preset().meta.months
    click(rc, lesson.choices[0])
    click(rc, "Setup")
    wait(lambda: built(rc, months))
    return rc, lesson, months


@pytest.mark.parametrize("key", list(LESSONS))
def test_each_lesson_asks_first_then_runs(key):
    _, rc = render(ClassroomPage)
    lesson = LESSONS[key]
    [select] = [w for w in of(rc, v.Select) if w.label == "Lesson"]
    select.v_model = lesson.title
    [setup] = [w for w in of(rc, v.Btn) if "Setup" in w.children]
    assert setup.disabled  # predict first
    text = dump(rc)
    assert lesson.question in text and lesson.what in text and "How it works" in text
    assert "Things to notice" not in text  # shown after the run
    # the lever's setting is written out: the slider's track does not show it
    setting = lesson.preset().levers.model_dump()[lesson.lever]
    [lever_text] = html_text(rc, "lever-cost")
    assert lever_text.startswith(f"{setting:g} · $") and "/month" in lever_text
    [slider] = [w for w in of(rc, v.Slider) if w.label.startswith(LEVERS[lesson.lever].label)]
    slider.v_model = LEVERS[lesson.lever].hi
    assert html_text(rc, "lever-cost")[0].startswith(f"{LEVERS[lesson.lever].hi:g} · $")
    slider.v_model = setting
    click(rc, lesson.choices[0])
    click(rc, "Setup")
    months = lesson.preset().meta.months
    wait(lambda: built(rc, months))  # the company is built off the page's thread
    click(rc, "Step")
    click(rc, "Step")
    assert month_text(2, months) in dump(rc)


def _lesson_run(lesson) -> tuple:
    """The classroom on ``lesson``, predicted, set up and stepped to the horizon: ``rc``."""
    _, rc = render(ClassroomPage)
    [select] = [w for w in of(rc, v.Select) if w.label == "Lesson"]
    select.v_model = lesson.title
    click(rc, lesson.choices[0])
    click(rc, "Setup")
    _run_to_the_horizon(rc, lesson.preset().meta.months)
    return rc


def _run_to_the_horizon(rc, months: int) -> None:
    """Wait for the classroom's company (after Setup or Reset), then step it to ``months``."""
    wait(lambda: built(rc, months))
    for _ in range(months):
        click(rc, "Step")
    assert month_text(months, months) in dump(rc)


@pytest.mark.parametrize("key", ["twenty_percent", "pay_retention"])
def test_a_lesson_comparing_two_settings_asks_for_the_other_run_once_one_ends(key):
    """The 20% rule's question compares 20% with 10%, the pay lesson's a 10% raise with the
    median, but a run is of one setting (the lesson's), and nothing said to run the other: the
    class saw "Does the run agree?" with half the answer. Once a run ends, the page names the
    other setting; run, it stands beside this one and the page asks no more."""
    lesson = LESSONS[key]
    lever = LEVERS[lesson.lever]
    rc = _lesson_run(lesson)
    hint = f"The question compares with {lever.label.lower()} {lesson.compare:g}: set it"
    assert lesson.preset().levers.model_dump()[lesson.lever] != lesson.compare
    assert hint in dump(rc)
    [slider] = [w for w in of(rc, v.Slider) if w.label.startswith(lever.label)]
    slider.v_model = lesson.compare
    click(rc, "Reset")
    _run_to_the_horizon(rc, lesson.preset().meta.months)
    assert hint not in dump(rc) and "The question compares" not in dump(rc)
    assert f"{lever.label.lower()} {lesson.preset().levers.model_dump()[lesson.lever]:g}" in (
        " ".join(html_text(rc, "runs-caption"))
    )


def test_a_lesson_whose_question_one_run_answers_asks_for_no_other():
    lesson = LESSONS["incident_trust"]
    rc = _lesson_run(lesson)
    assert lesson.compare is None and "The question compares" not in dump(rc)


def test_classroom_setup_waits_for_the_workers_warm_up_and_says_why(monkeypatch):
    warmed = threading.Event()  # a warm-up under way: the workers compiling the model
    monkeypatch.setattr(runs, "_WARMED", warmed)
    _, rc = render(ClassroomPage)
    lesson = next(iter(LESSONS.values()))
    click(rc, lesson.choices[0])
    click(rc, "Setup")
    wait(lambda: "still preparing the model" in dump(rc))
    [setup] = [w for w in of(rc, v.Btn) if "Setup" in w.children]
    assert setup.disabled  # one company at a time
    time.sleep(0.5)
    assert "Month —" in dump(rc)  # nothing built while the workers compile
    warmed.set()  # the warm-up is done: the company is built from the compiled kernels
    wait(lambda: built(rc, lesson.preset().meta.months))


def test_workers_that_cannot_start_are_one_line_in_the_servers_log(monkeypatch, capsys):
    """With no room for the pool's locks or the fork server's socket (a full disk, /dev/shm),
    the warm-up thread died with a traceback in the server's log."""
    import errno

    def no_room():
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runs, "executor", no_room)
    monkeypatch.setattr(runs, "_READY", threading.Event())
    monkeypatch.setattr(runs, "_WARMED", threading.Event())
    runs.warm_up()
    assert capsys.readouterr().err == (
        "culturesim UI: the workers could not start: [Errno 28] No space left on device\n"
    )
    assert runs._WARMED.is_set() and not runs._READY.is_set()  # the classroom does not wait


def test_classroom_plays_pauses_plays_again_and_stops_at_the_horizon():
    rc, _, months = first_lesson_built()
    month = lambda: int(re.search(rf"Month\s*(\d+) of {months}", dump(rc)).group(1))  # noqa: E731
    click(rc, "Play")
    wait(lambda: month() >= 2)
    click(rc, "Pause")
    time.sleep(0.6)  # a step under way ends
    paused = month()
    time.sleep(0.6)
    assert month() == paused  # paused: no more steps
    [speed] = [w for w in of(rc, v.Slider) if w.label == "Speed: 4 months a second"]
    speed.v_model = 2
    assert speed.label == "Speed: 2 months a second"
    click(rc, "Play")
    click(rc, "Pause")
    click(rc, "Play")  # at once: the first loop, still asleep, must not go on beside the second
    start = month()
    time.sleep(2.2)
    assert month() - start <= 5  # one loop at 2 months a second; two would make about 9
    speed.v_model = 12
    wait(lambda: month() == months, timeout=120)
    wait(lambda: "Play" in dump(rc))  # it stopped by itself at the horizon
    assert "Pause" not in dump(rc)


class StepClock:
    """A clock for the play loop: its sleeps are recorded and pass at once; a month's step
    moves it on by ``step_seconds`` (the time the model and the drawing took)."""

    def __init__(self, step_seconds: float):
        self.now, self.step_seconds, self.pauses = 100.0, step_seconds, []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds
        time.sleep(0.01)  # let the page's thread run


def test_classroom_plays_at_the_chosen_speed_whatever_a_month_takes(monkeypatch):
    from culturesim.ui import classroom

    clock = StepClock(step_seconds=0.2)
    monkeypatch.setattr(classroom, "time", clock)
    step = CultureModel.step

    def slow_step(model):
        step(model)
        clock.now += clock.step_seconds

    monkeypatch.setattr(CultureModel, "step", slow_step)
    rc, _, _ = first_lesson_built()
    has_button = lambda label: any(label in w.children for w in of(rc, v.Btn))  # noqa: E731

    def play_until(pauses: int) -> list[float]:
        """Play until the loop has paused ``pauses`` times; its pauses, once it stopped."""
        clock.pauses = []
        click(rc, "Play")
        wait(lambda: len(clock.pauses) >= pauses)
        click(rc, "Pause")
        wait(lambda: has_button("Play"))
        time.sleep(0.2)  # the loop, asleep when paused, wakes and stops
        return clock.pauses

    # at the default 4 months a second a month starts every 0.25 s: the first after a whole
    # interval, the next after what a month of 0.2 s left of it
    pauses = play_until(4)
    assert pauses[0] == pytest.approx(0.25)
    assert pauses[1:4] == pytest.approx([0.05] * 3)
    clock.step_seconds = 0.4  # months slower than the speed: each follows the last at once
    pauses = play_until(4)
    assert pauses[1:4] == pytest.approx([0.0] * 3)


def test_classroom_lever_moved_while_a_month_runs_waits_for_the_month_to_end(monkeypatch):
    """The play loop steps the model on a thread of its own, and the lever slider wrote the
    model's levers at once: a drag during Play changed the lever in the middle of a month (its
    kernels release the GIL), some processes reading the old value and some the new, and the
    run's caption dated the change from a month counter the step was moving. A change made while
    a month runs now waits for it, and takes effect from the next month, as a set_lever event."""
    seen = []  # (month, lever at the month's start, lever at its end)
    step = CultureModel.step
    in_step = threading.Event()

    def slow_step(model):
        before = model.levers[lesson.lever]
        in_step.set()
        time.sleep(0.15)  # a month that takes a while (the model and, on a server, the drawing)
        step(model)
        seen.append((model.month, before, model.levers[lesson.lever]))
        in_step.clear()

    monkeypatch.setattr(CultureModel, "step", slow_step)  # before the model is made: Mesa wraps it
    rc, lesson, _ = first_lesson_built()
    lever = LEVERS[lesson.lever]
    [slider] = [w for w in of(rc, v.Slider) if w.label.startswith(lever.label)]
    click(rc, "Play")
    values = [lever.hi, lever.lo, lever.hi]
    for value in values:
        wait(in_step.is_set)  # a month under way
        slider.v_model = value
    wait(lambda: len(seen) >= 5)
    click(rc, "Pause")
    time.sleep(0.4)  # the month under way ends
    assert all(before == after for _, before, after in seen), seen
    assert [after for _, _, after in seen][-1] == values[-1]


def test_classroom_drawn_while_a_month_runs_shows_one_month(monkeypatch):
    """The page drew from the model on whatever thread re-rendered it (a slider moved, a
    prediction clicked) while the play loop stepped it: a drawing made in the middle of a
    month showed that month's number and network beside charts that ended a month earlier.
    It now waits for the month under way, as Step, the lever and Reset do."""
    record = CultureModel.record
    measuring, go_on = threading.Event(), threading.Event()

    def slow_record(model):  # the month's processes have run; its KPIs are not yet recorded
        if model.month == 1:
            measuring.set()
            go_on.wait(10)
        record(model)

    monkeypatch.setattr(CultureModel, "record", slow_record)
    rc, _, months = first_lesson_built()
    stepping = threading.Thread(target=click, args=(rc, "Step"))
    stepping.start()
    wait(measuring.is_set)  # month 1 under way
    seen = []

    def redraw():  # another hand re-renders the page: the speed slider moved
        [speed] = [w for w in of(rc, v.Slider) if w.label.startswith("Speed")]
        speed.v_model = 9
        [chart, *_] = [w for w in of(rc, OptionWidget) if w.option.value["series"][0]["type"]
                       == "line"]  # fmt: skip
        shown = [m for m in range(months + 1) if month_text(m, months) in dump(rc)]
        seen.append((shown, len(chart.option.value["series"][0]["data"])))

    drawing = threading.Thread(target=redraw)
    drawing.start()
    drawing.join(2.0)  # old code: drawn at once, in the middle of month 1
    go_on.set()
    stepping.join(10)
    drawing.join(10)
    [(shown, points)] = seen
    assert shown == [points - 1]  # "Month 1" beside months 0 and 1 (not 0 alone)


def test_a_classroom_run_that_fails_says_so_in_the_page_and_reset_starts_afresh(monkeypatch):
    """A month that raised (out of memory on a busy server, say) stopped the play loop's
    thread with a traceback in the server's log only: the class saw the page stuck on "Pause"
    at the month before, and Step raised out of its button. The page now says why the run
    stopped, Step and Play are off, and Reset builds the company afresh."""
    step = CultureModel.step
    failing = [True]

    def step_that_fails_in_month_3(model):
        if failing[0] and model.month == 2:
            raise MemoryError("no room for month 3")
        step(model)

    monkeypatch.setattr(CultureModel, "step", step_that_fails_in_month_3)
    rc, _, months = first_lesson_built()
    click(rc, "Play")
    said = "The run stopped in month 3: MemoryError: no room for month 3"
    wait(lambda: said in " ".join(alert_text(rc, "run-failure")))
    wait(lambda: any("Play" in w.children for w in of(rc, v.Btn)))  # not stuck on Pause
    assert month_text(2, months) in dump(rc)
    for label in ("Step", "Play"):
        [button] = [w for w in of(rc, v.Btn) if label in w.children]
        assert button.disabled
    failing[0] = False
    click(rc, "Reset")
    wait(lambda: built(rc, months) and not alert_text(rc, "run-failure"))
    assert not html_text(rc, "runs-caption")  # the run that stopped is not kept to compare
    click(rc, "Step")
    assert month_text(1, months) in dump(rc)


def test_a_company_the_classroom_cannot_build_is_said_and_setup_stays_on(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise MemoryError("no room for the company")

    monkeypatch.setattr(CultureModel, "__init__", refuse)
    _, rc = render(ClassroomPage)
    lesson = next(iter(LESSONS.values()))
    click(rc, lesson.choices[0])
    click(rc, "Setup")
    said = "The company could not be built: MemoryError: no room for the company"
    wait(lambda: said in " ".join(alert_text(rc, "run-failure")))
    [setup] = [w for w in of(rc, v.Btn) if "Setup" in w.children]
    assert not setup.disabled and "Month —" in dump(rc)


def test_compare_pins_a_and_summarises_b_against_a_paired(monkeypatch):
    """B is compared as its replications land. The page compared only a finished B: while B
    ran it said "Change levers or events and press Run to see B against A" to a visitor who
    just had."""
    _, rc = render(StrategistPage)
    set_run_size(rc, months=36, replications=3)
    click(rc, "Run")
    wait(lambda: "3 of 3 replications" in " ".join(html_text(rc, "run-progress")))
    [pin] = [w for w in of(rc, v.Btn) if "Pin as A" in w.children]
    wait(lambda: not pin.disabled)
    click(rc, "Pin as A")
    [tabs] = [w for w in of(rc, v.BtnToggle) if "view-tabs" in (w.class_ or "")]
    tabs.v_model = "Compare"
    assert "Change levers or events and press Run" in dump(rc)
    set_slider(rc, "lever-compensation_premium", 0.3)
    # B held before its first replication, and again after it, until the test lets it go
    real_run_one, held, go = runs.run_one, [threading.Event(), threading.Event()], []

    def held_run_one(scenario, seed, months, snapshots):
        if len(go) < 2:
            go.append(seed)
            assert held[len(go) - 1].wait(60)
        return real_run_one(scenario, seed, months, snapshots)

    monkeypatch.setattr(runs, "run_one", held_run_one)
    pool = ThreadPoolExecutor(1)  # replications land one by one, as from the server's workers
    monkeypatch.setattr(runs, "executor", lambda: pool)
    click(rc, "Run")
    wait(lambda: len(go) == 1)
    text = dump(rc)
    assert "shows as soon as B's first replication lands" in text
    assert "Change levers or events and press Run" not in text
    held[0].set()  # the first lands; the second is held
    wait(lambda: "so far (B is still running)" in dump(rc))
    assert "paired over 1 common seed so far" in dump(rc)
    assert html_text(rc, "compare-caveat") == []  # one seed: no intervals to read together
    assert html_text(rc, "compare-funding") == []  # nor a clear difference in funding
    assert len(html_text(rc, "compare-line")) == len(SUMMARY_KPIS)
    held[1].set()
    wait(lambda: "3 of 3 replications" in " ".join(html_text(rc, "run-progress")))
    wait(lambda: "paired over 3 common seeds (common" in dump(rc))
    pool.shutdown()
    text = dump(rc)
    assert "paired over 3 common seeds" in text
    # ten intervals read together: one may miss by chance (it went unsaid)
    assert html_text(rc, "compare-caveat") == [many_intervals(len(SUMMARY_KPIS))]
    assert "of 10 read together, one may miss it by chance" in many_intervals(10)
    # B's pay brings its round forward, earlier and smaller: what cash owes to it is said
    [note] = html_text(rc, "compare-funding")
    assert note.startswith("Cash and runway at year 3 count funding rounds, and B raised $"), note
    assert "Before funding, B's cash ends $" in note and " below A's" in note, note
    line = next(t for t in html_text(rc, "compare-line") if t.startswith("Attrition at year 3"))
    b, a = map(float, re.search(r": B ([\d.]+)% vs A ([\d.]+)% — ", line).groups())
    assert b < a and "points" in line  # B pays 30% more: "B 4.0% vs A 13.1% — −9.1 points"
    assert len(of(rc, solara.components.echarts.EchartsWidget)) == len(SUMMARY_KPIS)


def test_compare_says_why_b_does_not_pair_with_a():
    """B uploaded with another meta.seed shares no seed with A: the page said "B must use A's
    horizon", its horizon the same; and it said so too while B's first replication ran."""
    base = strategist.load_scenario("baseline").with_changes({"meta.months": 36})
    a = runs.Ensemble(base, [0, 1, 2])  # what it ran is not needed to say why B does not pair

    def shown(b: runs.Ensemble) -> str:
        _, rc = solara.render(strategist.CompareView(a, b), handle_error=False)
        OPEN.append(rc)
        return dump(rc)

    other = base.with_changes({"meta.seed": 100, "levers.inclusion": 0.8})
    said = shown(runs.Ensemble(other, [100, 101, 102]))
    assert "B's seeds (100–102) share none with A's (0–2), so nothing pairs them: give B A's " \
        "meta.seed (0) to compare it." in said and "horizon" not in said  # fmt: skip
    longer = base.with_changes({"meta.months": 48, "levers.inclusion": 0.8})
    assert "B must use A's horizon" in shown(runs.Ensemble(longer, [0, 1, 2]))
    running = runs.Ensemble(base.with_changes({"levers.inclusion": 0.8}), [0, 1, 2])
    said = shown(running)  # none of B's replications has landed yet
    assert "shows as soon as B's first replication lands" in said and "horizon" not in said


def test_downloads_reproduce_the_view():
    """The TOML download re-runs to the very numbers in the CSV download; the PNG is a PNG."""
    import tomllib

    import pandas as pd
    from solara.components.file_download import FileDownloadWidget

    from culturesim import simulate
    from culturesim.scenario import scenario_from_dict

    _, rc = render(StrategistPage)
    set_run_size(rc, months=36, replications=2)
    set_slider(rc, "lever-transparency", 0.9)
    click(rc, "Run")
    wait(lambda: "2 of 2 replications" in " ".join(html_text(rc, "run-progress")))
    [tabs] = [w for w in of(rc, v.BtnToggle) if "view-tabs" in (w.class_ or "")]
    tabs.v_model = "Downloads"

    def fetch(name: str) -> bytes:
        wait(lambda: any(w.filename == name for w in of(rc, FileDownloadWidget)))
        [widget] = [w for w in of(rc, FileDownloadWidget) if w.filename == name]
        widget.request_download = True
        wait(lambda: widget.bytes is not None)
        return widget.bytes

    toml = fetch("scenario.toml").decode()
    scenario = scenario_from_dict(tomllib.loads(toml))
    assert scenario.levers.transparency == 0.9 and scenario.meta.months == 36
    assert "# How openly leadership shares plans" in toml  # every key explained
    table = pd.read_csv(io.BytesIO(fetch("results.csv")))
    assert sorted(table["seed"].unique()) == [scenario.meta.seed, scenario.meta.seed + 1]
    again = simulate(scenario, seed=scenario.meta.seed + 1).kpis
    shown = table[table["seed"] == scenario.meta.seed + 1].set_index("month")[again.columns]
    np.testing.assert_allclose(shown.to_numpy(), again.to_numpy(), rtol=1e-12)
    assert fetch("charts.png").startswith(b"\x89PNG")


def test_band_charts_stack_below_zero_and_show_the_numbers():
    """The band is base + width: it must sit between lo and hi even where both are negative."""
    import pandas as pd

    from culturesim.ui import charts

    b = pd.DataFrame({"lo": [-3.0, -2.0], "median": [-2.0, 0.5], "hi": [-1.0, 1.0]})
    option = charts.diff_option("nps", b.rename(columns={"median": "mean"}))
    base, width, mean = option["series"]
    assert base["stackStrategy"] == width["stackStrategy"] == "all"
    assert (
        base["data"] == [-3.0, -2.0] and width["data"] == [2.0, 3.0] and mean["data"] == [-2.0, 0.5]
    )
    assert {"yAxis": 0, "name": ""} in mean["markLine"]["data"]  # the zero line
    option = charts.band_option("cash", b * 1e6)
    assert [s["data"] for s in option["series"]] == [[-3.0, -2.0], [2.0, 2.0 + 1.0], [-2.0, 0.5]]


def test_month_axes_are_labelled_by_year_in_the_page_and_in_the_figures():
    """0, 12, ..., 60 over five years: the libraries by themselves chose 0, 7, ..., 56 (ECharts)
    and 0, 10, ..., 60 (matplotlib)."""
    import matplotlib.pyplot as plt

    from culturesim.plots import dashboard
    from culturesim.ui import classroom

    months = np.arange(61)
    calm = pd.DataFrame({"lo": 0.5, "median": 0.6, "hi": 0.7}, index=months)
    axis = charts.band_option("engagement", calm)["xAxis"]
    shown = [m for i, m in enumerate(axis["data"]) if i % (axis["axisLabel"]["interval"] + 1) == 0]
    assert shown == [0, 12, 24, 36, 48, 60]
    assert axis["axisTick"]["interval"] == axis["axisLabel"]["interval"]
    long = pd.DataFrame({"lo": 0.5, "median": 0.6, "hi": 0.7}, index=np.arange(121))
    assert charts.band_option("engagement", long)["xAxis"]["axisLabel"]["interval"] == 23
    assert charts.band_option("engagement", calm.iloc[:13])["xAxis"]["axisLabel"]["interval"] == 5
    big = classroom._history_option(CultureModel(rng=0), "engagement", 36)["xAxis"]
    assert big["axisLabel"]["interval"] == 11 and big["axisLabel"]["fontSize"] == 16
    assert big["data"][-1] == 36

    frame = pd.DataFrame({"month": months, "run_id": 0, "engagement": 0.6, "cash": 1e6})
    fig = dashboard(frame, kpis=["engagement", "cash"])
    ticks = [[t for t in ax.get_xticks() if 0 <= t <= 60] for ax in fig.axes[:2]]
    plt.close(fig)
    assert ticks == [[0, 12, 24, 36, 48, 60]] * 2


def test_a_dashboard_with_a_short_last_row_labels_every_column():
    """Five panels: the second to fourth columns end a row early; their x axes are labelled."""
    import matplotlib.pyplot as plt

    from culturesim.plots import dashboard

    kpis = ["engagement", "cash", "headcount", "quits", "nps"]
    frame = pd.DataFrame({"month": np.arange(37), "run_id": 0} | dict.fromkeys(kpis, 1.0))
    fig = dashboard(frame, kpis=kpis)
    fig.canvas.draw()
    labelled = [
        ax.get_xlabel() == "month" and any(t.get_text() for t in ax.get_xticklabels())
        for ax in fig.axes
        if ax.get_visible()
    ]
    plt.close(fig)
    assert labelled == [False, True, True, True, True]  # the first column's is below it


def test_workload_charts_mark_overload_at_1_in_view():
    import matplotlib.pyplot as plt
    import pandas as pd

    from culturesim.plots import dashboard
    from culturesim.ui import charts

    calm = pd.DataFrame({"lo": [0.7, 0.72], "median": [0.75, 0.8], "hi": [0.8, 0.85]})
    option = charts.band_option("workload", calm)
    assert {"yAxis": 1.0, "name": "overload"} in option["series"][2]["markLine"]["data"]
    assert option["yAxis"]["max"] == 1.0  # a mark line alone would be off the chart
    assert "max" not in charts.band_option("workload", calm + 0.5)["yAxis"]  # over it: auto
    assert all(
        m.get("yAxis") is None
        for m in charts.band_option("engagement", calm)["series"][2]["markLine"]["data"]
    )
    runs_frame = pd.DataFrame({"month": [0, 1], "run_id": 0, "workload": calm["median"],
                               "engagement": calm["median"]})  # fmt: skip
    fig = dashboard(runs_frame, kpis=["workload", "engagement"])
    flat = [
        [ln for ln in ax.get_lines() if np.ptp(ln.get_ydata()) == 0 and ln.get_ydata()[0] == 1]
        for ax in fig.axes[:2]
    ]
    plt.close(fig)
    assert [len(lines) for lines in flat] == [1, 0]


def test_a_small_change_is_drawn_as_the_near_flat_line_it_is():
    """Partners' trust from 0.6876 to 0.6882 filled its panel bottom to top, a steep climb to
    the eye, under an offset the dashboard printed as "1e-5+5.683e-1"; so did the page's."""
    import matplotlib.pyplot as plt

    from culturesim.kpis import LEAST_SPAN, value_limits
    from culturesim.plots import dashboard
    from culturesim.ui import classroom

    bottom, top = value_limits("partner_trust", 0.6876, 0.6882)
    assert bottom <= 0.6876 and top >= 0.6882 and top - bottom >= LEAST_SPAN * 0.6882
    assert (bottom, top) == (0.67, 0.71)  # round numbers
    assert value_limits("user_trust", 0.999, 1.0) == (0.95, 1.0)  # in the KPI's range
    assert value_limits("nps", 54.25, 56.25) == (53.0, 57.0)
    assert value_limits("time_to_fill_months", 2.62, 3.08) is None  # a change to see: fitted
    assert value_limits("engagement", 0.0, 0.0) is None
    assert value_limits("workload", 0.76, 0.765) is None  # up to overload at 1: change enough

    months = np.arange(13)
    trust = 0.6876 + 0.00005 * months
    frame = pd.DataFrame({"month": months, "run_id": 0, "partner_trust": trust,
                          "employer_brand": 0.56831 - 1e-6 * months,
                          "attrition_rate_annual": 0.14 + 0.013 * months})  # fmt: skip
    fig = dashboard(frame, kpis=["partner_trust", "employer_brand", "attrition_rate_annual"])
    fig.canvas.draw()
    limits = [ax.get_ylim() for ax in fig.axes[:3]]
    offsets = [ax.yaxis.get_offset_text().get_text() for ax in fig.axes[:3]]
    plt.close(fig)
    assert limits[0] == (0.67, 0.71) and limits[1] == (0.55, 0.59)
    assert limits[2][0] > 0.12 and limits[2][1] < 0.31  # a real change keeps the fitted axis
    assert offsets == ["", "", ""]

    band = pd.DataFrame({"lo": trust, "median": trust, "hi": trust})
    axis = charts.band_option("partner_trust", band)["yAxis"]
    assert (axis["min"], axis["max"]) == (0.67, 0.71)
    rising = pd.DataFrame(dict.fromkeys(["lo", "median", "hi"], 0.1 + 0.01 * months))
    assert "min" not in charts.band_option("attrition_rate_annual", rising)["yAxis"]
    diff = charts.diff_option("partner_trust", (band - 0.6876).rename(columns={"median": "mean"}))
    assert "min" not in diff["yAxis"]  # a difference is read against zero: fitted
    model = CultureModel(rng=0)
    model.run(3)
    axis = classroom._history_option(model, "partner_trust", 36)["yAxis"]
    shown = model.history["partner_trust"]
    assert axis["min"] <= min(shown) and axis["max"] >= max(shown)
    assert axis["max"] - axis["min"] >= LEAST_SPAN * max(shown)
    # whole things tick whole numbers: a flat 6 partners read 5.85, 5.9, ..., 6.15
    flat = pd.DataFrame({"month": months, "run_id": 0, "partners_active": 6.0})
    fig = dashboard(flat, kpis=["partners_active"])
    fig.canvas.draw()
    ax = fig.axes[0]
    shown_ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    plt.close(fig)
    assert shown_ticks == [6.0]
    sixes = pd.DataFrame(dict.fromkeys(["lo", "median", "hi"], [6.0] * 13))
    assert charts.band_option("partners_active", sixes)["yAxis"]["minInterval"] == 1
    assert "minInterval" not in charts.band_option("partner_trust", band)["yAxis"]
    # and group their thousands: active users ticked "20000", "40000", ... (ECharts groups)
    users = pd.DataFrame({"month": months, "run_id": 0, "users_active": 15_000.0 + 5e3 * months})
    fig = dashboard(users, kpis=["users_active"])
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert "20,000" in labels and all("," in x for x in labels if len(x) > 3), labels
    workload = classroom._history_option(model, "workload", 36)  # the class sees overload too
    assert {"yAxis": 1.0, "name": "overload"} in workload["series"][0]["markLine"]["data"]
    assert max(model.history["workload"]) < 1.0 and workload["yAxis"]["max"] == 1.0


def test_the_dashboard_is_titled_with_its_scenario():
    import matplotlib.pyplot as plt

    from culturesim.plots import dashboard

    frame = pd.DataFrame({"month": [0, 1, 0, 1], "run_id": [0, 0, 1, 1], "cash": 1e6,
                          "engagement": 0.6})  # fmt: skip
    fig = dashboard(frame, title="google_20pct", kpis=["engagement", "cash"])
    suptitle = fig.get_suptitle()
    panels = [ax.get_title() for ax in fig.axes[:2]]
    plt.close(fig)
    # the last panel's label took the figure's title before (it read "Cash  —  ...")
    assert suptitle == "google_20pct  —  median and 10–90% band over 2 runs"
    assert panels == ["Engagement", "Cash (M$)"]


#: Four KPIs for a dashboard: one row.
DASHBOARD_FOUR = ["engagement", "cash", "headcount", "nps"]

#: A character DejaVu Sans (matplotlib's default) lacks and STIXGeneral (bundled with it) has.
TELEPHONE_RECORDER = "\u2315"
#: One no font culturesim falls back to has (an Egyptian hieroglyph).
HIEROGLYPH = "\U00013000"


def draw_title(title: str) -> list[str]:
    """Draw a dashboard titled ``title``; return the warnings drawing it gave."""
    import warnings

    import matplotlib.pyplot as plt

    from culturesim.plots import dashboard

    frame = pd.DataFrame({"month": [0, 1], "run_id": 0, "engagement": 0.6})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = dashboard(frame, title=title, kpis=["engagement"])
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)
    return [f"{w.category.__name__}: {w.message}" for w in caught]


def test_a_title_in_another_script_is_drawn_from_a_fallback_font(monkeypatch):
    """A scenario named in Chinese drew boxes and warned per character and drawing: the title
    now takes characters DejaVu Sans lacks from the first fallback font this machine has."""
    from matplotlib import font_manager

    from culturesim import plots

    dejavu = font_manager.get_font(font_manager.findfont("DejaVu Sans"))
    assert not dejavu.get_char_index(ord(TELEPHONE_RECORDER))  # what the test stands on
    monkeypatch.setattr(plots, "FALLBACK_FONTS", ("No Such Font", "STIXGeneral"))
    assert plots.fonts_for(f"Zürich {TELEPHONE_RECORDER}") == ["DejaVu Sans", "STIXGeneral"]
    assert draw_title(f"Zürich {TELEPHONE_RECORDER}") == []
    monkeypatch.setattr(plots, "FALLBACK_FONTS", ())  # none: boxes, and matplotlib's warning
    warned = draw_title(TELEPHONE_RECORDER)  # "missing from font(s) X" ("current font" in 3.8)
    assert any("missing from" in w for w in warned)


@pytest.mark.parametrize("title", ["Budget $5M vs $10M", "cut $\\frac{1$ now"])
def test_dollar_signs_in_a_title_are_drawn_as_written(title):
    """Matplotlib reads text between two $ as a formula: the first title lost its dollar signs
    to italics, and the second stopped `culturesim run` with a parse error after its runs."""
    from matplotlib import cbook

    from culturesim.plots import dashboard

    frame = pd.DataFrame({"month": [0, 1], "run_id": 0, "engagement": 0.6})
    fig = dashboard(frame, title=title, kpis=["engagement"])
    fig.savefig(io.BytesIO(), format="png")  # drawn, formula or not
    assert not cbook.is_math_text(fig.get_suptitle())  # plain text: every $ escaped
    assert fig.get_suptitle().replace("\\$", "$").startswith(f"{title}  —  ")
    assert fig.get_suptitle().endswith("over 1 run")


def test_a_long_name_is_wrapped_within_the_figure_and_cut_after_two_lines():
    """A 600-character scenario name ran off both sides of the dashboard's title (and with it
    how many runs the bands are over); its panels now start under the wrapped heading."""
    import matplotlib.pyplot as plt

    from culturesim.plots import dashboard

    name = "Series A scenario with a very long descriptive name " * 12
    frame = pd.DataFrame({"month": [0, 1], "run_id": 0} | dict.fromkeys(DASHBOARD_FOUR, 0.6))
    for title in (name[:200], name):
        fig = dashboard(frame, title=title, kpis=DASHBOARD_FOUR)
        renderer = fig.canvas.get_renderer()
        heading = fig._suptitle.get_window_extent(renderer)
        tops = [ax.get_tightbbox(renderer).y1 for ax in fig.axes]
        *named, what = fig.get_suptitle().splitlines()
        plt.close(fig)
        assert heading.x0 >= 0 and heading.x1 <= fig.bbox.width  # inside the figure
        assert max(tops) < heading.y0  # the panels under it
        assert what == "median and 10–90% band over 1 run" and len(named) <= 2
        if title == name:  # cut after two lines, and says so
            assert len(named) == 2 and named[1].endswith("…")
            assert name.startswith(" ".join(named)[:-1])
        else:  # whole
            assert " ".join(named) == title.strip()


def test_fitted_breaks_between_words_within_the_width_and_cuts_with_an_ellipsis():
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    from culturesim.plots import fitted

    families = ["DejaVu Sans"]
    prop = FontProperties(family=families, size=10)

    def width(line: str) -> float:
        return RendererAgg(1, 1, 72).get_text_width_height_descent(line, prop, False)[0]

    assert fitted("cost\ncutting\t 2027", 200, 10, families) == "cost cutting 2027"
    words = "the twenty percent rule with a training budget and open books " * 3
    two = fitted(words, 200, 10, families)
    assert [width(line) <= 200 for line in two.splitlines()] == [True, True]
    assert two.endswith("…") and " ".join(two.splitlines())[:-1] == words[: len(two) - 1]
    first = two.splitlines()[0]
    assert words.startswith(first + " ")  # broken between words
    assert width(first + " " + words[len(first) + 1 :].split()[0]) > 200  # as full as it goes
    unbroken = "x" * 200  # a word wider than the line (or a script without spaces)
    lines = fitted(unbroken, 100, 10, families, lines=3).splitlines()
    assert len(lines) == 3 and all(width(line) <= 100 for line in lines)
    assert lines[0] + lines[1] == unbroken[: len(lines[0]) + len(lines[1])]


def test_characters_no_font_has_are_named_in_one_notice():
    title = f"A {HIEROGLYPH}{HIEROGLYPH} B"
    notices = [w for w in draw_title(title) if w.startswith("Notice")]
    assert notices == [
        f"Notice: no font on this machine has {HIEROGLYPH!r} (in {title!r}): figures show them "
        "as boxes (a font such as Noto Sans CJK adds them)"
    ]


def test_a_run_while_the_workers_start_says_why_it_waits(monkeypatch):
    monkeypatch.setenv("CULTURESIM_UI_WORKERS", "1")  # a fresh pool: its worker must start
    monkeypatch.setattr(runs, "_READY", threading.Event())
    _, rc = render(StrategistPage)
    set_run_size(rc, months=12, replications=1)
    click(rc, "Run")
    assert "the workers are still starting" in " ".join(html_text(rc, "run-progress"))
    wait(lambda: "1 of 1 replications" in " ".join(html_text(rc, "run-progress")), timeout=120)
    click(rc, "Run")  # they have answered once: no more note
    assert " ".join(html_text(rc, "run-progress")) in ("0 of 1 replications", "1 of 1 replications")
    wait(lambda: "1 of 1 replications" in " ".join(html_text(rc, "run-progress")), timeout=120)
    runs._POOL["pool"].shutdown()


def test_a_dead_worker_is_reported_and_the_next_run_works(monkeypatch):
    """A worker process killed mid-run: the page says so (no traceback); Run works again."""
    import os
    import signal

    monkeypatch.setenv("CULTURESIM_UI_WORKERS", "1")
    _, rc = render(StrategistPage)
    set_run_size(rc, months=36, replications=2)
    click(rc, "Run")
    wait(lambda: runs._POOL.get("pool") is not None and runs._POOL["pool"]._processes)
    pool = runs._POOL["pool"]
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    wait(lambda: "The run failed" in " ".join(html_text(rc, "run-progress")))
    assert "BrokenProcessPool" in " ".join(html_text(rc, "run-progress"))
    click(rc, "Run")
    wait(lambda: "2 of 2 replications" in " ".join(html_text(rc, "run-progress")), timeout=120)
    assert runs._POOL["pool"] is not pool  # a fresh pool
    runs._POOL["pool"].shutdown()


def test_the_network_view_seats_teams_together_and_draws_ties_where_people_are():
    model = CultureModel(scenario={"organization": {"employees": 150, "sites": 2}}, rng=3)
    snap = runs.network_snapshot(model)
    [series] = charts.network_option(snap, "engagement")["series"]
    xy = np.array([[node["x"], node["y"]] for node in series["data"]])
    assert len(xy) == model.headcount
    ends = np.array([[link["source"], link["target"]] for link in series["links"]])
    assert len(ends) and ends.min() >= 0 and ends.max() < len(xy)
    # teammates sit together: a tie within a team is much shorter than one across teams
    length = np.linalg.norm(xy[ends[:, 0]] - xy[ends[:, 1]], axis=1)
    same = snap["team"][ends[:, 0]] == snap["team"][ends[:, 1]]
    assert same.any() and (~same).any()
    assert length[same].max() < 0.5 * np.median(length[~same])
    # ECharts snaps the ends of a thin, near-level tie to half units of the layout: the layout
    # must be large enough for that to be invisible (at the snapshot's own scale, where a team
    # is 0.2 wide, such ties were drawn up to 80 px from the people they join)
    gaps = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    np.fill_diagonal(gaps, np.inf)
    assert gaps.min() >= 20.0


def test_the_network_view_keeps_sites_apart_however_many_and_large():
    """Sites sat on a circle of fixed radius: a dozen sites of a 2,000-person company (or two
    of 600 people each) ran into one another, and the picture could not say which site a
    team was at. Each site's people now sit nearer their own site than any other's."""
    for employees, sites in [(2000, 12), (1400, 2), (300, 50)]:
        model = CultureModel(
            scenario={"organization": {"employees": employees, "sites": sites, "cash": 5e9}},
            rng=0,
        )
        snap = runs.network_snapshot(model)
        xy = np.column_stack([snap["x"], snap["y"]])
        centres = np.array([xy[snap["site"] == k].mean(axis=0) for k in range(sites)])
        apart = np.linalg.norm(centres[:, None] - centres[None], axis=2)
        np.fill_diagonal(apart, np.inf)
        reach = max(
            np.linalg.norm(xy[snap["site"] == k] - centres[k], axis=1).max() for k in range(sites)
        )
        assert reach < 0.5 * apart.min(), (employees, sites)


def _lab_as_a_deuteranope_sees(hexes) -> np.ndarray:
    """CIELAB of ``#rrggbb`` colours as seen with deuteranopia (Machado et al. 2009, severity 1)."""
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in hexes]) / 255
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    seen = np.clip(lin @ np.array([[0.367322, 0.860646, -0.227968],
                                   [0.280085, 0.672501, 0.047413],
                                   [-0.011820, 0.042940, 0.968881]]).T, 0, 1)  # fmt: skip
    xyz = seen @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                           [0.0193, 0.1192, 0.9505]]).T / [0.95047, 1.0, 1.08883]  # fmt: skip
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def test_the_network_colours_say_low_and_high_to_the_red_green_colour_blind_too():
    """RdYlGn coloured each node on the server, with no scale in the picture: a class read red
    as low by guessing, and a deuteranope (about one boy in twelve) saw its ends 18 apart
    (CIELAB colour difference; 2.3 is just noticeable), as two olives."""
    model = CultureModel(scenario={"organization": {"employees": 60}}, rng=2)
    snap = runs.network_snapshot(model)
    option = charts.network_option(snap, "alignment")
    scale = option["visualMap"]
    assert (scale["min"], scale["max"], scale["seriesIndex"]) == (0.75, 0.95, 0)
    # the scale is drawn, and says which is which, and where it ends
    assert scale["text"] == ["alignment high: 0.95 or more", "low: 0.75 or less"]
    engagement = charts.network_option(snap, "engagement")["visualMap"]
    assert (engagement["min"], engagement["max"]) == (0, 1)
    assert engagement["text"] == ["engagement high: 1", "low: 0"]
    colors = scale["inRange"]["color"]
    lab = _lab_as_a_deuteranope_sees(colors)
    assert np.linalg.norm(lab[0] - lab[-1]) > 60  # RdYlBu's: 90
    assert np.all(np.diff(lab[5:, 2]) < 0)  # from the middle up, bluer and bluer
    old = ["#a50026", "#ffffbf", "#006837"]  # RdYlGn's low, middle and high
    assert np.linalg.norm(np.subtract(*_lab_as_a_deuteranope_sees(old)[[0, 2]])) < 20
    [series] = option["series"]  # the browser colours each node by its value
    assert [node["value"] for node in series["data"]] == [
        round(float(v), 3) for v in np.clip(snap["alignment"], 0, 1)
    ]
    assert all("itemStyle" not in node for node in series["data"])


def test_the_network_view_draws_ties_from_all_over_a_large_company():
    """Past the drawing's limit of ties, those drawn are taken from all of them: the first ones
    alone, of the people first in order, left three in four of 2,000 people without a tie in
    the picture. The caption says how many of the ties are drawn."""
    model = CultureModel(
        scenario={"organization": {"employees": 2000, "cash": 5e9}}, rng=1
    )  # enough cash: no layoff
    snap = runs.network_snapshot(model, max_edges=1000)
    edges = snap["edges"]
    ties = int(snap["ties"])
    assert len(edges) == 1000 and ties == model.org.matrix(model.employees.alive).nnz // 2
    assert len(np.unique(edges, axis=0)) == 1000  # no tie twice
    assert np.unique(edges).size > 0.6 * model.headcount  # most people have a tie drawn
    assert edges[:, 0].max() > 0.9 * model.headcount  # the last in order among them
    small = runs.network_snapshot(CultureModel(scenario={"organization": {"employees": 40}}))
    assert len(small["edges"]) == int(small["ties"])  # all drawn


def test_the_network_view_of_a_large_company_draws_whole_teams_sampled_evenly():
    """The view drew every employee: a 10,000-person company grown to 35,606 by month 60 came
    as 5.8 MB of chart a draw, 3.3 s to the first picture, a disc of dots. Past the limit,
    whole teams are drawn, taken evenly, in their places in the whole company's picture."""
    model = CultureModel(
        scenario={"organization": {"employees": 2000, "sites": 2, "cash": 5e9}}, rng=1
    )
    n = model.headcount
    full = runs.network_snapshot(model, max_people=10**6)
    snap = runs.network_snapshot(model, max_people=500)
    assert full["slot"].size == n and int(full["people"]) == int(snap["people"]) == n
    assert 400 < snap["slot"].size < 600  # about the limit
    teams, counts = np.unique(snap["team"], return_counts=True)
    members = np.bincount(model.employees.team[model.employees.ids])
    assert np.array_equal(counts, members[teams])  # whole teams
    assert int(snap["sites"]) == 2 and set(snap["site"].tolist()) == {0, 1}
    assert teams.min() < 0.1 * members.size and teams.max() > 0.9 * members.size  # all over
    for site in (0, 1):  # and all round each site (a hash in step with the spiral drew a wedge)
        mine, theirs = full["site"] == site, snap["site"] == site
        dx = snap["x"][theirs] - full["x"][mine].mean()
        dy = snap["y"][theirs] - full["y"][mine].mean()
        sector = ((np.arctan2(dy, dx) + np.pi) / (np.pi / 4)).astype(int) % 8
        assert np.bincount(sector, minlength=8).min() > 0.05 * theirs.sum()
    where = {int(s): i for i, s in enumerate(full["slot"])}
    at = [where[int(s)] for s in snap["slot"]]
    for key in ("x", "y", "engagement", "alignment", "skill", "team"):
        assert np.array_equal(snap[key], full[key][at]), key  # in their places
    tied = model.org.matrix(model.employees.alive)[snap["slot"]][:, snap["slot"]]
    assert int(snap["ties"]) == tied.nnz // 2  # the ties among those drawn, all drawn here
    assert len(snap["edges"]) == int(snap["ties"]) and snap["edges"].max() < snap["slot"].size
    same = snap["team"][snap["edges"][:, 0]] == snap["team"][snap["edges"][:, 1]]
    assert same.mean() > 0.5  # teams keep their ties
    smaller = runs.network_snapshot(model, max_people=250)
    assert set(smaller["team"].tolist()) < set(teams.tolist())  # a subset: a steady picture
    [series] = charts.network_option(snap, "engagement")["series"]
    assert len(series["data"]) == snap["slot"].size
    ensemble = runs.Ensemble(scenario=Scenario(), seeds=[7], snapshots=[snap])
    _, rc = render(lambda: strategist.NetworkView(ensemble))
    [caption] = html_text(rc, "network-caption")
    assert caption.startswith(f"Month 0: {n:,} employees in 2 sites, {snap['slot'].size:,} of ")
    assert "of them drawn (whole teams, sampled evenly)" in caption


def test_classroom_keeps_earlier_runs_dashed_beside_this_one():
    """The class compares settings (the 20% lesson asks: compared with 10%?) run after run."""
    from culturesim.kpis import chart_label

    _, rc = render(ClassroomPage)
    lesson = LESSONS["twenty_percent"]
    months = lesson.preset().meta.months

    def chart(kpi: str) -> list[dict]:
        [option] = [
            w.option.value for w in of(rc, OptionWidget)
            if w.option.value.get("title", {}).get("text") == chart_label(kpi)
        ]  # fmt: skip
        return option["series"]

    click(rc, lesson.choices[0])
    click(rc, "Setup")
    wait(lambda: built(rc, months))
    assert html_text(rc, "runs-caption") == [] and len(chart("ideas")) == 1
    for _ in range(3):
        click(rc, "Step")
    first = {kpi: chart(kpi)[0]["data"] for kpi in lesson.charts}
    assert len(first["ideas"]) == 4  # months 0-3
    [slider] = [w for w in of(rc, v.Slider) if w.label.startswith("Innovation time")]
    slider.v_model = 0.3  # during the run: from month 4 on
    slider.v_model = 0.35  # the same month: one change
    click(rc, "Reset")
    wait(lambda: built(rc, months))
    for kpi in lesson.charts:
        this, before = chart(kpi)
        assert len(this["data"]) == 1 and before["data"] == first[kpi]
        assert before["lineStyle"]["type"] == "dashed"
        assert before["name"] == "earlier: innovation time 0.2, then 0.35 from month 4"
    assert html_text(rc, "runs-caption") == [
        "Dashed grey: innovation time 0.2, then 0.35 from month 4"
    ]
    click(rc, "Step")
    click(rc, "Reset")
    wait(lambda: built(rc, months))
    click(rc, "Reset")  # a run of no month is not kept
    wait(lambda: built(rc, months))
    names = [s["name"] for s in chart("launches")]
    assert names == ["this run: innovation time 0.35", "earlier: innovation time 0.35",
                     "earlier: innovation time 0.2, then 0.35 from month 4"]  # fmt: skip
    [select] = [w for w in of(rc, v.Select) if w.label == "Lesson"]
    select.v_model = LESSONS["incident_trust"].title  # another lesson: its own runs only
    # (the last Reset's build may still be finishing in its thread and redraw the page: wait)
    wait(lambda: html_text(rc, "runs-caption") == [])


def test_a_run_that_gave_notice_says_so_above_its_charts(upload):
    _, rc = render(StrategistPage)
    red = (  # cash runs out in the first month (see test_model's notice test)
        b"[organization]\nemployees = 600\ncash = 2e6\n"
        b"[market]\npotential_users = 10000\ninitial_active_users = 6000\n"
        b"price_per_user_month = 500.0\n"
    )
    upload(rc, "red.toml", red)
    set_run_size(rc, months=36, replications=2)
    click(rc, "Run")
    wait(lambda: "2 of 2 replications" in " ".join(html_text(rc, "run-progress")))
    wait(lambda: "gave notice" in dump(rc))
    said = (
        r"2 of 2 replications gave notice; the first: seed 0, month 1: cash fell below zero "
        r"\(−\$[\d.,]+[kM]?\), and the model has no insolvency: .* \(and more\)"
    )
    assert re.search(said, dump(rc)), dump(rc)
