"""Responsiveness of the strategist page: baseline, 10 replications, 60 months.

Starts ``culturesim ui`` on a free port, opens the page in headless Chromium (Debian's), makes
one untimed run (the workers compile the kernels first after any change to the sources), then
times Run -> first charts drawn (the first replication lands) and Run -> all 10 replications in
the charts, a lever moved before each run. Prints the figures for RESULTS.md.

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
            t0 = time.perf_counter()  # one run untimed: after any change to the sources the
            page.locator(".run-button").click()  # workers compile the kernels first
            page.wait_for_function(
                "document.querySelector('.run-progress')?.innerText === '10 of 10 replications'",
                timeout=300_000,
            )
            print(f"warm-up run (not counted): {time.perf_counter() - t0:.2f} s")
            first, full = [], []
            for i in range(args.repeats):
                thumb = page.locator(".lever-innovation_time [role=slider]").first
                thumb.focus()
                thumb.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")  # nothing is reused
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
