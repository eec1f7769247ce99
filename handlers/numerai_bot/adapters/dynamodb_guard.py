"""Exactly one submission per (tournament, round, model), across duplicate webhooks, Lambda's
duplicate async deliveries, the fallback schedule and concurrent shards: powertools
Idempotency on the ledger table, keyed on the tournament, the round and the model.

An IN_PROGRESS record is not a success: its holder may have been killed mid-upload. The
guard raises :class:`AlreadyInProgress` (retryable). The record is a lease: it expires
:data:`GUARD_LEASE_SECONDS` after its holder's last sign of life (or with the Lambda that
wrote it, if sooner), and the retry then asks Numerai what it holds. Each call's record
names the call (an owner token), so a call that meets its own record (its put's answer was
lost, botocore retried) goes on as the owner instead of locking itself out, and only its
owner may complete or remove it.

A lease is proof or nothing: a holder that cannot show a renewal recent enough
(:meth:`IdempotencyGuard.prove_held`) sends nothing more and stops with
:class:`LeaseLost`. A ``create`` whose answer was lost and that Numerai does not list yet
leaves its record IN_PROGRESS, marked unsettled, for :data:`SETTLE_WINDOW_SECONDS` after it
was sent: later runs reconcile with Numerai instead of uploading again.
"""

from __future__ import annotations

import functools
import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from numerai_bot.adapters.aws_session import AwsSession, session_or_new
from numerai_bot.errors import AlreadyInProgress, BotError, LeaseLost, SubmissionUnconfirmed

logger = logging.getLogger(__name__)

# How long an IN_PROGRESS record outlives its holder's last sign of life. Not a bound on
# the upload itself: by numerai_client's figures a guarded upload may take 2 GraphQL calls
# of 5 attempts x (5 s connect + 30 s read) + 7.5 s backoff each, a PUT of 5 x (5 + 120) s
# + 7.5 s and a create of 125 s plus 60 s of polling for a lost answer, about 1,200 s in the
# worst case, more than the Lambda's 900 s: a lease that covered it would be
# the Lambda's timeout again. So the holder renews its lease every quarter lease while the
# upload runs, and the lease only has to cover a renewal that is late: 120 s lets one
# renewal hang for botocore's 60 s read timeout and be retried (90 s after the last one)
# before a live holder could lose its lock; a killed holder's lock lapses at most 120 s
# after its last renewal, before Lambda's second async retry (1 min, then 2 min more: at
# least 180 s after the kill) or the next 15-minute check comes to recover it.
GUARD_LEASE_SECONDS = 120.0
RENEWALS_PER_LEASE = 4
# What a holder must still have of its lease to send the PUT or the create: the connect
# timeout (5 s) for the request to reach Numerai, a renewal thread woken late, and the clock
# skew between two Lambda hosts (NTP keeps it under a second), twice over. A create that
# is still in flight when the lease ends is covered by the renewals that go on meanwhile;
# only if they fail as well does the settle window below decide.
LEASE_SAFETY_MARGIN_SECONDS = 20.0
# How long a create whose answer was lost (and that Numerai did not list within the run's
# own polling) keeps its model's record: until then later runs only reconcile with Numerai;
# after it, the next run uploads afresh (new upload slot, new filename). Numerai validates
# and records a submission of a few thousand rows in seconds; 600 s is five times the
# client's create read timeout (numerai_client.CREATE_TIMEOUT, 120 s), so a create the
# server was still working on when the client gave up has had far longer than its slowest
# answer to land. Not longer: the round is open for an hour, and the 15-minute schedule
# must still find time to upload afresh if the create truly was lost.
SETTLE_WINDOW_SECONDS = 600.0
OWNER_ATTR = "in_progress_owner"  # the call that wrote an IN_PROGRESS record
UNSETTLED_ATTR = "unsettled_create"  # an IN_PROGRESS record whose create may still land
INPROGRESS = "INPROGRESS"  # powertools' status of a record whose action is running
# The modules whose ``dt`` is the clock powertools dates records by (shifted in the season).
POWERTOOLS_CLOCK_MODULE = "aws_lambda_powertools.utilities.idempotency.persistence.base"

