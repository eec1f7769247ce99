"""``numerai-bot trigger MODEL``: a test round for one model, end to end.

The model's tournament comes from the account, and its round is that tournament's open one.
A model already submitted this round (Numerai lists a submission, or the ledger records
one) is reported at once with the submission id, and nothing is triggered.

Otherwise Numerai's ``triggerModelWebhook`` calls the model's registered webhook with a new
trigger id; the bot submits with that id, and this command waits until Numerai lists a
submission carrying it (``submissions(modelId)``), or gives up after ``--timeout`` seconds.
While it waits it also reads the ledger (when the stack's table is known), so a model the bot
failed is reported at once, with the bot's reason, instead of at the timeout.

``--force`` re-submits: the worker's live alias is invoked directly with a request carrying
``force`` for this model (a webhook cannot ask for that), and the ledger records the new
submission as forced.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot.errors import BotError, ConfigError
from numerai_bot.events import WorkerRequest
from numerai_bot.ledger import FAILED, SUBMITTED, LedgerRecord
from numerai_bot.ports import AccountModel
from numerai_bot.tournaments import Tournament, tournament
from numerai_bot_cli.aws import aws_errors, session
from numerai_bot_cli.common import (
    Context,
    build_context,
    config_options,
    numerai_options,
    progress,
    say,
    stack_options,
)
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.numerai import numerai_errors

WORKER_ALIAS = "live"  # template.yaml's AutoPublishAlias: what the webhook and schedule invoke


def register(commands: Any) -> None:
    """Add the subcommand."""
    sub = commands.add_parser(
        "trigger",
        parents=[
            config_options(),
            stack_options("NumeraiApiKeysSecretName", "LedgerTableName", "WorkerFunctionName"),
            numerai_options(),
        ],
        help="fire a model's webhook and wait until Numerai lists the submission",
        description="Ask Numerai to call MODEL's webhook now (triggerModelWebhook), then poll "
        "submissions(modelId) until one carries the new trigger id. Uses the open round of "
        "the model's own tournament. A model already submitted this round is reported at once "
        "with its submission id (exit 0); --force submits it again by invoking the worker "
        "directly. Needs an open round and a registered webhook "
        "(`numerai-bot register-webhooks`).",
    )
    sub.add_argument("model", metavar="MODEL", help="the Numerai model name")
    sub.add_argument("--timeout", type=float, default=600, help="seconds to wait [%(default)s]")
    sub.add_argument(
        "--interval", type=float, default=5, help="seconds between checks [%(default)s]"
    )
    sub.add_argument("--no-wait", action="store_true", help="print the trigger id and return")
    sub.add_argument(
        "--force",
        action="store_true",
        help="submit again even if this round already has a submission (invokes the worker "
        "with force; recorded as forced in the ledger)",
    )
    sub.set_defaults(run=run)


@dataclass(frozen=True)
class Target:
    """The model to trigger: its id, tournament and that tournament's open round."""

    name: str
    model_id: str
    tournament: Tournament
    round_number: int


def find_submission(submissions: list[dict[str, Any]], trigger_id: str) -> dict[str, Any] | None:
    """The submission Numerai lists with ``trigger_id``, if any."""
    for submission in submissions:
        if submission.get("triggerId") == trigger_id:
            return submission
    return None


def open_ledger(ctx: Context) -> DynamoLedger | None:
    """The stack's ledger, or None when its table cannot be found (then only Numerai is
    watched)."""
    try:
        table = ctx.stack.output("LedgerTableName")
        return DynamoLedger(table, session(ctx.region).resource("dynamodb"))
    except (CliError, BotoCoreError, ClientError):
        return None


def ledger_record(ledger: DynamoLedger | None, target: Target) -> LedgerRecord | None:
    """The ledger's record of the target's round, or None (also when it cannot be read)."""
    if ledger is None:
        return None
    try:
        return ledger.get(target.round_number, target.name, target.tournament.id)
    except (BotoCoreError, ClientError, BotError):  # unreadable: keep watching Numerai only
        return None


