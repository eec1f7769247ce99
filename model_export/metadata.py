"""Write and read the model description in an ONNX file's ``metadata_props``.

Why here: the worker selects live columns by the ordered feature list stored in the file and
refuses files without it (contract: ``numerai_bot.model_metadata``). The exporter fills that
contract plus provenance: library versions, creation time, parity figures, where it came from.
``onnx.helper.set_model_props`` would drop every other property, so properties are merged.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import onnx
import onnxruntime as ort

from numerai_bot.model_metadata import ModelMetadata

# Libraries whose versions decide what the model computes (recorded in every export, plus
# the model's own library).
RECORDED_LIBRARIES = ("onnx", "onnxruntime", "numpy", "pandas", "pyarrow")


def library_versions(names: Sequence[str] = RECORDED_LIBRARIES) -> dict[str, str]:
    """Installed versions of ``names`` (missing ones skipped) and the Python version."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def utc_now() -> str:
    """The current time as a UTC ISO 8601 string, seconds precision (``…T12:00:00+00:00``)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def build_metadata(
    features: Sequence[str],
    data_version: str,
    *,
    target: str = "target",
    model_name: str = "",
    parity: Mapping[str, Any] | None = None,
    validation: Mapping[str, Any] | None = None,
    source: str = "lightgbm",
    created_at: str | None = None,
    libraries: Sequence[str] | None = None,
    tournament: str = "classic",
    string_features: Sequence[str] = (),
    model_input: str = "numerai",
) -> ModelMetadata:
    """A :class:`ModelMetadata` stamped with versions and time.

    ``libraries``: the model's own distributions (default: ``source``'s name, e.g. lightgbm).
    ``model_input``: what the worker must feed it, Numerai's live file or the user's own
    table (``"own"``), checked against the model's ``models.json`` entry.
    """
    own = tuple(libraries) if libraries is not None else (source,)
    metadata = ModelMetadata(
        features=tuple(features),
        data_version=data_version,
        target=target,
        model_name=model_name,
        source=source,
        created_at=created_at or utc_now(),
        libraries=library_versions((*own, *RECORDED_LIBRARIES)),
        parity=dict(parity or {}),
        validation=dict(validation or {}),
        tournament=tournament,
        string_features=tuple(string_features),
        input=model_input,
    )
    # Fail at export time, not in the worker: the contract's own checks on a round trip.
    return ModelMetadata.from_props(metadata.to_props())


def write_metadata(model: onnx.ModelProto, metadata: ModelMetadata) -> onnx.ModelProto:
    """Set ``metadata``'s properties on ``model`` in place, keeping unrelated properties."""
    props = {entry.key: entry.value for entry in model.metadata_props}
    props.update(metadata.to_props())
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = value
    return model


def read_props(path: Path | str) -> dict[str, str]:
    """The custom metadata map exactly as the worker sees it (through onnxruntime)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return dict(session.get_modelmeta().custom_metadata_map)


def read_metadata(path: Path | str) -> ModelMetadata:
    """Parse the file's metadata with the worker's contract (raises ``MetadataError``)."""
    return ModelMetadata.from_props(read_props(path))