IN_PROGRESS_MESSAGE = (
    "another invocation is submitting this model right now (or died doing it); "
    "retrying after its lock expires"
)
UNSETTLED_MESSAGE = (
    "pending: an earlier create reached Numerai but Numerai has not confirmed it; "
    "will reconcile next run"
)
LEASE_LOST_MESSAGE = (
    "stopped before sending: this run could not renew its lock on the model in time, so "
    "another run may hold it; retrying later"
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
    written, its key, the in-progress expiry powertools gave it, when (monotonic), and until
    when (monotonic) its last successful put or renewal proves the lease."""

    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    key: str | None = None
    expiry_ms: int = 0
    written: float = 0.0
    lease: float = 0.0  # seconds from the put (or a renewal's send) to the record's expiry
    proven_until: float = 0.0
    met_unsettled: bool = False  # the record met was another run's unsettled create

    def proves(self, margin: float, now: float) -> bool:
        """Whether the lease surely holds for ``margin`` seconds more."""
        return self.key is None or self.proven_until > now + margin


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

        def __init__(self, table_name: str, client: Any) -> None:
            super().__init__(table_name=table_name, boto3_client=client)
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
                    if holding is not None:
                        holding.met_unsettled = UNSETTLED_ATTR in _item_met(error)
                    raise
                logger.info("the lock's answer was lost; the record met is this call's own")
            if holding is not None:
                holding.key = data_record.idempotency_key
                holding.expiry_ms = data_record.in_progress_expiry_timestamp or 0
                holding.written = written
                # The lease counts from before the put was sent: never longer than it is.
                holding.lease = max(0, holding.expiry_ms - _powertools_now_ms()) / 1000
                holding.proven_until = written + holding.lease

        def _update_record(self, data_record: Any) -> None:
            """powertools' update (the action's result), with the owner condition: a holder
            whose lease lapsed must not overwrite the new owner's lock."""
            holding = _HOLDING.get()
            if holding is None:
                super()._update_record(data_record)
                return
            stored = self._owned(
                holding,
                lambda owned: self.client.update_item(
                    TableName=self.table_name,
                    Key=self._get_key(data_record.idempotency_key),
                    UpdateExpression="SET #data = :data, #expiry = :expiry, #status = :status",
                    ConditionExpression=owned["ConditionExpression"],
                    ExpressionAttributeNames={
                        "#data": self.data_attr,
                        "#expiry": self.expiry_attr,
                        "#status": self.status_attr,
                        **owned["ExpressionAttributeNames"],
                    },
                    ExpressionAttributeValues={
                        ":data": {"S": data_record.response_data},
                        ":expiry": {"N": str(data_record.expiry_timestamp)},
                        ":status": {"S": data_record.status},
                        **owned["ExpressionAttributeValues"],
                    },
                ),
            )
            if not stored:
                logger.warning("the guard's record is another run's now; the result is not kept")
                raise LeaseLost(LEASE_LOST_MESSAGE)

        def delete_record(self, data: dict[str, Any], exception: Exception) -> None:
            """powertools deletes a failed action's record; here a create that may still
            land keeps it, marked unsettled (module docstring)."""
            holding = _HOLDING.get()
            if holding is not None and isinstance(exception, SubmissionUnconfirmed):
                self._mark_unsettled(holding, exception)
                return
            super().delete_record(data, exception)

        def _delete_record(self, data_record: Any) -> None:
            """powertools deletes unconditionally; here only the record's owner removes it,
            so a holder whose lease lapsed never removes the new owner's live lock."""
            holding = _HOLDING.get()
            if holding is None:
                super()._delete_record(data_record)
                return
            removed = self._owned(
                holding,
                lambda owned: self.client.delete_item(
                    TableName=self.table_name,
                    Key=self._get_key(data_record.idempotency_key),
                    **owned,
                ),
            )
            if not removed:
                logger.warning("the guard's record is another run's now; left it in place")

        @staticmethod
        def _owned(holding: _Holding, write: Callable[[dict[str, Any]], Any]) -> bool:
            """Run ``write`` with the owner condition (DynamoDB's condition arguments);
            False if the record is no longer ``holding``'s."""
            condition = {
                "ConditionExpression": "#owner = :owner",
                "ExpressionAttributeNames": {"#owner": OWNER_ATTR},
                "ExpressionAttributeValues": {":owner": {"S": holding.owner}},
            }
            try:
                write(condition)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    return False
                raise
            return True

        def _mark_unsettled(self, holding: _Holding, unsettled: SubmissionUnconfirmed) -> None:
            """Keep the record IN_PROGRESS until the settle window after the create ends."""
            sent_ago = 0.0 if unsettled.sent_at is None else time.monotonic() - unsettled.sent_at
            until_ms = _powertools_now_ms() + int((SETTLE_WINDOW_SECONDS - sent_ago) * 1000)
            try:
                self.client.update_item(
                    TableName=self.table_name,
                    Key=self._get_key(holding.key),
                    UpdateExpression="SET #lease = :until, #unsettled = :sent",
                    ConditionExpression="#status = :inprogress AND #owner = :owner",
                    ExpressionAttributeNames={
                        "#lease": self.in_progress_expiry_attr,
                        "#unsettled": UNSETTLED_ATTR,
                        "#status": self.status_attr,
                        "#owner": OWNER_ATTR,
                    },
                    ExpressionAttributeValues={
                        ":until": {"N": str(until_ms)},
                        ":sent": {"N": str(until_ms - int(SETTLE_WINDOW_SECONDS * 1000))},
                        ":inprogress": {"S": INPROGRESS},
                        ":owner": {"S": holding.owner},
                    },
                )
            except ClientError as error:
                # Not ours any more, or DynamoDB is down: the lease (or the Lambda's time)
                # ends the record; the next run still asks Numerai before uploading.
                logger.warning(
                    "could not keep the unsettled create's record",
                    extra={"error": error.response.get("Error", {}).get("Code")},
                )
            except BotoCoreError as error:
                logger.warning(
                    "could not keep the unsettled create's record",
                    extra={"error": type(error).__name__},
                )

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
                sent = time.monotonic()
                elapsed_ms = int((sent - holding.written) * 1000)
                try:
                    self.client.update_item(
                        TableName=self.table_name,
                        Key=self._get_key(holding.key),
                        UpdateExpression="SET #lease = :lease",
                        ConditionExpression=(
                            "#status = :inprogress AND #owner = :owner "
                            "AND attribute_not_exists(#unsettled)"
                        ),
                        ExpressionAttributeNames={
                            "#lease": self.in_progress_expiry_attr,
                            "#status": self.status_attr,
                            "#owner": OWNER_ATTR,
                            "#unsettled": UNSETTLED_ATTR,
                        },
                        ExpressionAttributeValues={
                            ":lease": {"N": str(holding.expiry_ms + elapsed_ms)},
                            ":inprogress": {"S": INPROGRESS},
                            ":owner": {"S": holding.owner},
                        },
                    )
                    # Counted from when the renewal was sent, not when it was answered.
                    holding.proven_until = max(holding.proven_until, sent + holding.lease)
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
    item = _item_met(error)
    return (
        record is not None
        and record.status == INPROGRESS
        and item.get(OWNER_ATTR, {}).get("S") == owner
    )


