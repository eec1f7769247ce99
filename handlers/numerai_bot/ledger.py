"""The ledger: one record per (round, model) saying what happened to that submission.

It is what ``status``, the fallback schedule ("models missing for the round") and the
operator read. DynamoDB when deployed; an in-memory ledger for unit tests.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any, Protocol

from numerai_bot.errors import BotError

SUBMITTED = "submitted"
FAILED = "failed"
TTL_DAYS = 400


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

    @property
    def key(self) -> str:
        """The item's partition key."""
        return ledger_key(self.round_number, self.model_name)


def ledger_key(round_number: int, model_name: str) -> str:
    """``ledger#<round>#<model>``: shares the table with powertools' idempotency records."""
    return f"ledger#{round_number}#{model_name}"


class LedgerUnavailable(BotError):
    """The ledger table cannot be read or written (DynamoDB down, table missing, throttled).

    Without the ledger the bot cannot tell what was already submitted, so callers must not
    upload on a guess.
    """


class Ledger(Protocol):
    """What the core needs from the ledger."""

    def get(self, round_number: int, model_name: str) -> LedgerRecord | None:
        """The record for (round, model), if any."""
        ...

    def put(self, record: LedgerRecord) -> None:
        """Write (replace) the record for its (round, model)."""
        ...


class MemoryLedger:
    """A ledger in a dict, for unit tests and dry runs."""

    def __init__(self) -> None:
        self.records: dict[str, LedgerRecord] = {}
        self._lock = threading.Lock()

    def get(self, round_number: int, model_name: str) -> LedgerRecord | None:
        """The record for (round, model), if any."""
        with self._lock:
            return self.records.get(ledger_key(round_number, model_name))

    def put(self, record: LedgerRecord) -> None:
        """Store a copy stamped with the time."""
        record.updated_at = record.updated_at or _now()
        with self._lock:
            self.records[record.key] = record


class DynamoLedger:
    """The ledger in DynamoDB (table key ``id``, TTL attribute ``expiration``)."""

    def __init__(self, table_name: str, resource: Any = None) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        if resource is None:
            import boto3

            resource = boto3.resource("dynamodb")
        self.table_name = table_name
        self.table = resource.Table(table_name)
        # An error answer (ClientError) or no answer at all (BotoCoreError: connection
        # refused, timeout): both become LedgerUnavailable, naming the table and the cause.
        self._errors: tuple[type[Exception], ...] = (ClientError, BotoCoreError)

    def get(self, round_number: int, model_name: str) -> LedgerRecord | None:
        """Strongly consistent read: a duplicate run must see the first one's record."""
        try:
            item = self.table.get_item(
                Key={"id": ledger_key(round_number, model_name)}, ConsistentRead=True
            ).get("Item")
        except self._errors as error:
            raise self._unavailable("read", error) from None
        return _from_item(item) if item else None

    def put(self, record: LedgerRecord) -> None:
        """Write the record with a TTL so the table does not grow forever."""
        record.updated_at = _now()
        item = {k: _to_dynamo(v) for k, v in asdict(record).items()}
        item["id"] = record.key
        item["expiration"] = int(time.time()) + TTL_DAYS * 86_400
        try:
            self.table.put_item(Item=item)
        except self._errors as error:
            raise self._unavailable("write", error) from None

    def _unavailable(self, action: str, error: Exception) -> LedgerUnavailable:
        response = getattr(error, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        name = type(error).__name__
        cause = f"DynamoDB error {code}" if code else f"DynamoDB unreachable ({name})"
        return LedgerUnavailable(f"cannot {action} the ledger table {self.table_name}: {cause}")


def _to_dynamo(value: Any) -> Any:
    return Decimal(str(value)) if isinstance(value, float) else value


def _from_item(item: dict[str, Any]) -> LedgerRecord:
    names = {f.name: f.type for f in fields(LedgerRecord)}
    values: dict[str, Any] = {}
    for name in names:
        if name not in item:
            continue
        value = item[name]
        if isinstance(value, Decimal):
            value = float(value) if name == "seconds" else int(value)
        values[name] = value
    return LedgerRecord(**values)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
