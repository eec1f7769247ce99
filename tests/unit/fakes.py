"""In-memory stand-ins for unit tests of the core (integration tests use the HTTP ones)."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numerai_bot.errors import RoundClosed, UploadError
from numerai_bot.ledger import CLASSIC_ID, LedgerRecord, ledger_key, may_replace
from numerai_bot.ports import AccountModel, Created, RoundInfo
from numerai_bot.tournaments import CLASSIC, Tournament


class FakeNumerai:
    """Answers like Numerai from memory, one tournament per model; records uploads.

    ``models`` maps names to ids (Classic); ``tournaments`` puts a model in another
    tournament; ``rounds`` holds each tournament's open round (None: closed).
    """

    def __init__(
        self,
        data_dir: Path,
        models: dict[str, str],
        round_number: int = 500,
        tournaments: dict[str, int] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.models = dict(models)
        self.tournaments = dict(tournaments or {})
        self.rounds: dict[int, int | None] = {8: round_number, 11: 700, 12: 900}
        self.uploads: list[dict] = []
        self.downloads = 0
        self.fail_uploads_for: set[str] = set()
        self.close_in = dt.timedelta(hours=1)  # until the staking close
        self.late_window = dt.timedelta(0)  # after it, the round still takes late submissions
        self.served: frozenset[str] | None = None
        self.closed: dict[int, RoundInfo] = {}  # tournament id -> its last closed round

    @property
    def round_number(self) -> int | None:
        return self.rounds[8]

    @round_number.setter
    def round_number(self, value: int | None) -> None:
        self.rounds[8] = value

    def current_round(self, tournament: Tournament = CLASSIC) -> RoundInfo:
        number = self.rounds.get(tournament.id)
        if number is None:
            raise RoundClosed("Current round not open for submissions")
        now = dt.datetime.now(dt.UTC)
        close = now + self.close_in
        return RoundInfo(number, now - dt.timedelta(minutes=5), close + self.late_window, close)

    def set_deadline(self, deadline: float | None) -> None:
        self.deadline = deadline

    def last_closed_round(self, tournament: Tournament = CLASSIC) -> RoundInfo | None:
        return self.closed.get(tournament.id)

    def account_models(self) -> dict[str, AccountModel]:
        return {
            name: AccountModel(model_id, self.tournaments.get(name, 8))
            for name, model_id in self.models.items()
        }

    def served_datasets(self, tournament: Tournament = CLASSIC) -> frozenset[str]:
        return self.served or frozenset()  # empty: Numerai did not say, nothing is checked

    def round_submission(
        self, model_id: str, round_number: int, tournament: Tournament = CLASSIC
    ) -> dict[str, Any] | None:
        held = [
            u
            for u in self.uploads
            if u["model_id"] == model_id
            and u["round"] == round_number
            and u["tournament"] == tournament.id
        ]
        return {"id": held[-1]["id"]} if held else None

    def download_dataset(
        self, filename: str, dest: Path, round_number: int | None, tournament=CLASSIC
    ) -> Path:
        self.downloads += 1
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.data_dir.parent / filename, dest)
        return dest

    def upload_submission(
        self,
        model_id: str,
        csv_bytes: bytes,
        filename: str,
        trigger_id: str | None,
        tournament: Tournament = CLASSIC,
        round_number: int | None = None,
        earlier: frozenset[str] = frozenset(),
        proof: Callable[[], None] = lambda: None,
    ) -> Created:
        proof()
        if model_id in self.fail_uploads_for:
            raise UploadError("upload PUT got HTTP 403; nothing was stored")
        submission_id = f"sub-{len(self.uploads) + 1}"
        self.uploads.append(
            {
                "id": submission_id,
                "model_id": model_id,
                "body": csv_bytes,
                "trigger_id": trigger_id,
                "round": round_number,
                "tournament": tournament.id,
            }
        )
        return Created(submission_id)


class MemoryLedger:
    """A ledger in a dict, under the same write rule as DynamoDB's condition."""

    def __init__(self) -> None:
        self.records: dict[str, LedgerRecord] = {}
        self._lock = threading.Lock()

    def get(
        self, round_number: int, model_name: str, tournament: int = CLASSIC_ID
    ) -> LedgerRecord | None:
        """The record for (tournament, round, model), if any."""
        with self._lock:
            return self.records.get(ledger_key(round_number, model_name, tournament))

    def put(self, record: LedgerRecord) -> bool:
        """Store it stamped with the time, unless ``may_replace`` forbids it."""
        record.updated_at = record.updated_at or dt.datetime.now(dt.UTC).isoformat(
            timespec="seconds"
        )
        with self._lock:
            if not may_replace(self.records.get(record.key), record):
                return False
            self.records[record.key] = record
            return True


def local_runner(
    tmp_path: Path, numerai: FakeNumerai, store: Any, shared: Any = None, **extra: Any
) -> Any:
    """A ``RoundRunner`` on the unit tests' in-memory adapters: ``numerai``, ``store``, a
    fresh :class:`MemoryLedger`, a live cache under ``tmp_path`` (with ``shared`` as its
    shared cache) and a one-thread model cache (``extra``: further ports, e.g. ``archive``)."""
    from numerai_bot.inference import ModelCache
    from numerai_bot.live_data import LiveDataCache
    from numerai_bot.round.runner import RoundRunner

    return RoundRunner(
        numerai,
        store,
        MemoryLedger(),
        LiveDataCache(tmp_path / "live", numerai, shared),
        ModelCache(store, threads=1),
        **extra,
    )


def runner_with(runner: Any, **changes: Any) -> Any:
    """A new ``RoundRunner`` on the same adapters as ``runner`` but for ``changes`` (e.g. a
    guard that is held, a ledger that fails): tests swap ports, never patch attributes."""
    from numerai_bot.round.runner import RoundRunner

    parts = {
        "numerai": runner.numerai,
        "store": runner.store,
        "ledger": runner.ledger,
        "live_data": runner.live_data,
        "inputs": runner.work.inputs,
        "models": runner.work.models,
        "guard": runner.guard,
        "fanout": runner.fan_out.invoker if runner.fan_out else None,
        "notifier": runner.notifier,
        "refresh_credentials": runner.refresh_credentials,
        "clock": runner.clock,
        "archive": runner.work.archive,
        "lanes": runner.lanes,
    }
    if runner.fan_out is not None:
        parts.update(shard_size=runner.fan_out.shard_size, max_shards=runner.fan_out.max_shards)
    return RoundRunner(**{**parts, **changes})
