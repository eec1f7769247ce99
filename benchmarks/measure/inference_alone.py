"""Inference alone: onnxruntime as the worker configures it vs native LightGBM, same matrix.

Run in a fresh subprocess by :mod:`benchmarks.measure.child`. For each feature set it builds the
matrix the worker builds (``LiveData.features``: int8), then times each variant, median of
``repeats`` rounds after a warm-up, the variants interleaved: the worker's way
(``numerai_bot.inference.load_model``: intra-op threads = vCPUs, one inter-op thread,
onnxruntime's default graph optimisation, fed in batches of rows converted to the input
type), the whole dense matrix in one run, one thread, graph optimisation off, and
LightGBM's ``predict`` with all threads and with one, on the float32 matrix and on the
pandas frame users pass it. It also counts rows whose rank
differs between the two (must be 0 for the exact export).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def interleaved_medians(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median wall time of each callable: one warm-up each, then ``repeats`` rounds that call
    every one in turn (so a slow spell of the machine hits all of them alike)."""
    for run in runs.values():
        run()
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in timings.items()}


def timed(run: Callable[[], Any]) -> tuple[Any, float]:
    """``run()`` and its wall time."""
    started = time.perf_counter()
    value = run()
    return value, time.perf_counter() - started


def rows_reranked(a: np.ndarray, b: np.ndarray) -> int:
    """Rows whose ordinal rank differs between two prediction vectors."""
    return int(np.count_nonzero(np.argsort(np.argsort(a)) != np.argsort(np.argsort(b))))


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Figures per feature set: ``{feature_set: {name: seconds or count}}``."""
    import lightgbm as lgb
    import onnxruntime as ort
    import pandas as pd

    from numerai_bot.inference import load_model, session_options
    from numerai_bot.live_data import LiveData

    repeats = int(spec.get("repeats", 5))
    live_path = Path(spec["live_path"])
    out: dict[str, Any] = {"cpu_count": os.cpu_count(), "repeats": repeats}
    frame, read_pandas = timed(lambda: pd.read_parquet(live_path))
    for feature_set, files in spec["models"].items():
        data = Path(files["onnx"]).read_bytes()
        model, create = timed(lambda data=data: load_model("bench.onnx", "1", data))
        features = model.metadata.features
        live, open_live = timed(lambda: LiveData(live_path, 1, "v5.2"))
        _, preload = timed(lambda live=live, features=features: live.preload(features))
        matrix, build = timed(lambda live=live, features=features: live.features(features))
        dense = matrix.dense(model.input_dtype)
        native_matrix = matrix.dense(np.float32)
        one_thread = load_model("bench.onnx", "1", data, threads=1)
        no_opt_options = session_options()
        no_opt_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        no_opt = ort.InferenceSession(data, no_opt_options, providers=["CPUExecutionProvider"])
        no_opt_input = no_opt.get_inputs()[0].name
        booster, load_native = timed(lambda files=files: lgb.Booster(model_file=files["native"]))
        pandas_features = frame[list(features)]
        ours = model.predict(matrix)
        native = np.asarray(booster.predict(native_matrix), dtype=np.float64)
        medians = interleaved_medians(
            {
                "ort_s": lambda m=model, x=matrix: m.predict(x),
                "ort_whole_matrix_s": lambda m=model, x=dense: m.predict(x),
                "ort_1thread_s": lambda m=one_thread, x=matrix: m.predict(x),
                "ort_no_graph_opt_s": lambda s=no_opt, x=dense, i=no_opt_input: s.run(None, {i: x}),
                "native_s": lambda b=booster, x=native_matrix: b.predict(x),
                "native_1thread_s": lambda b=booster, x=native_matrix: b.predict(x, num_threads=1),
                "native_pandas_s": lambda b=booster, f=pandas_features: b.predict(f),
            },
            repeats,
        )
        options = model.session.get_session_options()
        out[feature_set] = {
            "rows": int(matrix.shape[0]),
            "features": len(features),
            "input": str(np.dtype(model.input_dtype)),
            "threads": options.intra_op_num_threads,
            "graph_optimization": str(options.graph_optimization_level),
            "read_pandas_whole_file_s": read_pandas,
            "live_open_s": open_live,
            "read_columns_s": preload,
            "matrix_s": build,
            "session_create_s": create,
            "native_load_s": load_native,
            **medians,
            "rows_reranked": rows_reranked(ours, native),
            "max_abs_diff": float(np.max(np.abs(ours - native))),
        }
    return out
