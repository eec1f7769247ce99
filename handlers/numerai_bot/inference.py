"""ONNX models: load a file into an onnxruntime session, check it, run it.

Sessions are cached per artifact version, so a warm Lambda builds each one once and a
replaced file is picked up on the next round.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from numerai_bot.allocator import release_free_memory
from numerai_bot.errors import ModelError, PredictionError
from numerai_bot.live_data import FeatureMatrix
from numerai_bot.model_metadata import MetadataError, ModelMetadata
from numerai_bot.model_store import ModelStore

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

    def predict(self, matrix: FeatureMatrix | np.ndarray) -> np.ndarray:
        """Run the graph on ``matrix`` (rows × features, in metadata order); 1-D float64.

        A :class:`FeatureMatrix` is fed a batch of rows at a time in the model's input type,
        so memory stays flat whatever the width; an array is run as given.
        """
        rows, width = matrix.shape
        if width != len(self.metadata.features):
            raise PredictionError(
                f"input has {width} columns, model expects {len(self.metadata.features)}"
            )
        if isinstance(matrix, np.ndarray):
            return self._run(matrix, rows)
        out = np.empty(rows, dtype=np.float64)
        for start, block in matrix.batches(self.input_dtype):
            out[start : start + block.shape[0]] = self._run(block, block.shape[0])
        return out

    def _run(self, block: np.ndarray, rows: int) -> np.ndarray:
        try:
            outputs = self.session.run(None, {self.input_name: block})
        except Exception as error:  # onnxruntime raises its own exception types
            raise PredictionError(f"onnxruntime failed: {str(error)[:300]}") from None
        raw = np.asarray(outputs[0])
        if raw.ndim == 2 and raw.shape[1] == 1:
            raw = raw[:, 0]
        if raw.ndim != 1 or raw.shape[0] != rows:
            raise PredictionError(
                f"model output has shape {raw.shape}, expected one value per row ({rows})"
            )
        return raw.astype(np.float64, copy=False)


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


def load_model(key: str, version: str, data: bytes, threads: int | None = None) -> LoadedModel:
    """Build a session from bytes and check input/output shapes against the metadata."""
    try:
        session = ort.InferenceSession(
            data, sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # corrupt or unsupported file
        raise ModelError(f"{key} is not a loadable ONNX model: {str(error)[:200]}") from None
    try:
        metadata = ModelMetadata.from_props(session.get_modelmeta().custom_metadata_map)
    except MetadataError as error:
        raise ModelError(f"{key}: {error}") from None
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ModelError(f"{key} has {len(inputs)} inputs; the bot feeds exactly one matrix")
    graph_input = inputs[0]
    dtype = INPUT_DTYPES.get(graph_input.type)
    if dtype is None:
        raise ModelError(f"{key} takes {graph_input.type}; export it with a float or double input")
    width = graph_input.shape[-1] if graph_input.shape else None
    if isinstance(width, int) and width != len(metadata.features):
        raise ModelError(
            f"{key} takes {width} columns but its metadata lists {len(metadata.features)} features"
        )
    return LoadedModel(key, version, metadata, session, graph_input.name, dtype)


class ModelCache:
    """Sessions kept across warm invocations, rebuilt when the stored object changes.

    At most ``max_sessions`` are kept (least recently used go first): a 2,000-tree session
    holds 10-15 MB, and a round uses each model's session once, so keeping more only helps
    a container that runs the same models again (a retry, the schedule's catch-up). Files
    with the same bytes share one session.
    """

    def __init__(self, store: ModelStore, threads: int | None = None, max_sessions: int = 2):
        self.store = store
        self.threads = threads
        self.max_sessions = max(1, max_sessions)
        self._models: OrderedDict[str, tuple[str, LoadedModel]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> LoadedModel:
        """The model at ``key``; one HEAD per call, a download only when it changed."""
        version = self.store.version(key)
        with self._lock:
            cached = self._models.get(key)
            if cached is not None and cached[1].version == version:
                self._models.move_to_end(key)
                return cached[1]
        stored = self.store.read(key)
        digest = hashlib.sha256(stored.data).hexdigest()
        with self._lock:
            twin = next((m for d, m in self._models.values() if d == digest), None)
        if twin is not None:
            model = dataclasses.replace(twin, key=key, version=stored.version)
        else:
            self._make_room(self.max_sessions - 1)  # before building: a lower peak
            model = load_model(key, stored.version, stored.data, self.threads)
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
