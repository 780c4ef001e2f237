"""Benchmark: the monthly briefing against its floor, and a batch against single runs.

1. One briefing (``build_report`` of the real notebook, one area) against the
   floor: the same Papermill run and HTML conversion of a notebook that only
   imports hwb_toolkit. Three floors are shown: ``import hwb_toolkit`` (the
   package root, which imports nothing heavy), ``import hwb_toolkit.report.build``
   (the module the notebook imports; it loads some modules only when first
   used) and the goal's floor, every hwb_toolkit module a briefing loads (so
   every library it needs: pandas, Altair, scikit-learn, SQLAlchemy...),
   found by building a briefing in a separate process first. Rounds are
   interleaved and the median of per-round ratios is printed, because these
   machines are noisy. Goal: at most 1.5x against the last floor.
2. A batch of N areas (``hwb batch``, 2 workers) against N single ``hwb report``
   runs one after another, each as the command a person would type. Goal: at
   least 2.5x faster on 2 cores. The workspace is the example one with extra
   synthetic areas (copies of real areas' rows under new codes) up to N.

Run: ``.venv/bin/python bench/bench_briefing.py [--rounds 3] [--areas 150] [--skip-batch]``
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
import pandas as pd

from hwb_toolkit.report.pipeline import build_report
from hwb_toolkit.workspace import Workspace, init_workspace

HOME = "E08000021"
PERIOD = "2026-11"
HWB = str(Path(sys.executable).with_name("hwb"))


def floor_notebook(path: Path, modules: list[str]) -> Path:
    """A notebook with the briefing's parameters that only imports ``modules``."""
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell(
        'workspace = ""\narea_code = ""\nperiod = ""\noutput_dir = "."\nprepared = ""\n'
        'previous_summary = ""\nsuppress_below = 5'
    )
    parameters.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "".join(f"import {module}\n" for module in modules)
        + "import pathlib\npathlib.Path(output_dir, 'summary.json').write_text('{}')"
    )
    notebook.cells = [parameters, body]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


def timed(function) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``function``: CPU counts this process and the kernels it
    started and reaped, so it is less swayed than wall time by other work on the machine.
    It leaves out the briefing's chart process: the kernel is stopped at once when the run
    is done (``build_report``), so that process ends unreaped by the kernel."""
    def cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    started, started_cpu = time.perf_counter(), cpu()
    function()
    return time.perf_counter() - started, cpu() - started_cpu


def phases(report: Path, started: float, finished: float) -> dict[str, float]:
    """Where one run's wall time went (seconds), from the cell times Papermill records in the
    executed notebook; ``started``/``finished`` are the run's ends as epoch seconds."""
    cells = [
        cell for cell in nbformat.read(report / "briefing.ipynb", as_version=4).cells
        if cell.metadata.get("papermill", {}).get("start_time")
    ]
    tags = [cell.metadata.get("tags", []) for cell in cells]
    first_main = next(i for i, t in enumerate(tags) if "injected-parameters" in t) + 1
    main = next(i for i in range(first_main, len(cells)) if cells[i].cell_type == "code")

    def stamp(cell, key: str) -> float:
        return datetime.fromisoformat(cell.metadata["papermill"][key]).timestamp()

    return {
        "to the first cell (kernel start)": stamp(cells[0], "start_time") - started,
        "first code cell (imports and work)": stamp(cells[main], "end_time") - stamp(cells[main], "start_time"),
        "other cells": stamp(cells[-1], "end_time") - stamp(cells[main], "end_time"),
        "after the last cell (kernel stop, HTML)": finished - stamp(cells[-1], "end_time"),
    }


#: Builds and shows one briefing in this process (charts drawn in a thread), then prints the
#: hwb_toolkit modules it loaded, one a line.
_MODULES_USED = """
import contextlib, io, sys
from hwb_toolkit.report.build import build_briefing
from hwb_toolkit.report.sections import show
briefing = build_briefing(sys.argv[1], sys.argv[2], sys.argv[3])
with contextlib.redirect_stdout(io.StringIO()):
    for section in ("title", "headline", "glance", "changes"):
        show(briefing, section)
    for objective in briefing.objectives:
        show(briefing, "objective", objective=objective)
    for section in ("consensus", "loop", "conversations", "data_notes"):
        show(briefing, section)
print("\\n".join(sorted(name for name in sys.modules if name.startswith("hwb_toolkit."))))
"""


def modules_a_briefing_loads(workspace: Path) -> list[str]:
    """The hwb_toolkit modules that building and showing the home area's briefing loads."""
    found = subprocess.run([sys.executable, "-c", _MODULES_USED, str(workspace), HOME, PERIOD],
                           capture_output=True, text=True, check=True)
    return found.stdout.split()


