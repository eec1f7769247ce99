"""The ledger: one record per (tournament, round, model) saying what happened to it.

It is what ``status``, the fallback schedule ("models missing for the round") and the
operator read. DynamoDB when deployed; an in-memory ledger for unit tests.

It never says less than Numerai knows: writes are conditional, so a FAILED record never
replaces a SUBMITTED one and an older attempt never replaces a newer one (see
:func:`may_replace`), whatever order concurrent runs finish in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

SUBMITTED = "submitted"
FAILED = "failed"
TTL_DAYS = 400
CLASSIC_ID = 8


@dataclass
class LedgerRecord:
    """What happened to one model's submission in one round."""

    round_number: int
    model_name: str
    status: str
    model_id: str = ""
    submission_id: str = ""
    trigger_id: str = ""
    rows: int = 0
    error: str = ""
    artifact: str = ""
    artifact_version: str = ""
    source: str = ""
    forced: bool = False
    attempts: int = 1
    seconds: float = 0.0
    updated_at: str = ""
    tournament: int = CLASSIC_ID
    # epoch seconds when the attempt began: newer attempts win (0: written before it existed)
    started_at: float = field(default_factory=time.time)
    churn: float | None = None  # against the model's previous submission (Signals, Crypto)
    turnover: float | None = None
    input: str = "numerai"  # where the live input came from: "numerai" or "own"
    coverage: float | None = None  # own data: share of Numerai's universe the table covered

    @property
    def key(self) -> str:
        """The item's partition key."""
        return ledger_key(self.round_number, self.model_name, self.tournament)


def ledger_key(round_number: int, model_name: str, tournament: int = CLASSIC_ID) -> str:
    """``ledger#<round>#<model>`` for Classic (the key existing deployments hold) and
    ``ledger#<tournament>#<round>#<model>`` for the others: round numbers differ between
    tournaments. Shares the table with powertools' idempotency records."""
    if tournament == CLASSIC_ID:
        return f"ledger#{round_number}#{model_name}"
    return f"ledger#{tournament}#{round_number}#{model_name}"


def may_replace(old: LedgerRecord | None, new: LedgerRecord) -> bool:
    """Whether ``new`` may overwrite ``old``: FAILED never replaces SUBMITTED, and an older
    attempt never replaces a newer one."""
    if old is None:
        return True
    if old.status == SUBMITTED and new.status != SUBMITTED:
        return False
    if new.status == SUBMITTED and old.status != SUBMITTED:
        return True  # a success always beats a failure
    return new.started_at >= old.started_at
