"""Benchmark: is each speed trick the code keeps worth what it costs to read?

The rule (DEVELOPERS' brief): a trick that makes the code harder to read stays only if it
saves at least 10% of what a user waits for. Each trick is measured on and off, side by
side in one run (rounds interleaved, medians of several rounds, because these machines
are noisy), against what the user waits for:

1. ``rfc3987_syntax`` marked unavailable (``hwb_toolkit/__init__.py``): a fresh process
   importing what a briefing kernel imports, with and without the mark. Against: one
   ``hwb report`` (about 4.6 s).
2. One warm kernel per batch worker (``hwb_toolkit.report.batch``): N areas built one
   after another by one worker, reusing its kernel or starting a fresh one for each.
   Against: the batch itself.

Measured and removed (December 2026, each under 10% of one report of 4.6 s): Altair
short-cuts while building charts (no schema check at construction, layers combined without
Altair's copies, rows passed by reference): 0.19 s, 4%; nbconvert's export without its final
BeautifulSoup pass: 0.13 s, 3%; garbage-collector settings and ``gc.freeze``; a lower
priority for the chart process.

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
started = time.perf_counter()
{hide}
import hwb_toolkit.report.build, hwb_toolkit.charts.spine, altair, jsonschema
print(time.perf_counter() - started)
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

        areas = Workspace.open(workspace).briefing_areas()["area_code"].tolist()[: options.areas]
        warm = time_batch_worker(workspace, base / "warm", areas, reuse=True)
        fresh = time_batch_worker(workspace, base / "fresh", areas, reuse=False)
        print(f"2. warm kernel per worker: {len(areas)} areas in {warm:.1f} s, a fresh kernel each "
              f"{fresh:.1f} s: saves {fresh - warm:.1f} s = {(fresh - warm) / fresh:.0%} of the batch")


if __name__ == "__main__":
    main()