def bench_single(workspace: Path, scratch: Path, rounds: int) -> None:
    used = modules_a_briefing_loads(workspace)
    goal_floor = f"the {len(used)} hwb_toolkit modules a briefing loads"
    print(f"  a briefing loads {len(used)} hwb_toolkit modules: {', '.join(used)}")
    floors = {
        "import hwb_toolkit": floor_notebook(scratch / "floor_root.ipynb", ["hwb_toolkit"]),
        "import hwb_toolkit.report.build": floor_notebook(scratch / "floor_briefing.ipynb", ["hwb_toolkit.report.build"]),
        goal_floor: floor_notebook(scratch / "floor_used.ipynb", used),
    }
    wall: dict[str, list[float]] = {"briefing": [], **{name: [] for name in floors}}
    cpu: dict[str, list[float]] = {name: [] for name in wall}
    out = scratch / "single"

    parts: dict[str, list[dict[str, float]]] = {name: [] for name in wall}

    def record(name: str, notebook: Path | None, folder: Path) -> None:
        started = time.time()
        report = []
        measured = timed(lambda: report.append(build_report(workspace, HOME, PERIOD, folder, notebook=notebook)))
        parts[name].append(phases(report[0], started, time.time()))
        wall[name].append(measured[0])
        cpu[name].append(measured[1])

    for round_ in range(rounds):
        for name, notebook in floors.items():
            record(name, notebook, out / f"floor{list(floors).index(name)}")
        record("briefing", None, out / "briefing")
        print(f"  round {round_ + 1}: " + ", ".join(
            f"{k} {wall[k][-1]:.2f} s (CPU {cpu[k][-1]:.2f} s)" for k in wall), flush=True)
    print("\nOne briefing (home area, with voices, actions and 21 charts) against its floor:")
    for name in floors:
        for what, times in (("wall", wall), ("CPU", cpu)):
            ratios = [b / f for b, f in zip(times["briefing"], times[name], strict=True)]
            goal = " (goal <= 1.5x)" if name == goal_floor else ""
            print(f"  {what:4}: briefing {statistics.median(times['briefing']):.2f} s vs floor [{name}] "
                  f"{statistics.median(times[name]):.2f} s: ratio {statistics.median(ratios):.2f}x{goal}")
    print("  where the time goes (median seconds; floors in the order above):")
    for phase in parts["briefing"][0]:
        print(f"    {phase:42}" + "".join(
            f"  {statistics.median(p[phase] for p in parts[name]):5.2f}" for name in ("briefing", *floors)))
    print(f"  load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def national_workspace(scratch: Path, n_areas: int) -> Path:
    """The example workspace with synthetic areas added until it has ``n_areas`` briefing areas."""
    workspace = init_workspace(scratch / "national")
    export = workspace / "indicators" / "fingertips_all_data.csv"
    rows = pd.read_csv(export, dtype=str, keep_default_na=False)
    real = Workspace.open(workspace).briefing_areas()["area_code"].tolist()
    extra = []
    for n in range(n_areas - len(real)):
        source = real[n % len(real)]
        copy = rows[rows["Area Code"] == source].copy()
        copy["Area Code"] = f"E06{900000 + n:06d}"
        copy["Area Name"] = f"Synthetic area {n + 1}"
        extra.append(copy)
    if extra:
        pd.concat(extra).to_csv(workspace / "indicators" / "synthetic_areas.csv", index=False)
    return workspace


def bench_batch(scratch: Path, n_areas: int) -> None:
    workspace = national_workspace(scratch, n_areas)
    areas = Workspace.open(workspace).briefing_areas()["area_code"].tolist()[:n_areas]
    print(f"\nBatch of {len(areas)} areas against {len(areas)} single runs (2 cores):", flush=True)
    batch_out = scratch / "batch"
    started = time.perf_counter()
    result = subprocess.run([HWB, "batch", "--workspace", str(workspace), "--period", PERIOD,
                             "--out", str(batch_out), "--workers", "2", "--areas", ",".join(areas)],
                            capture_output=True, text=True)
    batch_seconds = time.perf_counter() - started
    print(f"  hwb batch: {batch_seconds:.1f} s (exit {result.returncode}) "
          f"{result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-300:]}", flush=True)
    singles_out = scratch / "singles"
    started = time.perf_counter()
    failures = 0
    for code in areas:
        failures += subprocess.run([HWB, "report", "--workspace", str(workspace), "--area", code,
                                    "--period", PERIOD, "--out", str(singles_out)],
                                   capture_output=True, text=True).returncode != 0
    singles_seconds = time.perf_counter() - started
    print(f"  {len(areas)} x hwb report: {singles_seconds:.1f} s ({failures} failed)")
    print(f"  batch is {singles_seconds / batch_seconds:.2f}x faster (goal >= 2.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--areas", type=int, default=150)
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="hwb-bench-"))
    try:
        workspace = init_workspace(scratch / "workspace")
        bench_single(workspace, scratch, args.rounds)
        if not args.skip_batch:
            bench_batch(scratch, args.areas)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