def resolve(client: NumeraiClient, name: str) -> Target:
    """The model's id and tournament from the account, and that tournament's open round."""
    account: dict[str, AccountModel] = client.account_models()
    found = account.get(name)
    if found is None:
        raise CliError(
            f"{name} is not a model of this account ({', '.join(sorted(account)) or 'none'})",
            "check the name on numer.ai",
        )
    try:
        chosen = tournament(found.tournament)
    except ConfigError:
        raise CliError(
            f"{name} is in tournament {found.tournament}, which the bot does not serve",
            "trigger a Classic, Signals or Crypto model",
        ) from None
    return Target(name, found.id, chosen, client.current_round(chosen).number)


def already_submitted(
    client: NumeraiClient, ledger: DynamoLedger | None, target: Target
) -> tuple[str, str] | None:
    """(submission id, who says so) when the round already has the model's submission."""
    held = client.round_submission(target.model_id, target.round_number, target.tournament)
    if held is not None:
        return str(held.get("id")), "listed by Numerai"
    record = ledger_record(ledger, target)
    if record is not None and record.status == SUBMITTED:
        return record.submission_id or "?", "in the ledger; Numerai does not list it yet"
    return None


def run(args: argparse.Namespace) -> int:
    """Say so when already submitted; else trigger (or force) and wait for the submission."""
    ctx = build_context(args)
    client = ctx.numerai()
    with numerai_errors(ctx.api_url):
        target = resolve(client, args.model)
    if args.force:
        return run_forced(ctx, client, target, args)
    ledger = open_ledger(ctx)
    where = f"{target.tournament.name} round {target.round_number}"
    with numerai_errors(ctx.api_url):
        done = already_submitted(client, ledger, target)
    if done is not None:
        print(
            f"{target.name}: already submitted for {where}: submission {done[0]} ({done[1]}); "
            "nothing triggered"
        )
        say(f"`numerai-bot trigger {target.name} --force` submits it again")
        return 0
    with numerai_errors(ctx.api_url):
        try:
            trigger_id = client.trigger_webhook(target.model_id)
        except Exception as error:
            if "webhook" in str(error).lower():
                raise CliError(
                    f"Numerai cannot trigger {target.name}: {error}",
                    f"register it first: `numerai-bot register-webhooks {target.name}`",
                ) from None
            raise
    print(f"{target.name}: {where}, trigger id {trigger_id}")
    if args.no_wait:
        return 0
    return wait_for(ctx, client, ledger, target, trigger_id, args)


def wait_for(
    ctx: Context,
    client: NumeraiClient,
    ledger: DynamoLedger | None,
    target: Target,
    trigger_id: str,
    args: argparse.Namespace,
) -> int:
    """Poll Numerai (and the ledger) until the trigger's submission is listed."""
    started = time.monotonic()
    found = None
    with progress(total=None, desc="waiting for the submission", unit="check") as bar:
        while time.monotonic() - started < args.timeout:
            with numerai_errors(ctx.api_url):
                found = find_submission(client.submissions(target.model_id), trigger_id)
            if found:
                break
            record = ledger_record(ledger, target)
            if record is not None and record.trigger_id == trigger_id and record.status == FAILED:
                raise CliError(
                    f"the bot did not submit {target.name} for {target.tournament.name} round "
                    f"{target.round_number}: {record.error or 'no reason recorded'}",
                    f"fix the cause, then trigger again; details: "
                    f"`numerai-bot logs --trigger {trigger_id}`",
                )
            if record is not None and record.status == SUBMITTED:
                if record.trigger_id == trigger_id:  # recorded just after our last look
                    with numerai_errors(ctx.api_url):
                        found = find_submission(client.submissions(target.model_id), trigger_id)
                    if found:
                        break
                who = "this trigger" if record.trigger_id == trigger_id else "another run"
                print(
                    f"{target.name}: submitted for {target.tournament.name} round "
                    f"{target.round_number} by {who}: submission {record.submission_id} "
                    "(in the ledger)"
                )
                return 0
            bar.update()
            time.sleep(args.interval)
    if not found:
        raise CliError(
            f"no submission with trigger id {trigger_id} after {args.timeout:.0f} s",
            f"see what the worker did: `numerai-bot logs --trigger {trigger_id}`",
        )
    seconds = time.monotonic() - started
    round_number = (found.get("round") or {}).get("number", "?")
    print(
        f"{target.name}: submission {found.get('id')} for {target.tournament.name} round "
        f"{round_number} listed by Numerai after {seconds:.1f} s"
    )
    say(f"`numerai-bot status {target.name}` shows it with its ledger record")
    return 0


