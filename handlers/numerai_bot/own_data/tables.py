"""Where the user's table for a round is found: under a key that carries its data date in the
bucket's ``own-data/`` prefix, dropped there by the user's own job or written by the feature
function on the worker's request. A table not there yet is waited for within a bounded time,
then left to the next scheduled check (:class:`OwnDataNotReady`, not a failure).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from numerai_bot.errors import BotError, ObjectMissing, OwnDataNotReady
from numerai_bot.model_input import ModelInput
from numerai_bot.own_data.feature_function import (
    FeatureFunction,
    FeatureFunctionError,
    FeatureRequest,
    check_answer,
)
from numerai_bot.own_data.join import OwnDataError
from numerai_bot.own_data.universe import as_day
from numerai_bot.ports import ModelStore
from numerai_bot.tournaments import Tournament

logger = logging.getLogger(__name__)

MAX_TABLE_BYTES = 200 * 1024 * 1024
POLL_SECONDS = 5.0
FUNCTION_TIMEOUT_SECONDS = 300.0
LOOK_BACK_DAYS = 7  # how far back a "not there yet" message looks for the newest table
UNIVERSE_TABLE = "_universe"


def table_key(tournament: Tournament, table: str, day: dt.date) -> str:
    """``<tournament>/<table>/<YYYY-MM-DD>.parquet`` within the own-data prefix."""
    return f"{tournament.name}/{table}/{day.isoformat()}.parquet"


@dataclass(frozen=True)
class OwnTable:
    """A user's table for the round, read and date-checked."""

    key: str
    data_date: dt.date
    table: pa.Table


