"""The user's table joined to Numerai's universe for the round, checked like money depends on
it: rows are the universe's ids, keyed through any id column Numerai accepts; coverage is
counted; duplicate ids, missing or mistyped feature columns refuse the table for its model.

Pure functions over pyarrow tables: no I/O, no clock, so the join has a differential test of
its own (a table keyed by each accepted id column gives the same submission).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from numerai_bot.errors import LiveDataError
from numerai_bot.tournaments import Tournament

# numerai-tools refuses a Signals or Crypto submission with fewer ids in the universe.
MIN_COVERED_IDS = 100


class OwnDataError(LiveDataError):
    """The user's table cannot feed its model this round (the message says why and how)."""


@dataclass(frozen=True)
class Coverage:
    """How much of the round's universe the user's table covers."""

    covered: int
    universe: int
    outside: int  # table rows whose id is not in the universe (ignored)

    @property
    def share(self) -> float:
        """covered / universe."""
        return self.covered / self.universe if self.universe else 0.0


@dataclass(frozen=True)
class Joined:
    """The model's input rows: the universe's submission ids and the table's features."""

    table: pa.Table  # the tournament's id column first, then the features
    coverage: Coverage
    key_column: str


def key_column(table: pa.Table, tournament: Tournament, wanted: str | None) -> str:
    """The table's id column: ``wanted``, else the first id column Numerai accepts."""
    accepted = tournament.rules.id_columns
    if wanted is not None:
        if wanted not in accepted:
            raise OwnDataError(
                f"id_column {wanted!r} is not an id Numerai accepts for {tournament.name}: "
                f"use one of {', '.join(accepted)}"
            )
        if wanted not in table.column_names:
            raise OwnDataError(f"the table has no {wanted!r} column (its id_column)")
        return wanted
    for name in accepted:
        if name in table.column_names:
            return name
    raise OwnDataError(
        f"the table has none of the id columns Numerai accepts for {tournament.name} "
        f"({', '.join(accepted)}); its columns start {', '.join(table.column_names[:5])}"
    )


def join_to_universe(
    universe: pa.Table,
    table: pa.Table,
    tournament: Tournament,
    features: tuple[str, ...],
    string_features: tuple[str, ...] = (),
    id_column: str | None = None,
    missing: str = "nan",
) -> Joined:
    """One row per universe id (``missing="nan"``) or per covered id (``"drop"``), with the
    model's features from the user's table; raises :class:`OwnDataError` on a bad table."""
    import pyarrow.compute as pc  # lazily: a Classic round never needs it (live_data)

    submit_id = tournament.id_column
    key = key_column(table, tournament, id_column)
    if key not in universe.column_names:
        present = [c for c in tournament.rules.id_columns if c in universe.column_names]
        raise OwnDataError(
            f"Numerai's universe for this round has no {key!r} column to join on: key the "
            f"table by one of {', '.join(present)}"
        )
    _check_columns(table, features, string_features)
    keys = as_text(table.column(key))
    if keys.null_count:
        raise OwnDataError(f"{keys.null_count} row(s) of the table have no {key!r} value")
    unique = pc.unique(keys)
    if len(unique) != len(keys):
        counts = pc.value_counts(keys)
        twice = next(str(v["values"]) for v in counts.to_pylist() if v["counts"] > 1)
        raise OwnDataError(f"the table lists {key} {twice!r} more than once")
    universe_keys = as_text(universe.column(key))
    rows = pc.index_in(universe_keys, value_set=keys)  # null where the table lacks the id
    covered_mask = pc.is_valid(rows)
    covered = int(pc.sum(covered_mask).as_py() or 0)
    in_universe = pc.is_in(keys, value_set=pc.drop_null(universe_keys))
    outside = len(keys) - int(pc.sum(in_universe).as_py() or 0)
    coverage = Coverage(covered, universe.num_rows, outside)
    if covered < MIN_COVERED_IDS:
        raise OwnDataError(
            f"the table covers {covered} of the {universe.num_rows} ids in Numerai's universe "
            f"(joined on {key}); Numerai needs at least {MIN_COVERED_IDS}: not uploaded"
        )
    ids = universe.column(submit_id)
    if missing == "drop":
        ids = ids.filter(covered_mask)
        rows = rows.filter(covered_mask)
    taken = table.select(list(features)).take(rows)
    columns = [ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids]
    columns += [taken.column(name) for name in features]
    joined = pa.table(columns, names=[submit_id, *features])
    return Joined(joined, coverage, key)


def _check_columns(
    table: pa.Table, features: tuple[str, ...], string_features: tuple[str, ...]
) -> None:
    absent = [name for name in features if name not in table.column_names]
    if absent:
        raise OwnDataError(
            f"the table lacks {len(absent)} of the model's {len(features)} features, e.g. "
            f"{', '.join(absent[:3])}"
        )
    texts = set(string_features)
    for name in features:
        kind = table.schema.field(name).type
        if name in texts:
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                raise OwnDataError(f"feature {name} must be text, the table has {kind}")
        elif not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            raise OwnDataError(f"feature {name} must be numeric, the table has {kind}")


def as_text(column: pa.ChunkedArray) -> pa.Array:
    """Ids compared as text (a symbol read as a dictionary, a sedol read as an integer)."""
    import pyarrow.compute as pc  # lazily: a Classic round never needs it (live_data)

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pc.cast(array, pa.string())
    return pc.cast(array, pa.string())
