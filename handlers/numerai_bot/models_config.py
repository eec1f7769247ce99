"""Which Numerai model (by name) runs which ONNX artifact: ``models.json`` in the model store.

Example::

    {"models": {
      "my_model": {"artifact": "my_model.onnx", "transform": "rank"},
      "my_signals": {"artifact": "my_signals.onnx", "tournament": "signals", "max_churn": 0.15}
    }}

A malformed entry fails only that model (a :class:`BrokenEntry` naming the field); a file
that is not such a document at all fails the run with one :class:`ConfigError`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from numerai_bot.errors import ConfigError, ObjectMissing
from numerai_bot.events import MODEL_NAME
from numerai_bot.model_input import NUMERAI_INPUT, ModelInput, parse_input, render_input
from numerai_bot.ports import ModelStore
from numerai_bot.postprocess.spec import (
    NO_POSTPROCESS,
    PostProcess,
    parse_postprocess,
    render_postprocess,
    resolve_blends,
)
from numerai_bot.tournaments import CLASSIC, Tournament, tournament

CONFIG_KEY = "models.json"
TRANSFORMS = ("rank", "raw")
# Numerai zeroes a Signals/Crypto stake at 15 % churn or 25 % turnover (churn.py): alert there.
DEFAULT_CHURN_ALERT = 0.15
DEFAULT_TURNOVER_ALERT = 0.25
KNOWN_KEYS = frozenset(
    {
        "artifact",
        "transform",
        "data_version",
        "tournament",
        "max_churn",
        "churn_alert",
        "turnover_alert",
        "time_budget_seconds",
        "cost",
        "input",
        "late",
        "neutralize",
        "blend",
    }
)
# What a model does after Numerai's staking close while the round still takes submissions:
# submit late (scored, not staked; a Signals or Crypto week without one zeroes the stake) or
# skip the round. Each setting maps to whether the model submits late.
LATE_SETTINGS = {"submit": True, "skip": False}


@dataclass(frozen=True)
class ModelConfig:
    """One configured model: its Numerai name, artifact, transform and tournament."""

    name: str
    artifact: str
    transform: str = "rank"
    data_version: str = ""  # from the file's metadata at publish time; lets shards pre-stage
    tournament: Tournament = CLASSIC
    max_churn: float | None = None  # refuse to upload above this churn (opt-in)
    churn_alert: float = DEFAULT_CHURN_ALERT
    turnover_alert: float = DEFAULT_TURNOVER_ALERT
    time_budget_seconds: float | None = None  # None: a fair share of the invocation's time
    input: ModelInput = NUMERAI_INPUT  # Numerai's live file, or the user's own table
    submits_late: bool = True  # models.json "late": "submit" (default) or "skip"
    postprocess: PostProcess = NO_POSTPROCESS  # neutralize / blend (postprocess.spec)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class BrokenEntry:
    """A ``models.json`` entry that cannot run; ``error`` names the field and the fix."""

    name: str
    error: str


def parse_models_entries(text: str | bytes) -> tuple[list[ModelConfig], list[BrokenEntry]]:
    """The usable entries and the broken ones; :class:`ConfigError` if the document is not
    a ``{"models": {...}}`` object at all."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise ConfigError(f"{CONFIG_KEY} is not valid JSON: {error}") from None
    models = document.get("models") if isinstance(document, dict) else None
    if not isinstance(models, dict) or not models:
        raise ConfigError(
            f'{CONFIG_KEY} must look like {{"models": {{"<name>": {{"artifact": …}}}}}}'
        )
    configs: list[ModelConfig] = []
    broken: list[BrokenEntry] = []
    for name, entry in models.items():
        try:
            configs.append(_entry(name, entry))
        except ConfigError as error:
            broken.append(BrokenEntry(str(name), f"{CONFIG_KEY}: {error}"))
    configs, unblendable = resolve_blends(configs)
    broken += [BrokenEntry(name, f"{CONFIG_KEY}: {error}") for name, error in unblendable.items()]
    return configs, broken


def parse_models_config(text: str | bytes) -> list[ModelConfig]:
    """Parse strictly (for tools that rewrite the file): every problem in one error."""
    configs, broken = parse_models_entries(text)
    if broken:
        raise ConfigError("; ".join(b.error for b in broken))
    return configs


