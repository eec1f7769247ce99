"""Signals and Crypto over real HTTP: numerapi's calls against the Numerai stand-in, the
handlers against moto, models trained and exported with model_export."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from model_export.cli.program import main as model_export
from numerai_bot.adapters.model_store import open_model_store
from numerai_bot.errors import ObjectMissing
from numerai_bot.tournaments import CRYPTO, SIGNALS
from standins.local_bot import LocalBot
from standins.local_lambda import LocalContext

MODELS = {
    "signals_m": "7b1e0c2d-0002-4000-8000-0000000000c2",
    "crypto_m": "7b1e0c2d-0003-4000-8000-0000000000c3",
}


def train(bot: LocalBot, workdir: Path, name: str, tournament: str, seed: int = 0) -> bytes:
    """model_export's example model on the stand-in's data (few trees), as the demo does."""
    output = workdir / f"{name}-{seed}.onnx"
    args = ["train", "--tournament", tournament, "--download", "--data-dir"]
    args += [str(workdir / "training"), "--n-estimators", "20", "--name", name]
    args += ["-o", str(output), "--quiet", "--param", f"seed={seed}"]
    os.environ["NUMERAI_API_URL"] = bot.numerai.api_url
    assert model_export(args) == 0
    return output.read_bytes()


@pytest.fixture(scope="module")
def bot(local_bot: LocalBot, tmp_path_factory: pytest.TempPathFactory):
    """The integration tests' bot with a Signals and a Crypto model added to the account,
    trained and exported with model_export on the stand-in's data; models.json as found after."""
    workdir = tmp_path_factory.mktemp("tournaments")
    store = open_model_store(os.environ["MODEL_STORE_URI"])
    try:
        found: bytes | None = store.read("models.json").data
    except ObjectMissing:
        found = None  # this module runs first: the other modules' bot publishes afresh
    known = local_bot.numerai.account_models()
    for name, tournament in (("signals_m", 11), ("crypto_m", 12)):
        if name not in known:
            local_bot.standin.create_model(name, tournament=tournament, model_id=MODELS[name])
    previous = os.environ.get("NUMERAI_API_URL")
    try:
        for name, tournament in (("signals_m", "signals"), ("crypto_m", "crypto")):
            local_bot.publish(name, train(local_bot, workdir, name, tournament))
    finally:
        if previous is not None:
            os.environ["NUMERAI_API_URL"] = previous
    local_bot.workdir_models = workdir  # type: ignore[attr-defined]
    yield local_bot
    # The other modules' rounds run their own models (publish refuses an empty models.json).
    if found is None:
        store.delete("models.json")
    else:
        store.write("models.json", found)


def accepted(bot: LocalBot, model: str, tournament: int) -> list[dict]:
    number = bot.standin.round_number(tournament)
    return [
        s
        for s in bot.standin.submissions(model, tournament=tournament)
        if s["status"] == "accepted" and s["round"] == number
    ]


def fire(bot: LocalBot, model: str) -> str:
    """Numerai calls the model's registered webhook; wait for the worker."""
    bot.register_webhooks([model])
    delivered = len(bot.standin.webhook_deliveries())
    trigger_id = bot.trigger(model)
    # Once the webhook has answered, its hand-off has started the worker: join it.
    bot.standin.wait_for_deliveries(delivered + 1, timeout=60)
    bot.invoker.wait(timeout=300)
    return trigger_id


def test_a_signals_and_a_crypto_model_submit_in_their_own_rounds_with_the_trigger_id(bot):
    bot.standin.open_round(tournament=11, trigger_webhooks=False)
    bot.standin.open_round(tournament=12, trigger_webhooks=False)
    for model, tournament in (("signals_m", SIGNALS), ("crypto_m", CRYPTO)):
        trigger_id = fire(bot, model)
        (submission,) = accepted(bot, model, tournament.id)
        assert submission["trigger_id"] == trigger_id
        assert submission["round"] == bot.standin.round_number(tournament.id)
    assert bot.standin.round_number(11) != bot.standin.round_number(12)


