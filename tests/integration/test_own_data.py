"""Bring your own data over real HTTP: the user's tables in the stack's bucket (moto's S3),
Numerai's universe and uploads from the Numerai stand-in, the worker wired as deployed."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from onnx import TensorProto

from numerai_bot.adapters.model_store import open_model_store
from numerai_bot.config import WorkerSettings
from numerai_bot.errors import ObjectMissing
from numerai_bot.events import WorkerRequest
from numerai_bot.tournaments import CRYPTO, SIGNALS
from numerai_bot.wiring import build_runner
from standins.local_bot import LocalBot
from standins.onnx_models import linear_model

MODELS = {
    "own_signals": "7b1e0c2d-0011-4000-8000-0000000000d1",
    "own_crypto": "7b1e0c2d-0012-4000-8000-0000000000d2",
}
FEATURES = ("own_momentum", "own_volatility")
INPUTS = {
    "own_signals": {"source": "own", "table": "momentum", "wait_seconds": 0},
    "own_crypto": {"source": "own", "table": "crypto_momentum", "wait_seconds": 0},
}


@pytest.fixture(scope="module")
def bot(local_bot: LocalBot):
    """The local bot with an own-data Signals and Crypto model published; models.json as
    found after."""
    store = open_model_store(os.environ["MODEL_STORE_URI"])
    try:
        found: bytes | None = store.read("models.json").data
    except ObjectMissing:
        found = None  # this module runs first: the other modules' bot publishes afresh
    known = local_bot.numerai.account_models()
    for name, tournament in (("own_signals", 11), ("own_crypto", 12)):
        if name not in known:
            local_bot.standin.create_model(name, tournament=tournament, model_id=MODELS[name])
        version = "v2.1" if tournament == 11 else "v2.0"
        local_bot.publish(
            name,
            linear_model(
                FEATURES,
                data_version=version,
                tournament="signals" if tournament == 11 else "crypto",
                input_source="own",
                input_type=TensorProto.DOUBLE,
            ),
        )
    set_inputs(INPUTS)
    yield local_bot
    if found is None:
        store.delete("models.json")
    else:
        store.write("models.json", found)


def set_inputs(inputs: dict[str, dict]) -> None:
    """Point the models' models.json entries at their own tables."""
    store = open_model_store(os.environ["MODEL_STORE_URI"])
    document = json.loads(store.read("models.json").data)
    for name, value in inputs.items():
        document["models"][name]["tournament"] = "signals" if "signals" in name else "crypto"
        document["models"][name]["input"] = value
    store.write("models.json", json.dumps(document).encode())


def universe(bot: LocalBot, tournament, tmp_path: Path) -> tuple[pa.Table, dt.date]:
    """Numerai's live universe for the open round, downloaded as the worker does."""
    version = tournament.default_data_version
    path = bot.numerai.download_dataset(
        tournament.live_file(version), tmp_path / f"{tournament.name}.parquet", None, tournament
    )
    table = pq.read_table(path)
    return table, dt.date.fromisoformat(str(table.column("date")[0].as_py())[:10])


def drop(tournament, table_name: str, table: pa.Table, day: dt.date) -> None:
    """The user's job drops its table into the stack's bucket under the documented key."""
    sink = io.BytesIO()
    pq.write_table(table, sink)
    store = open_model_store(WorkerSettings.from_env().own_data_uri)
    store.write(f"{tournament.name}/{table_name}/{day.isoformat()}.parquet", sink.getvalue())


def features_for(ids: list, id_column: str, **extra) -> pa.Table:
    rng = np.random.default_rng(len(ids))
    data = {id_column: ids, **{f: rng.normal(size=len(ids)) for f in FEATURES}}
    data.update(extra)
    return pa.table(data)


def run(models: tuple[str, ...]):
    runner = build_runner(WorkerSettings.from_env())
    return {o.model: o for o in runner.run(WorkerRequest("webhook", models=models)).outcomes}


