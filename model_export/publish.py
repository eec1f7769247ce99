"""Publish an ONNX file for a Numerai model name, with history, and roll back to the previous one.

The one publish of the project: ``numerai-bot publish``, ``python -m model_export.cli publish``
and the local stand-ins (demo, tests, season) all call :func:`publish`, so every file that
reaches a model store went through the same checks and can be rolled back.

Before anything is written, the file is loaded the way the worker loads it and refused
without the bot's metadata, or when its tournament differs from the one asked for or from the
model's existing entry, or when the data it was exported to read (its ``numerai.input``:
Numerai's live file, or the user's own table) differs from the entry's ``input``, so a broken
file never reaches the store and the worker never refuses a published model for its input.
Then the current file, if it differs, is copied to ``<name>.onnx.<UTC timestamp>`` and listed,
with its checksum, transform and input, in ``<name>.onnx.history.json``; the new file is
written with its ``.sha256`` and measured cost, and ``models.json`` points the model at it
(the entry's other settings kept).
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
from numerai_bot.model_input import (
    NUMERAI,
    NUMERAI_INPUT,
    OWN,
    ModelInput,
    parse_input,
    render_input,
)
from numerai_bot.models_config import (
    CONFIG_KEY,
    ModelConfig,
    parse_models_config,
    render_models_config,
)
from numerai_bot.ports import ModelStore
from numerai_bot.postprocess.spec import MODEL, PostProcess
from numerai_bot.tournaments import Tournament, tournament

logger = logging.getLogger(__name__)

InputSetting = str | dict[str, Any] | None  # an ``input`` value of models.json, or None


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
    model_input: InputSetting = None,
    postprocess: PostProcess | None = None,
    now: datetime | None = None,
) -> Published:
    """Check ``data``, archive the file it replaces, write it and point ``model_name`` at it.

    ``tournament``: refuse the file unless its metadata names it (the file's tournament must
    also match the model's existing entry; see :func:`check_tournament`). ``model_input``:
    the entry's ``input`` as in ``models.json`` (see :func:`entry_input`); the file must have
    been exported to read it. ``postprocess``: the entry's ``neutralize`` and ``blend``
    (None: the entry's current ones).
    """
    entry, others = checked_entry(
        store, model_name, data, transform, tournament, model_input, postprocess
    )
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
                "input": _current_input(store, model_name),
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
    entry, others = checked_entry(
        store, model_name, data, newest.get("transform", "rank"), model_input=newest.get("input")
    )
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
    model_input: InputSetting = None,
    postprocess: PostProcess | None = None,
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
        input=entry_input(model_name, loaded.metadata.input, model_input, current, declared),
    )
    others = [c for c in configs if c.name != model_name]
    if postprocess is not None:
        entry = dataclasses.replace(entry, postprocess=postprocess)
    check_postprocess(entry, others)
    return entry, others


def check_postprocess(entry: ModelConfig, others: list[ModelConfig]) -> None:
    """Refuse post-processing the worker could not run: ``neutralize``/``blend`` without
    ranking, or a blend naming a model models.json does not have (publish it first)."""
    post = entry.postprocess
    if post.declared and entry.transform != "rank":
        raise ConfigError(
            f"{entry.name}: 'neutralize' and 'blend' work on ranks; publish with transform rank"
        )
    known = {c.name: c for c in others}
    for part in post.blend:
        if part.source == MODEL and part.name not in known:
            raise ConfigError(
                f"{entry.name} blends in model {part.name!r}, which {CONFIG_KEY} does not "
                f"list: publish {part.name} first"
            )
        if part.source == MODEL and known[part.name].tournament != entry.tournament:
            raise ConfigError(
                f"{entry.name} blends in {part.name!r}, a {known[part.name].tournament.name} "
                f"model; blends stay within {entry.tournament.name}"
            )


def entry_input(
    model_name: str,
    file_input: str,
    asked: InputSetting,
    current: ModelConfig | None,
    declared: Tournament,
) -> ModelInput:
    """The ``input`` the entry gets: ``asked`` (``"numerai"``, ``"own"`` or the ``input``
    object of ``models.json``; an own one keeps the current entry's own settings it does not
    name), else the current entry's, else what the file reads (own: the model's own
    table). Refused unless the file was exported to read it (``numerai.input``)."""
    if asked is None:
        if current is not None and current.input.source != file_input:
            raise ConfigError(
                f"{CONFIG_KEY} gives {model_name} {_described(current.input)} but the file was "
                f"exported to read {_described_source(file_input)} (its metadata says "
                f"numerai.input {file_input}): pass --input {file_input} to switch the model to "
                f"it, or publish the file exported for {_described_source(current.input.source)}"
            )
        chosen = current.input if current is not None else parse_input(model_name, file_input)
    else:
        chosen = parse_input(model_name, _merged(model_name, asked, current))
        if chosen.source != file_input:
            raise ConfigError(
                f"the file for {model_name} was exported to read {_described_source(file_input)}"
                f" (its metadata says numerai.input {file_input}) but the entry being written "
                f"gives it {_described(chosen)}: publish it with --input {file_input}, or "
                f"export the model for {_described_source(chosen.source)} (train/export "
                + ("--own-data FILE.parquet)" if chosen.own else "--data, without --own-data)")
            )
    if chosen.own and not declared.own_data:
        raise ConfigError(
            f"{model_name} is a {declared.name} model: own data is for Signals and Crypto"
        )
    return chosen


def _merged(model_name: str, asked: str | dict[str, Any], current: ModelConfig | None) -> Any:
    """An own ``input`` over the current entry's own settings (others as given)."""
    if asked == OWN:
        asked = {"source": OWN}
    if not isinstance(asked, dict) or asked.get("source", OWN) != OWN:
        return asked
    if current is None or not current.input.own:
        return asked
    return {**(render_input(model_name, current.input) or {}), **asked}


def _described(setting: ModelInput) -> str:
    if not setting.own:
        return _described_source(NUMERAI)
    return f"own data (table {setting.table!r})"


def _described_source(source: str) -> str:
    return "own data" if source == OWN else "Numerai's live file"


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


def _current_input(store: ModelStore, model_name: str) -> str | dict[str, Any]:
    """The ``input`` the file being replaced ran with (its entry's), for a rollback."""
    try:
        configs = parse_models_config(store.read(CONFIG_KEY).data)
    except ObjectMissing:
        return NUMERAI
    found = next((c.input for c in configs if c.name == model_name), NUMERAI_INPUT)
    return render_input(model_name, found) or NUMERAI


def _write_history(store: ModelStore, model_name: str, history: list[dict[str, Any]]) -> None:
    document = {"model": model_name, "versions": history}
    store.write(history_key(model_name), json.dumps(document, indent=2).encode() + b"\n")
