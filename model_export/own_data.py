"""The user's own historical table joined to Numerai's targets, era by era, for training,
export parity and validation of models that read the user's own data (Signals, Crypto).

The table is long form, one row per (``date``, id): keyed by ``date`` and any id column
Numerai accepts for the tournament, chosen the way the worker chooses it
(:func:`numerai_bot.own_data.join.key_column`) and matched as text the way the worker matches
it, so a model trains on exactly the rows the worker will feed it. Targets come from the files
of one Numerai data version (:data:`TARGET_SOURCES`): Signals' train and validation files
(which carry every id column Numerai accepts), Crypto's ``historical_targets.parquet``
(``symbol``). An era is a date; dates are read leniently (``YYYY-MM-DD``, a date, a
timestamp, ``YYYYMMDD`` as text or integer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model_export.data import Table
from model_export.train import TrainingData
from numerai_bot.own_data.join import OwnDataError, key_column
from numerai_bot.own_data.join import as_text as ids_as_text  # the worker's id matching
from numerai_bot.own_data.universe import as_day
from numerai_bot.tournaments import TOURNAMENTS, Tournament

DATE = "date"
DEFAULT_TARGET = "target"


@dataclass(frozen=True)
class TargetSource:
    """Where one tournament's targets by date and id are, within a data version's folder."""

    files: tuple[str, ...]  # read and stacked, in this order
    version: str | None = None  # the data version to use by default (None: the tournament's)

    def default_version(self, tournament: Tournament) -> str:
        """The version whose targets own-data models join to when none is asked for."""
        return self.version or tournament.default_data_version


# Crypto's own-data layout is v1.0 (universe and targets without features); its v2.0 ships
# Numerai's features instead.
TARGET_SOURCES: dict[str, TargetSource] = {
    "signals": TargetSource(("train.parquet", "validation.parquet")),
    "crypto": TargetSource(("historical_targets.parquet",), "v1.0"),
}


@dataclass(frozen=True)
class OwnTable:
    """The user's table, read and checked: ``frame`` holds ``date`` (``YYYY-MM-DD``), the key
    column as text and the features, sorted by date then id."""

    path: Path
    frame: pd.DataFrame
    key: str
    features: tuple[str, ...]

    @property
    def eras(self) -> list[str]:
        """The table's dates, oldest first."""
        return sorted(self.frame[DATE].unique())

    def summary(self) -> dict[str, object]:
        """What the model's metadata records about the table."""
        return {"file": self.path.name, "id_column": self.key, "rows": len(self.frame)}


def target_source(tournament: Tournament) -> TargetSource:
    """The tournament's targets, or :class:`OwnDataError` for one without own data."""
    found = TARGET_SOURCES.get(tournament.name)
    if found is None or not tournament.own_data:
        own = ", ".join(name for name, t in TOURNAMENTS.items() if t.own_data)
        raise OwnDataError(
            f"own data is for {own}; a {tournament.name} model trains on Numerai's features: "
            "pass --tournament signals or crypto"
        )
    return found


def own_tournament(path: Path, given: Tournament | None = None) -> Tournament:
    """``given``, else the one own-data tournament whose id columns the table has."""
    if given is not None:
        target_source(given)
        return given
    names = set(_schema(path).names)
    own = [t for t in TOURNAMENTS.values() if t.own_data]
    found = [t for t in own if any(column in names for column in t.rules.id_columns)]
    if len(found) == 1:
        return found[0]
    accepted = "; ".join(f"{t.name}: {', '.join(t.rules.id_columns)}" for t in found or own)
    what = "the id columns of several tournaments" if found else "none of the id columns"
    raise OwnDataError(f"{path} has {what} ({accepted}): pass --tournament signals or crypto")


