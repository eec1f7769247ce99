"""The user's own tables as the operator's commands see them: where they go in the stack's
bucket, Numerai's universe for the round, and the worker's own checks run on a table.

Nothing here checks a table itself: the key (:func:`~numerai_bot.own_data.tables.table_key`),
the size, Parquet and date checks (:class:`~numerai_bot.own_data.tables.OwnTables`), the join
with its coverage, column, type and duplicate checks
(:func:`~numerai_bot.own_data.join.join_to_universe`) and the universe's file and date
(:mod:`numerai_bot.own_data.universe`) are the worker's, so ``put-live`` refuses exactly what a
round would refuse, and ``doctor`` sees what the round will see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot.config import WorkerSettings
from numerai_bot.errors import ObjectMissing, RoundClosed
from numerai_bot.inference import load_model
from numerai_bot.live_data import LiveDataCache
from numerai_bot.model_input import ModelInput
from numerai_bot.model_metadata import ModelMetadata
from numerai_bot.models_config import ModelConfig
from numerai_bot.own_data.join import Coverage, Joined, join_to_universe
from numerai_bot.own_data.tables import OwnTable, OwnTables
from numerai_bot.own_data.universe import universe_dataset, universe_date, universe_table
from numerai_bot.ports import ModelStore, StoredObject
from numerai_bot.round.window import data_date_before
from numerai_bot.tournaments import Tournament
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.stack import Stack
from numerai_bot_cli.table import percent

# Optional stack outputs: an OWN_DATA_URI the stack was deployed with, and its feature function.
OWN_DATA_OUTPUT = "OwnDataUri"
FEATURE_FUNCTION_OUTPUT = "FeatureFunctionName"


@dataclass(frozen=True)
class RoundUniverse:
    """Numerai's universe for a tournament's round, as the worker reads it."""

    tournament: Tournament
    round_number: int | None  # None: no round is open (the universe Numerai serves now)
    data_date: dt.date | None  # the universe's date, else the day before the round opened
    table: pa.Table  # the id columns (and date)
    dataset: str  # e.g. signals/v2.1/live.parquet


def own_data_uri(stack: Stack) -> str:
    """Where the stack's worker reads own tables: the stack's ``OwnDataUri`` output if it has
    one, else the worker's default beside ``ModelStoreUri`` (:class:`WorkerSettings`)."""
    override = optional_output(stack, OWN_DATA_OUTPUT)
    settings = WorkerSettings(
        numerai_api_url="",
        model_store_uri=stack.output("ModelStoreUri"),
        ledger_table_name="",
        numerai_secret_id=None,
        live_data_dir="",
        tournament=0,
        worker_function_arn=None,
        alert_topic_arn=None,
        own_data_override=override or None,
    )
    return settings.own_data_uri


def optional_output(stack: Stack, key: str) -> str | None:
    """A stack output the template may not have (None when it does not, or none are known)."""
    try:
        return stack.output(key)
    except CliError:
        return None


class _LatestFiles:
    """Numerai's datasets as served now (no round is open, so none is named)."""

    def __init__(self, client: NumeraiClient) -> None:
        self.client = client

    def download_dataset(
        self, filename: str, dest: Path, round_number: int | None, tournament: Tournament
    ) -> Path:
        """The file Numerai serves now, whatever round is asked."""
        return self.client.download_dataset(filename, dest, None, tournament)


def round_universe(
    client: NumeraiClient, tournament: Tournament, fallback_version: str, folder: Path
) -> RoundUniverse:
    """Download the round's universe (the open round's, else the one served now) as the
    worker does: the same file, the same columns, the same data date."""
    try:
        current = client.current_round(tournament)
    except RoundClosed:
        current = None
    served = client.served_datasets(tournament)
    version, filename = universe_dataset(tournament, served, fallback_version)
    source = client if current is not None else _LatestFiles(client)
    number = current.number if current is not None else 0
    live = LiveDataCache(folder, source).get(number, version, tournament, filename)
    table = universe_table(str(live.path), tournament)
    data_date = universe_date(table)
    if data_date is None and current is not None:
        data_date = data_date_before(current.open_time)
    return RoundUniverse(
        tournament,
        current.number if current is not None else None,
        data_date,
        table,
        tournament.dataset(version, filename),
    )


