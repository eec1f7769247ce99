"""Tiny ONNX models for tests: a linear scorer with the metadata contract, and broken ones."""

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
) -> bytes:
    """A float32-input, double-output linear model (NaN read as 2); ``behaviour`` breaks it.

    behaviour: "ok", "nan" (every output NaN), "constant" (same value for every row).
    """
    n = len(features)
    weights = np.random.default_rng(seed).normal(size=(n, 1))
    if behaviour == "constant":
        weights = np.zeros((n, 1))
    bias = np.array([np.nan if behaviour == "nan" else 0.5])
    width = declared_width if declared_width is not None else n
    nodes = [
        helper.make_node("Cast", ["features"], ["x64"], to=TensorProto.DOUBLE),
        helper.make_node("IsNaN", ["x64"], ["missing"]),
        helper.make_node("Where", ["missing", "two", "x64"], ["filled"]),
        helper.make_node("MatMul", ["filled", "w"], ["score2d"]),
        helper.make_node("Add", ["score2d", "b"], ["shifted"]),
        helper.make_node("Reshape", ["shifted", "shape"], ["prediction"]),
    ]
    graph = helper.make_graph(
        nodes,
        "linear",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", width])],
        [helper.make_tensor_value_info("prediction", TensorProto.DOUBLE, ["N"])],
        initializer=[
            numpy_helper.from_array(weights, "w"),
            numpy_helper.from_array(bias, "b"),
            numpy_helper.from_array(np.array(2.0), "two"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "shape"),
        ],
    )
    model = helper.make_model(
        graph, ir_version=IR_VERSION, opset_imports=[helper.make_opsetid("", OPSET)]
    )
    if metadata:
        props = ModelMetadata(
            features=tuple(features), data_version=data_version, model_name="test", source="test"
        ).to_props()
        helper.set_model_props(model, props)
    onnx.checker.check_model(model)
    return model.SerializeToString()
