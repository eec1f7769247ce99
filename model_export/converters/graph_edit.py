"""Bring a graph made by another converter (skl2onnx, torch.onnx) to the bot's signature.

Why: every file the bot runs has one input ``features`` [N, F] (float32 or float64, the
worker feeds that type) and its first output ``prediction`` [N] in float64 (Numerai ranks
it, and a float32 output alone re-ranks rows). Other converters name their tensors ``X``,
``variable``, ``input.1``…, return [N, 1] in float32 and may stamp an IR version onnxruntime
1.31 refuses. :func:`conform` renames, casts and reshapes without touching the computation.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from model_export import onnx_format as fmt
from model_export.converters.tree_graph import TENSOR_TYPES, InputType

# onnxruntime 1.31 loads IR versions up to 13; IR 10 covers opset 21 (see onnx_format).
MAX_IR_VERSION = fmt.IR_VERSION


def conform(model: onnx.ModelProto, input_type: InputType = "float32") -> onnx.ModelProto:
    """A copy of ``model`` taking ``features`` of ``input_type`` and giving ``prediction`` [N].

    The original input keeps its element type: a Cast in front feeds it. Only the first
    output is kept (skl2onnx regressors and torch modules have one).
    """
    model = _copy(model)
    graph = model.graph
    had_default_ops = any(node.domain in ("", "ai.onnx") for node in graph.node)
    initializer_names = {init.name for init in graph.initializer}
    inputs = [value for value in graph.input if value.name not in initializer_names]
    if len(inputs) != 1:
        raise ValueError(f"the graph has {len(inputs)} inputs; the bot feeds exactly one matrix")
    original = inputs[0]
    original_type = original.type.tensor_type.elem_type
    if original_type not in TENSOR_TYPES.values():
        raise ValueError("the graph input must be float32 or float64")
    width = [dim.dim_value for dim in original.type.tensor_type.shape.dim][-1:]
    inner = "features_inner"
    _rename_everywhere(graph, original.name, inner)
    graph.input.remove(original)
    graph.input.insert(
        0,
        helper.make_tensor_value_info(
            fmt.INPUT_NAME, TENSOR_TYPES[input_type], ["N", width[0] if width else "F"]
        ),
    )
    if TENSOR_TYPES[input_type] != original_type:
        graph.node.insert(0, helper.make_node("Cast", [fmt.INPUT_NAME], [inner], to=original_type))
    else:
        graph.node.insert(0, helper.make_node("Identity", [fmt.INPUT_NAME], [inner]))

    first = graph.output[0]
    raw = "prediction_inner"
    _rename_everywhere(graph, first.name, raw)
    del graph.output[:]
    result = raw
    if first.type.tensor_type.elem_type != TensorProto.DOUBLE:
        graph.node.append(helper.make_node("Cast", [raw], ["prediction_double"], to=11))
        result = "prediction_double"
    graph.initializer.append(numpy_helper.from_array(np.array([-1], np.int64), "flat_shape"))
    graph.node.append(helper.make_node("Reshape", [result, "flat_shape"], [fmt.OUTPUT_NAME]))
    graph.output.append(helper.make_tensor_value_info(fmt.OUTPUT_NAME, TensorProto.DOUBLE, ["N"]))
    _ensure_default_opset(model, 13, may_raise=not had_default_ops)  # Cast-13, Reshape-5
    # IR >= 7 for opset 13 (and initializers that are not inputs), <= 10 for onnxruntime 1.31.
    model.ir_version = max(min(model.ir_version, MAX_IR_VERSION), 7)
    model.producer_name = f"{model.producer_name or '?'}+{fmt.PRODUCER_NAME}"
    onnx.checker.check_model(model, full_check=True)
    return model


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def _rename_everywhere(graph: onnx.GraphProto, old: str, new: str) -> None:
    """Rename tensor ``old`` in node inputs/outputs, graph outputs and value infos."""
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
        node.output[:] = [new if name == old else name for name in node.output]
        for attribute in node.attribute:  # subgraphs (If/Loop) may read the tensor too
            if attribute.type == onnx.AttributeProto.GRAPH:
                _rename_everywhere(attribute.g, old, new)
    for value in graph.value_info:
        if value.name == old:
            value.name = new


def _ensure_default_opset(model: onnx.ModelProto, minimum: int, *, may_raise: bool) -> None:
    """Default-domain opset >= ``minimum``: raised when the converter's graph used no
    default-domain operator before (CatBoost's own export), else refused with the reason."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            if entry.version < minimum:
                if not may_raise:
                    raise ValueError(
                        f"the graph uses opset {entry.version}; export it with opset {minimum}+"
                    )
                entry.version = minimum
            return
    model.opset_import.append(helper.make_opsetid("", minimum))
