"""The strategist page: pick a scenario, move levers, add events, run, compare, download.

Every piece of state lives in the page's own hooks (``solara.use_reactive``), so each browser
session has its own; replications run in worker processes (:mod:`culturesim.ui.runs`), so a long
run never blocks the server or another visitor.
"""

from __future__ import annotations

import threading
import time

import solara
import solara.lab
from ipyvuetify.extra import FileInput

from culturesim.batch.compare import funding_note, many_intervals, summary_lines
from culturesim.kpis import KPIS, SUMMARY_KPIS, format_kpis
from culturesim.levers import LEVERS
from culturesim.scenario import (
    EVENT_DEFAULTS,
    EVENT_HELP,
    EVENT_TYPES,
    Scenario,
    ScenarioError,
    commented_toml,
    load_scenario,
    scenario_from_dict,
    seeds_from,
)
from culturesim.scenario import shipped_names as scenario_names
from culturesim.ui import DISABLED_BUTTON_CSS, charts, runs
from culturesim.ui.echarts import Chart

__all__ = ["EVENT_DEFAULTS", "StrategistPage", "scenario_names"]

MONTHS_RANGE = (36, 60)
MAX_REPLICATIONS = 50
CHART_HEIGHT = "260px"
VIEWS = ("Charts", "Events", "Compare", "Network", "Downloads")
# The view buttons wrap on a narrow window (a phone): in one row they made the page wider than
# the screen, and every chart with it. So did a long word (a scenario name an upload gave, an
# unknown key in its error): words break where they do not fit.
CSS = (
    DISABLED_BUTTON_CSS
    + """
.view-tabs { flex-wrap: wrap; height: auto !important; max-width: 100%; }
.view-tabs .v-btn { height: 48px !important; }
.setting-error .v-alert__content, .upload-error .v-alert__content,
.event-error .v-alert__content { white-space: pre-line; }  /* a problem a line */
.v-application { overflow-wrap: anywhere; }
"""
)
#: What the Compare view says while B runs and none of A's seeds has landed in B yet.
B_PENDING = "B against A shows as soon as B's first replication lands."
REDRAW_SECONDS = 1.5  # while replications land, redraw the charts at most this often


def compose(
    base: Scenario, levers: dict, events: list[dict], months: int, replications: int = 1
) -> Scenario:
    """The setting on screen: ``base`` with the page's levers, events and horizon.

    Raises:
        ScenarioError: If the combination is invalid (e.g. an event past the horizon), larger
            than this server runs (:func:`culturesim.ui.runs.check_size`), or its
            ``replications`` seeds would pass the largest seed.
    """
    data = base.to_dict()
    data["levers"] = dict(levers)
    data["events"] = [dict(ev) for ev in events]
    data["meta"]["months"] = int(months)
    setting = scenario_from_dict(data, source="this page")
    runs.check_size(setting)
    try:
        seeds_from(setting.meta.seed, replications, runs="replications")
    except ValueError as exc:
        raise ScenarioError("this page", [str(exc)]) from None
    return setting


def _listed(label: str) -> str:
    """An uploaded file's entry in the scenario list (beside the shipped scenarios' names)."""
    return f"{label} (uploaded)"


def _kpi_caption(ensemble: runs.Ensemble, kpi: str) -> str:
    b = ensemble.band(kpi)
    last = int(b.index[-1])
    lo, med, hi = format_kpis(kpi, b.loc[last, ["lo", "median", "hi"]])  # in one unit
    return f"Month {last}: median {med} (10–90%: {lo} to {hi})"


