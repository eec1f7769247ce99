"""Entry point of every measured subprocess: ``python -m benchmarks.measure.child MODE SPEC OUT``.

Why a fresh process per side: peak RSS (``ru_maxrss``) covers a whole process, so each side
must have its own, with nothing else loaded. MODE is ``ours``, ``baseline``, ``inference``,
``sessions`` or ``webhook``; SPEC and OUT are JSON files; a SPEC with ``cpus`` (e.g. ``[0]``)
pins the process to those cores first, as a Lambda with fewer vCPUs would run. Only the
standard library is imported here, so each side's import time is its own too. Logs go to
stdout/stderr (the parent keeps them).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path


def _run(mode: str, spec: dict) -> dict:
    if mode == "ours":
        from benchmarks.measure.sides import run_ours

        return run_ours(spec)
    if mode == "baseline":
        from benchmarks.measure.sides import run_baseline

        return run_baseline(spec)
    if mode == "inference":
        from benchmarks.measure.inference_alone import measure

        return measure(spec)
    if mode == "sessions":
        from benchmarks.measure.session_cost import measure as measure_sessions

        return measure_sessions(spec)
    if mode == "webhook":
        from benchmarks.measure.webhook_latency import measure as measure_webhook

        return measure_webhook(spec)
    raise SystemExit(f"unknown mode {mode!r}")


def main(argv: list[str]) -> int:
    """Run one side and write its figures (or its error) to OUT."""
    mode, spec_path, out_path = argv
    spec = json.loads(Path(spec_path).read_text())
    if spec.get("cpus"):  # before any import starts a thread pool
        os.sched_setaffinity(0, set(spec["cpus"]))
    try:
        result = _run(mode, spec)
    except Exception as error:  # reported to the parent, which fails the case loudly
        traceback.print_exc()
        result = {"error": f"{type(error).__name__}: {str(error)[:2000]}"}
    Path(out_path).write_text(json.dumps(result))
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
