"""``trigger --force`` reaches the worker through Lambda's Invoke, as botocore sends it.

Lambda's API is a local endpoint (``AWS_ENDPOINT_URL_LAMBDA``) that records each Invoke and,
for a synchronous one, runs the local worker and answers as Lambda does: the handler's JSON,
or ``X-Amz-Function-Error`` with the error's message. Nothing in the CLI is replaced.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from standins.local_lambda import LocalContext
from tests.cli.conftest import WORKER_FUNCTION
from tests.lambda_endpoint import Answer, Invoke, LambdaEndpoint, lambda_answer

FORCED = {"source": "manual", "isTest": False, "models": ["alpha"], "force": True}


@pytest.fixture
def lambda_runs_the_worker(bot, monkeypatch) -> Iterator[LambdaEndpoint]:
    """Lambda's Invoke for the CLI: a synchronous call runs the stack's worker here."""

    def answer(invoke: Invoke) -> Answer:
        if invoke.invocation_type != "RequestResponse":
            return lambda_answer(invoke)  # queued: 202 (this stand-in runs nothing later)
        try:
            result = bot.worker_handler(invoke.payload, LocalContext("worker"))
        except Exception as error:  # Lambda: 200, the error in the body, and this header
            failure = {"errorMessage": str(error), "errorType": type(error).__name__}
            return Answer(200, {"X-Amz-Function-Error": "Unhandled"}, json.dumps(failure).encode())
        return Answer(200, {}, json.dumps(result).encode())

    with LambdaEndpoint(answer) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint.url)
        yield endpoint


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
    (sent,) = lambda_runs_the_worker.recorded()
    assert sent == Invoke(WORKER_FUNCTION, "live", "RequestResponse", FORCED)
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
    assert [i.invocation_type for i in lambda_runs_the_worker.recorded()] == ["RequestResponse"]


def test_trigger_force_no_wait_queues_an_event_for_the_live_worker(
    bot, cli, capsys, lambda_runs_the_worker
):
    assert cli("trigger", "alpha", "--force", "--no-wait") == 0
    assert "handed to the worker" in capsys.readouterr().out
    assert lambda_runs_the_worker.recorded() == [Invoke(WORKER_FUNCTION, "live", "Event", FORCED)]