@solara.component
def ScenarioUpload(on_file):
    """A file picker for one scenario file (``.toml`` or a run's ``.json``), read by ``on_file``.

    ``on_file`` gets the file's name, size and file_obj.

    Like ``solara.FileDrop``, but with a real file input, so a visitor can browse for the file.
    The file is read lazily by the handler, which checks the size before reading.
    """
    file_info, set_file_info = solara.use_state(None)
    wired, set_wired = solara.use_state(None)
    element = FileInput.element(
        multiple=False, accept=".toml,.json", on_file_info=set_file_info, show_progress=False
    )

    def wire():
        if not file_info:
            return
        widget = solara.get_widget(element)
        widget.version += 1  # as solara.FileDrop does: re-arm the widget's observers
        widget.reset_stats()
        set_wired(widget.get_files())

    solara.use_effect(wire, [file_info])

    def deliver(cancel):
        if wired:
            on_file(wired[0])

    result = solara.use_thread(deliver, [wired])
    if result.error:
        raise result.error
    return element


@solara.component
def LeverControls(levers: solara.Reactive[dict], base: Scenario):
    """Sliders for every lever in :mod:`culturesim.levers`, grouped, with unit, cost and help."""
    groups: dict[str, list] = {}
    for lever in LEVERS.values():
        groups.setdefault(lever.group, []).append(lever)
    for group, members in groups.items():
        with solara.Details(
            summary=f"{group.title()} levers", expand=group in ("talent", "innovation")
        ):
            for lever in members:
                value = levers.value[lever.name]

                def set_value(v, name=lever.name):
                    levers.set({**levers.value, name: float(v)})

                with solara.Div(classes=["lever", f"lever-{lever.name}"]):
                    with solara.Tooltip(lever.help):
                        solara.Text(f"{lever.label} ({lever.unit})", style={"font-size": "0.9rem"})
                    with solara.Tooltip(lever.help):
                        solara.SliderFloat(
                            "",
                            value=value,
                            min=lever.lo,
                            max=lever.hi,
                            step=lever.step,
                            on_value=set_value,
                        )
                    solara.Text(
                        runs.lever_text(lever.name, value, base),
                        classes=["lever-cost"],
                        style={"font-size": "0.8rem", "color": "#555"},
                    )


@solara.component
def EventEditor(events: solara.Reactive[list], base: Scenario, months: int):
    """The events timeline: add, edit and remove events with their parameters."""
    kind = solara.use_reactive("incident")
    month = solara.use_reactive(18)
    params = solara.use_reactive(dict(EVENT_DEFAULTS["incident"]))
    editing = solara.use_reactive(None)  # index of the event being edited
    error = solara.use_reactive("")
    core = dict(base.organization.core_values)

    def pick_kind(k):
        kind.set(k)
        params.set(dict(EVENT_DEFAULTS[k]))

    def current() -> dict:
        extra = dict(params.value)
        if "values" in EVENT_TYPES[kind.value].model_fields and "values" not in extra:
            extra["values"] = dict(core)
        return {"month": int(month.value), "kind": kind.value, **extra}

    def save():
        new = list(events.value)
        if editing.value is None:
            new.append(current())
        else:
            new[editing.value] = current()
        new.sort(key=lambda ev: ev["month"])
        try:
            compose(base, base.levers.model_dump(), new, months)
        except ScenarioError as exc:
            error.set("\n".join(exc.problems))  # a line each
            return
        error.set("")
        editing.set(None)
        events.set(new)

    def edit(i):
        ev = events.value[i]
        kind.set(ev["kind"])
        month.set(ev["month"])
        params.set({k: v for k, v in ev.items() if k not in ("kind", "month")})
        editing.set(i)

    def remove(i):
        events.set([ev for j, ev in enumerate(events.value) if j != i])
        editing.set(None)

    with solara.Card("Events timeline"):
        if not events.value:
            solara.Text("No events: the company runs undisturbed.")
        for i, ev in enumerate(events.value):
            detail = ", ".join(
                f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in ev.items()
                if k not in ("kind", "month")
            )
            with solara.Row(classes=["event-row"], style={"align-items": "center"}):
                solara.Text(f"Month {ev['month']}: {ev['kind'].replace('_', ' ')} ({detail})")
                solara.Button("Edit", text=True, on_click=lambda i=i: edit(i))
                solara.Button("Remove", text=True, on_click=lambda i=i: remove(i))
        solara.Markdown("**" + ("Edit event" if editing.value is not None else "New event") + "**")
        with solara.Row():
            solara.Select("Kind", values=list(EVENT_TYPES), value=kind.value, on_value=pick_kind)
            solara.InputInt("Month", value=month, continuous_update=True)
        solara.Text(EVENT_HELP[kind.value], style={"font-size": "0.85rem", "color": "#555"})
        fields = EVENT_TYPES[kind.value].model_fields
        for name, info in fields.items():
            if name in ("kind", "month"):
                continue
            value = params.value.get(name)

            def set_param(v, name=name):
                params.set({**params.value, name: v})

            if name == "lever":
                solara.Select("Lever", values=list(LEVERS), value=value, on_value=set_param)
            elif name == "values":
                table = dict(value or core)
                for value_name in core:

                    def set_core(v, value_name=value_name, table=table):
                        set_param({**table, value_name: v})

                    solara.InputFloat(
                        f"values.{value_name}",
                        value=table[value_name],
                        on_value=set_core,
                        continuous_update=True,
                    )
            elif info.annotation is int:
                solara.InputInt(
                    name,
                    value=value if value is not None else 1,
                    on_value=set_param,
                    continuous_update=True,
                )
            else:
                solara.InputFloat(
                    name,
                    value=value if value is not None else 0.5,
                    on_value=set_param,
                    continuous_update=True,
                )
        with solara.Row():
            solara.Button(
                "Save event" if editing.value is not None else "Add event",
                color="primary",
                on_click=save,
            )
            if editing.value is not None:
                solara.Button("Cancel", text=True, on_click=lambda: editing.set(None))
        if error.value:
            solara.Error(error.value, classes=["event-error"])


