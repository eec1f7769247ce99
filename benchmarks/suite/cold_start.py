"""Cold start: fresh interpreters importing the Lambda entry modules, median of several.

Why both trees: the target is about the built package (``handlers/Makefile`` → SAM's
``.aws-sam/build/<Function>``: trimmed, with unchecked-hash ``.pyc`` files); when it is
absent the source tree in the venv is measured instead, and the report says which one.
The disk cache is warm here after the first run; Lambda's first read of a new package is
slower, so these are lower bounds of Lambda's init phase.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.suite.launch import BenchError

REPO = Path(__file__).resolve().parents[2]
PROBE = REPO / "benchmarks" / "measure" / "coldstart_probe.py"  # run as a file, by path
BUILD_DIR = REPO / ".aws-sam" / "build"
# What Lambda's python3.12 runtime has in /var/lang/lib/python3.12/site-packages.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
LAMBDA_ENV = {
    "PATH": "/usr/bin:/bin",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "NumeraiBot",
    "LOG_LEVEL": "WARNING",
}


def runtime_dir(folder: Path) -> Path:
    """A stand-in for the runtime's site-packages: links to this venv's boto3 and friends."""
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = folder / source.name
        if not link.exists():
            link.symlink_to(source)
    return folder


def _probe(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchError(f"cold-start probe failed: {result.stderr[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["process_seconds"] = wall
    return figures


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric figure, plus the first run's descriptive fields."""
    out: dict[str, Any] = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, float):
            out[key] = statistics.median(r[key] for r in runs)
            out[key + "_all"] = [round(r[key], 3) for r in runs]
    out["runs"] = len(runs)
    return out


def measure(
    onnx_path: Path,
    runs: int = 5,
    trees: dict[str, Any] | None = None,
    previous: Path | None = None,
) -> dict[str, Any]:
    """Worker (import + first session) and webhook (import), built tree and/or venv.

    ``trees``: the built ``worker`` and ``webhook`` trees and when they were built (``built_at``);
    default: ``.aws-sam/build``. ``previous``: the previous release's ``handlers/``, whose
    worker is imported from the venv in turn with today's (``previous_venv_worker``).
    """
    from scripts.build_lambda import find_python

    figures: dict[str, Any] = {}
    python312 = find_python("3.12", None)
    trees = trees or {}
    worker_tree = Path(trees.get("worker") or BUILD_DIR / "WorkerFunction")
    webhook_tree = Path(trees.get("webhook") or BUILD_DIR / "WebhookFunction")
    with tempfile.TemporaryDirectory(prefix="lambda-runtime-") as folder:
        runtime = runtime_dir(Path(folder))
        if python312 and (worker_tree / "worker.py").is_file():
            isolated = [python312, "-I", "-S", "-B", str(PROBE)]
            figures["built_worker"] = _median(
                [
                    _probe(
                        [*isolated, str(worker_tree), str(runtime), "worker", str(onnx_path)],
                        {**LAMBDA_ENV, "POWERTOOLS_SERVICE_NAME": "numerai-bot-worker"},
                    )
                    for _ in range(runs)
                ]
            )
            figures["built_worker"]["tree"] = str(worker_tree)
            figures["built_worker"]["built_at"] = str(trees.get("built_at") or "") or (
                time.strftime(
                    "%Y-%m-%d %H:%M", time.gmtime((worker_tree / "worker.py").stat().st_mtime)
                )
            )
            if (webhook_tree / "webhook.py").is_file():
                figures["built_webhook"] = _median(
                    [
                        _probe(
                            [*isolated, str(webhook_tree), str(runtime), "webhook"],
                            {**LAMBDA_ENV, "POWERTOOLS_SERVICE_NAME": "numerai-bot-webhook"},
                        )
                        for _ in range(runs)
                    ]
                )
        venv = [sys.executable, "-B", str(PROBE), str(REPO / "handlers"), "-"]
        today, before = [], []
        for _ in range(runs):  # today's and the previous release's in turn
            today.append(_probe([*venv, "worker", str(onnx_path)], LAMBDA_ENV))
            if previous is not None:
                old = [sys.executable, "-B", str(PROBE), str(previous), "-"]
                try:  # an old core that cannot start here is reported, not fatal
                    before.append(_probe([*old, "worker", str(onnx_path)], LAMBDA_ENV))
                except BenchError as error:
                    figures["previous_error"] = str(error)[:300]
                    previous = None
        figures["venv_worker"] = _median(today)
        if before:
            figures["previous_venv_worker"] = _median(before)
        figures["venv_webhook"] = _median(
            [_probe([*venv, "webhook"], LAMBDA_ENV) for _ in range(runs)]
        )
    return figures
