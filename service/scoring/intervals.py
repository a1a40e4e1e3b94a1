"""Confidence intervals and significance tests used by the survey metrics.

Plain formulas over counts so that they vectorise and can be checked by hand:
Wilson score intervals for proportions, the multinomial variance of the promoter-detractor
difference for NPS, Student t for means, and z tests for changes between periods.
"""

from __future__ import annotations

import math

from scipy import stats


def z_value(confidence: float) -> float:
    """Two-sided normal quantile for a confidence level (1.96 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (Wilson 1927); stays inside [0, 1] for small n."""
    if n <= 0:
        raise ValueError("a proportion needs at least one observation")
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} not in 0..{n}")
    z = z_value(confidence)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Clamp against float rounding so the interval always contains p exactly at 0 or 1.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def nps_variance(promoters: int, detractors: int, n: int) -> float:
    """Variance of the NPS estimate on the -1..1 scale.

    Each answer scores +1 (promoter), 0 (passive) or -1 (detractor); the NPS is their mean, so its
    variance is (p + d - (p - d)²) / n with p, d the promoter and detractor shares.
    """
    if n <= 0:
        raise ValueError("NPS needs at least one answer")
    p, d = promoters / n, detractors / n
    return max(0.0, p + d - (p - d) ** 2) / n


def nps_interval(
    promoters: int, detractors: int, n: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Normal-approximation interval for NPS on -100..100, clipped to the possible range."""
    nps = 100.0 * (promoters - detractors) / n
    half = 100.0 * z_value(confidence) * math.sqrt(nps_variance(promoters, detractors, n))
    return max(-100.0, nps - half), min(100.0, nps + half)


def mean_interval(
    mean: float, sd: float, n: int, low: float, high: float, confidence: float = 0.95
) -> tuple[float, float]:
    """Student-t interval for a mean, clipped to the answer scale [low, high]."""
    if n < 2:
        return low, high
    t = float(stats.t.ppf(0.5 + confidence / 2.0, df=n - 1))
    half = t * sd / math.sqrt(n)
    return max(low, mean - half), min(high, mean + half)


def two_sided_p(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return float(2.0 * stats.norm.sf(abs(z)))
