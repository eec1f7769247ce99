"""Doctor check (h): each own-data model of models.json can be fed this round: its table for
the round's data date (or within its ``max_age_days``) is in the bucket and reads as the
worker reads it, covers Numerai's universe (below the model's ``coverage_alert`` is a
warning, fewer than 100 ids a failure), and the feature function it relies on is deployed.

The universe, the table's key, its checks and the join are the worker's own
(:mod:`numerai_bot_cli.own_data`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

from botocore.exceptions import ClientError

from numerai_bot.adapters.model_store import open_model_store
from numerai_bot.errors import BotError, ObjectMissing, OwnDataNotReady
from numerai_bot.models_config import ModelConfig
from numerai_bot.own_data.tables import LOOK_BACK_DAYS, table_key
from numerai_bot.ports import ModelStore
from numerai_bot.tournaments import Tournament
from numerai_bot_cli.aws import NOT_FOUND, error_code
from numerai_bot_cli.doctor.core import Finding, check, failed, passed, unverified, warned
from numerai_bot_cli.doctor.env import DoctorEnv
from numerai_bot_cli.own_data import (
    FEATURE_FUNCTION_OUTPUT,
    RoundUniverse,
    below_alert,
    coverage_line,
    join,
    model_metadata,
    optional_output,
    own_data_uri,
    read_table,
    readable_age,
    round_universe,
)

DEPLOY_FUNCTION = (
    "write one (`numerai-bot init --feature-function`) and deploy it with the stack "
    "(`numerai-bot deploy`), or drop the table yourself (`numerai-bot put-live`) and set "
    '"feature_function": false'
)


def put_live(config: ModelConfig) -> str:
    """The next step that puts a checked table in the bucket."""
    return f"drop the round's table: `numerai-bot put-live FILE --model {config.name}`"


@check(
    "h",
    "own-data",
    "each own-data model's table for the round is in the bucket, fresh, and covers Numerai's "
    "universe; the feature function it relies on is deployed",
    "drop the round's table: `numerai-bot put-live FILE --model NAME`",
)
def own_data_check(env: DoctorEnv) -> Iterator[Finding]:
    """Lines per own-data entry of models.json: function, table, coverage."""
    for config in env.configs():
        if config.input.own:
            yield from _model_findings(env, config)


def _model_findings(env: DoctorEnv, config: ModelConfig) -> Iterator[Finding]:
    name = f"own-data/{config.name}"
    setting = config.input
    if setting.feature_function:
        yield _function_finding(env, config)
    try:
        metadata = env.once(f"metadata:{config.name}", lambda: model_metadata(env.store(), config))
    except BotError as error:
        yield unverified(
            f"{name}/table", f"not checked: its model file is unusable ({error})", "see model-file"
        )
        return
    universe = _universe(env, config.tournament, metadata.data_version)
    data_date = universe.data_date
    if data_date is None:
        yield unverified(
            f"{name}/table",
            f"not checked: no {config.tournament} round is open and Numerai's universe names "
            "no date",
            "run `numerai-bot doctor` again when the round opens",
        )
        return
    store = _own_store(env)
    try:
        own = read_table(store, universe, setting, data_date)
    except OwnDataNotReady:
        yield _missing(config, store, data_date)
        return
    except BotError as error:  # too large, not Parquet, a date column of another day
        yield failed(f"{name}/table", str(error), put_live(config))
        return
    where = f"{store.uri.rstrip('/')}/{own.key}"
    yield passed(f"{name}/table", f"{where}: {readable_age(own.data_date, data_date)}")
    try:
        joined = join(universe, own.table, setting, metadata)
    except BotError as error:  # duplicates, features missing or mistyped, < 100 ids
        yield failed(f"{name}/coverage", str(error), f"fix the table, then {put_live(config)}")
        return
    line = f"{coverage_line(joined.coverage, joined.key_column)} of {universe.dataset}"
    low = below_alert(joined.coverage, setting)
    if low:
        yield warned(
            f"{name}/coverage",
            f"{line}: {low}",
            "add the missing ids to your table, or lower coverage_alert in its models.json input",
        )
    else:
        yield passed(f"{name}/coverage", f"{line} (coverage_alert {setting.coverage_alert:g})")


def _function_finding(env: DoctorEnv, config: ModelConfig) -> Finding:
    """The stack's feature function exists (the worker asks it for the model's table)."""
    name = f"own-data/{config.name}/function"
    function = optional_output(env.ctx.stack, FEATURE_FUNCTION_OUTPUT)
    if not function:
        return failed(
            name,
            f"models.json asks the feature function for table {config.input.table!r}, but the "
            f"stack has none (no {FEATURE_FUNCTION_OUTPUT} output)",
            DEPLOY_FUNCTION,
        )
    try:
        found = env.aws("lambda").get_function(FunctionName=function)["Configuration"]
    except ClientError as error:
        if error_code(error) not in NOT_FOUND:
            raise
        return failed(
            name,
            f"the stack names feature function {function}, but Lambda has no such function",
            DEPLOY_FUNCTION,
        )
    return passed(
        name,
        f"feature function {function} is deployed ({found.get('Runtime', '?')}, timeout "
        f"{found.get('Timeout', '?')} s): it writes table {config.input.table!r} when a round "
        "asks",
    )


def _missing(config: ModelConfig, store: ModelStore, data_date: dt.date) -> Finding:
    """No table within ``max_age_days``: what is there instead, and what to do."""
    name = f"own-data/{config.name}/table"
    setting, tournament = config.input, config.tournament
    expected = f"{store.uri.rstrip('/')}/{table_key(tournament, setting.table, data_date)}"
    if setting.feature_function:
        return passed(
            name,
            f"no table for the data date {data_date} yet: the feature function writes "
            f"{expected} when the round's run asks",
        )
    newest = _newest_older(store, tournament, setting.table, data_date, setting.max_age_days)
    detail = f"no table for the round's data date {data_date} at {expected}"
    step = put_live(config)
    if newest is None:
        detail += f", nor in the {LOOK_BACK_DAYS} days before"
    else:
        detail += (
            f"; the newest is {readable_age(newest, data_date)}, too old "
            f"(max_age_days {setting.max_age_days})"
        )
        step += ", or allow older tables with max_age_days in its models.json input"
    return failed(name, detail, step)


def _newest_older(
    store: ModelStore, tournament: Tournament, table: str, data_date: dt.date, max_age: int
) -> dt.date | None:
    """The newest table older than ``max_age`` days, within the worker's look-back."""
    for age in range(max_age + 1, LOOK_BACK_DAYS + 1):
        day = data_date - dt.timedelta(days=age)
        try:
            store.version(table_key(tournament, table, day))
        except ObjectMissing:
            continue
        return day
    return None


def _universe(env: DoctorEnv, tournament: Tournament, version: str) -> RoundUniverse:
    """The round's universe for ``tournament``, downloaded once per doctor run."""
    folder = env.once("own-data:folder", lambda: tempfile.TemporaryDirectory(prefix="doctor-"))
    return env.once(
        f"universe:{tournament.id}:{version}",
        lambda: round_universe(env.public_client(), tournament, version, Path(folder.name)),
    )


def _own_store(env: DoctorEnv) -> ModelStore:
    """The stack's own-data prefix, where the worker reads the tables."""

    def make() -> ModelStore:
        uri = own_data_uri(env.ctx.stack)
        return open_model_store(uri, env.aws("s3") if uri.startswith("s3://") else None)

    return env.once("own-store", make)
