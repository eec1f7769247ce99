"""scikit-learn → ONNX: exact trees, linear models and pipelines in double, loading, refusals."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("skl2onnx")

from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.linear_model import ElasticNet, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from model_export.converters.libraries import load, wrap
from model_export.converters.lightgbm_onnx import UnsupportedModelError
from model_export.export import export_model

NAN_FREE = {"Ridge", "ElasticNet", "Pipeline", "GradientBoostingRegressor"}
ESTIMATORS = [
    Ridge(alpha=1.0),
    ElasticNet(alpha=0.001),
    make_pipeline(StandardScaler(), Ridge()),
    make_pipeline("passthrough", HistGradientBoostingRegressor(max_iter=40, random_state=0)),
    HistGradientBoostingRegressor(max_iter=40, random_state=0),
    RandomForestRegressor(n_estimators=10, max_depth=6, random_state=0),
    ExtraTreesRegressor(n_estimators=10, max_depth=6, random_state=0),
    GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0),
    DecisionTreeRegressor(max_depth=6, random_state=0),
]


def _data(estimator, matrix: np.ndarray) -> np.ndarray:
    return np.nan_to_num(matrix, nan=2.0) if type(estimator).__name__ in NAN_FREE else matrix


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_ranking_identical(estimator, nan_training, live_matrix, feature_names) -> None:
    matrix, target = nan_training
    estimator.fit(
        pd.DataFrame(_data(estimator, matrix[:2000]), columns=feature_names), target[:2000]
    )
    live = _data(estimator, live_matrix)
    order = list(reversed(feature_names))  # a graph column order other than the model's
    result = export_model(
        wrap(estimator), live[:, ::-1], data_version="v5.2", feature_names=order,
        thread_counts=(1, 2, 4),
    )  # fmt: skip
    assert result.report.ok and result.report.rows_reranked == 0, result.report.text()
    assert result.report.max_abs_diff < 1e-12
    assert result.metadata.source == "sklearn" and "scikit-learn" in result.metadata.libraries


def test_pickle_and_joblib_files(nan_training, live_matrix, feature_names, tmp_path) -> None:
    import joblib

    matrix, target = nan_training
    model = Ridge().fit(np.nan_to_num(matrix[:1000]), target[:1000])  # no names: placeholders
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(model))
    joblib.dump(model, tmp_path / "m.joblib")
    for name in ("m.pkl", "m.joblib"):
        native = load(tmp_path / name)
        assert native.kind == "sklearn" and native.feature_names[0] == "Column_0"
        result = export_model(
            native, np.nan_to_num(live_matrix), data_version="v5.2", feature_names=feature_names
        )
        assert result.report.ok and result.metadata.features == tuple(feature_names)


def test_refuses_classifiers(nan_training) -> None:
    matrix, target = nan_training
    model = LogisticRegression().fit(np.nan_to_num(matrix[:300]), target[:300] > 0)
    with pytest.raises(UnsupportedModelError, match="classifier"):
        export_model(wrap(model), np.zeros((10, 60), np.float32), data_version="v5.2",
                     feature_names=[f"f{i}" for i in range(60)])  # fmt: skip


def test_refuses_link_function_losses(nan_training, feature_names) -> None:
    matrix, target = nan_training
    model = HistGradientBoostingRegressor(loss="poisson", max_iter=3)
    model.fit(pd.DataFrame(matrix[:500], columns=feature_names), np.abs(target[:500]))
    with pytest.raises(UnsupportedModelError, match="poisson"):
        export_model(wrap(model), np.zeros((10, 60), np.float32), data_version="v5.2")
