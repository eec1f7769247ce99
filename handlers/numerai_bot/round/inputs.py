"""A model's live input, as data: each ``models.json`` input source is a reader registered
here, and the per-model job asks the registry, never branching on where data comes from.

- ``numerai``: the round's live file of the model's data version, as Numerai serves it.
- ``own``: the user's table for the round (:mod:`numerai_bot.own_data`), joined to Numerai's
  universe; the join is written beside the live files and read like one, so the model sees
  exactly the columns and types it would see in Numerai's file.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from numerai_bot.data_versions import check_served
from numerai_bot.errors import BotError, ConfigError
from numerai_bot.live_data import LiveData, LiveDataCache
from numerai_bot.model_input import NUMERAI
from numerai_bot.model_metadata import ModelMetadata
from numerai_bot.own_data.join import Coverage, join_to_universe
from numerai_bot.own_data.tables import OwnTables
from numerai_bot.own_data.universe import (
    universe_bytes,
    universe_dataset,
    universe_date,
    universe_table,
)
from numerai_bot.round.job import ModelJob
from numerai_bot.tournaments import Tournament


@dataclass(frozen=True)
class ModelInputData:
    """What a model predicts on, and how much of the universe it covers (own data)."""

    live: LiveData
    coverage: Coverage | None = None


class InputReader(Protocol):
    """Reads one input source for one model of the round."""

    def read(
        self, job: ModelJob, metadata: ModelMetadata, served: frozenset[str] | None
    ) -> ModelInputData: ...

    def prefetch(self, job: ModelJob, served: frozenset[str] | None) -> None:
        """Start loading Numerai's file the job will read, by ``models.json``'s data
        version (the model's own metadata decides later); never raises."""


class NumeraiInput:
    """Numerai's live file of the model's data version."""

    def __init__(self, live_data: LiveDataCache) -> None:
        self.live_data = live_data

    def read(
        self, job: ModelJob, metadata: ModelMetadata, served: frozenset[str] | None
    ) -> ModelInputData:
        """The round's live data; a version Numerai no longer serves fails the model."""
        check_served(job.tournament, metadata.data_version, served)
        return ModelInputData(
            self.live_data.get(
                job.round_number,
                metadata.data_version,
                job.tournament,
                from_shared=job.from_shared_cache,
            )
        )

    def prefetch(self, job: ModelJob, served: frozenset[str] | None) -> None:
        """The round's live file of the job's data version (see :class:`InputReader`)."""
        version = job.config.data_version
        if not version:
            return
        try:
            check_served(job.tournament, version, served)
        except BotError:
            return  # the model's read says why
        self.live_data.prefetch(
            job.round_number, version, job.tournament, from_shared=job.from_shared_cache
        )


class OwnInput:
    """The user's table joined to Numerai's universe for the round."""

    def __init__(
        self,
        live_data: LiveDataCache,
        tables: OwnTables,
        root: str | Path,
    ) -> None:
        self.live_data = live_data
        self.tables = tables
        self.root = Path(root)
        self._joined: dict[tuple, ModelInputData] = {}
        self._universes: dict[Path, pa.Table] = {}  # read once per live file, not per model
        self._lock = threading.Lock()

    def read(
        self, job: ModelJob, metadata: ModelMetadata, served: frozenset[str] | None
    ) -> ModelInputData:
        """Universe → the user's table (waited for, or computed) → the checked join."""
        tournament, setting = job.tournament, job.config.input
        version, filename = universe_dataset(tournament, served, metadata.data_version)
        live = self.live_data.get(
            job.round_number, version, tournament, filename, from_shared=job.from_shared_cache
        )
        universe = self._universe(live, tournament)
        data_date = universe_date(universe) or job.data_date
        if data_date is None:
            raise ConfigError("the round's data date is unknown: Numerai gave no open time")
        own = self.tables.get(
            tournament,
            job.round_number,
            setting,
            data_date,
            lambda: universe_bytes(universe),
            job.deadline,
        )
        key = (
            tournament.name,
            job.round_number,
            own.key,
            setting.id_column,
            setting.missing,
            metadata.features,
            metadata.string_features,
        )
        with self._lock:
            cached = self._joined.get(key)
        if cached is not None:
            return cached
        joined = join_to_universe(
            universe,
            own.table,
            tournament,
            metadata.features,
            metadata.string_features,
            setting.id_column,
            setting.missing,
        )
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
        path = self.root / tournament.name / str(job.round_number) / f"own-{digest}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(joined.table, path)
        data = ModelInputData(
            LiveData(path, job.round_number, version, tournament, name=own.key), joined.coverage
        )
        with self._lock:  # a warm container keeps only each tournament's latest round
            self._joined = {
                k: v for k, v in self._joined.items() if k[0] != key[0] or k[1] == key[1]
            }
            self._joined[key] = data
        return data

    def prefetch(self, job: ModelJob, served: frozenset[str] | None) -> None:
        """The round's universe file the join reads (see :class:`InputReader`)."""
        if not job.config.data_version:
            return
        try:
            version, filename = universe_dataset(job.tournament, served, job.config.data_version)
        except BotError:
            return  # the model's read says why
        self.live_data.prefetch(
            job.round_number, version, job.tournament, filename, job.from_shared_cache
        )

    def _universe(self, live: LiveData, tournament: Tournament) -> pa.Table:
        """The universe's id columns, read from the live file once for every model."""
        with self._lock:
            found = self._universes.get(live.path)
        if found is None:
            found = live.read_with(lambda path: universe_table(str(path), tournament))
            with self._lock:
                self._universes = {live.path: found}  # the round's only; older ones go
        return found


class ModelInputs:
    """The registry of input readers, keyed by ``models.json``'s ``input.source``."""

    def __init__(self, readers: dict[str, InputReader]) -> None:
        self.readers = dict(readers)

    @classmethod
    def numerai_only(cls, live_data: LiveDataCache) -> ModelInputs:
        """Numerai's files only (a stack without own data)."""
        return cls({NUMERAI: NumeraiInput(live_data)})

    def read(
        self, job: ModelJob, metadata: ModelMetadata, served: frozenset[str] | None
    ) -> ModelInputData:
        """The job's input, read by the reader its config names."""
        source = job.config.input.source
        reader = self.readers.get(source)
        if reader is None:
            raise ConfigError(
                f"model {job.name!r} reads {source!r} data, which this stack is not set up "
                f"for: set OWN_DATA_URI (the stack's own-data prefix)"
            )
        return reader.read(job, metadata, served)

    def prefetch(self, jobs: list[ModelJob], served: frozenset[str] | None) -> None:
        """Start loading the files these jobs will read (each once), beside their sessions."""
        for job in jobs:
            reader = self.readers.get(job.config.input.source)
            if reader is not None:
                reader.prefetch(job, served)
