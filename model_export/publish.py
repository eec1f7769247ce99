"""Publish an exported file to the model store with history, and roll back to the previous one.

Why on top of ``scripts/publish_model.publish``: that function already checks the file loads
with the bot's metadata, writes ``<name>.onnx`` with its ``.sha256`` and points ``models.json``
at it; it is reused as is. What it lacks is a way back. Here, before a new file replaces the
current one, the current bytes are copied to ``<name>.onnx.<UTC timestamp>`` and listed, with
their checksum and transform, in ``<name>.onnx.history.json``. ``rollback`` takes the newest
entry, verifies its checksum, publishes it again through the same ``publish`` and drops the
entry, so a second rollback goes one version further back.

This uses only the store's read/write interface, so it works the same on a local folder and
on S3 (where the deployed bucket's versioning keeps every overwritten object as well).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from numerai_bot.model_store import ObjectMissing
from numerai_bot.models_config import CONFIG_KEY, ModelConfig, parse_models_config
from numerai_bot.ports import ModelStore
from scripts.publish_model import checked_entry, publish


class PublishError(RuntimeError):
    """Nothing to roll back to, or a stored file does not match its checksum."""


@dataclass(frozen=True)
class Published:
    """What a publish or rollback did."""

    entry: ModelConfig
    sha256: str
    archived: str | None  # key of the copy of the file it replaced, if any
    history: int  # versions left to roll back to


def artifact_key(model_name: str) -> str:
    """The key ``publish`` writes the model to (beside models.json)."""
    return f"{model_name}.onnx"


def history_key(model_name: str) -> str:
    """The key of the model's history index."""
    return f"{model_name}.onnx.history.json"


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def publish_with_history(
    store: ModelStore,
    model_name: str,
    data: bytes,
    transform: str = "rank",
    *,
    now: datetime | None = None,
    tournament: str | None = None,
) -> Published:
    """Archive the current file (if any), then publish ``data`` for ``model_name``.

    ``tournament``: refuse the file unless its metadata names it (the file's tournament must
    also match the model's existing entry; see ``scripts.publish_model.check_tournament``).
    """
    checked_entry(store, model_name, data, transform, tournament)  # refused before archiving
    history = read_history(store, model_name)
    archived = None
    try:
        current = store.read(artifact_key(model_name)).data
    except ObjectMissing:
        current = None
    if current is not None and sha256(current) != sha256(data):
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
        archived = f"{artifact_key(model_name)}.{stamp}"
        store.write(archived, current)
        history.append(
            {
                "key": archived,
                "sha256": sha256(current),
                "transform": _current_transform(store, model_name, transform),
                "archived_at": stamp,
            }
        )
    entry = publish(store, model_name, data, transform, tournament)
    if archived is not None:
        _write_history(store, model_name, history)
    return Published(entry, sha256(data), archived, len(history))


def rollback(store: ModelStore, model_name: str) -> Published:
    """Publish the newest archived version again and remove it from the history."""
    history = read_history(store, model_name)
    if not history:
        raise PublishError(
            f"no earlier version of {model_name} in {store.uri}: nothing to roll back to"
        )
    entry = history[-1]
    data = store.read(entry["key"]).data
    if sha256(data) != entry["sha256"]:
        raise PublishError(f"{entry['key']} does not match its recorded checksum: not restoring it")
    published = publish(store, model_name, data, entry.get("transform", "rank"))
    history.pop()
    _write_history(store, model_name, history)
    return Published(published, entry["sha256"], None, len(history))


def read_history(store: ModelStore, model_name: str) -> list[dict[str, Any]]:
    """The archived versions of ``model_name``, oldest first (empty when none)."""
    try:
        raw = store.read(history_key(model_name)).data
    except ObjectMissing:
        return []
    try:
        versions = json.loads(raw)["versions"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise PublishError(f"{history_key(model_name)} is not readable: {error}") from None
    return list(versions)


def _write_history(store: ModelStore, model_name: str, history: list[dict[str, Any]]) -> None:
    document = {"model": model_name, "versions": history}
    store.write(history_key(model_name), json.dumps(document, indent=2).encode() + b"\n")


def _current_transform(store: ModelStore, model_name: str, default: str) -> str:
    try:
        configs = parse_models_config(store.read(CONFIG_KEY).data)
    except ObjectMissing:
        return default
    return next((c.transform for c in configs if c.name == model_name), default)
