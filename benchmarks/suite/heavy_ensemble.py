"""The heavy case: K copies of the example model's 2,000 trees as one ONNX ensemble file.

Why copies with their columns shuffled: training ten 2,000-tree models on every feature
takes a quarter of an hour here, and what a tree costs to build and run depends on its shape
(depth 5, 31 leaves), not on which columns it reads. Copy k reads the same trees from a
fixed random permutation of the feature columns (its metadata lists its features in that
order), so the K members are K different models of the same size; ``model_export``'s
ensemble puts them side by side in one graph (their trees read one shared copy of the input,
then a weighted Sum) and checks the file against the members' summed outputs. Cached next to
the example model, per version of the ensemble code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.suite.models import ModelFiles

CHECK_ROWS = 300


def heavy_ensemble(base: ModelFiles, members: int, log=print) -> Path:
    """The cached ``members`` × 2,000-tree ensemble of ``base`` (one member: ``base``)."""
    if members == 1:
        return base.onnx
    folder = base.onnx.parent / f"ensemble-x{members}-{_ensemble_code()}"
    if not (folder / "model.onnx").is_file():
        log(f"building the {members}-member ensemble ({members * base.info['trees']:,} trees)")
        _build_into(base, members, folder)
    return folder / "model.onnx"


def _ensemble_code() -> str:
    """A short hash of model_export's ensemble code: a changed graph layout is rebuilt."""
    import model_export.ensemble

    return hashlib.sha256(Path(model_export.ensemble.__file__).read_bytes()).hexdigest()[:8]


def _build_into(base: ModelFiles, members: int, folder: Path) -> None:
    import onnx

    from model_export.ensemble import ensemble_files
    from model_export.metadata import read_metadata, write_metadata

    scratch = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        metadata = read_metadata(base.onnx)
        paths = []
        for k in range(members):
            model = onnx.load(str(base.onnx))
            order = list(metadata.features)
            if k:
                order = list(np.random.default_rng([k, 14]).permutation(order))
            write_metadata(model, dataclasses.replace(metadata, features=tuple(order)))
            path = scratch / f"member{k}.onnx"
            onnx.save(model, str(path))
            paths.append(path)
        rng = np.random.default_rng(0)

        def check_rows(features: list[str]) -> np.ndarray:
            return rng.integers(0, 5, size=(CHECK_ROWS, len(features))).astype(np.float32)

        model, report = ensemble_files(
            paths,
            [1.0 / members] * members,
            check_rows,
            model_name=f"bench_ensemble_x{members}",
            thread_counts=(2,),
        )
        if not report.ok:
            raise RuntimeError(f"the bench ensemble failed its parity check: {report.figures()}")
        onnx.save(model, str(scratch / "model.onnx"))
        info = {"members": members, "trees": members * base.info["trees"]}
        (scratch / "info.json").write_text(json.dumps(info))
        for path in paths:
            path.unlink()
        if not folder.exists():
            scratch.rename(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
