"""Runs INSIDE a built Lambda tree, the way Lambda's python3.12 runtime would import it.

Started by tests/deploy/test_package.py as ``python3.12 -I -S in_tree_smoke.py TREE RUNTIME MODE
[ARGS]``: isolated (no environment variables, no site-packages, no script folder on sys.path),
then ``sys.path`` gets the tree first (Lambda's /var/task) and RUNTIME last (what the runtime
provides: boto3, botocore and their dependencies). Prints one JSON object on stdout.

Modes:
  imports             time the worker's heavy imports (a cold start's import phase)
  predict PARQUET ONNX CSV
                      read live data with pyarrow, run the ONNX model with onnxruntime,
                      rank and validate the submission with pandas, write the CSV
  core PARQUET ONNX   the same through the bot's own modules (numerai_bot.*)
  handler NAME        import the Lambda entry module NAME (worker or webhook)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

TREE, RUNTIME, MODE, *ARGS = sys.argv[1:]
sys.path.insert(0, TREE)
sys.path.append(RUNTIME)


def outside_modules() -> list[str]:
    """Modules loaded from anywhere but the tree, the runtime folder or the standard library."""
    allowed = tuple(os.path.abspath(p) + os.sep for p in (TREE, RUNTIME, sys.base_prefix))
    out = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        # __main__ is this script; __mp_main__ is the alias multiprocessing gives it (boto3's
        # s3transfer imports multiprocessing, now in the worker's init)
        if module is sys.modules.get("__main__") or not path:
            continue
        if not os.path.abspath(path).startswith(allowed):
            out.append(f"{name}: {path}")
    return sorted(out)


def imports() -> dict:
    """Import what the worker imports, timed."""
    started = time.perf_counter()
    import aws_lambda_powertools  # noqa: F401
    import numerapi  # noqa: F401
    import numpy  # noqa: F401
    import onnxruntime  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    from aws_lambda_powertools import Logger, Metrics  # noqa: F401

    seconds = time.perf_counter() - started
    print(f"cold import: {seconds:.3f} s", file=sys.stderr)
    return {"import_seconds": seconds, "outside": outside_modules()}


def predict(parquet: str, model: str, csv: str) -> dict:
    """Live parquet -> ONNX predictions -> ranked, validated submission CSV."""
    import numpy as np
    import onnxruntime as ort
    import pandas as pd
    import pyarrow.parquet as pq

    from numerai_bot.model_metadata import ModelMetadata

    started = time.perf_counter()
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    meta = ModelMetadata.from_props(session.get_modelmeta().custom_metadata_map)
    table = pq.read_table(parquet, columns=["id", *meta.features])
    ids = table.column("id").to_numpy(zero_copy_only=False)
    matrix = (
        table.select(list(meta.features)).to_pandas().to_numpy(dtype=np.float32, na_value=np.nan)
    )
    (input_meta,) = session.get_inputs()
    raw = np.asarray(session.run(None, {input_meta.name: matrix})[0]).reshape(-1)
    ranked = pd.Series(raw).rank(method="first").to_numpy() / (len(raw) + 1)
    submission = pd.DataFrame({"id": ids, "prediction": ranked})
    assert submission["id"].is_unique
    assert not submission["prediction"].isna().any()
    assert submission["prediction"].between(0, 1, inclusive="neither").all()
    assert submission["prediction"].std() > 0
    submission.to_csv(csv, index=False)
    return {
        "rows": len(submission),
        "features": len(meta.features),
        "seconds": time.perf_counter() - started,
        "distinct_raw": int(np.unique(raw).size),
        "outside": outside_modules(),
    }


def core(parquet: str, model: str) -> dict:
    """The same prediction through the bot's own modules, as the worker runs it."""
    import numpy as np

    from numerai_bot.inference import load_model
    from numerai_bot.live_data import LiveData
    from numerai_bot.submission import build_csv, to_predictions, validate_submission

    live = LiveData(Path(parquet), round_number=1, data_version="v5.2")
    loaded = load_model("smoke.onnx", "1", Path(model).read_bytes())
    matrix = live.features(loaded.metadata.features)
    predictions = to_predictions(loaded.predict(matrix), live.rows)
    ids = np.asarray(live.ids)
    return {
        "rows": len(predictions),
        "validated_rows": validate_submission(build_csv(ids, predictions), ids),
        "outside": outside_modules(),
    }


def handler(name: str) -> dict:
    """Import a Lambda entry module and check it exposes ``handler``."""
    started = time.perf_counter()
    module = __import__(name)
    seconds = time.perf_counter() - started
    heavy = sorted(m for m in ("pandas", "pyarrow", "numpy", "onnxruntime") if m in sys.modules)
    return {
        "callable": callable(getattr(module, "handler", None)),
        "import_seconds": seconds,
        "heavy_modules": heavy,
        "outside": outside_modules(),
    }


if __name__ == "__main__":
    modes = {"imports": imports, "predict": predict, "core": core, "handler": handler}
    print(json.dumps(modes[MODE](*ARGS)))
