"""numerai_corr and the validation figures against hand computations; validate on files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model_export.scoring import max_drawdown, numerai_corr, per_era_corr, summarise
from model_export.validate import overlap_warnings


def test_numerai_corr_by_hand() -> None:
    predictions = np.array([0.1, 0.4, 0.4, 0.9])
    target = np.array([0.0, 0.5, 0.75, 1.0])
    # Tie-kept ranks 1, 2.5, 2.5, 4 → (r - 0.5) / 4 = 0.125, 0.5, 0.5, 0.875.
    # Normal quantiles: ±1.1503493803760079 and 0; signed power 1.5: ±1.2338…, 0, 0.
    q = 1.1503493803760079
    p = np.array([-(q**1.5), 0.0, 0.0, q**1.5])
    # Target centred on its mean 0.5625, then signed power 1.5.
    c = np.array([-0.5625, -0.0625, 0.1875, 0.4375])
    t = np.sign(c) * np.abs(c) ** 1.5
    expected = float(np.corrcoef(p, t)[0, 1])
    # By hand: p is centred and ±a, so corr = (t4 - t1) / sqrt(2 Σ (t - t̄)²); with
    # t = (-0.421875, -0.015625, 0.0811899, 0.2893790): 0.711254 / 0.7313477 = 0.97253.
    assert math.isclose(expected, 0.97253, abs_tol=1e-5)
    assert numerai_corr(predictions, target) == pytest.approx(expected, abs=1e-15)


def test_numerai_corr_matches_numerai_tools() -> None:
    scoring = pytest.importorskip("numerai_tools.scoring")
    import pandas as pd

    rng = np.random.default_rng(0)
    predictions = rng.random(500).round(2)  # ties
    target = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], size=500)
    expected = scoring.numerai_corr(
        pd.DataFrame({"p": predictions}), pd.Series(target, name="target")
    )["p"]
    assert numerai_corr(predictions, target) == pytest.approx(expected, abs=1e-12)


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


def test_per_era_in_numeric_order() -> None:
    eras = np.array(["0010", "0010", "0010", "0002", "0002", "0002"])
    predictions = np.array([1.0, 2.0, 3.0, 3.0, 2.0, 1.0])
    target = np.array([0.0, 0.5, 1.0, 0.0, 0.5, 1.0])
    labels, scores = per_era_corr(predictions, target, eras)
    assert labels == ["0002", "0010"]
    assert scores[0] == pytest.approx(-1.0) and scores[1] == pytest.approx(1.0)


def test_overlap_warning() -> None:
    assert overlap_warnings(["0001", "0400"], ["0500", "0501"]) == []
    (warning,) = overlap_warnings(["0001", "0400"], ["0399", "0400", "0401"])
    assert "2 of 3 validation eras (0399 … 0400)" in warning
    assert overlap_warnings(None, ["0001"]) == []
