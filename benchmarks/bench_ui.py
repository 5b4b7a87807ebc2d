"""Responsiveness of the strategist page: baseline, 10 replications, 60 months.

Starts ``culturesim ui`` on a free port, opens the page in headless Chromium (Debian's), waits
until the worker processes are warm, then times Run -> first charts drawn (the first replication
lands) and Run -> all 10 replications in the charts. Prints the figures for RESULTS.md.

    .venv/bin/python benchmarks/bench_ui.py [--repeats 3]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    gen = server.__wrapped__()  # the test fixture's generator: start, yield url, stop
    url = next(gen)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=ensure_chromium(), args=ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(url)
            page.wait_for_selector(".run-button", timeout=90_000)
            time.sleep(8)  # the server warms its workers at start
            first, full = [], []
            for i in range(args.repeats):
                if i:  # a different setting each time, so nothing is reused
                    thumb = page.locator(".lever-innovation_time [role=slider]").first
                    thumb.focus()
                    thumb.press("ArrowRight")
                t0 = time.perf_counter()
                page.locator(".run-button").click()
                page.wait_for_function(
                    "document.querySelector('.run-progress')?.innerText.startsWith('1 of')"
                    " || document.querySelector('.run-progress')?.innerText.startsWith('2 of')",
                    timeout=90_000,
                )
                page.wait_for_selector(".caption-headcount", timeout=90_000)
                first.append(time.perf_counter() - t0)
                page.wait_for_function(
                    "document.querySelector('.run-progress')?.innerText === "
                    "'10 of 10 replications'",
                    timeout=180_000,
                )
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
