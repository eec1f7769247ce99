"""Convert a LightGBM regression Booster to an ONNX graph that ranks rows exactly as LightGBM.

Why not onnxmltools: it writes the float32 ``TreeEnsembleRegressor``; float32 thresholds and
sums re-order about 2 % of Numerai's live rows. Here the ai.onnx.ml opset 5 ``TreeEnsemble``
operator is written in double precision (thresholds, leaf weights, sums and output), the input
is cast to double inside the graph, and LightGBM's missing-value and zero rules are reproduced
split by split (see :mod:`model_export.converters.lightgbm_splits`). onnxruntime then adds the same
doubles in the same order as LightGBM, so predictions match to the last bit or nearly so.

Graph: ``features`` [N, F] (float32, or float64) → Cast(double) → TreeEnsemble → Reshape →
``prediction`` [N] double (or [N, 1] with ``flat_output=False``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

import lightgbm as lgb
import onnx

from model_export.converters.lightgbm_splits import split_chain
from model_export.converters.tree_graph import InputType, TreeNodes, tree_ensemble_model
from model_export.features import resolve_feature_order

Precision = Literal["double", "float32"]

# LightGBM objectives whose prediction is the raw sum of the trees (no link function), so
# the graph's output equals ``booster.predict`` without a transform node.
IDENTITY_OBJECTIVES = frozenset(
    {
        "regression",
        "regression_l2",
        "l2",
        "mean_squared_error",
        "mse",
        "regression_l1",
        "l1",
        "mean_absolute_error",
        "mae",
        "huber",
        "fair",
        "quantile",
        "mape",
        "mean_absolute_percentage_error",
        "lambdarank",
        "rank_xendcg",
        "xendcg",
        "custom",
        "none",
    }
)

# ``dump_model`` clamps thresholds to ±1e300; the model itself holds ±inf there.
_AVOID_INF = 1e300


class UnsupportedModelError(ValueError):
    """The model uses something this exporter cannot reproduce exactly (the message says what)."""


def resolve_num_iteration(booster: lgb.Booster, num_iteration: int | None = None) -> int:
    """How many iterations ``booster.predict`` uses by default: best_iteration if set, else all.

    Passing the result explicitly to both the export and the native prediction keeps them on
    the same trees.
    """
    total = booster.current_iteration()
    if num_iteration is None or num_iteration <= 0:
        best = booster.best_iteration
        num_iteration = best if best and best > 0 else total
    if num_iteration > total:
        raise UnsupportedModelError(
            f"num_iteration {num_iteration} is more than the model's {total} iterations"
        )
    return int(num_iteration)


def booster_to_onnx(
    booster: lgb.Booster,
    *,
    feature_names: Sequence[str] | None = None,
    num_iteration: int | None = None,
    input_type: InputType = "float32",
    precision: Precision = "double",
    flat_output: bool = True,
) -> onnx.ModelProto:
    """Build the ONNX model of ``booster``'s first ``num_iteration`` iterations.

    ``feature_names`` is the graph's input column order (default: the model's own names; see
    :func:`model_export.features.resolve_feature_order`). ``precision="float32"`` writes the
    float32 variant other converters produce: it exists only to show (and test) why it is
    refused by the parity check.
    """
    iterations = resolve_num_iteration(booster, num_iteration)
    dump = booster.dump_model(num_iteration=iterations)
    graph_names = resolve_feature_order(dump["feature_names"], feature_names)
    return dump_to_onnx(
        dump,
        graph_names,
        input_type=input_type,
        precision=precision,
        flat_output=flat_output,
    )


def dump_to_onnx(
    dump: dict[str, Any],
    graph_names: Sequence[str],
    *,
    input_type: InputType = "float32",
    precision: Precision = "double",
    flat_output: bool = True,
) -> onnx.ModelProto:
    """Build the ONNX model from ``Booster.dump_model()`` output (all trees in the dump)."""
    check_supported(dump)
    if precision not in ("double", "float32"):
        raise ValueError(f"precision must be double or float32, not {precision!r}")
    model_names = list(dump["feature_names"])
    position = {name: i for i, name in enumerate(graph_names)}
    if len(position) != len(model_names):
        raise ValueError("graph_names must list every model feature once")
    if all(name in position for name in model_names):
        feature_map = [position[name] for name in model_names]
    else:  # model trained on a bare matrix: names are taken by position
        feature_map = list(range(len(model_names)))

    arrays = TreeArrays(feature_map)
    for tree in dump["tree_info"]:
        arrays.add_tree(tree["tree_structure"])
    return tree_ensemble_model(
        arrays,
        n_features=len(graph_names),
        input_type=input_type,
        summation="double" if precision == "double" else "float32",
        average=bool(dump.get("average_output", False)),
        flat_output=flat_output,
        graph_name="lightgbm_regressor",
        doc=f"LightGBM {dump.get('objective', '')} model, {len(dump['tree_info'])} trees",
    )


def check_supported(dump: dict[str, Any]) -> None:
    """Refuse, with the reason, models whose predictions this exporter cannot reproduce."""
    if dump.get("num_class", 1) != 1 or dump.get("num_tree_per_iteration", 1) != 1:
        raise UnsupportedModelError(
            "multiclass models are not supported: export a regression (one output) model"
        )
    objective = str(dump.get("objective") or "none").split()
    if objective[0] not in IDENTITY_OBJECTIVES or "sqrt" in objective[1:]:
        raise UnsupportedModelError(
            f"objective {' '.join(objective)!r} transforms the raw score (sigmoid, exp, …); "
            "only regression-style objectives are exported: retrain with objective='regression'"
        )
    if not dump.get("tree_info"):
        raise UnsupportedModelError("the model has no trees (num_iteration 0?)")
    categorical = categorical_split_features(dump)
    if categorical:
        raise UnsupportedModelError(categorical_splits_message(categorical))
    for tree in dump["tree_info"]:
        if tree.get("is_linear") or _has_linear_leaves(tree["tree_structure"]):
            raise UnsupportedModelError(
                "linear trees (linear_tree=true) are not supported: retrain without them"
            )


def categorical_split_features(dump: dict[str, Any]) -> list[str]:
    """The features the model splits on as categories (LightGBM ``categorical_feature`` or a
    pandas ``category`` column), in the model's order."""
    names = list(dump.get("feature_names") or [])
    found: set[int] = set()
    for tree in dump.get("tree_info", []):
        if not tree.get("num_cat", 0):
            continue
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if node.get("decision_type") == "==":
                found.add(int(node["split_feature"]))
            stack += [node[key] for key in ("left_child", "right_child") if key in node]
    return [names[i] if i < len(names) else f"column {i}" for i in sorted(found)]


