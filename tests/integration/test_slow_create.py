"""A create Numerai answers after the client's timeout is submitted once: found at Numerai
when it lands while the run still looks, else the model stays pending, later runs only ask
Numerai, and a fresh upload happens only once the settle window has passed with nothing
listed. Real HTTP to the Numerai stand-in, the guard and the ledger on moto."""

from __future__ import annotations

import importlib
import logging
import time
from typing import Any

import boto3
import pytest

from numerai_bot.adapters.dynamodb_guard import SETTLE_WINDOW_SECONDS
from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.adapters.numerai_client import SettlePolling
from numerai_bot.config import WorkerSettings
from numerai_bot.events import WorkerRequest
from numerai_bot.ledger import LedgerRecord
from numerai_bot.outcomes import RETRY, SKIPPED, RoundResult
from numerai_bot.retry import RetryPolicy
from numerai_bot.round.runner import RoundRunner
from numerai_bot.wiring import build_runner
from standins.local_bot import LocalBot
from tests.integration.conftest import accepted

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
CREATE_TIMEOUT = (1.0, 0.4)  # the create's read timeout, shortened as the season does
LATE = 1.0  # Numerai records the create (and answers) this long after it was sent


def make_runner(settle: SettlePolling) -> RoundRunner:
    """The production wiring against the stand-ins, with short timeouts and polling."""
    runner = build_runner(WorkerSettings.from_env())
    runner.numerai.timeout = (1.0, 2.0)
    runner.numerai.create_timeout = CREATE_TIMEOUT
    runner.numerai.settle = settle
    runner.numerai.retry = FAST_RETRY
    return runner


def outcome_of(result: RoundResult, model: str) -> Any:
    """The model's outcome in a run."""
    return next(o for o in result.outcomes if o.model == model)


def record(bot: LocalBot, model: str) -> LedgerRecord | None:
    """The ledger's record for ``model`` in the open round."""
    ledger = DynamoLedger(bot.stack.table, boto3.resource("dynamodb"))
    return ledger.get(bot.standin.current_round, model)


def creates(bot: LocalBot) -> int:
    """createSubmission calls the stand-in received since the knobs were reset."""
    return bot.standin.calls().get("create_submission", 0)


@pytest.mark.parametrize("reuse", ["accept", "refuse"])
def test_a_create_answered_after_the_timeout_is_found_at_numerai_and_submitted_once(
    bot: LocalBot, caplog: pytest.LogCaptureFixture, reuse: str
) -> None:
    bot.standin.slow_creates(LATE, reuse=reuse)
    runner = make_runner(SettlePolling(every=0.2, within=3 * LATE))
    with caplog.at_level(logging.WARNING):
        result = runner.run(WorkerRequest("webhook", models=("alpha",)))
    time.sleep(LATE)  # any create still on its way has landed by now
    assert len(accepted(bot, "alpha")) == 1 and creates(bot) == 1
    (submission,) = accepted(bot, "alpha")
    alpha = outcome_of(result, "alpha")
    assert alpha.status == "submitted", alpha
    assert "create answered late; found at Numerai" in alpha.detail
    assert "create answered late; found at Numerai" in caplog.text
    stored = record(bot, "alpha")
    assert stored is not None and stored.status == "submitted"
    assert stored.submission_id == submission["id"] == alpha.submission_id


def test_a_create_still_unconfirmed_keeps_the_model_pending_and_a_later_run_only_reconciles(
    bot: LocalBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.standin.slow_creates(3.0)  # lands after this run stopped looking
    runner = make_runner(SettlePolling(every=0.1, within=0.3))
    with caplog.at_level(logging.WARNING):
        result = runner.run(WorkerRequest("webhook", models=("alpha",)))
    alpha = outcome_of(result, "alpha")
    assert alpha.status == RETRY and alpha.detail.startswith("pending:"), alpha
    assert "Numerai has not confirmed" in alpha.detail and result.status != "complete"
    assert "will reconcile next run" in caplog.text
    # Lambda's retry a moment later: still nothing listed; it asks, it does not upload.
    again = runner.run(WorkerRequest("webhook", models=("alpha",)))
    assert outcome_of(again, "alpha").status == RETRY
    assert creates(bot) == 1 and accepted(bot, "alpha") == []
    time.sleep(3.5)  # the slow create lands
    later = runner.run(WorkerRequest("schedule", models=("alpha",)))
    alpha = outcome_of(later, "alpha")
    assert alpha.status == SKIPPED and "found at Numerai" in alpha.detail, alpha
    (submission,) = accepted(bot, "alpha")
    assert creates(bot) == 1
    stored = record(bot, "alpha")
    assert stored is not None and stored.submission_id == submission["id"]


class PowertoolsClockAhead:
    """powertools' clock (the one guard records are dated by) run ``offset`` seconds ahead,
    as the season does, instead of waiting out the settle window."""

    MODULES = ("base", "persistence.base", "persistence.dynamodb", "persistence.datarecord")

    def __init__(self, monkeypatch: pytest.MonkeyPatch, offset: float) -> None:
        import datetime as dt
        import types

        class Later(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
                return dt.datetime.now(tz) + dt.timedelta(seconds=offset)

        shim = types.ModuleType("datetime")
        shim.__dict__.update(vars(dt))
        shim.datetime = Later  # type: ignore[attr-defined]
        for name in self.MODULES:
            module = importlib.import_module(f"aws_lambda_powertools.utilities.idempotency.{name}")
            monkeypatch.setattr(module, "dt", shim)


def test_a_create_numerai_never_recorded_is_uploaded_afresh_only_after_the_settle_window(
    bot: LocalBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The create's answer is a 502 from a gateway: Numerai may or may not have it.
    bot.standin.fail_next(1, status=502, operation="create_submission")
    runner = make_runner(SettlePolling(every=0.1, within=0.3))
    result = runner.run(WorkerRequest("webhook", models=("alpha",)))
    assert outcome_of(result, "alpha").status == RETRY
    assert creates(bot) == 1
    PowertoolsClockAhead(monkeypatch, SETTLE_WINDOW_SECONDS - 60)  # the window still runs
    within = runner.run(WorkerRequest("schedule", models=("alpha",)))
    assert outcome_of(within, "alpha").status == RETRY and creates(bot) == 1
    PowertoolsClockAhead(monkeypatch, SETTLE_WINDOW_SECONDS + 60)  # it has passed
    after = runner.run(WorkerRequest("schedule", models=("alpha",)))
    assert outcome_of(after, "alpha").status == "submitted", outcome_of(after, "alpha")
    (submission,) = accepted(bot, "alpha")
    assert creates(bot) == 2
    stored = record(bot, "alpha")
    assert stored is not None and stored.submission_id == submission["id"]
