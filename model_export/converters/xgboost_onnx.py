"""Convert an XGBoost regression Booster to an ONNX graph that predicts bit for bit like XGBoost.

Why not onnxmltools: it writes the float32 ``TreeEnsembleRegressor`` whose summation order
differs from XGBoost's (and it refuses real feature names). Why not double precision as for
LightGBM: XGBoost itself predicts in float32, starting from ``base_score`` and adding one tree
after the other, so its output carries float32 rounding (and float32 ties) that a double sum
does not reproduce: a double export re-ranked 194 of 6,720 rows of a 500-tree model. The graph
here reproduces XGBoost's arithmetic instead (see ``float32_sequential`` in
:mod:`model_export.converters.tree_graph`): float32 comparisons ``x < split_condition`` with NaN
sent to the default side, every tree in its own column, then a left-to-right float32 ``CumSum``.

The trees come from the booster's own JSON model (``save_raw("json")``), which stores the
float32 thresholds and leaf values exactly. Only ``reg:squarederror`` gbtree models with
numerical splits and one output are exported; anything else is refused with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
import xgboost as xgb

from model_export.converters.lightgbm_onnx import UnsupportedModelError
from model_export.converters.tree_graph import MODE_LT, InputType, TreeNodes, tree_ensemble_model
from model_export.features import model_columns, resolve_feature_order, unnamed

XGBoostPrecision = Literal["native", "double"]
SUPPORTED_OBJECTIVES = frozenset({"reg:squarederror", "reg:linear"})


def load_booster(path: Path) -> xgb.Booster:
    """Read an XGBoost model file (``.json``, ``.ubj`` or the legacy binary format)."""
    booster = xgb.Booster()
    booster.load_model(str(path))
    return booster


def model_document(booster: xgb.Booster) -> dict[str, Any]:
    """The booster's JSON model (``learner`` → ``gradient_booster`` → ``model`` → trees)."""
    return json.loads(bytes(booster.save_raw("json")))


def model_feature_names(booster: xgb.Booster) -> list[str]:
    """The booster's feature names, or placeholders when it was trained on a bare matrix."""
    names = booster.feature_names
    return list(names) if names else unnamed(booster.num_features())


def resolve_iterations(booster: xgb.Booster, num_iteration: int | None = None) -> int:
    """Boosting rounds to export: ``num_iteration``, else best_iteration + 1, else all.

    Matches ``XGBRegressor.predict``, which stops at the best iteration after early stopping.
    """
    total = booster.num_boosted_rounds()
    if num_iteration is None or num_iteration <= 0:
        best = booster.attr("best_iteration")
        num_iteration = int(best) + 1 if best is not None else total
    if num_iteration > total:
        raise UnsupportedModelError(
            f"num_iteration {num_iteration} is more than the model's {total} boosting rounds"
        )
    return int(num_iteration)


def check_supported(document: dict[str, Any]) -> None:
    """Refuse, with the reason, models whose predictions this exporter cannot reproduce."""
    learner = document["learner"]
    objective = learner["objective"]["name"]
    if objective not in SUPPORTED_OBJECTIVES:
        raise UnsupportedModelError(
            f"objective {objective!r} is not supported: only reg:squarederror models are "
            "exported (others apply a link function or several outputs); retrain with "
            "objective='reg:squarederror'"
        )
    booster_name = learner["gradient_booster"]["name"]
    if booster_name != "gbtree":
        raise UnsupportedModelError(
            f"booster {booster_name!r} is not supported (dart scales trees, gblinear has "
            "none): retrain with booster='gbtree'"
        )
    weights = learner["gradient_booster"].get("model", {}).get("weight_drop") or []
    if any(float(weight) != 1.0 for weight in weights):
        raise UnsupportedModelError(
            "models trained with dropout (dart, rate_drop > 0) scale their trees: retrain "
            "without dropout"
        )
    params = learner["learner_model_param"]
    if int(params.get("num_target", "1") or 1) > 1 or int(params.get("num_class", "0") or 0) > 1:
        raise UnsupportedModelError("models with several outputs are not supported")
    if "c" in (learner.get("feature_types") or []):
        raise UnsupportedModelError(
            "categorical features are not supported: train on numeric features (Numerai's are)"
        )


