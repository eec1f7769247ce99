"""``numerai-bot status``: one line per model, from the ledger and Numerai; ``--plot``.

The ledger is read with a DynamoDB Scan (the operator's credentials; the worker's role has
no Scan). When the Scan is denied, each (round, model) the status needs is read with
GetItem instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import textwrap
from pathlib import Path
from typing import Any

from numerai_bot.errors import BotError
from numerai_bot.ledger import DynamoLedger, LedgerRecord
from numerai_bot.ledger_query import get_records, scan_ledger
from numerai_bot_cli.aws import DENIED, aws_errors, error_code, session
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
from numerai_bot_cli.status_data import DEFAULT_PAYOUT_WEIGHTS, ModelStatus, build_status
from numerai_bot_cli.status_data import fetch_numerai as fetch_view
from numerai_bot_cli.table import number, render_table

HEADERS = (
    "MODEL",
    "ROUND",
    "SUBMITTED (UTC)",
    "+MIN",
    "TRIGGER",
    "NUMERAI",
    "ROWS",
    "SCORED",
    "CORR",
    "MMC",
    "PAYOUT",
    "STAKE",
)
RIGHT = {1, 3, 6, 7, 8, 9, 10, 11}


def register(commands: Any) -> None:
    """Add the subcommand."""
    sub = commands.add_parser(
        "status",
        parents=[
            config_options(),
            stack_options("LedgerTableName", "NumeraiApiKeysSecretName"),
            numerai_options(),
        ],
        help="a table per model: last round, latency, trigger, scores, stake; --plot",
        description="For each model: the last round in the ledger, when its submission "
        "arrived (minutes after the round opened), its trigger id, whether Numerai lists it, "
        "rows, the latest resolved scores (CORR, MMC, payout score) and the stake. Reads the "
        "ledger table (Scan, or GetItem when Scan is denied) and Numerai.",
    )
    sub.add_argument("models", nargs="*", metavar="MODEL", help="models [config, else ledger]")
    sub.add_argument("--json", action="store_true", help="print JSON instead of the table")
    sub.add_argument("--wide", action="store_true", help="full trigger ids")
    sub.add_argument(
        "--plot", type=Path, metavar="PNG", help="also write a chart of scores and latency"
    )
    sub.add_argument(
        "--metric",
        choices=("payout", "corr", "mmc"),
        default="payout",
        help="score the plot accumulates [%(default)s]",
    )
    sub.set_defaults(run=run)


def load_ledger(ctx: Context) -> list[LedgerRecord] | None:
    """Every ledger record, or None when the Scan is denied (GetItem is used then)."""
    from botocore.exceptions import ClientError

    table = ctx.stack.output("LedgerTableName")
    with aws_errors("read the ledger table", table):
        try:
            resource = session(ctx.region).resource("dynamodb")
            return list(scan_ledger(table, resource))
        except ClientError as error:
            if error_code(error) in DENIED:
                say("no permission to Scan the ledger; reading each (round, model) instead")
                return None
            raise


def read_pairs(ctx: Context, rounds: set[int], models: list[str]) -> list[LedgerRecord]:
    """GetItem for each (round, model): works with read-only item permissions."""
    table = ctx.stack.output("LedgerTableName")
    with aws_errors("read the ledger table", table):
        ledger = DynamoLedger(table, session(ctx.region).resource("dynamodb"))
        try:
            return get_records(ledger, sorted(rounds), models)
        except BotError as error:  # the ledger's own error type for AWS failures
            raise CliError(
                f"cannot read the ledger table {table}: {error}",
                "check the table name (--table) and that your credentials may GetItem on it",
            ) from None


def collect(ctx: Context, names: list[str]) -> list[ModelStatus]:
    """Fetch the ledger and Numerai's view of each model and combine them."""
    records = load_ledger(ctx)
    client = ctx.numerai()
    with numerai_errors(ctx.api_url):
        ids = client.model_ids()
        if not names:
            names = sorted({r.model_name for r in records or []}) or sorted(ids)
        views = {
            name: fetch_view(client, name, ids.get(name))
            for name in progress(names, desc="asking Numerai", unit="model")
        }
    if records is None:
        rounds = {
            int(s["round"]["number"])
            for view in views.values()
            for s in view.submissions
            if (s.get("round") or {}).get("number") is not None
        }
        with contextlib.suppress(Exception):  # between rounds the listed ones are enough
            rounds.add(ctx.public_numerai().current_round().number)
        records = read_pairs(ctx, rounds, names)
    return [build_status(name, records, views[name]) for name in names]


def render(statuses: list[ModelStatus], wide: bool = False) -> str:
    """The status table and its notes."""
    rows = []
    for s in statuses:
        trigger = s.trigger_id if wide else s.trigger_id[:8]
        rows.append(
            [
                s.name,
                number(s.round, "{}"),
                s.submitted_at.strftime("%Y-%m-%d %H:%M") if s.submitted_at else "-",
                number(s.minutes_after_open, "{:.1f}"),
                trigger or "-",
                s.numerai_status,
                number(s.rows, "{:,}"),
                number(s.scored_round, "{}"),
                number(s.corr),
                number(s.mmc),
                number(s.payout),
                number(s.stake, "{:.2f}"),
            ]
        )
    notes = [
        f"{s.name}: round {s.round} failed: {s.error}"
        for s in statuses
        if s.numerai_status == "failed"
    ]
    notes += [
        f"{s.name}: the ledger says submitted but Numerai does not list it for round {s.round}"
        for s in statuses
        if s.numerai_status == "not listed"
    ]
    weights = DEFAULT_PAYOUT_WEIGHTS
    legend = (
        "+MIN: minutes after the round opened. SCORED: latest resolved round. PAYOUT: the "
        "round's payout multipliers x scores, else settled payout / stake, else "
        f"{weights['corr']} x CORR + {weights['mmc']} x MMC. STAKE: NMR (current, else at risk)."
    )
    return "\n".join([render_table(HEADERS, rows, RIGHT), "", *notes, *textwrap.wrap(legend, 92)])


def run(args: argparse.Namespace) -> int:
    """Print the table (or JSON), write the plot; exit 1 if a model's last round failed."""
    ctx = build_context(args)
    names = args.models or list(ctx.config.models)
    statuses = collect(ctx, names)
    if args.json:
        print(json.dumps([s.as_json() for s in statuses], indent=2))
    else:
        print(render(statuses, args.wide))
    if args.plot:
        from numerai_bot_cli.plot import write_plot

        path = write_plot(statuses, args.plot, args.metric)
        say(f"wrote {path}")
    failed = [s.name for s in statuses if s.numerai_status in ("failed", "not listed")]
    if failed:
        say(f"not submitted in their last round: {', '.join(failed)} (`numerai-bot logs --help`)")
    return 1 if failed else 0
