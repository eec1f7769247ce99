"""A straight line through measured points, and whether the points are on it: how the
benchmark tells linear growth (per model, per row, per tree) from anything worse."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

LINEAR_TOLERANCE = 0.10


def linear_fit(points: Iterable[tuple[float, float]]) -> dict[str, Any]:
    """Least-squares line through ``points``; linear when it misses no point by more than
    10 % of the largest value. Segment slopes show the marginal cost between points."""
    xs, ys = zip(*points, strict=True)
    if len(xs) < 2:
        return {"points": len(xs)}
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    # Misses relative to the largest value: a small first point must not dominate the verdict.
    misses = [abs(y - (intercept + slope * x)) / max(ys) for x, y in zip(xs, ys, strict=True)]
    segments = [
        (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1) if xs[i + 1] != xs[i]
    ]
    return {
        "points": len(xs),
        "slope": slope,
        "intercept": intercept,
        "worst_relative_miss": max(misses),
        "segment_slopes": segments,
        "linear": max(misses) <= LINEAR_TOLERANCE,
    }
