"""``numerai-bot.toml``: the operator's models and stack, read by every command.

TOML because it is commented, hand-edited and read by the standard library (``tomllib``).
Every problem in the file is reported at once, with the line to write instead.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from numerai_bot.errors import ConfigError
from numerai_bot.events import MODEL_NAME
from numerai_bot.models_config import TRANSFORMS
from numerai_bot.postprocess.spec import PostProcess, parse_postprocess
from numerai_bot.tournaments import CLASSIC, TOURNAMENTS, Tournament, tournament
from numerai_bot_cli.errors import CliError

DEFAULT_CONFIG = Path("numerai-bot.toml")
DEFAULT_STACK = "numerai-bot"
MAX_STACK_NAME = 57  # the functions are named <stack>-webhook / <stack>-worker (64 max)


@dataclass(frozen=True)
class ModelEntry:
    """One Numerai model the bot submits: its ONNX file, output transform and tournament
    (None when the file does not say: the ONNX file's metadata decides)."""

    name: str
    artifact: Path
    transform: str = "rank"
    tournament: Tournament | None = None
    postprocess: PostProcess | None = None  # neutralize / blend for models.json (None: keep)


@dataclass(frozen=True)
class Config:
    """What ``numerai-bot.toml`` says; every field may be missing (flags fill the gaps)."""

    path: Path | None = None
    stack_name: str | None = None
    region: str | None = None
    outputs_file: Path | None = None
    api_url: str | None = None
    models: dict[str, ModelEntry] = field(default_factory=dict)


def load_config(path: Path | None) -> Config:
    """Read ``path``, or ``./numerai-bot.toml`` when it exists, or nothing."""
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return Config()
        path = DEFAULT_CONFIG
    if not path.is_file():
        raise CliError(
            f"config file {path} does not exist",
            "create one with `numerai-bot init`, or leave out --config",
        )
    try:
        document = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CliError(f"{path} is not valid TOML: {error}", "fix the line it names") from None
    return parse_config(document, path)


def parse_config(document: dict[str, Any], path: Path) -> Config:
    """Check the document's shape; name every problem in one error."""
    problems: list[str] = []
    unknown = set(document) - {"stack", "numerai", "models"}
    if unknown:
        problems.append(f"unknown sections {sorted(unknown)} (expected stack, numerai, models)")
    stack = _table(document, "stack", {"name", "region", "outputs_file"}, problems)
    numerai = _table(document, "numerai", {"api_url"}, problems)
    models: dict[str, ModelEntry] = {}
    raw_models = document.get("models", {})
    if not isinstance(raw_models, dict):
        problems.append("[models] must be a table of [models.<name>] tables")
        raw_models = {}
    base = path.parent
    for name, entry in raw_models.items():
        if not MODEL_NAME.fullmatch(name):
            problems.append(f"[models.{name}]: not a valid Numerai model name")
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("artifact"), str):
            problems.append(f'[models.{name}] needs artifact = "<file>.onnx"')
            continue
        extra = set(entry) - {"artifact", "transform", "tournament", "neutralize", "blend"}
        transform = entry.get("transform", "rank")
        try:
            chosen = tournament(entry["tournament"]) if "tournament" in entry else None
        except ConfigError:
            problems.append(
                f"[models.{name}]: tournament {entry['tournament']!r} is not one of "
                f"{', '.join(TOURNAMENTS)}"
            )
            continue
        if extra:
            problems.append(f"[models.{name}]: unknown keys {sorted(extra)}")
        elif transform not in TRANSFORMS:
            problems.append(
                f"[models.{name}]: transform {transform!r} is not one of {', '.join(TRANSFORMS)}"
            )
        else:
            try:
                post = parse_postprocess(name, entry, transform)
            except ConfigError as error:
                problems.append(f"[models.{name}]: {error}")
                continue
            models[name] = ModelEntry(
                name, base / entry["artifact"], transform, chosen, post if post.declared else None
            )
    stack_name = stack.get("name")
    if stack_name is not None and (
        not isinstance(stack_name, str) or not 0 < len(stack_name) <= MAX_STACK_NAME
    ):
        problems.append(f"[stack] name must be 1-{MAX_STACK_NAME} characters")
    if problems:
        raise CliError(f"{path}: " + "; ".join(problems), "edit the file (see `numerai-bot init`)")
    outputs = stack.get("outputs_file")
    return Config(
        path=path,
        stack_name=stack_name,
        region=stack.get("region"),
        outputs_file=base / outputs if outputs else None,
        api_url=numerai.get("api_url"),
        models=models,
    )


