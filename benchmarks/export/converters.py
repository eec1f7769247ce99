"""One-off measurement of every converter on a Numerai-shaped case (not a unit test).

Synthetic Numerai-like data with 780 features (int 0–4, a few NaN), 6,720 live rows. For each
converter: export time, file size, parity against the native library (max abs diff, Spearman,
rows re-ranked: the worst over onnxruntime 1, 2 and 4 threads) and predict times. Also the
variants the converters avoid, to show why (XGBoost summed in double, CatBoost's own float32
ONNX, skl2onnx's float32 Ridge), and an ensemble of the tree models.

Run: ``python -m benchmarks.export.converters [--trees 2000] [--train-rows 30000]``.
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

import numpy as np
import pandas as pd

from model_export.converters.graph_edit import conform
from model_export.converters.libraries import NativeModel, wrap
from model_export.ensemble import Member, build_ensemble, reference_predictions
from model_export.export import export_model
from model_export.parity import check_parity, compare_predictions, onnx_predictions, onnx_session
from model_export.train import TrainingData, train_booster
from standins.synthetic_data import LIVE_ROWS, make_frame, make_universe

N_FEATURES = 780
THREADS = (1, 2, 4)


def _median_seconds(run: Callable[[], Any], repeats: int = 3) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def _row(name: str, report: Any, **extra: Any) -> dict[str, Any]:
    return {
        "converter": name,
        "max_abs_diff": report.max_abs_diff,
        "spearman": report.spearman,
        "rows_reranked": report.rows_reranked,
        **extra,
    }


def _measure(
    name: str, native: NativeModel, live: np.ndarray, features: list[str], **kwargs: Any
) -> tuple[dict[str, Any], bytes]:
    start = time.perf_counter()
    result = export_model(
        native, live, data_version="v5.2", feature_names=features, thread_counts=THREADS,
        allow_parity_failure=True, **kwargs,
    )  # fmt: skip
    total = time.perf_counter() - start
    payload = result.model.SerializeToString()
    session = onnx_session(payload)
    iterations = result.num_iteration
    row = _row(
        name,
        result.report,
        export_s=result.seconds["convert"],
        export_and_check_s=total,
        mb=len(payload) / 1e6,
        onnx_ms=1e3 * _median_seconds(lambda: session.run(None, {"features": live})),
        native_ms=1e3 * _median_seconds(lambda: native.predict(live, features, iterations)),
    )
    return row, payload


def run(trees: int = 2000, train_rows: int = 30_000, seed: int = 0) -> list[dict[str, Any]]:
    """Train each library on the same data, export, measure; returns one dict per row."""
    import catboost
    import xgboost as xgb
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge

    universe = make_universe(seed=seed, n_features=N_FEATURES)
    features = list(universe.features)
    rng = np.random.default_rng([seed, 1])
    eras = [f"{i:04d}" for i in range(1, 121)]
    train = make_frame(universe, train_rows, rng, eras, "train", with_targets=True)
    live_frame = make_frame(universe, LIVE_ROWS, rng, ["X"], "live", with_targets=False)
    x = train[features].to_numpy(dtype=np.float32, na_value=np.nan)
    y = train["target"].to_numpy(np.float32)
    live = live_frame[features].to_numpy(dtype=np.float32, na_value=np.nan)
    frame = pd.DataFrame(x, columns=features)
    rows: list[dict[str, Any]] = []
    models: dict[str, bytes] = {}

    def timed(label: str, fit: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        model = fit()
        print(f"[bench] trained {label} in {time.perf_counter() - start:.0f} s", flush=True)
        return model

    data = TrainingData(x, y, train["era"].to_numpy(), tuple(features), "target")
    booster = timed("lightgbm", lambda: train_booster(data, {"n_estimators": trees}))
    row, models["lightgbm"] = _measure(f"LightGBM {trees} trees", wrap(booster), live, features)
    rows.append(row)

    xgb_model = timed(
        "xgboost",
        lambda: xgb.XGBRegressor(
            n_estimators=trees, max_depth=5, learning_rate=0.01, colsample_bytree=0.1
        ).fit(frame, y),
    )
    row, models["xgboost"] = _measure(f"XGBoost {trees} trees", wrap(xgb_model), live, features)
    rows.append(row)
    double = export_model(
        wrap(xgb_model), live, data_version="v5.2", precision="double", thread_counts=THREADS,
        allow_parity_failure=True,
    )  # fmt: skip
    rows.append(_row("  XGBoost summed in double (avoided)", double.report))

    cb_model = timed(
        "catboost",
        lambda: catboost.CatBoostRegressor(
            iterations=trees,
            depth=5,
            learning_rate=0.01,
            rsm=0.1,
            verbose=0,
            allow_writing_files=False,
        ).fit(frame, y),
    )
    row, models["catboost"] = _measure(f"CatBoost {trees} trees", wrap(cb_model), live, features)
    rows.append(row)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cb.onnx"
        cb_model.save_model(str(path), format="onnx")
        import onnx

        own = conform(onnx.load(str(path)), "float32").SerializeToString()
    native = cb_model.predict(live, prediction_type="RawFormulaVal")
    worst = [compare_predictions(native, onnx_predictions(own, live, t)) for t in THREADS]
    rows.append(_row("  CatBoost's own ONNX, float32 (avoided)", max(worst, key=_rank_key)))

    hgb = timed(
        "histgradientboosting",
        lambda: HistGradientBoostingRegressor(
            max_iter=trees // 4, max_depth=5, learning_rate=0.05, early_stopping=False
        ).fit(frame, y),
    )
    row, models["hgb"] = _measure(
        f"sklearn HistGradientBoosting {trees // 4} trees", wrap(hgb), live, features
    )
    rows.append(row)

    filled = np.nan_to_num(live, nan=2.0)
    ridge = Ridge(alpha=1.0).fit(np.nan_to_num(x, nan=2.0).astype(np.float64), y)
    row, models["ridge"] = _measure("sklearn Ridge (double)", wrap(ridge), filled, features)
    rows.append(row)
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    raw = convert_sklearn(ridge, initial_types=[("X", FloatTensorType([None, N_FEATURES]))])
    as_float = conform(raw, "float32").SerializeToString()
    expected = ridge.predict(filled.astype(np.float64))
    worst = [compare_predictions(expected, onnx_predictions(as_float, filled, t)) for t in THREADS]
    rows.append(_row("  skl2onnx Ridge in float32 (avoided)", max(worst, key=_rank_key)))

    rows.append(_ensemble_row(models, live, features))
    return rows


def _rank_key(report: Any) -> tuple[int, float]:
    return report.rows_reranked, report.max_abs_diff


def _ensemble_row(models: dict[str, bytes], live: np.ndarray, features: list[str]) -> dict:
    import onnx

    from model_export.metadata import read_metadata

    members = []
    with tempfile.TemporaryDirectory() as folder:
        for name in ("lightgbm", "xgboost", "catboost"):
            path = Path(folder) / f"{name}.onnx"
            path.write_bytes(models[name])
            members.append(Member(onnx.load(str(path)), read_metadata(path), 1 / 3, name))
    start = time.perf_counter()
    model, order = build_ensemble(members, rank_before_average=True)
    build_s = time.perf_counter() - start
    payload = model.SerializeToString()
    expected = reference_predictions(members, order, live, rank_before_average=True)
    report = check_parity(payload, live, expected, thread_counts=THREADS)
    session = onnx_session(payload)
    return _row(
        "Ensemble LGB+XGB+CB, rank before average",
        report,
        export_s=build_s,
        mb=len(payload) / 1e6,
        onnx_ms=1e3 * _median_seconds(lambda: session.run(None, {"features": live})),
    )


def render(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the rows."""
    header = (
        "| converter | max abs diff | Spearman | rows re-ranked | export s | export+check s "
        "| file MB | ORT ms | native ms |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for row in rows:
        cell = _cells(row)
        lines.append(
            f"| {row['converter']} | {row['max_abs_diff']:.2e} | {row['spearman']:.15f} | "
            f"{row['rows_reranked']} | {cell('export_s', '.2f')} | "
            f"{cell('export_and_check_s', '.1f')} | {cell('mb', '.2f')} | "
            f"{cell('onnx_ms', '.0f')} | {cell('native_ms', '.0f')} |"
        )
    lines.append(
        f"\n{LIVE_ROWS:,} live rows x {N_FEATURES} features; rows re-ranked = worst of "
        f"onnxruntime threads {list(THREADS)}; cpu_count {os.cpu_count()}; times are medians."
    )
    return "\n".join(lines)


def _cells(row: dict[str, Any]) -> Callable[[str, str], str]:
    def cell(key: str, fmt: str) -> str:
        return format(row[key], fmt) if key in row else "–"

    return cell


def main() -> None:
    """Command-line entry: run once and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=2000)
    parser.add_argument("--train-rows", type=int, default=30_000)
    args = parser.parse_args()
    print(render(run(args.trees, args.train_rows)))


if __name__ == "__main__":
    main()
