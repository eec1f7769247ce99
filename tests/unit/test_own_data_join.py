"""The join of the user's table to Numerai's universe: whichever id column Numerai accepts
the table is keyed by, the model gets the same rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from numerai_bot.own_data.join import OwnDataError, join_to_universe
from numerai_bot.tournaments import CRYPTO, SIGNALS

N = 240


def universe() -> pa.Table:
    """Numerai's Signals universe with every id column; some stocks have no sedol."""
    return pa.table(
        {
            "numerai_ticker": [f"S{i:04d} US" for i in range(N)],
            "ticker": [f"S{i:04d}" for i in range(N)],
            "bloomberg_ticker": [f"S{i:04d} US Equity" for i in range(N)],
            "composite_figi": [f"BBG{i:09d}" for i in range(N)],
            "sedol": [None if i % 10 == 0 else f"{i:07d}" for i in range(N)],
        }
    )


def table_keyed_by(column: str, rows: list[int]) -> pa.Table:
    """The user's table for ``rows`` of the universe, keyed by ``column`` and shuffled."""
    ids = universe().column(column).to_pylist()
    order = np.random.default_rng(1).permutation(rows)
    return pa.table(
        {
            column: [ids[i] for i in order],
            "momentum": [float(i) for i in order],
            "volatility": [float(i) / 10 for i in order],
        }
    )


@pytest.mark.parametrize("missing", ["nan", "drop"])
def test_every_accepted_id_column_gives_the_same_rows(missing):
    rows = [i for i in range(N) if i % 3 and i % 10]  # every one of them has a sedol
    joined = {
        column: join_to_universe(
            universe(),
            table_keyed_by(column, rows),
            SIGNALS,
            ("momentum", "volatility"),
            missing=missing,
        )
        for column in SIGNALS.rules.id_columns
    }
    reference = joined["numerai_ticker"].table
    expected_rows = N if missing == "nan" else len(rows)
    assert reference.num_rows == expected_rows
    for column, result in joined.items():
        assert result.key_column == column
        assert result.table.equals(reference), column
        assert result.coverage.covered == len(rows) and result.coverage.universe == N
    momentum = reference.column("momentum").to_pylist()
    ids = reference.column("numerai_ticker").to_pylist()
    for ticker, value in zip(ids, momentum, strict=True):
        index = int(ticker[1:5])
        assert value == (float(index) if index in rows else None)


def test_an_id_column_the_universe_lacks_names_the_ones_it_has():
    crypto_universe = pa.table({"symbol": [f"T{i}" for i in range(150)]})
    table = pa.table({"symbol": [f"T{i}" for i in range(150)], "momentum": [1.0] * 150})
    assert join_to_universe(crypto_universe, table, CRYPTO, ("momentum",)).coverage.share == 1.0
    with pytest.raises(OwnDataError, match="no 'sedol' column to join on"):
        join_to_universe(
            universe().drop_columns(["sedol"]),
            table_keyed_by("sedol", list(range(1, 200))),
            SIGNALS,
            ("momentum",),
        )


def test_ids_the_universe_does_not_hold_are_counted_and_ignored():
    table = table_keyed_by("ticker", list(range(150)))
    extra = pa.table({"ticker": ["ZZZZ"], "momentum": [1.0], "volatility": [1.0]})
    joined = join_to_universe(universe(), pa.concat_tables([table, extra]), SIGNALS, ("momentum",))
    assert joined.coverage.outside == 1 and joined.coverage.covered == 150
