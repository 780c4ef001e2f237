"""Benchmark: is each speed trick the code keeps worth what it costs to read?

The rule (DEVELOPERS' brief): a trick that makes the code harder to read stays only if it
saves at least 10% of what a user waits for. Each trick is measured on and off, side by
side in one run (rounds interleaved, medians of several rounds, because these machines
are noisy), against what the user waits for:

1. ``rfc3987_syntax`` marked unavailable (``hwb_toolkit/__init__.py``): a fresh process
   importing what a briefing kernel imports, with and without the mark. Against: one
   ``hwb report`` (the briefing's floor: a Papermill run that only imports, about 10 s).
2. Altair short-cuts in ``hwb_toolkit.charts.base`` (no check-at-construction while a
   builder runs, layers combined without Altair's deep copies, inline rows passed by
   reference): building every chart of the home area's briefing, in a fresh process with
   the short-cuts on and off. Against: the same ``hwb report``.
3. One warm kernel per batch worker (``hwb_toolkit.report.batch``): N areas built one
   after another by one worker, reusing its kernel or starting a fresh one for each.
   Against: the batch itself.
4. nbconvert's HTML export without its final BeautifulSoup pass (``ReportExporter`` in
   ``hwb_toolkit.report.html``, which calls nbconvert's private methods): the executed
   briefing turned into its page, with that exporter and with nbconvert's own
   ``HTMLExporter`` configured the same. Against: the same ``hwb report``.

Run: ``.venv/bin/python bench/bench_tricks.py [--rounds 5] [--areas 4]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOME = "E08000021"
PERIOD = "2026-11"

#: What a briefing kernel imports first (the notebook's first cell), timed in a fresh process.
IMPORTS = """
import sys, time
{hide}
started = time.perf_counter()
import hwb_toolkit.report.build, hwb_toolkit.charts.spine, altair, jsonschema
print(time.perf_counter() - started)
"""

#: Build every chart of the home area's briefing in a fresh process, short-cuts on or off.
CHARTS = """
import sys, time
import altair as alt
import hwb_toolkit.charts.base as base
if {off}:
    base._built_unchecked = lambda builder: builder   # Altair checks each object as made
    base._Rows = list                                 # rows copied with every layer
from hwb_toolkit.charts import network, spine, trend, voices
if {off}:
    for family in (network, spine, trend, voices):
        family._layer = alt.layer                     # Altair's deep copies of each layer
from hwb_toolkit.report.build import build_briefing
from hwb_toolkit.report.sections import prepare_sections
briefing = build_briefing(sys.argv[1], "{home}", "{period}")
times = []
for _ in range(3):
    briefing.figures.clear()
    briefing.prepared_sections.clear()
    started = time.perf_counter()
    prepare_sections(briefing)                        # builds (and queues) every chart
    times.append(time.perf_counter() - started)
print(min(times))
"""


def run_python(code: str, *args: str) -> float:
    finished = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                              check=True)
    return float(finished.stdout.strip().splitlines()[-1])


def time_report(workspace: Path, out: Path) -> float:
    from hwb_toolkit.report.pipeline import build_report

    started = time.perf_counter()
    build_report(workspace, HOME, PERIOD, out=out)
    return time.perf_counter() - started


def time_export(executed: Path, rounds: int) -> tuple[float, float]:
    """Median seconds to turn ``executed`` into the page: our exporter, then nbconvert's own."""
    from nbconvert import HTMLExporter

    from hwb_toolkit.report import html

    ours = html._exporter()
    stock = HTMLExporter(config=ours.config, template_name=ours.template_name,
                         extra_template_basedirs=ours.extra_template_basedirs,
                         **{name: getattr(ours, name) for name in (
                             "exclude_input", "exclude_input_prompt", "exclude_output_prompt",
                             "exclude_markdown", "exclude_raw", "exclude_unknown")})
    times = {"ours": [], "stock": []}
    for _ in range(rounds + 1):  # the first round warms both up and is not counted
        for name, exporter in (("ours", ours), ("stock", stock)):
            html._THREAD.exporter = exporter
            started = time.perf_counter()
            html.notebook_to_html(executed)
            times[name].append(time.perf_counter() - started)
    html._THREAD.exporter = ours
    return statistics.median(times["ours"][1:]), statistics.median(times["stock"][1:])


def time_batch_worker(workspace: Path, out: Path, areas: list[str], reuse: bool) -> float:
    """One worker building ``areas`` in turn: reusing one warm kernel or a fresh one each."""
    from hwb_toolkit.report.batch import _build_one, _shutdown_warm_kernels, prepare_period

    prepared = prepare_period(workspace, PERIOD, out)
    started = time.perf_counter()
    try:
        for area in areas:
            result = _build_one(str(workspace), area, PERIOD, str(out), str(prepared), reuse_kernel=reuse)
            assert result.status == "done", result
    finally:
        _shutdown_warm_kernels()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--areas", type=int, default=4, help="areas one batch worker builds")
    options = parser.parse_args()

    from hwb_toolkit.workspace import Workspace, init_workspace

    with tempfile.TemporaryDirectory(prefix="bench-tricks-") as scratch:
        base = Path(scratch)
        workspace = init_workspace(base / "workspace")

        report = statistics.median(time_report(workspace, base / f"r{i}") for i in range(2))
        print(f"one hwb report (what a user waits for): {report:.2f} s (median of 2)")

        hide = "sys.modules.setdefault('rfc3987_syntax', None)"
        show = "import rfc3987_syntax  # as jsonschema would import it"
        with_mark, without_mark = [], []
        for _ in range(options.rounds):
            with_mark.append(run_python(IMPORTS.format(hide=hide)))
            without_mark.append(run_python(IMPORTS.format(hide=show)))
        saved = statistics.median(without_mark) - statistics.median(with_mark)
        print(f"1. rfc3987_syntax marked unavailable: imports {statistics.median(with_mark):.2f} s, "
              f"without the mark {statistics.median(without_mark):.2f} s: saves {saved:.2f} s "
              f"= {saved / report:.0%} of one report")

        on, off = [], []
        for _ in range(options.rounds):
            on.append(run_python(CHARTS.format(off=False, home=HOME, period=PERIOD), str(workspace)))
            off.append(run_python(CHARTS.format(off=True, home=HOME, period=PERIOD), str(workspace)))
        saved = statistics.median(off) - statistics.median(on)
        print(f"2. Altair short-cuts: every chart of a briefing built in {statistics.median(on):.2f} s, "
              f"without them {statistics.median(off):.2f} s: saves {saved:.2f} s "
              f"= {saved / report:.0%} of one report")

        ours, stock = time_export(base / "r0" / PERIOD / HOME / "briefing.ipynb", options.rounds)
        print(f"4. export without BeautifulSoup's pass: the page in {ours:.2f} s, with nbconvert's "
              f"own exporter {stock:.2f} s: saves {stock - ours:.2f} s = {(stock - ours) / report:.0%} "
              "of one report")

        areas = Workspace.open(workspace).briefing_areas()["area_code"].tolist()[: options.areas]
        warm = time_batch_worker(workspace, base / "warm", areas, reuse=True)
        fresh = time_batch_worker(workspace, base / "fresh", areas, reuse=False)
        print(f"3. warm kernel per worker: {len(areas)} areas in {warm:.1f} s, a fresh kernel each "
              f"{fresh:.1f} s: saves {fresh - warm:.1f} s = {(fresh - warm) / fresh:.0%} of the batch")


if __name__ == "__main__":
    main()