# --- --force -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerAnswer:
    """The worker's result (``RoundResult.to_dict()``) or the error it raised."""

    result: dict[str, Any] | None
    error: str | None = None


def invoke_worker(
    ctx: Context, request: WorkerRequest, wait: bool, timeout: float
) -> WorkerAnswer | None:
    """Invoke the worker's live alias with ``request``: synchronously (its answer) when
    ``wait``, else as an event (None). Never retried: a retry could submit twice."""
    from botocore.config import Config

    name = ctx.stack.output("WorkerFunctionName")
    config = Config(
        read_timeout=max(timeout, 1.0), connect_timeout=10, retries={"total_max_attempts": 1}
    )
    with aws_errors("invoke the worker", name):
        client = session(ctx.region).client("lambda", config=config)
        try:
            response = client.invoke(
                FunctionName=name,
                Qualifier=WORKER_ALIAS,
                InvocationType="RequestResponse" if wait else "Event",
                Payload=json.dumps(request.to_event()).encode(),
            )
        except ReadTimeoutError:
            raise CliError(
                f"the worker did not answer within {timeout:.0f} s (it may still be submitting)",
                "`numerai-bot status` shows the ledger's record once it is done",
            ) from None
    return parse_invoke_response(response) if wait else None


def parse_invoke_response(response: dict[str, Any]) -> WorkerAnswer:
    """Lambda's Invoke answer: the handler's JSON, or its error (``FunctionError``)."""
    raw = response.get("Payload")
    text = raw.read() if hasattr(raw, "read") else raw or b""
    try:
        payload = json.loads(text or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    if response.get("FunctionError"):
        message = payload.get("errorMessage") if isinstance(payload, dict) else None
        return WorkerAnswer(None, str(message or response["FunctionError"]))
    return WorkerAnswer(payload if isinstance(payload, dict) else None)


def run_forced(
    ctx: Context, client: NumeraiClient, target: Target, args: argparse.Namespace
) -> int:
    """Have the worker submit the model again for the round, and say what it did."""
    request = WorkerRequest(source="manual", models=(target.name,), force=True)
    where = f"{target.tournament.name} round {target.round_number}"
    if args.no_wait:
        invoke_worker(ctx, request, wait=False, timeout=args.timeout)
        print(f"{target.name}: forced re-submission for {where} handed to the worker")
        return 0
    say(f"{target.name}: submitting again for {where} (forced); waiting for the worker")
    answer = invoke_worker(ctx, request, wait=True, timeout=args.timeout) or WorkerAnswer(None)
    outcome = _outcome(answer, target.name)
    if answer.error is not None or outcome is None or outcome.get("status") != SUBMITTED:
        reason = (outcome or {}).get("detail") or answer.error or "the worker said nothing"
        if answer.result and answer.result.get("status") == "rejected":
            reason = str(answer.result.get("message"))
        raise CliError(
            f"the forced run did not submit {target.name} for {where}: {reason}",
            f"details: `numerai-bot logs --model {target.name} --since 1h`",
        )
    submission_id = str(outcome.get("submission_id"))
    with numerai_errors(ctx.api_url):
        held = client.round_submission(target.model_id, target.round_number, target.tournament)
    listed = held is not None and str(held.get("id")) == submission_id
    print(
        f"{target.name}: forced re-submission {submission_id} for {where} "
        f"({outcome.get('rows')} rows){', listed by Numerai' if listed else ''}"
    )
    return 0


def _outcome(answer: WorkerAnswer, name: str) -> dict[str, Any] | None:
    for outcome in (answer.result or {}).get("outcomes") or []:
        if isinstance(outcome, dict) and outcome.get("model") == name:
            return outcome
    return None
