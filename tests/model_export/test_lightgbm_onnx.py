"""Exported graphs predict like native LightGBM: exact ranks, NaN handling, options, refusals."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import onnx
import pytest

from model_export import onnx_format as fmt
from model_export.converters.lightgbm_onnx import (
    UnsupportedModelError,
    booster_to_onnx,
    resolve_num_iteration,
)
from model_export.features import FeatureError
from model_export.parity import (
    LAMBDA_THREAD_COUNTS,
    check_parity,
    compare_predictions,
    onnx_predictions,
)

from .conftest import N_FEATURES, nan_matrix


def _nodes_by_missing_type(booster: lgb.Booster) -> set[tuple[str, bool]]:
    seen = set()
    for tree in booster.dump_model()["tree_info"]:
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "threshold" in node:
                seen.add((node["missing_type"], node["default_left"]))
                stack += [node["left_child"], node["right_child"]]
    return seen


def test_nan_model_ranks_identically(nan_booster, live_matrix, feature_names) -> None:
    # The model really routes NaN both ways, so the test exercises missing-value handling.
    kinds = _nodes_by_missing_type(nan_booster)
    assert {("NaN", True), ("NaN", False)} <= kinds
    model = booster_to_onnx(nan_booster, feature_names=feature_names).SerializeToString()
    native = nan_booster.predict(live_matrix)
    report = check_parity(model, live_matrix, native, thread_counts=LAMBDA_THREAD_COUNTS)
    assert report.ok, report.text()
    assert report.rows_reranked == 0 and report.max_abs_diff < 1e-13
    # One onnxruntime thread adds the trees in LightGBM's order: bit-identical.
    np.testing.assert_array_equal(onnx_predictions(model, live_matrix, threads=1), native)


def test_graph_signature_and_versions(nan_booster, feature_names) -> None:
    model = booster_to_onnx(nan_booster, feature_names=feature_names)
    assert model.ir_version == fmt.IR_VERSION <= 13
    assert {(o.domain, o.version) for o in model.opset_import} == {
        ("", fmt.OPSET_DEFAULT),
        (fmt.ML_DOMAIN, fmt.OPSET_ML),
    }
    (graph_input,) = model.graph.input
    assert graph_input.name == "features"
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_value for d in graph_input.type.tensor_type.shape.dim][1] == N_FEATURES
    (output,) = model.graph.output
    assert output.name == "prediction"
    assert output.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    trees = next(n for n in model.graph.node if n.op_type == "TreeEnsemble")
    attributes = {a.name: a for a in trees.attribute}
    assert len(attributes["tree_roots"].ints) == 50
    assert attributes["nodes_splits"].t.data_type == onnx.TensorProto.DOUBLE
    assert attributes["leaf_weights"].t.data_type == onnx.TensorProto.DOUBLE


@pytest.mark.parametrize(("input_type", "flat"), [("float64", True), ("float32", False)])
def test_input_and_output_options(
    nan_booster, live_matrix, feature_names, input_type, flat
) -> None:
    model = booster_to_onnx(
        nan_booster, feature_names=feature_names, input_type=input_type, flat_output=flat
    ).SerializeToString()
    out = onnx_predictions(model, live_matrix.astype(input_type), threads=1)
    np.testing.assert_array_equal(out, nan_booster.predict(live_matrix))


def test_feature_order_can_differ_from_training(nan_booster, live_matrix, feature_names) -> None:
    order = np.random.default_rng(1).permutation(N_FEATURES)
    shuffled = [feature_names[i] for i in order]
    model = booster_to_onnx(nan_booster, feature_names=shuffled).SerializeToString()
    out = onnx_predictions(model, live_matrix[:, order], threads=1)
    np.testing.assert_array_equal(out, nan_booster.predict(live_matrix))


def test_feature_list_must_match_model(nan_booster, feature_names) -> None:
    with pytest.raises(FeatureError, match="does not match"):
        booster_to_onnx(nan_booster, feature_names=[*feature_names[:-1], "feature_other"])


def test_unnamed_model_needs_and_takes_names(nan_training, live_matrix, feature_names) -> None:
    matrix, target = nan_training
    booster = lgb.train({"verbosity": -1}, lgb.Dataset(matrix, target), num_boost_round=5)
    with pytest.raises(FeatureError, match="no feature names"):
        booster_to_onnx(booster)
    model = booster_to_onnx(booster, feature_names=feature_names).SerializeToString()
    np.testing.assert_array_equal(
        onnx_predictions(model, live_matrix, threads=1), booster.predict(live_matrix)
    )


def test_zero_as_missing_model(feature_names) -> None:
    """missing_type Zero with thresholds on both sides of zero needs multi-node chains."""
    rng = np.random.default_rng(5)
    matrix = rng.integers(-2, 3, size=(3_000, N_FEATURES)).astype(np.float32)
    matrix[rng.random(matrix.shape) < 0.05] = np.nan
    target = np.nan_to_num(matrix[:, 0]) + (matrix[:, 1] == 0) + rng.normal(size=3_000) * 0.5
    params = {"objective": "regression", "zero_as_missing": True, "verbosity": -1}
    booster = lgb.train(params, lgb.Dataset(matrix, target), num_boost_round=30)
    assert {("Zero", True), ("Zero", False)} <= _nodes_by_missing_type(booster)
    live = rng.integers(-2, 3, size=(2_000, N_FEATURES)).astype(np.float32)
    live[rng.random(live.shape) < 0.05] = np.nan
    model = booster_to_onnx(booster, feature_names=feature_names).SerializeToString()
    np.testing.assert_array_equal(onnx_predictions(model, live, threads=1), booster.predict(live))


def test_random_forest_average_output(nan_training, live_matrix, feature_names) -> None:
    matrix, target = nan_training
    params = {
        "boosting": "rf",
        "bagging_freq": 1,
        "bagging_fraction": 0.5,
        "feature_fraction": 0.5,
        "verbosity": -1,
    }
    booster = lgb.train(params, lgb.Dataset(matrix, target), num_boost_round=20)
    assert booster.dump_model()["average_output"]
    model = booster_to_onnx(booster, feature_names=feature_names).SerializeToString()
    np.testing.assert_array_equal(
        onnx_predictions(model, live_matrix, threads=1), booster.predict(live_matrix)
    )


def test_best_iteration_is_exported_by_default(nan_training, live_matrix, feature_names) -> None:
    matrix, target = nan_training
    train = lgb.Dataset(matrix[:3000], target[:3000])
    valid = lgb.Dataset(matrix[3000:], target[3000:], reference=train)
    booster = lgb.train(
        {"learning_rate": 0.3, "verbosity": -1},
        train,
        num_boost_round=200,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(5, verbose=False)],
        keep_training_booster=True,  # else train() trims the model to best_iteration
    )
    best = booster.best_iteration
    assert 0 < best < booster.current_iteration()
    assert resolve_num_iteration(booster) == best
    model = booster_to_onnx(booster, feature_names=feature_names)
    trees = next(n for n in model.graph.node if n.op_type == "TreeEnsemble")
    assert len(next(a for a in trees.attribute if a.name == "tree_roots").ints) == best
    out = onnx_predictions(model.SerializeToString(), live_matrix, threads=1)
    np.testing.assert_array_equal(out, booster.predict(live_matrix))
    # An explicit count wins over best_iteration.
    model = booster_to_onnx(booster, feature_names=feature_names, num_iteration=3)
    out = onnx_predictions(model.SerializeToString(), live_matrix, threads=1)
    np.testing.assert_array_equal(out, booster.predict(live_matrix, num_iteration=3))


def test_constant_target_gives_one_leaf_trees(feature_names) -> None:
    matrix = nan_matrix(np.random.default_rng(2), 300)
    booster = lgb.train({"verbosity": -1}, lgb.Dataset(matrix, np.full(300, 0.5)), 3)
    assert "leaf_value" in booster.dump_model()["tree_info"][0]["tree_structure"]
    model = booster_to_onnx(booster, feature_names=feature_names).SerializeToString()
    np.testing.assert_array_equal(onnx_predictions(model, matrix), booster.predict(matrix))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"objective": "binary"}, "objective"),
        ({"objective": "regression", "reg_sqrt": True}, "objective"),
        ({"objective": "multiclass", "num_class": 3}, "multiclass"),
        ({"linear_tree": True}, "linear"),
    ],
)
def test_refuses_models_it_cannot_reproduce(nan_training, feature_names, params, message):
    matrix, target = nan_training[0][:500], nan_training[1][:500]
    labels = (target > np.median(target)).astype(float)
    if params.get("objective") == "multiclass":
        labels = np.digitize(target, np.quantile(target, [0.33, 0.66]))
    elif params.get("objective") != "binary":
        labels = target
    data = np.nan_to_num(matrix) if params.get("linear_tree") else matrix
    booster = lgb.train({**params, "verbosity": -1}, lgb.Dataset(data, labels), 2)
    with pytest.raises(UnsupportedModelError, match=message):
        booster_to_onnx(booster, feature_names=feature_names)


def test_categorical_splits_are_refused(feature_names) -> None:
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 5, size=(1_000, N_FEATURES)).astype(np.float32)
    target = (matrix[:, 0] == 3) * 2.0 + rng.normal(size=1_000) * 0.1
    dataset = lgb.Dataset(matrix, target, categorical_feature=[0])
    booster = lgb.train({"verbosity": -1, "min_data_per_group": 5}, dataset, 3)
    with pytest.raises(UnsupportedModelError) as refused:
        booster_to_onnx(booster, feature_names=feature_names)
    message = str(refused.value)
    assert f"categorical splits on {booster.feature_name()[0]} " in message
    assert "categorical_feature=[]" in message and "--string-vocabulary" in message


def test_float32_variant_changes_values(nan_booster, live_matrix, feature_names) -> None:
    model = booster_to_onnx(nan_booster, feature_names=feature_names, precision="float32")
    report = compare_predictions(
        nan_booster.predict(live_matrix), onnx_predictions(model.SerializeToString(), live_matrix)
    )
    assert report.max_abs_diff > 1e-9 and not report.ok
