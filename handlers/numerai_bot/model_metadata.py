"""What an ONNX model file must say about itself, stored in its ``metadata_props``.

The exporter (``model_export``) writes it, the worker reads it back through onnxruntime's
``custom_metadata_map``. The worker trusts only this for column selection and refuses a
file without it, so a model can never be fed columns in the wrong order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = "1"
PREFIX = "numerai."

KEY_SCHEMA = PREFIX + "schema"
KEY_FEATURES = PREFIX + "features"
KEY_DATA_VERSION = PREFIX + "data_version"
KEY_TARGET = PREFIX + "target"
KEY_MODEL_NAME = PREFIX + "model_name"
KEY_SOURCE = PREFIX + "source"
KEY_CREATED_AT = PREFIX + "created_at"
KEY_LIBRARIES = PREFIX + "libraries"
KEY_PARITY = PREFIX + "parity"
KEY_VALIDATION = PREFIX + "validation"
# Which tournament the model was trained for ("classic", "signals", "crypto"; absent = classic)
KEY_TOURNAMENT = PREFIX + "tournament"
# Features fed to the graph as strings (encoded inside the graph), JSON list; absent = none.
KEY_STRING_FEATURES = PREFIX + "string_features"
# Where the model's live input comes from: "numerai" (absent) or "own" (the user's table).
KEY_INPUT = PREFIX + "input"
KNOWN_INPUTS = ("numerai", "own")  # numerai_bot.model_input.SOURCES, kept literal likewise

REQUIRED_KEYS = (KEY_SCHEMA, KEY_FEATURES, KEY_DATA_VERSION)
# The names of numerai_bot.tournaments.TOURNAMENTS (kept literal: model_export imports this
# module without the worker's other code).
KNOWN_TOURNAMENTS = ("classic", "signals", "crypto")


class MetadataError(ValueError):
    """The file's metadata is missing or unusable; the message says which key and why."""


@dataclass(frozen=True)
class ModelMetadata:
    """The description an exported model carries. ``features`` is the graph's input order."""

    features: tuple[str, ...]
    data_version: str
    target: str = "target"
    model_name: str = ""
    source: str = ""
    created_at: str = ""
    libraries: Mapping[str, str] = field(default_factory=dict)
    parity: Mapping[str, Any] = field(default_factory=dict)
    validation: Mapping[str, Any] = field(default_factory=dict)
    tournament: str = "classic"
    string_features: tuple[str, ...] = ()
    input: str = "numerai"

    @property
    def numeric_features(self) -> tuple[str, ...]:
        """The features fed to the graph's numeric input, in order."""
        strings = set(self.string_features)
        return tuple(f for f in self.features if f not in strings)

    def to_props(self) -> dict[str, str]:
        """Flatten to string key/values for ``onnx`` ``metadata_props``."""
        props = {
            KEY_SCHEMA: SCHEMA_VERSION,
            KEY_FEATURES: json.dumps(list(self.features)),
            KEY_DATA_VERSION: self.data_version,
            KEY_TARGET: self.target,
            KEY_MODEL_NAME: self.model_name,
            KEY_SOURCE: self.source,
            KEY_CREATED_AT: self.created_at,
            KEY_LIBRARIES: json.dumps(dict(self.libraries), sort_keys=True),
            KEY_PARITY: json.dumps(dict(self.parity), sort_keys=True),
            KEY_VALIDATION: json.dumps(dict(self.validation), sort_keys=True),
            KEY_TOURNAMENT: self.tournament,
        }
        if self.string_features:
            props[KEY_STRING_FEATURES] = json.dumps(list(self.string_features))
        if self.input != "numerai":
            props[KEY_INPUT] = self.input
        return props

    @classmethod
    def from_props(cls, props: Mapping[str, str]) -> ModelMetadata:
        """Parse and check the metadata map; raises :class:`MetadataError` with the cause."""
        missing = [key for key in REQUIRED_KEYS if not props.get(key)]
        if missing:
            raise MetadataError(
                f"ONNX file has no {', '.join(missing)} metadata; export it with model_export "
                "so that it carries its ordered feature list and data version"
            )
        if props[KEY_SCHEMA] != SCHEMA_VERSION:
            raise MetadataError(
                f"metadata schema {props[KEY_SCHEMA]!r} is not supported (expected "
                f"{SCHEMA_VERSION!r}); re-export the model with this version of model_export"
            )
        features = _json(props, KEY_FEATURES)
        if (
            not isinstance(features, list)
            or not features
            or not all(isinstance(name, str) and name for name in features)
        ):
            raise MetadataError(f"{KEY_FEATURES} must be a non-empty JSON list of column names")
        if len(set(features)) != len(features):
            raise MetadataError(f"{KEY_FEATURES} lists a column more than once")
        data_version = props[KEY_DATA_VERSION]
        if not data_version.startswith("v"):
            raise MetadataError(f"{KEY_DATA_VERSION} must look like 'v5.2', got {data_version!r}")
        tournament = (props.get(KEY_TOURNAMENT) or "classic").strip().lower()
        if tournament not in KNOWN_TOURNAMENTS:
            raise MetadataError(
                f"{KEY_TOURNAMENT} {tournament!r} is not one of {', '.join(KNOWN_TOURNAMENTS)}"
            )
        source = (props.get(KEY_INPUT) or "numerai").strip().lower()
        if source not in KNOWN_INPUTS:
            raise MetadataError(f"{KEY_INPUT} {source!r} is not one of {', '.join(KNOWN_INPUTS)}")
        strings = _json(props, KEY_STRING_FEATURES, default=[])
        if not isinstance(strings, list) or not set(strings) <= set(features):
            raise MetadataError(f"{KEY_STRING_FEATURES} must list some of the model's features")
        return cls(
            features=tuple(features),
            tournament=tournament,
            string_features=tuple(f for f in features if f in set(strings)),
            input=source,
            data_version=data_version,
            target=props.get(KEY_TARGET) or "target",
            model_name=props.get(KEY_MODEL_NAME, ""),
            source=props.get(KEY_SOURCE, ""),
            created_at=props.get(KEY_CREATED_AT, ""),
            libraries=_json(props, KEY_LIBRARIES, default={}),
            parity=_json(props, KEY_PARITY, default={}),
            validation=_json(props, KEY_VALIDATION, default={}),
        )

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly view (feature list shortened) for logs and ``describe``."""
        view = asdict(self)
        view["features"] = f"{len(self.features)} columns ({self.features[0]} …)"
        return view


def _json(props: Mapping[str, str], key: str, default: Any = None) -> Any:
    raw = props.get(key)
    if not raw:
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise MetadataError(f"{key} is not valid JSON: {error}") from None