def _entry(name: Any, entry: Any) -> ModelConfig:
    if not isinstance(name, str) or not MODEL_NAME.fullmatch(name):
        raise ConfigError(f"{name!r} is not a valid Numerai model name")
    if not isinstance(entry, dict):
        raise ConfigError(f"model {name!r} must be an object with an 'artifact' key")
    if not isinstance(entry.get("artifact"), str) or not entry["artifact"].strip():
        raise ConfigError(f"model {name!r}: 'artifact' must be the ONNX file's key (a string)")
    transform = entry.get("transform", "rank")
    if transform not in TRANSFORMS:
        raise ConfigError(
            f"model {name!r}: 'transform' must be one of {', '.join(TRANSFORMS)}, got {transform!r}"
        )
    unknown = set(entry) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"model {name!r}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    try:
        chosen = tournament(entry.get("tournament"))
    except ConfigError as error:
        raise ConfigError(f"model {name!r}: 'tournament': {error}") from None
    data_version = entry.get("data_version", "")
    if not isinstance(data_version, str):
        raise ConfigError(f"model {name!r}: 'data_version' must be a string like 'v5.3'")
    model_input = parse_input(name, entry.get("input"))
    if model_input.own and not chosen.own_data:
        raise ConfigError(
            f"model {name!r}: own data is for Signals and Crypto; a {chosen.name} model reads "
            "Numerai's live file (remove 'input' or set 'tournament')"
        )
    return ModelConfig(
        name,
        entry["artifact"],
        transform,
        data_version,
        chosen,
        max_churn=_fraction(name, entry, "max_churn", None),
        churn_alert=_fraction(name, entry, "churn_alert", DEFAULT_CHURN_ALERT),
        turnover_alert=_fraction(name, entry, "turnover_alert", DEFAULT_TURNOVER_ALERT),
        time_budget_seconds=_seconds(name, entry),
        input=model_input,
        submits_late=_late(name, entry),
        postprocess=parse_postprocess(name, entry, transform),
        extra={"cost": entry["cost"]} if "cost" in entry else {},
    )


def _fraction(name: str, entry: dict, key: str, default: float | None) -> float | None:
    value = entry.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"model {name!r}: {key!r} must be a number in [0, 1], got {value!r}")
    return float(value)


def _seconds(name: str, entry: dict) -> float | None:
    value = entry.get("time_budget_seconds")
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(
            f"model {name!r}: 'time_budget_seconds' must be a positive number, got {value!r}"
        )
    return float(value)


def _late(name: str, entry: dict) -> bool:
    value = entry.get("late", "submit")
    if not isinstance(value, str) or value not in LATE_SETTINGS:
        raise ConfigError(
            f"model {name!r}: 'late' must be one of {', '.join(map(repr, LATE_SETTINGS))} (what "
            f"to do after Numerai's staking close while the round is open), got {value!r}"
        )
    return LATE_SETTINGS[value]


def load_models_entries(store: ModelStore) -> tuple[list[ModelConfig], list[BrokenEntry]]:
    """Read ``models.json`` from the store, keeping the broken entries apart."""
    try:
        raw = store.read(CONFIG_KEY).data
    except ObjectMissing:
        raise ConfigError(
            f"no {CONFIG_KEY} in {store.uri}: publish a model first (numerai-bot publish)"
        ) from None
    return parse_models_entries(raw)


def load_models_config(store: ModelStore) -> list[ModelConfig]:
    """Read ``models.json`` from the store strictly."""
    configs, broken = load_models_entries(store)
    if broken:
        raise ConfigError("; ".join(b.error for b in broken))
    return configs


def render_models_config(configs: list[ModelConfig]) -> bytes:
    """The document for ``configs`` (used when publishing); defaults are left out."""
    models: dict[str, dict[str, Any]] = {}
    for c in configs:
        entry: dict[str, Any] = {"artifact": c.artifact, "transform": c.transform}
        if c.data_version:
            entry["data_version"] = c.data_version
        if c.tournament != CLASSIC:
            entry["tournament"] = c.tournament.name
        if c.max_churn is not None:
            entry["max_churn"] = c.max_churn
        if c.churn_alert != DEFAULT_CHURN_ALERT:
            entry["churn_alert"] = c.churn_alert
        if c.turnover_alert != DEFAULT_TURNOVER_ALERT:
            entry["turnover_alert"] = c.turnover_alert
        if c.time_budget_seconds is not None:
            entry["time_budget_seconds"] = c.time_budget_seconds
        if not c.submits_late:
            entry["late"] = next(k for k, v in LATE_SETTINGS.items() if v is c.submits_late)
        own = render_input(c.name, c.input)
        if own is not None:
            entry["input"] = own
        entry.update(render_postprocess(c.postprocess))
        entry.update(c.extra)
        models[c.name] = entry
    return (json.dumps({"models": models}, indent=2, sort_keys=True) + "\n").encode()
