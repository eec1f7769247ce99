"""The validation summary figures against hand computations; era order; overlap warnings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model_export.scoring import max_drawdown, summarise
from model_export.validate import chosen_eras, eras_per_read, overlap_warnings


def test_summary_by_hand() -> None:
    scores = np.array([0.02, -0.01, -0.03, 0.04])
    summary = summarise(scores)
    # mean 0.005; deviations ±0.015, ±0.035 → variance (2·0.000225 + 2·0.001225) / 4 = 0.000725
    assert summary.mean == pytest.approx(0.005)
    assert summary.std == pytest.approx(math.sqrt(0.000725))
    assert summary.sharpe == pytest.approx(0.005 / math.sqrt(0.000725))
    # cumulative 0.02, 0.01, -0.02, 0.02: running max 0.02 → deepest fall 0.04
    assert summary.max_drawdown == pytest.approx(0.04)
    assert max_drawdown(np.array([0.01, 0.02])) == 0.0


def test_eras_in_numeric_order() -> None:
    assert chosen_eras(["0010", "0002", "575", "0100"], 1, None) == ["0002", "0010", "0100", "575"]
    assert chosen_eras(["0010", "0002", "575", "0100"], 2, 1) == ["0100"]


def test_overlap_warning() -> None:
    assert overlap_warnings(["0001", "0400"], ["0500", "0501"]) == []
    (warning,) = overlap_warnings(["0001", "0400"], ["0399", "0400", "0401"])
    assert "2 of 3 validation eras (0399 … 0400)" in warning
    assert overlap_warnings(None, ["0001"]) == []


def test_exposure_counts_a_feature_the_predictions_move_against() -> None:
    scoring = pytest.importorskip("numerai_tools.scoring")
    import pandas as pd

    from model_export.era_metrics import METRICS, era_rows

    rng = np.random.default_rng(1)
    features = rng.integers(0, 5, size=(400, 6)).astype(np.float64)
    features[:, 5] = 2.0  # constant: no correlation at all
    predictions = -features[:, 0] + 0.3 * features[:, 1] + rng.normal(size=400)
    ids = np.array([f"n{i:04d}" for i in range(400)])
    names = tuple(f"f{j}" for j in range(6))
    rows = era_rows("1", ids, predictions, rng.random(400), features, names)
    frame = pd.DataFrame(features, index=pd.Index(ids), columns=list(names))
    name, expected = scoring.max_feature_correlation(pd.Series(predictions, index=ids), frame)
    assert name == "f0" and expected > 0.7
    assert METRICS["feature_exposure"](rows) == pytest.approx(expected, abs=1e-15)


def test_eras_read_together_stay_within_memory_for_every_feature() -> None:
    assert eras_per_read(5_000, 42) == 25  # a small-feature-set model: as before
    assert eras_per_read(5_000, 2_748) == 7  # every feature: ~100 M values a read
    assert eras_per_read(1e9, 2_748) == 1
