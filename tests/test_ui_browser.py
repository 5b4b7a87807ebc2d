"""The web UI in a real browser: ``culturesim ui`` on a free port, driven by Playwright.

Chromium is the one ``$CHROMIUM`` names, else ``chromium`` on PATH, else Debian's
(``/usr/bin/chromium``; ``make test`` installs it with apt, and so does this module when it is
missing); Playwright's own browser download is not reachable here. Screenshots of both
pages go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from culturesim.kpis import KPIS
from tests.conftest import reaped, start_ui

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"  # Debian's, which apt installs
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SLOW = 90_000  # ms: a run of a few replications on a loaded 2-core machine


def ensure_chromium() -> str:
    """The Chromium to drive: the one ``$CHROMIUM`` names, else ``chromium`` on PATH, else
    Debian's, installed with apt when missing where there is apt (as ``make test`` does).

    Fails, never skips, when there is none (saying how to give one).
    """
    given = os.environ.get("CHROMIUM")
    if given:
        if not (Path(given).is_file() and os.access(given, os.X_OK)):
            pytest.fail(f"CHROMIUM={given} is not a program here (give Chromium's path)")
        return given
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    if found is None and shutil.which("apt-get") and all(map(shutil.which, sudo)):
        # each test worker may get here at once: wait for the other's apt-get, not fail
        apt = [*sudo, "apt-get", "-o", "DPkg::Lock::Timeout=600"]
        ok = subprocess.call([*apt, "install", "-y", "-q", "chromium"]) == 0
        if not ok and not Path(CHROMIUM).exists():
            subprocess.call([*apt, "update", "-q"])
            subprocess.call([*apt, "install", "-y", "-q", "chromium"])
        found = CHROMIUM if Path(CHROMIUM).exists() else None
    if found is None:
        pytest.fail(
            "the browser tests need Chromium: install it (Debian: apt-get install chromium, as "
            "root), then put chromium on PATH or name it: CHROMIUM=/path/to/chromium"
        )
    return found


@pytest.fixture(scope="module")
def server():
    proc, url = start_ui(2, "--max-employees", "150000")  # a limit of its own: see its test
    with reaped(proc):
        yield url
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    path = ensure_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS)
        yield b
        b.close()


def test_the_chromium_driven_is_the_one_named_else_the_one_on_path(tmp_path, monkeypatch):
    """The browser tests looked for Debian's /usr/bin/chromium only (and make for `chromium` on
    PATH): a Chromium elsewhere was not used, and without apt there was no way to give one."""
    here = tmp_path / "bin"
    here.mkdir()
    fake = here / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", str(tmp_path / "not-debian"))
    monkeypatch.setenv("PATH", str(here))
    monkeypatch.delenv("CHROMIUM", raising=False)
    assert ensure_chromium() == str(fake)
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "nowhere"))
    with pytest.raises(pytest.fail.Exception, match=r"CHROMIUM=\S+nowhere is not a program here"):
        ensure_chromium()
    monkeypatch.setenv("CHROMIUM", str(fake))
    monkeypatch.setenv("PATH", str(tmp_path))  # named: PATH not looked at
    assert ensure_chromium() == str(fake)
    monkeypatch.delenv("CHROMIUM")  # none anywhere, and no apt-get to install one
    with pytest.raises(pytest.fail.Exception, match="name it: CHROMIUM=/path/to/chromium"):
        ensure_chromium()
    fake.rename(here / "apt-get")  # apt, but not root and no sudo: not tried ("sudo" not found)
    monkeypatch.setenv("PATH", str(here))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(pytest.fail.Exception, match="name it: CHROMIUM=/path/to/chromium"):
        ensure_chromium()


def open_page(browser, url: str) -> Page:
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(".run-button", timeout=SLOW)
    return page


def slide(page: Page, css: str, *keys: str) -> None:
    """Move the slider inside ``css`` with the keyboard, as a visitor could."""
    thumb = page.locator(f"{css} [role=slider]").first
    thumb.focus()
    for key in keys:
        thumb.press(key)


def click_until(target, done, tries: int = 3) -> None:
    """Click ``target`` until ``done()``: a click that lands while Solara swaps the page's
    widgets right after navigation can be lost (the element it hit is replaced)."""
    until(target.click, done, tries, f"clicking {target}")


def until(act, done, tries: int = 3, what: str = "the action") -> None:
    """Do ``act()`` until ``done()``, looking for 5 s after each try: a click or key press that
    lands while Solara re-renders what it hit (after navigation, after an upload) can be lost."""
    for _ in range(tries):
        act()
        for _ in range(50):
            if done():
                return
            time.sleep(0.1)
    raise AssertionError(f"{what} had no effect after {tries} tries")


def test_strategist_moves_a_lever_runs_and_the_chart_changes(server, browser):
    page = open_page(browser, server)
    slide(page, ".horizon", "Home")  # 36 months
    slide(page, ".replications", "Home", "ArrowRight", "ArrowRight")  # 3 replications
    expect(page.locator(".run-size")).to_have_text("Horizon: 36 months · replications: 3")
    page.locator(".run-button").click()
    expect(page.locator(".run-progress")).to_have_text("3 of 3 replications", timeout=SLOW)
    caption = page.locator(".caption-attrition_rate_annual")
    expect(caption).to_contain_text("Month 36: median")
    before = caption.inner_text()
    expect(page.locator(".kpi-chart canvas").first).to_be_visible(timeout=SLOW)  # ECharts drew
    assert page.locator(".kpi-chart canvas").count() >= 20
    page.locator(".caption-workload").hover()  # a caption's tooltip: what the KPI measures
    expect(page.get_by_text(KPIS["workload"].help)).to_be_visible()
    page.mouse.move(0, 0)
    slide(page, ".lever-compensation_premium", "End")  # pay 50% above market
    expect(page.locator(".lever-compensation_premium .lever-cost")).to_contain_text("0.5 ·")
    page.locator(".run-button").click()
    expect(caption).not_to_have_text(before, timeout=SLOW)
    expect(page.locator(".run-progress")).to_have_text("3 of 3 replications", timeout=SLOW)
    page.wait_for_timeout(1500)  # let ECharts finish drawing before the picture
    page.screenshot(path=str(ARTIFACTS / "strategist.png"))
    page.get_by_role("button", name="Network").click()
    expect(page.locator(".network-caption")).to_contain_text("Month 36:")
    expect(page.locator(".network-caption")).to_contain_text(" in 1 site;")  # was "1 site(s)"
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "strategist-network.png"))
    page.context.close()


def test_a_bad_upload_shows_the_problem_in_the_page(server, browser):
    """Each problem on a line of its own: they ran together in one paragraph."""
    page = open_page(browser, server)
    bad = b"[meta]\nmonths = 36\n[levers]\ninnovation_time = 0.9\n[organization]\nemployees = 0\n"
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "bad.toml", "mimeType": "application/toml", "buffer": bad}]
    )
    error = page.locator(".upload-error")
    expect(error).to_contain_text("levers.innovation_time", timeout=SLOW)
    expect(error).to_contain_text("allowed range 0 to 0.5")
    lines = [line for line in error.inner_text().splitlines() if line.strip()]
    assert [line.split(": ")[1] for line in lines] == [
        "organization.employees",
        "levers.innovation_time",
    ], lines
    expect(page.locator(".lever-innovation_time .lever-cost")).to_contain_text("0.1 ·")
    page.context.close()


def test_a_long_word_in_an_uploaded_name_keeps_the_page_in_the_window(server, browser):
    """A name that is one long word (or an unknown key of one in an upload's error) made the
    page wider than the window, the charts beside it cut off at the right edge."""
    word = "Q3plan_" + "x" * 200
    page = open_page(browser, server)
    named = f'[meta]\nname = "{word}"\nmonths = 36\n'.encode()
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "long.toml", "mimeType": "application/toml", "buffer": named}]
    )
    expect(page.get_by_text("Loaded upload long.toml")).to_be_visible(timeout=SLOW)
    # in CI (2 cores, the suite beside) the key press and then the click were both lost as the
    # upload's page re-rendered: neither took effect in 90 s
    size, progress = page.locator(".run-size"), page.locator(".run-progress")
    until(lambda: slide(page, ".replications", "Home"),
          lambda: size.inner_text().endswith("replications: 1"), what="sliding")  # fmt: skip
    click_until(page.locator(".run-button"), lambda: progress.count() > 0)
    expect(page.locator(".run-heading")).to_contain_text(word[:50], timeout=SLOW)
    fits = "document.documentElement.scrollWidth <= window.innerWidth"
    page.wait_for_function(fits, timeout=10_000)
    unknown = f"[levers]\n{word} = 1\n".encode()
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "bad.toml", "mimeType": "application/toml", "buffer": unknown}]
    )
    expect(page.locator(".upload-error")).to_contain_text(word[:50], timeout=SLOW)
    page.wait_for_function(fits, timeout=10_000)
    page.context.close()


def test_a_company_larger_than_the_server_runs_is_refused_in_the_page(server, browser):
    page = open_page(browser, server)
    big = b"[organization]\nemployees = 140000\n"  # valid; plans 520,000 by month 60
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "big.toml", "mimeType": "application/toml", "buffer": big}]
    )
    error = page.locator(".setting-error")
    expect(error).to_contain_text("plans up to 519,810 employees", timeout=SLOW)
    expect(error).to_contain_text("at most 150,000 (culturesim ui --max-employees)")
    expect(page.locator(".run-button")).to_be_disabled()
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "ok.toml", "mimeType": "application/toml", "buffer": b"[meta]\n"}]
    )
    expect(error).to_have_count(0, timeout=SLOW)
    expect(page.locator(".run-button")).to_be_enabled()
    page.context.close()


def test_a_tab_clicked_as_soon_as_it_shows_stays(server, browser):
    """A tab clicked the moment it shows takes the visitor there and keeps them there.

    Solara's navigator reports the address the page loaded with when it starts, which can be
    half a second after the tabs show; a tab clicked before that used to be sent back to the
    page it left (3 loads in 12 here). The app now holds such a click until the navigator has
    started. Six fresh loads, one click each, no retries.
    """
    for _ in range(6):
        context = browser.new_context(viewport={"width": 1500, "height": 1000})
        page = context.new_page()
        page.goto(server)
        page.get_by_role("tab", name="Classroom").click()  # as soon as it can be clicked
        expect(page).to_have_url(server + "classroom", timeout=SLOW)  # slow when CI is busy
        expect(page.get_by_text("Predict first")).to_be_visible(timeout=SLOW)
        page.wait_for_timeout(1000)  # the navigator's report came 0.2-0.6 s after the click
        expect(page).to_have_url(server + "classroom", timeout=100)
        expect(page.get_by_text("Predict first")).to_be_visible(timeout=100)
        context.close()


def test_the_sidebar_stands_beside_the_charts_in_a_1200_px_window(server, browser):
    """Vuetify floats a sidebar over the page below 1280 px: on a 1200-px window the levers
    covered the charts and the tabs under a grey scrim. It now floats only below 960 px."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector(".run-button", timeout=SLOW)
    expect(page.locator(".v-navigation-drawer")).not_to_have_class(re.compile("temporary"))
    expect(page.locator(".v-navigation-drawer__scrim")).to_have_count(0)
    page.get_by_role("tab", name="Classroom").click(timeout=10_000)  # not under the sidebar
    expect(page).to_have_url(server + "classroom")
    context.close()


def test_on_a_phone_pages_fit_and_the_sidebar_starts_closed_behind_a_menu_button(server, browser):
    """Below 960 px the sidebar floats; it opened on load over the whole page, and Solara's
    button to open and close it had no icon. The pages fit the phone's width."""
    context = browser.new_context(viewport={"width": 420, "height": 800})
    page = context.new_page()
    page.goto(server)
    drawer = page.locator(".v-navigation-drawer")
    page.wait_for_selector(".run-button", state="attached", timeout=SLOW)
    menu = page.locator(".v-app-bar-nav-icon")
    expect(menu.locator("i.mdi-menu")).to_be_visible(timeout=10_000)
    expect(drawer).not_to_have_class(re.compile("v-navigation-drawer--active"))
    expect(page.get_by_text("Set levers and events, then press Run")).to_be_visible()
    fits = "document.documentElement.scrollWidth <= 420"  # once the page's styles are in
    page.wait_for_function(fits, timeout=10_000)  # the views' buttons wrap
    # Solara's banner ("This website runs on Solara") covered the charts' captions
    expect(page.get_by_text("runs on Solara")).to_have_count(0)
    menu.click()
    expect(drawer).to_have_class(re.compile("v-navigation-drawer--active"))
    expect(page.locator(".run-button")).to_be_visible()
    page.goto(server + "classroom")  # its columns stack: the lesson's text is not a thin strip
    expect(page.get_by_text("Predict first")).to_be_visible(timeout=SLOW)
    page.wait_for_function(
        "document.querySelector('.lesson-info').getBoundingClientRect().width > 300",
        timeout=10_000,
    )
    page.wait_for_function(fits, timeout=10_000)
    # the sliders' long labels wrap rather than squeeze their tracks to a dot
    tracks = page.locator(".classroom .v-slider-track")
    expect(tracks).to_have_count(2)
    widths = tracks.evaluate_all("ts => ts.map(t => t.getBoundingClientRect().width)")
    assert min(widths) >= 100, widths
    context.close()


def test_classroom_lesson_predict_setup_step_play(server, browser):
    page = open_page(browser, server)
    expect(page.get_by_role("tab", name="Strategist")).to_be_visible()  # labels, not paths
    lesson = page.get_by_text("Predict first")
    click_until(
        page.get_by_role("tab", name="Classroom"),
        lambda: lesson.is_visible() and page.url == server + "classroom",
    )
    expect(page).to_have_url(server + "classroom")
    setup = page.get_by_role("button", name="Setup")
    expect(setup).to_be_disabled()
    # and it looks it: a disabled coloured button kept its colour, as clickable as ever
    looks = "e => getComputedStyle(e).backgroundColor + ' ' + getComputedStyle(e).color"
    step_looks = page.get_by_role("button", name="Step").evaluate(looks)  # disabled, uncoloured
    assert setup.evaluate(looks) == step_looks
    click_until(page.get_by_role("button", name="More launches"), lambda: setup.is_enabled())
    assert setup.evaluate(looks) != step_looks
    setup.click()
    expect(page.locator(".big-month")).to_have_text("Month 0 of 48", timeout=SLOW)
    page.get_by_role("button", name="Step").click()
    # the first month compiles the kernels when their caches are cold (run alone after a change)
    expect(page.locator(".big-month")).to_have_text("Month 1 of 48", timeout=SLOW)
    page.get_by_role("button", name="Play").click()
    expect(page.locator(".big-month")).to_have_text(
        re.compile(r"Month\s+([4-9]|\d\d) of 48"),
        timeout=SLOW,  # padded: a figure space
    )
    page.get_by_role("button", name="Pause").click()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "classroom.png"))
    page.context.close()


