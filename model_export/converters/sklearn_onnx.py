"""scikit-learn estimators and pipelines → ONNX: exact tree exporter, else skl2onnx in double.

Why two paths: tree models (forests, gradient boosting, HistGradientBoosting) go through this
project's double-precision exporter (:mod:`model_export.converters.sklearn_trees`), which
skl2onnx cannot match (float32 trees). Everything else (linear models, scalers, pipelines…)
goes through skl2onnx with a **double** input: scikit-learn computes in float64 when given
Numerai's int8 columns (``check_array`` turns integers into float64), and a double Ridge keeps
the ranking identical where its float32 conversion moves rows. The native reference is
therefore ``predict`` on float64 data.

Classifiers are refused: the bot submits one score per row; export a regressor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from model_export.converters.graph_edit import conform
from model_export.converters.lightgbm_onnx import UnsupportedModelError
from model_export.converters.sklearn_trees import is_tree_model, sklearn_trees_to_onnx
from model_export.converters.tree_graph import InputType
from model_export.features import model_columns, unnamed

# skl2onnx target opsets: the newest this onnxruntime runs (it emits the lowest it needs).
TARGET_OPSET = {"": 21, "ai.onnx.ml": 5}


def is_sklearn_model(obj: Any) -> bool:
    """A fitted scikit-learn estimator or pipeline (anything from ``sklearn`` with predict)."""
    module = type(obj).__module__ or ""
    return module.split(".")[0] == "sklearn" and hasattr(obj, "predict")


def model_feature_names(estimator: Any) -> list[str]:
    """``feature_names_in_`` when fitted on a DataFrame, else placeholders (ask the user)."""
    names = _first_attribute(estimator, "feature_names_in_")
    if names is not None:
        return [str(name) for name in names]
    count = _first_attribute(estimator, "n_features_in_")
    if count is None:
        raise UnsupportedModelError(
            f"{type(estimator).__name__} does not say how many features it reads: is it fitted?"
        )
    return unnamed(int(count))


def _first_attribute(estimator: Any, name: str) -> Any:
    """The attribute, or for a pipeline that of its first step that is not ``passthrough``."""
    try:
        value = getattr(estimator, name, None)
    except AttributeError:
        value = None
    if value is not None:
        return value
    steps = [
        step for _, step in getattr(estimator, "steps", []) if step not in (None, "passthrough")
    ]
    return getattr(steps[0], name, None) if steps else None


def check_supported(estimator: Any) -> None:
    """Refuse classifiers and unfitted estimators with the reason."""
    from sklearn.base import is_classifier

    if is_classifier(estimator):
        raise UnsupportedModelError(
            f"{type(estimator).__name__} is a classifier: the bot needs one score per row, "
            "export a regressor (e.g. a Regressor variant trained on the target)"
        )


def _final_tree_model(estimator: Any) -> Any | None:
    """The tree model itself, or the last step of a pipeline whose other steps do nothing."""
    if is_tree_model(estimator):
        return estimator
    steps = getattr(estimator, "steps", None)
    if steps and all(step in (None, "passthrough") for _, step in steps[:-1]):
        last = steps[-1][1]
        return last if is_tree_model(last) else None
    return None


def sklearn_to_onnx(
    estimator: Any,
    graph_names: Sequence[str],
    *,
    input_type: InputType = "float32",
) -> onnx.ModelProto:
    """The ONNX model of a fitted estimator, reading columns in ``graph_names`` order."""
    check_supported(estimator)
    columns = model_columns(model_feature_names(estimator), graph_names)
    trees = _final_tree_model(estimator)
    if trees is not None:
        return sklearn_trees_to_onnx(
            trees, feature_map=columns, n_features=len(graph_names), input_type=input_type
        )
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType

    raw = convert_sklearn(
        estimator,
        initial_types=[("X", DoubleTensorType([None, len(graph_names)]))],
        target_opset=TARGET_OPSET,
    )
    if not np.array_equal(columns, np.arange(len(columns))):
        raw = _reorder_input(raw, columns)
    return conform(raw, input_type)


def _reorder_input(model: onnx.ModelProto, columns: np.ndarray) -> onnx.ModelProto:
    """Put a Gather in front so the graph reads model feature j from graph column columns[j]."""
    graph = model.graph
    original = graph.input[0].name
    gathered = "X_model_order"
    for node in graph.node:
        node.input[:] = [gathered if name == original else name for name in node.input]
    graph.initializer.append(numpy_helper.from_array(np.asarray(columns, np.int64), "columns"))
    graph.node.insert(0, helper.make_node("Gather", [original, "columns"], [gathered], axis=1))
    return model


def native_predict(estimator: Any, matrix: np.ndarray, graph_names: Sequence[str]) -> np.ndarray:
    """``estimator.predict`` on float64 rows in the model's column order (a DataFrame if it
    was fitted on one, so scikit-learn checks the names), as float64."""
    names = model_feature_names(estimator)
    ordered = np.asarray(matrix[:, model_columns(names, graph_names)], dtype=np.float64)
    if _first_attribute(estimator, "feature_names_in_") is not None:
        import pandas as pd

        ordered = pd.DataFrame(ordered, columns=names)
    return np.asarray(estimator.predict(ordered), dtype=np.float64).ravel()