@solara.component
def RunProgress(progress: solara.Reactive[str]):
    """How far the run is ("3 of 10 replications").

    A component of its own, the only one that reads ``progress``: each landing replication
    updates this line without redrawing the page around it.
    """
    if progress.value:
        solara.Text(progress.value, classes=["run-progress"])


@solara.component
def FamilyCharts(ensemble: runs.Ensemble):
    """One card per KPI family, each chart the median and 10-90% band over replications.

    A chart's caption gives the last month's figures and, on hover, what the KPI measures.
    """
    events = ensemble.scenario.events
    for family, kpis in runs.FAMILY_KPIS.items():
        with (
            solara.Card(family.title(), classes=[f"family-{family}"]),
            solara.ColumnsResponsive(default=12, medium=6, large=3),
        ):
            for kpi in kpis:
                with solara.Column(classes=["kpi-chart", f"chart-{kpi}"]):
                    Chart(charts.band_option(kpi, ensemble.band(kpi), events), CHART_HEIGHT)
                    with solara.Tooltip(KPIS[kpi].help):  # what it measures, on hover
                        solara.Text(
                            _kpi_caption(ensemble, kpi),
                            classes=["kpi-caption", f"caption-{kpi}"],
                            style={"font-size": "0.8rem"},
                        )


def _seed_range(seeds: list[int]) -> str:
    """Seeds as the page names them: ``5``, or ``0–9``."""
    return f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}–{seeds[-1]}"


