"""The two sides of each pair, each run in a fresh subprocess by :mod:`benchmarks.measure.child`.

``ours``: the real worker handler (``handlers/worker.py``) invoked once, as Lambda would,
against the stand-ins: live download over loopback, pyarrow read, onnxruntime, checks,
uploads, ledger and idempotency records in moto's DynamoDB.

``baseline``: what users run today, the way Numerai's current example does it (the live
inference part of ``hello_numerai.ipynb`` in github.com/numerai/example-scripts, in a loop
over the user's models): numerapi ``download_dataset`` of ``features.json`` and
``live.parquet`` → ``pandas.read_parquet(live, columns=feature_set)``, only the model's own
feature set read from the file → for each model, unpickle a native LightGBM model and
``predict`` → numerapi ``upload_predictions``. Unmodified numerapi, pointed at the stand-in
through ``numerapi.base_api.API_TOURNAMENT_URL``.

``whole-file baseline``: the same loop reading every column of the live file and then
selecting the model's features (older example scripts; the reference of earlier reports).

Both report seconds after their imports (the work itself), their import seconds, RSS after
imports and peak RSS.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.measure.memory import cpu_seconds, current_rss_mib, peak_rss_mib

LAMBDA_MEMORY_MB = 3538  # two vCPUs, like this machine: what the timings correspond to


def run_ours(spec: dict[str, Any]) -> dict[str, Any]:
    """Invoke the worker handler once (``spec["event"]``, default: every model in the store);
    figures and phases. With ``spec["record_shards"]`` the handler's fan-out is recorded and
    the shard events are returned instead of being run."""
    started = time.perf_counter()
    import worker
    from benchmarks.measure.phases import Phases
    from benchmarks.measure.webhook_latency import RecordingInvoker
    from numerai_bot.config import WorkerSettings
    from numerai_bot.wiring import build_runner
    from standins.local_lambda import LocalContext

    import_seconds = time.perf_counter() - started
    rss_after_imports = current_rss_mib()
    phases = Phases().install()
    handler = worker.handler
    shards = RecordingInvoker()
    if spec.get("record_shards"):
        handler = worker.create_handler(
            lambda: build_runner(WorkerSettings.from_env(), fanout=shards)
        )
    context = LocalContext("numerai-bot-worker", spec.get("memory_mb", LAMBDA_MEMORY_MB), 900.0)
    started, cpu = time.perf_counter(), cpu_seconds()
    phases.start_clock()
    result = handler(spec.get("event", {"source": "manual"}), context)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds() - cpu,
        "import_seconds": import_seconds,
        "rss_after_imports_mib": rss_after_imports,
        "peak_rss_mib": peak_rss_mib(),
        "status": result["status"],
        "submitted": result["submitted"],
        "failed": result["failed"],
        "phases": phases.as_dict(),
        "timeline": phases.timeline,
        "shard_events": [request.to_event() for request in shards.requests],
        "pandas_loaded": "pandas.core" in sys.modules,  # the worker needs none (see live_data)
        # Nor, for Classic's int8 files, pyarrow.compute (13.7 MiB resident, see live_data)
        "arrow_compute_loaded": "pyarrow._compute" in sys.modules,
    }


def _read_model_columns(pd: Any, path: Path, features: list[str]) -> Any:
    """Numerai's current example: only the model's feature set is read from the file."""
    return pd.read_parquet(path, columns=features)


def _read_whole_file(pd: Any, path: Path, features: list[str]) -> Any:
    """Older example scripts: every column of the live file, the features picked later."""
    return pd.read_parquet(path)


# How each baseline reads the live file (spec["read"]); everything else is the same loop.
LIVE_READS = {"model_columns": _read_model_columns, "whole_file": _read_whole_file}


def run_baseline(spec: dict[str, Any]) -> dict[str, Any]:
    """The users' loop (see module docstring), timed per step; ``spec["read"]`` picks how
    the live file is read (:data:`LIVE_READS`, default the model's columns only)."""
    read_live = LIVE_READS[spec.get("read", "model_columns")]
    started = time.perf_counter()
    import pickle

    import lightgbm  # noqa: F401  (unpickling needs it; import it with the others)
    import numerapi
    import pandas as pd

    import_seconds = time.perf_counter() - started
    rss_after_imports = current_rss_mib()
    numerapi.base_api.API_TOURNAMENT_URL = spec["api_url"]
    steps = dict.fromkeys(("download", "read_parquet", "unpickle", "predict", "upload"), 0.0)
    folder = Path(tempfile.mkdtemp(prefix="baseline-"))
    version = spec["data_version"]

    started, cpu = time.perf_counter(), cpu_seconds()
    mark = started
    napi = numerapi.NumerAPI(spec["public_id"], spec["secret_key"], show_progress_bars=False)
    napi.get_current_round()
    napi.download_dataset(f"{version}/features.json", str(folder / "features.json"))
    napi.download_dataset(f"{version}/live.parquet", str(folder / "live.parquet"))
    mark = _step(steps, "download", mark)
    feature_set = json.loads((folder / "features.json").read_text())["feature_sets"]
    features = feature_set[spec["feature_set"]]
    live = read_live(pd, folder / "live.parquet", features)
    model_ids = napi.get_models()
    mark = _step(steps, "read_parquet", mark)
    for name in spec["models"]:
        with open(spec["pickle"], "rb") as handle:
            model = pickle.load(handle)  # noqa: S301 - the benchmark's own model file
        mark = _step(steps, "unpickle", mark)
        predictions = model.predict(live[features])
        submission = pd.Series(predictions, index=live.index).rank(pct=True).to_frame("prediction")
        mark = _step(steps, "predict", mark)
        napi.upload_predictions(df=submission.reset_index(), model_id=model_ids[name])
        mark = _step(steps, "upload", mark)
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": cpu_seconds() - cpu,
        "import_seconds": import_seconds,
        "rss_after_imports_mib": rss_after_imports,
        "peak_rss_mib": peak_rss_mib(),
        "submitted": len(spec["models"]),
        "failed": 0,
        "phases": {k: {"seconds": round(v, 4), "calls": 0} for k, v in steps.items()},
    }


def _step(steps: dict[str, float], name: str, mark: float) -> float:
    now = time.perf_counter()
    steps[name] += now - mark
    return now
