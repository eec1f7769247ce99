"""What training and exporting differ in per tournament: target, era column, files, dtypes.

Why data, not branches: Classic, Signals and Crypto run the same train → export → parity →
publish path; only these values change. They are those of Numerai's example models: Classic's
trains on every 4th era of ``train.parquet`` with a ``features.json`` feature set;
numerai-cli's Signals and Crypto examples (https://github.com/numerai/numerai-cli,
``numerai/examples/signals-python3`` and ``crypto-python3``) fit every row of
``signals/v2.1/train.parquet`` (target ``target``) and ``crypto/v2.0/train.parquet``
(target ``target_binned_return_20``) on every ``feature_*`` column, Signals without
``feature_country`` and ``feature_exchange_code``. The tournament itself (id, dataset
prefix, id column, default data version) is :class:`numerai_bot.tournaments.Tournament`;
this adds what only the offline exporter needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from model_export.data import DataError
from numerai_bot.tournaments import TOURNAMENTS, Tournament, tournament


@dataclass(frozen=True)
class TrainingSpec:
    """How Numerai's example model of one tournament is trained and checked."""

    target: str
    era_column: str
    era_step: int  # Classic's example thins overlapping targets (every 4th era); numerai-cli's
    # Signals/Crypto examples fit every row
    feature_set: str | None  # None: every ``feature_*`` column of train.parquet (numerai-cli)
    parity_file: str  # the file whose rows gate the export
    marker_file: str  # the file that makes a folder a data version


SPECS: dict[str, TrainingSpec] = {
    "classic": TrainingSpec("target", "era", 4, "small", "validation.parquet", "features.json"),
    "signals": TrainingSpec("target", "date", 1, None, "live.parquet", "train.parquet"),
    "crypto": TrainingSpec(
        "target_binned_return_20", "date", 1, None, "live.parquet", "train.parquet"
    ),
}
TOURNAMENT_NAMES = tuple(TOURNAMENTS)


def spec(chosen: Tournament) -> TrainingSpec:
    """The training values of ``chosen``."""
    return SPECS[chosen.name]


def input_type(chosen: Tournament) -> str:
    """The graph's numeric input type: float32 for Classic's int8 features, else float64.

    Signals and Crypto ship float64 features with NaN: a float32 input would round them and
    could re-rank rows, so their graphs take double.
    """
    return "float32" if chosen.integer_features else "float64"


def tournament_of_file(path: Path) -> Tournament | None:
    """The tournament whose id column the parquet file has (``numerai_ticker``, ``symbol``).

    Classic's ``id`` is checked last: it is the most generic name. None when unreadable or
    when no tournament's id column is there.
    """
    try:
        names = set(pq.read_schema(path).names)
    except (OSError, pa.ArrowInvalid):
        return None
    ordered = sorted(TOURNAMENTS.values(), key=lambda t: t.id_column == "id")
    return next((t for t in ordered if t.id_column in names), None)


def resolve_tournament(given: str | None, data: Path | None) -> Tournament:
    """``--tournament`` if given (checked against the data file), else the data file's, else
    Classic."""
    found = tournament_of_file(data) if data is not None else None
    if given is None:
        return found or tournament(None)
    chosen = tournament(given)
    if found is not None and found != chosen and chosen.id_column not in _names(data):
        raise DataError(
            f"{data} is keyed by {found.id_column!r}, a {found.name} file, but --tournament "
            f"says {chosen.name}: pass the {chosen.name} data or the right --tournament"
        )
    return chosen


def _names(path: Path | None) -> set[str]:
    return set(pq.read_schema(path).names) if path is not None else set()


def read_dtype(chosen: Tournament) -> type[np.floating]:
    """How the tournament's features are read: Classic's integers fit float32 exactly,
    Signals/Crypto floats stay float64 (the reference model sees them as they are)."""
    return np.float32 if chosen.integer_features else np.float64
