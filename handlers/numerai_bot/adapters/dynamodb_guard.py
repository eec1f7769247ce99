"""Exactly one submission per (tournament, round, model), across duplicate webhooks, Lambda's
duplicate async deliveries, the fallback schedule and concurrent shards: powertools
Idempotency on the ledger table, keyed on the tournament, the round and the model.

An IN_PROGRESS record is not a success: its holder may have been killed mid-upload. The
guard raises :class:`AlreadyInProgress` (retryable). The record is a lease: it expires
:data:`GUARD_LEASE_SECONDS` after its holder's last sign of life (or with the Lambda that
wrote it, if sooner), and the retry then asks Numerai what it holds. Each call's record
names the call (an owner token), so a call that meets its own record (its put's answer was
lost, botocore retried) goes on as the owner instead of locking itself out.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from numerai_bot.errors import AlreadyInProgress, BotError

logger = logging.getLogger(__name__)

# How long an IN_PROGRESS record outlives its holder's last sign of life. Not a bound on
# the upload itself: by numerai_client's figures a guarded upload may take 4 GraphQL calls
# of 5 attempts x (5 s connect + 30 s read) + 7.5 s backoff each (create_submission's
# attempts also look for a lost answer: x2), and a PUT of 5 x (5 + 120) s + 7.5 s, about
# 1,350 s in the worst case, more than the Lambda's 900 s: a lease that covered it would be
# the Lambda's timeout again. So the holder renews its lease every quarter lease while the
# upload runs, and the lease only has to cover a renewal that is late: 120 s lets one
# renewal hang for botocore's 60 s read timeout and be retried (90 s after the last one)
# before a live holder could lose its lock; a killed holder's lock lapses at most 120 s
# after its last renewal, before Lambda's second async retry (1 min, then 2 min more: at
# least 180 s after the kill) or the next 15-minute check comes to recover it.
GUARD_LEASE_SECONDS = 120.0
RENEWALS_PER_LEASE = 4
OWNER_ATTR = "in_progress_owner"  # the call that wrote an IN_PROGRESS record
INPROGRESS = "INPROGRESS"  # powertools' status of a record whose action is running

IN_PROGRESS_MESSAGE = (
    "another invocation is submitting this model right now (or died doing it); "
    "retrying after its lock expires"
)
__all__ = [
    "GUARD_LEASE_SECONDS",
    "AlreadyInProgress",
    "GuardUnavailable",
    "IdempotencyGuard",
]


class GuardUnavailable(BotError):
    """The guard's table cannot be reached: uploading now could submit twice."""


@dataclass
class _Holding:
    """One ``run_once`` call's hold on its record: its owner token and, once the record is
    written, its key, the in-progress expiry powertools gave it and when (monotonic)."""

    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    key: str | None = None
    expiry_ms: int = 0
    written: float = 0.0


# The call running in this thread (run_once sets it around powertools' put and the action).
_HOLDING: ContextVar[_Holding | None] = ContextVar("guard_holding", default=None)


class _LeaseContext:
    """The Lambda context as powertools sees it for an IN_PROGRESS record's expiry: the
    time left, but never more than the lease (the lease alone outside Lambda)."""

    def __init__(self, lease_ms: int, context: Any = None) -> None:
        self.lease_ms = lease_ms
        self.context = context

    def get_remaining_time_in_millis(self) -> int:
        """min(the Lambda's remaining time, the lease), in milliseconds."""
        if self.context is None:
            return self.lease_ms
        return min(int(self.context.get_remaining_time_in_millis()), self.lease_ms)


