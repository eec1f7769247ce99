"""The ledger in DynamoDB: conditional writes under the ledger's rule (``may_replace``), so
concurrent runs finishing in any order leave the truth; a TTL keeps the table small."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, fields
from decimal import Decimal
from typing import Any

from numerai_bot.adapters.aws_session import AwsSession, session_or_new
from numerai_bot.errors import LedgerUnavailable
from numerai_bot.ledger import CLASSIC_ID, SUBMITTED, TTL_DAYS, LedgerRecord, ledger_key


class DynamoLedger:
    """The ledger in DynamoDB (table key ``id``, TTL attribute ``expiration``)."""

    def __init__(
        self, table_name: str, resource: Any = None, aws: AwsSession | None = None
    ) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        if resource is None:
            resource = session_or_new(aws).resource("dynamodb")
        self.table_name = table_name
        self.table = resource.Table(table_name)
        # An error answer (ClientError) or no answer at all (BotoCoreError: connection
        # refused, timeout): both become LedgerUnavailable, naming the table and the cause.
        self._errors: tuple[type[Exception], ...] = (ClientError, BotoCoreError)

    def get(
        self, round_number: int, model_name: str, tournament: int = CLASSIC_ID
    ) -> LedgerRecord | None:
        """Strongly consistent read: a duplicate run must see the first one's record."""
        try:
            item = self.table.get_item(
                Key={"id": ledger_key(round_number, model_name, tournament)},
                ConsistentRead=True,
            ).get("Item")
        except self._errors as error:
            raise self._unavailable("read", error) from None
        return _from_item(item) if item else None

    def put(self, record: LedgerRecord) -> bool:
        """Write the record (with a TTL) under :func:`may_replace`'s rule as a condition, so
        two runs finishing in any order leave the truth; whether it was written."""
        record.updated_at = _now()
        item = {k: _to_dynamo(v) for k, v in asdict(record).items() if v is not None}
        item["id"] = record.key
        item["expiration"] = int(time.time()) + TTL_DAYS * 86_400
        values: dict[str, Any] = {":submitted": SUBMITTED, ":started": item["started_at"]}
        if record.status == SUBMITTED:  # newer or equal attempts win; FAILED never blocks
            condition = (
                "attribute_not_exists(id) OR #s <> :submitted "
                "OR attribute_not_exists(started_at) OR started_at <= :started"
            )
        else:  # never over a SUBMITTED record, nor over a newer attempt
            condition = (
                "attribute_not_exists(id) OR (#s <> :submitted AND "
                "(attribute_not_exists(started_at) OR started_at <= :started))"
            )
        try:
            self.table.put_item(
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values,
            )
        except self._errors as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise self._unavailable("write", error) from None
        return True

    def _unavailable(self, action: str, error: Exception) -> LedgerUnavailable:
        response = getattr(error, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        name = type(error).__name__
        cause = f"DynamoDB error {code}" if code else f"DynamoDB unreachable ({name})"
        return LedgerUnavailable(f"cannot {action} the ledger table {self.table_name}: {cause}")


def _code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


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
            floats = ("seconds", "started_at", "churn", "turnover", "coverage")
            value = float(value) if name in floats else int(value)
        values[name] = value
    values.setdefault("started_at", 0.0)  # an older record: any new attempt is newer
    return LedgerRecord(**values)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
