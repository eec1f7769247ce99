"""Rows re-ranked, native vs ONNX, for the Signals and Crypto example models (not a unit test).

Writes synthetic Signals and Crypto data (``standins.synthetic_tournaments``: float features
with 5 % NaN, Signals' two string columns), trains each example model through
``python -m model_export.cli train --tournament …`` (2,000 trees, depth 5, 31 leaves, colsample
0.1), then compares the file with the native pipeline on the live file and on a NaN-heavy copy
of it (40 % of the numeric values and 10 % of the strings missing, 20 rows with no number at
all), for onnxruntime 1, 2 and 4 threads; and, for comparison, the same trees behind a float32
input (not what the exporter writes). Run: ``python -m benchmarks.export.tournament_parity``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from model_export.cli.program import main as model_export
from model_export.converters.libraries import wrap
from model_export.data import read_sample
from model_export.export import export_model
from model_export.metadata import read_metadata
from model_export.parity import check_parity
from model_export.string_features import StringEncoding, full_matrix, sidecar_path
from standins import synthetic_tournaments as synthetic

THREADS = (1, 2, 4)
CASES = (
    ("Signals, string features encoded", synthetic.SIGNALS, ["--string-features", "encode"]),
    ("Signals, string features dropped", synthetic.SIGNALS, ["--string-features", "drop"]),
    ("Crypto", synthetic.CRYPTO, []),
)


def write_data(root: Path, ids: dict[str, int], train_eras: int) -> None:
    """Both tournaments' synthetic versions under ``root`` (live files at their full size)."""
    for shape in (synthetic.SIGNALS, synthetic.CRYPTO):
        synthetic.write_dataset(
            root, shape, ids_per_era=ids[shape.tournament], train_eras=train_eras
        )


def nan_heavy(live: Path, out: Path, seed: int = 0) -> Path:
    """A copy of ``live`` with most values missing (same folder layout, for the version)."""
    frame = pd.read_parquet(live)
    rng = np.random.default_rng(seed)
    strings = [c for c in synthetic.STRING_FEATURES if c in frame.columns]
    numeric = [c for c in frame.columns if c.startswith("feature_") and c not in strings]
    values = frame[numeric].to_numpy(np.float64, copy=True)
    values[rng.random(values.shape) < 0.4] = np.nan
    values[:20] = np.nan
    frame[numeric] = values
    for column in strings:
        frame.loc[rng.random(len(frame)) < 0.1, column] = None
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out, index=False)
    return out


def measure(onnx_file: Path, native_file: Path, data: Path) -> dict[str, Any]:
    """Worst rows re-ranked and max abs diff over :data:`THREADS`, plus the float32 variant."""
    meta = read_metadata(onnx_file)
    strings = list(meta.string_features)
    table = read_sample(data, meta.features, rows=None, string_columns=strings, dtype=np.float64)
    booster = lgb.Booster(model_file=str(native_file))
    encoding = StringEncoding.load(sidecar_path(native_file), strings) if strings else None
    matrix = table.matrix
    if encoding is not None and table.strings is not None:
        codes = encoding.encode(table.strings, strings)
        matrix = full_matrix(table.matrix, codes, meta.features, strings)
    native = booster.predict(matrix)
    report = check_parity(
        str(onnx_file), table.matrix, native, thread_counts=THREADS, strings=table.strings
    )
    narrow = export_model(
        wrap(booster),
        table.matrix,
        data_version=meta.data_version,
        feature_names=meta.features,
        input_type="float32",
        thread_counts=(1,),
        allow_parity_failure=True,
        strings=table.strings,
        string_encoding=encoding,
    ).report
    return {
        "rows": report.rows,
        "rows_reranked": report.rows_reranked,
        "by_threads": report.detail["rows_reranked_by_threads"],
        "max_abs_diff": report.max_abs_diff,
        "float32_rows_reranked": narrow.rows_reranked,
        "float32_max_abs_diff": narrow.max_abs_diff,
    }


def run(
    trees: int = 2000,
    root: Path | None = None,
    ids: dict[str, int] | None = None,
    train_eras: int = 100,
) -> list[dict[str, Any]]:
    """Write the data, train every case, measure; one dict of figures per case."""
    root = root or Path(tempfile.mkdtemp(prefix="tournament_parity_"))
    write_data(root, ids or {"signals": 1000, "crypto": 300}, train_eras)
    results = []
    for label, shape, extra in CASES:
        name = label.split(",")[0].lower() + ("_drop" if "drop" in extra else "")
        onnx_file, native_file = root / f"{name}.onnx", root / f"{name}.txt"
        argv = ["train", "--tournament", shape.tournament, "--data-dir", str(root)]
        argv += ["--n-estimators", str(trees), "-o", str(onnx_file)]
        argv += ["--save-native", str(native_file), "--quiet", *extra]
        started = time.perf_counter()
        if model_export(argv) != 0:
            raise SystemExit(f"training {label} failed")
        seconds = time.perf_counter() - started
        live = root / shape.folder / "live.parquet"
        heavy = nan_heavy(live, root / "nan_heavy" / shape.folder / "live.parquet")
        results.append(
            {
                "case": label,
                "trees": trees,
                "features": len(read_metadata(onnx_file).features),
                "train_and_export_s": round(seconds, 1),
                "mb": round(onnx_file.stat().st_size / 1e6, 2),
                "live": measure(onnx_file, native_file, live),
                "nan_heavy": measure(onnx_file, native_file, heavy),
            }
        )
    return results


def render(results: list[dict[str, Any]]) -> str:
    """A markdown table of the figures."""
    lines = [
        "| model | data | rows | rows re-ranked (threads 1/2/4) | max abs diff "
        "| float32 input: rows re-ranked, max abs diff |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        for data in ("live", "nan_heavy"):
            f = result[data]
            lines.append(
                f"| {result['case']} ({result['trees']} trees, {result['features']} features) "
                f"| {data.replace('_', '-')} | {f['rows']:,} "
                f"| {'/'.join(map(str, f['by_threads']))} | {f['max_abs_diff']:.1e} "
                f"| {f['float32_rows_reranked']}, {f['float32_max_abs_diff']:.1e} |"
            )
    times = ", ".join(f"{r['case']} {r['train_and_export_s']} s / {r['mb']} MB" for r in results)
    return "\n".join(lines) + f"\n\ntrain + export + parity, file size: {times}"


def cli(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.export.tournament_parity [--trees N] [--root DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trees", type=int, default=2000)
    parser.add_argument("--root", type=Path, help="where to write data and models [a temp dir]")
    parser.add_argument("--train-eras", type=int, default=100)
    args = parser.parse_args(argv)
    print(render(run(args.trees, args.root, train_eras=args.train_eras)))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
