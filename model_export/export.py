"""Export a model (LightGBM, XGBoost, CatBoost, scikit-learn, torch) to a checked, self-describing
ONNX file.

Steps: convert (double-precision TreeEnsemble) → run the file with onnxruntime on a sample of
real rows, once per Lambda thread count → compare with the native predictions → refuse when
any row changes rank (unless explicitly overridden) → write metadata → write the file.
Nothing is written when parity fails, so a bad file can never reach the bucket by accident.

A model that reads string features gets them encoded inside its graph
(:mod:`model_export.string_features`); its parity rows are then a numeric matrix plus the
[N, k] string matrix, fed to the graph as the worker feeds it, while the native model reads
the same rows with the strings replaced by their codes.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import onnx

from model_export.converters.libraries import NativeModel, wrap
from model_export.converters.lightgbm_onnx import Precision
from model_export.converters.tree_graph import InputType
from model_export.features import FeatureError, resolve_feature_order
from model_export.metadata import build_metadata, write_metadata
from model_export.native import ModelLoadError
from model_export.parity import (
    LAMBDA_THREAD_COUNTS,
    ParityError,
    ParityReport,
    ParityThresholds,
    check_parity,
)
from model_export.string_features import (
    StringEncoding,
    StringFeatureError,
    add_string_inputs,
    full_matrix,
)
from numerai_bot.model_metadata import ModelMetadata

# What ``precision`` means per kind when not given (recorded in the parity metadata).
DEFAULT_PRECISION = {"xgboost": "native float32 order", "torch": "float32"}


@dataclass
class ExportResult:
    """What an export produced and measured."""

    model: onnx.ModelProto
    metadata: ModelMetadata
    report: ParityReport
    num_iteration: int | None
    path: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def size_bytes(self) -> int:
        """Size of the serialised model."""
        return self.model.ByteSize()


def export_model(
    native: NativeModel,
    check_matrix: np.ndarray,
    *,
    data_version: str,
    feature_names: Sequence[str] | None = None,
    num_iteration: int | None = None,
    target: str = "target",
    model_name: str = "",
    validation: Mapping[str, Any] | None = None,
    input_type: InputType = "float32",
    precision: str | None = None,
    thresholds: ParityThresholds | None = None,
    thread_counts: Iterable[int] = LAMBDA_THREAD_COUNTS,
    allow_parity_failure: bool = False,
    output: Path | None = None,
    tournament: str = "classic",
    strings: np.ndarray | None = None,
    string_encoding: StringEncoding | None = None,
    model_input: str = "numerai",
) -> ExportResult:
    """Convert any supported model, check parity on ``check_matrix`` (numeric columns in
    graph order, as read), describe, write.

    With ``string_encoding``, its columns are string features: encoded inside the graph,
    fed as ``strings`` [rows, k] for the parity check, and left out of ``check_matrix``.
    The native model reads ``check_matrix`` as given (float64 stays float64) and the graph
    the same rows cast to ``input_type``, so a narrowing input type shows in the figures.

    ``model_input`` (``"numerai"`` or ``"own"``) is recorded as the metadata's
    ``numerai.input``: the data the worker must feed the file.

    Raises :class:`ParityError` (carrying the report) when parity fails and
    ``allow_parity_failure`` is False; then nothing is written. With the override, the file
    is written and its metadata records ``parity.ok = false`` and ``parity.overridden``.
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    iterations = native.iterations(num_iteration)
    graph_names = graph_feature_order(native, feature_names)
    string_names = _string_names(graph_names, string_encoding)
    model = native.to_onnx(graph_names, iterations, input_type, precision)
    if string_encoding is not None:
        model = add_string_inputs(model, graph_names, string_encoding.restricted(string_names))
    timings["convert"] = time.perf_counter() - start

    numeric_count = len(graph_names) - len(string_names)
    if check_matrix.ndim != 2 or check_matrix.shape[1] != numeric_count:
        raise ValueError(
            f"check matrix has shape {check_matrix.shape}; expected [rows, {numeric_count}]"
        )
    native_matrix = check_matrix
    if string_encoding is not None:
        if strings is None or strings.shape != (len(check_matrix), len(string_names)):
            raise ValueError(f"pass the [rows, {len(string_names)}] strings of {string_names}")
        codes = string_encoding.encode(strings, string_names)
        native_matrix = full_matrix(check_matrix, codes, graph_names, string_names)
    matrix = check_matrix.astype(np.float32 if input_type == "float32" else np.float64)
    start = time.perf_counter()
    expected = native_predictions(native, native_matrix, graph_names, iterations)
    report = check_parity(
        model.SerializeToString(),
        matrix,
        expected,
        thread_counts=thread_counts,
        thresholds=thresholds,
        strings=strings if string_names else None,
    )
    timings["parity"] = time.perf_counter() - start
    if not report.ok and not allow_parity_failure:
        raise ParityError(report)

    parity = report.figures()
    if iterations is not None:
        parity["num_iteration"] = iterations
    parity["precision"] = precision or DEFAULT_PRECISION.get(native.kind, "double")
    if not report.ok:
        parity["overridden"] = True
    metadata = build_metadata(
        graph_names,
        data_version,
        target=target,
        model_name=model_name,
        parity=parity,
        validation=validation,
        source=native.kind,
        libraries=native.libraries,
        tournament=tournament,
        string_features=string_names,
        model_input=model_input,
    )
    write_metadata(model, metadata)
    result = ExportResult(model, metadata, report, iterations, seconds=timings)
    if output is not None:
        result.path = save_model(model, Path(output))
    return result


