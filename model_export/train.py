"""Train Numerai's example LightGBM model on a feature set and target, every 4th era.

Numerai's example is ``LGBMRegressor(n_estimators=2000, learning_rate=0.01, max_depth=5,
num_leaves=31, colsample_bytree=0.1)``. It is trained here through ``lightgbm.train`` with
the same parameters (and the same defaults as the scikit-learn wrapper), because the wrapper
needs scikit-learn, which this project does not install. The result is the same kind of
Booster that ``LGBMRegressor.booster_`` holds.

numerai-cli's Signals and Crypto examples use the same parameters on every row of their
train.parquet (era column ``date``). String features (Signals' ``feature_country``…) are
trained on as numbers through a fixed vocabulary (:mod:`model_export.string_features`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
from tqdm import tqdm

from model_export.data import Table, read_rows, unique_eras
from model_export.parity import average_ranks
from model_export.string_features import StringEncoding, full_matrix

EXAMPLE_PARAMS: dict[str, Any] = {
    "n_estimators": 2000,
    "learning_rate": 0.01,
    "max_depth": 5,
    "num_leaves": 2**5 - 1,
    "colsample_bytree": 0.1,
}
# scikit-learn wrapper names → lightgbm.train names (the rest pass through unchanged).
_SKLEARN_NAMES = {
    "colsample_bytree": "feature_fraction",
    "subsample": "bagging_fraction",
    "subsample_freq": "bagging_freq",
    "min_child_samples": "min_data_in_leaf",
    "min_child_weight": "min_sum_hessian_in_leaf",
    "reg_alpha": "lambda_l1",
    "reg_lambda": "lambda_l2",
    "min_split_gain": "min_gain_to_split",
    "random_state": "seed",
    "n_jobs": "num_threads",
    "subsample_for_bin": "bin_construct_sample_cnt",
}


@dataclass(frozen=True)
class TrainingData:
    """Rows used for training: the feature matrix, the target and each row's era.

    ``matrix`` holds every feature in ``features`` order, string features as their codes
    under ``encoding`` (None when there are none).
    """

    matrix: np.ndarray
    target: np.ndarray
    eras: np.ndarray
    features: tuple[str, ...]
    target_name: str
    encoding: StringEncoding | None = None


def booster_params(overrides: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], int]:
    """Numerai's example parameters with ``overrides``, as (``lgb.train`` params, rounds)."""
    merged = {**EXAMPLE_PARAMS, **(overrides or {})}
    rounds = int(merged.pop("n_estimators", merged.pop("num_boost_round", 100)))
    params: dict[str, Any] = {"objective": "regression", "verbosity": -1}
    for key, value in merged.items():
        if value is None:
            continue
        params[_SKLEARN_NAMES.get(key, key)] = value
    return params, rounds


def every_nth_era(eras: Sequence[str], step: int = 4) -> list[str]:
    """Eras 1, 1+step, 1+2*step… of the sorted list: Numerai's way to thin overlapping targets."""
    if step < 1:
        raise ValueError("era step must be 1 or more")
    return sorted(eras)[::step]


def load_training_data(
    train_path: Path,
    features: Sequence[str],
    target: str = "target",
    *,
    era_step: int = 4,
    era_column: str = "era",
    string_columns: Sequence[str] = (),
    dtype: type[np.floating] = np.float32,
    progress: bool = False,
) -> TrainingData:
    """Read only ``features``, ``target`` and the era column of every ``era_step``-th era.

    Rows without a target (some auxiliary targets are NaN in places) are dropped. The
    vocabulary of each string column is fitted on the rows read.
    """
    eras = None if era_step == 1 else every_nth_era(unique_eras(train_path, era_column), era_step)
    table: Table = read_rows(
        train_path,
        features,
        other_columns=[era_column, target],
        eras=eras,
        era_column=era_column,
        string_columns=string_columns,
        dtype=dtype,
        progress=progress,
    )
    matrix, encoding = table.matrix, None
    if table.strings is not None:
        names = table.string_names
        encoding = StringEncoding.fit({n: table.strings[:, j] for j, n in enumerate(names)})
        codes = encoding.encode(table.strings, names)
        matrix = full_matrix(table.matrix, codes, features, names)
    labels = np.asarray(table.columns[target], dtype=np.float32)
    keep = ~np.isnan(labels)
    return TrainingData(
        matrix=matrix[keep] if not keep.all() else matrix,
        target=labels[keep],
        eras=np.asarray(table.columns[era_column]).astype(str).astype(object)[keep],
        features=tuple(features),
        target_name=target,
        encoding=encoding,
    )


def train_booster(
    data: TrainingData,
    overrides: Mapping[str, Any] | None = None,
    *,
    progress: bool = False,
) -> lgb.Booster:
    """Fit the example model (plus ``overrides``) on ``data``; a progress bar per iteration."""
    if len(data.target) == 0:
        raise ValueError("no training rows with a target: check the target name and eras")
    params, rounds = booster_params(overrides)
    dataset = lgb.Dataset(
        data.matrix, label=data.target, feature_name=list(data.features), free_raw_data=True
    )
    with tqdm(total=rounds, desc="training", unit="tree", disable=not progress) as bar:

        def advance(_env: lgb.callback.CallbackEnv) -> None:
            bar.update(1)

        return lgb.train(params, dataset, num_boost_round=rounds, callbacks=[advance])


def mean_era_spearman(predictions: np.ndarray, target: np.ndarray, eras: np.ndarray) -> float:
    """Mean over eras of the rank correlation between predictions and target (NaN targets skipped).

    A quick validation figure (Numerai's own ``numerai_corr`` also gaussianises ranks).
    """
    scores = []
    for era in np.unique(eras):
        rows = (eras == era) & ~np.isnan(target)
        if rows.sum() < 2:
            continue
        a = average_ranks(predictions[rows])
        b = average_ranks(target[rows])
        a, b = a - a.mean(), b - b.mean()
        denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
        if denominator > 0:
            scores.append(float((a * b).sum() / denominator))
    return float(np.mean(scores)) if scores else float("nan")
