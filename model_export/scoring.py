"""Numerai's per-era correlation and the summary figures of a validation run, in NumPy.

Why not numerai-tools itself: it needs pandas Series with sorted indices per era and asserts
on its inputs; the definition is short and is implemented here from its published source
(``numerai_tools.scoring.numerai_corr``, v0.7.2), and the tests compare the two:

1. centre the target on its mean;
2. rank the predictions with ties kept, ``(rank - 0.5) / n`` (pandas ``rank(method="average")``);
3. gaussianise: the normal quantile function of those ranks;
4. raise predictions and centred target to the power 1.5, keeping the sign;
5. Pearson correlation of the two.

Summary figures follow Numerai's example notebooks: mean and standard deviation (``ddof=0``,
as numerai-tools' ``sharpe_ratio``) of the per-era scores, Sharpe = mean / std, and the max
drawdown of the cumulative sum of per-era scores (largest fall from a running maximum,
reported as a non-negative number).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from model_export.parity import average_ranks


def numerai_corr(predictions: np.ndarray, target: np.ndarray) -> float:
    """Numerai's correlation of one era's predictions with its target (NaN targets dropped)."""
    predictions = np.asarray(predictions, dtype=np.float64).ravel()
    target = np.asarray(target, dtype=np.float64).ravel()
    keep = ~np.isnan(target) & ~np.isnan(predictions)
    predictions, target = predictions[keep], target[keep]
    if len(predictions) < 2:
        return float("nan")
    ranked = (average_ranks(predictions) - 0.5) / len(predictions)
    gaussian = ndtri(ranked)
    p = np.sign(gaussian) * np.abs(gaussian) ** 1.5
    centred = target - target.mean()
    t = np.sign(centred) * np.abs(centred) ** 1.5
    return _pearson(p, t)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 0 else float("nan")


def per_era_corr(
    predictions: np.ndarray, target: np.ndarray, eras: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """Sorted era labels and the Numerai correlation of each era (eras with < 2 rows skipped)."""
    eras = np.asarray(eras).astype(str)
    labels, scores = [], []
    for era in sorted(np.unique(eras), key=era_sort_key):
        rows = eras == era
        score = numerai_corr(predictions[rows], target[rows])
        if not np.isnan(score):
            labels.append(str(era))
            scores.append(score)
    return labels, np.asarray(scores, dtype=np.float64)


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

    def as_dict(self) -> dict[str, float | int]:
        """JSON-friendly (rounded to 6 decimals) for the metadata and the report."""
        return {
            "eras": self.eras,
            "corr_mean": round(self.mean, 6),
            "corr_std": round(self.std, 6),
            "corr_sharpe": round(self.sharpe, 6),
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
