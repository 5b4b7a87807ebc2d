"""Responsiveness of the strategist page: baseline, 10 replications, 60 months.

``--sessions N``: N pages press Run on the same setting together instead (a class).

Starts ``culturesim ui`` on a free port, opens the page in headless Chromium (Debian's), makes
one untimed run (the workers compile the kernels first after any change to the sources), then
times Run -> first charts drawn (the first replication lands) and Run -> all 10 replications in
the charts, a lever moved before each run. Prints the figures for RESULTS.md.

    .venv/bin/python benchmarks/bench_ui.py [--repeats 3] [--sessions N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from playwright.sync_api import sync_playwright
from test_ui_browser import ARGS, ensure_chromium, server

ALL_DONE = "document.querySelector('.run-progress')?.innerText === '10 of 10 replications'"


def a_class(browser, url: str, sessions: int) -> None:
    """``sessions`` pages press Run on the same setting together; print when each is done."""
    pages = []
    for _ in range(sessions):
        pages.append(browser.new_context(viewport={"width": 1200, "height": 900}).new_page())
        pages[-1].goto(url)
    for page in pages:
        page.wait_for_selector(".run-button", timeout=120_000)
    time.sleep(8)  # the server warms its workers at start
    t0 = time.perf_counter()
    for page in pages:
        page.locator(".run-button").click()
    done = []
    for page in pages:
        page.wait_for_function(ALL_DONE, timeout=600_000)
        done.append(time.perf_counter() - t0)
    print(f"{sessions} sessions, 10 replications each, pressed together: done after "
          + ", ".join(f"{t:.1f}" for t in sorted(done))
          + f" s (mean {statistics.mean(done):.1f})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--sessions", type=int, default=0,
        help="instead: this many pages press Run on the same setting at once (a class)",
    )  # fmt: skip
    args = parser.parse_args()
    gen = server.__wrapped__()  # the test fixture's generator: start, yield url, stop
    url = next(gen)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=ensure_chromium(), args=ARGS)
            if args.sessions:
                a_class(browser, url, args.sessions)
                return
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(url)
            page.wait_for_selector(".run-button", timeout=90_000)
            time.sleep(8)  # the server warms its workers at start
            t0 = time.perf_counter()  # one run untimed: after any change to the sources the
            page.locator(".run-button").click()  # workers compile the kernels first
            page.wait_for_function(ALL_DONE, timeout=300_000)
            print(f"warm-up run (not counted): {time.perf_counter() - t0:.2f} s")
            first, full = [], []
            for i in range(args.repeats):
                thumb = page.locator(".lever-innovation_time [role=slider]").first
                thumb.focus()
                thumb.press("ArrowRight")  # a setting not run before: the server keeps runs
                t0 = time.perf_counter()
                page.locator(".run-button").click()
                page.wait_for_function(
                    "document.querySelector('.run-progress')?.innerText.startsWith('1 of')"
                    " || document.querySelector('.run-progress')?.innerText.startsWith('2 of')",
                    timeout=90_000,
                )
                page.wait_for_selector(".caption-headcount", timeout=90_000)
                first.append(time.perf_counter() - t0)
                page.wait_for_function(ALL_DONE, timeout=180_000)
                full.append(time.perf_counter() - t0)
                print(f"run {i + 1}: first charts {first[-1]:.2f} s, all 10 in {full[-1]:.2f} s")
            print(
                f"median: first charts {statistics.median(first):.2f} s, "
                f"all 10 replications {statistics.median(full):.2f} s"
            )
            browser.close()
    finally:
        next(gen, None)  # the fixture's teardown stops the server (gen.close() skips it)


if __name__ == "__main__":
    main()