@solara.component
def CompareView(
    pinned: runs.Ensemble | None, ensemble: runs.Ensemble | None, running: bool = False
):
    """B (the current run) against the pinned A, paired by seed: summary and difference charts.

    A B still running is compared over the seeds landed in both so far (the charts' view
    fills in as they land); ``running``: a run is under way (until its first replication
    lands, ``ensemble`` is the one before it).
    """
    if pinned is None:
        solara.Info("Run a setting, press “Pin as A”, change levers or events, and Run again.")
        return
    a = pinned.scenario
    solara.Text(  # text, not Markdown: a name is whatever a visitor uploaded
        f"A is pinned: {a.meta.name}, {len(pinned.seeds)} replications, {a.meta.months} months.",
        classes=["pinned-line"],
    )
    if ensemble is None or ensemble.scenario.digest() == a.digest():
        if running and (ensemble is None or ensemble.complete):  # the run before this one
            # it said "Change levers or events and press Run" to a visitor who had
            solara.Info(B_PENDING)
        else:
            solara.Info("Change levers or events and press Run to see B against A.")
        return
    b = ensemble.scenario
    if b.meta.months != a.meta.months:
        solara.Warning("B must use A's horizon to be compared (paired months and seeds).")
        return
    if not set(ensemble.seeds) & set(pinned.seeds):  # it said "A's horizon" here too
        solara.Warning(
            f"B's seeds ({_seed_range(ensemble.seeds)}) share none with A's "
            f"({_seed_range(pinned.seeds)}), so nothing pairs them: give B A's meta.seed "
            f"({a.meta.seed}) to compare it."
        )
        return
    comparison = runs.paired(pinned, ensemble)
    if comparison is None:  # no replication of a common seed has landed in both yet
        solara.Info(B_PENDING)
        return
    n = comparison.a["seed"].nunique()
    so_far = "" if ensemble.complete else " so far (B is still running)"
    solara.Markdown(
        f"**B against A**, paired over {n} common seed{'s' * (n != 1)}{so_far} (common random "
        "numbers):"
    )
    with solara.Column(classes=["compare-summary"], style={"font-size": "1.05rem"}):
        for line in summary_lines(comparison):
            solara.Text(line, classes=["compare-line"])
        if note := funding_note(comparison):  # cash that the rounds, moved by B, explain
            solara.Text(note, classes=["compare-funding"])
        if n >= 2:  # eleven intervals at once: one may miss by chance (one seed gives none)
            solara.Text(
                many_intervals(), classes=["compare-caveat"], style={"font-size": "0.85rem"}
            )
    with solara.ColumnsResponsive(default=12, medium=6, large=3):
        for kpi in SUMMARY_KPIS:
            Chart(
                charts.diff_option(kpi, comparison.difference_band(kpi), ensemble.scenario.events),
                CHART_HEIGHT,
            )


@solara.component
def NetworkView(ensemble: runs.Ensemble):
    """The org network of the first replication at a month picked with a slider."""
    month = solara.use_reactive(ensemble.scenario.meta.months)
    color = solara.use_reactive("engagement")
    snaps = ensemble.snapshots
    if not snaps:
        solara.Info("The network appears when the first replication lands.")
        return
    m = min(int(month.value), len(snaps) - 1)
    with solara.Row():
        solara.SliderInt("Month", value=month, min=0, max=len(snaps) - 1)
        solara.ToggleButtonsSingle(value=color, values=["engagement", "alignment"])
    snap = snaps[m]
    sites, people, shown = int(snap["sites"]), int(snap["people"]), snap["slot"].size
    ties, drawn = int(snap["ties"]), len(snap["edges"])
    solara.Text(
        f"Month {m}: {people:,} employees in {sites} site{'s' * (sites != 1)}"
        + (f", {shown:,} of them drawn (whole teams, sampled evenly)" if shown < people else "")
        + (f", {drawn:,} of their {ties:,} ties drawn" if drawn < ties else "")
        + f"; colour = {color.value} (red low, blue high), size = skill; "
        f"seed {ensemble.seeds[0]}.",
        classes=["network-caption"],
    )
    Chart(charts.network_option(snap, color.value), "560px")


