"""Which library a model comes from, how to load it, convert it and predict with it natively.

Why one place: the export, ``check`` and the CLI treat every library the same way (convert →
parity against the native prediction → metadata), so each library is reduced here to a
:class:`NativeModel` with four operations. Library modules are imported only when a model of
that kind is used, so a missing optional library (torch) only matters for its own models.

Detection: by file extension (``.txt`` LightGBM, ``.json``/``.ubj`` XGBoost, ``.cbm`` CatBoost,
``.pt``/``.pth`` torch), by content for ``.json`` and unknown extensions, and by the class of
the unpickled object for ``.pkl``/``.pickle``/``.joblib``. ``--kind`` overrides it.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import onnx

from model_export.converters.tree_graph import InputType
from model_export.native import ModelLoadError

__all__ = ["KINDS", "ModelLoadError", "NativeModel", "detect_file_kind", "load", "wrap"]

Kind = Literal["lightgbm", "xgboost", "catboost", "sklearn", "torch"]
KINDS: tuple[str, ...] = get_args(Kind)
# Distributions whose versions decide what each kind of export computes (for the metadata).
KIND_LIBRARIES: dict[str, tuple[str, ...]] = {
    "lightgbm": ("lightgbm",),
    "xgboost": ("xgboost", "xgboost-cpu"),
    "catboost": ("catboost",),
    "sklearn": ("scikit-learn", "skl2onnx"),
    "torch": ("torch",),
}
TREE_KINDS = frozenset({"lightgbm", "xgboost", "catboost"})
_EXTENSIONS = {
    ".txt": "lightgbm",
    ".lgb": "lightgbm",
    ".ubj": "xgboost",
    ".cbm": "catboost",
    ".pt": "torch",
    ".pth": "torch",
}
_PICKLES = (".pkl", ".pickle", ".joblib")


@dataclass
class NativeModel:
    """A loaded model of one library and its own feature names (placeholders if it has none)."""

    kind: str
    obj: Any
    feature_names: list[str]

    @property
    def libraries(self) -> tuple[str, ...]:
        """Distributions to record in the metadata for this kind."""
        return KIND_LIBRARIES[self.kind]

    def iterations(self, requested: int | None = None) -> int | None:
        """Trees/rounds to export (None for models without iterations)."""
        if self.kind == "lightgbm":
            from model_export.converters.lightgbm_onnx import resolve_num_iteration

            return resolve_num_iteration(self.obj, requested)
        if self.kind == "xgboost":
            from model_export.converters.xgboost_onnx import resolve_iterations

            return resolve_iterations(self.obj, requested)
        if self.kind == "catboost":
            from model_export.converters import catboost_onnx

            return catboost_onnx.resolve_iterations(self.obj, requested)
        return None

    def refuse_unsupported(self, iterations: int | None = None) -> None:
        """Refuse, before any data is read, what the converter cannot reproduce and the data
        options would not fix, so the first error is the one that matters (a LightGBM model
        with categorical splits is told so, not asked for a string vocabulary)."""
        if self.kind == "lightgbm":
            from model_export.converters.lightgbm_onnx import refuse_categorical_splits

            refuse_categorical_splits(self.obj, int(self.iterations(iterations) or 0))

    def to_onnx(
        self,
        graph_names: Sequence[str],
        iterations: int | None,
        input_type: InputType = "float32",
        precision: str | None = None,
    ) -> onnx.ModelProto:
        """The converted graph, reading columns in ``graph_names`` order."""
        if self.kind == "lightgbm":
            from model_export.converters.lightgbm_onnx import booster_to_onnx

            return booster_to_onnx(
                self.obj,
                feature_names=graph_names,
                num_iteration=iterations,
                input_type=input_type,
                precision=precision or "double",  # type: ignore[arg-type]
            )
        if self.kind == "xgboost":
            from model_export.converters.xgboost_onnx import xgboost_to_onnx

            return xgboost_to_onnx(
                self.obj,
                feature_names=graph_names,
                num_iteration=iterations,
                input_type=input_type,
                precision=precision or "native",  # type: ignore[arg-type]
            )
        if self.kind == "catboost":
            from model_export.converters.catboost_onnx import catboost_to_onnx

            return catboost_to_onnx(
                self.obj, feature_names=graph_names, num_iteration=iterations, input_type=input_type
            )
        if self.kind == "sklearn":
            from model_export.converters.sklearn_onnx import sklearn_to_onnx

            return sklearn_to_onnx(self.obj, graph_names, input_type=input_type)
        from model_export.converters.torch_onnx import torch_to_onnx

        return torch_to_onnx(self.obj, len(graph_names), input_type=input_type)

    def predict(
        self, matrix: np.ndarray, graph_names: Sequence[str], iterations: int | None
    ) -> np.ndarray:
        """The library's own predictions (float64) for rows whose columns follow graph_names."""
        if self.kind == "lightgbm":
            from model_export.native import native_predict

            return native_predict(self.obj, matrix, graph_names, int(iterations or 0))
        if self.kind == "xgboost":
            from model_export.converters import xgboost_onnx

            return xgboost_onnx.native_predict(self.obj, matrix, graph_names, int(iterations or 0))
        if self.kind == "catboost":
            from model_export.converters import catboost_onnx

            return catboost_onnx.native_predict(self.obj, matrix, graph_names, int(iterations or 0))
        if self.kind == "sklearn":
            from model_export.converters import sklearn_onnx

            return sklearn_onnx.native_predict(self.obj, matrix, graph_names)
        from model_export.converters import torch_onnx
        from model_export.features import model_columns

        return torch_onnx.native_predict(
            self.obj, matrix[:, model_columns(self.feature_names, graph_names)]
        )


