"""The interfaces the core depends on, and the values they exchange, in one place.

Adapters implement them at the edges (Numerai through numerapi, S3 or a folder, DynamoDB,
SNS, Lambda's Invoke); tests swap in fakes (``tests/unit/fakes.py``). The core imports these
Protocols, never an adapter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from numerai_bot.events import WorkerRequest
from numerai_bot.ledger import CLASSIC_ID, LedgerRecord
from numerai_bot.outcomes import RoundResult
from numerai_bot.tournaments import Tournament

# -- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """What an upload's create left at Numerai: the submission's id, and whether the
    create's answer was lost and the id read from Numerai's list instead."""

    submission_id: str
    answered_late: bool = False


@dataclass(frozen=True)
class AccountModel:
    """One model of the account: its id and the tournament it belongs to."""

    id: str
    tournament: int


@dataclass(frozen=True)
class RoundInfo:
    """The round Numerai says is open, with its times (UTC)."""

    number: int
    open_time: dt.datetime | None
    close_time: dt.datetime | None
    close_staking_time: dt.datetime | None

    def seconds_left(self, now: dt.datetime | None = None) -> float | None:
        """Seconds until submissions stop counting for this round, if Numerai said."""
        close = self.close_staking_time or self.close_time
        if close is None:
            return None
        now = now or dt.datetime.now(dt.UTC)
        return (close - now).total_seconds()

    def seconds_to_close(self, now: dt.datetime | None = None) -> float | None:
        """Seconds until the round takes no submission at all, late ones included: after
        the staking close and before this, Numerai scores a submission but does not stake it."""
        close = self.close_time or self.close_staking_time
        if close is None:
            return None
        now = now or dt.datetime.now(dt.UTC)
        return (close - now).total_seconds()


@dataclass(frozen=True)
class StoredObject:
    """An object's bytes and the version they were read at."""

    key: str
    data: bytes
    version: str


# -- Numerai ---------------------------------------------------------------------------------


class CloseNumerai(Protocol):
    """What the schedule's close check asks of Numerai (a part of :class:`NumeraiPort`)."""

    def last_closed_round(self, tournament: Tournament) -> RoundInfo | None: ...

    def served_datasets(self, tournament: Tournament) -> frozenset[str]: ...

    def account_models(self) -> dict[str, AccountModel]: ...

    def round_submission(
        self, model_id: str, round_number: int, tournament: Tournament
    ) -> dict[str, Any] | None: ...


class DatasetSource(Protocol):
    """What the live-data cache needs from Numerai: one file of one round, to a path."""

    def download_dataset(
        self, filename: str, dest: Path, round_number: int | None, tournament: Tournament
    ) -> Path:
        """Download ``filename`` of the tournament's round to ``dest``."""
        ...


class NumeraiPort(CloseNumerai, Protocol):
    """What the round asks of Numerai (implemented by ``NumeraiClient``)."""

    def current_round(self, tournament: Tournament) -> RoundInfo: ...

    def set_deadline(self, deadline: float | None) -> None: ...

    def upload_submission(
        self,
        model_id: str,
        csv_bytes: bytes,
        filename: str,
        trigger_id: str | None,
        tournament: Tournament,
        round_number: int | None = None,
        earlier: frozenset[str] = frozenset(),
        proof: Callable[[], None] = ...,
    ) -> Created:
        """Upload a checked file; ``proof`` runs before each send and raises to stop."""
        ...


# -- storage ---------------------------------------------------------------------------------


class ModelStore(Protocol):
    """The small interface the core needs from wherever models and files are kept."""

    uri: str

    def version(self, key: str) -> str:
        """The current version of ``key``; ``ObjectMissing`` if absent."""
        ...

    def read(self, key: str) -> StoredObject:
        """The object's bytes and version; ``ObjectMissing`` if absent."""
        ...

    def write(self, key: str, data: bytes) -> str:
        """Store ``data`` under ``key``; return its new version."""
        ...

    def write_file(self, key: str, path: Path) -> str:
        """Store the file at ``path`` under ``key``, streamed (a live file is ~75 MB at
        67,200 rows, which must not sit in memory beside the predictions); its version."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` if it exists (a bad cached file must not be served again)."""
        ...


class Ledger(Protocol):
    """What the core needs from the ledger."""

    def get(
        self, round_number: int, model_name: str, tournament: int = CLASSIC_ID
    ) -> LedgerRecord | None:
        """The record for (tournament, round, model), if any."""
        ...

    def put(self, record: LedgerRecord) -> bool:
        """Write the record unless ``ledger.may_replace`` forbids it; whether it was written."""
        ...


# -- the invocation --------------------------------------------------------------------------


class RemainingTime(Protocol):
    """The invocation's clock, as Lambda's context gives it."""

    def get_remaining_time_in_millis(self) -> int: ...


class SubmissionGuard(Protocol):
    """Runs ``action`` at most once per (round, model) among every concurrent invocation."""

    def register_context(self, context: RemainingTime | None) -> None:
        """The invocation this guard's records must not outlive."""
        ...

    def run_once(
        self, round_number: int, model: str, action: Callable[[], dict], tournament: int = 8
    ) -> dict:
        """Run or return the stored result; ``AlreadyInProgress`` if another holds it."""
        ...

    def prove_held(self) -> None:
        """Inside ``action``: raise ``LeaseLost`` unless the lock is surely still held."""
        ...


class WorkerInvoker(Protocol):
    """Hands a request to the worker without waiting for it (Lambda ``Event`` invoke)."""

    def invoke(self, request: WorkerRequest) -> None:
        """Queue the work; raise if it could not be queued."""
        ...


class Notifier(Protocol):
    """Where round summaries go."""

    def notify(self, result: RoundResult) -> None:
        """Publish a short summary of ``result``."""
        ...
