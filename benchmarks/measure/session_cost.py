"""What building an onnxruntime session costs for a tree ensemble, and what makes it cheaper.

Run in a fresh subprocess by :mod:`benchmarks.measure.child` (mode ``sessions``) or alone::

    PYTHONPATH=handlers:. python -m benchmarks.measure.session_cost MODEL.onnx [MODEL2.onnx …]

For each file: the worker's way (``numerai_bot.inference.load_model``), then variants of the
session options and of the artifact (ORT format written by onnxruntime itself, an ONNX file
already optimised), each timed as the median of ``repeats`` builds interleaved with the
others. Each variant is checked: its predictions on a 6,720-row synthetic matrix must equal
the worker's bit for bit, and its ``custom_metadata_map`` (the bot's metadata) must be intact.
onnxruntime's profiler splits the worker's build into model loading (parsing the protobuf,
building the graph) and session initialisation (optimisers, kernels: the trees' own set-up).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from numerai_bot.inference import load_model, session_options
from numerai_bot.live_data import FeatureMatrix

ROWS = 6720
Options = Callable[[], ort.SessionOptions]


def _level(level: ort.GraphOptimizationLevel) -> Options:
    def build() -> ort.SessionOptions:
        options = session_options()
        options.graph_optimization_level = level
        return options

    return build


def _with(**settings: Any) -> Options:
    def build() -> ort.SessionOptions:
        options = session_options()
        for name, value in settings.items():
            setattr(options, name, value)
        return options

    return build


def _config(entries: dict[str, str], level: ort.GraphOptimizationLevel | None = None) -> Options:
    def build() -> ort.SessionOptions:
        options = session_options()
        if level is not None:
            options.graph_optimization_level = level
        for key, value in entries.items():
            options.add_session_config_entry(key, value)
        return options

    return build


def saved_forms(data: bytes, folder: Path) -> dict[str, bytes]:
    """The artifact as onnxruntime itself saves it after optimising: ORT format and ONNX."""
    forms = {}
    for name, suffix, extra in (
        ("ort", ".ort", {"session.save_model_format": "ORT"}),
        ("optimised_onnx", ".onnx", {}),
    ):
        options = session_options()
        options.optimized_model_filepath = str(folder / f"saved{suffix}")
        for key, value in extra.items():
            options.add_session_config_entry(key, value)
        ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        forms[name] = (folder / f"saved{suffix}").read_bytes()
    return forms


def variants(data: bytes, forms: dict[str, bytes]) -> dict[str, tuple[bytes, Options]]:
    """Label → (bytes, options): the worker's way first."""
    disable = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return {
        "worker: ONNX, ORT_ENABLE_ALL": (data, session_options),
        "graph optimisation off": (data, _level(disable)),
        "graph optimisation basic": (data, _level(ort.GraphOptimizationLevel.ORT_ENABLE_BASIC)),
        "CPU memory arena on": (data, _with(enable_cpu_mem_arena=True)),
        "memory pattern off": (data, _with(enable_mem_pattern=False)),
        "ORT format from bytes": (forms["ort"], session_options),
        "ORT format, bytes used directly": (
            forms["ort"],
            _config(
                {
                    "session.use_ort_model_bytes_directly": "1",
                    "session.use_ort_model_bytes_for_initializers": "1",
                }
            ),
        ),
        "optimised ONNX, optimisation off": (forms["optimised_onnx"], _level(disable)),
    }


