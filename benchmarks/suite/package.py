"""The Lambda packages the benchmark measures: built once per content, cached, sized.

Why build here: the package-size target must not depend on whether someone ran ``sam build``
lately, and the cold start is measured on the package Lambda would run. The trees are built
with ``scripts/build_lambda.py`` (what ``sam build`` runs) into the benchmark's cache, keyed by
the hash of everything that changes them (requirements, build script, handlers' sources), so
an unchanged checkout builds nothing; a build takes ~40 s and needs the package index.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.suite.launch import REPO, BenchError
from benchmarks.suite.models import cache_root

FUNCTIONS = {"worker": "WorkerFunction", "webhook": "WebhookFunction"}


def content_key() -> str:
    """Hash of the handlers' files and the build script: what the built trees depend on."""
    digest = hashlib.sha256()
    files = sorted((REPO / "handlers").rglob("*"))
    for path in [*files, REPO / "scripts" / "build_lambda.py"]:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def built_trees(log=print) -> dict[str, Any]:
    """``{"worker": Path, "webhook": Path, "worker_bytes": int, …}``, building what is missing
    (in a subprocess, its output in ``<tree>.log``)."""
    from scripts.build_lambda import LAMBDA_UNZIPPED_LIMIT, tree_size

    folder = cache_root() / "packages" / content_key()
    out: dict[str, Any] = {"limit_bytes": LAMBDA_UNZIPPED_LIMIT, "key": folder.name}
    for function, logical in FUNCTIONS.items():
        tree = folder / logical
        record = folder / f"{function}.json"
        if not record.is_file():
            log(f"building the {function} package (scripts/build_lambda.py): {tree}")
            started = time.monotonic()
            shutil.rmtree(tree, ignore_errors=True)
            _build(function, tree)
            size, files = tree_size(tree)
            record.write_text(
                json.dumps(
                    {
                        "bytes": size,
                        "files": files,
                        "seconds": round(time.monotonic() - started),
                        "built_at": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                    }
                )
            )
            _forget_older(folder)
        figures = json.loads(record.read_text())
        out[function] = tree
        out[f"{function}_bytes"] = figures["bytes"]
        out["built_at"] = figures.get("built_at", "")
    out["worker_under_limit_bytes"] = LAMBDA_UNZIPPED_LIMIT - out["worker_bytes"]
    return out


def _build(function: str, tree: Path) -> None:
    """``python -m scripts.build_lambda`` for ``function`` into ``tree``; BenchError on failure."""
    tree.parent.mkdir(parents=True, exist_ok=True)
    log_path = tree.with_suffix(".log")
    command = [sys.executable, "-m", "scripts.build_lambda", "--function", function]
    command += ["--source", str(REPO / "handlers"), "--artifacts-dir", str(tree)]
    with log_path.open("w") as log:
        done = subprocess.run(
            command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, timeout=1800, check=False
        )
    if done.returncode != 0:
        tail = log_path.read_text()[-600:]
        raise BenchError(f"building the {function} package failed (log: {log_path}): {tail}")


def _forget_older(keep: Path) -> None:
    """Only the newest build is kept: each is ~220 MB."""
    for other in keep.parent.iterdir():
        if other != keep and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
