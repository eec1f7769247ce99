"""``numerai-bot status``: one table per tournament, one line per model; ``--plot``.

Each model is shown in its own tournament (from the ``models.json`` the bot runs, else
numerai-bot.toml, else the account): its latest round there, the ledger's record with churn
and turnover, and Numerai's view. Numerai's display-only fields are optional: what the
endpoint does not return is shown as ``-`` with one warning line, and the table is always
printed.

The ledger is read with a DynamoDB Scan (the operator's credentials; the worker's role has
no Scan). When the Scan is denied, each (tournament, round, model) the status needs is read
with GetItem instead.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.adapters.ledger_scan import scan_ledger
from numerai_bot.errors import BotError, ConfigError, NumeraiError
from numerai_bot.ledger import LedgerRecord
from numerai_bot.models_config import ModelConfig, load_models_entries
from numerai_bot.ports import AccountModel
from numerai_bot.tournaments import CLASSIC, TOURNAMENTS, Tournament, tournament
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
from numerai_bot_cli.status.data import ModelStatus, NumeraiView, build_status
from numerai_bot_cli.status.fetch import NumeraiReader
from numerai_bot_cli.status.render import Section, render
from numerai_bot_cli.status.version_notices import version_notices


def register(commands: Any) -> None:
    """Add the subcommand."""
    sub = commands.add_parser(
        "status",
        parents=[
            config_options(),
            stack_options("LedgerTableName", "NumeraiApiKeysSecretName", "ModelStoreUri"),
            numerai_options(),
        ],
        help="a table per tournament: last round, latency, trigger, churn, scores, stake",
        description="One table per tournament (Classic, Signals, Crypto) with, for each model: "
        "its last round in that tournament, when its submission arrived (minutes after the "
        "round opened), its trigger id, the ledger's record (with churn and turnover; waiting: "
        "for its own data, with the reason), its input (numerai, or own with the coverage of "
        "Numerai's universe in that round), whether "
        "Numerai lists it, rows, the latest resolved scores (CORR, MMC), a payout score from "
        "the round's own multipliers and the stake. Says when Numerai serves a newer data "
        "version than a model's. Reads the ledger table (Scan, or GetItem when Scan is denied), "
        "models.json and Numerai; fields Numerai does not return are shown as -.",
    )
    sub.add_argument(
        "models", nargs="*", metavar="MODEL", help="models [models.json and config, else ledger]"
    )
    sub.add_argument(
        "--tournament", choices=tuple(TOURNAMENTS), help="only this tournament's table"
    )
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


@dataclass
class Report:
    """The sections to print and the lines under them (notices, warnings)."""

    sections: list[Section]
    lines: list[str] = field(default_factory=list)

    @property
    def statuses(self) -> list[ModelStatus]:
        """Every model's status, section by section."""
        return [s for section in self.sections for s in section.statuses]


# --- the ledger --------------------------------------------------------------------------


def load_ledger(ctx: Context) -> list[LedgerRecord] | None:
    """Every ledger record, or None when the Scan is denied (GetItem is used then)."""
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


def read_records(ctx: Context, wanted: set[tuple[int, int, str]]) -> list[LedgerRecord]:
    """GetItem for each (tournament id, round, model): works with item permissions only."""
    table = ctx.stack.output("LedgerTableName")
    with aws_errors("read the ledger table", table):
        ledger = DynamoLedger(table, session(ctx.region).resource("dynamodb"))
        try:
            found = [
                ledger.get(number, name, tournament_id)
                for tournament_id, number, name in sorted(wanted)
            ]
        except BotError as error:  # the ledger's own error type for AWS failures
            raise CliError(
                f"cannot read the ledger table {table}: {error}",
                "check the table name (--table) and that your credentials may GetItem on it",
            ) from None
    return [record for record in found if record is not None]


# --- what the bot runs, and Numerai ------------------------------------------------------


def read_models_json(ctx: Context) -> tuple[dict[str, ModelConfig], list[str]]:
    """The models the bot runs (``models.json``), and lines about what is wrong with it."""
    from numerai_bot.adapters.model_store import open_model_store

    try:
        uri = ctx.stack.output("ModelStoreUri")
        s3 = [session(ctx.region).client("s3")] if uri.startswith("s3://") else []
        store = open_model_store(uri, *s3)
        configs, broken = load_models_entries(store)
    except (BotError, CliError, BotoCoreError, ClientError) as error:
        text = error.message if isinstance(error, CliError) else str(error)
        return {}, [f"warning: models.json not read ({text}); tournaments from the config"]
    return {c.name: c for c in configs}, [b.error for b in broken]


def connect(ctx: Context) -> tuple[NumeraiReader | None, dict[str, AccountModel], list[str]]:
    """A reader and the account's models, or None and why (the ledger is shown anyway)."""
    try:
        client = ctx.numerai()
        return NumeraiReader(client), client.account_models(), []
    except CliError as error:
        reason = error.message
    except NumeraiError as error:
        reason = str(error)
    return None, {}, [f"warning: Numerai not asked ({reason}): only the ledger is shown"]