def _table(
    document: dict[str, Any], name: str, keys: set[str], problems: list[str]
) -> dict[str, Any]:
    value = document.get(name, {})
    if not isinstance(value, dict):
        problems.append(f"[{name}] must be a table")
        return {}
    extra = set(value) - keys
    if extra:
        problems.append(f"[{name}]: unknown keys {sorted(extra)} (expected {sorted(keys)})")
    for key in keys & set(value):
        if not isinstance(value[key], str):
            problems.append(f"[{name}] {key} must be a string")
    return {k: v for k, v in value.items() if k in keys and isinstance(v, str)}


HEADER = """\
# numerai-bot configuration. Every `numerai-bot` command reads it from the current folder
# (or from --config FILE); command-line flags override it. Written by `numerai-bot init`.

[stack]
# The CloudFormation stack `numerai-bot deploy` creates (sam deploy --guided asks for the same
# name). Its functions are named <name>-webhook and <name>-worker: at most 57 characters.
name = {stack_name}
# The stack's AWS region. Without it: AWS_REGION, AWS_DEFAULT_REGION or your AWS profile's.
{region_line}
# Instead of asking CloudFormation, read the stack's outputs from a JSON file, e.g. for local
# stand-ins or without cloudformation:DescribeStacks ({{"LedgerTableName": "...", ...}}, or
# the output of `aws cloudformation describe-stacks`).
# outputs_file = "stack-outputs.json"

[numerai]
# Numerai's GraphQL endpoint; NUMERAI_API_URL overrides it. Leave it out for Numerai itself.
# api_url = "https://api-tournament.numer.ai"

# One [models.<name>] table per Numerai model the bot submits, <name> as on numer.ai.
#   artifact:  the ONNX file `numerai-bot publish` uploads for it (relative to this file),
#              e.g. written by `numerai-bot export ... -o <file>`.
#   transform: "rank" ranks predictions into (0, 1) (the default); "raw" submits them as
#              they are (they must already be in [0, 1]).
#   tournament: "classic", "signals" or "crypto": the Numerai tournament the model is in
#              (its ONNX file must be exported for it); left out, the file's own decides.
#   neutralize: {{ proportion = 0.5, against = "medium" }} ("all", a features.json set, or a
#              list of columns): neutralize before ranking (docs/post-processing.md).
#   blend:     [{{ benchmark = "v52_lgbm_ender20", weight = 0.2 }}, {{ model = "b", weight = 0.1 }}]
#              mixes in benchmark models' or other models' ranked predictions.
"""

MODEL_TEMPLATE = """
[models.{name}]
artifact = {artifact}
transform = "{transform}"
tournament = "{tournament}"
"""

EXAMPLE_MODEL = """
# [models.my_model]
# artifact = "my_model.onnx"
# transform = "rank"
# tournament = "classic"
"""


def render_config(
    stack_name: str,
    region: str | None,
    models: Sequence[str | tuple[str, Tournament]],
) -> str:
    """A commented ``numerai-bot.toml`` for ``models`` (names, or (name, tournament) pairs;
    a bare name is Classic); an example entry when empty."""
    text = HEADER.format(
        stack_name=_toml_string(stack_name),
        region_line=f"region = {_toml_string(region)}" if region else '# region = "us-east-1"',
    )
    if not models:
        return text + EXAMPLE_MODEL
    for model in models:
        name, chosen = (model, CLASSIC) if isinstance(model, str) else model
        text += MODEL_TEMPLATE.format(
            name=name,
            artifact=_toml_string(f"{name}.onnx"),
            transform="rank",
            tournament=chosen.name,
        )
    return text


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
