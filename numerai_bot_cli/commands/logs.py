"""``numerai-bot logs``: the worker's log lines for a round, a trigger id, a tournament or
some models (every tournament's unless ``--tournament`` names one).

From CloudWatch Logs (``filter_log_events`` on ``/aws/lambda/<worker>``) or, with
``--file``, from a local log such as the demo's ``.demo/bot.log``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from numerai_bot.tournaments import TOURNAMENTS, tournament
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
from numerai_bot_cli.logsource import LEVELS, LogFilter, cloudwatch_events, format_line, read_file

DURATION = re.compile(r"(\d+)\s*([mhd])")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
ROUND_TIMES = """
query($t: Int $n: Int) { rounds(tournament: $t number: $n) { number openTime } }
"""


def register(commands: Any) -> None:
    """Add the subcommand."""
    sub = commands.add_parser(
        "logs",
        parents=[config_options(), stack_options("WorkerFunctionName"), numerai_options()],
        help="the worker's logs for a round, trigger id or tournament, per model",
        description="Show the worker's structured log lines of every tournament, oldest first, "
        "filtered by tournament, round (every line of the invocations that worked on it; "
        "round numbers differ between tournaments), trigger id (or its first characters), "
        "model and level. From CloudWatch Logs (the worker's log group), or from a local file "
        "with --file (the demo writes .demo/bot.log).",
    )
    sub.add_argument(
        "--tournament", choices=tuple(TOURNAMENTS), help="only this tournament's lines [all]"
    )
    sub.add_argument(
        "--round", type=int, help="Numerai round number (of --tournament, else any tournament)"
    )
    sub.add_argument("--trigger", metavar="ID", help="trigger id, or its first characters")
    sub.add_argument(
        "--model", action="append", default=[], metavar="NAME", help="a model (repeatable)"
    )
    sub.add_argument("--level", choices=list(LEVELS), default="DEBUG", help="lowest level shown")
    sub.add_argument("--file", type=Path, help="read this log file instead of CloudWatch")
    sub.add_argument("--log-group", help="CloudWatch log group [/aws/lambda/<worker function>]")
    sub.add_argument(
        "--since",
        metavar="AGE",
        help="how far back, e.g. 90m, 12h, 7d [the round's open time with --round, else 24h]",
    )
    sub.add_argument("--json", action="store_true", help="print the JSON lines as they are")
    sub.add_argument("--wide", action="store_true", help="full trigger ids")
    sub.set_defaults(run=run)


def parse_age(text: str) -> dt.timedelta:
    """``90m``, ``12h``, ``7d`` → a timedelta."""
    match = DURATION.fullmatch(text.strip())
    if not match:
        raise CliError(f"--since {text!r} is not an age", "write e.g. 90m, 12h or 7d")
    return dt.timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def window(ctx: Context, args: argparse.Namespace) -> tuple[dt.datetime, dt.datetime | None]:
    """The time range to read from CloudWatch."""
    now = dt.datetime.now(dt.UTC)
    if args.since:
        return now - parse_age(args.since), None
    if args.round is not None:
        opened = _round_open(ctx, args.round, args.tournament)
        if opened is not None:
            # The worker runs at the open; retries end within the 6 h maximum event age, and
            # Saturday's round stays open ~26 h: two days cover every run for the round.
            return opened - dt.timedelta(minutes=10), opened + dt.timedelta(days=2)
        return now - dt.timedelta(days=7), None
    return now - dt.timedelta(hours=24), None


def _round_open(ctx: Context, number: int, name: str | None) -> dt.datetime | None:
    """When round ``number`` of the tournament opened; without one, the latest of the
    tournaments' rounds of that number (older ones are past the logs' retention)."""
    chosen = [tournament(name)] if name else list(TOURNAMENTS.values())
    opened = [when for t in chosen if (when := _open_time(ctx, t.id, number)) is not None]
    return max(opened, default=None)


def _open_time(ctx: Context, tournament_id: int, number: int) -> dt.datetime | None:
    try:
        variables = {"t": tournament_id, "n": number}
        data = ctx.public_numerai().graphql(ROUND_TIMES, variables)["data"]
        found = (data.get("rounds") or [{}])[0].get("openTime")
        return dt.datetime.fromisoformat(found.replace("Z", "+00:00")) if found else None
    except Exception:  # the round's time only narrows the search; fall back to 7 days
        return None


def read_cloudwatch(ctx: Context, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The worker's JSON lines from CloudWatch Logs in the window."""
    group = args.log_group or f"/aws/lambda/{ctx.stack.output('WorkerFunctionName')}"
    start, end = window(ctx, args)
    # A quoted term narrows the search server-side; the filter below makes it exact.
    pattern = f'"{args.trigger}"' if args.trigger and '"' not in args.trigger else ""
    say(f"reading {group} from {start:%Y-%m-%d %H:%M} UTC")
    with aws_errors("read the log group", group):
        client = session(ctx.region).client("logs")
        with progress(desc="reading CloudWatch", unit=" events") as bar:
            return list(cloudwatch_events(client, group, start, end, pattern, bar.update))


def run(args: argparse.Namespace) -> int:
    """Print the matching lines; exit 1 when there are none."""
    log_filter = LogFilter(args.round, args.trigger, tuple(args.model), args.level, args.tournament)
    if args.file is not None:
        if not args.file.is_file():
            raise CliError(
                f"{args.file} does not exist", "run `make demo` first, or pass the right --file"
            )
        lines = list(read_file(args.file))
    else:
        lines = read_cloudwatch(build_context(args), args)
    lines.sort(key=lambda line: str(line.get("timestamp", "")))
    shown = log_filter.apply(lines)
    for line in shown:
        print(json.dumps(line) if args.json else format_line(line, args.wide))
    if not shown:
        raise CliError(
            f"no log lines match (of {len(lines)} read)",
            "widen the search: another --round/--trigger/--model/--tournament, or an older --since",
        )
    return 0
