"""One path for Classic, Signals and Crypto: each model is submitted in its own tournament's
round, with its tournament's file, columns and rules."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from onnx import TensorProto

from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.churn import SubmissionArchive
from numerai_bot.events import WorkerRequest
from numerai_bot.inference import ModelCache
from numerai_bot.live_data import LiveDataCache
from numerai_bot.models_config import ModelConfig, render_models_config
from numerai_bot.round.runner import RoundRunner
from numerai_bot.tournaments import CLASSIC, CRYPTO, SIGNALS
from standins import synthetic_tournaments as provided
from standins.onnx_models import linear_model
from tests.unit.fakes import FakeNumerai, MemoryLedger

MODELS = {"classic_m": "id-c", "signals_m": "id-s", "crypto_m": "id-x"}
IN_TOURNAMENT = {"signals_m": 11, "crypto_m": 12}


@pytest.fixture
def root(tmp_path: Path, small_data: Path) -> Path:
    """Classic's small v5.2 plus small Signals (300 tickers) and Crypto (150 symbols) data."""
    folder = tmp_path / "numerai"
    shutil.copytree(small_data, folder / "v5.2")
    for shape, rows in ((provided.SIGNALS, 300), (provided.CRYPTO, 150)):
        provided.write_dataset(folder, shape, live_rows=rows, train_eras=2, ids_per_era=20)
    return folder


def features_of(root: Path, folder: str) -> list[str]:
    names = pq.read_schema(root / folder / "live.parquet").names
    return [n for n in names if n.startswith("feature_")]


def publish(store: LocalModelStore, root: Path, small_features, signals_seed: int = 1) -> None:
    signals = features_of(root, "signals/v2.1")
    strings = tuple(n for n in signals if n in provided.STRING_FEATURES)
    crypto = features_of(root, "crypto/v2.0")
    store.write("classic_m.onnx", linear_model(small_features["small"]))
    store.write(
        "signals_m.onnx",
        linear_model(
            signals,
            seed=signals_seed,
            data_version="v2.1",
            tournament="signals",
            string_features=strings,
            input_type=TensorProto.DOUBLE,
        ),
    )
    store.write(
        "crypto_m.onnx",
        linear_model(crypto, data_version="v2.0", tournament="crypto", seed=2),
    )


@pytest.fixture
def bot(tmp_path: Path, root: Path, small_features):
    store = LocalModelStore(tmp_path / "store")
    publish(store, root, small_features)
    configs = [
        ModelConfig("classic_m", "classic_m.onnx"),
        ModelConfig("signals_m", "signals_m.onnx", tournament=SIGNALS),
        ModelConfig("crypto_m", "crypto_m.onnx", tournament=CRYPTO),
    ]
    store.write("models.json", render_models_config(configs))
    numerai = FakeNumerai(root / "v5.2", MODELS, tournaments=IN_TOURNAMENT)
    ledger = MemoryLedger()
    runner = RoundRunner(
        numerai,
        store,
        ledger,
        LiveDataCache(tmp_path / "live", numerai),
        ModelCache(store, threads=1),
        archive=SubmissionArchive(LocalModelStore(tmp_path / "submissions")),
    )
    return runner, numerai, store, ledger


def header(body: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(body.decode())))


def test_each_model_submits_in_its_own_tournaments_round_with_its_columns(bot):
    runner, numerai, _, ledger = bot
    result = runner.run(WorkerRequest("schedule", trigger_id="trig-7"))
    assert result.status == "complete", result.message
    assert result.rounds == {"classic": 500, "signals": 700, "crypto": 900}
    by_model = {u["model_id"]: u for u in numerai.uploads}
    assert header(by_model["id-c"]["body"]) == ["id", "prediction"]
    assert header(by_model["id-s"]["body"]) == ["numerai_ticker", "signal"]
    assert header(by_model["id-x"]["body"]) == ["symbol", "signal"]
    assert {u["tournament"]: u["round"] for u in numerai.uploads} == {8: 500, 11: 700, 12: 900}
    assert {u["trigger_id"] for u in numerai.uploads} == {"trig-7"}
    assert ledger.get(700, "signals_m", SIGNALS.id).status == "submitted"
    assert ledger.get(700, "signals_m") is None  # Classic's key is another record


def test_a_signals_webhook_while_only_classic_is_open_submits_nothing_and_says_so(bot):
    runner, numerai, _, _ = bot
    numerai.rounds[11] = None
    result = runner.run(WorkerRequest("webhook", models=("signals_m",)))
    assert result.status == "closed" and numerai.uploads == []
    assert "no signals round is open" in result.message


def test_fewer_than_100_valid_tickers_is_refused_before_upload_and_others_submit(bot, root):
    runner, numerai, _, _ = bot
    live = root / "signals/v2.1/live.parquet"
    pq.write_table(pq.read_table(live).slice(0, 99), live)
    result = runner.run(WorkerRequest("schedule"))
    failed = {o.model: o.detail for o in result.failed}
    assert list(failed) == ["signals_m"] and "at least 100" in failed["signals_m"], failed
    assert {u["model_id"] for u in numerai.uploads} == {"id-c", "id-x"}


