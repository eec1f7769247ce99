"""Where a model's live input comes from, as data: Numerai's own live file (the default), or
the user's own table joined to Numerai's universe for the round.

In ``models.json``::

    "my_signal": {"artifact": "models/my_signal.onnx", "tournament": "signals",
                  "input": {"source": "own", "table": "momentum", "feature_function": true}}

``table`` names the user's table (default: the model's name); it is read from
``own-data/<tournament>/<table>/<YYYY-MM-DD>.parquet`` in the stack's bucket, where the
user's own job drops it or the stack's feature function writes it (docs/own-data.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from numerai_bot.errors import ConfigError

NUMERAI = "numerai"
OWN = "own"
SOURCES = (NUMERAI, OWN)
MISSING_POLICIES = ("nan", "drop")  # universe ids the table lacks: fed as NaN, or left out
TABLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
DEFAULT_COVERAGE_ALERT = 0.9
DEFAULT_WAIT_SECONDS = 120.0
KNOWN_KEYS = frozenset(
    {
        "source",
        "table",
        "id_column",
        "missing",
        "max_age_days",
        "coverage_alert",
        "wait_seconds",
        "feature_function",
    }
)


@dataclass(frozen=True)
class ModelInput:
    """A model's live input: ``source`` and, for the user's own table, how to read it."""

    source: str = NUMERAI
    table: str = ""  # own data: the table's name in the bucket (default: the model's name)
    id_column: str | None = None  # own data: the table's id column (None: found by name)
    missing: str = "nan"  # universe ids the table lacks: "nan" (fed as missing) or "drop"
    max_age_days: int = 0  # how much older than the round's data date the table may be
    coverage_alert: float = DEFAULT_COVERAGE_ALERT  # alert below this share of the universe
    wait_seconds: float = DEFAULT_WAIT_SECONDS  # wait this long for a table not there yet
    feature_function: bool = False  # the stack's feature function computes the table

    @property
    def own(self) -> bool:
        """Whether the model reads the user's own table."""
        return self.source == OWN


NUMERAI_INPUT = ModelInput()


def parse_input(model: str, value: Any) -> ModelInput:
    """The ``input`` entry of ``models.json`` (absent: Numerai's live file)."""
    if value is None or value == NUMERAI:
        return NUMERAI_INPUT
    if value == OWN:
        value = {"source": OWN}
    if not isinstance(value, dict):
        raise ConfigError(
            f'model {model!r}: \'input\' must be "numerai", "own" or an object like '
            '{"source": "own", "table": "my_features"}'
        )
    unknown = set(value) - KNOWN_KEYS
    if unknown:
        raise ConfigError(
            f"model {model!r}: 'input' has unknown keys {', '.join(sorted(map(str, unknown)))}"
        )
    source = value.get("source", OWN)
    if source not in SOURCES:
        raise ConfigError(
            f"model {model!r}: input 'source' must be one of {', '.join(SOURCES)}, got {source!r}"
        )
    if source == NUMERAI:
        if set(value) - {"source"}:
            raise ConfigError(f"model {model!r}: a Numerai input takes no other settings")
        return NUMERAI_INPUT
    table = value.get("table", model)
    if not isinstance(table, str) or not TABLE_NAME.fullmatch(table):
        raise ConfigError(
            f"model {model!r}: input 'table' must be a name of letters, digits, '_', '.' or "
            f"'-' (at most 64), got {table!r}"
        )
    id_column = value.get("id_column")
    if id_column is not None and (not isinstance(id_column, str) or not id_column.strip()):
        raise ConfigError(f"model {model!r}: input 'id_column' must be a column name")
    missing = value.get("missing", "nan")
    if missing not in MISSING_POLICIES:
        raise ConfigError(
            f"model {model!r}: input 'missing' must be one of {', '.join(MISSING_POLICIES)}, "
            f"got {missing!r}"
        )
    feature_function = value.get("feature_function", False)
    if not isinstance(feature_function, bool):
        raise ConfigError(f"model {model!r}: input 'feature_function' must be true or false")
    return ModelInput(
        OWN,
        table,
        id_column,
        missing,
        max_age_days=int(_number(model, value, "max_age_days", 0, 0, 30, integer=True)),
        coverage_alert=_number(model, value, "coverage_alert", DEFAULT_COVERAGE_ALERT, 0, 1),
        wait_seconds=_number(model, value, "wait_seconds", DEFAULT_WAIT_SECONDS, 0, 600),
        feature_function=feature_function,
    )


def render_input(model: str, value: ModelInput) -> dict[str, Any] | None:
    """The ``input`` entry for ``models.json`` (None for Numerai's file: the default)."""
    if not value.own:
        return None
    entry: dict[str, Any] = {"source": OWN}
    if value.table != model:
        entry["table"] = value.table
    if value.id_column:
        entry["id_column"] = value.id_column
    if value.missing != "nan":
        entry["missing"] = value.missing
    if value.max_age_days:
        entry["max_age_days"] = value.max_age_days
    if value.coverage_alert != DEFAULT_COVERAGE_ALERT:
        entry["coverage_alert"] = value.coverage_alert
    if value.wait_seconds != DEFAULT_WAIT_SECONDS:
        entry["wait_seconds"] = value.wait_seconds
    if value.feature_function:
        entry["feature_function"] = True
    return entry


def _number(
    model: str,
    entry: dict,
    key: str,
    default: float,
    low: float,
    high: float,
    integer: bool = False,
) -> float:
    value = entry.get(key, default)
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and low <= value <= high
        and (not integer or float(value).is_integer())
    )
    if not ok:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(
            f"model {model!r}: input {key!r} must be {kind} in [{low:g}, {high:g}], got {value!r}"
        )
    return float(value)