def refuse_categorical_splits(booster: lgb.Booster, num_iteration: int) -> None:
    """Refuse a model with categorical splits, naming the features, without converting it.

    Cheap on a large model: LightGBM's text model states ``num_cat`` per tree and is several
    times quicker to write than the JSON dump; only a model that has categorical splits is
    dumped, to name them.
    """
    text = booster.model_to_string(num_iteration=num_iteration)
    if re.search(r"^num_cat=[1-9]", text, re.MULTILINE):
        dump = booster.dump_model(num_iteration=num_iteration)
        raise UnsupportedModelError(categorical_splits_message(categorical_split_features(dump)))


def categorical_splits_message(features: Sequence[str]) -> str:
    """Why a model with categorical splits is refused (the converter reproduces LightGBM's
    numeric splits only, :mod:`.lightgbm_splits`), and the way to a file that exports."""
    named = ", ".join(features)
    return (
        f"the model has categorical splits on {named} (LightGBM categorical_feature, or a "
        "pandas category column), which are not exported. Retrain with the column(s) as "
        "ordinary numeric features (categorical_feature=[]): for a string column, its codes in "
        "a fixed vocabulary (sorted distinct training values → 0, 1, 2…, missing/unseen → NaN; "
        "train --string-features encode does this), then export with --string-vocabulary (the "
        "JSON vocabulary or the train.parquet the codes came from) so the graph encodes the "
        "strings itself"
    )


def _has_linear_leaves(node: dict[str, Any]) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if "leaf_coeff" in current or "leaf_features" in current:
            return True
        stack += [current[key] for key in ("left_child", "right_child") if key in current]
    return False


class TreeArrays(TreeNodes):
    """TreeEnsemble node lists filled from LightGBM's ``tree_structure`` dumps."""

    def __init__(self, feature_map: list[int]) -> None:
        super().__init__()
        self.feature_map = feature_map

    def add_tree(self, structure: dict[str, Any]) -> None:
        """Append one tree (``tree_structure`` of the dump), depth-first without recursion."""
        if "leaf_value" in structure:  # a one-leaf tree: one node, both branches to the leaf
            self.add_constant_tree(structure["leaf_value"])
            return
        self.begin_tree()
        pending: list[tuple[dict[str, Any], int | None, bool]] = [(structure, None, True)]
        while pending:
            node, parent, on_true = pending.pop()
            if "leaf_value" in node:
                if parent is None:
                    raise AssertionError("a leaf below no node")
                self.link(parent, on_true, self.add_leaf(node["leaf_value"]), is_leaf=True)
                continue
            if node.get("decision_type", "<=") != "<=":
                raise UnsupportedModelError(
                    f"split type {node.get('decision_type')!r} is not supported"
                )
            chain = split_chain(
                _threshold(node["threshold"]), node["default_left"], node["missing_type"]
            )
            feature = self.feature_map[node["split_feature"]]
            first = len(self.modes)
            for comparison in chain.comparisons:
                self.add_node(feature, comparison.mode, comparison.threshold, comparison.nan_true)
            if parent is None:
                self.add_root(first)
            else:
                self.link(parent, on_true, first, is_leaf=False)
            last = first + len(chain.comparisons) - 1
            for index, comparison in zip(range(first, last + 1), chain.comparisons, strict=True):
                pending.append((_child(node, comparison.true_side), index, True))
                if index < last:
                    self.link(index, False, index + 1, is_leaf=False)
            pending.append((_child(node, chain.final_side), last, False))


def _threshold(value: float) -> float:
    """Undo ``dump_model``'s AvoidInf: it writes LightGBM's infinite thresholds as ±1e300."""
    if value >= _AVOID_INF:
        return math.inf
    if value <= -_AVOID_INF:
        return -math.inf
    return float(value)


def _child(node: dict[str, Any], side: str) -> dict[str, Any]:
    return node["left_child"] if side == "left" else node["right_child"]