def interleaved(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds of each callable over ``repeats`` interleaved rounds, after
    a warm-up. CPU seconds (this process, all threads) suffer less from a busy machine."""
    for run in runs.values():
        run()
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            run()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
    return {
        name: {"wall": statistics.median(wall[name]), "cpu": statistics.median(cpu[name])}
        for name in runs
    }


def _session(data: bytes, options: Options) -> ort.InferenceSession:
    return ort.InferenceSession(data, options(), providers=["CPUExecutionProvider"])


def _predict(session: ort.InferenceSession, block: np.ndarray) -> np.ndarray:
    feeds = {session.get_inputs()[0].name: block}
    return np.asarray(session.run(None, feeds)[0], dtype=np.float64).ravel()


def profile_split(data: bytes, options: Options, folder: Path) -> dict[str, float]:
    """onnxruntime's own split of one build: model loading vs session initialisation, s."""
    profiled = options()
    profiled.enable_profiling = True
    profiled.profile_file_prefix = str(folder / "profile")
    session = ort.InferenceSession(data, profiled, providers=["CPUExecutionProvider"])
    trace = json.loads(Path(session.end_profiling()).read_text())
    split = {"loading": 0.0, "initialisation": 0.0}
    for event in trace:
        name = event.get("name", "")
        if event.get("cat") != "Session":
            continue
        if name.startswith("model_loading"):
            split["loading"] += event.get("dur", 0) / 1e6
        elif name == "session_initialization":
            split["initialisation"] += event.get("dur", 0) / 1e6
    return split


def measure_file(path: Path, repeats: int = 7) -> dict[str, Any]:
    """Every variant of one file: median build seconds, RSS added, parity, metadata intact."""
    data = path.read_bytes()
    worker = load_model(path.name, "1", data)
    expected_meta = worker.session.get_modelmeta().custom_metadata_map
    rng = np.random.default_rng(0)
    width = len(worker.metadata.numeric_features)
    matrix = FeatureMatrix(rng.integers(0, 5, size=(ROWS, width), dtype=np.int8), False)
    block = matrix.dense(worker.input_dtype)
    reference = worker.predict(matrix)
    folder = Path(tempfile.mkdtemp(prefix="session-cost-"))
    forms = saved_forms(data, folder)
    chosen, failed = {}, {}
    for label, (form, options) in variants(data, forms).items():
        try:
            _session(form, options)
            chosen[label] = (form, options)
        except Exception as error:  # a variant onnxruntime refuses is reported, not timed
            failed[label] = f"{type(error).__name__}: {str(error)[:300]}"
    timings = interleaved(
        {label: lambda d=d, o=o: _session(d, o) for label, (d, o) in chosen.items()}, repeats
    )
    out: dict[str, Any] = {
        "file": path.name,
        "bytes": len(data),
        "ort_bytes": len(forms["ort"]),
        "optimised_onnx_bytes": len(forms["optimised_onnx"]),
        "features": width,
        "load_model_s": interleaved({"x": lambda: load_model(path.name, "1", data)}, repeats)["x"],
        "variants": {},
        "refused": failed,
    }
    base = timings["worker: ONNX, ORT_ENABLE_ALL"]
    for label, (form, options) in chosen.items():
        session = _session(form, options)
        predictions = _predict(session, block)
        meta = session.get_modelmeta().custom_metadata_map
        out["variants"][label] = {
            "seconds": timings[label]["wall"],
            "cpu_seconds": timings[label]["cpu"],
            "ratio": timings[label]["wall"] / base["wall"],
            "cpu_ratio": timings[label]["cpu"] / base["cpu"],
            "profile_s": profile_split(form, options, folder),
            "identical_predictions": bool(np.array_equal(predictions, reference)),
            "metadata_intact": meta == expected_meta,
        }
        del session
    shutil.rmtree(folder, ignore_errors=True)
    return out


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Child entry: ``{"models": {label: path}, "repeats": n}`` → figures per label."""
    repeats = int(spec.get("repeats", 7))
    out: dict[str, Any] = {"cpu_count": os.cpu_count(), "onnxruntime": ort.__version__}
    out["repeats"] = repeats
    for label, path in spec["models"].items():
        out[label] = measure_file(Path(path), repeats)
    return out


def render(figures: dict[str, Any]) -> str:
    """One table per file: variant, ms, × the worker's way, identical, metadata."""
    lines = []
    for label, f in figures.items():
        if not isinstance(f, dict):
            continue
        lines.append(
            f"{label}: {f['file']}, ONNX {f['bytes'] / 1e6:.1f} MB, ORT format "
            f"{f['ort_bytes'] / 1e6:.1f} MB; load_model {f['load_model_s']['wall'] * 1000:.0f} ms "
            f"({f['load_model_s']['cpu'] * 1000:.0f} ms CPU). Per variant: median build wall "
            "and CPU ms, each × the worker's way, one profiled build's loading + "
            "initialisation (onnxruntime's profiler)"
        )
        for name, v in f["variants"].items():
            lines.append(
                f"  {name:<34} {v['seconds'] * 1000:6.0f} ms {v['ratio']:5.2f}×  "
                f"CPU {v['cpu_seconds'] * 1000:6.0f} ms {v['cpu_ratio']:5.2f}×  "
                f"{v['profile_s']['loading'] * 1000:4.0f} + "
                f"{v['profile_s']['initialisation'] * 1000:4.0f} ms  "
                f"identical={v['identical_predictions']} metadata={v['metadata_intact']}"
            )
        lines += [f"  {name:<34} refused: {why}" for name, why in f.get("refused", {}).items()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Measure the files named on the command line and print the tables."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.measure.session_cost")
    parser.add_argument("files", nargs="+", type=Path, help="ONNX files")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    models = {f"{p.parent.name}/{p.name}": str(p) for p in args.files}
    figures = measure({"models": models, "repeats": args.repeats})
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    print(render(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
