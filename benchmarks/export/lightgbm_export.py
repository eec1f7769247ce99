"""One-off measurement of the exporter on a Numerai-sized case (not a unit test).

Trains Numerai's example model (2,000 trees, depth 5, 31 leaves, colsample 0.1) on synthetic
Numerai-shaped data with 780 features, then measures on 6,720 live rows: export time, file
size, onnxruntime vs native predict time (default threads and one thread, median of runs),
session creation, and rows re-ranked (double export per thread count, and the float32
variant for comparison). Run: ``python -m benchmarks.export.lightgbm_export [--trees N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from model_export.converters.lightgbm_onnx import booster_to_onnx
from model_export.parity import (
    LAMBDA_THREAD_COUNTS,
    check_parity,
    compare_predictions,
    onnx_predictions,
    onnx_session,
)
from model_export.train import TrainingData, train_booster
from standins.synthetic_data import LIVE_ROWS, make_frame, make_universe

N_FEATURES = 780


def _median_seconds(run: Callable[[], Any], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def _frame_matrix(frame: Any, features: list[str]) -> np.ndarray:
    return frame[features].to_numpy(dtype=np.float32, na_value=np.nan)


def run(
    trees: int = 2000,
    train_rows: int = 30_000,
    repeats: int = 5,
    model_cache: Path | None = None,
) -> dict[str, Any]:
    """Train (or load ``model_cache`` when it exists), export and measure; returns the figures.

    ``model_cache`` keeps the trained model between runs, to re-measure on a quieter machine.
    """
    universe = make_universe(seed=0, n_features=N_FEATURES)
    features = list(universe.features)
    rng = np.random.default_rng([0, 1])
    eras = [f"{i:04d}" for i in range(1, 121)]
    train = make_frame(universe, train_rows, rng, eras, "train", with_targets=True)
    live = make_frame(universe, LIVE_ROWS, rng, ["X"], "live", with_targets=False)
    data = TrainingData(
        matrix=_frame_matrix(train, features),
        target=train["target"].to_numpy(np.float32),
        eras=train["era"].to_numpy(),
        features=tuple(features),
        target_name="target",
    )
    matrix = _frame_matrix(live, features)
    figures: dict[str, Any] = {"live_rows": matrix.shape[0], "features": N_FEATURES}

    start = time.perf_counter()
    if model_cache is not None and model_cache.is_file():
        booster = lgb.Booster(model_file=str(model_cache))
    else:
        booster = train_booster(data, {"n_estimators": trees}, progress=True)
        if model_cache is not None:
            booster.save_model(str(model_cache))
    figures["train_s"] = time.perf_counter() - start
    figures["trees"] = booster.num_trees()

    start = time.perf_counter()
    model = booster_to_onnx(booster)
    payload = model.SerializeToString()
    figures["export_s"] = time.perf_counter() - start
    figures["onnx_bytes"] = len(payload)
    with tempfile.TemporaryDirectory() as folder:
        text_path = Path(folder) / "model.txt"
        booster.save_model(str(text_path))
        figures["lightgbm_text_bytes"] = text_path.stat().st_size

    start = time.perf_counter()
    session = onnx_session(payload)
    figures["session_create_s"] = time.perf_counter() - start
    one_thread = onnx_session(payload, threads=1)
    feed = {"features": matrix}
    figures["onnx_predict_s"] = _median_seconds(lambda: session.run(None, feed), repeats)
    figures["onnx_predict_1thread_s"] = _median_seconds(lambda: one_thread.run(None, feed), repeats)
    figures["native_predict_s"] = _median_seconds(lambda: booster.predict(matrix), repeats)
    figures["native_predict_1thread_s"] = _median_seconds(
        lambda: booster.predict(matrix, num_threads=1), repeats
    )

    native = booster.predict(matrix)
    start = time.perf_counter()
    report = check_parity(payload, matrix, native, thread_counts=LAMBDA_THREAD_COUNTS)
    figures["parity_check_s"] = time.perf_counter() - start
    figures["rows_reranked_by_threads"] = report.detail["rows_reranked_by_threads"]
    figures["max_abs_diff"] = report.max_abs_diff
    figures["spearman"] = report.spearman
    figures["bit_identical_1thread"] = bool(
        np.array_equal(onnx_predictions(payload, matrix, threads=1), native)
    )
    float_model = booster_to_onnx(booster, precision="float32").SerializeToString()
    float_report = compare_predictions(native, onnx_predictions(float_model, matrix))
    figures["float32_rows_reranked"] = float_report.rows_reranked
    figures["float32_max_abs_diff"] = float_report.max_abs_diff
    return figures


def render(figures: dict[str, Any]) -> str:
    """The figures as an aligned text table."""
    rows = [
        ("case", f"{figures['live_rows']:,} rows x {figures['features']} features, "
                 f"{figures['trees']:,} trees (depth 5, 31 leaves), cpu_count {os.cpu_count()}"),
        ("training (or loading)", f"{figures['train_s']:.1f} s"),
        ("export (dump + graph)", f"{figures['export_s']:.2f} s"),
        ("ONNX file", f"{figures['onnx_bytes'] / 1e6:.2f} MB "
                      f"(LightGBM text {figures['lightgbm_text_bytes'] / 1e6:.2f} MB)"),
        ("session creation", f"{figures['session_create_s'] * 1e3:.0f} ms"),
        ("onnxruntime predict", f"{figures['onnx_predict_s'] * 1e3:.0f} ms default threads, "
                                f"{figures['onnx_predict_1thread_s'] * 1e3:.0f} ms 1 thread"),
        ("native predict", f"{figures['native_predict_s'] * 1e3:.0f} ms default threads, "
                           f"{figures['native_predict_1thread_s'] * 1e3:.0f} ms 1 thread"),
        ("rows re-ranked (double)", f"{figures['rows_reranked_by_threads']} for ORT threads "
                                    f"{list(LAMBDA_THREAD_COUNTS)}"),
        ("max abs diff / Spearman", f"{figures['max_abs_diff']:.2e} / {figures['spearman']!r}"),
        ("bit-identical, 1 thread", str(figures["bit_identical_1thread"])),
        ("parity check, 6 sessions", f"{figures['parity_check_s']:.2f} s"),
        ("float32 variant", f"{figures['float32_rows_reranked']} rows re-ranked, max abs diff "
                            f"{figures['float32_max_abs_diff']:.2e}"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main() -> None:
    """Command-line entry: run once and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=2000)
    parser.add_argument("--train-rows", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model-cache", type=Path, help="reuse/keep the trained model here")
    args = parser.parse_args()
    print(render(run(args.trees, args.train_rows, args.repeats, args.model_cache)))


if __name__ == "__main__":
    main()
