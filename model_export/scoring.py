"""The summary figures of a series of per-era scores, and the order of eras.

The per-era scores themselves come from numerai-tools (:mod:`model_export.era_metrics`).
Summary figures follow Numerai's example notebooks and numerai-tools' ``sharpe_ratio``: mean
and standard deviation of the per-era scores with ``ddof=0`` (numerai-tools' ``np.std``; pandas'
``Series.std`` would use ddof=1 and give a Sharpe about 1 % lower over ~50 eras),
Sharpe = mean / std, and the max drawdown of the cumulative sum of per-era scores (largest
fall from a running maximum, reported as a non-negative number).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def era_sort_key(era: str) -> tuple[int, int | str]:
    """Numeric eras ("0001", "575") in numeric order, any others after them by name."""
    text = str(era).strip()
    return (0, int(text)) if text.isdigit() else (1, text)


@dataclass(frozen=True)
class Summary:
    """The figures of a series of per-era scores."""

    eras: int
    mean: float
    std: float
    sharpe: float
    max_drawdown: float

    def as_dict(self, prefix: str = "corr_") -> dict[str, float | int]:
        """JSON-friendly (rounded to 6 decimals) for the metadata and the report; ``prefix``
        names the metric (the top-level CORR figures keep their ``corr_`` keys)."""
        return {
            "eras": self.eras,
            f"{prefix}mean": round(self.mean, 6),
            f"{prefix}std": round(self.std, 6),
            f"{prefix}sharpe": round(self.sharpe, 6),
            "max_drawdown": round(self.max_drawdown, 6),
        }


def summarise(scores: np.ndarray) -> Summary:
    """Mean, std (ddof=0), Sharpe and max drawdown of the cumulative per-era scores."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) == 0:
        nan = float("nan")
        return Summary(0, nan, nan, nan, nan)
    mean = float(scores.mean())
    std = float(scores.std())
    return Summary(
        eras=len(scores),
        mean=mean,
        std=std,
        sharpe=mean / std if std > 0 else float("nan"),
        max_drawdown=max_drawdown(scores),
    )


def max_drawdown(scores: np.ndarray) -> float:
    """Largest drop of ``cumsum(scores)`` below its running maximum (0 if it never drops)."""
    cumulative = np.cumsum(np.asarray(scores, dtype=np.float64))
    return float(np.max(np.maximum.accumulate(cumulative) - cumulative)) if len(scores) else 0.0
