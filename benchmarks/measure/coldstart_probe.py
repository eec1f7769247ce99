"""Runs INSIDE a fresh interpreter to time a cold start: import the handler, build a session.

Standalone on purpose (standard library only until the timed imports): the parent starts it
as ``python -I -S -B coldstart_probe.py TREE RUNTIME MODULE [ONNX]`` against a built Lambda
tree (Lambda's /var/task first on ``sys.path``, RUNTIME — what the runtime provides, boto3
and friends — last), or without ``-I -S`` and RUNTIME ``-`` against the source tree and the
venv. Prints one JSON object: import seconds, first-session seconds, where modules came from.
"""

from __future__ import annotations

import json
import sys
import time

STARTED = time.perf_counter()
TREE, RUNTIME, MODULE, *REST = sys.argv[1:]
sys.path.insert(0, TREE)
if RUNTIME != "-":
    sys.path.append(RUNTIME)


def main() -> dict:
    """Import MODULE (the Lambda entry module), then create the first onnxruntime session."""
    before = time.perf_counter()
    module = __import__(MODULE)
    import_seconds = time.perf_counter() - before
    figures = {
        "startup_seconds": before - STARTED,
        "import_seconds": import_seconds,
        "callable": callable(getattr(module, "handler", None)),
        "heavy_modules": sorted(
            m for m in ("pandas", "pyarrow", "numpy", "onnxruntime", "numerapi") if m in sys.modules
        ),
        "numerai_bot_from": getattr(sys.modules.get("numerai_bot"), "__path__", [""])[0],
    }
    if REST:
        from numerai_bot.inference import load_model

        with open(REST[0], "rb") as handle:
            data = handle.read()
        before = time.perf_counter()
        load_model("model.onnx", "1", data)
        figures["session_seconds"] = time.perf_counter() - before
    return figures


if __name__ == "__main__":
    print(json.dumps(main()))
