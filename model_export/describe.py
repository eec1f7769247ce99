"""Summarise an exported ONNX file: graph signature, trees, and its Numerai metadata.

Why: before uploading a model you want to see, without Python, what the worker will read
(feature count and order, data version, parity figures) and whether its metadata is valid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import onnx

from model_export import onnx_format as fmt
from model_export.converters.tree_graph import BASE_COLUMN_NODE
from model_export.metadata import read_props
from numerai_bot.model_metadata import MetadataError, ModelMetadata

_ELEMENT_TYPES = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.DOUBLE: "float64",
    onnx.TensorProto.UINT8: "uint8",
    onnx.TensorProto.INT8: "int8",
    onnx.TensorProto.STRING: "string",
}


def describe(path: Path) -> dict[str, Any]:
    """Everything ``describe`` prints, as a JSON-friendly dict (``metadata_error`` if invalid)."""
    path = Path(path)
    model = onnx.load(str(path))
    info: dict[str, Any] = {
        "file": str(path),
        "size_bytes": path.stat().st_size,
        "ir_version": model.ir_version,
        "opsets": {entry.domain or "ai.onnx": entry.version for entry in model.opset_import},
        "producer": model.producer_name,
        "inputs": [_signature(value) for value in model.graph.input],
        "outputs": [_signature(value) for value in model.graph.output],
        "trees": _tree_count(model),
    }
    props = read_props(path)
    try:
        info["metadata"] = _jsonable(ModelMetadata.from_props(props))
    except MetadataError as error:
        info["metadata_error"] = str(error)
        info["raw_metadata"] = props
    return info


def render(info: dict[str, Any], *, all_features: bool = False) -> str:
    """The human-readable text of :func:`describe`'s result."""
    opsets = ", ".join(f"{domain} {version}" for domain, version in info["opsets"].items())
    lines = [
        f"{info['file']}  {info['size_bytes'] / 1e6:.2f} MB  (IR {info['ir_version']}; "
        f"opsets {opsets}; producer {info['producer'] or '?'})",
    ]
    for kind in ("inputs", "outputs"):
        for value in info[kind]:
            lines.append(
                f"{kind[:-1]:<15} {value['name']}  {value['type']} [{', '.join(value['shape'])}]"
            )
    if info["trees"]:
        lines.append(f"{'trees':<15} {info['trees']:,}")
    if "metadata_error" in info:
        lines.append(f"metadata        INVALID: {info['metadata_error']}")
        return "\n".join(lines)
    meta = info["metadata"]
    features = meta["features"]
    shown = features if all_features else [*features[:3], "…", *features[-1:]]
    if len(features) <= 4:
        shown = features
    lines += [
        f"{'model name':<15} {meta['model_name'] or '-'}",
        f"{'tournament':<15} {meta['tournament']}",
        f"{'reads':<15} "
        + ("your own table (numerai.input own)" if meta["input"] == "own" else "Numerai's data"),
        f"{'data version':<15} {meta['data_version']}",
        f"{'target':<15} {meta['target']}",
        f"{'source':<15} {meta['source'] or '-'}",
        f"{'created at':<15} {meta['created_at'] or '-'}",
        f"{'features':<15} {len(features):,} ({', '.join(shown)})",
        *(
            [f"{'string inputs':<15} {', '.join(meta['string_features'])} (encoded in the graph)"]
            if meta["string_features"]
            else []
        ),
        f"{'libraries':<15} "
        + ", ".join(f"{name} {version}" for name, version in sorted(meta["libraries"].items())),
        f"{'parity':<15} {_parity_line(meta['parity'])}",
    ]
    if meta["validation"]:
        lines.append(f"{'validation':<15} {json.dumps(meta['validation'], sort_keys=True)}")
    return "\n".join(lines)


def _parity_line(parity: dict[str, Any]) -> str:
    if not parity:
        return "not recorded"
    verdict = "PASSED" if parity.get("ok") else "FAILED"
    if parity.get("overridden"):
        verdict += " (exported anyway: --allow-parity-failure)"
    threads = parity.get("threads")
    return (
        f"{verdict} on {parity.get('rows', 0):,} rows: {parity.get('rows_reranked', '?')} "
        f"re-ranked, Spearman {parity.get('spearman', float('nan')):.15f}, max abs diff "
        f"{parity.get('max_abs_diff', float('nan')):.2e}"
        + (f", onnxruntime threads {threads}" if threads else "")
    )


def _signature(value: onnx.ValueInfoProto) -> dict[str, Any]:
    tensor = value.type.tensor_type
    shape = [
        dim.dim_param or str(dim.dim_value) if (dim.dim_param or dim.dim_value) else "?"
        for dim in tensor.shape.dim
    ]
    element = _ELEMENT_TYPES.get(tensor.elem_type, onnx.TensorProto.DataType.Name(tensor.elem_type))
    return {"name": value.name, "type": element, "shape": shape}


def _tree_count(model: onnx.ModelProto) -> int:
    total = 0
    for node in model.graph.node:
        if node.domain == fmt.ML_DOMAIN and node.op_type == "TreeEnsemble":
            for attribute in node.attribute:
                if attribute.name == "tree_roots":
                    total += len(attribute.ints)
            if node.name.endswith(BASE_COLUMN_NODE):  # column 0 holds the base score
                total -= 1
    return total


def _jsonable(metadata: ModelMetadata) -> dict[str, Any]:
    return {
        "features": list(metadata.features),
        "data_version": metadata.data_version,
        "tournament": metadata.tournament,
        "input": metadata.input,
        "string_features": list(metadata.string_features),
        "target": metadata.target,
        "model_name": metadata.model_name,
        "source": metadata.source,
        "created_at": metadata.created_at,
        "libraries": dict(metadata.libraries),
        "parity": dict(metadata.parity),
        "validation": dict(metadata.validation),
    }