def test_a_signals_webhook_while_only_classic_is_open_submits_nothing_and_says_so(bot):
    bot.standin.open_round(tournament=11, trigger_webhooks=False)
    bot.standin.close_round(tournament=11)
    result = bot.worker_handler(
        {"source": "webhook", "models": ["signals_m"]}, LocalContext("worker")
    )
    assert result["status"] == "closed" and "no signals round is open" in result["message"]
    assert accepted(bot, "signals_m", 11) == []


def test_an_unreadable_kept_submission_is_moved_aside_in_the_bucket_and_the_upload_goes_on(bot):
    bucket = urlparse(os.environ["MODEL_STORE_URI"]).netloc
    archive = open_model_store(f"s3://{bucket}/submissions")
    event, context = {"source": "manual", "models": ["signals_m"]}, LocalContext("worker")
    bot.standin.open_round(tournament=11, trigger_webhooks=False)
    (kept,) = bot.worker_handler(event, context)["outcomes"]
    key = f"signals/signals_m/{kept['round_number']}.csv"
    damaged = b"\xff\xfe not the file that was submitted"
    archive.write(key, damaged)
    bot.standin.open_round(tournament=11, trigger_webhooks=False)
    result = bot.worker_handler(event, context)
    (outcome,) = result["outcomes"]
    assert outcome["status"] == "submitted" and outcome["churn"] is None
    (alert,) = result["alerts"]
    assert f"s3://{bucket}/submissions/{key} is unreadable" in alert, alert
    assert archive.read(f"quarantine/{key}").data == damaged
    with pytest.raises(ObjectMissing):
        archive.read(key)


@pytest.mark.slow
def test_the_churn_alert_fires_on_a_reshuffled_submission_and_not_on_a_near_identical_one(bot):
    churn = {}
    for step, seed in enumerate((0, 0, 1)):
        bot.standin.open_round(tournament=11, trigger_webhooks=False)
        if step == 2:  # a differently trained model: its ranking moves a lot
            bot.publish("signals_m", train(bot, bot.workdir_models, "signals_m", "signals", seed))
        result = bot.worker_handler(
            {"source": "manual", "models": ["signals_m"]}, LocalContext("worker")
        )
        (outcome,) = result["outcomes"]
        listed = bot.numerai.submissions(bot.numerai.account_models()["signals_m"].id)
        assert outcome["status"] == "submitted", (outcome, listed)
        churn[step] = (outcome["churn"], outcome["turnover"], result["alerts"])
    print(f"\n[churn] signals_m over three rounds (churn, turnover, alerts): {churn}")
    assert churn[1][0] < 0.15 and churn[1][2] == []  # same model, next week's features
    assert churn[2][2] and "signals_m" in churn[2][2][0]


def test_fewer_than_100_valid_tickers_is_refused_before_upload_and_crypto_still_submits(bot):
    import pyarrow.parquet as pq

    bot.standin.open_round(tournament=11, trigger_webhooks=False)
    bot.standin.open_round(tournament=12, trigger_webhooks=False)
    live = bot.workdir / "numerai-data" / "signals" / "v2.1" / "live.parquet"
    whole = live.read_bytes()
    try:
        pq.write_table(pq.read_table(live).slice(0, 99), live)  # a round with 99 tickers
        attempts_before = len(bot.standin.submissions("signals_m", tournament=11))
        try:
            bot.worker_handler(
                {"source": "manual", "models": ["signals_m", "crypto_m"]}, LocalContext("worker")
            )
        except Exception as error:  # the worker raises so that Lambda retries the failure
            assert "signals_m" in str(error) and "at least 100" in str(error)
        else:
            raise AssertionError("the worker reported no failure")
    finally:
        live.write_bytes(whole)
    assert len(bot.standin.submissions("signals_m", tournament=11)) == attempts_before
    (crypto,) = accepted(bot, "crypto_m", 12)
    assert crypto["round"] == bot.standin.round_number(12)
