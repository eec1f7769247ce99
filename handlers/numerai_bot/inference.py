"""ONNX models: load a file into an onnxruntime session, check it, run it.

Sessions are cached per artifact version, so a warm Lambda builds each one once and a
replaced file is picked up on the next round.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import onnxruntime as ort

from numerai_bot.allocator import release_free_memory
from numerai_bot.errors import ModelError, ModelTimeout, PredictionError
from numerai_bot.live_data import FeatureMatrix
from numerai_bot.model_metadata import MetadataError, ModelMetadata
from numerai_bot.onnx_metadata import metadata_props
from numerai_bot.ports import ModelStore

T = TypeVar("T")

# onnxruntime input types the worker can feed; the live features are int8 0-4 (or NaN).
INPUT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
}


@dataclass(frozen=True)
class LoadedModel:
    """A ready session plus what its file says about itself."""

    key: str
    version: str
    metadata: ModelMetadata
    session: ort.InferenceSession
    input_name: str
    input_dtype: type
    string_input: str | None = None  # the graph's tensor(string) input, if it takes one

    def predict(
        self,
        matrix: FeatureMatrix | np.ndarray,
        strings: np.ndarray | None = None,
        budget_seconds: float | None = None,
    ) -> np.ndarray:
        """Run the graph on ``matrix`` (rows × numeric features, in metadata order) and
        ``strings`` (rows × string features) when the graph takes them; 1-D float64.

        A :class:`FeatureMatrix` is fed a batch of rows at a time in the model's input type,
        so memory stays flat whatever the width; an array is run as given. A run still going
        after ``budget_seconds`` is stopped inside onnxruntime (``RunOptions.terminate``)
        and raises :class:`ModelTimeout`: one slow model cannot starve the others.
        """
        rows, width = matrix.shape
        expected = len(self.metadata.numeric_features)
        if width != expected:
            raise PredictionError(f"input has {width} columns, model expects {expected}")
        if (self.string_input is None) != (strings is None):
            raise PredictionError(
                "the model's string features and the strings given do not match "
                f"({list(self.metadata.string_features)})"
            )
        watch = _Watchdog(budget_seconds)
        try:
            if isinstance(matrix, np.ndarray):
                return self._run(matrix, strings, rows, watch)
            out = np.empty(rows, dtype=np.float64)
            for start, block in matrix.batches(self.input_dtype):
                n = block.shape[0]
                text = None if strings is None else strings[start : start + n]
                out[start : start + n] = self._run(block, text, n, watch)
            return out
        finally:
            watch.cancel()

    def _run(
        self, block: np.ndarray, strings: np.ndarray | None, rows: int, watch: _Watchdog
    ) -> np.ndarray:
        feeds = {self.input_name: block}
        if self.string_input is not None and strings is not None:
            feeds[self.string_input] = np.ascontiguousarray(strings, dtype=object)
        watch.check()
        try:
            outputs = self.session.run(None, feeds, watch.options)
        except Exception as error:  # onnxruntime raises its own exception types
            if watch.expired:
                raise watch.timeout() from None
            raise PredictionError(f"onnxruntime failed: {str(error)[:300]}") from None
        raw = np.asarray(outputs[0])
        if raw.ndim == 2 and raw.shape[1] == 1:
            raw = raw[:, 0]
        if raw.ndim != 1 or raw.shape[0] != rows:
            raise PredictionError(
                f"model output has shape {raw.shape}, expected one value per row ({rows})"
            )
        return raw.astype(np.float64, copy=False)


class _Watchdog:
    """Sets ``RunOptions.terminate`` when a model's time budget runs out."""

    def __init__(self, budget_seconds: float | None) -> None:
        self.options = ort.RunOptions()
        self.budget = budget_seconds
        self.started = time.monotonic()
        self.expired = False
        self._timer: threading.Timer | None = None
        if budget_seconds is not None:
            self._timer = threading.Timer(max(budget_seconds, 0.0), self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        self.options.terminate = True

    def check(self) -> None:
        """Between batches: stop at once when the budget is spent."""
        if self.expired:
            raise self.timeout()

    def timeout(self) -> ModelTimeout:
        """The error for a run over its budget."""
        return ModelTimeout(
            f"stopped after {time.monotonic() - self.started:.1f} s: over its time budget of "
            f"{self.budget:.1f} s (set time_budget_seconds in models.json to give it more)"
        )

    def cancel(self) -> None:
        """The run ended: no terminate flag for a finished run."""
        if self._timer is not None:
            self._timer.cancel()


def session_options(threads: int | None = None) -> ort.SessionOptions:
    """One intra-op thread per vCPU Lambda gives us; no inter-op parallelism to pay for."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # No CPU memory arena: the arena keeps each session's largest buffer (the Cast of the
    # input to double: 147 MB for a whole 6,720 x 2,748 matrix, 22 MB for a batch) for the
    # session's life; without it memory is returned after each run.
    options.enable_cpu_mem_arena = False
    # Idle pool threads sleep instead of spinning: the upload threads run beside the
    # predictions, and spinning took their CPU (-10 % CPU, -3 % wall for 10 models, measured).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def read_metadata(key: str, data: bytes) -> ModelMetadata:
    """What the file at ``key`` says about itself, from its bytes (no session needed)."""
    try:
        props = metadata_props(data)
    except ModelError as error:
        raise ModelError(f"{key} is not a loadable ONNX model: {error}") from None
    try:
        return ModelMetadata.from_props(props)
    except MetadataError as error:
        raise ModelError(f"{key}: {error}") from None


def load_model(key: str, version: str, data: bytes, threads: int | None = None) -> LoadedModel:
    """Build a session from bytes and check input/output shapes against the metadata."""
    metadata = read_metadata(key, data)
    try:
        session = ort.InferenceSession(
            data, sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # corrupt or unsupported file
        raise ModelError(f"{key} is not a loadable ONNX model: {str(error)[:200]}") from None
    inputs = session.get_inputs()
    numeric = [i for i in inputs if i.type != "tensor(string)"]
    text = [i for i in inputs if i.type == "tensor(string)"]
    expected_text = 1 if metadata.string_features else 0
    if len(numeric) != 1 or len(text) != expected_text:
        raise ModelError(
            f"{key} has inputs {[i.type for i in inputs]}; the bot feeds one numeric matrix"
            + (" and one string matrix (its string features)" if expected_text else "")
        )
    graph_input = numeric[0]
    dtype = INPUT_DTYPES.get(graph_input.type)
    if dtype is None:
        raise ModelError(f"{key} takes {graph_input.type}; export it with a float or double input")
    width = graph_input.shape[-1] if graph_input.shape else None
    if isinstance(width, int) and width != len(metadata.numeric_features):
        raise ModelError(
            f"{key} takes {width} columns but its metadata lists "
            f"{len(metadata.numeric_features)} numeric features"
        )
    string_input = text[0].name if text else None
    return LoadedModel(key, version, metadata, session, graph_input.name, dtype, string_input)


@dataclass(frozen=True)
class FetchedModel:
    """A model's file as stored now and what it says about itself: enough to read its live
    columns while its session is built. ``data`` is None when the cached session is current."""

    key: str
    version: str
    metadata: ModelMetadata
    data: bytes | None = None


class ModelCache:
    """Sessions kept across warm invocations, rebuilt when the stored object changes.

    At most ``max_sessions`` are kept (least recently used go first): a 2,000-tree session
    holds 10-15 MB, and a round uses each model's session once, so keeping more only helps
    a container that runs the same models again (a retry, the schedule's catch-up). The
    predict lanes hold their own session besides; one cached kept 10 medium models at
    347 MiB instead of 353 with two lanes. Files with the same bytes share one session.
    """

    def __init__(self, store: ModelStore, threads: int | None = None, max_sessions: int = 1):
        self.store = store
        self.threads = threads
        self.max_sessions = max(1, max_sessions)
        self._models: OrderedDict[str, tuple[str, LoadedModel]] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, Future] = {}  # key -> the build in flight
        self._fetching: dict[str, Future] = {}  # key -> the download in flight
        # One build at a time: a build's transient memory (the parsed file beside the
        # trees being set up) is several times the finished session's, and two lanes
        # building at once stacked both on the worker's peak (docs/benchmarks.md).
        self._building = threading.Lock()

    def fetch(self, key: str) -> FetchedModel:
        """The model at ``key`` as stored now, and its metadata: one HEAD, and a download
        only when the cached session is not of this version (joined, if another lane is
        downloading the same file)."""
        return self._once(self._fetching, key, lambda: self._fetch(key))

    def _fetch(self, key: str) -> FetchedModel:
        version = self.store.version(key)
        with self._lock:
            cached = self._models.get(key)
        if cached is not None and cached[1].version == version:
            return FetchedModel(key, version, cached[1].metadata)
        stored = self.store.read(key)
        return FetchedModel(key, stored.version, read_metadata(key, stored.data), stored.data)

    def get(self, key: str, threads: int | None = None) -> LoadedModel:
        """The model at ``key`` with its session (:meth:`fetch`, then :meth:`build`)."""
        return self.build(self.fetch(key), threads)

    def build(self, fetched: FetchedModel, threads: int | None = None) -> LoadedModel:
        """The session of a fetched model: the cached one if current, else a new one with
        ``threads`` intra-op threads (default: the cache's).

        A build already in flight for the same key (another lane's: two models, one file) is
        joined, not repeated: two copies of a 20,000-tree session would double its CPU and
        memory. If that build fails, this call tries once itself and reports its own error.
        """
        return self._once(self._loading, fetched.key, lambda: self._build(fetched, threads))

    def _once(self, flights: dict[str, Future], key: str, work: Callable[[], T]) -> T:
        """``work()`` for ``key``, or the result of the same work another thread has in
        flight; if that fails, this caller tries once itself and reports its own error."""
        with self._lock:
            pending = flights.get(key)
            owner = pending is None
            if owner:
                pending = flights[key] = Future()
        if not owner:
            try:
                return pending.result()
            except Exception:  # the other caller's failure; this model's own attempt decides
                return work()
        try:
            result = work()
        except BaseException as error:
            pending.set_exception(error)
            raise
        else:
            pending.set_result(result)
            return result
        finally:
            with self._lock:
                flights.pop(key, None)

    def _build(self, fetched: FetchedModel, threads: int | None) -> LoadedModel:
        key, version, data = fetched.key, fetched.version, fetched.data
        with self._lock:
            cached = self._models.get(key)
            if cached is not None and cached[1].version == version:
                self._models.move_to_end(key)
                return cached[1]
        if data is None:  # the cached session was dropped since the fetch: download again
            stored = self.store.read(key)
            version, data = stored.version, stored.data
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            twin = next((m for d, m in self._models.values() if d == digest), None)
        if twin is not None:
            model = dataclasses.replace(twin, key=key, version=version)
        else:
            with self._building:
                self._make_room(self.max_sessions - 1)  # before building: a lower peak
                model = load_model(key, version, data, threads or self.threads)
        with self._lock:
            self._models[key] = (digest, model)
            self._models.move_to_end(key)
        self._make_room(self.max_sessions)
        return model

    def _make_room(self, keep: int) -> None:
        """Drop least recently used sessions down to ``keep`` and return their memory."""
        with self._lock:
            dropped = 0
            while len(self._models) > keep:
                self._models.popitem(last=False)
                dropped += 1
        if dropped:
            release_free_memory()
