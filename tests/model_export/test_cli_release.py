"""The CLI end to end: export of every kind, check, ensemble, validate, publish and rollback."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest

from model_export.cli.program import main
from model_export.metadata import read_metadata, write_metadata

xgb = pytest.importorskip("xgboost")
catboost = pytest.importorskip("catboost")
linear = pytest.importorskip("sklearn.linear_model")

QUIET = ["--quiet", "--parity-rows", "600"]


@pytest.fixture(scope="module")
def version_dir(data_root: Path) -> Path:
    return data_root / "v5.2"


@pytest.fixture(scope="module")
def train_frame(version_dir: Path) -> tuple[pd.DataFrame, list[str]]:
    features = json.loads((version_dir / "features.json").read_text())["feature_sets"]["small"]
    frame = pd.read_parquet(version_dir / "train.parquet", columns=[*features, "target", "era"])
    return frame, features


@pytest.fixture(scope="module")
def files(train_frame, version_dir, tmp_path_factory) -> dict[str, Path]:
    """Native models of three kinds saved the way users save them, and a trained LightGBM."""
    folder = tmp_path_factory.mktemp("native")
    frame, features = train_frame
    x, y = frame[features].astype("float32"), frame["target"]
    xgb.XGBRegressor(n_estimators=20, max_depth=3, n_jobs=1).fit(x, y).save_model(
        str(folder / "model.json")
    )
    catboost.CatBoostRegressor(
        iterations=20, depth=4, verbose=0, thread_count=1, allow_writing_files=False
    ).fit(x, y).save_model(str(folder / "model.cbm"))
    (folder / "ridge.pkl").write_bytes(pickle.dumps(linear.Ridge().fit(x.fillna(2.0), y)))
    code = main(
        [
            "train", "--data-dir", str(version_dir.parent), "--n-estimators", "20",
            "--name", "lgb", "-o", str(folder / "lgb.onnx"),
            "--save-native", str(folder / "lgb.txt"), *QUIET,
        ]
    )  # fmt: skip
    assert code == 0
    return {
        "xgboost": folder / "model.json",
        "catboost": folder / "model.cbm",
        "sklearn": folder / "ridge.pkl",
        "lgb_onnx": folder / "lgb.onnx",
        "lgb_native": folder / "lgb.txt",
    }


@pytest.mark.parametrize("kind", ["xgboost", "catboost"])
def test_export_detects_the_kind(files, version_dir, tmp_path, kind, capsys) -> None:
    out = tmp_path / f"{kind}.onnx"
    argv = ["export", str(files[kind]), "--data", str(version_dir / "live.parquet")]
    assert main([*argv, "-o", str(out), "--name", kind, *QUIET]) == 0
    meta = read_metadata(out)
    assert meta.source == kind and meta.parity["ok"] and meta.parity["rows_reranked"] == 0
    assert f"{kind}, 20 trees" in capsys.readouterr().out
    # check against the native file: passes
    live = str(version_dir / "live.parquet")
    assert main(["check", str(out), str(files[kind]), "--data", live, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["describe", str(out)]) == 0
    described = capsys.readouterr().out
    assert "trees           20" in described and f"source          {kind}" in described


def test_export_sklearn_pickle(files, version_dir, tmp_path, capsys) -> None:
    out = tmp_path / "ridge.onnx"
    code = main(
        [
            "export", str(files["sklearn"]), "--kind", "sklearn",
            "--data", str(version_dir / "validation.parquet"), "-o", str(out), *QUIET,
        ]
    )  # fmt: skip
    # Ridge was fitted on a NaN-filled frame and refuses the NaN in these rows: a clear error.
    assert code == 2 and "cannot predict the parity rows" in capsys.readouterr().err
    clean = tmp_path / "clean.parquet"
    frame = pd.read_parquet(version_dir / "validation.parquet").fillna(2.0)
    frame.to_parquet(clean)
    code = main(
        [
            "export", str(files["sklearn"]), "--data", str(clean), "--data-version", "v5.2",
            "-o", str(out), *QUIET,
        ]
    )  # fmt: skip
    assert code == 0 and read_metadata(out).source == "sklearn"


def test_refused_export_writes_nothing(files, version_dir, tmp_path, capsys) -> None:
    out = tmp_path / "float.onnx"
    argv = ["export", str(files["lgb_native"]), "--data", str(version_dir / "validation.parquet")]
    code = main([*argv, "--precision", "float32", "-o", str(out), "--quiet", "--parity-rows", "0"])
    assert code == 1 and not out.exists()
    assert "Export refused" in capsys.readouterr().err


def test_ensemble_validate_publish_rollback(files, version_dir, tmp_path, capsys) -> None:
    xgb_onnx = tmp_path / "xgb.onnx"
    live = str(version_dir / "live.parquet")
    assert main(["export", str(files["xgboost"]), "--data", live, "-o", str(xgb_onnx), *QUIET]) == 0
    blend = tmp_path / "blend.onnx"
    code = main(
        [
            "ensemble", str(files["lgb_onnx"]), str(xgb_onnx), "--weights", "0.7,0.3",
            "--rank-before-average", "-o", str(blend), "--name", "blend", "--quiet",
        ]
    )  # fmt: skip
    assert code == 0 and "PASSED" in capsys.readouterr().out
    assert read_metadata(blend).validation["ensemble"]["rank_before_average"] is True

    validation = str(version_dir / "validation.parquet")
    plot = tmp_path / "plot.png"
    code = main(["validate", str(blend), "--data", validation, "--plot", str(plot), "--record"])
    assert code == 0
    out = capsys.readouterr().out
    assert "CORR (numerai_corr)" in out and "max drawdown" in out and "WARNING" not in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    figures = read_metadata(blend).validation["numerai_corr"]
    assert figures["eras"] == 8 and figures["corr_mean"] > 0.0  # the synthetic signal

    store = tmp_path / "store"
    base = ["--model", "my_model", "--store", str(store)]
    assert main(["publish", str(files["lgb_onnx"]), *base]) == 0
    assert main(["publish", str(blend), *base, "--transform", "rank"]) == 0
    assert "Previous file kept" in capsys.readouterr().out
    assert (store / "my_model.onnx").read_bytes() == blend.read_bytes()
    assert main(["rollback", *base]) == 0
    assert (store / "my_model.onnx").read_bytes() == files["lgb_onnx"].read_bytes()
    assert main(["rollback", *base]) == 2
    assert "nothing to roll back" in capsys.readouterr().err


def test_validate_warns_on_training_overlap(files, version_dir, tmp_path, capsys) -> None:
    model = onnx.load(str(files["lgb_onnx"]))
    meta = read_metadata(files["lgb_onnx"])
    assert meta.validation["train_eras"] == ["0001", "0037"]  # recorded by `train`
    overlapping = {**meta.validation, "train_eras": ["0001", "0045"]}
    write_metadata(model, type(meta)(**{**meta.__dict__, "validation": overlapping}))
    path = tmp_path / "overlap.onnx"
    onnx.save(model, str(path))
    argv = ["validate", str(path), "--data", str(version_dir / "validation.parquet"), "--no-plot"]
    assert main([*argv, "--quiet"]) == 0
    assert "WARNING: 5 of 8 validation eras (0041 … 0045)" in capsys.readouterr().out


def test_publish_refuses_overridden_parity(files, tmp_path, capsys) -> None:
    model = onnx.load(str(files["lgb_onnx"]))
    meta = read_metadata(files["lgb_onnx"])
    failed = {**meta.parity, "ok": False, "overridden": True}
    write_metadata(model, type(meta)(**{**meta.__dict__, "parity": failed}))
    path = tmp_path / "failed.onnx"
    onnx.save(model, str(path))
    argv = ["publish", str(path), "--model", "m", "--store", str(tmp_path / "s")]
    assert main(argv) == 2 and "--allow-failed-parity" in capsys.readouterr().err
    assert main([*argv, "--allow-failed-parity"]) == 0


def test_validation_rows_are_read_per_era(files, version_dir) -> None:
    """The in-graph rank of an ensemble needs one era per call: validate does that."""
    from model_export.validate import validate_file

    result = validate_file(files["lgb_onnx"], version_dir / "validation.parquet", max_eras=3)
    assert result.eras == ["0046", "0047", "0048"] and len(result.scores) == 3
    assert np.isfinite(result.summary.sharpe)
