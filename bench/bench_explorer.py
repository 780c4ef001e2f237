"""The Explorer page against a bare Voila page, in one run, through ``hwb serve``.

Runs, on the same machine and the same server (the committed configuration):

1. loads: N fresh loads of each page in Chromium, interleaved (bare, Explorer, bare, ...)
   so both see the same machine; time from navigation until the page's root widget
   (class ``hwb-page``) is drawn, i.e. the page is interactive. The bare page is one
   Dropdown. Goal: Explorer median at most 1.5 x the bare median.
2. area changes: in one Explorer page, M changes of area; time from choosing the area to
   the narrative showing that area's sentences (the browser sees the new text). Goal:
   median under 0.5 s.

Prints medians (and max), the ratio, and whether each goal was met; exits 1 if a load
never became interactive (within 60 s). By default the workspace has the tables a monthly
batch prepares (``reports/<period>/.prepared``), as a served site does; ``--computed``
measures the fallback that computes them in the page. ``--preheat`` serves with a warm
pool of one kernel per page (Voila's preheat).

    .venv/bin/python bench/bench_explorer.py [--loads 10] [--changes 10] [--computed] [--preheat]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.apps.conftest import (  # noqa: E402 - the tests' server and browser helpers
    BARE_PAGE,
    DESKTOP,
    PAGE_SELECTOR,
    launch_voila,
)
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

LOAD_TIMEOUT_MS = 60_000


def load_seconds(browser, url: str) -> float | None:
    """Seconds from navigation until the page's root widget is visible (None: never)."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    start = time.perf_counter()
    try:
        page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT_MS)
        page.wait_for_selector(PAGE_SELECTOR, state="visible", timeout=LOAD_TIMEOUT_MS)
        return time.perf_counter() - start
    except Exception:  # noqa: BLE001 - a page that never became interactive is counted
        return None
    finally:
        page.close(run_before_unload=True)  # Voila's shutdown beacon: free the kernel
        time.sleep(0.2)
        context.close()


def area_change_seconds(browser, url: str, areas: list[tuple[str, str]], changes: int) -> list[float]:
    """Seconds from choosing an area (``(label, code)``) to its narrative being shown."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(PAGE_SELECTOR, state="visible", timeout=LOAD_TIMEOUT_MS)
    seconds = []
    for index in range(changes):
        label, area = areas[(index + 1) % len(areas)]
        start = time.perf_counter()
        page.select_option(".hwb-area select", label=label)
        page.wait_for_selector(f'.hwb-narrative [data-area="{area}"]', timeout=LOAD_TIMEOUT_MS)
        seconds.append(time.perf_counter() - start)
        # let the charts for this area finish before the next change, as a reader would
        page.wait_for_selector(f'.hwb-spine [data-area="{area}"]', timeout=LOAD_TIMEOUT_MS)
    page.close(run_before_unload=True)
    context.close()
    return seconds


def summary(label: str, values: list[float]) -> str:
    return f"{label}: median {statistics.median(values):.2f} s, max {max(values):.2f} s (n={len(values)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--computed", action="store_true", help="no prepared tables")
    parser.add_argument("--preheat", action="store_true", help="warm pool of kernels")
    options = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from hwb_toolkit.apps.explorer import ExplorerData
    from hwb_toolkit.apps.serve import prepare_pages
    from hwb_toolkit.report.batch import prepare_period
    from hwb_toolkit.resources import notebooks_dir
    from hwb_toolkit.workspace import init_workspace

    with tempfile.TemporaryDirectory(prefix="bench-explorer-") as scratch:
        base = Path(scratch)
        workspace = init_workspace(base / "workspace")
        reports = base / "reports"
        reports.mkdir()
        if not options.computed:
            period = date.today().strftime("%Y-%m")
            prepare_period(workspace, period, reports)
        pages = base / "pages"
        prepare_pages(notebooks_dir(), pages)
        (pages / "bare.ipynb").write_text(BARE_PAGE)
        areas = ExplorerData(workspace, reports).areas()

        extra = ["--preheat"] if options.preheat else []
        server = launch_voila(workspace, reports=reports, pages=pages, extra_args=extra,
                              log_dir=base / "log")
        try:
            if options.preheat:
                time.sleep(20)  # let the pools fill before measuring
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                load_seconds(browser, server.page_url("bare.ipynb"))  # warm the server's caches
                bare, explorer, failed = [], [], 0
                for _ in range(options.loads):
                    for name, into in (("bare.ipynb", bare), ("explorer.ipynb", explorer)):
                        seconds = load_seconds(browser, server.page_url(name))
                        if seconds is None:
                            failed += 1
                            print(f"  {name}: never became interactive", flush=True)
                        else:
                            into.append(seconds)
                changes = area_change_seconds(browser, server.page_url("explorer.ipynb"), areas,
                                              options.changes)
                browser.close()
        finally:
            server.stop()

    mode = ("computed in the page" if options.computed else "prepared tables") + (
        ", preheated kernels" if options.preheat else "")
    print(f"Explorer vs a bare Voila page ({mode})")
    print("  " + summary("bare page interactive", bare))
    print("  " + summary("Explorer interactive", explorer))
    ratio = statistics.median(explorer) / statistics.median(bare)
    print(f"  ratio Explorer / bare: {ratio:.2f} x (goal <= 1.5 x: {'met' if ratio <= 1.5 else 'NOT met'})")
    median_change = statistics.median(changes)
    print("  " + summary("area change to updated narrative", changes)
          + f" (goal < 0.5 s: {'met' if median_change < 0.5 else 'NOT met'})")
    print(f"  loads that never became interactive: {failed} of {2 * options.loads}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
