"""Benchmark: hwb_toolkit's proportion and crude_rate against PHStatsMethods.

Generates N rows (default 1,000,000) with a seeded numpy RNG, runs
``hwb_toolkit.indicators.proportion``/``crude_rate`` and PHStatsMethods'
``ph_proportion``/``ph_rate`` on the same input in the same run (95% and 99.8%
limits), and prints the seconds for each, the speed ratio (goal: ours at least
5x faster) and the largest relative difference of values and limits (goal: < 1e-9).

Run: .venv/bin/python bench/bench_calculators.py [--rows N] [--seed S]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from hwb_toolkit.indicators import crude_rate, proportion

LEVELS = (0.95, 0.998)


def make_data(rows: int, seed: int) -> pd.DataFrame:
    """Denominators 50..200,000 (log-uniform) and counts drawn around realistic rates.

    Counts are at least 1 because PHStatsMethods' Byar's upper limit rejects 0.
    """
    rng = np.random.default_rng(seed)
    denominator = np.exp(rng.uniform(np.log(50), np.log(200_000), rows)).round()
    probability = rng.uniform(0.001, 0.3, rows)
    numerator = np.maximum(rng.binomial(denominator.astype(np.int64), probability), 1)
    return pd.DataFrame({"numerator": numerator.astype(float), "denominator": denominator})


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def theirs_column(level: float, side: str) -> str:
    from PHStatsMethods.validation import ci_col

    return ci_col(level, side)


def max_relative_difference(ours: pd.DataFrame, theirs: pd.DataFrame) -> float:
    pairs = [("value", "Value")]
    for level in LEVELS:
        suffix = f"{level * 100:.10g}".replace(".", "")
        pairs += [
            (f"lower_ci{suffix}", theirs_column(level, "lower")),
            (f"upper_ci{suffix}", theirs_column(level, "upper")),
        ]
    worst = 0.0
    for mine, peer in pairs:
        a = ours[mine].to_numpy(dtype=float)
        b = theirs[peer].to_numpy(dtype=float)
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            return float("inf")
        ok = ~np.isnan(b) & (b != 0)
        worst = max(worst, float(np.max(np.abs(a[ok] / b[ok] - 1), initial=0.0)))
        both_zero = (b == 0) & (a != 0)
        if both_zero.any():
            return float("inf")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args()

    import PHStatsMethods as phs

    data = make_data(args.rows, args.seed)
    print(
        f"rows: {len(data):,}  (seed {args.seed}; PHStatsMethods {getattr(phs, '__version__', '0.1.16')})"
    )
    cases = [
        (
            "proportion",
            lambda: proportion(data, "numerator", "denominator", multiplier=100, confidence=LEVELS),
            lambda: phs.ph_proportion(
                data,
                "numerator",
                "denominator",
                confidence=list(LEVELS),
                multiplier=100,
                metadata=False,
            ),
        ),
        (
            "crude_rate",
            lambda: crude_rate(
                data, "numerator", "denominator", multiplier=100_000, confidence=LEVELS
            ),
            lambda: phs.ph_rate(
                data,
                "numerator",
                "denominator",
                confidence=list(LEVELS),
                multiplier=100_000,
                metadata=False,
            ),
        ),
    ]
    for name, ours_call, theirs_call in cases:
        ours, ours_seconds = timed(ours_call)
        theirs, theirs_seconds = timed(theirs_call)
        difference = max_relative_difference(ours, theirs)
        print(
            f"{name:<11} hwb_toolkit {ours_seconds:8.3f} s   PHStatsMethods {theirs_seconds:8.3f} s   "
            f"ratio {theirs_seconds / ours_seconds:7.1f}x faster (goal >= 5x)   "
            f"max relative difference {difference:.2e} (goal < 1e-9)"
        )


if __name__ == "__main__":
    main()
