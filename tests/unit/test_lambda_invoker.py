"""The hand-off to the worker is Lambda's async Invoke, sent for real by botocore.

``LambdaInvoker`` (the webhook's and the fan-out's) asks for ``InvocationType=Event`` with the
request's JSON, and only Lambda's 202 ("queued") counts as handed off: any other answer is
an error, so the webhook answers 500 and a fan-out fails (Lambda retries it) rather than a
round being lost quietly. Lambda here is the local endpoint, recording each Invoke, with a
worker that does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from numerai_bot.adapters.lambda_invoker import LambdaInvoker
from numerai_bot.events import WorkerRequest
from standins.lambda_endpoint import Call, LambdaEndpoint, function_arn

WORKER = "numerai-bot-worker"
WORKER_ARN = function_arn(WORKER)  # the worker's ARN in the stand-in's account and region


@pytest.fixture
def lambda_api() -> Iterator[LambdaEndpoint]:
    with LambdaEndpoint() as endpoint:
        endpoint.register(WORKER, lambda event, context: None)
        yield endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, lambda_api: LambdaEndpoint) -> None:
    """Lambda's environment as a function sees it, with Lambda's API at the local endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", lambda_api.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_a_webhook_request_reaches_the_worker_as_a_queued_event(lambda_api, aws_env):
    invoker = LambdaInvoker(WORKER_ARN)  # as the webhook builds it: boto3's own client
    invoker.invoke(WorkerRequest("webhook", 1021, "trig-1", True, ("alpha",)))
    expected = {
        "source": "webhook",
        "isTest": True,
        "roundNumber": 1021,
        "triggerId": "trig-1",
        "models": ["alpha"],
    }
    assert lambda_api.calls == [Call(WORKER, None, "Event", expected)]


def test_a_shard_request_carries_its_models_and_the_webhook_s_trigger(lambda_api):
    client = boto3.client(
        "lambda",
        endpoint_url=lambda_api.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    LambdaInvoker(WORKER_ARN, client).invoke(
        WorkerRequest("shard", None, "trig-2", False, ("beta", "gamma"), force=True)
    )
    (sent,) = lambda_api.calls
    assert (sent.function_name, sent.invocation_type) == (WORKER, "Event")
    assert sent.payload == {
        "source": "shard",
        "isTest": False,
        "triggerId": "trig-2",
        "models": ["beta", "gamma"],
        "force": True,
    }


@pytest.mark.parametrize(
    ("status", "why"),
    [(200, "run synchronously, not queued"), (204, "an answer Lambda never gives to Event")],
)
def test_an_invoke_lambda_did_not_queue_is_an_error(lambda_api, aws_env, status, why):
    lambda_api.answer_next(WORKER, status)
    with pytest.raises(RuntimeError, match=f"worker invoke returned {status}"):
        LambdaInvoker(WORKER_ARN).invoke(WorkerRequest("webhook", 1021, "trig-3"))
    assert len(lambda_api.calls) == 1, why  # asked once, and said so