def read_own_table(
    path: Path,
    tournament: Tournament,
    *,
    features: Sequence[str] | None = None,
    id_column: str | None = None,
    exclude: Sequence[str] = (),
) -> OwnTable:
    """Read and check the table: a ``date``, one accepted id column, numeric features (by
    default every numeric column but the date, ids and ``exclude``); no row without a date
    or id, no (date, id) twice."""
    path = Path(path)
    table = _read(path)
    key = key_column(table, tournament, id_column)
    if DATE not in table.column_names:
        raise OwnDataError(
            f"{path} has no {DATE!r} column: the table is long form, one row per date and "
            f"{key} (the date each row's features are known on, matched to Numerai's eras)"
        )
    ids = {DATE, *tournament.rules.id_columns}
    if features is None:
        skipped = ids | set(exclude)
        features = [
            field.name
            for field in table.schema
            if field.name not in skipped and _numeric(field.type)
        ]
        if not features:
            raise OwnDataError(
                f"{path} has no numeric column besides {DATE} and its ids: add features, or "
                "name them with --features"
            )
    features = list(dict.fromkeys(features))
    absent = [name for name in features if name not in table.column_names]
    if absent:
        raise OwnDataError(
            f"{path} lacks {len(absent)} of the {len(features)} features, e.g. "
            f"{', '.join(absent[:3])}"
        )
    for name in features:
        kind = table.schema.field(name).type
        if name in ids or not _numeric(kind):
            raise OwnDataError(f"feature {name} must be a numeric column, {path} has {kind}")
    keys = ids_as_text(table.column(key))
    if keys.null_count:
        raise OwnDataError(f"{keys.null_count} row(s) of {path} have no {key!r} value")
    frame = pd.DataFrame(
        {
            DATE: era_dates(table.column(DATE).to_pandas(), str(path)),
            key: keys.to_pandas(),
        }
    )
    for name in features:
        frame[name] = table.column(name).cast(pa.float64()).to_numpy()
    twice = frame.duplicated([DATE, key])
    if twice.any():
        first = frame[twice].iloc[0]
        raise OwnDataError(
            f"{path} lists {key} {first[key]!r} more than once on {first[DATE]}: one row per "
            "date and id"
        )
    frame = frame.sort_values([DATE, key], kind="stable").reset_index(drop=True)
    return OwnTable(path, frame, key, tuple(features))


def era_dates(values: pd.Series, where: str) -> pd.Series:
    """Dates as ``YYYY-MM-DD`` text, read leniently: ``YYYY-MM-DD`` (a longer timestamp text
    too), ``YYYYMMDD`` as text or integer, dates and timestamps (their own wall date)."""
    if values.isna().any():
        raise OwnDataError(f"{int(values.isna().sum())} row(s) of {where} have no date")
    codes, uniques = pd.factorize(values)
    # The worker's own rule (one reader of a date cell), once per distinct value.
    parsed = [as_day(value) for value in uniques]
    bad = [value for value, day in zip(uniques, parsed, strict=True) if day is None]
    if bad:
        raise OwnDataError(
            f"{where}: {bad[0]!r} is not a date (write YYYY-MM-DD, YYYYMMDD, a date or a timestamp)"
        )
    days = np.array([day.isoformat() for day in parsed], dtype=object)
    return pd.Series(days[codes], index=values.index, dtype=object)


