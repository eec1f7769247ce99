"""Which Numerai model (by name) runs which ONNX artifact: ``models.json`` in the model store.

Example::

    {"models": {"my_model": {"artifact": "my_model.onnx", "transform": "rank"}}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from numerai_bot.errors import ConfigError
from numerai_bot.events import MODEL_NAME
from numerai_bot.model_store import ModelStore, ObjectMissing

CONFIG_KEY = "models.json"
TRANSFORMS = ("rank", "raw")


@dataclass(frozen=True)
class ModelConfig:
    """One configured model: its Numerai name, artifact key and output transform."""

    name: str
    artifact: str
    transform: str = "rank"
    data_version: str = ""  # from the file's metadata at publish time; lets shards pre-stage


def parse_models_config(text: str | bytes) -> list[ModelConfig]:
    """Parse and check the document; every problem is named in one :class:`ConfigError`."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{CONFIG_KEY} is not valid JSON: {error}") from None
    models = document.get("models") if isinstance(document, dict) else None
    if not isinstance(models, dict) or not models:
        raise ConfigError(
            f'{CONFIG_KEY} must look like {{"models": {{"<name>": {{"artifact": …}}}}}}'
        )
    problems: list[str] = []
    configs: list[ModelConfig] = []
    for name, entry in models.items():
        if not MODEL_NAME.fullmatch(name):
            problems.append(f"{name!r} is not a valid Numerai model name")
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("artifact"), str):
            problems.append(f"model {name!r} needs an 'artifact' key (the ONNX file's path)")
            continue
        transform = entry.get("transform", "rank")
        if transform not in TRANSFORMS:
            problems.append(f"model {name!r}: transform must be one of {', '.join(TRANSFORMS)}")
            continue
        unknown = set(entry) - {"artifact", "transform", "data_version"}
        if unknown:
            problems.append(f"model {name!r}: unknown keys {', '.join(sorted(unknown))}")
            continue
        configs.append(
            ModelConfig(name, entry["artifact"], transform, str(entry.get("data_version", "")))
        )
    if problems:
        raise ConfigError(f"{CONFIG_KEY}: " + "; ".join(problems))
    return configs


def load_models_config(store: ModelStore) -> list[ModelConfig]:
    """Read ``models.json`` from the store."""
    try:
        raw = store.read(CONFIG_KEY).data
    except ObjectMissing:
        raise ConfigError(
            f"no {CONFIG_KEY} in {store.uri}: publish a model first "
            "(python -m scripts.publish_model --help)"
        ) from None
    return parse_models_config(raw)


def render_models_config(configs: list[ModelConfig]) -> bytes:
    """The document for ``configs`` (used when publishing)."""
    models = {
        c.name: {"artifact": c.artifact, "transform": c.transform}
        | ({"data_version": c.data_version} if c.data_version else {})
        for c in configs
    }
    return (json.dumps({"models": models}, indent=2, sort_keys=True) + "\n").encode()