def wrap(obj: Any, kind: str | None = None) -> NativeModel:
    """A :class:`NativeModel` for an in-memory model object (kind detected from its class)."""
    kind = kind or detect_object_kind(obj)
    if kind == "lightgbm":
        import lightgbm as lgb

        booster = obj if isinstance(obj, lgb.Booster) else getattr(obj, "booster_", None)
        if not isinstance(booster, lgb.Booster):
            raise ModelLoadError(f"a {type(obj).__name__} is not a LightGBM Booster/LGBMRegressor")
        return NativeModel(kind, booster, list(booster.feature_name()))
    if kind == "xgboost":
        import xgboost as xgb

        from model_export.converters.xgboost_onnx import model_feature_names

        booster = obj if isinstance(obj, xgb.Booster) else obj.get_booster()
        return NativeModel(kind, booster, model_feature_names(booster))
    if kind == "catboost":
        from model_export.converters.catboost_onnx import model_feature_names

        return NativeModel(kind, obj, model_feature_names(obj))
    if kind == "sklearn":
        from model_export.converters.sklearn_onnx import model_feature_names

        return NativeModel(kind, obj, model_feature_names(obj))
    if kind == "torch":
        from model_export.features import unnamed

        width = _torch_input_width(obj)
        return NativeModel(kind, obj, unnamed(width) if width else [])
    raise ModelLoadError(f"unknown model kind {kind!r}: use one of {', '.join(KINDS)}")


def detect_object_kind(obj: Any) -> str:
    """The kind of an unpickled object, from the package its class (or a base) comes from."""
    roots = {cls.__module__.split(".")[0] for cls in type(obj).__mro__}
    for kind in ("lightgbm", "xgboost", "catboost", "torch"):
        if kind in roots:
            return kind
    if "sklearn" in roots:
        steps = getattr(obj, "steps", None)  # a pipeline ending in another library's model
        if steps and {"lightgbm", "xgboost", "catboost"} & {
            type(steps[-1][1]).__module__.split(".")[0]
        }:
            raise ModelLoadError(
                "a scikit-learn Pipeline ending in a LightGBM/XGBoost/CatBoost model is not "
                "supported: export the final model alone (preprocessing must be in the data)"
            )
        return "sklearn"
    raise ModelLoadError(
        f"cannot tell which library a {type(obj).__module__}.{type(obj).__name__} comes from: "
        f"pass --kind ({', '.join(KINDS)})"
    )


def detect_file_kind(path: Path) -> str:
    """The kind of a model file from its extension, else from its first bytes."""
    suffix = path.suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    head = path.read_bytes()[:4096]
    if suffix == ".json" or head.lstrip()[:1] == b"{":
        return _json_kind(path)
    if head[:1] == b"\x80" or suffix in _PICKLES:
        return "pickle"
    if head.startswith(b"tree") or b"\nversion=v" in head:
        return "lightgbm"
    raise ModelLoadError(
        f"cannot tell what kind of model {path} is: pass --kind ({', '.join(KINDS)})"
    )


def _json_kind(path: Path) -> str:
    try:
        document = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelLoadError(f"{path} is not valid JSON: {error}") from None
    if isinstance(document, dict) and "learner" in document:
        return "xgboost"
    if isinstance(document, dict) and "oblivious_trees" in document:
        return "catboost"
    raise ModelLoadError(f"{path} is neither an XGBoost nor a CatBoost JSON model")


def load(path: Path, kind: str | None = None) -> NativeModel:
    """Load a model file; ``kind`` (one of :data:`KINDS`) skips detection.

    Pickles and torch files run code from the file when loaded: only load files you trust.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"model file {path} does not exist")
    if kind is not None and kind not in KINDS:
        raise ModelLoadError(f"unknown model kind {kind!r}: use one of {', '.join(KINDS)}")
    detected = detect_file_kind(path)
    if detected == "pickle":
        return wrap(_unpickle(path), kind)
    kind = kind or detected
    try:
        if kind == "lightgbm":
            from model_export.native import load_native_model

            return wrap(load_native_model(path), kind)
        if kind == "xgboost":
            from model_export.converters.xgboost_onnx import load_booster

            return wrap(load_booster(path), kind)
        if kind == "catboost":
            from model_export.converters.catboost_onnx import load_model

            return wrap(load_model(path), kind)
        if kind == "torch":
            from model_export.converters.torch_onnx import load_module

            return wrap(load_module(path), kind)
    except ModelLoadError:
        raise
    except Exception as error:  # each library raises its own types for unreadable files
        raise ModelLoadError(f"cannot load {path} as a {kind} model: {error}") from None
    raise ModelLoadError(f"{kind} models are read from pickles (.pkl/.joblib): {path}")


def _unpickle(path: Path) -> Any:
    try:
        if path.suffix.lower() == ".joblib":
            import joblib

            return joblib.load(path)  # the user's own model file
        with path.open("rb") as handle:
            return pickle.load(handle)  # noqa: S301 - the user's own model file
    except Exception as error:  # any unpickling failure: say what was expected
        raise ModelLoadError(f"cannot unpickle {path}: {error}") from None


def _torch_input_width(module: Any) -> int | None:
    """The in_features of the module's first Linear layer, if it has one.

    A traced TorchScript module keeps no ``in_features``: there the width is read from the
    first Linear weight ([out, in]) instead.
    """
    for child in getattr(module, "modules", lambda: [])():
        width = getattr(child, "in_features", None)
        if isinstance(width, int):
            return width
    for name, weight in getattr(module, "named_parameters", lambda: [])():
        if name.endswith("weight") and len(getattr(weight, "shape", ())) == 2:
            return int(weight.shape[1])
    return None
