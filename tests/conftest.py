"""Shared fixtures: small synthetic Numerai data (real layout, fewer rows and columns)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from standins.synthetic_data import write_dataset

SMALL = {
    "live_rows": 300,
    "n_features": 60,
    "train_eras": 12,
    "validation_eras": 4,
    "rows_per_era": 50,
}


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A v5.2 folder (features.json, live, train, validation) of small size."""
    root = tmp_path_factory.mktemp("numerai-data")
    return write_dataset(root, "v5.2", seed=7, round_number=1, **SMALL)


@pytest.fixture(scope="session")
def small_features(small_data: Path) -> dict[str, list[str]]:
    """The feature sets of ``small_data``."""
    return json.loads((small_data / "features.json").read_text())["feature_sets"]
