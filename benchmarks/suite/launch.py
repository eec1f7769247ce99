"""Start one measured side in a fresh subprocess and collect its JSON figures.

Why a clean environment: the child gets only what it needs (PATH, HOME, the repository on
PYTHONPATH and the case's Lambda-style variables), so nothing from the caller's shell (a
real WORKER_FUNCTION_ARN, AWS keys) changes what is measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.suite.machine import Interference, wait_for_quiet

REPO = Path(__file__).resolve().parents[2]
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "NUMERAI_BOT_BENCH_CACHE")


class BenchError(RuntimeError):
    """A measured side failed; the message names it and its log file."""


def child_env(extra: dict[str, str], handlers: Path | None = None) -> dict[str, str]:
    """A minimal environment with the repository importable, plus ``extra``.

    ``handlers`` replaces the repository's ``handlers/`` (the core under test), e.g. with a
    prototype copy of it.
    """
    env = {key: os.environ[key] for key in KEPT if key in os.environ}
    env["PYTHONPATH"] = f"{handlers or REPO / 'handlers'}{os.pathsep}{REPO}"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_child(
    mode: str,
    spec: dict[str, Any],
    env: dict[str, str],
    workdir: Path,
    name: str,
    timeout: float = 1800.0,
    handlers: Path | None = None,
) -> dict[str, Any]:
    """``python -m benchmarks.measure.child MODE`` with ``spec``: its figures, process seconds."""
    workdir.mkdir(parents=True, exist_ok=True)
    spec_path, out_path, log_path = (workdir / f"{name}.{ext}" for ext in ("spec", "out", "log"))
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    quiet_share = wait_for_quiet()
    with log_path.open("w") as log, Interference() as cpu:
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.measure.child", mode, str(spec_path), str(out_path)],
            cwd=REPO,
            env=child_env(env, handlers),
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    if not out_path.is_file():
        raise BenchError(f"{name}: exit code {completed.returncode}, no figures; see {log_path}")
    result = json.loads(out_path.read_text())
    if "error" in result:
        raise BenchError(f"{name}: {result['error']} (log: {log_path})")
    result["process_seconds"] = cpu.wall
    result["process_cpu_seconds"] = cpu.child_cpu
    result["standins_cpu_seconds"] = cpu.parent_cpu
    result["others_cpu_seconds"] = cpu.others_cpu
    result["others_share"] = cpu.others_share
    result["others_share_before"] = quiet_share
    return result
