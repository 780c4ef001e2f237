"""Every benchmark script in bench/ still starts: its imports resolve and it answers --help.

The benchmarks run by hand (they print ratios measured side by side); without this a
moved helper can break one silently until somebody needs it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("*.py")))
def test_bench_script_starts(script):
    finished = subprocess.run([sys.executable, str(BENCH / script), "--help"],
                              capture_output=True, text=True, timeout=300, cwd=BENCH.parent)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "usage:" in finished.stdout


def test_the_briefing_floor_imports_what_a_briefing_loads(tmp_path):
    # The 1.5x goal's floor imports every hwb_toolkit module a briefing loads, including
    # those the briefing module imports only when a briefing is built (charts: Altair;
    # store: SQLAlchemy), so that their import time counts as floor, not as the briefing's.
    sys.path.insert(0, str(BENCH))
    try:
        import bench_briefing
    finally:
        sys.path.remove(str(BENCH))
    from hwb_toolkit.workspace import init_workspace

    used = bench_briefing.modules_a_briefing_loads(init_workspace(tmp_path / "workspace"))
    assert {"hwb_toolkit.report.build", "hwb_toolkit.charts", "hwb_toolkit.store",
            "hwb_toolkit.report.sections", "hwb_toolkit.io.voices"} <= set(used)
    import nbformat

    floor = nbformat.read(bench_briefing.floor_notebook(tmp_path / "floor.ipynb", used), as_version=4)
    assert floor.cells[1].source.splitlines()[: len(used)] == [f"import {module}" for module in used]
