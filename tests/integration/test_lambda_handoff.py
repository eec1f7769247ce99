"""Numerai's webhook call, and the worker's fan-out, reach Lambda as real Invoke calls.

The deployed entry points themselves run here: ``webhook.handler`` behind the local Function
URL and ``worker.handler``, each building its ``LambdaInvoker`` from the environment as in
Lambda. Lambda's Invoke API is the local endpoint (``AWS_ENDPOINT_URL_LAMBDA``) recording
what botocore sent, its worker a no-op: the worker runs that follow are other tests' story.

Both entry points keep what they built for the life of the process, as a warm container
does, so they are used in this module only, all against the same endpoint.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

import webhook
import worker
from numerai_bot.adapters.model_store import open_model_store
from standins.lambda_endpoint import Call, LambdaEndpoint
from standins.local_lambda import LocalContext
from tests.integration.conftest import MODELS, accepted


def worker_arn() -> str:
    """The worker the stack's functions are told to invoke (LocalBot sets it as SAM does)."""
    return os.environ["WORKER_FUNCTION_ARN"]


def worker_name() -> str:
    """That worker's function name, as Lambda (and the endpoint's record) names it."""
    return worker_arn().rpartition(":function:")[2]


@pytest.fixture(scope="module")
def lambda_api(local_bot) -> Iterator[LambdaEndpoint]:
    """Lambda's Invoke API for this module, and shards of one typical model each."""
    with LambdaEndpoint() as endpoint, pytest.MonkeyPatch.context() as patch:
        endpoint.register(worker_name(), lambda event, context: None)
        patch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint.url)
        patch.setenv("SHARD_SIZE", "1")
        yield endpoint


@pytest.fixture
def lambda_answers(lambda_api: LambdaEndpoint) -> Iterator[LambdaEndpoint]:
    """The endpoint with no calls and no forced answers at the start of a test."""
    lambda_api.clear()
    yield lambda_api
    lambda_api.clear()


def numerai_calls_the_webhook(bot, model: str) -> tuple[str, dict]:
    """Numerai fires ``model``'s registered webhook; the trigger id and how the call ended."""
    bot.register_webhooks([model])
    before = len(bot.standin.webhook_deliveries())
    trigger_id = bot.trigger(model)
    deliveries = bot.standin.wait_for_deliveries(before + 1, 30)
    (delivery,) = [d for d in deliveries if d["payload"]["triggerId"] == trigger_id]
    return trigger_id, delivery


def test_numerai_s_webhook_call_reaches_the_worker_as_a_queued_lambda_event(
    bot, lambda_answers, monkeypatch
):
    monkeypatch.setattr(bot, "webhook_handler", webhook.handler)  # behind the Function URL
    trigger_id, delivery = numerai_calls_the_webhook(bot, "alpha")
    assert delivery["status"] == 200
    expected = {
        "source": "webhook",
        "isTest": True,
        "roundNumber": bot.standin.current_round,
        "triggerId": trigger_id,
        "models": ["alpha"],
    }
    assert lambda_answers.calls == [Call(worker_name(), None, "Event", expected)]
    assert accepted(bot) == []  # queued for the worker, not run by the webhook


def test_a_webhook_call_lambda_did_not_queue_is_answered_500(bot, lambda_answers, monkeypatch):
    monkeypatch.setattr(bot, "webhook_handler", webhook.handler)
    lambda_answers.answer_next(worker_name(), 200)  # ran, was not queued
    _, delivery = numerai_calls_the_webhook(bot, "beta")
    assert delivery["status"] == 500  # Numerai's record shows the miss; the schedule catches up
    assert len(lambda_answers.calls) == 1


def measured_as_typical(bot) -> None:
    """Every published model costs what a typical 2,000-tree model does: one shard each."""
    store = open_model_store(os.environ["MODEL_STORE_URI"])
    document = json.loads(store.read("models.json").data)
    for entry in document["models"].values():
        entry["cost"] = {"predict_seconds_per_1k_rows": 0.07, "session_seconds": 0.1}
    store.write("models.json", json.dumps(document).encode())


def test_the_fan_out_queues_one_worker_event_per_shard(bot, lambda_answers):
    measured_as_typical(bot)
    result = worker.handler({"source": "schedule"}, LocalContext("worker"))
    assert result["status"] == "fanned_out" and "3 shards" in result["message"]
    invokes = lambda_answers.calls
    assert {(i.function_name, i.qualifier, i.invocation_type) for i in invokes} == {
        (worker_name(), None, "Event")
    }
    assert sorted(name for i in invokes for name in i.payload["models"]) == sorted(MODELS)
    for sent in invokes:
        (model,) = sent.payload["models"]
        assert sent.payload == {"source": "shard", "isTest": False, "models": [model]}
    assert accepted(bot) == []  # each shard is its own Lambda run


def test_a_shard_lambda_did_not_queue_fails_its_models_so_lambda_retries_the_run(
    bot, lambda_answers
):
    measured_as_typical(bot)
    lambda_answers.answer_next(worker_name(), 200)
    with pytest.raises(worker.RoundIncomplete, match="could not start its shard") as raised:
        worker.handler({"source": "schedule"}, LocalContext("worker"))
    assert "worker invoke returned 200" in str(raised.value)
    # the other shards were queued all the same; the retry finds their models done or held
    assert len(lambda_answers.calls) == len(MODELS)
