"""Numerai's per-era metrics of validation predictions, computed by numerai-tools itself.

Why numerai-tools and not our own arithmetic: these are the figures a participant compares
with Numerai's before staking, and numerai-tools is Numerai's published implementation
(``requirements-export.txt`` pins it; model_export is offline, never deployed). This module
only prepares each era the way numerai-tools expects it (rows keyed and sorted by id, no
missing target or prediction, no NaN in the columns it neutralizes against) and gathers the
figures. The metrics, each a registered function of one era:

* ``corr``: ``numerai_corr`` with the target;
* ``mmc``: ``correlation_contribution`` to the meta model (Classic's ``meta_model.parquet``);
* ``bmc``: ``correlation_contribution`` to a benchmark model
  (``validation_benchmark_models.parquet``);
* ``fnc``: ``feature_neutral_corr``, neutral to the model's own numeric features;
* ``feature_exposure``: ``max_feature_correlation``, the largest absolute correlation of the
  predictions with one of those features (lower is safer).

The last two follow numerai-tools step for step but replace its two slow inner loops (an SVD
per era, a pandas correlation per feature) with vectorised equivalents; the tests compare them
with numerai-tools itself.

MMC and BMC are NaN for an era where the reference predictions cover fewer of its rows than
numerai-tools accepts (80 %): the meta model exists only for some validation eras.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numerai_tools import scoring

from numerai_bot.postprocess.neutralize import fill_missing, neutralize_design

# numerai-tools' filter_sort_index refuses reference predictions covering less than this.
MIN_COVERAGE = 1 - scoring.DEFAULT_MAX_FILTERED_INDEX_RATIO


@dataclass(frozen=True)
class EraRows:
    """One era's rows as numerai-tools takes them: indexed by id in id order, every row with a
    prediction and a target; features NaN-free (each NaN its column's era mean, the rule the
    worker's neutralization uses)."""

    era: str
    predictions: pd.Series
    target: pd.Series
    features: pd.DataFrame
    meta_model: pd.Series | None = None
    benchmark: pd.Series | None = None


def era_rows(
    era: str,
    ids: np.ndarray,
    predictions: np.ndarray,
    target: np.ndarray,
    features: np.ndarray,
    feature_names: tuple[str, ...],
    references: dict[str, pd.Series] | None = None,
) -> EraRows | None:
    """One era's :class:`EraRows` from arrays in any row order (None if < 2 rows are
    scoreable); ``references`` (``meta_model``, ``benchmark``) are by id over many eras."""
    keep = np.isfinite(np.asarray(target, dtype=np.float64)) & np.isfinite(predictions)
    if keep.sum() < 2:
        return None
    index = pd.Index(np.asarray(ids)[keep].astype(str), name="id")
    order = np.argsort(index.to_numpy(), kind="stable")
    index = index[order]
    if index.has_duplicates:
        raise ValueError(f"era {era} has the same id on more than one row")
    matrix = fill_missing(np.asarray(features)[keep][order])
    aligned = {name: _covering(series, index) for name, series in (references or {}).items()}
    return EraRows(
        era=era,
        predictions=pd.Series(np.asarray(predictions, np.float64)[keep][order], index, name="p"),
        target=pd.Series(np.asarray(target, np.float64)[keep][order], index, name="target"),
        features=pd.DataFrame(matrix, index=index, columns=list(feature_names)),
        meta_model=aligned.get("meta_model"),
        benchmark=aligned.get("benchmark"),
    )


def _covering(series: pd.Series, index: pd.Index) -> pd.Series | None:
    """``series`` on ``index`` if it covers enough of it for numerai-tools, else None."""
    found = series.reindex(index).dropna()
    return found if len(found) >= MIN_COVERAGE * len(index) else None


def _corr(rows: EraRows) -> float:
    return float(scoring.numerai_corr(rows.predictions.to_frame(), rows.target).iloc[0])


def _contribution(reference: str) -> Callable[[EraRows], float]:
    def contribution(rows: EraRows) -> float:
        against = getattr(rows, reference)
        if against is None:
            return float("nan")
        scores = scoring.correlation_contribution(rows.predictions.to_frame(), against, rows.target)
        return float(scores.iloc[0])

    return contribution


def _fnc(rows: EraRows) -> float:
    """numerai-tools' ``feature_neutral_corr`` step for step (tie-kept rank, gaussianise,
    neutralize, variance-normalize, ``numerai_corr``), its least-squares step solved by the
    worker's neutralization. Why not numerai-tools' own ``neutralize``: its SVD took ~10 s an
    era for 780 features on 5,000 rows here; the worker's solver gives the same projection
    (to ~1e-12, its tests) in a fraction of that."""
    if rows.features.shape[1] == 0:
        return float("nan")
    frame = rows.predictions.to_frame()
    gaussian = scoring.gaussian(scoring.tie_kept_rank(frame))
    design = np.hstack([rows.features.to_numpy(), np.ones((len(frame), 1))])
    neutral = neutralize_design(gaussian.to_numpy(), design, 1.0)
    normal = scoring.variance_normalize(pd.DataFrame(neutral, frame.index, frame.columns))
    return float(scoring.numerai_corr(normal, rows.target).iloc[0])


def _feature_exposure(rows: EraRows) -> float:
    """numerai-tools' ``max_feature_correlation``: the largest absolute Pearson correlation of
    the predictions with one feature. Computed for every feature in one product: numerai-tools
    calls pandas' ``corr`` once per feature (~3 s an era for 780 features here). A constant
    feature has no correlation (pandas gives NaN, skipped by ``idxmax``)."""
    if rows.features.shape[1] == 0:
        return float("nan")
    x = rows.features.to_numpy()
    x = x - x.mean(axis=0)
    p = rows.predictions.to_numpy() - rows.predictions.mean()
    scale = np.sqrt((x * x).sum(axis=0) * float(p @ p))
    varying = scale > 0
    if not varying.any():
        return float("nan")
    return float(np.max(np.abs(x[:, varying].T @ p) / scale[varying]))


# name → one era's figure; the order is the order of the report.
METRICS: dict[str, Callable[[EraRows], float]] = {
    "corr": _corr,
    "mmc": _contribution("meta_model"),
    "bmc": _contribution("benchmark"),
    "fnc": _fnc,
    "feature_exposure": _feature_exposure,
}
# Risks, not scores: their Sharpe and drawdown mean nothing and are not reported.
RISKS = frozenset({"feature_exposure"})
# What each metric is called in the report.
LABELS = {
    "corr": "CORR (numerai_corr)",
    "mmc": "MMC (meta model)",
    "bmc": "BMC (benchmark)",
    "fnc": "feature-neutral CORR",
    "feature_exposure": "max feature exposure",
}


def score_era(rows: EraRows) -> dict[str, float]:
    """Every metric of one era."""
    return {name: metric(rows) for name, metric in METRICS.items()}
