"""Medians and percentiles, the only statistics the bench reports."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(ordered: Sequence[float], p: float) -> float:
    """The nearest-rank `p`th percentile of sorted samples (p in 0..100)."""
    if not ordered:
        raise ValueError("no samples")
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def latency_ms(samples_ns: Sequence[int]) -> dict[str, float]:
    """p50/p99/p99.9/max/mean in milliseconds of per-call samples in nanoseconds."""
    ordered = sorted(samples_ns)
    return {
        "p50_ms": percentile(ordered, 50) / 1e6,
        "p99_ms": percentile(ordered, 99) / 1e6,
        "p999_ms": percentile(ordered, 99.9) / 1e6,
        "max_ms": ordered[-1] / 1e6,
        "mean_ms": statistics.fmean(ordered) / 1e6,
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
