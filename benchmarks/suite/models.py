"""The benchmark's model: Numerai's example LightGBM (2,000 trees, depth 5), trained once.

Why cached: training 2,000 trees on the ``all`` feature set takes tens of seconds, and every
case reuses one model file under many model names. Files live under
``~/.cache/numerai-bot-bench/<key>/`` where the key hashes every parameter that changes the
model (and the library versions that change its files), so a rerun with the same parameters
trains nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from standins.synthetic_data import FEATURE_SET_SIZES, make_frame, make_universe

CACHE_ENV = "NUMERAI_BOT_BENCH_CACHE"
DEFAULT_CACHE = Path.home() / ".cache" / "numerai-bot-bench"
CACHE_FORMAT = 1
DATA_VERSION = "v5.2"
# The stand-in's universe: seed 0 and every feature, so names match its live file.
UNIVERSE_SEED = 0


@dataclass(frozen=True)
class ModelSpec:
    """Everything that determines the trained model (and so its cache key)."""

    feature_set: str
    trees: int = 2000
    max_depth: int = 5
    num_leaves: int = 31
    learning_rate: float = 0.01
    colsample_bytree: float = 0.1
    train_rows: int = 10_000
    seed: int = 1
    input_type: str = "float32"  # the ONNX graph's input (model_export --input-type)

    def key(self) -> str:
        """A short stable hash of the spec, the universe and the libraries writing the files."""
        import lightgbm
        import onnx

        fields = asdict(self)
        if self.input_type == "float32":  # keys of earlier caches stay valid
            fields.pop("input_type")
        payload = {
            **fields,
            "format": CACHE_FORMAT,
            "universe_seed": UNIVERSE_SEED,
            "n_features": FEATURE_SET_SIZES["all"],
            "lightgbm": lightgbm.__version__,
            "onnx": onnx.__version__,
        }
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
        suffix = "" if self.input_type == "float32" else f"-{self.input_type}"
        return f"{self.feature_set}-{self.trees}t-d{self.max_depth}{suffix}-{digest}"


@dataclass(frozen=True)
class ModelFiles:
    """One trained model in the three forms the benchmark needs."""

    onnx: Path  # the bot's artifact (exact double export, with metadata)
    native: Path  # LightGBM text model
    pickle: Path  # a pickled Booster: what users load today
    features: tuple[str, ...]
    info: dict

    @property
    def onnx_bytes(self) -> bytes:
        """The artifact's bytes, as published to the bucket."""
        return self.onnx.read_bytes()


def cache_root() -> Path:
    """``$NUMERAI_BOT_BENCH_CACHE`` or ``~/.cache/numerai-bot-bench``."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def example_model(spec: ModelSpec, root: Path | None = None, log=print) -> ModelFiles:
    """The cached model for ``spec``, training and exporting it first if needed.

    A float64-input variant re-exports the float32 variant's trees (no second training).
    """
    root = root or cache_root()
    folder = root / spec.key()
    if not (folder / "info.json").is_file():
        if spec.input_type != "float32":
            import lightgbm as lgb

            base = example_model(replace(spec, input_type="float32"), root, log)
            booster = lgb.Booster(model_file=str(base.native))
            train_seconds = float(base.info["train_seconds"])
        else:
            log(f"training the example model ({spec.trees} trees, {spec.feature_set}): {folder}")
            booster, train_seconds = _train(spec)
        _export_into(spec, booster, train_seconds, folder)
    info = json.loads((folder / "info.json").read_text())
    return ModelFiles(
        folder / "model.onnx",
        folder / "model.txt",
        folder / "model.pkl",
        tuple(info["features"]),
        info,
    )


def _features(feature_set: str) -> list[str]:
    universe = make_universe(UNIVERSE_SEED, FEATURE_SET_SIZES["all"])
    return list(universe.feature_sets[feature_set])


def _train(spec: ModelSpec) -> tuple[Any, float]:
    """Numerai's example model on synthetic rows of the stand-in's universe."""
    from model_export.train import TrainingData, train_booster

    universe = make_universe(UNIVERSE_SEED, FEATURE_SET_SIZES["all"])
    features = _features(spec.feature_set)
    rng = np.random.default_rng([spec.seed, 1])
    eras = [f"{i:04d}" for i in range(1, 121)]
    frame = make_frame(universe, spec.train_rows, rng, eras, "train", with_targets=True)
    data = TrainingData(
        matrix=frame[features].to_numpy(dtype=np.float32, na_value=np.nan),
        target=frame["target"].to_numpy(np.float32),
        eras=frame["era"].to_numpy(),
        features=tuple(features),
        target_name="target",
    )
    started = time.perf_counter()
    booster = train_booster(
        data,
        {
            "n_estimators": spec.trees,
            "max_depth": spec.max_depth,
            "num_leaves": spec.num_leaves,
            "learning_rate": spec.learning_rate,
            "colsample_bytree": spec.colsample_bytree,
            "seed": spec.seed,
        },
    )
    return booster, time.perf_counter() - started


def _export_into(spec: ModelSpec, booster: Any, train_seconds: float, folder: Path) -> None:
    """Export with the parity gate and move the files into place in one rename."""
    from model_export.export import export_lightgbm

    universe = make_universe(UNIVERSE_SEED, FEATURE_SET_SIZES["all"])
    features = _features(spec.feature_set)
    rng = np.random.default_rng([spec.seed, 2])
    check = make_frame(universe, 2000, rng, ["X"], "live", with_targets=False)
    check_matrix = check[features].to_numpy(dtype=np.float32, na_value=np.nan)
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        result = export_lightgbm(
            booster,
            check_matrix,
            data_version=DATA_VERSION,
            feature_names=features,
            model_name=f"bench_{spec.feature_set}",
            input_type=spec.input_type,  # type: ignore[arg-type]
            thread_counts=(1, os.cpu_count() or 1),
            output=scratch / "model.onnx",
        )
        booster.save_model(str(scratch / "model.txt"))
        with (scratch / "model.pkl").open("wb") as handle:
            pickle.dump(booster, handle, protocol=pickle.HIGHEST_PROTOCOL)
        info = {
            "spec": asdict(spec),
            "features": features,
            "train_seconds": round(train_seconds, 2),
            "trees": booster.num_trees(),
            "onnx_bytes": (scratch / "model.onnx").stat().st_size,
            "native_bytes": (scratch / "model.txt").stat().st_size,
            "pickle_bytes": (scratch / "model.pkl").stat().st_size,
            "rows_reranked": result.report.rows_reranked,
        }
        (scratch / "info.json").write_text(json.dumps(info))
        if folder.exists():  # another run finished first; keep its files
            return
        scratch.rename(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