class OwnTables:
    """Finds, waits for or asks the feature function for each round's tables (once each)."""

    def __init__(
        self,
        store: ModelStore,
        function: FeatureFunction | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.function = function
        self.clock = clock
        self.sleep = sleep
        self._found: dict[tuple[str, str, dt.date], OwnTable] = {}
        self._failed: dict[tuple[str, str, dt.date], BotError] = {}
        self._locks: dict[tuple[str, str, dt.date], threading.Lock] = {}
        self._lock = threading.Lock()

    def location(self, key: str) -> str:
        """The URI (or path) of ``key`` as the feature function sees it."""
        return f"{self.store.uri.rstrip('/')}/{key}"

    def get(
        self,
        tournament: Tournament,
        round_number: int,
        setting: ModelInput,
        data_date: dt.date,
        universe: Callable[[], bytes],
        deadline: float | None = None,
    ) -> OwnTable:
        """The table for the round's data date (or within ``max_age_days`` of it).

        ``universe`` gives Numerai's universe as Parquet bytes, staged for the feature
        function. Raises :class:`OwnDataNotReady` when the table is not there after the
        wait, :class:`OwnDataError` / :class:`FeatureFunctionError` when it cannot be used.
        """
        key = (tournament.name, setting.table, data_date)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # models sharing a table wait for one read (and one function call)
            if key in self._found:
                return self._found[key]
            if key in self._failed:
                failed = self._failed[key]
                raise type(failed)(str(failed))
            try:
                found = self._obtain(
                    tournament, round_number, setting, data_date, universe, deadline
                )
            except OwnDataNotReady:
                raise  # not remembered: a later model of this run may look again
            except BotError as error:
                self._failed[key] = error
                raise
            self._found[key] = found
            return found

    def _obtain(
        self,
        tournament: Tournament,
        round_number: int,
        setting: ModelInput,
        data_date: dt.date,
        universe: Callable[[], bytes],
        deadline: float | None,
    ) -> OwnTable:
        found = self._find(tournament, setting, data_date)
        if found is None and setting.feature_function:
            self._compute(tournament, round_number, setting.table, data_date, universe, deadline)
            found = self._find(tournament, setting, data_date)
            if found is None:
                expected = table_key(tournament, setting.table, data_date)
                raise FeatureFunctionError(
                    f"the feature function answered, but nothing is at {self.location(expected)}"
                )
        wait = setting.wait_seconds
        if deadline is not None:
            wait = min(wait, max(deadline - self.clock(), 0.0))
        until = self.clock() + wait
        while found is None and self.clock() < until:
            self.sleep(min(POLL_SECONDS, max(until - self.clock(), 0.0)))
            found = self._find(tournament, setting, data_date)
        if found is None:
            raise OwnDataNotReady(self._not_ready(tournament, setting, data_date, wait))
        return self._read(found[0], found[1], data_date, setting)

    def _find(
        self, tournament: Tournament, setting: ModelInput, data_date: dt.date
    ) -> tuple[str, dt.date] | None:
        """The newest acceptable key present: the data date's, else up to max_age_days older."""
        for age in range(setting.max_age_days + 1):
            day = data_date - dt.timedelta(days=age)
            key = table_key(tournament, setting.table, day)
            try:
                self.store.version(key)
            except ObjectMissing:
                continue
            return key, day
        return None

    def _not_ready(
        self, tournament: Tournament, setting: ModelInput, data_date: dt.date, waited: float
    ) -> str:
        expected = self.location(table_key(tournament, setting.table, data_date))
        message = (
            f"own data not there yet: no table at {expected} for the round's data date "
            f"{data_date} (waited {waited:.0f} s); the next scheduled check tries again"
        )
        for age in range(setting.max_age_days + 1, LOOK_BACK_DAYS + 1):
            older = data_date - dt.timedelta(days=age)
            try:
                self.store.version(table_key(tournament, setting.table, older))
            except (ObjectMissing, BotError):
                continue
            return (
                f"{message}; the newest table is for {older}, {age} days older than the "
                f"round's data date {data_date} (max_age_days {setting.max_age_days})"
            )
        return message

    def _compute(
        self,
        tournament: Tournament,
        round_number: int,
        table: str,
        data_date: dt.date,
        universe: Callable[[], bytes],
        deadline: float | None,
    ) -> None:
        """Stage the universe, ask the feature function for the table, check its answer."""
        if self.function is None:
            raise FeatureFunctionError(
                "models.json asks the feature function for this table, but the stack has none: "
                "deploy one (numerai-bot init --feature-function) or drop the table yourself"
            )
        universe_key = table_key(tournament, UNIVERSE_TABLE, data_date)
        self.store.write(universe_key, universe())
        request = FeatureRequest(
            tournament.name,
            round_number,
            data_date,
            table,
            self.location(universe_key),
            self.location(table_key(tournament, table, data_date)),
        )
        timeout = FUNCTION_TIMEOUT_SECONDS
        if deadline is not None:
            timeout = min(timeout, max(deadline - self.clock(), 1.0))
        started = self.clock()
        answer = self.function.compute(request, timeout)
        check_answer(request, answer)
        logger.info(
            "feature function answered",
            extra={"table": table, "seconds": round(self.clock() - started, 3)},
        )

    def _read(self, key: str, day: dt.date, data_date: dt.date, setting: ModelInput) -> OwnTable:
        """Read the table, refusing one too large, unreadable or of another date."""
        stored = self.store.read(key)
        where = self.location(key)
        if len(stored.data) > MAX_TABLE_BYTES:
            raise OwnDataError(
                f"{where} is {len(stored.data) / 2**20:.0f} MiB, more than the "
                f"{MAX_TABLE_BYTES // 2**20} MiB a table may be: keep only the live rows and "
                "the model's features"
            )
        try:
            table = pq.read_table(io.BytesIO(stored.data))
        except (pa.ArrowException, OSError) as error:
            raise OwnDataError(f"{where} is not a readable Parquet file: {error}") from None
        _check_date(table, where, day, data_date)
        return OwnTable(key, day, table)


def _check_date(table: pa.Table, where: str, day: dt.date, data_date: dt.date) -> None:
    """A ``date`` column, if any, must hold the key's date only."""
    import pyarrow.compute as pc  # lazily: a Classic round never needs it (live_data)

    if "date" not in table.column_names:
        return
    cells = [v for v in pc.unique(table.column("date")).to_pylist() if v is not None]
    dates = {as_day(v) or str(v) for v in cells}
    if dates != {day}:
        shown = ", ".join(sorted(str(d) for d in dates)[:3]) or "nothing"
        raise OwnDataError(
            f"{where} holds data for {shown}, but its key says {day} and the round's data date "
            f"is {data_date}: write the round's table under its own date"
        )
