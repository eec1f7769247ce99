"""A submission is only ever built from sane predictions and checked before upload."""

from __future__ import annotations

import numpy as np
import pytest

from numerai_bot.errors import PredictionError
from numerai_bot.submission import build_csv, rank_to_unit, to_predictions, validate_submission

IDS = np.array([f"n{i:015x}" for i in range(6)], dtype=object)


def test_rank_to_unit_is_strictly_inside_zero_one_and_averages_ties():
    ranks = rank_to_unit(np.array([3.0, 1.0, 2.0, 2.0]))
    assert ranks.tolist() == [0.875, 0.125, 0.5, 0.5]


def test_nan_prediction_is_refused_with_a_count():
    with pytest.raises(PredictionError, match="1 NaN"):
        to_predictions(np.array([0.1, np.nan, 0.3]), 3)


def test_constant_prediction_is_refused():
    with pytest.raises(PredictionError, match="same value"):
        to_predictions(np.full(5, 0.5), 5)


def test_wrong_length_is_refused():
    with pytest.raises(PredictionError, match="live rows"):
        to_predictions(np.arange(4.0), 5)


def test_raw_transform_refuses_values_outside_unit_interval():
    with pytest.raises(PredictionError, match="outside"):
        to_predictions(np.array([0.2, 1.5]), 2, "raw")


def test_built_csv_passes_numerais_rules():
    body = build_csv(IDS, rank_to_unit(np.arange(6.0)))
    assert body.splitlines()[0] == b"id,prediction"
    assert validate_submission(body, IDS) == 6


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"ID,prediction\nn1,0.5\nn2,0.6\n", "header"),
        (b"id,prediction\nn1,0.5\nn1,0.6\n", "more than once"),
        (b"id,prediction\nn1,nan\nn2,0.5\n", "NaN"),
        (b"id,prediction\nn1,1.2\nn2,0.5\n", "not in"),
        (b"id,prediction\nn1,abc\nn2,0.5\n", "not a number"),
    ],
)
def test_validator_names_the_broken_rule(body, message):
    with pytest.raises(PredictionError, match=message):
        validate_submission(body, np.array(["n1", "n2"], dtype=object))


def test_missing_live_ids_are_refused():
    body = build_csv(IDS[:5], rank_to_unit(np.arange(5.0)))
    with pytest.raises(PredictionError, match="1 missing"):
        validate_submission(body, IDS)


def test_zero_spread_csv_is_refused():
    body = b"id,prediction\nn1,0.5\nn2,0.5\n"
    with pytest.raises(PredictionError, match="zero spread"):
        validate_submission(body, np.array(["n1", "n2"], dtype=object))
