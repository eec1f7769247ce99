"""Parity figures, the verdict, and the export refusing files that re-rank rows."""

from __future__ import annotations

import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import numpy_helper

from model_export.converters.lightgbm_onnx import booster_to_onnx
from model_export.export import export_lightgbm
from model_export.parity import (
    ParityError,
    ParityThresholds,
    average_ranks,
    check_parity,
    compare_predictions,
)


def test_average_ranks_match_pandas() -> None:
    values = np.random.default_rng(0).integers(0, 20, size=500).astype(float)
    expected = pd.Series(values).rank(method="average").to_numpy()
    np.testing.assert_array_equal(average_ranks(values), expected)


def test_identical_predictions_pass() -> None:
    values = np.random.default_rng(1).random(1_000)
    report = compare_predictions(values, values.copy())
    assert report.ok
    assert (report.rows, report.rows_reranked, report.max_abs_diff) == (1_000, 0, 0.0)
    assert report.spearman == 1.0
    assert "PASSED" in report.text()


def test_one_swap_fails_and_is_reported() -> None:
    native = np.linspace(0.0, 1.0, 100)
    swapped = native.copy()
    swapped[[10, 11]] = swapped[[11, 10]]
    report = compare_predictions(native, swapped)
    assert report.rows_reranked == 2 and not report.ok
    text = report.text()
    assert "FAILED" in text and "FAIL rows re-ranked   2 (limit 0)" in text


def test_broken_tie_counts_as_reranked() -> None:
    native = np.array([0.1, 0.5, 0.5, 0.9])
    report = compare_predictions(native, native + np.array([0, 0, 1e-16, 0]) * 1e3)
    assert report.rows_reranked == 2


def test_nan_predictions_fail() -> None:
    native = np.array([0.1, 0.2, 0.3])
    assert not compare_predictions(native, np.array([0.1, np.nan, 0.3])).ok


def test_thresholds_are_configurable() -> None:
    native = np.linspace(0.0, 1.0, 50)
    loose = ParityThresholds(max_rows_reranked=2, min_spearman=0.99, max_abs_diff=1.0)
    swapped = native.copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    assert compare_predictions(native, swapped, loose).ok


def test_check_parity_detects_injected_mismatch(nan_booster, live_matrix, feature_names) -> None:
    model = booster_to_onnx(nan_booster, feature_names=feature_names)
    trees = next(n for n in model.graph.node if n.op_type == "TreeEnsemble")
    weights = next(a for a in trees.attribute if a.name == "leaf_weights")
    values = numpy_helper.to_array(weights.t).copy()
    values[7] += 1e-3  # one leaf of one tree slightly off
    weights.t.CopyFrom(numpy_helper.from_array(values))
    report = check_parity(
        model.SerializeToString(), live_matrix, nan_booster.predict(live_matrix), thread_counts=[0]
    )
    assert not report.ok and report.rows_reranked > 0


def test_export_refuses_float32_variant_and_writes_nothing(
    nan_booster, live_matrix, feature_names, tmp_path
) -> None:
    target = tmp_path / "model.onnx"
    with pytest.raises(ParityError) as caught:
        export_lightgbm(
            nan_booster,
            live_matrix,
            data_version="v5.2",
            feature_names=feature_names,
            precision="float32",
            output=target,
        )
    assert not caught.value.report.ok
    assert "Export refused" in str(caught.value) and "max abs diff" in str(caught.value)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_override_writes_and_records_failure(
    nan_booster, live_matrix, feature_names, tmp_path
) -> None:
    result = export_lightgbm(
        nan_booster,
        live_matrix,
        data_version="v5.2",
        feature_names=feature_names,
        precision="float32",
        allow_parity_failure=True,
        output=tmp_path / "model.onnx",
    )
    assert result.path is not None and result.path.is_file()
    assert result.metadata.parity["ok"] is False and result.metadata.parity["overridden"] is True
    assert onnx.load(str(result.path)).graph.output[0].name == "prediction"


def test_export_passes_with_double_precision(
    nan_booster, live_matrix, feature_names, tmp_path
) -> None:
    result = export_lightgbm(
        nan_booster,
        live_matrix,
        data_version="v5.2",
        feature_names=feature_names,
        output=tmp_path / "model.onnx",
    )
    assert result.report.ok and result.report.rows_reranked == 0
    assert result.metadata.parity["threads"] == [1, 2, 3, 4, 5, 6]
    assert result.metadata.parity["num_iteration"] == 50
