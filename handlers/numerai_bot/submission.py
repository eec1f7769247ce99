"""Turn raw model output into a Numerai submission and check it before anything is uploaded.

The checks are numerai-tools' ``validate_submission_numerai`` rules (header exactly
``id,prediction``, every live id once, no NaN, values in [0, 1], non-zero spread),
re-implemented because numerai-tools pulls scikit-learn and scipy into the Lambda package.
They run on the exact CSV bytes that will be uploaded.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from numerai_bot.errors import PredictionError

HEADER = ("id", "prediction")


def rank_to_unit(values: np.ndarray) -> np.ndarray:
    """Average-tie ranks mapped into (0, 1): ``(rank - 0.5) / n``, like ``rank(pct=True)``."""
    n = values.shape[0]
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # Start index of each run of equal values; ties get the mean of their 1-based ranks.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], n]
    mean_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return (ranks - 0.5) / n


def to_predictions(raw: np.ndarray, expected_rows: int, transform: str = "rank") -> np.ndarray:
    """Check the model's raw output, then apply the configured transform."""
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim != 1 or raw.shape[0] != expected_rows:
        raise PredictionError(f"model returned {raw.shape} values for {expected_rows} live rows")
    bad = int(np.count_nonzero(~np.isfinite(raw)))
    if bad:
        raise PredictionError(f"model returned {bad} NaN or infinite predictions")
    if expected_rows > 1 and float(np.ptp(raw)) == 0.0:
        raise PredictionError("model returned the same value for every row (zero spread)")
    if transform == "rank":
        return rank_to_unit(raw)
    if transform == "raw":
        if raw.min() < 0.0 or raw.max() > 1.0:
            raise PredictionError(
                f"raw predictions span [{raw.min():.4g}, {raw.max():.4g}], outside [0, 1]; "
                "use transform 'rank'"
            )
        return raw
    raise PredictionError(f"unknown transform {transform!r}")


def build_csv(ids: np.ndarray, predictions: np.ndarray) -> bytes:
    """The CSV Numerai expects: header ``id,prediction``, full float precision."""
    lines = ["id,prediction"]
    lines.extend(f"{i},{p!r}" for i, p in zip(ids.tolist(), predictions.tolist(), strict=True))
    return ("\n".join(lines) + "\n").encode()


def validate_submission(csv_bytes: bytes, live_ids: np.ndarray) -> int:
    """Numerai's rules on the CSV about to be uploaded; returns its row count."""
    reader = csv.reader(io.StringIO(csv_bytes.decode("utf-8")))
    header = tuple(next(reader, ()))
    if header != HEADER:
        raise PredictionError(f"submission header is {header!r}, expected {HEADER!r}")
    seen: set[str] = set()
    values: list[float] = []
    for line_number, row in enumerate(reader, start=2):
        if len(row) != 2:
            raise PredictionError(f"submission line {line_number} has {len(row)} fields")
        row_id, text = row
        if row_id in seen:
            raise PredictionError(f"submission lists id {row_id} more than once")
        seen.add(row_id)
        try:
            value = float(text)
        except ValueError:
            raise PredictionError(
                f"submission line {line_number}: {text!r} is not a number"
            ) from None
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            raise PredictionError(f"submission line {line_number}: {value} is not in [0, 1]")
        values.append(value)
    expected = set(live_ids.tolist())
    if seen != expected:
        missing, extra = len(expected - seen), len(seen - expected)
        raise PredictionError(
            f"submission ids differ from the live ids ({missing} missing, {extra} unknown)"
        )
    if len(values) > 1 and float(np.std(values)) == 0.0:
        raise PredictionError("submission has zero spread")
    return len(values)
