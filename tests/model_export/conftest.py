"""Shared fixtures: tiny synthetic Numerai data, small LightGBM models trained with NaN."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from standins.synthetic_data import write_dataset

N_FEATURES = 60


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Numerai-shaped data version under ``<root>/v5.2`` (60 features, NaN in 5)."""
    root = tmp_path_factory.mktemp("numerai")
    write_dataset(
        root,
        "v5.2",
        seed=7,
        live_rows=1_500,
        n_features=N_FEATURES,
        train_eras=40,
        validation_eras=8,
        rows_per_era=150,
    )
    return root


def nan_matrix(rng: np.random.Generator, rows: int, nan_rate: float = 0.08) -> np.ndarray:
    """Numerai-like int features 0-4 as float32 with many NaN (so NaN splits get learnt)."""
    matrix = rng.integers(0, 5, size=(rows, N_FEATURES)).astype(np.float32)
    matrix[rng.random(matrix.shape) < nan_rate] = np.nan
    return matrix


@pytest.fixture(scope="session")
def feature_names() -> list[str]:
    return [f"feature_{i:02d}" for i in range(N_FEATURES)]


@pytest.fixture(scope="session")
def nan_training(feature_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Training rows whose target depends on whether values are missing."""
    rng = np.random.default_rng(11)
    matrix = nan_matrix(rng, 4_000)
    filled = np.nan_to_num(matrix[:, :8], nan=-1.0)
    target = filled @ rng.normal(size=8) + 2.0 * np.isnan(matrix[:, 8]) + rng.normal(size=4_000)
    return matrix, target


@pytest.fixture(scope="session")
def nan_booster(
    nan_training: tuple[np.ndarray, np.ndarray], feature_names: list[str]
) -> lgb.Booster:
    """Numerai's example parameters, 50 trees, trained on NaN-rich data with feature names."""
    matrix, target = nan_training
    params = {
        "objective": "regression",
        "learning_rate": 0.01,
        "max_depth": 5,
        "num_leaves": 31,
        "feature_fraction": 0.5,
        "verbosity": -1,
    }
    dataset = lgb.Dataset(matrix, target, feature_name=feature_names)
    return lgb.train(params, dataset, num_boost_round=50)


@pytest.fixture(scope="session")
def live_matrix() -> np.ndarray:
    """Fresh rows (new draws, NaN included, a few all-NaN and all-zero rows)."""
    rng = np.random.default_rng(99)
    matrix = nan_matrix(rng, 3_000, nan_rate=0.1)
    matrix[:5] = np.nan
    matrix[5:10] = 0.0
    return matrix
