"""Publish an ONNX model for a Numerai model name: check it, upload it, update models.json.

    python -m scripts.publish_model --model my_model --file my_model.onnx \
        --store s3://<bucket>/models      # or a local folder

The file is loaded with onnxruntime first and refused without the bot's metadata, so a
broken file never reaches the bucket. The bucket is versioned: the previous file stays.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from numerai_bot.errors import BotError
from numerai_bot.events import MODEL_NAME
from numerai_bot.inference import load_model
from numerai_bot.model_store import ModelStore, ObjectMissing, open_model_store
from numerai_bot.models_config import (
    CONFIG_KEY,
    TRANSFORMS,
    ModelConfig,
    parse_models_config,
    render_models_config,
)


def publish(
    store: ModelStore, model_name: str, data: bytes, transform: str = "rank"
) -> ModelConfig:
    """Check ``data`` loads with its metadata, store it and point ``model_name`` at it."""
    if not MODEL_NAME.fullmatch(model_name):
        raise BotError(f"{model_name!r} is not a valid Numerai model name")
    loaded = load_model(f"{model_name}.onnx", "new", data, threads=1)
    artifact = f"{model_name}.onnx"
    store.write(artifact, data)
    store.write(artifact + ".sha256", hashlib.sha256(data).hexdigest().encode() + b"\n")
    try:
        configs = parse_models_config(store.read(CONFIG_KEY).data)
    except ObjectMissing:
        configs = []
    entry = ModelConfig(model_name, artifact, transform, loaded.metadata.data_version)
    configs = [c for c in configs if c.name != model_name] + [entry]
    store.write(CONFIG_KEY, render_models_config(sorted(configs, key=lambda c: c.name)))
    return entry


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the Numerai model name")
    parser.add_argument("--file", required=True, type=Path, help="the .onnx file")
    parser.add_argument("--store", required=True, help="s3://bucket/prefix or a local folder")
    parser.add_argument("--transform", default="rank", choices=TRANSFORMS)
    args = parser.parse_args(argv)
    try:
        entry = publish(
            open_model_store(args.store), args.model, args.file.read_bytes(), args.transform
        )
    except (BotError, OSError) as error:
        print(f"publish failed: {error}", file=sys.stderr)
        return 1
    print(f"published {args.file} as {entry.artifact} for {entry.name} in {args.store}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
