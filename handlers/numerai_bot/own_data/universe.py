"""Numerai's universe for the round, as the own-data join needs it: the current version's live
file, or ``live_universe.parquet`` where that is what the version serves (Crypto v1.0). Only
its id columns (and its ``date``, the round's data date) are read."""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq

from numerai_bot.data_versions import LIVE_FILE, UNIVERSE_FILE, served_versions, version_key
from numerai_bot.errors import LiveDataError
from numerai_bot.tournaments import Tournament


def universe_dataset(
    tournament: Tournament, served: frozenset[str] | None, fallback_version: str
) -> tuple[str, str]:
    """``(version, file name)`` of the newest version that serves a universe (its live file
    preferred to ``live_universe.parquet``); when Numerai's listing is unknown, the model's
    own version's live file."""
    if not served:
        return fallback_version, LIVE_FILE
    found = [
        (version_key(version), preference, version, filename)
        for preference, filename in enumerate((UNIVERSE_FILE, LIVE_FILE))
        for version in served_versions(tournament, served, filename)
    ]
    if not found:
        listed = sorted(n for n in served if n.startswith(tournament.data_prefix))[:6]
        raise LiveDataError(
            f"Numerai serves no live universe for {tournament.name} (its files: "
            f"{', '.join(listed) or 'none listed'}); the round cannot be joined yet"
        )
    _, _, version, filename = max(found)
    return version, filename


def universe_table(path: str, tournament: Tournament) -> pa.Table:
    """The universe's id columns (and ``date``) read from a checked live or universe file."""
    schema = pq.read_schema(path)
    wanted = [c for c in (*tournament.rules.id_columns, "date") if c in schema.names]
    return pq.read_table(path, columns=list(dict.fromkeys(wanted)))


def universe_bytes(table: pa.Table) -> bytes:
    """The universe as Parquet, staged for the feature function."""
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def universe_date(table: pa.Table) -> dt.date | None:
    """The data date the universe file states (its newest ``date``), if it has one."""
    import pyarrow.compute as pc  # lazily: a Classic round never needs it (live_data)

    if "date" not in table.column_names or table.num_rows == 0:
        return None
    return as_day(pc.max(table.column("date")).as_py())


def as_day(value: object) -> dt.date | None:
    """A date cell as a date, read leniently: a date, a timestamp, 'YYYY-MM-DD' (with any
    time after it) or YYYYMMDD as text or a number; None when it is none of these."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern, size in (("%Y-%m-%d", 10), ("%Y%m%d", 8)):
        try:
            return dt.datetime.strptime(text[:size], pattern).date()
        except ValueError:
            continue
    return None
