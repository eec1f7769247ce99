"""``numerai-bot trigger MODEL``: a test round for one model, end to end.

Numerai's ``triggerModelWebhook`` calls the model's registered webhook with a new trigger
id; the bot submits with that id, and this command waits until Numerai lists a submission
carrying it (``submissions(modelId)``), or gives up after ``--timeout`` seconds. While it
waits it also reads the ledger (when the stack's table is known), so a model the bot failed
is reported at once, with the bot's reason, instead of at the timeout.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from numerai_bot.errors import BotError
from numerai_bot.ledger import FAILED, DynamoLedger
from numerai_bot_cli.aws import session
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


def register(commands: Any) -> None:
    """Add the subcommand."""
    sub = commands.add_parser(
        "trigger",
        parents=[
            config_options(),
            stack_options("NumeraiApiKeysSecretName", "LedgerTableName"),
            numerai_options(),
        ],
        help="fire a model's webhook and wait until Numerai lists the submission",
        description="Ask Numerai to call MODEL's webhook now (triggerModelWebhook), then poll "
        "submissions(modelId) until one carries the new trigger id. Needs an open round and a "
        "registered webhook (`numerai-bot register-webhooks`).",
    )
    sub.add_argument("model", metavar="MODEL", help="the Numerai model name")
    sub.add_argument("--timeout", type=float, default=600, help="seconds to wait [%(default)s]")
    sub.add_argument(
        "--interval", type=float, default=5, help="seconds between checks [%(default)s]"
    )
    sub.add_argument("--no-wait", action="store_true", help="print the trigger id and return")
    sub.set_defaults(run=run)


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


def failure(
    ledger: DynamoLedger | None, round_number: int, model: str, trigger_id: str
) -> str | None:
    """The bot's reason when the ledger says this trigger's run failed the model."""
    if ledger is None:
        return None
    try:
        record = ledger.get(round_number, model)
    except (BotoCoreError, ClientError, BotError):  # unreadable: keep watching Numerai only
        return None
    if record is not None and record.trigger_id == trigger_id and record.status == FAILED:
        return record.error or "no reason recorded"
    return None


def run(args: argparse.Namespace) -> int:
    """Trigger, then wait for the submission; exit 1 on timeout with where to look."""
    ctx = build_context(args)
    client = ctx.numerai()
    with numerai_errors(ctx.api_url):
        current = client.current_round()
        ids = client.model_ids()
        if args.model not in ids:
            raise CliError(
                f"{args.model} is not a model of this account ({', '.join(sorted(ids))})",
                "check the name on numer.ai",
            )
        model_id = ids[args.model]
        try:
            trigger_id = client.trigger_webhook(model_id)
        except Exception as error:
            if "webhook" in str(error).lower():
                raise CliError(
                    f"Numerai cannot trigger {args.model}: {error}",
                    f"register it first: `numerai-bot register-webhooks {args.model}`",
                ) from None
            raise
    print(f"{args.model}: round {current.number}, trigger id {trigger_id}")
    if args.no_wait:
        return 0
    started = time.monotonic()
    found = None
    ledger = open_ledger(ctx)
    with progress(total=None, desc="waiting for the submission", unit="check") as bar:
        while time.monotonic() - started < args.timeout:
            with numerai_errors(ctx.api_url):
                found = find_submission(client.submissions(model_id), trigger_id)
            if found:
                break
            reason = failure(ledger, current.number, args.model, trigger_id)
            if reason:
                raise CliError(
                    f"the bot did not submit {args.model} for round {current.number}: {reason}",
                    f"fix the cause, then trigger again; details: "
                    f"`numerai-bot logs --trigger {trigger_id}`",
                )
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
        f"{args.model}: submission {found.get('id')} for round {round_number} listed by "
        f"Numerai after {seconds:.1f} s"
    )
    say(f"`numerai-bot status {args.model}` shows it with its ledger record")
    return 0
