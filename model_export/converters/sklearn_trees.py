"""scikit-learn tree models → double-precision ONNX ``TreeEnsemble`` graphs, exact like sklearn.

Why not skl2onnx for trees: it writes the float32 ``TreeEnsembleRegressor`` (its output is
float32 even for a double input, so its double variant does not load in onnxruntime), and its
HistGradientBoosting converter needs ``protobuf<7``. scikit-learn's trees compare in double
(``x <= threshold``; single trees and forests read the features as float32 first, which is
exact for Numerai's 0–4 values) and add in double, so the same graph builder as for LightGBM
reproduces them:

* ``DecisionTreeRegressor`` / ``ExtraTreeRegressor``: one tree.
* ``RandomForestRegressor`` / ``ExtraTreesRegressor``: the sum of the trees divided by their
  number (``TreeEnsemble``'s AVERAGE).
* ``GradientBoostingRegressor`` / ``HistGradientBoostingRegressor``: the baseline, then each
  tree's (already shrunk) value added in order, in double (``double_sequential``).

NaN follows each node's ``missing_go_to_left``. Categorical splits, several outputs and losses
with a link function (poisson, gamma) are refused with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import onnx

from model_export.converters.lightgbm_onnx import UnsupportedModelError
from model_export.converters.tree_graph import (
    MODE_LEQ,
    InputType,
    Summation,
    TreeNodes,
    tree_ensemble_model,
)

SINGLE_TREES = ("DecisionTreeRegressor", "ExtraTreeRegressor")
FORESTS = ("RandomForestRegressor", "ExtraTreesRegressor")
IDENTITY_LOSSES = frozenset({"squared_error", "absolute_error", "huber", "quantile"})


def is_tree_model(estimator: Any) -> bool:
    """True for the estimators this module exports (by class name, no sklearn import needed)."""
    return type(estimator).__name__ in (
        *SINGLE_TREES,
        *FORESTS,
        "GradientBoostingRegressor",
        "HistGradientBoostingRegressor",
    )


def sklearn_trees_to_onnx(
    estimator: Any,
    *,
    feature_map: np.ndarray,
    n_features: int,
    input_type: InputType = "float32",
) -> onnx.ModelProto:
    """The graph of a fitted tree model; ``feature_map[j]`` is the graph column of feature j."""
    kind = type(estimator).__name__
    nodes = TreeNodes()
    base = 0.0
    summation: Summation = "double"
    average = False
    if kind in SINGLE_TREES:
        _add_sklearn_tree(nodes, estimator.tree_, feature_map)
    elif kind in FORESTS:
        for tree in estimator.estimators_:
            _add_sklearn_tree(nodes, tree.tree_, feature_map)
        average = True
    elif kind == "GradientBoostingRegressor":
        _check_loss(estimator.loss)
        base = _gradient_boosting_baseline(estimator)
        rate = float(estimator.learning_rate)
        for stage in estimator.estimators_:
            _add_sklearn_tree(nodes, stage[0].tree_, feature_map, scale=rate)
        summation = "double_sequential"
    elif kind == "HistGradientBoostingRegressor":
        _check_loss(estimator.loss)
        if estimator.n_trees_per_iteration_ != 1:
            raise UnsupportedModelError("models with several outputs are not supported")
        base = float(np.asarray(estimator._baseline_prediction).ravel()[0])
        for (predictor,) in estimator._predictors:
            _add_hist_tree(nodes, predictor.nodes, feature_map)
        summation = "double_sequential"
    else:
        raise UnsupportedModelError(f"{kind} is not a tree model this exporter knows")
    return tree_ensemble_model(
        nodes,
        n_features=n_features,
        input_type=input_type,
        summation=summation,
        base=base,
        average=average,
        graph_name="sklearn_trees",
        doc=f"scikit-learn {kind}, {nodes.trees} trees",
    )


def _check_loss(loss: Any) -> None:
    name = loss if isinstance(loss, str) else type(loss).__name__
    if name not in IDENTITY_LOSSES:
        raise UnsupportedModelError(
            f"loss {name!r} is not supported: only losses without a link function "
            f"({', '.join(sorted(IDENTITY_LOSSES))})"
        )


def _gradient_boosting_baseline(estimator: Any) -> float:
    init = estimator.init_
    if init == "zero":
        return 0.0
    if type(init).__name__ != "DummyRegressor":
        raise UnsupportedModelError(
            "GradientBoostingRegressor with a custom init estimator is not supported "
            "(its baseline differs row by row): use init=None or 'zero'"
        )
    return float(np.asarray(init.constant_).ravel()[0])


def _add_sklearn_tree(
    nodes: TreeNodes, tree: Any, feature_map: np.ndarray, scale: float = 1.0
) -> None:
    """One ``sklearn.tree._tree.Tree``: ``x <= threshold`` left, NaN per missing_go_to_left."""
    if tree.n_outputs != 1:
        raise UnsupportedModelError("models with several outputs are not supported")
    values = tree.value[:, 0, 0]
    missing_left = getattr(tree, "missing_go_to_left", np.zeros(tree.node_count, np.uint8))
    _add_tree(
        nodes,
        left=tree.children_left,
        right=tree.children_right,
        is_leaf=[child == -1 for child in tree.children_left],
        feature=tree.feature,
        threshold=tree.threshold,
        missing_left=missing_left,
        leaf_value=[float(scale * value) if scale != 1.0 else float(value) for value in values],
        feature_map=feature_map,
    )


def _add_hist_tree(nodes: TreeNodes, table: np.ndarray, feature_map: np.ndarray) -> None:
    """One HistGradientBoosting predictor (its ``nodes`` record array, values already shrunk)."""
    if np.any(table["is_categorical"][~table["is_leaf"].astype(bool)]):
        raise UnsupportedModelError(
            "categorical splits are not supported: train on numeric features (Numerai's are)"
        )
    _add_tree(
        nodes,
        left=table["left"],
        right=table["right"],
        is_leaf=table["is_leaf"].astype(bool),
        feature=table["feature_idx"],
        threshold=table["num_threshold"],
        missing_left=table["missing_go_to_left"],
        leaf_value=[float(value) for value in table["value"]],
        feature_map=feature_map,
    )


def _add_tree(
    nodes: TreeNodes,
    *,
    left: Iterable[int],
    right: Iterable[int],
    is_leaf: Iterable[bool],
    feature: Iterable[int],
    threshold: Iterable[float],
    missing_left: Iterable[int],
    leaf_value: list[float],
    feature_map: np.ndarray,
) -> None:
    left, right, leaf = list(left), list(right), [bool(v) for v in is_leaf]
    feature, threshold, missing = list(feature), list(threshold), list(missing_left)
    if leaf[0]:
        nodes.add_constant_tree(leaf_value[0])
        return
    nodes.begin_tree()
    index: dict[int, int] = {}
    pending = [0]
    while pending:
        node = pending.pop()
        index[node] = nodes.add_node(
            int(feature_map[int(feature[node])]),
            MODE_LEQ,
            float(threshold[node]),
            bool(missing[node]),
        )
        pending += [child for child in (right[node], left[node]) if not leaf[child]]
    nodes.add_root(index[0])
    for node, position in index.items():
        for child, on_true in ((left[node], True), (right[node], False)):
            if leaf[child]:
                nodes.link(position, on_true, nodes.add_leaf(leaf_value[child]), is_leaf=True)
            else:
                nodes.link(position, on_true, index[child], is_leaf=False)
