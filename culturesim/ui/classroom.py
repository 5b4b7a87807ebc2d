"""The classroom page: one lesson, large type, few controls, the org network animating.

Setup builds the lesson's company (after the class has answered the prediction question), Step
advances a month, Play/Pause runs on at the chosen speed, Reset starts the same setting over (or
the lever's new setting). The last two runs stay on the charts, dashed, named by their setting,
so that a class compares settings run after run. The model lives in this page's own hooks, so
every browser session has its own.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import solara
import solara.lab

from culturesim.kpis import KPIS, chart_label, display_scale, format_number, shown_as_total
from culturesim.levers import LEVERS
from culturesim.model import CultureModel
from culturesim.ui import DISABLED_BUTTON_CSS, charts, runs
from culturesim.ui.echarts import Chart
from culturesim.ui.lessons import LESSONS, Lesson

__all__ = ["ClassroomPage"]

CSS = (
    DISABLED_BUTTON_CSS
    + """
.classroom { font-size: 1.3rem; }
.classroom .v-btn { font-size: 1.2rem !important; min-height: 52px; min-width: 120px !important; }
.classroom h1, .classroom h2 { font-size: 2rem; }
.classroom .lesson-info p, .classroom .lesson-info li { font-size: 1.2rem; line-height: 1.5; }
.classroom .big-month { font-size: 2.2rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.classroom .controls-row { flex-wrap: wrap; gap: 8px; }
.classroom .choice { text-transform: none; justify-content: flex-start; }
.classroom .v-slider.v-input--horizontal {
  grid-template-columns: minmax(0, max-content) minmax(35%, 1fr) auto;
}
.classroom .v-slider .v-slider__label { white-space: normal; }
.classroom .runs-caption { font-size: 0.95rem; color: #555; line-height: 1.2; }
"""
)


def month_text(month: int | None, horizon: int) -> str:
    """The big counter's text: "Month 7 of 48", or "Month —" before Setup.

    The month is padded with figure spaces (a digit's width) to the horizon's digits, so the
    counter keeps its width as it plays: from "Month 9" to "Month 10" it grew, and on a
    1280-px projector the Reset button beside it jumped to a line of its own.
    """
    if month is None:
        return "Month —"
    return f"Month {month:\u2007>{len(str(horizon))}} of {horizon}"


# The network and the three charts fill the window below the controls (about 390 px down), so
# that a projector shows them with the month and the buttons, within sizes that stay readable.
NETWORK_HEIGHT = "clamp(320px, calc(100vh - 400px), 620px)"
CHART_HEIGHT = "clamp(160px, calc((100vh - 420px) / 3), 210px)"


#: Earlier runs the charts keep beside this one (dashed), newest first, and their colours.
EARLIER_RUNS = 2
EARLIER_COLORS = ("#7f7f7f", "#c2c2c2")
EARLIER_NAMES = ("Dashed grey", "light grey")


def _shown_history(model: CultureModel, kpi: str) -> list[float]:
    """``kpi`` by month so far, as the chart shows it (flows as totals so far, $ in millions)."""
    series = np.asarray(model.history[kpi], dtype=float) / display_scale(kpi)[0]
    if shown_as_total(kpi):  # a month of launches is 0, 1 or 2: the running total reads
        series = np.cumsum(series)
    return [round(float(v), 4) for v in series]


def _history_option(
    model: CultureModel, kpi: str, months: int, earlier: tuple = (), setting: str = ""
) -> dict:
    """A big chart of ``kpi`` in this run, with the ``earlier`` runs' lines dashed beside it.

    Args:
        model: This run's model.
        kpi: The KPI.
        months: The horizon (the x axis).
        earlier: Earlier runs of the lesson, newest first: ``{"setting": ..., "series":
            {kpi: values}}`` (see :func:`_shown_history`).
        setting: This run's lever setting, for the tooltip.
    """
    unit = display_scale(kpi)[1]
    title = chart_label(kpi)
    values = _shown_history(model, kpi)
    option = {
        "title": {"text": title, "subtext": unit, "textStyle": {"fontSize": 19}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 70, "right": 20, "top": 54, "bottom": 48},
        "xAxis": charts.month_axis(list(range(months + 1)), font_size=16),
        "yAxis": {"type": "value", "scale": True, "splitNumber": 2, "axisLabel": {"fontSize": 16}},
        "animation": False,
        "series": [{"type": "line", "data": values, "symbol": "none",
                    "name": f"this run: {setting}" if setting else KPIS[kpi].label,
                    "lineStyle": {"width": 4}, "z": 3}],
    }  # fmt: skip
    shown = [values, *(run["series"][kpi] for run in earlier[: len(EARLIER_COLORS)])]
    charts.value_axis(option["yAxis"], kpi, *(np.asarray(v) * display_scale(kpi)[0] for v in shown))
    for run, color in zip(earlier, EARLIER_COLORS, strict=False):
        option["series"].append(
            {"type": "line", "data": run["series"][kpi], "symbol": "none",
             "name": f"earlier: {run['setting']}", "color": color,
             "lineStyle": {"width": 3, "type": "dashed", "color": color}, "z": 2}
        )  # fmt: skip
    marks = charts.kpi_marks(kpi, model.config.events)  # events, and workload's overload line
    if marks["data"]:
        option["series"][0]["markLine"] = marks
    return option


def _setting_text(lever, values: tuple) -> str:
    """A run's lever setting in words, from ``(first month, value)`` pairs.

    E.g. ``innovation time 0.2`` or ``innovation time 0.2, then 0.35 from month 4``.
    """
    (_, first), *changes = values
    text = f"{lever.label.lower()} {format_number(first)}"
    return text + "".join(f", then {format_number(v)} from month {m}" for m, v in changes)


def _runs_caption(earlier: tuple) -> str:
    """Which dashed line is which earlier run (the solid line is this one), above the charts."""
    pairs = zip(EARLIER_NAMES, earlier, strict=False)
    return "; ".join(f"{name}: {run['setting']}" for name, run in pairs)


@solara.component
def LessonInfo(lesson: Lesson, done: bool):
    """NetLogo-style Info: What is it / How it works, then after the run the rest."""
    with solara.Column(classes=["lesson-info"]):
        solara.Markdown(f"### What is it?\n{lesson.what}\n\n### How it works\n{lesson.how}")
        if done:
            solara.Markdown(
                f"### Things to notice\n{lesson.notice}\n\n### Things to try\n{lesson.try_}"
            )


@solara.component
def ClassroomPage():
    """A guided lesson: prediction, then Setup / Step / Play-Pause / Reset beside big charts."""
    key = solara.use_reactive(next(iter(LESSONS)))
    lesson = LESSONS[key.value]
    lever = LEVERS[lesson.lever]
    prediction = solara.use_reactive(None)
    preset = solara.use_memo(lesson.preset, [key.value])  # read once per lesson, not per frame
    lever_value = solara.use_reactive(preset.levers.model_dump()[lesson.lever])
    model = solara.use_reactive(None)
    setting = solara.use_reactive(((1, 0.0),))  # this run's lever: (first month, value) pairs
    earlier = solara.use_reactive(())  # earlier runs of this lesson, newest first
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(4)  # months per second
    failure = solara.use_reactive("")  # why the run stopped or could not start (in the page)

    def choose(k):
        key.set(k)
        prediction.set(None)
        model.set(None)
        earlier.set(())
        playing.set(False)
        failure.set("")
        new = LESSONS[k]
        lever_value.set(new.preset().levers.model_dump()[new.lever])

    preparing = solara.use_reactive(False)  # Setup pressed, the company not built yet
    # One hand on the model at a time: the play loop steps it on a thread of its own, and the
    # page's Step, lever, Reset and drawing wait for a month under way to end (its kernels
    # release the GIL: a lever written mid-month was read by some processes and not others,
    # and a drawing could show one month's network beside the month before's charts).
    month_lock = solara.use_memo(threading.Lock, [])

    def build():
        chosen = key.value
        scenario = preset.with_changes({f"levers.{lesson.lever}": lever_value.value})
        try:
            runs.wait_for_warm_up()  # on a first start: let the workers compile, then load it
            built = CultureModel(scenario=scenario)
            if key.value == chosen:  # not if the class moved to another lesson meanwhile
                model.set(built)
                setting.set(((1, lever_value.value),))
                tick.set(0)
        except Exception as exc:  # shown in the page, never as a traceback
            if key.value == chosen:
                model.set(None)
                failure.set(f"The company could not be built: {type(exc).__name__}: {exc}")
        finally:  # Setup is never left disabled
            preparing.set(False)

    build_task = solara.lab.use_task(build, dependencies=None)  # off the page's thread

    def setup():
        playing.set(False)
        failed = bool(failure.value)  # a run that stopped half way is not kept
        failure.set("")
        m = model.value
        run = None
        with month_lock:  # a month under way ends first: every chart has it
            if m is not None and m.month > 0 and not failed:  # kept: the class compares runs
                series = {kpi: _shown_history(m, kpi) for kpi in lesson.charts}
                run = {"setting": _setting_text(lever, setting.value), "series": series}
        if run is not None:
            earlier.set((run, *earlier.value)[:EARLIER_RUNS])
        preparing.set(True)
        build_task()

    def step():
        m = model.value
        if m is None:
            return
        with month_lock:
            if m.month >= m.config.meta.months or failure.value:
                return
            month = m.month + 1
            try:
                m.step()
            except Exception as exc:  # shown in the page, never as a traceback
                stopped = f"The run stopped in month {month}: {type(exc).__name__}: {exc}"
            else:
                stopped = ""
        if stopped:  # a month half done: the run cannot go on, Reset builds it afresh
            playing.set(False)
            failure.set(stopped)
        tick.set(m.month)

    def set_lever(v):
        lever_value.set(float(v))
        m = model.value
        if m is None:
            return
        with month_lock:  # not in the middle of a month the play loop is stepping
            if m.month >= m.config.meta.months:
                return
            m.levers[lesson.lever] = float(v)  # from the next month on, as a set_lever event
            start = m.month + 1
        kept = [pair for pair in setting.value if pair[0] < start]  # a drag: one change
        setting.set((*kept, (start, float(v))))

    loop_number = solara.use_ref(0)  # of the loop now playing: an older one stops

    def play_loop():
        me = loop_number.current
        # a month starts every 1/speed seconds (the pause is what the last month's step and
        # drawing left of it), or at once when they took longer: never a burst to catch up
        started = time.monotonic()
        while True:
            time.sleep(max(0.0, started + 1.0 / max(speed.value, 1) - time.monotonic()))
            started = time.monotonic()
            m = model.value
            if loop_number.current != me or not playing.value or m is None:
                return  # paused, reset, or a newer loop plays (a thread is never stopped for us)
            step()
            if m.month >= m.config.meta.months:
                playing.set(False)
                return

    # started by Play only (dependencies=None): a task run at every render with `playing` as its
    # dependency also started a thread when the page opened, whose re-render raced the visitor's
    # first click
    play_task = solara.lab.use_task(play_loop, dependencies=None)

    def play_or_pause():
        loop_number.current += 1
        if playing.value:
            playing.set(False)
        else:
            playing.set(True)
            play_task()

    m = model.value
    _ = tick.value  # re-render after every step
    horizon = preset.meta.months
    month, network, history = None, None, {}
    if m is not None:  # a month under way ends first: the month, network and charts agree
        with month_lock:
            month = m.month
            network = charts.network_option(
                runs.network_snapshot(m),
                lesson.color_by,
                f"Org network · colour: {lesson.color_by} · size: skill",
            )
            this_run = _setting_text(lever, setting.value)
            history = {
                kpi: _history_option(m, kpi, horizon, earlier.value, this_run)
                for kpi in lesson.charts
            }
    done = month is not None and month >= horizon
    stopped = bool(failure.value)  # Step and Play are off until Reset
    solara.Style(CSS)
    solara.Title("culturesim — classroom")
    with solara.Column(classes=["classroom"]):
        with solara.Row(style={"align-items": "center"}):
            titles = {lesson.title: k for k, lesson in LESSONS.items()}
            solara.Select(
                "Lesson",
                values=list(titles),
                value=lesson.title,
                on_value=lambda title: choose(titles[title]),
            )
            solara.Markdown(f"## {lesson.title}")
        with solara.ColumnsResponsive(default=12, medium=[4, 8]):  # stacked on a phone
            with solara.Column():
                with solara.Card("Predict first", classes=["prediction"]):
                    solara.Markdown(f"**{lesson.question}**")
                    for choice in lesson.choices:
                        solara.Button(
                            choice,
                            on_click=lambda choice=choice: prediction.set(choice),
                            color="primary" if prediction.value == choice else None,
                            outlined=prediction.value != choice,
                            classes=["choice"],
                            style={"margin": "4px"},
                        )
                    if prediction.value and done:
                        solara.Success(f"You predicted: {prediction.value}. Does the run agree?")
                    other = lesson.compare
                    if done and other is not None and setting.value[0][1] != other:
                        # the question compares two settings; a run is of one
                        solara.Info(
                            f"The question compares with {_setting_text(lever, ((1, other),))}"
                            ": set it and press Reset. This run stays beside that one as a "
                            "dashed line.",
                            classes=["compare-hint"],
                        )
                LessonInfo(lesson, done)  # below the question: the class answers it first
            with solara.Column():
                # the controls sit above the network and charts they drive: on a projector the
                # class sees the month, the buttons and the company at once
                with solara.Card(classes=["controls"]):
                    with solara.Row(classes=["controls-row"], style={"align-items": "center"}):
                        solara.Text(
                            month_text(month, horizon),
                            classes=["big-month"],
                        )
                        solara.Button(
                            "Setup",
                            color="primary",
                            on_click=setup,
                            disabled=not prediction.value or preparing.value,
                        )
                        solara.Button(
                            "Step",
                            on_click=step,
                            disabled=m is None or playing.value or done or stopped,
                        )
                        solara.Button(
                            "Pause" if playing.value else "Play",
                            on_click=play_or_pause,
                            disabled=m is None or done or stopped,
                        )
                        solara.Button(
                            "Reset", on_click=setup, disabled=m is None or preparing.value
                        )
                    with solara.ColumnsResponsive(default=12, large=[7, 5]):  # stacked below 1264
                        with solara.Column():
                            with solara.Tooltip(lever.help):
                                solara.SliderFloat(
                                    f"{lever.label} ({lever.unit})",
                                    value=lever_value.value,
                                    min=lever.lo,
                                    max=lever.hi,
                                    step=lever.step,
                                    on_value=set_lever,
                                )
                            solara.Text(
                                runs.lever_text(lesson.lever, lever_value.value, preset),
                                classes=["lever-cost"],
                            )
                        solara.SliderInt(  # the label says the speed: the track does not
                            f"Speed: {speed.value} months a second", value=speed, min=1, max=12
                        )
                    if not prediction.value:
                        solara.Info("Answer the prediction question first, then press Setup.")
                    elif preparing.value:
                        solara.Info(
                            "Building the company…"
                            + (
                                f" The server is still preparing the model ({runs.FIRST_START})."
                                if runs.warming_up()
                                else ""
                            ),
                            classes=["preparing"],
                        )
                    elif stopped:
                        solara.Error(failure.value, classes=["run-failure"])
                    elif m is None:
                        solara.Info("Press Setup to build the company.")
                if m is not None:
                    with solara.ColumnsResponsive(default=12, medium=[7, 5]):
                        Chart(network, NETWORK_HEIGHT)
                        with solara.Column():
                            if earlier.value:
                                solara.Text(
                                    _runs_caption(earlier.value),
                                    classes=["runs-caption"],
                                )
                            for kpi in lesson.charts:
                                Chart(history[kpi], CHART_HEIGHT)