def target_files(version_dir: Path, tournament: Tournament) -> list[Path]:
    """The target files of the version folder, each of which must exist."""
    paths = [Path(version_dir) / name for name in target_source(tournament).files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise OwnDataError(
            f"no {missing[0].name} in {version_dir}: Numerai's {tournament.name} targets are "
            f"{', '.join(target_source(tournament).files)}; add --download or pass --data-dir"
        )
    return paths


def read_targets(
    version_dir: Path, tournament: Tournament, key: str, target: str = DEFAULT_TARGET
) -> pd.DataFrame:
    """Numerai's targets by era: ``date`` (``YYYY-MM-DD``), ``key`` (as text), ``target``;
    rows without a target or without that id are left out."""
    frames = []
    for path in target_files(version_dir, tournament):
        names = _schema(path).names
        if key not in names:
            present = [c for c in tournament.rules.id_columns if c in names]
            raise OwnDataError(
                f"Numerai's {path.name} has no {key!r} column to join on: key the table by one "
                f"of {', '.join(present)}"
            )
        if target not in names or DATE not in names:
            lacking = [c for c in (DATE, target) if c not in names]
            raise OwnDataError(
                f"{path} has no {' or '.join(map(repr, lacking))} column: is --target right "
                f"(its columns include {', '.join(n for n in names if 'target' in n)[:200]})?"
            )
        table = pq.read_table(path, columns=[DATE, key, target])
        frame = pd.DataFrame(
            {
                DATE: era_dates(table.column(DATE).to_pandas(), str(path)),
                key: ids_as_text(table.column(key)).to_pandas(),
                target: table.column(target).cast(pa.float64()).to_numpy(),
            }
        )
        frames.append(frame.dropna(subset=[key, target]))
    return pd.concat(frames, ignore_index=True)


def join_targets(
    own: OwnTable, targets: pd.DataFrame, target: str = DEFAULT_TARGET
) -> pd.DataFrame:
    """The table's rows that have a Numerai target on their date, with it: ``date``, key,
    features, ``target``, by date then id."""
    if target in own.features:
        raise OwnDataError(f"{target} is Numerai's target, not one of your features: drop it")
    joined = own.frame.merge(targets[[DATE, own.key, target]], on=[DATE, own.key], how="inner")
    if joined.empty:
        raise OwnDataError(_nothing_joined(own, targets))
    return joined.sort_values([DATE, own.key], kind="stable").reset_index(drop=True)


def _nothing_joined(own: OwnTable, targets: pd.DataFrame) -> str:
    """Why no (date, id) of the table has a target: disjoint dates, or ids."""
    mine, theirs = own.eras, sorted(targets[DATE].unique())
    shared = sorted(set(mine) & set(theirs))
    if not shared:
        return (
            f"none of the dates of {own.path.name} ({mine[0]} … {mine[-1]}) is an era with "
            f"Numerai targets ({theirs[0]} … {theirs[-1]}): date each row on the era it is for"
        )
    ids = set(own.frame[own.key])
    example = next(iter(sorted(set(targets[own.key]) - ids)), "")
    return (
        f"no {own.key} of {own.path.name} has a target on the {len(shared)} era(s) both hold "
        f"(Numerai's ids look like {example!r}): key the table by an id Numerai uses"
    )


def newest_rows(own: OwnTable, rows: int | None, seed: int = 0) -> pd.DataFrame:
    """The table's rows of its newest dates, whole eras until there are ``rows`` (then a
    random ``rows`` of them); every row when ``rows`` is None. What the worker will feed."""
    frame = own.frame
    if rows is not None:
        counts = frame.groupby(DATE).size().sort_index(ascending=False)
        enough = counts.cumsum() >= rows
        first = counts.index[int(enough.to_numpy().argmax())] if enough.any() else counts.index[-1]
        frame = frame[frame[DATE] >= first]
        if len(frame) > rows:
            keep = np.sort(np.random.default_rng(seed).choice(len(frame), rows, replace=False))
            frame = frame.iloc[keep]
    return frame.reset_index(drop=True)


def rows_table(frame: pd.DataFrame, features: Sequence[str], target: str | None = None) -> Table:
    """Rows as the exporter reads them: the features as one float64 matrix, the date (and
    target) beside it."""
    columns = {DATE: frame[DATE].to_numpy(dtype=object)}
    if target is not None:
        columns[target] = frame[target].to_numpy(np.float64)
    matrix = frame[list(features)].to_numpy(np.float64)
    return Table(matrix=np.ascontiguousarray(matrix), columns=columns)


def training_data(
    frame: pd.DataFrame, features: Sequence[str], target: str = DEFAULT_TARGET
) -> TrainingData:
    """Joined rows as :class:`~model_export.train.TrainingData` (era = date)."""
    table = rows_table(frame, features, target)
    return TrainingData(
        matrix=table.matrix,
        target=table.columns[target].astype(np.float32),
        eras=table.columns[DATE],
        features=tuple(features),
        target_name=target,
    )


def _read(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise OwnDataError(f"cannot read {path} as Parquet: {error}") from None


def _schema(path: Path) -> pa.Schema:
    try:
        return pq.read_schema(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise OwnDataError(f"cannot read {path} as Parquet: {error}") from None


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)
