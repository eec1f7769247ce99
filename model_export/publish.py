"""Publish an ONNX file for a Numerai model name, with history, and roll back to the previous one.

The one publish of the project: ``numerai-bot publish``, ``python -m model_export.cli publish``
and the local stand-ins (demo, tests, season) all call :func:`publish`, so every file that
reaches a model store went through the same checks and can be rolled back.

Before anything is written, the file is loaded the way the worker loads it and refused
without the bot's metadata, or when its tournament differs from the one asked for or from the
model's existing entry, so a broken file never reaches the store. Then the current file, if it
differs, is copied to ``<name>.onnx.<UTC timestamp>`` and listed, with its checksum and
transform, in ``<name>.onnx.history.json``; the new file is written with its ``.sha256`` and
measured cost, and ``models.json`` points the model at it (the entry's other settings kept).
:func:`rollback` takes the newest history entry, verifies its checksum, publishes it again and
drops the entry, so a second rollback goes one version further back.

Only the store's read/write interface is used, so this works the same on a local folder and on
S3 (where the deployed bucket's versioning keeps every overwritten object as well).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from model_export import cost
from numerai_bot.errors import BotError, ConfigError, ObjectMissing
from numerai_bot.events import MODEL_NAME
from numerai_bot.inference import load_model
from numerai_bot.models_config import (
    CONFIG_KEY,
    ModelConfig,
    parse_models_config,
    render_models_config,
)
from numerai_bot.ports import ModelStore
from numerai_bot.tournaments import Tournament, tournament

logger = logging.getLogger(__name__)


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
    """The key the model's file is written to (beside models.json)."""
    return f"{model_name}.onnx"


def history_key(model_name: str) -> str:
    """The key of the model's history index."""
    return f"{model_name}.onnx.history.json"


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def publish(
    store: ModelStore,
    model_name: str,
    data: bytes,
    transform: str = "rank",
    *,
    tournament: str | Tournament | None = None,
    now: datetime | None = None,
) -> Published:
    """Check ``data``, archive the file it replaces, write it and point ``model_name`` at it.

    ``tournament``: refuse the file unless its metadata names it (the file's tournament must
    also match the model's existing entry; see :func:`check_tournament`).
    """
    entry, others = checked_entry(store, model_name, data, transform, tournament)
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
    entry = _write(store, entry, others, data)
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
    newest = history[-1]
    data = store.read(newest["key"]).data
    if sha256(data) != newest["sha256"]:
        raise PublishError(
            f"{newest['key']} does not match its recorded checksum: not restoring it"
        )
    entry, others = checked_entry(store, model_name, data, newest.get("transform", "rank"))
    entry = _write(store, entry, others, data)
    history.pop()
    _write_history(store, model_name, history)
    return Published(entry, newest["sha256"], None, len(history))


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


def checked_entry(
    store: ModelStore,
    model_name: str,
    data: bytes,
    transform: str = "rank",
    expected_tournament: str | Tournament | None = None,
) -> tuple[ModelConfig, list[ModelConfig]]:
    """The models.json entry ``data`` would get and the other entries; writes nothing and
    raises (:class:`BotError`) when the file must not be published."""
    if not MODEL_NAME.fullmatch(model_name):
        raise BotError(f"{model_name!r} is not a valid Numerai model name")
    loaded = load_model(artifact_key(model_name), "new", data, threads=1)
    declared = tournament(loaded.metadata.tournament)
    try:
        configs = parse_models_config(store.read(CONFIG_KEY).data)
    except ObjectMissing:
        configs = []
    current = next((c for c in configs if c.name == model_name), None)
    check_tournament(model_name, declared, expected_tournament, current)
    entry = dataclasses.replace(
        current or ModelConfig(model_name, artifact_key(model_name)),
        artifact=artifact_key(model_name),
        transform=transform,
        data_version=loaded.metadata.data_version,
        tournament=declared,
    )
    return entry, [c for c in configs if c.name != model_name]


def check_tournament(
    model_name: str,
    declared: Tournament,
    expected: str | Tournament | None,
    current: ModelConfig | None,
) -> None:
    """Refuse a file whose metadata names another tournament than asked for or configured."""
    if expected is not None:
        asked = expected if isinstance(expected, Tournament) else tournament(expected)
        if asked != declared:
            raise ConfigError(
                f"the file for {model_name} is a {declared.name} model (its metadata says "
                f"tournament {declared.name}) but {asked.name} was asked for: export the model "
                f"for {asked.name} (--tournament {asked.name}) or publish it as {declared.name}"
            )
    if current is not None and current.tournament != declared:
        raise ConfigError(
            f"{CONFIG_KEY} runs {model_name} in the {current.tournament.name} tournament but the "
            f"file is a {declared.name} model: a Numerai model belongs to one tournament; "
            f"publish it under the name of your {declared.name} model"
        )


def with_cost(entry: ModelConfig, data: bytes) -> ModelConfig:
    """``entry`` with the file's measured ``cost`` (:mod:`model_export.cost`); without one, and
    a warning, when the measurement fails: publishing never depends on it."""
    extra = {k: v for k, v in entry.extra.items() if k != "cost"}
    try:
        extra["cost"] = cost.measure_cost(data)
    except Exception as error:  # any failure: publish without a cost, plan uses a default
        logger.warning(
            "could not measure %s's cost (%s: %s); published without it",
            entry.name,
            type(error).__name__,
            str(error)[:200],
        )
    return dataclasses.replace(entry, extra=extra)


def _write(
    store: ModelStore, entry: ModelConfig, others: list[ModelConfig], data: bytes
) -> ModelConfig:
    """Write the file, its checksum and models.json; the entry as written (with its cost)."""
    entry = with_cost(entry, data)
    store.write(entry.artifact, data)
    store.write(entry.artifact + ".sha256", sha256(data).encode() + b"\n")
    store.write(CONFIG_KEY, render_models_config(sorted([*others, entry], key=lambda c: c.name)))
    return entry


def _current_transform(store: ModelStore, model_name: str, default: str) -> str:
    """The transform the file being replaced ran with: its models.json entry's, if any."""
    try:
        configs = parse_models_config(store.read(CONFIG_KEY).data)
    except ObjectMissing:
        return default
    return next((c.transform for c in configs if c.name == model_name), default)


def _write_history(store: ModelStore, model_name: str, history: list[dict[str, Any]]) -> None:
    document = {"model": model_name, "versions": history}
    store.write(history_key(model_name), json.dumps(document, indent=2).encode() + b"\n")
