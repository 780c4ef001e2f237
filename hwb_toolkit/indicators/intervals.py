"""Confidence intervals for counts and proportions, as PHE/OHID compute them: Wilson's score
interval for a proportion, Byar's approximation and the exact interval for a Poisson count,
and the Poisson means whose tails Fingertips' comparers and funnels use.

Arrays in, arrays out (NumPy broadcasting); a count ``x`` and a denominator ``n`` are raw
numbers, a proportion is 0-1 before any multiplier.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from hwb_toolkit.errors import InputError


def normal_z(confidence: float) -> float:
    """Two-sided standard normal quantile for a confidence level (0.95 -> 1.959964)."""
    confidence = _check_level(confidence)
    return float(special.ndtri(0.5 + confidence / 2.0))


def _check_level(confidence: float) -> float:
    level = float(confidence)
    if not 0.0 < level < 1.0:
        raise InputError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return level


def wilson_ci(x, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for the proportion ``x / n`` (0-1, no multiplier).

    ``x`` and ``n`` are scalars or array-likes (broadcast together). Returns
    ``(lower, upper)`` as float arrays; NaN where an input is NaN or ``n`` is 0.
    The limits are clipped to [0, 1] to absorb rounding at x = 0 and x = n.
    """
    z = normal_z(confidence)
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = 2.0 * x + z2
        spread = z * np.sqrt(z2 + 4.0 * x * (1.0 - x / n))
        denom = 2.0 * (n + z2)
        lower = (centre - spread) / denom
        upper = (centre + spread) / denom
    lower = np.where(n == 0, np.nan, np.clip(lower, 0.0, 1.0))
    upper = np.where(n == 0, np.nan, np.clip(upper, 0.0, 1.0))
    return lower, upper


#: The rounded normal quantiles Fingertips' own calculations use (e.g. Byar's limits
#: of some published indicators): pass ``z=FINGERTIPS_Z[level]`` to reproduce them.
FINGERTIPS_Z = {0.95: 1.96, 0.998: 3.0902}


def byars_ci(
    x, confidence: float = 0.95, *, z: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximation to the Poisson confidence limits of a COUNT ``x``.

    ``z`` overrides the normal quantile of ``confidence`` (Fingertips publishes
    some indicators computed with the rounded 1.96: see :data:`FINGERTIPS_Z`).

    lower = x (1 - 1/(9x) - z/(3 sqrt x))^3,
    upper = (x+1) (1 - 1/(9(x+1)) + z/(3 sqrt(x+1)))^3.
    The lower limit is 0 for x = 0. For very small x at high confidence (x = 1 at 99.8%)
    the approximation gives a negative lower limit: it is returned as NaN, as
    PHEindicatormethods does (use :func:`exact_poisson_ci` for small counts).
    """
    z = normal_z(confidence) if z is None else float(z)
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = x * (1.0 - 1.0 / (9.0 * x) - z / (3.0 * np.sqrt(x))) ** 3
        x1 = x + 1.0
        upper = x1 * (1.0 - 1.0 / (9.0 * x1) + z / (3.0 * np.sqrt(x1))) ** 3
    lower = np.where(x == 0, 0.0, np.where(lower < 0, np.nan, lower))
    return lower, upper


def exact_poisson_ci(x, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood, chi-square) Poisson confidence limits of a COUNT ``x``.

    lower = chi2.ppf(alpha/2, 2x) / 2 (0 when x = 0), upper = chi2.ppf(1 - alpha/2, 2x + 2) / 2,
    computed through the equivalent gamma quantiles (``scipy.special.gammaincinv``)
    which is fast on large arrays.
    """
    level = _check_level(confidence)
    alpha = 1.0 - level
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        # chi2.ppf(p, 2k) / 2 == gamma.ppf(p, k) == gammaincinv(k, p)
        lower = np.where(x > 0, special.gammaincinv(np.where(x > 0, x, 1.0), alpha / 2.0), 0.0)
        upper = special.gammaincinv(x + 1.0, 1.0 - alpha / 2.0)
    lower = np.where(np.isnan(x), np.nan, lower)
    return lower, upper


def _poisson_at_least(k: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """P(X >= k) for X ~ Poisson(mean); 1 for k <= 0 (``pdtrc`` gives NaN below zero)."""
    return np.where(k <= 0, 1.0, special.pdtrc(np.maximum(k - 1, 0), mean))


def _poisson_at_most(k: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """P(X <= k) for X ~ Poisson(mean); 0 for k < 0."""
    return np.where(k < 0, 0.0, special.pdtr(np.maximum(k, 0), mean))


def poisson_mean_for_tail(observed, tail: float, side: str) -> np.ndarray:
    """Poisson mean at which ``observed`` sits at tail probability ``tail``.

    ``side="low"``: the mean m with P(X >= observed | m) = tail (a lower limit);
    ``side="high"``: the mean m with P(X <= observed | m) = tail (an upper limit).
    Found by the same 23-step bisection on v = m / (1 + observed + m) that
    Fingertips (``StatisticalMethods.PoisLow/PoisHigh``) and the PHE funnel
    macro use, so the limits agree with theirs to the last digit they print;
    vectorised over ``observed`` with scipy's Poisson tails (``pdtr``/``pdtrc``).
    Non-integer ``observed`` (expected counts) count whole events only, as theirs do.
    """
    observed = np.asarray(observed, dtype=float)
    if side not in ("low", "high"):
        raise ValueError(f"side must be 'low' or 'high', got {side!r}")
    v = np.full(observed.shape, 0.5)
    step = 0.5
    while step > 1e-7:
        step /= 2
        mean = (1 + observed) * v / (1 - v)
        if side == "low":
            overshoot = _poisson_at_least(np.ceil(observed), mean) > tail
        else:
            overshoot = _poisson_at_most(np.floor(observed), mean) < tail
        v = np.where(overshoot, v - step, v + step)
    return (1 + observed) * v / (1 - v)
