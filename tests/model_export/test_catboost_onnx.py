"""CatBoost → double-precision ONNX: identical ranking (bit-identical on one thread), refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

catboost = pytest.importorskip("catboost")

from model_export.converters.catboost_onnx import catboost_to_onnx  # noqa: E402
from model_export.converters.libraries import load  # noqa: E402
from model_export.converters.lightgbm_onnx import UnsupportedModelError  # noqa: E402
from model_export.export import export_model  # noqa: E402
from model_export.parity import LAMBDA_THREAD_COUNTS, check_parity, onnx_predictions  # noqa: E402

QUIET = {"verbose": 0, "allow_writing_files": False}  # no catboost_info/ in the work tree
PARAMS = {"iterations": 60, "depth": 5, "learning_rate": 0.1, "thread_count": 1, **QUIET}


@pytest.fixture(scope="module", params=["Min", "Max"])
def regressor(request, nan_training, feature_names):
    """Trained with NaN as the smallest (AsFalse) or the largest (AsTrue) value."""
    matrix, target = nan_training
    model = catboost.CatBoostRegressor(**PARAMS, nan_mode=request.param, random_seed=0)
    return model.fit(pd.DataFrame(matrix, columns=feature_names), target)


def test_ranks_identically_and_bit_identical_on_one_thread(regressor, live_matrix) -> None:
    model = catboost_to_onnx(regressor).SerializeToString()
    native = regressor.predict(live_matrix, prediction_type="RawFormulaVal")
    report = check_parity(model, live_matrix, native, thread_counts=LAMBDA_THREAD_COUNTS)
    assert report.ok and report.rows_reranked == 0 and report.max_abs_diff < 1e-13
    np.testing.assert_array_equal(onnx_predictions(model, live_matrix, threads=1), native)


@pytest.mark.parametrize("suffix", [".cbm", ".json"])
def test_model_file_exports_with_metadata(regressor, live_matrix, tmp_path, suffix) -> None:
    path = tmp_path / f"model{suffix}"
    regressor.save_model(str(path), format="json" if suffix == ".json" else "cbm")
    native = load(path)
    assert native.kind == "catboost" and native.feature_names[0] == "feature_00"
    result = export_model(native, live_matrix, data_version="v5.2", output=tmp_path / "c.onnx")
    assert result.report.rows_reranked == 0 and result.metadata.source == "catboost"
    assert result.num_iteration == 60 and "catboost" in result.metadata.libraries


def test_scale_bias_and_unnamed_columns(nan_training, live_matrix, feature_names) -> None:
    matrix, target = nan_training
    model = catboost.CatBoostRegressor(**{**PARAMS, "iterations": 10}).fit(matrix, target * 3 + 7)
    model.set_scale_and_bias(0.5, 1.25)
    graph = catboost_to_onnx(model, feature_names=feature_names).SerializeToString()
    np.testing.assert_array_equal(
        onnx_predictions(graph, live_matrix, threads=1),
        model.predict(live_matrix, prediction_type="RawFormulaVal"),
    )


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (catboost.CatBoostClassifier(iterations=2, **QUIET), "loss"),
        (catboost.CatBoostRegressor(iterations=2, grow_policy="Depthwise", **QUIET), "symmetric"),
    ],
)
def test_refuses_models_it_cannot_reproduce(nan_training, feature_names, model, message) -> None:
    matrix, target = nan_training
    labels = (
        (target > np.median(target)).astype(int) if "Classifier" in str(type(model)) else target
    )
    model.fit(matrix[:500], labels[:500])
    with pytest.raises(UnsupportedModelError, match=message):
        catboost_to_onnx(model, feature_names=feature_names)


def test_refuses_categorical_features(feature_names) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(0, 5, size=(300, 3)), columns=["a", "b", "c"])
    frame["c"] = frame["c"].astype(str)
    model = catboost.CatBoostRegressor(iterations=2, cat_features=["c"], **QUIET)
    model.fit(frame, rng.normal(size=300))
    with pytest.raises(UnsupportedModelError, match=r"categorical|features of kind"):
        catboost_to_onnx(model)
