"""``trigger --force`` reaches the worker through Lambda's Invoke, as botocore sends it.

Lambda's API is the local endpoint (``AWS_ENDPOINT_URL_LAMBDA``) that records each Invoke and
runs the local worker, answering as Lambda does: for a synchronous call the handler's JSON, or
``X-Amz-Function-Error`` with the error's message; 202 for an event, run in the background.
Nothing in the CLI is replaced.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from standins.lambda_endpoint import Call, LambdaEndpoint
from tests.cli.conftest import WORKER_FUNCTION

FORCED = {"source": "manual", "isTest": False, "models": ["alpha"], "force": True}


@pytest.fixture
def lambda_runs_the_worker(bot, monkeypatch) -> Iterator[LambdaEndpoint]:
    """Lambda's Invoke for the CLI, the stack's worker behind it (queued runs end with the test)."""

    def worker(event, context):  # the worker of the moment: a restart replaces the handler
        return bot.worker_handler(event, context)

    with LambdaEndpoint() as endpoint:
        endpoint.register(WORKER_FUNCTION, worker)
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint.url)
        yield endpoint
        endpoint.wait(timeout=120)


def submitted_once(bot, cli) -> None:
    """alpha submitted through its webhook in this round (what --force then repeats)."""
    assert cli("trigger", "alpha", "--interval", "0.1", "--timeout", "60") == 0
    bot.invoker.wait(timeout=30)


def test_trigger_force_invokes_the_live_worker_and_waits_for_its_answer(
    bot, cli, capsys, lambda_runs_the_worker
):
    submitted_once(bot, cli)
    assert cli("trigger", "alpha", "--force", "--timeout", "120") == 0
    out = capsys.readouterr().out
    (sent,) = lambda_runs_the_worker.calls
    assert sent == Call(WORKER_FUNCTION, "live", "RequestResponse", FORCED)
    record = DynamoLedger(bot.stack.table, boto3.resource("dynamodb")).get(
        bot.standin.current_round, "alpha"
    )
    assert record.forced and f"forced re-submission {record.submission_id}" in out


def test_a_forced_run_the_worker_failed_comes_back_as_lambda_s_function_error(
    bot, cli, capsys, lambda_runs_the_worker
):
    submitted_once(bot, cli)
    bot.standin.set_put_behaviour("reject", status=403)
    assert cli("trigger", "alpha", "--force", "--timeout", "120") == 1
    err = capsys.readouterr().err
    assert "the forced run did not submit alpha" in err and "HTTP 403" in err
    assert [i.invocation_type for i in lambda_runs_the_worker.calls] == ["RequestResponse"]


def test_trigger_force_no_wait_queues_an_event_for_the_live_worker(
    bot, cli, capsys, lambda_runs_the_worker
):
    assert cli("trigger", "alpha", "--force", "--no-wait") == 0
    assert "handed to the worker" in capsys.readouterr().out
    assert lambda_runs_the_worker.calls == [Call(WORKER_FUNCTION, "live", "Event", FORCED)]
