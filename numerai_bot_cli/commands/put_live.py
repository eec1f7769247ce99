"""``numerai-bot put-live FILE --model NAME``: check the user's own table against Numerai's
universe for the round and the model, then upload it where the worker reads it.

The checks are the worker's own (:mod:`numerai_bot_cli.own_data`): a table the round would
refuse (duplicate ids, a missing or mistyped feature, fewer than 100 ids of the universe, a
``date`` column of another day, too large, not Parquet) is refused here, with the worker's
words, and nothing is uploaded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from numerai_bot.adapters.model_store import open_model_store
from numerai_bot.errors import BotError, ConfigError, NumeraiError
from numerai_bot.models_config import ModelConfig, load_models_entries
from numerai_bot.own_data.tables import table_key
from numerai_bot_cli.aws import aws_errors, session
from numerai_bot_cli.common import (
    Context,
    build_context,
    config_options,
    numerai_options,
    say,
    stack_options,
)
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.numerai import numerai_errors
from numerai_bot_cli.own_data import (
    OneObject,
    below_alert,
    coverage_line,
    input_mismatch,
    join,
    model_metadata,
    own_data_uri,
    read_table,
    round_universe,
)

CONTRACT = "docs/own-data.md"


def register(commands: Any) -> None:
    """Add the subcommand."""
    sub = commands.add_parser(
        "put-live",
        parents=[config_options(), stack_options("ModelStoreUri"), numerai_options()],
        help="check your own table for a model against Numerai's universe, then upload it",
        description="Check FILE (Parquet: one row per id, the model's features) as the worker "
        "will (the model's own-data input in models.json, the features its ONNX file names, "
        "Numerai's universe for the round: coverage, columns, types, duplicate ids, date), "
        "print its coverage, then upload it to the stack's bucket under "
        "own-data/<tournament>/<table>/<date>.parquet. A table the worker would refuse is "
        f"refused (exit 1) and nothing is uploaded. See {CONTRACT}.",
    )
    sub.add_argument("file", type=Path, metavar="FILE", help="your table (Parquet)")
    sub.add_argument("--model", required=True, metavar="NAME", help="the model it feeds")
    sub.add_argument(
        "--date",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the data date it is for [the round's: the date of Numerai's universe file, else "
        "the day before the open round opened]",
    )
    sub.add_argument("--dry-run", action="store_true", help="check only; upload nothing")
    sub.set_defaults(run=run)


def _day(text: str) -> dt.date:
    """``2026-12-04`` as a date (argparse's error otherwise)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-04") from None


def run(args: argparse.Namespace) -> int:
    """Check the file, print its coverage, upload it (unless --dry-run); exit 1 on refusal."""
    ctx = build_context(args)
    data = _read_file(args.file)
    store = _store(ctx, ctx.stack.output("ModelStoreUri"))
    config = own_model(store, args.model)
    with aws_errors("read the model file from", store.uri):
        try:
            metadata = model_metadata(store, config)
        except BotError as error:
            raise CliError(
                f"{config.name}: its model file cannot be read: {error}",
                f"publish it again: `numerai-bot publish {config.name}`",
            ) from None
    mismatch = input_mismatch(config, metadata)
    if mismatch:
        raise CliError(
            f"the worker would refuse {config.name}: {mismatch}",
            f"publish the model trained on your table (`numerai-bot publish {config.name}`)",
        )
    tournament, setting = config.tournament, config.input
    with (
        tempfile.TemporaryDirectory(prefix="numerai-universe-") as folder,
        numerai_errors(ctx.api_url),
    ):
        try:
            universe = round_universe(
                ctx.public_numerai(), tournament, metadata.data_version, Path(folder)
            )
        except BotError as error:
            if isinstance(error, NumeraiError):
                raise  # numerai_errors says what to do
            raise CliError(
                f"cannot read Numerai's {tournament.name} universe: {error}",
                "try again in a few minutes (`numerai-bot doctor` checks the rest)",
            ) from None
    day = args.date or universe.data_date
    if day is None:
        raise CliError(
            f"no {tournament.name} round is open and Numerai's universe names no date",
            "pass --date YYYY-MM-DD: the data date of the round the table is for",
        )
    _note_date(day, universe.data_date, setting.max_age_days)
    uri = own_data_uri(ctx.stack)
    key = table_key(tournament, setting.table, day)
    destination = f"{uri.rstrip('/')}/{key}"
    try:
        table = read_table(OneObject(uri, key, data), universe, setting, day).table
        joined = join(universe, table, setting, metadata)
    except BotError as error:
        raise CliError(
            f"{args.file} is refused for {config.name}: {error}",
            f"fix the table and run put-live again; nothing was uploaded ({CONTRACT})",
        ) from None
    where = f"{tournament.name} round {universe.round_number or '(none open)'}"
    print(
        f"{args.file}: {table.num_rows:,} rows, {config.name}'s {len(metadata.features)} "
        f"features; Numerai's {universe.dataset} for {where}, data date {universe.data_date}"
    )
    print(coverage_line(joined.coverage, joined.key_column))
    low = below_alert(joined.coverage, setting)
    if low:
        say(f"warning: {low}")
    if args.dry_run:
        print(f"dry run: would upload to {destination}")
        return 0
    with aws_errors("upload the table to", uri):
        try:
            _store(ctx, uri).write(key, data)
        except BotError as error:
            raise CliError(f"cannot upload to {destination}: {error}", "try again") from None
    print(f"uploaded {args.file} to {destination}")
    return 0


def own_model(store: Any, name: str) -> ModelConfig:
    """The model's models.json entry, which must read the user's own table."""
    with aws_errors("read models.json from", store.uri):
        try:
            configs, broken = load_models_entries(store)
        except ConfigError as error:
            raise CliError(str(error), "publish your models: `numerai-bot publish`") from None
        except BotError as error:
            raise CliError(f"cannot read models.json: {error}", "check --store") from None
    found = next((c for c in configs if c.name == name), None)
    if found is None:
        bad = next((b for b in broken if b.name == name), None)
        if bad is not None:
            raise CliError(bad.error, "fix the model's entry in models.json")
        raise CliError(
            f"{name} is not in models.json in {store.uri}",
            f"publish it first: `numerai-bot publish {name}`",
        )
    if not found.input.own:
        raise CliError(
            f"{name} reads Numerai's live file: its models.json entry has no own-data input",
            'give it one: "input": {"source": "own", "table": "<name>"} in its models.json '
            f"entry, with a model trained on your features ({CONTRACT})",
        )
    return found


def _note_date(day: dt.date, data_date: dt.date | None, max_age_days: int) -> None:
    """Say when a table dated by hand is not one this round's worker will read."""
    if data_date is None or day == data_date:
        return
    oldest = data_date - dt.timedelta(days=max_age_days)
    if not oldest <= day <= data_date:
        say(
            f"warning: the round's data date is {data_date}; a table for {day} is not read "
            f"this round (max_age_days {max_age_days})"
        )


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CliError(
            f"cannot read {path}: {error.strerror}", "check the path of your table"
        ) from None


def _store(ctx: Context, uri: str) -> Any:
    """The model store or own-data prefix at ``uri`` (S3 with the operator's session)."""
    if not uri.startswith("s3://"):
        return open_model_store(uri)
    with aws_errors("open", uri):
        return open_model_store(uri, session(ctx.region).client("s3"))