def _string_names(graph_names: Sequence[str], encoding: StringEncoding | None) -> list[str]:
    """The string features in graph order; every encoded column must be a model feature."""
    if encoding is None:
        return []
    unknown = [name for name in encoding.columns if name not in set(graph_names)]
    if unknown:
        raise StringFeatureError(f"string column(s) {', '.join(unknown)} are not model features")
    return [name for name in graph_names if name in set(encoding.columns)]


def native_predictions(
    native: NativeModel, matrix: np.ndarray, graph_names: Sequence[str], iterations: int | None
) -> np.ndarray:
    """The native model's predictions, or :class:`ModelLoadError` saying why it cannot."""
    try:
        return native.predict(matrix, graph_names, iterations)
    except Exception as error:  # each library raises its own types (e.g. NaN refused)
        raise ModelLoadError(
            f"the {native.kind} model cannot predict the parity rows ({str(error)[:300]}): "
            "check them with rows it accepts (e.g. without NaN if it was trained without)"
        ) from None


def graph_feature_order(native: NativeModel, given: Sequence[str] | None) -> list[str]:
    """The graph's input columns for ``native`` (see :func:`resolve_feature_order`).

    A torch module knows neither names nor (always) its width: the given list is taken as is.
    """
    if not native.feature_names:
        if not given:
            raise FeatureError(
                "the model does not say which columns it reads: pass the ordered feature list "
                "(--features-json with --feature-set, or --feature-list)"
            )
        return list(given)
    return resolve_feature_order(native.feature_names, given)


def export_lightgbm(
    booster: lgb.Booster,
    check_matrix: np.ndarray,
    *,
    data_version: str,
    feature_names: Sequence[str] | None = None,
    num_iteration: int | None = None,
    target: str = "target",
    model_name: str = "",
    validation: Mapping[str, Any] | None = None,
    input_type: InputType = "float32",
    precision: Precision = "double",
    thresholds: ParityThresholds | None = None,
    thread_counts: Iterable[int] = LAMBDA_THREAD_COUNTS,
    allow_parity_failure: bool = False,
    output: Path | None = None,
) -> ExportResult:
    """:func:`export_model` for a LightGBM Booster (the original entry point, kept)."""
    return export_model(
        wrap(booster, "lightgbm"),
        check_matrix,
        data_version=data_version,
        feature_names=feature_names,
        num_iteration=num_iteration,
        target=target,
        model_name=model_name,
        validation=validation,
        input_type=input_type,
        precision=precision,
        thresholds=thresholds,
        thread_counts=thread_counts,
        allow_parity_failure=allow_parity_failure,
        output=output,
    )


def save_model(model: onnx.ModelProto, path: Path) -> Path:
    """Write ``model`` atomically (temporary file + rename): no half-written ``.onnx``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(model.SerializeToString())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
