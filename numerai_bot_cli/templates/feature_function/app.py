"""Your feature function: computes your own features for Numerai's universe each round.

README
------
The bot's worker never runs your code: when a Signals or Crypto round opens and a model's
``models.json`` entry says ``"input": {"source": "own", "feature_function": true}``, it stages
Numerai's universe for the round and invokes this Lambda (its own role, its own secret,
internet access) with an event like::

    {"tournament": "signals", "round": 1234, "data_date": "2026-12-04", "table": "momentum",
     "universe": "s3://<bucket>/own-data/signals/_universe/2026-12-04.parquet",
     "output": "s3://<bucket>/own-data/signals/momentum/2026-12-04.parquet"}

``handler`` reads the universe, computes one row of features per id, writes them as Parquet
to ``output`` and answers ``{"output": <the same output>, "rows": <rows written>}``. Then the
worker joins your table to the universe and runs your ONNX model on it (docs/own-data.md).
``universe`` and ``output`` are ``s3://`` URIs when deployed and file paths in local runs;
both work here.

This example computes ``momentum_20`` (close / close 20 trading days earlier - 1) and
``volatility_20`` (standard deviation of the last 20 daily log returns) per id, at the last
trading day on or before the round's data date, from a price history with the columns
``date``, an id column Numerai accepts (Signals: ``numerai_ticker``, ``ticker``,
``bloomberg_ticker``, ``composite_figi``, ``sedol``; Crypto: ``symbol``) and ``close``. The
history is read from the Parquet file at ``PRICES_URI`` (an ``s3://`` URI or a path): it
stands in for your data vendor. Replace :func:`load_prices` with your vendor's API and
:func:`compute_features` with your own features: the names must be the ones your model was
trained on.

Settings (the function's environment):
  PRICES_URI          where the example's price history is (your vendor, in real life)
  FEATURE_SECRET_ID   the function's own secret, e.g. your vendor's API key (see vendor_key)

Run it locally, with an ``event.json`` whose ``universe`` and ``output`` are paths::

    $ export PRICES_URI=prices.parquet
    $ python
    >>> import app, json
    >>> app.handler(json.load(open("event.json")), None)

``requirements.txt`` lists what it needs beside Lambda's runtime (boto3 is in the runtime).
"""

from __future__ import annotations

import io
import json
import os
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

WINDOW = 20  # trading days behind each feature
# The id columns Numerai accepts, per tournament, in the order the worker prefers them.
ID_COLUMNS = {
    "signals": ("numerai_ticker", "ticker", "bloomberg_ticker", "composite_figi", "sedol"),
    "crypto": ("symbol",),
}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Read the universe, compute the features for its ids, write them to ``output``."""
    universe = read_parquet(location(event["universe"])).to_pandas()
    prices = load_prices()
    id_column = shared_id_column(prices, universe, event.get("tournament", "signals"))
    features = compute_features(prices, id_column, event["data_date"])
    wanted = set(universe[id_column].dropna().astype(str))
    table = features[features[id_column].isin(wanted)].reset_index(drop=True)
    write_parquet(pa.Table.from_pandas(table, preserve_index=False), location(event["output"]))
    print(json.dumps({"message": "features written", "rows": len(table)}))
    return {"output": event["output"], "rows": len(table)}


def load_prices() -> pd.DataFrame:
    """The daily price history (``date``, id column, ``close``): here a Parquet file."""
    return read_parquet(os.environ["PRICES_URI"]).to_pandas()


def vendor_key() -> str | None:
    """Your data vendor's API key, from the function's own secret (never the bot's).

    The example reads no vendor, so it returns None. With a vendor, read the secret the
    stack gave this function, e.g.::

        import boto3

        secret = boto3.client("secretsmanager").get_secret_value(
            SecretId=os.environ["FEATURE_SECRET_ID"]
        )
        return json.loads(secret["SecretString"])["api_key"]

    Never print it or put it in the answer: the answer and the logs are read by others.
    """
    return None


def shared_id_column(prices: pd.DataFrame, universe: pd.DataFrame, tournament: str) -> str:
    """The first id column Numerai accepts that both the prices and the universe have."""
    for name in ID_COLUMNS.get(tournament, ()):
        if name in prices.columns and name in universe.columns:
            return name
    raise ValueError(
        f"the prices and Numerai's {tournament} universe share no id column "
        f"({', '.join(ID_COLUMNS.get(tournament, ()))}); the prices have {list(prices.columns)}"
    )


def compute_features(prices: pd.DataFrame, id_column: str, data_date: str) -> pd.DataFrame:
    """``momentum_20`` and ``volatility_20`` per id at the last trading day on or before
    ``data_date`` (NaN without 20 days of history), with the table's ``date``."""
    wide = (
        prices.assign(date=pd.to_datetime(prices["date"].astype(str)))
        .pivot_table(index="date", columns=id_column, values="close", aggfunc="last")
        .sort_index()
    )
    momentum = wide / wide.shift(WINDOW) - 1.0
    volatility = np.log(wide).diff().rolling(WINDOW, min_periods=WINDOW).std()
    at = int(wide.index.searchsorted(pd.Timestamp(data_date), side="right")) - 1
    table = pd.DataFrame({id_column: wide.columns.astype(str)})
    table["date"] = str(data_date)
    table[f"momentum_{WINDOW}"] = momentum.iloc[at].to_numpy() if at >= 0 else np.nan
    table[f"volatility_{WINDOW}"] = volatility.iloc[at].to_numpy() if at >= 0 else np.nan
    return table


def location(value: Any) -> str:
    """An event's place as a URI or path (``{"bucket", "key"}`` objects are read too)."""
    if isinstance(value, dict):
        return f"s3://{value['bucket']}/{value['key']}" if value.get("bucket") else value["key"]
    return str(value)


def read_parquet(where: str) -> pa.Table:
    """A Parquet file from ``s3://bucket/key`` or a path."""
    if where.startswith("s3://"):
        import boto3

        parsed = urlparse(where)
        body = boto3.client("s3").get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))
        return pq.read_table(io.BytesIO(body["Body"].read()))
    return pq.read_table(where)


def write_parquet(table: pa.Table, where: str) -> None:
    """Write ``table`` as Parquet to ``s3://bucket/key`` or a path."""
    if where.startswith("s3://"):
        import boto3

        sink = io.BytesIO()
        pq.write_table(table, sink)
        parsed = urlparse(where)
        boto3.client("s3").put_object(
            Bucket=parsed.netloc, Key=parsed.path.lstrip("/"), Body=sink.getvalue()
        )
        return
    os.makedirs(os.path.dirname(os.path.abspath(where)), exist_ok=True)
    pq.write_table(table, where)
