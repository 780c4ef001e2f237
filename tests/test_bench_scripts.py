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
