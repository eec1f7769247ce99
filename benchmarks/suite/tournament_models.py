"""Signals and Crypto example models for the benchmark, trained once and cached.

Each is what ``python -m model_export.cli train --tournament …`` writes (numerai-cli's example
LightGBM parameters, 2,000 trees; Signals' string features encoded inside the graph) on the
synthetic data of :mod:`standins.synthetic_tournaments` with the stand-in's seed and sizes, so
its feature names are those of the live files the stand-in serves. Cached like the Classic
model (:func:`benchmarks.suite.models.cache_root`), keyed by every parameter and the versions.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.suite.models import cache_root
from standins import synthetic_tournaments as synthetic

TRAIN_ERAS = 40  # the stand-in's defaults (standins.numerai.provided_data.TournamentSizes)
IDS_PER_ERA = 200
CACHE_FORMAT = 1


def _key(tournament: str, trees: int) -> str:
    import lightgbm
    import onnx

    shape = synthetic.SHAPES[tournament]
    payload = {
        "tournament": tournament,
        "trees": trees,
        "n_features": shape.n_features,
        "version": shape.version,
        "train_eras": TRAIN_ERAS,
        "ids_per_era": IDS_PER_ERA,
        "format": CACHE_FORMAT,
        "lightgbm": lightgbm.__version__,
        "onnx": onnx.__version__,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    return f"{tournament}-{trees}t-{digest}"


def tournament_model(
    tournament: str, trees: int = 2000, root: Path | None = None, log=print
) -> tuple[Path, dict[str, Any]]:
    """The cached ONNX file for ``tournament`` (``signals`` or ``crypto``) and its info."""
    folder = (root or cache_root()) / _key(tournament, trees)
    if not (folder / "info.json").is_file():
        log(f"training the {tournament} example model ({trees} trees): {folder}")
        _train_into(tournament, trees, folder)
    return folder / "model.onnx", json.loads((folder / "info.json").read_text())


def _train_into(tournament: str, trees: int, folder: Path) -> None:
    """Write the data, train and export through model_export's CLI, move into place."""
    import time

    from model_export.cli.program import main as model_export
    from model_export.metadata import read_metadata

    shape = synthetic.SHAPES[tournament]
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        data = scratch / "data"
        synthetic.write_dataset(data, shape, train_eras=TRAIN_ERAS, ids_per_era=IDS_PER_ERA)
        argv = ["train", "--tournament", tournament, "--data-dir", str(data)]
        argv += ["--n-estimators", str(trees), "-o", str(scratch / "model.onnx"), "--quiet"]
        started = time.perf_counter()
        if model_export(argv) != 0:
            raise RuntimeError(f"training the {tournament} bench model failed")
        metadata = read_metadata(scratch / "model.onnx")
        info = {
            "tournament": tournament,
            "trees": trees,
            "features": len(metadata.features),
            "string_features": list(metadata.string_features),
            "data_version": metadata.data_version,
            "train_seconds": round(time.perf_counter() - started, 1),
            "onnx_bytes": (scratch / "model.onnx").stat().st_size,
        }
        (scratch / "info.json").write_text(json.dumps(info))
        shutil.rmtree(data)
        if not folder.exists():
            scratch.rename(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