def test_a_model_file_exported_for_another_tournament_is_refused(bot, small_features):
    runner, _numerai, store, _ = bot
    store.write("crypto_m.onnx", linear_model(small_features["small"]))  # a Classic file
    result = runner.run(WorkerRequest("schedule"))
    failed = {o.model: o.detail for o in result.failed}
    assert "exported for classic" in failed["crypto_m"] and "crypto" in failed["crypto_m"]


def test_a_model_whose_account_tournament_differs_from_its_config_is_refused(bot):
    runner, numerai, _, _ = bot
    numerai.tournaments["crypto_m"] = 11
    result = runner.run(WorkerRequest("schedule"))
    failed = {o.model: o.detail for o in result.failed}
    assert "tournament-11 model in your account" in failed["crypto_m"]


def test_the_churn_alert_fires_on_a_reshuffled_submission_not_a_near_identical_one(
    bot, root, small_features
):
    runner, numerai, store, ledger = bot
    runner.run(WorkerRequest("schedule", models=("signals_m",)))
    numerai.rounds[11] = 701  # next week: same universe and features, same model
    same = runner.run(WorkerRequest("schedule", models=("signals_m",)))
    (outcome,) = same.outcomes
    assert outcome.churn == pytest.approx(0.0, abs=1e-12) and not same.alerts
    publish(store, root, small_features, signals_seed=99)  # a different model
    numerai.rounds[11] = 702
    moved = runner.run(WorkerRequest("schedule", models=("signals_m",)))
    (outcome,) = moved.outcomes
    assert outcome.status == "submitted" and outcome.churn > 0.15 and moved.alerts
    assert ledger.get(702, "signals_m", SIGNALS.id).churn == pytest.approx(outcome.churn)


def test_max_churn_blocks_the_upload_and_says_why(bot, root, small_features):
    runner, numerai, store, _ = bot
    runner.run(WorkerRequest("schedule", models=("signals_m",)))
    publish(store, root, small_features, signals_seed=99)
    limit_churn(store, 0.1)
    numerai.rounds[11] = 701
    result = runner.run(WorkerRequest("schedule", models=("signals_m",)))
    assert "above max_churn 0.1" in result.failed[0].detail
    assert len([u for u in numerai.uploads if u["round"] == 701]) == 0


GARBAGE = b"\xff\xfe\x00 not a csv"


def limit_churn(store: LocalModelStore, max_churn: float) -> None:
    """Republish models.json with the Signals model alone, refused above ``max_churn``."""
    store.write(
        "models.json",
        render_models_config(
            [ModelConfig("signals_m", "signals_m.onnx", tournament=SIGNALS, max_churn=max_churn)]
        ),
    )


def test_an_unreadable_kept_submission_is_set_aside_named_and_the_upload_goes_on(bot, tmp_path):
    runner, numerai, _, _ = bot
    runner.run(WorkerRequest("schedule", models=("signals_m",)))
    kept = tmp_path / "submissions/signals/signals_m/700.csv"
    kept.write_bytes(GARBAGE)  # the archive's copy of last round is damaged
    numerai.rounds[11] = 701
    result = runner.run(WorkerRequest("schedule", models=("signals_m",)))
    (outcome,) = result.outcomes
    assert outcome.status == "submitted" and outcome.churn is None
    (alert,) = result.alerts
    assert f"{kept} is unreadable" in alert and "moved to" in alert, alert
    assert str(kept) in outcome.detail
    quarantined = tmp_path / "submissions/quarantine/signals/signals_m/700.csv"
    assert quarantined.read_bytes() == GARBAGE and not kept.exists()
    numerai.rounds[11] = 702  # the next round compares with 701 again, quietly
    later = runner.run(WorkerRequest("schedule", models=("signals_m",)))
    assert later.outcomes[0].churn == pytest.approx(0.0, abs=1e-12) and not later.alerts


def test_max_churn_with_an_unreadable_kept_submission_fails_naming_the_file_and_the_fix(
    bot, tmp_path
):
    runner, numerai, store, _ = bot
    runner.run(WorkerRequest("schedule", models=("signals_m",)))
    kept = tmp_path / "submissions/signals/signals_m/700.csv"
    kept.write_bytes(GARBAGE)
    limit_churn(store, 0.1)
    numerai.rounds[11] = 701
    result = runner.run(WorkerRequest("schedule", models=("signals_m",)))
    (failed,) = result.failed
    assert f"{kept} is unreadable" in failed.detail and "max_churn 0.1" in failed.detail
    assert "quarantine/signals/signals_m/700.csv" in failed.detail  # where to move it
    assert "remove max_churn" in failed.detail
    assert kept.read_bytes() == GARBAGE  # a hard limit is never bypassed on the next run
    assert not [u for u in numerai.uploads if u["round"] == 701]


def test_a_retired_data_version_fails_naming_the_newest(bot):
    runner, numerai, _, _ = bot
    numerai.served = frozenset({"v5.2/live.parquet", "v5.3/live.parquet"})
    numerai.served = frozenset({"v5.3/live.parquet", "signals/v2.1/live.parquet"})
    result = runner.run(WorkerRequest("schedule", models=("classic_m",)))
    assert "no longer served" in result.failed[0].detail and "v5.3" in result.failed[0].detail
    assert CLASSIC.live_file("v5.3") in numerai.served
