"""Publish an ONNX model for a Numerai model name: check it, upload it, update models.json.

    python -m scripts.publish_model --model my_model --file my_model.onnx \
        --store s3://<bucket>/models      # or a local folder

The file is loaded with onnxruntime first and refused without the bot's metadata, so a
broken file never reaches the bucket. Its tournament (Classic, Signals, Crypto) comes from
its metadata into the models.json entry; a file of another tournament than ``--tournament``
or than the model's existing entry is refused. The bucket is versioned: the previous file
stays.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import sys
from pathlib import Path

from numerai_bot.errors import BotError, ConfigError
from numerai_bot.events import MODEL_NAME
from numerai_bot.inference import load_model
from numerai_bot.model_store import ObjectMissing, open_model_store
from numerai_bot.models_config import (
    CONFIG_KEY,
    TRANSFORMS,
    ModelConfig,
    parse_models_config,
    render_models_config,
)
from numerai_bot.ports import ModelStore
from numerai_bot.tournaments import TOURNAMENTS, Tournament, tournament

logger = logging.getLogger(__name__)


def publish(
    store: ModelStore,
    model_name: str,
    data: bytes,
    transform: str = "rank",
    expected_tournament: str | Tournament | None = None,
) -> ModelConfig:
    """Check ``data`` loads with its metadata and fits the model's tournament, store it and
    point ``model_name`` at it (the entry's other settings are kept)."""
    entry, others = checked_entry(store, model_name, data, transform, expected_tournament)
    entry = with_cost(entry, data)
    store.write(entry.artifact, data)
    store.write(entry.artifact + ".sha256", hashlib.sha256(data).hexdigest().encode() + b"\n")
    configs = sorted([*others, entry], key=lambda c: c.name)
    store.write(CONFIG_KEY, render_models_config(configs))
    return entry


def with_cost(entry: ModelConfig, data: bytes) -> ModelConfig:
    """``entry`` with the file's measured ``cost`` (model_export.cost); without one, and a
    warning, when the measurement fails: publishing never depends on it."""
    extra = {k: v for k, v in entry.extra.items() if k != "cost"}
    try:
        from model_export.cost import measure_cost

        extra["cost"] = measure_cost(data)
    except Exception as error:  # any failure: publish without a cost, plan uses a default
        logger.warning(
            "could not measure %s's cost (%s: %s); published without it",
            entry.name,
            type(error).__name__,
            str(error)[:200],
        )
    return dataclasses.replace(entry, extra=extra)


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
    loaded = load_model(f"{model_name}.onnx", "new", data, threads=1)
    declared = tournament(loaded.metadata.tournament)
    try:
        configs = parse_models_config(store.read(CONFIG_KEY).data)
    except ObjectMissing:
        configs = []
    current = next((c for c in configs if c.name == model_name), None)
    check_tournament(model_name, declared, expected_tournament, current)
    artifact = f"{model_name}.onnx"
    entry = dataclasses.replace(
        current or ModelConfig(model_name, artifact),
        artifact=artifact,
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


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the Numerai model name")
    parser.add_argument("--file", required=True, type=Path, help="the .onnx file")
    parser.add_argument("--store", required=True, help="s3://bucket/prefix or a local folder")
    parser.add_argument("--transform", default="rank", choices=TRANSFORMS)
    parser.add_argument(
        "--tournament",
        choices=tuple(TOURNAMENTS),
        help="refuse the file unless its metadata names this tournament [the file's own]",
    )
    args = parser.parse_args(argv)
    try:
        entry = publish(
            open_model_store(args.store),
            args.model,
            args.file.read_bytes(),
            args.transform,
            args.tournament,
        )
    except (BotError, OSError) as error:
        print(f"publish failed: {error}", file=sys.stderr)
        return 1
    print(
        f"published {args.file} as {entry.artifact} for {entry.name} ({entry.tournament.name}) "
        f"in {args.store}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