def test_two_sessions_see_only_their_own_levers_and_a_long_run_blocks_no_one(server, browser):
    a = open_page(browser, server)
    b = open_page(browser, server)
    slide(a, ".lever-innovation_time", "End")
    slide(b, ".lever-innovation_time", "Home")
    expect(a.locator(".lever-innovation_time .lever-cost")).to_contain_text("0.5 ·")
    expect(b.locator(".lever-innovation_time .lever-cost")).to_contain_text("0 ·")
    slide(a, ".replications", "End")  # 50 replications of 60 months: a long run
    a.locator(".run-button").click()
    expect(a.locator(".run-progress")).to_contain_text("of 50 replications")
    started = time.monotonic()
    slide(b, ".lever-innovation_time", "ArrowRight")  # B keeps working meanwhile
    expect(b.locator(".lever-innovation_time .lever-cost")).to_contain_text("0.01 ·", timeout=5000)
    assert time.monotonic() - started < 5
    assert "50 of 50" not in a.locator(".run-progress").inner_text()  # A is still running
    assert b.locator(".kpi-caption").count() == 0  # B never ran: it sees no results of A's
    expect(a.locator(".lever-innovation_time .lever-cost")).to_contain_text("0.5 ·")
    a.context.close()  # closing the session drops its run
    b.context.close()