@solara.component
def StrategistPage():
    """What-if analysis: scenario, levers, events, replications, charts, comparison, downloads."""
    first = solara.use_memo(lambda: load_scenario("baseline"), [])
    base = solara.use_reactive(first)
    choice = solara.use_reactive("baseline")
    uploaded = solara.use_reactive([])  # the last upload's scenarios, listed: (label, scenario)
    levers = solara.use_reactive(dict(first.levers.model_dump()))
    events = solara.use_reactive([])
    months = solara.use_reactive(60)
    reps = solara.use_reactive(10)
    ensemble = solara.use_reactive(None)
    pinned = solara.use_reactive(None)
    message = solara.use_reactive("")
    run_token = solara.use_ref(0)
    progress = solara.use_reactive("")
    view = solara.use_reactive("Charts")
    base_error = solara.use_reactive("")

    def adopt(scenario: Scenario, name: str):
        base.set(scenario)
        levers.set(dict(scenario.levers.model_dump()))
        clamped = min(max(scenario.meta.months, MONTHS_RANGE[0]), MONTHS_RANGE[1])
        # events after the page's horizon do not happen here (as after `run --months`): left
        # out, and said, so the setting runs (kept, it was refused at Run, "past the horizon")
        events.set([ev.model_dump(mode="json") for ev in scenario.events if ev.month <= clamped])
        months.set(clamped)
        late = [f"{ev.kind} at month {ev.month}" for ev in scenario.events if ev.month > clamped]
        said = [f"horizon set to {clamped} months"] * (clamped != scenario.meta.months)
        said += [f"left out, after it: {', '.join(late)}"] * bool(late)
        message.set(f"Loaded {name}{f' ({"; ".join(said)})' if said else ''}.")

    def pick(name):
        choice.set(name)
        for label, scenario in uploaded.value:
            if name == _listed(label):
                adopt(scenario, f"upload {label}")
                return
        adopt(load_scenario(name), f"scenarios/{name}.toml")

    def on_upload(info):
        size = int(info.get("size") or 0)
        label = runs.upload_label(info.get("name"))
        try:
            if size > runs.MAX_UPLOAD_BYTES:  # refused before a byte is read
                raise ScenarioError(label, [f"file is {size:,} bytes; at most 1 MB allowed"])
            data = (
                info["data"]
                if info.get("data") is not None
                else info["file_obj"].read(runs.MAX_UPLOAD_BYTES + 1)
            )
            found = runs.parse_upload(label, data)  # a comparison's A and B: both listed
        except (OSError, TimeoutError) as exc:  # the browser went away mid-upload
            base_error.set(f"could not read the file: {exc}")
            return
        except ScenarioError as exc:
            message.set("")
            base_error.set(str(exc))
            return
        base_error.set("")
        # listed and chosen: the list said "baseline" over an upload, and choosing baseline
        # then did nothing (the list's value had not changed)
        uploaded.set(found)
        choice.set(_listed(found[0][0]))
        adopt(found[0][1], f"upload {found[0][0]}")

    setting_error = ""
    try:
        setting = compose(base.value, levers.value, events.value, months.value, int(reps.value))
    except ScenarioError as exc:
        setting, setting_error = None, "\n".join(exc.problems)  # a line each

    def do_run():
        if setting is None:
            return
        run_token.current += 1
        token = run_token.current
        cancelled = threading.Event()

        shown = [0.0]

        def landed(ens):
            if run_token.current != token:
                cancelled.set()
                return
            now = time.monotonic()
            if ens.done == 1 or ens.complete or now - shown[0] >= REDRAW_SECONDS:
                shown[0] = now
                ensemble.set(ens.copy())  # a new object: the page redraws
            progress.set(f"{ens.done} of {len(ens.seeds)} replications")  # after the charts

        progress.set(runs.starting_text(int(reps.value)))
        try:
            runs.run_ensemble(setting, int(reps.value), landed, cancelled.is_set)
        except Exception as exc:  # shown in the page, never as a traceback
            runs.reset_if_broken()
            progress.set(f"The run failed: {type(exc).__name__}: {exc}")

    run_task = solara.lab.use_task(do_run, dependencies=None)

    def drop_runs_on_close():
        def cleanup():  # the visitor left: the running ensemble stops at its next landing
            run_token.current += 1

        return cleanup

    solara.use_effect(drop_runs_on_close, [])

    def start_run():
        progress.set(runs.starting_text(int(reps.value)))  # at once, before the worker starts
        run_task()

    with solara.Sidebar():
        with solara.Card("Scenario"):
            listed = scenario_names() + [_listed(label) for label, _ in uploaded.value]
            solara.Select("Scenario file", values=listed, value=choice.value, on_value=pick)
            solara.Text(
                "…or upload a scenario file (TOML, or the manifest.json of a run or a "
                "comparison; at most 1 MB):",
                style={"font-size": "0.85rem"},
            )
            ScenarioUpload(on_upload)
            if base_error.value:
                solara.Error(base_error.value, classes=["upload-error"])
            elif message.value:
                solara.Text(message.value, style={"font-size": "0.85rem", "display": "block"})
            solara.Text(
                f"Horizon: {months.value} months · replications: {reps.value}",
                classes=["run-size"],
            )
            with solara.Div(classes=["horizon"]):
                solara.SliderInt(
                    "Horizon (months)",
                    value=months,
                    min=MONTHS_RANGE[0],
                    max=MONTHS_RANGE[1],
                    step=6,
                )
            with solara.Div(classes=["replications"]):
                solara.SliderInt("Replications", value=reps, min=1, max=MAX_REPLICATIONS)
            with solara.Row():
                solara.Button(
                    "Run",
                    color="primary",
                    on_click=start_run,
                    disabled=setting is None,
                    classes=["run-button"],
                )
                solara.Button(
                    "Pin as A",
                    on_click=lambda: pinned.set(ensemble.value),
                    disabled=ensemble.value is None or not ensemble.value.complete,
                    classes=["pin-button"],
                )
            if setting_error:
                solara.Error(setting_error, classes=["setting-error"])
            RunProgress(progress)
        with solara.Card("Levers"):
            LeverControls(levers, base.value)

    solara.Title("culturesim — strategist")
    solara.Style(CSS)
    ens = ensemble.value
    solara.ToggleButtonsSingle(value=view, values=list(VIEWS), classes=["view-tabs"])
    if view.value == "Charts":
        if ens is None:
            solara.Info(
                "Set levers and events, then press Run. Charts show the median and the "
                "10–90% band over replications; dashed lines mark events."
            )
        else:
            solara.Text(  # text, not Markdown: a name is whatever a visitor uploaded
                f"{ens.scenario.meta.name} — {ens.done} of {len(ens.seeds)} replications, "
                f"{ens.scenario.meta.months} months, seed{'s' * (len(ens.seeds) > 1)} "
                f"{_seed_range(ens.seeds)}.",
                classes=["run-heading"],
                style={"font-weight": "500", "display": "block", "margin-bottom": "8px"},
            )
            if ens.notices:
                solara.Warning(ens.notice_text(), classes=["run-notices"])
            FamilyCharts(ens)
    if view.value == "Events":
        EventEditor(events, base.value, months.value)
    if view.value == "Compare":
        CompareView(pinned.value, ens, running=run_task.pending)
    if view.value == "Network":
        if ens is None:
            solara.Info("Run first: the view shows the first replication's org network.")
        else:
            NetworkView(ens)
    if view.value == "Downloads":
        if setting is not None:
            toml = (  # every key explained: a start for editing it
                f"# Saved from the strategist page. Reproduce the view: "
                f"culturesim run scenario.toml --seeds {reps.value}\n" + commented_toml(setting)
            )
            solara.FileDownload(toml, filename="scenario.toml", label="Scenario (TOML)")
        if ens is not None and ens.done:
            solara.FileDownload(
                lambda: runs.csv_bytes(ens), filename="results.csv", label="Results (CSV)"
            )
            solara.FileDownload(
                lambda: runs.png_bytes(ens, ens.scenario.meta.name),
                filename="charts.png",
                label="Charts (PNG)",
                mime_type="image/png",
            )
