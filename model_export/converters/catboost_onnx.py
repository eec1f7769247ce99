"""Convert a CatBoost regression model to an ONNX graph that ranks rows exactly like CatBoost.

Why not CatBoost's own ``save_model(format="onnx")``: it writes float32 leaf values and a
float32 sum, which re-ranked 8 of 6,000 rows in our measurements. CatBoost itself adds its
(double) leaf values in double, tree after tree, then applies ``scale`` and ``bias``. Its
trees are *oblivious*: every level tests one ``float feature > border`` for the whole level
and the leaf index is ``sum(bit_d << d)`` over the levels ``d`` in the order they are listed.
Each such tree is written here as a full binary tree of ``x <= border`` nodes (false = bit 1)
in a double-precision ``TreeEnsemble``; NaN takes bit 0 (``AsFalse``/``AsIs``) or bit 1
(``AsTrue``) as the model's ``nan_value_treatment`` says.

The structure comes from the model's JSON export (borders are float32 values, leaf values
printed with 17 digits: exact). Only symmetric-tree models with numeric features, one output
and an identity loss (RMSE-like) are exported; anything else is refused with the reason.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import catboost
import numpy as np
import onnx

from model_export.converters.lightgbm_onnx import UnsupportedModelError
from model_export.converters.tree_graph import MODE_LEQ, InputType, TreeNodes, tree_ensemble_model
from model_export.features import model_columns, resolve_feature_order, unnamed

# Losses whose raw formula value is the prediction itself (no link function).
IDENTITY_LOSSES = frozenset({"RMSE", "MAE", "Quantile", "Huber", "Lq", "Expectile", "MAPE"})
# ``nan_value_treatment`` → the bit a NaN takes at every border of that feature.
_NAN_BIT = {"AsIs": 0, "AsFalse": 0, "AsTrue": 1}


def load_model(path: Path) -> catboost.CatBoost:
    """Read a CatBoost model file (``.cbm``, or CatBoost's ``.json`` format)."""
    model = catboost.CatBoost()
    model.load_model(str(path), format="json" if Path(path).suffix == ".json" else "cbm")
    return model


def model_document(model: catboost.CatBoost) -> dict[str, Any]:
    """The model's JSON export (``oblivious_trees``, ``features_info``, ``scale_and_bias``)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.json"
        model.save_model(str(path), format="json")
        return json.loads(path.read_text())


def model_feature_names(model: catboost.CatBoost) -> list[str]:
    """The model's feature names, or placeholders when it was trained on a bare matrix.

    CatBoost names the columns of a NumPy array ``"0"``, ``"1"``…: those count as no names.
    """
    names = [str(name) for name in (model.feature_names_ or [])]
    if names == [str(i) for i in range(len(names))]:
        return unnamed(len(names))
    return names


def resolve_iterations(model: catboost.CatBoost, num_iteration: int | None = None) -> int:
    """Trees to export: ``num_iteration`` or all (``predict``'s default, ``ntree_end=0``)."""
    total = int(model.tree_count_)
    if num_iteration is None or num_iteration <= 0:
        return total
    if num_iteration > total:
        raise UnsupportedModelError(
            f"num_iteration {num_iteration} is more than the model's {total} trees"
        )
    return int(num_iteration)


def check_supported(document: dict[str, Any]) -> None:
    """Refuse, with the reason, models whose predictions this exporter cannot reproduce."""
    params = document.get("model_info", {}).get("params", {})
    loss = str(params.get("loss_function", {}).get("type", "RMSE"))
    if loss not in IDENTITY_LOSSES:
        raise UnsupportedModelError(
            f"loss {loss!r} is not supported: only regression losses whose raw value is the "
            f"prediction ({', '.join(sorted(IDENTITY_LOSSES))}); retrain a CatBoostRegressor"
        )
    if "oblivious_trees" not in document:
        raise UnsupportedModelError(
            "only symmetric (oblivious) trees are supported: retrain with "
            "grow_policy='SymmetricTree' (CatBoost's default)"
        )
    features = document.get("features_info", {})
    other = [kind for kind in features if kind != "float_features" and features[kind]]
    if other:
        raise UnsupportedModelError(
            f"features of kind {', '.join(other)} are not supported: train on numeric "
            "features only (Numerai's are numeric)"
        )
    for tree in document["oblivious_trees"]:
        if any(split.get("split_type") != "FloatFeature" for split in tree["splits"]):
            raise UnsupportedModelError("only float-feature splits are supported")
        if len(tree["leaf_values"]) != 2 ** len(tree["splits"]):
            raise UnsupportedModelError("models with several outputs are not supported")


def catboost_to_onnx(
    model: catboost.CatBoost,
    *,
    feature_names: Sequence[str] | None = None,
    num_iteration: int | None = None,
    input_type: InputType = "float32",
) -> onnx.ModelProto:
    """Build the double-precision ONNX model of ``model``'s first ``num_iteration`` trees."""
    document = model_document(model)
    check_supported(document)
    model_names = model_feature_names(model)
    graph_names = resolve_feature_order(model_names, feature_names)
    graph_column = model_columns(model_names, graph_names)
    float_features = document["features_info"]["float_features"]
    feature_of = {  # float_feature_index → column of the graph input
        info["feature_index"]: int(graph_column[info["flat_feature_index"]])
        for info in float_features
    }
    nan_bit = {
        info["feature_index"]: _NAN_BIT.get(info.get("nan_value_treatment", "AsIs"), 0)
        for info in float_features
    }
    count = resolve_iterations(model, num_iteration)
    nodes = TreeNodes()
    for tree in document["oblivious_trees"][:count]:
        _add_oblivious_tree(nodes, tree, feature_of, nan_bit)
    scale, bias = _scale_and_bias(document)
    return tree_ensemble_model(
        nodes,
        n_features=len(graph_names),
        input_type=input_type,
        summation="double",
        scale=scale,
        base=bias,
        graph_name="catboost_regressor",
        doc=f"CatBoost model, {count} oblivious trees",
    )


def _scale_and_bias(document: dict[str, Any]) -> tuple[float, float]:
    scale, bias = document.get("scale_and_bias", [1.0, [0.0]])
    biases = bias if isinstance(bias, list) else [bias]
    if len(biases) > 1:
        raise UnsupportedModelError("models with several outputs are not supported")
    return float(scale), float(biases[0]) if biases else 0.0


def _add_oblivious_tree(
    nodes: TreeNodes,
    tree: dict[str, Any],
    feature_of: dict[int, int],
    nan_bit: dict[int, int],
) -> None:
    """Expand one oblivious tree into a full binary tree; level ``d`` decides bit ``d``."""
    splits = tree["splits"]
    values = tree["leaf_values"]
    if not splits:
        nodes.add_constant_tree(float(values[0]))
        return
    nodes.begin_tree()
    depth = len(splits)
    # Breadth-first: level d holds 2**d nodes, one per combination of the bits decided above.
    level = [(nodes.add_node(*_comparison(splits[0], feature_of, nan_bit)), 0)]
    nodes.add_root(level[0][0])
    for d in range(1, depth + 1):
        next_level = []
        for node, prefix in level:
            for bit, on_true in ((0, True), (1, False)):  # x <= border → bit 0
                index = prefix | (bit << (d - 1))
                if d == depth:
                    nodes.link(node, on_true, nodes.add_leaf(float(values[index])), is_leaf=True)
                else:
                    child = nodes.add_node(*_comparison(splits[d], feature_of, nan_bit))
                    nodes.link(node, on_true, child, is_leaf=False)
                    next_level.append((child, index))
        level = next_level


def _comparison(
    split: dict[str, Any], feature_of: dict[int, int], nan_bit: dict[int, int]
) -> tuple[int, int, float, bool]:
    feature = split["float_feature_index"]
    # NaN goes to the true branch (x <= border, bit 0) unless the feature sends NaN to bit 1.
    return feature_of[feature], MODE_LEQ, float(split["border"]), nan_bit[feature] == 0


def native_predict(
    model: catboost.CatBoost,
    matrix: np.ndarray,
    graph_names: Sequence[str],
    num_iteration: int,
) -> np.ndarray:
    """CatBoost's raw prediction for a matrix whose columns follow ``graph_names``."""
    columns = model_columns(model_feature_names(model), graph_names)
    ordered = np.ascontiguousarray(matrix[:, columns], dtype=np.float32)
    prediction = model.predict(
        ordered, prediction_type="RawFormulaVal", ntree_end=num_iteration, thread_count=-1
    )
    return np.asarray(prediction, dtype=np.float64).ravel()