def model_tournament(
    name: str,
    configured: dict[str, ModelConfig],
    ctx: Context,
    account: dict[str, AccountModel],
    records: list[LedgerRecord],
) -> Tournament:
    """models.json's, else numerai-bot.toml's, else the account's, else the ledger's."""
    if name in configured:
        return configured[name].tournament
    entry = ctx.config.models.get(name)
    if entry is not None and entry.tournament is not None:
        return entry.tournament
    own = [r.tournament for r in records if r.model_name == name]
    for candidate in ([account[name].tournament] if name in account else []) + own:
        try:
            return tournament(candidate)
        except ConfigError:
            continue
    return CLASSIC


def collect(ctx: Context, asked: list[str], only: Tournament | None = None) -> Report:
    """Fetch the ledger, models.json and Numerai's view of each model; group by tournament."""
    configured, lines = read_models_json(ctx)
    scanned = load_ledger(ctx)
    records = scanned or []
    reader, account, problems = connect(ctx)
    lines += problems
    names = (
        asked
        or sorted(set(configured) | set(ctx.config.models))
        or sorted({r.model_name for r in records})
        or sorted(account)
    )
    chosen = {name: model_tournament(name, configured, ctx, account, records) for name in names}
    groups = {
        t: [n for n in names if chosen[n] == t]
        for t in TOURNAMENTS.values()
        if only is None or t == only
    }
    sections, views = [], {}
    for t, group in ((t, g) for t, g in groups.items() if g):
        section = Section(t, None, round_known=False)
        if reader is not None:
            section.current, section.round_known = reader.open_round(t)
            for name in progress(group, desc=f"asking Numerai ({t.name})", unit="model"):
                views[name] = reader.view(name, _id(account, name), t)
            lines += [_account_note(name, t, account) for name in group]
            served = reader.served(t)
            versions = {n: configured[n].data_version for n in group if n in configured}
            lines += version_notices(t, versions, served or ())
        sections.append(section)
    if scanned is None:
        records = read_records(ctx, _wanted(sections, groups, views))
    for section in sections:
        section.statuses = [
            build_status(
                name,
                records,
                views.get(name, NumeraiView(None)),
                section.tournament,
                configured[name].input.source if name in configured else None,
            )
            for name in groups[section.tournament]
        ]
        for status in section.statuses:
            status.round_open = section.current is not None and (
                status.round == section.current.number
            )
    warning = reader.warning() if reader is not None else None
    return Report(sections, [line for line in lines if line] + ([warning] if warning else []))


def _account_note(name: str, shown: Tournament, account: dict[str, AccountModel]) -> str:
    """Why Numerai's view of a model is missing or at odds, or "" when it is not."""
    if name not in account:
        return f"{name}: not a model of this Numerai account: only the ledger is shown"
    if account[name].tournament != shown.id:
        return (
            f"{name}: configured as a {shown.name} model, but the account has it in tournament "
            f"{account[name].tournament}: the worker refuses it until the two agree"
        )
    return ""


def _id(account: dict[str, AccountModel], name: str) -> str | None:
    return account[name].id if name in account else None


def _wanted(
    sections: list[Section], groups: dict[Tournament, list[str]], views: dict[str, NumeraiView]
) -> set[tuple[int, int, str]]:
    """The (tournament id, round, model) records a status needs: the rounds Numerai lists
    for the model and the tournament's open round."""
    wanted = set()
    for section in sections:
        for name in groups[section.tournament]:
            listed = (views.get(name) or NumeraiView(None)).submissions or []
            rounds = {(s.get("round") or {}).get("number") for s in listed}
            if section.current is not None:
                rounds.add(section.current.number)
            wanted |= {(section.tournament.id, int(n), name) for n in rounds if n is not None}
    return wanted


def run(args: argparse.Namespace) -> int:
    """Print the tables (or JSON), write the plot; exit 1 if a model's last round failed."""
    ctx = build_context(args)
    only = tournament(args.tournament) if args.tournament else None
    report = collect(ctx, list(dict.fromkeys(args.models)), only)
    if args.json:
        print(json.dumps([s.as_json() for s in report.statuses], indent=2))
        for line in report.lines:
            say(line)
    else:
        print(render(report.sections, args.wide, report.lines))
    if args.plot:
        from numerai_bot_cli.status.plot import write_plot

        path = write_plot(report.statuses, args.plot, args.metric)
        say(f"wrote {path}")
    failed = [s.name for s in report.statuses if s.failed]
    if failed:
        say(f"not submitted in their last round: {', '.join(failed)} (`numerai-bot logs --help`)")
    return 1 if failed else 0