def base_score(document: dict[str, Any]) -> np.float32:
    """The float32 starting value of every prediction (``"[5E-1]"`` or ``"5E-1"`` in JSON)."""
    raw = str(document["learner"]["learner_model_param"]["base_score"]).strip("[]")
    values = [part for part in raw.split(",") if part.strip()]
    if len(values) != 1:
        raise UnsupportedModelError(f"base_score {raw!r}: one output expected")
    return np.float32(float(values[0]))


def xgboost_to_onnx(
    booster: xgb.Booster,
    *,
    feature_names: Sequence[str] | None = None,
    num_iteration: int | None = None,
    input_type: InputType = "float32",
    precision: XGBoostPrecision = "native",
) -> onnx.ModelProto:
    """Build the ONNX model of ``booster``'s first ``num_iteration`` rounds.

    ``feature_names`` is the graph's input column order (default: the model's own names).
    ``precision="double"`` sums in float64 instead of XGBoost's float32 order: it exists to
    show (and test) why it is not the default.
    """
    document = model_document(booster)
    check_supported(document)
    model_names = model_feature_names(booster)
    graph_names = resolve_feature_order(model_names, feature_names)
    feature_map = model_columns(model_names, graph_names)
    iterations = resolve_iterations(booster, num_iteration)
    gbtree = document["learner"]["gradient_booster"]["model"]
    trees = gbtree["trees"]
    indptr = gbtree.get("iteration_indptr")
    count = int(indptr[iterations]) if indptr else iterations * _trees_per_round(gbtree)
    nodes = TreeNodes()
    for tree in trees[:count]:
        _add_tree(nodes, tree, feature_map)
    base = base_score(document)
    return tree_ensemble_model(
        nodes,
        n_features=len(graph_names),
        input_type=input_type,
        summation="float32_sequential" if precision == "native" else "double",
        base=float(base),
        graph_name="xgboost_regressor",
        doc=f"XGBoost reg:squarederror model, {count} trees, base_score {base!r}",
    )


def _trees_per_round(gbtree: dict[str, Any]) -> int:
    parallel = gbtree.get("gbtree_model_param", {}).get("num_parallel_tree", "1")
    return max(int(parallel), 1)


def _add_tree(nodes: TreeNodes, tree: dict[str, Any], feature_map: np.ndarray) -> None:
    """Append one tree of the JSON model: ``x < condition`` goes left, NaN to the default."""
    left = tree["left_children"]
    right = tree["right_children"]
    conditions = np.asarray(tree["split_conditions"], dtype=np.float32)
    if any(int(kind) != 0 for kind in tree.get("split_type", [])):
        raise UnsupportedModelError("categorical splits are not supported")
    if left[0] == -1:
        nodes.add_constant_tree(float(conditions[0]))
        return
    nodes.begin_tree()
    features = tree["split_indices"]
    default_left = tree["default_left"]
    index: dict[int, int] = {}
    pending = [0]
    while pending:  # create every internal node first (depth-first), then link
        node = pending.pop()
        index[node] = nodes.add_node(
            int(feature_map[features[node]]),
            MODE_LT,
            float(conditions[node]),
            bool(default_left[node]),
        )
        pending += [child for child in (right[node], left[node]) if left[child] != -1]
    nodes.add_root(index[0])
    for node, position in index.items():
        for child, on_true in ((left[node], True), (right[node], False)):
            if left[child] == -1:
                leaf = nodes.add_leaf(float(conditions[child]))
                nodes.link(position, on_true, leaf, is_leaf=True)
            else:
                nodes.link(position, on_true, index[child], is_leaf=False)


def native_predict(
    booster: xgb.Booster,
    matrix: np.ndarray,
    graph_names: Sequence[str],
    num_iteration: int,
) -> np.ndarray:
    """XGBoost's own prediction for a matrix whose columns follow ``graph_names`` (float64)."""
    columns = model_columns(model_feature_names(booster), graph_names)
    ordered = np.ascontiguousarray(matrix[:, columns], dtype=np.float32)
    data = xgb.DMatrix(ordered, missing=np.nan, feature_names=booster.feature_names)
    prediction = booster.predict(data, iteration_range=(0, num_iteration))
    return np.asarray(prediction, dtype=np.float64).ravel()
