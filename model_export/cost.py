"""What a model costs the worker, measured at publish time and stored in its models.json entry.

Why: the worker forms its fan-out shards by predicted cost, and ``numerai-bot plan`` sizes
the Lambda from it, without opening any model. The entry's ``cost`` is::

    {"trees": 2000, "predict_seconds_per_1k_rows": 0.052, "session_seconds": 0.071,
     "measured_on": "2cpu"}

measured the worker's way: ``numerai_bot.inference.load_model`` (intra-op threads = the
machine's CPUs), then ``predict`` on a synthetic matrix of the model's width fed in the
worker's batches (int8 values 0-4; Signals and Crypto get 5 % missing values; string inputs
get country codes), median of 3 of each.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from numerai_bot.inference import LoadedModel, load_model
from numerai_bot.live_data import MISSING, FeatureMatrix

ROWS = 2000
REPEATS = 3
MISSING_SHARE = 0.05  # Signals and Crypto features have gaps; Classic's have none
STRING_VALUES = np.array(["US", "JP", "GB", "DE", "XNYS", "XNAS", ""], dtype=object)
COST_KEYS = ("trees", "predict_seconds_per_1k_rows", "session_seconds", "measured_on")


def measure_cost(
    data: bytes, rows: int = ROWS, repeats: int = REPEATS, seed: int = 0
) -> dict[str, Any]:
    """The ``cost`` entry for the ONNX file ``data`` (raises what ``load_model`` raises)."""
    sessions: list[LoadedModel] = []
    session_seconds = _median(lambda: sessions.append(load_model("cost.onnx", "1", data)), repeats)
    model = sessions[-1]
    del sessions[:-1]
    matrix, strings = synthetic_inputs(model, rows, seed)
    predict_seconds = _median(lambda: model.predict(matrix, strings), repeats)
    return {
        "trees": count_trees(data),
        "predict_seconds_per_1k_rows": round(predict_seconds / rows * 1000, 5),
        "session_seconds": round(session_seconds, 5),
        "measured_on": f"{os.cpu_count() or 1}cpu",
    }


def synthetic_inputs(
    model: LoadedModel, rows: int = ROWS, seed: int = 0
) -> tuple[FeatureMatrix, np.ndarray | None]:
    """A live-like int8 matrix of the model's numeric width, and its string columns if any."""
    rng = np.random.default_rng(seed)
    width = len(model.metadata.numeric_features)
    values = rng.integers(0, 5, size=(rows, width), dtype=np.int8)
    gaps = model.metadata.tournament != "classic"
    if gaps:
        values[rng.random(values.shape) < MISSING_SHARE] = MISSING
    strings = None
    if model.string_input is not None:
        picks = rng.integers(
            0, len(STRING_VALUES), size=(rows, len(model.metadata.string_features))
        )
        strings = STRING_VALUES[picks]
    return FeatureMatrix(values, gaps), strings


def count_trees(data: bytes) -> int:
    """Trees in the graph's tree-ensemble nodes (0 for other models, or without ``onnx``)."""
    try:
        import onnx

        from model_export.converters.tree_graph import BASE_COLUMN_NODE
    except ImportError:
        return 0
    total = 0
    for node in onnx.load_from_string(data).graph.node:
        if node.op_type == "TreeEnsemble":
            roots = next((len(a.ints) for a in node.attribute if a.name == "tree_roots"), 0)
            total += roots - (1 if node.name.endswith(BASE_COLUMN_NODE) else 0)
        elif node.op_type.startswith("TreeEnsemble"):  # Regressor / Classifier (older opset)
            ids = next((a.ints for a in node.attribute if a.name == "nodes_treeids"), [])
            total += len(set(ids))
    return total


def valid_cost(value: Any) -> bool:
    """Whether ``value`` is a ``cost`` entry as :func:`measure_cost` writes it."""
    if not isinstance(value, dict) or not all(k in value for k in COST_KEYS):
        return False
    numbers = (value["predict_seconds_per_1k_rows"], value["session_seconds"])
    return (
        isinstance(value["trees"], int)
        and all(isinstance(n, int | float) and not isinstance(n, bool) and n >= 0 for n in numbers)
        and isinstance(value["measured_on"], str)
    )


def _median(run: Callable[[], Any], repeats: int) -> float:
    timings = []
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)