@functools.cache
def _owned_records_class() -> type:
    """powertools' DynamoDB layer with owned, renewable IN_PROGRESS records (built on first
    use: importing powertools' idempotency costs ~0.4 s, and only the worker needs it)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyItemAlreadyExistsError,
    )
    from botocore.exceptions import BotoCoreError, ClientError

    class OwnedRecords(DynamoDBPersistenceLayer):
        """Why this subclass exists: when DynamoDB stores the guard's conditional put but
        its answer is lost, botocore retries the put, meets the record this very call
        wrote, and powertools reports "already in progress": the call would lock itself
        out until the record expired. Here each IN_PROGRESS record carries its call's
        owner token, and a call that meets its own record goes on as the owner. It also
        renews its holder's lease (:meth:`leased`). Everything else is powertools'."""

        def __init__(self, table_name: str) -> None:
            super().__init__(table_name=table_name)
            self.client.meta.events.register(
                "before-parameter-build.dynamodb.PutItem", self._stamp_owner
            )

        def _stamp_owner(self, params: dict[str, Any], **_: Any) -> None:
            """Write the calling ``run_once``'s owner token into its IN_PROGRESS item."""
            holding = _HOLDING.get()
            if holding is not None and params.get("TableName") == self.table_name:
                params["Item"][OWNER_ATTR] = {"S": holding.owner}

        def _put_record(self, data_record: Any) -> None:
            holding = _HOLDING.get()
            written = time.monotonic()
            try:
                super()._put_record(data_record)
            except IdempotencyItemAlreadyExistsError as error:
                if holding is None or not _met_own_record(error, holding.owner):
                    raise
                logger.info("the lock's answer was lost; the record met is this call's own")
            if holding is not None:
                holding.key = data_record.idempotency_key
                holding.expiry_ms = data_record.in_progress_expiry_timestamp or 0
                holding.written = written

        @contextmanager
        def leased(self, holding: _Holding, every: float) -> Iterator[None]:
            """Renew ``holding``'s lease every ``every`` seconds while the body runs."""
            stop = threading.Event()
            if holding.key is not None and holding.expiry_ms:
                threading.Thread(
                    target=self._renew, args=(holding, every, stop), name="guard-lease", daemon=True
                ).start()
            try:
                yield
            finally:
                stop.set()

        def _renew(self, holding: _Holding, every: float, stop: threading.Event) -> None:
            """Move the expiry on by the time since the put (an absolute value in
            powertools' own clock: a retried renewal sets the same), while ours."""
            while not stop.wait(every):
                elapsed_ms = int((time.monotonic() - holding.written) * 1000)
                try:
                    self.client.update_item(
                        TableName=self.table_name,
                        Key=self._get_key(holding.key),
                        UpdateExpression="SET #lease = :lease",
                        ConditionExpression="#status = :inprogress AND #owner = :owner",
                        ExpressionAttributeNames={
                            "#lease": self.in_progress_expiry_attr,
                            "#status": self.status_attr,
                            "#owner": OWNER_ATTR,
                        },
                        ExpressionAttributeValues={
                            ":lease": {"N": str(holding.expiry_ms + elapsed_ms)},
                            ":inprogress": {"S": INPROGRESS},
                            ":owner": {"S": holding.owner},
                        },
                    )
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") == (
                        "ConditionalCheckFailedException"
                    ):
                        if not stop.is_set():  # not just finished: another run took over
                            logger.warning("the guard's lease lapsed while the upload ran")
                        return
                    _renewal_failed(error)
                except BotoCoreError as error:  # timeout, no connection: the next one covers it
                    _renewal_failed(error)

    return OwnedRecords


def _met_own_record(error: Any, owner: str) -> bool:
    """Whether a failed conditional put met an IN_PROGRESS record written by ``owner``
    (powertools raises from the ClientError, whose ``Item`` is the record it met:
    ReturnValuesOnConditionCheckFailure; the token is not in powertools' DataRecord)."""
    record = error.old_data_record
    item = getattr(error.__cause__, "response", {}).get("Item") or {}
    return (
        record is not None
        and record.status == INPROGRESS
        and item.get(OWNER_ATTR, {}).get("S") == owner
    )


def _renewal_failed(error: Exception) -> None:
    logger.warning("could not renew the guard's lease", extra={"error": type(error).__name__})


class IdempotencyGuard:
    """powertools' ``idempotent_function`` over a DynamoDB persistence layer.

    A failed action raises, so powertools deletes the record and a later retry may try
    again; a success is stored and returned to every later caller without running.
    """

    def __init__(
        self,
        table_name: str,
        expires_after_seconds: int = 3 * 86_400,
        lease_seconds: float = GUARD_LEASE_SECONDS,
    ) -> None:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

        self.lease_seconds = lease_seconds
        self.persistence = _owned_records_class()(table_name)
        self.config = IdempotencyConfig(
            event_key_jmespath="[tournament, round, model]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
            lambda_context=_LeaseContext(int(lease_seconds * 1000)),
        )

    def register_context(self, context: Any) -> None:
        """Let an IN_PROGRESS record expire with the Lambda that wrote it, if that comes
        before the lease does (e.g. a timeout); without a context, with the lease alone
        (not with an earlier invocation's context, whose time has run out)."""
        usable = context if hasattr(context, "get_remaining_time_in_millis") else None
        self.config.register_lambda_context(_LeaseContext(int(self.lease_seconds * 1000), usable))

    def run_once(
        self, round_number: int, model: str, action: Callable[[], dict], tournament: int = 8
    ) -> dict:
        """Run ``action`` unless this (tournament, round, model) already ran or is running."""
        from aws_lambda_powertools.utilities.idempotency import idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
        )

        holding = _Holding()
        every = self.lease_seconds / RENEWALS_PER_LEASE

        @idempotent_function(
            data_keyword_argument="key", persistence_store=self.persistence, config=self.config
        )
        def submit_model(key: dict) -> dict:
            with self.persistence.leased(holding, every):
                return action()

        token = _HOLDING.set(holding)
        try:
            return submit_model(
                key={"tournament": tournament, "round": round_number, "model": model}
            )
        except IdempotencyAlreadyInProgressError:
            raise AlreadyInProgress(IN_PROGRESS_MESSAGE) from None
        except IdempotencyPersistenceLayerError as error:
            cause = type(error.__cause__).__name__ if error.__cause__ else "error"
            raise GuardUnavailable(
                f"the idempotency table is unreachable ({cause}); nothing was uploaded"
            ) from None
        finally:
            _HOLDING.reset(token)
