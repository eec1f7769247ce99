"""A whole round over real HTTP: Numerai's stand-in calls our webhook, the worker submits."""

from __future__ import annotations

import boto3
import pytest

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from standins.local_lambda import LocalContext
from standins.onnx_models import linear_model
from tests.integration.conftest import MODELS, accepted


def run_worker(bot, event=None):
    """Invoke the worker directly, as Lambda's async invoke would; result or exception."""
    try:
        return bot.worker_handler(event or {"source": "schedule"}, LocalContext("worker"))
    except Exception as error:
        return error


def ledger(bot):
    return DynamoLedger(bot.stack.table, boto3.resource("dynamodb"))


def current_round(bot) -> int:
    return bot.numerai.current_round().number


def test_webhook_with_right_token_submits_each_model_once_with_its_trigger_id(bot):
    bot.register_webhooks(list(MODELS))
    before = len(bot.standin.webhook_deliveries())  # earlier tests' calls are on record too
    triggers = {name: bot.trigger(name) for name in MODELS}
    deliveries = bot.standin.wait_for_deliveries(before + len(MODELS), timeout=30)[before:]
    assert [d["status"] for d in deliveries] == [200] * len(MODELS)
    results = bot.invoker.wait()
    assert all(isinstance(r, dict) and r["status"] == "complete" for r in results), results
    for name, trigger_id in triggers.items():
        (submission,) = accepted(bot, name)
        assert submission["trigger_id"] == trigger_id
        assert submission["rows"] == len(bot.standin.live_ids())
        record = ledger(bot).get(current_round(bot), name)
        assert record.status == "submitted" and record.trigger_id == trigger_id


def test_wrong_token_is_refused_and_nothing_runs(bot):
    model_id = MODELS["alpha"]
    bot.numerai.set_webhook(model_id, bot.webhook_url("alpha", token="not-the-token-" + "x" * 20))
    before = len(bot.standin.webhook_deliveries())  # earlier tests' calls are on record too
    bot.trigger("alpha")
    (delivery,) = bot.standin.wait_for_deliveries(before + 1, timeout=30)[before:]
    assert delivery["status"] == 403 and "forbidden" in delivery["body"]
    assert bot.invoker.wait() == [] and accepted(bot) == []


def test_closed_round_submits_nothing_and_says_so(bot):
    bot.standin.close_round()
    result = run_worker(bot)
    assert result["status"] == "closed" and "not open" in result["message"]
    assert accepted(bot) == []


def test_nan_model_is_refused_before_upload_and_the_others_still_submit(bot, feature_sets):
    bot.publish("beta", linear_model(feature_sets["small"], behaviour="nan"))
    error = run_worker(bot)
    assert isinstance(error, Exception) and "beta" in str(error) and "NaN" in str(error)
    assert sorted(s["model_name"] for s in accepted(bot)) == ["alpha", "gamma"]
    assert [s for s in bot.standin.submissions("beta") if s["round"] == current_round(bot)] == []
    record = ledger(bot).get(current_round(bot), "beta")
    assert record.status == "failed" and "NaN" in record.error


@pytest.mark.parametrize(
    ("mode", "status", "message"), [("reject", 403, "HTTP 403"), ("drop", None, "upload not found")]
)
def test_failed_put_is_reported_as_a_failure(bot, mode, status, message):
    bot.standin.set_put_behaviour(mode, status=status)
    result = run_worker(bot, {"source": "manual", "models": ["alpha"]})
    assert isinstance(result, Exception) and message in str(result)
    assert accepted(bot, "alpha") == []
    assert ledger(bot).get(current_round(bot), "alpha").status == "failed"


def test_numerai_5xx_burst_is_retried_and_the_round_still_submits(bot):
    bot.standin.fail_next(3, status=503)
    result = run_worker(bot)
    assert result["status"] == "complete" and result["submitted"] == len(MODELS)
    assert len(accepted(bot)) == len(MODELS)


def test_duplicate_webhooks_submit_once(bot):
    bot.register_webhooks(["alpha"])
    before = len(bot.standin.webhook_deliveries())
    for _ in range(3):
        bot.trigger("alpha")
    bot.standin.wait_for_deliveries(before + 3, timeout=30)
    bot.invoker.wait()
    assert len(accepted(bot, "alpha")) == 1


def test_fallback_schedule_submits_only_missing_models(bot):
    run_worker(bot, {"source": "manual", "models": ["alpha"]})
    result = run_worker(bot)
    statuses = {o["model"]: o["status"] for o in result["outcomes"]}
    assert statuses == {"alpha": "skipped", "beta": "submitted", "gamma": "submitted"}
    assert len(accepted(bot)) == len(MODELS)


def test_rotated_keys_reach_a_warm_worker(bot):
    from aws_lambda_powertools.utilities import parameters

    secrets = boto3.client("secretsmanager")
    good = secrets.get_secret_value(SecretId=bot.stack.keys_secret)["SecretString"]
    assert run_worker(bot, {"source": "manual", "models": ["alpha"]})["submitted"] == 1
    try:
        secrets.put_secret_value(
            SecretId=bot.stack.keys_secret,
            SecretString='{"public_id": "REVOKED", "secret_key": "REVOKED"}',
        )
        parameters.clear_caches()  # what the 5-minute cache expiry does
        error = run_worker(bot, {"source": "manual", "models": ["beta"]})
        assert isinstance(error, Exception) and "Invalid API key" in str(error)
    finally:
        secrets.put_secret_value(SecretId=bot.stack.keys_secret, SecretString=good)
        parameters.clear_caches()
    assert run_worker(bot, {"source": "manual", "models": ["beta"]})["submitted"] == 1