def model_metadata(store: ModelStore, config: ModelConfig) -> ModelMetadata:
    """The model's features as its ONNX file states them, loaded as the worker loads it."""
    stored = store.read(config.artifact)
    return load_model(config.artifact, stored.version, stored.data, threads=1).metadata


def input_mismatch(config: ModelConfig, metadata: ModelMetadata) -> str | None:
    """Why the worker would refuse to feed this model its models.json input, or None."""
    if metadata.tournament != config.tournament.name:
        return (
            f"{config.artifact} was exported for {metadata.tournament}, but models.json runs "
            f"{config.name} in {config.tournament.name}"
        )
    if metadata.input != config.input.source:
        return (
            f"{config.artifact} was exported to read {metadata.input} data, but models.json "
            f"gives {config.name} {config.input.source} data"
        )
    return None


class OneObject:
    """A store holding one object (the user's file), named as it will be in the bucket, so
    the worker's checks read it and their messages name where it goes."""

    def __init__(self, uri: str, key: str, data: bytes) -> None:
        self.uri = uri
        self.key = key
        self.data = data

    def version(self, key: str) -> str:
        """The object's version; :class:`ObjectMissing` for any other key."""
        if key != self.key:
            raise ObjectMissing(f"{key!r} not found in {self.uri}")
        return "local"

    def read(self, key: str) -> StoredObject:
        """The object's bytes."""
        return StoredObject(key, self.data, self.version(key))

    def write(self, key: str, data: bytes) -> str:
        """Nothing is written: the checks only read."""
        raise NotImplementedError("the user's file is only read")

    def write_file(self, key: str, path: Path) -> str:
        """Nothing is written: the checks only read."""
        raise NotImplementedError("the user's file is only read")

    def delete(self, key: str) -> None:
        """Nothing is deleted: the checks only read."""
        raise NotImplementedError("the user's file is only read")


def read_table(
    store: ModelStore, universe: RoundUniverse, setting: ModelInput, day: dt.date
) -> OwnTable:
    """The table for ``day`` (or up to ``max_age_days`` older) read and checked as the worker
    reads it (size, Parquet, date column), without waiting or asking the feature function;
    :class:`~numerai_bot.errors.OwnDataNotReady` when there is none."""
    found_only = dataclasses.replace(setting, wait_seconds=0.0, feature_function=False)
    return OwnTables(store).get(
        universe.tournament, universe.round_number or 0, found_only, day, _no_universe
    )


def _no_universe() -> bytes:
    """Never called: the feature function is not asked (see :func:`read_table`)."""
    raise AssertionError("the universe is only staged for the feature function")


def join(
    universe: RoundUniverse, table: pa.Table, setting: ModelInput, metadata: ModelMetadata
) -> Joined:
    """The worker's join of the table to the round's universe, with every check it makes."""
    return join_to_universe(
        universe.table,
        table,
        universe.tournament,
        metadata.features,
        metadata.string_features,
        setting.id_column,
        setting.missing,
    )


def coverage_line(coverage: Coverage, key_column: str) -> str:
    """``covers 250 of 300 ids (83 %) joined on ticker``."""
    line = (
        f"covers {coverage.covered:,} of {coverage.universe:,} ids ({percent(coverage.share)}) "
        f"joined on {key_column}"
    )
    if coverage.outside:
        line += f"; {coverage.outside:,} ids not in the universe are ignored"
    return line


def below_alert(coverage: Coverage, setting: ModelInput) -> str | None:
    """Why the coverage deserves the round's alert (below ``coverage_alert``), or None."""
    if coverage.share >= setting.coverage_alert:
        return None
    left = coverage.universe - coverage.covered
    fate = (
        "left out of the submission (missing: drop)"
        if setting.missing == "drop"
        else "fed as missing values (missing: nan)"
    )
    return (
        f"{percent(coverage.share)} is below the model's coverage_alert "
        f"{setting.coverage_alert:g}: the round will alert; the {left:,} ids the table lacks "
        f"are {fate}"
    )


def readable_age(day: dt.date, data_date: dt.date) -> str:
    """``for 2026-12-04, the round's data date`` or ``for 2026-12-01, 3 days older ...``."""
    age = (data_date - day).days
    if age == 0:
        return f"for {day}, the round's data date"
    return f"for {day}, {age} day{'s' if age != 1 else ''} older than the data date {data_date}"
