"""Where the worker's time and memory go: seconds and peak-RSS growth per step, in the child.

Why wrapping: the core logs per-model totals only; the benchmark wants the split between
download, reading, session creation, inference, CSV checks, upload and bookkeeping without
editing the core. Wrappers are installed on classes and module attributes in the child
process only. Uploads run on a thread pool, so their cumulative seconds overlap the others'.
Peak-RSS growth is the rise of ``VmHWM`` while a step ran (overlapping threads share it).
"""

from __future__ import annotations

import functools
import importlib
import threading
import time
from collections.abc import Callable
from typing import Any

from benchmarks.measure.memory import peak_rss_mib

# (module, attribute path, label): the steps of RoundRunner.run in the order they happen.
WORKER_STEPS: tuple[tuple[str, str, str], ...] = (
    ("worker", "build_runner", "build adapters (secrets, clients)"),
    ("numerai_bot.wiring", "numerai_keys", "keys (Secrets Manager)"),
    ("numerai_bot.adapters.numerai_client", "NumeraiClient.current_round", "Numerai: open round"),
    ("numerai_bot.round.runner", "load_models_entries", "models.json"),
    ("numerai_bot.adapters.numerai_client", "NumeraiClient.model_ids", "Numerai: model ids"),
    ("numerai_bot.adapters.numerai_client", "NumeraiClient.account_models", "Numerai: models"),
    (
        "numerai_bot.adapters.numerai_client",
        "NumeraiClient.served_datasets",
        "Numerai: datasets",
    ),
    ("numerai_bot.adapters.dynamodb_ledger", "DynamoLedger.get", "ledger read"),
    ("numerai_bot.inference", "ModelCache.fetch", "model: S3 + metadata"),
    ("numerai_bot.inference", "ModelCache.build", "model: session"),
    ("numerai_bot.inference", "load_model", "  of which session creation"),
    ("numerai_bot.live_data", "LiveDataCache._fetch", "live file download"),
    ("numerai_bot.live_data", "LiveData.__init__", "live file open + ids"),
    ("numerai_bot.live_data", "LiveData.preload", "read feature columns"),
    ("numerai_bot.live_data", "LiveData.matrix", "feature matrix"),
    ("numerai_bot.inference", "LoadedModel.predict", "onnxruntime predict"),
    ("numerai_bot.round.model_work", "to_predictions", "rank"),
    ("numerai_bot.round.model_work", "build_csv", "CSV build"),
    ("numerai_bot.round.model_work", "validate_submission", "CSV validation"),
    ("numerai_bot.adapters.numerai_client", "NumeraiClient.upload_submission", "upload (threads)"),
    (
        "numerai_bot.adapters.dynamodb_guard",
        "IdempotencyGuard.run_once",
        "guard + upload (threads)",
    ),
    ("numerai_bot.adapters.dynamodb_ledger", "DynamoLedger.put", "ledger write"),
)


class Phases:
    """Cumulative seconds and call counts per label, safe across threads."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.peak_growth_mib: dict[str, float] = {}
        # (label, thread, start, end) per call, seconds from the first call: the critical path
        self.timeline: list[tuple[str, str, float, float]] = []
        self._origin: float | None = None
        self._lock = threading.Lock()

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` timed under ``label``."""

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            peak_before, started = peak_rss_mib(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                ended = time.perf_counter()
                spent = ended - started
                growth = peak_rss_mib() - peak_before
                with self._lock:
                    origin = self._origin = self._origin or started
                    thread = threading.current_thread().name
                    self.timeline.append(
                        (label, thread, round(started - origin, 4), round(ended - origin, 4))
                    )
                    self.seconds[label] = self.seconds.get(label, 0.0) + spent
                    self.calls[label] = self.calls.get(label, 0) + 1
                    self.peak_growth_mib[label] = self.peak_growth_mib.get(label, 0.0) + growth

        return timed

    def install(self, steps: tuple[tuple[str, str, str], ...] = WORKER_STEPS) -> Phases:
        """Wrap every step that exists (a renamed one is skipped, not an error)."""
        for module_name, path, label in steps:
            owner: Any = importlib.import_module(module_name)
            *parents, name = path.split(".")
            try:
                for parent in parents:
                    owner = getattr(owner, parent)
                original = getattr(owner, name)
            except AttributeError:
                continue
            setattr(owner, name, self.wrap(label, original))
        return self

    def start_clock(self) -> None:
        """Timeline seconds count from now (the event in)."""
        self._origin = time.perf_counter()

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{label: {"seconds", "calls", "peak_growth_mib"}}`` in step order."""
        return {
            label: {
                "seconds": round(self.seconds[label], 4),
                "calls": self.calls[label],
                "peak_growth_mib": round(self.peak_growth_mib[label], 1),
            }
            for _module, _path, label in WORKER_STEPS
            if label in self.seconds
        }