def _item_met(error: Any) -> dict[str, Any]:
    """The item a failed conditional put met, as DynamoDB returned it (or empty)."""
    return getattr(error.__cause__, "response", {}).get("Item") or {}


def _powertools_now_ms() -> int:
    """Now on the clock powertools dates its records by (the season runs it ahead)."""
    clock = importlib.import_module(POWERTOOLS_CLOCK_MODULE).dt
    return int(clock.datetime.now().timestamp() * 1000)


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
        safety_margin: float = LEASE_SAFETY_MARGIN_SECONDS,
        aws: AwsSession | None = None,
    ) -> None:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

        self.lease_seconds = lease_seconds
        self.safety_margin = safety_margin
        # A client of its own (its hooks stay its own), from the container's one session.
        client = session_or_new(aws).client("dynamodb")
        self.persistence = _owned_records_class()(table_name, client)
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

    def prove_held(self) -> None:
        """Raise :class:`LeaseLost` unless the ``run_once`` call running in this thread can
        prove it still holds its lock: its last successful put or renewal plus the lease
        lies beyond now plus the safety margin (:data:`LEASE_SAFETY_MARGIN_SECONDS`).
        Called right before each step that sends something to Numerai; outside
        ``run_once`` there is nothing to prove.
        """
        holding = _HOLDING.get()
        if holding is not None and not holding.proves(self.safety_margin, time.monotonic()):
            logger.warning("the guard's lease cannot be proven; nothing more is sent")
            raise LeaseLost(LEASE_LOST_MESSAGE)

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
            if holding.met_unsettled:
                raise SubmissionUnconfirmed(UNSETTLED_MESSAGE) from None
            raise AlreadyInProgress(IN_PROGRESS_MESSAGE) from None
        except IdempotencyPersistenceLayerError as error:
            cause = type(error.__cause__).__name__ if error.__cause__ else "error"
            raise GuardUnavailable(
                f"the idempotency table is unreachable ({cause}); nothing was uploaded"
            ) from None
        finally:
            _HOLDING.reset(token)
