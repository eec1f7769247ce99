"""XGBoost → ONNX: bit-identical predictions (float32, XGBoost's own order), options, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

xgb = pytest.importorskip("xgboost")

from model_export.converters.libraries import load, wrap  # noqa: E402
from model_export.converters.lightgbm_onnx import UnsupportedModelError  # noqa: E402
from model_export.converters.xgboost_onnx import xgboost_to_onnx  # noqa: E402
from model_export.export import export_model  # noqa: E402
from model_export.features import FeatureError  # noqa: E402
from model_export.parity import (  # noqa: E402
    LAMBDA_THREAD_COUNTS,
    ParityError,
    check_parity,
    compare_predictions,
    onnx_predictions,
)

PARAMS = {"n_estimators": 60, "max_depth": 4, "learning_rate": 0.05, "colsample_bytree": 0.5}


@pytest.fixture(scope="module")
def regressor(nan_training, feature_names):
    """Trained on a DataFrame (real names) with NaN, so default directions are learnt."""
    matrix, target = nan_training
    model = xgb.XGBRegressor(**PARAMS, n_jobs=1)
    return model.fit(pd.DataFrame(matrix, columns=feature_names), target)


def test_bit_identical_for_every_thread_count(regressor, live_matrix, feature_names) -> None:
    booster = regressor.get_booster()
    model = xgboost_to_onnx(booster).SerializeToString()
    native = regressor.predict(pd.DataFrame(live_matrix, columns=feature_names))
    report = check_parity(model, live_matrix, native, thread_counts=LAMBDA_THREAD_COUNTS)
    assert report.ok and report.rows_reranked == 0 and report.max_abs_diff == 0.0
    np.testing.assert_array_equal(onnx_predictions(model, live_matrix), native)


def test_double_sum_differs_from_xgboost(regressor, live_matrix) -> None:
    """Why the float32 sequential graph: a double sum does not give XGBoost's values."""
    double = xgboost_to_onnx(regressor.get_booster(), precision="double").SerializeToString()
    native = regressor.get_booster().inplace_predict(live_matrix)
    assert compare_predictions(native, onnx_predictions(double, live_matrix)).max_abs_diff > 0


@pytest.mark.parametrize("suffix", [".json", ".ubj"])
def test_model_files_export_with_metadata(regressor, live_matrix, tmp_path, suffix) -> None:
    path = tmp_path / f"model{suffix}"
    regressor.get_booster().save_model(str(path))
    native = load(path)
    assert native.kind == "xgboost" and native.feature_names[0] == "feature_00"
    order = list(reversed(native.feature_names))  # the graph may read another order
    result = export_model(
        native, live_matrix[:, ::-1], data_version="v5.2", feature_names=order,
        output=tmp_path / "x.onnx", thread_counts=(1, 2),
    )  # fmt: skip
    assert result.report.rows_reranked == 0 and result.metadata.source == "xgboost"
    assert result.metadata.features == tuple(order) and result.num_iteration == 60
    assert "xgboost" in result.metadata.libraries or "xgboost-cpu" in result.metadata.libraries


def test_unnamed_model_needs_and_takes_names(nan_training, live_matrix, feature_names) -> None:
    matrix, target = nan_training
    model = xgb.XGBRegressor(n_estimators=10, max_depth=3, n_jobs=1).fit(matrix, target)
    with pytest.raises(FeatureError, match="no feature names"):
        xgboost_to_onnx(model.get_booster())
    graph = xgboost_to_onnx(model.get_booster(), feature_names=feature_names)
    np.testing.assert_array_equal(
        onnx_predictions(graph.SerializeToString(), live_matrix), model.predict(live_matrix)
    )


def test_best_iteration_and_explicit_count(nan_training, live_matrix) -> None:
    matrix, target = nan_training
    model = xgb.XGBRegressor(
        n_estimators=200, max_depth=3, learning_rate=0.3, early_stopping_rounds=5, n_jobs=1
    )
    model.fit(matrix[:3000], target[:3000], eval_set=[(matrix[3000:], target[3000:])], verbose=0)
    booster = model.get_booster()
    assert booster.num_boosted_rounds() > model.best_iteration + 1
    native = wrap(model)
    assert native.iterations() == model.best_iteration + 1
    names = native.feature_names
    graph = xgboost_to_onnx(booster, feature_names=names).SerializeToString()
    np.testing.assert_array_equal(onnx_predictions(graph, live_matrix), model.predict(live_matrix))
    graph = xgboost_to_onnx(booster, feature_names=names, num_iteration=3).SerializeToString()
    expected = booster.inplace_predict(live_matrix, iteration_range=(0, 3))
    np.testing.assert_array_equal(onnx_predictions(graph, live_matrix), expected)


def test_parity_gate_refuses_the_double_variant(regressor, feature_names) -> None:
    """Many distinct rows make float32 ties in XGBoost's output that a double sum breaks."""
    rng = np.random.default_rng(4)
    rows = rng.integers(0, 5, size=(20_000, len(feature_names))).astype(np.float32)
    with pytest.raises(ParityError, match="re-ranked"):
        export_model(
            wrap(regressor), rows, data_version="v5.2", precision="double", thread_counts=(1,)
        )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"objective": "reg:logistic"}, "objective"),
        ({"objective": "reg:pseudohubererror"}, "objective"),
        ({"booster": "dart", "rate_drop": 0.5, "n_estimators": 6}, "dropout"),
        ({"booster": "gblinear"}, "gblinear"),
    ],
)
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_refuses_models_it_cannot_reproduce(nan_training, params, message) -> None:
    matrix, target = nan_training
    labels = (target > np.median(target)).astype(float) if "logistic" in str(params) else target
    model = xgb.XGBRegressor(**{"n_estimators": 3, "max_depth": 2, "n_jobs": 1, **params})
    model.fit(np.nan_to_num(matrix[:500]), labels[:500])
    with pytest.raises(UnsupportedModelError, match=message):
        xgboost_to_onnx(model.get_booster(), feature_names=[f"f{i}" for i in range(60)])
