"""The worker's and the webhook's entry points: what raises to Lambda (and trips the error
alarm) and what does not, and that nothing they let out carries a presigned URL's credentials."""

from __future__ import annotations

import io
import traceback
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

import webhook
import worker
from numerai_bot.adapters.secrets_manager import numerai_keys
from numerai_bot.errors import ConfigError, KeysNotSet, LiveDataError
from numerai_bot.outcomes import RETRY, ModelOutcome, summarize
from standins.local_lambda import LocalContext, function_url_event

PRESIGNED = (
    "https://bucket.s3.amazonaws.com/v5.2/live.parquet?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Signature=5f1e0c9d8b7a&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE"
)


class FakeRunner:
    """A runner whose run answers ``result`` or raises what ``fail`` raises."""

    def __init__(self, result: Any = None, fail: Any = None) -> None:
        self.result, self.fail = result, fail

    def run(self, request: Any, deadline: Any = None, invocation: Any = None) -> Any:
        if self.fail is not None:
            self.fail()
        return self.result


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the worker's logger writes during the test (its JSON lines)."""
    captured = io.StringIO()
    previous = worker.logger.registered_handler.setStream(captured)
    yield captured
    worker.logger.registered_handler.setStream(previous)


def run_worker(runner_factory: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
    handler = worker.create_handler(runner_factory)
    return handler(event or {"source": "schedule"}, LocalContext("worker"))


def assert_no_credentials(text: str) -> None:
    assert "X-Amz-Signature" not in text and "5f1e0c9d8b7a" not in text
    assert "X-Amz-Security-Token" not in text and "IQoJb3JpZ2luX2VjEXAMPLE" not in text


def test_a_new_stack_without_keys_answers_scheduled_checks_with_one_notice(logged) -> None:
    def no_keys_yet() -> Any:
        raise KeysNotSet("no Numerai keys in secret s yet: store them with numerai-bot put-keys")

    answer = run_worker(no_keys_yet)
    assert answer["status"] == "keys_not_set" and "put-keys" in answer["message"]
    lines = logged.getvalue().splitlines()
    assert len(lines) == 1 and '"level":"WARNING"' in lines[0] and "put-keys" in lines[0]


def test_a_keys_secret_created_empty_reads_as_keys_not_set(monkeypatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="stack/numerai-api-keys-empty")["ARN"]
        with pytest.raises(KeysNotSet, match="put-keys"):
            numerai_keys(arn)
        client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
        with pytest.raises(ConfigError, match="ResourceNotFoundException") as deleted:
            numerai_keys(arn)  # a deleted secret is a fault, not "not yet"
        assert not isinstance(deleted.value, KeysNotSet)


def test_a_model_held_by_another_run_is_not_an_error() -> None:
    held = ModelOutcome("alpha", RETRY, "another invocation is submitting this model right now")
    result = summarize({"classic": 1001}, [held])
    answer = run_worker(lambda: FakeRunner(result), {"source": "webhook", "models": ["alpha"]})
    assert answer["status"] == "incomplete"
    assert "1 pending (held by another run" in answer["message"]
    assert answer["outcomes"][0]["status"] == RETRY


def test_a_presigned_url_raised_from_deep_inside_leaves_the_worker_without_credentials(
    logged, caplog
) -> None:
    def download() -> None:
        raise requests.exceptions.InvalidURL(f"Failed to parse: {PRESIGNED}")

    def stage() -> None:
        try:
            download()
        except requests.RequestException as error:
            raise LiveDataError(f"could not download {PRESIGNED}") from error

    with pytest.raises(Exception) as raised:
        run_worker(lambda: FakeRunner(fail=stage))
    assert "LiveDataError" in str(raised.value)
    assert_no_credentials(str(raised.value))
    assert_no_credentials("".join(traceback.format_exception(raised.value)))
    assert_no_credentials(logged.getvalue() + caplog.text)


def test_an_error_without_secrets_leaves_the_worker_as_it_is() -> None:
    def fail() -> None:
        raise LiveDataError("Numerai's live file is empty")

    with pytest.raises(LiveDataError, match="is empty"):
        run_worker(lambda: FakeRunner(fail=fail))


def test_a_presigned_url_in_a_wiring_error_leaves_the_webhook_without_credentials(
    monkeypatch, caplog
) -> None:
    monkeypatch.setenv("WORKER_FUNCTION_ARN", "arn:aws:lambda:us-east-1:123456789012:function:w")
    monkeypatch.setenv("WEBHOOK_TOKEN", "a-token-of-more-than-16-characters")

    def invoker(settings: Any) -> Any:
        raise requests.exceptions.MissingSchema(f"Invalid URL {PRESIGNED!r}: No scheme supplied")

    handler = webhook.create_handler(invoker)
    with pytest.raises(Exception) as raised:
        handler(function_url_event("POST", "/t/alpha", {}, b"{}"), LocalContext("webhook"))
    assert "MissingSchema" in str(raised.value)
    assert_no_credentials("".join(traceback.format_exception(raised.value)) + caplog.text)