def accepted(bot: LocalBot, model: str, tournament: int) -> list[dict]:
    number = bot.standin.round_number(tournament)
    return [
        s
        for s in bot.standin.submissions(model, tournament=tournament)
        if s["status"] == "accepted" and s["round"] == number
    ]


def open_rounds(bot: LocalBot) -> None:
    bot.standin.open_round(tournament=11, trigger_webhooks=False)
    bot.standin.open_round(tournament=12, trigger_webhooks=False)


def test_own_tables_in_the_bucket_are_submitted_and_accepted_by_numerai(bot, tmp_path):
    open_rounds(bot)
    signals, signals_day = universe(bot, SIGNALS, tmp_path)
    crypto, crypto_day = universe(bot, CRYPTO, tmp_path)
    tickers = signals.column("ticker").to_pylist()  # keyed by another id Numerai accepts
    drop(
        SIGNALS, "momentum", features_for(tickers[: len(tickers) * 9 // 10], "ticker"), signals_day
    )
    drop(
        CRYPTO,
        "crypto_momentum",
        features_for(crypto.column("symbol").to_pylist(), "symbol"),
        crypto_day,
    )
    outcomes = run(tuple(MODELS))
    assert {o.status for o in outcomes.values()} == {"submitted"}, outcomes
    assert outcomes["own_signals"].input == "own"
    assert outcomes["own_signals"].coverage == pytest.approx(0.9, abs=0.01)
    assert outcomes["own_crypto"].coverage == 1.0
    assert len(accepted(bot, "own_signals", 11)) == 1 and len(accepted(bot, "own_crypto", 12)) == 1


BAD_TABLES = {
    "duplicate ids": (lambda ids: features_for([*ids, ids[0]], "numerai_ticker"), "more than once"),
    "a missing feature": (
        lambda ids: features_for(ids, "numerai_ticker").drop_columns(["own_volatility"]),
        "lacks 1 of the model's 2 features",
    ),
    "a mistyped feature": (
        lambda ids: features_for(ids, "numerai_ticker").set_column(
            1, "own_momentum", pa.array([str(i) for i in range(len(ids))])
        ),
        "must be numeric",
    ),
    "too few ids": (lambda ids: features_for(ids[:60], "numerai_ticker"), "covers 60 of the"),
    "another day's data": (
        lambda ids: features_for(ids, "numerai_ticker", date=["2020-01-03"] * len(ids)),
        "holds data for 2020-01-03",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_TABLES))
def test_a_bad_table_fails_its_model_alone_with_a_clear_error(bot, tmp_path, kind):
    make, says = BAD_TABLES[kind]
    open_rounds(bot)
    signals, signals_day = universe(bot, SIGNALS, tmp_path)
    crypto, crypto_day = universe(bot, CRYPTO, tmp_path)
    drop(SIGNALS, "momentum", make(signals.column("numerai_ticker").to_pylist()), signals_day)
    drop(
        CRYPTO,
        "crypto_momentum",
        features_for(crypto.column("symbol").to_pylist(), "symbol"),
        crypto_day,
    )
    outcomes = run(tuple(MODELS))
    assert outcomes["own_signals"].status == "failed" and says in outcomes["own_signals"].detail
    assert (
        "own-data/signals/momentum" in outcomes["own_signals"].detail
        or kind != "another day's data"
    )
    assert outcomes["own_crypto"].status == "submitted"
    assert accepted(bot, "own_signals", 11) == []


def test_a_table_not_there_yet_is_left_waiting_without_an_error(bot, tmp_path):
    open_rounds(bot)
    outcomes = run(("own_crypto",))
    waiting = outcomes["own_crypto"]
    assert waiting.status == "waiting" and "not there yet" in waiting.detail
    assert "s3://numerai-bot-models/own-data/crypto/crypto_momentum/" in waiting.detail
    assert accepted(bot, "own_crypto", 12) == []
