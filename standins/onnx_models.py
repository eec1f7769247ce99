"""Tiny ONNX models for the tests and the season: a linear scorer with the metadata contract,
and broken ones."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from numerai_bot.model_metadata import ModelMetadata

IR_VERSION = 10
OPSET = 17


def linear_model(
    features: list[str] | tuple[str, ...],
    *,
    seed: int = 0,
    data_version: str = "v5.2",
    behaviour: str = "ok",
    metadata: bool = True,
    declared_width: int | None = None,
    tournament: str = "classic",
    string_features: tuple[str, ...] = (),
    vocabulary: tuple[str, ...] = ("US", "JP", "GB", "DE", "FR", "XNYS", "XNAS"),
    input_type: int = TensorProto.FLOAT,
    input_source: str = "numerai",
) -> bytes:
    """A float32-input, double-output linear model (NaN read as 2); ``behaviour`` breaks it.

    behaviour: "ok", "nan" (every output NaN), "constant" (same value for every row).
    ``string_features`` are taken as a second, tensor(string) input and encoded inside the
    graph (``ai.onnx.ml`` LabelEncoder over ``vocabulary``; unseen or "" count 0).
    """
    numeric = [f for f in features if f not in set(string_features)]
    strings = [f for f in features if f in set(string_features)]
    n = len(numeric)
    weights = np.random.default_rng(seed).normal(size=(n, 1))
    if behaviour == "constant":
        weights = np.zeros((n, 1))
    bias = np.array([np.nan if behaviour == "nan" else 0.5])
    width = declared_width if declared_width is not None else n
    inputs = [helper.make_tensor_value_info("features", input_type, ["N", width])]
    extra_nodes, extra_init = [], []
    last = "shifted"
    if strings:
        inputs.append(
            helper.make_tensor_value_info("strings", TensorProto.STRING, ["N", len(strings)])
        )
        codes = [float(i + 1) for i in range(len(vocabulary))]
        for j in range(len(strings)):
            extra_init += [
                numpy_helper.from_array(np.array([j], dtype=np.int64), f"col{j}"),
                numpy_helper.from_array(np.array([[0.1 * (j + 1)]]), f"sw{j}"),
            ]
            extra_nodes += [
                helper.make_node("Gather", ["strings", f"col{j}"], [f"s{j}"], axis=1),
                helper.make_node(
                    "LabelEncoder",
                    [f"s{j}"],
                    [f"code{j}"],
                    domain="ai.onnx.ml",
                    keys_strings=list(vocabulary),
                    values_floats=codes,
                    default_float=0.0,
                ),
                helper.make_node("Cast", [f"code{j}"], [f"code64_{j}"], to=TensorProto.DOUBLE),
                helper.make_node("Mul", [f"code64_{j}", f"sw{j}"], [f"part{j}"]),
                helper.make_node("Add", [last, f"part{j}"], [f"acc{j}"]),
            ]
            last = f"acc{j}"
    nodes = [
        helper.make_node("Cast", ["features"], ["x64"], to=TensorProto.DOUBLE),
        helper.make_node("IsNaN", ["x64"], ["missing"]),
        helper.make_node("Where", ["missing", "two", "x64"], ["filled"]),
        helper.make_node("MatMul", ["filled", "w"], ["score2d"]),
        helper.make_node("Add", ["score2d", "b"], ["shifted"]),
        *extra_nodes,
        helper.make_node("Reshape", [last, "shape"], ["prediction"]),
    ]
    graph = helper.make_graph(
        nodes,
        "linear",
        inputs,
        [helper.make_tensor_value_info("prediction", TensorProto.DOUBLE, ["N"])],
        initializer=[
            *extra_init,
            numpy_helper.from_array(weights, "w"),
            numpy_helper.from_array(bias, "b"),
            numpy_helper.from_array(np.array(2.0), "two"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "shape"),
        ],
    )
    opsets = [helper.make_opsetid("", OPSET)]
    if strings:
        opsets.append(helper.make_opsetid("ai.onnx.ml", 2))
    model = helper.make_model(graph, ir_version=IR_VERSION, opset_imports=opsets)
    if metadata:
        props = ModelMetadata(
            features=tuple(features),
            data_version=data_version,
            model_name="test",
            source="test",
            tournament=tournament,
            string_features=tuple(strings),
            input=input_source,
        ).to_props()
        helper.set_model_props(model, props)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def slow_model(
    features: list[str] | tuple[str, ...], *, steps: int = 2000, width: int = 2000
) -> bytes:
    """A model that takes seconds: ``steps`` chained ``width``² MatMuls of a constant made at
    run time (no big initializer in the file). For time-budget tests."""
    n = len(features)
    nodes = [
        helper.make_node(
            "ConstantOfShape",
            ["wide_shape"],
            ["wide"],
            value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0 / width]),
        ),
        helper.make_node(
            "ConstantOfShape",
            ["square_shape"],
            ["square"],
            value=helper.make_tensor("s", TensorProto.FLOAT, [1], [1.0 / width]),
        ),
        helper.make_node("MatMul", ["features", "wide"], ["h0"]),
    ]
    for i in range(steps):
        nodes.append(helper.make_node("MatMul", [f"h{i}", "square"], [f"h{i + 1}"]))
    nodes += [
        helper.make_node("ReduceSum", [f"h{steps}", "axes"], ["total"], keepdims=0),
        helper.make_node("Cast", ["total"], ["prediction"], to=TensorProto.DOUBLE),
    ]
    graph = helper.make_graph(
        nodes,
        "slow",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", n])],
        [helper.make_tensor_value_info("prediction", TensorProto.DOUBLE, ["N"])],
        initializer=[
            numpy_helper.from_array(np.array([n, width], dtype=np.int64), "wide_shape"),
            numpy_helper.from_array(np.array([width, width], dtype=np.int64), "square_shape"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        ],
    )
    model = helper.make_model(
        graph, ir_version=IR_VERSION, opset_imports=[helper.make_opsetid("", OPSET)]
    )
    props = ModelMetadata(features=tuple(features), data_version="v5.2", source="test").to_props()
    helper.set_model_props(model, props)
    return model.SerializeToString()
