"""Reading the ledger for the operator: every record (Scan), or chosen (round, model) pairs.

The worker never lists the ledger (its role has no ``dynamodb:Scan``); the operator's
``numerai-bot status`` does, with the operator's own credentials. When a Scan is denied,
:func:`get_records` reads the (round, model) pairs it is given instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from numerai_bot.adapters.dynamodb_ledger import _from_item
from numerai_bot.ledger import LedgerRecord
from numerai_bot.ports import Ledger

LEDGER_PREFIX = "ledger#"


def scan_ledger(table_name: str, resource: Any = None) -> Iterator[LedgerRecord]:
    """Every ledger record in the table, page by page (idempotency records are skipped)."""
    if resource is None:
        import boto3

        resource = boto3.resource("dynamodb")
    from boto3.dynamodb.conditions import Attr

    table = resource.Table(table_name)
    arguments: dict[str, Any] = {"FilterExpression": Attr("id").begins_with(LEDGER_PREFIX)}
    while True:
        page = table.scan(**arguments)
        for item in page.get("Items", []):
            if "round_number" in item and "model_name" in item:
                yield _from_item(item)
        start = page.get("LastEvaluatedKey")
        if not start:
            return
        arguments["ExclusiveStartKey"] = start


def get_records(ledger: Ledger, rounds: Iterable[int], models: Iterable[str]) -> list[LedgerRecord]:
    """The records that exist for each (round, model) pair: GetItem only, no Scan needed."""
    names = list(models)
    found = []
    for round_number in rounds:
        for name in names:
            record = ledger.get(round_number, name)
            if record is not None:
                found.append(record)
    return found


def latest_per_model(records: Iterable[LedgerRecord]) -> dict[str, LedgerRecord]:
    """Each model's record of its latest round."""
    latest: dict[str, LedgerRecord] = {}
    for record in records:
        known = latest.get(record.model_name)
        if known is None or record.round_number > known.round_number:
            latest[record.model_name] = record
    return latest
