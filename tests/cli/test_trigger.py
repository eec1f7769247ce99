"""trigger in the model's own tournament: already submitted is said at once, --force submits
again through the worker and is recorded as forced."""

from __future__ import annotations

import time

import boto3
import pytest

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.ledger import LedgerRecord
from numerai_bot_cli.commands import trigger as trigger_command
from standins.local_lambda import LocalContext


def ledger(bot) -> DynamoLedger:
    return DynamoLedger(bot.stack.table, boto3.resource("dynamodb"))


def accepted(bot, model: str, round_number: int, tournament: int = 8) -> list[dict]:
    return [
        s
        for s in bot.standin.submissions(model, tournament=tournament)
        if s["round"] == round_number and s["status"] == "accepted"
    ]


@pytest.fixture
def submitted(bot, cli):
    """alpha submitted once in a fresh Classic round; its submission."""
    assert cli("trigger", "alpha", "--interval", "0.1", "--timeout", "60") == 0
    bot.invoker.wait(timeout=30)
    (submission,) = accepted(bot, "alpha", bot.standin.current_round)
    return submission


@pytest.fixture
def worker_runs_here(bot, monkeypatch):
    """Lambda Invoke of the worker, locally: its handler runs in this process."""
    requests = []

    def invoke(ctx, request, wait, timeout):
        requests.append(request)
        try:
            result = bot.worker_handler(request.to_event(), LocalContext("worker"))
        except Exception as error:  # Lambda answers FunctionError with the message
            return trigger_command.WorkerAnswer(None, str(error))
        return trigger_command.WorkerAnswer(result)

    monkeypatch.setattr(trigger_command, "invoke_worker", invoke)
    return requests


def test_trigger_on_an_already_submitted_model_says_so_at_once(bot, cli, capsys, submitted):
    capsys.readouterr()
    deliveries = len(bot.standin.webhook_deliveries())
    started = time.monotonic()
    assert cli("trigger", "alpha", "--timeout", "30") == 0
    assert time.monotonic() - started < 10  # not the 30 s timeout
    captured = capsys.readouterr()
    assert "already submitted" in captured.out and submitted["id"] in captured.out
    assert f"classic round {bot.standin.current_round}" in captured.out
    assert "--force" in captured.err
    assert len(bot.standin.webhook_deliveries()) == deliveries  # nothing triggered


def test_trigger_believes_the_ledger_too(bot, cli, capsys):
    number = bot.standin.current_round
    ledger(bot).put(LedgerRecord(number, "beta", "submitted", submission_id="sub-in-ledger"))
    assert cli("trigger", "beta", "--timeout", "30") == 0
    out = capsys.readouterr().out
    assert "already submitted" in out and "sub-in-ledger" in out and "in the ledger" in out
    assert accepted(bot, "beta", number) == []


def test_trigger_force_submits_again_and_the_ledger_says_forced(
    bot, cli, capsys, submitted, worker_runs_here
):
    number = bot.standin.current_round
    assert cli("trigger", "alpha", "--force", "--timeout", "120") == 0
    out = capsys.readouterr().out
    (request,) = worker_runs_here
    assert request.force and request.models == ("alpha",) and request.source == "manual"
    first, second = accepted(bot, "alpha", number)
    assert first["id"] == submitted["id"]
    assert f"forced re-submission {second['id']}" in out and "listed by Numerai" in out
    record = ledger(bot).get(number, "alpha")
    assert record.status == "submitted" and record.forced
    assert record.submission_id == second["id"]


def test_a_forced_run_that_fails_says_why(bot, cli, capsys, submitted, worker_runs_here):
    bot.standin.set_put_behaviour("reject", status=403)
    assert cli("trigger", "alpha", "--force", "--timeout", "120") == 1
    err = capsys.readouterr().err
    assert "the forced run did not submit alpha" in err and "HTTP 403" in err
    record = ledger(bot).get(bot.standin.current_round, "alpha")
    assert record.status == "submitted" and record.submission_id == submitted["id"]


def test_trigger_asks_the_round_of_the_models_own_tournament(bot, cli, capsys):
    if "trigger_sig" not in bot.standin.models:
        bot.standin.create_model("trigger_sig", tournament=11)
    bot.standin.close_round(tournament=11)  # Classic stays open
    assert cli("trigger", "trigger_sig", "--timeout", "5") == 1
    assert "no Numerai round is open" in capsys.readouterr().err
    number = bot.standin.open_round(tournament=11, trigger_webhooks=False)
    try:
        record = LedgerRecord(
            number, "trigger_sig", "submitted", submission_id="s-11", tournament=11
        )
        ledger(bot).put(record)
        assert cli("trigger", "trigger_sig", "--timeout", "30") == 0
        out = capsys.readouterr().out
        assert f"already submitted for signals round {number}: submission s-11" in out
    finally:
        bot.standin.close_round(tournament=11)
