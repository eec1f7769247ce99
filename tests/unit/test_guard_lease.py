"""The guard's lock is a lease that names its holder: a lost answer to the lock's own write
does not lock its writer out, a killed upload is retried minutes later (not after the
Lambda's 15-minute timeout), and a live holder keeps its lock however slow its upload."""

from __future__ import annotations

import datetime as dt
import importlib
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from moto import mock_aws

from numerai_bot.adapters.dynamodb_guard import GUARD_LEASE_SECONDS, IdempotencyGuard
from numerai_bot.errors import AlreadyInProgress, LeaseLost
from standins.local_lambda import LocalContext

TABLE = "ledger"
SUBMITTED = {"submission_id": "s1", "rows": 300}
# powertools reads the clock in these modules (the in-progress expiry, its condition, the
# record's status); the tests move it on instead of waiting minutes.
POWERTOOLS_CLOCKS = tuple(
    f"aws_lambda_powertools.utilities.idempotency.{name}"
    for name in ("base", "persistence.base", "persistence.dynamodb", "persistence.datarecord")
)


class Killed(BaseException):
    """SIGKILL in the middle of the upload: nothing after it runs, not even powertools'
    cleanup of a failed action (which catches Exception)."""


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield TABLE


class PowertoolsClock:
    """powertools' wall clock, ``offset`` seconds ahead of the real one (as in the season)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        clock = self

        class Later(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
                return dt.datetime.now(tz) + dt.timedelta(seconds=clock.offset)

        shim = types.ModuleType("datetime")
        shim.__dict__.update(vars(dt))
        shim.datetime = Later  # type: ignore[attr-defined]
        for name in POWERTOOLS_CLOCKS:
            monkeypatch.setattr(importlib.import_module(name), "dt", shim)


class LostAnswers:
    """DynamoDB applies the guard's IN_PROGRESS put, but its answer never arrives (the
    fault proxy's "lost-answer"): a botocore hook after moto's raises a read timeout, and
    botocore retries the same request."""

    def __init__(self, guard: IdempotencyGuard, times: int = 1) -> None:
        self.left = times
        guard.persistence.client.meta.events.register_last("before-send", self.lose)

    def lose(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        if self.left and target.endswith(b".PutItem") and b"INPROGRESS" in request.body:
            self.left -= 1
            raise ReadTimeoutError(endpoint_url=request.url)


def uploading(log: list[str], name: str, then: Callable[[], Any] = lambda: None) -> Callable:
    """An upload that records that it ran, does ``then`` and reports a submission."""

    def upload() -> dict:
        log.append(name)
        then()
        return SUBMITTED

    return upload


def test_a_lost_answer_to_the_lock_write_does_not_lock_out_its_own_writer(table):
    guard = IdempotencyGuard(table)
    lost = LostAnswers(guard)
    uploads: list[str] = []
    assert guard.run_once(500, "alpha", uploading(uploads, "webhook run")) == SUBMITTED
    assert lost.left == 0 and uploads == ["webhook run"]
    # The stored result is what every later run gets, without uploading again.
    assert guard.run_once(500, "alpha", uploading(uploads, "retry")) == SUBMITTED
    assert uploads == ["webhook run"]


def test_another_invocations_live_lock_still_holds_off_a_second_upload(table):
    holder, duplicate = IdempotencyGuard(table), IdempotencyGuard(table)
    LostAnswers(holder)  # the holder met its own record: it must not open the lock to others
    uploads: list[str] = []
    held_off: list[str] = []

    def try_again(guard: IdempotencyGuard, who: str) -> None:
        try:
            guard.run_once(500, "alpha", uploading(uploads, who))
        except AlreadyInProgress:
            held_off.append(who)

    def meanwhile() -> None:
        try_again(duplicate, "duplicate delivery")  # another container
        with ThreadPoolExecutor(1) as pool:  # another thread of the holder's own container
            pool.submit(try_again, holder, "concurrent shard").result()

    assert holder.run_once(500, "alpha", uploading(uploads, "holder", meanwhile)) == SUBMITTED
    assert uploads == ["holder"]
    assert held_off == ["duplicate delivery", "concurrent shard"]


@pytest.mark.parametrize("in_lambda", [True, False], ids=["in-lambda", "local-run"])
def test_a_killed_upload_is_retried_once_the_lease_expires_not_after_the_lambda_timeout(
    table, monkeypatch, in_lambda
):
    clock = PowertoolsClock(monkeypatch)
    killed, retry = IdempotencyGuard(table), IdempotencyGuard(table)
    if in_lambda:
        killed.register_context(LocalContext("worker", timeout_seconds=900.0))
        retry.register_context(LocalContext("worker", timeout_seconds=900.0))
    uploads: list[str] = []

    def die() -> None:
        raise Killed

    with pytest.raises(Killed):
        killed.run_once(500, "alpha", uploading(uploads, "killed run", die))
    clock.offset = 60.0  # Lambda's first async retry: the killed run's lease still holds
    with pytest.raises(AlreadyInProgress):
        retry.run_once(500, "alpha", uploading(uploads, "first retry"))
    assert GUARD_LEASE_SECONDS < 180.0
    clock.offset = 180.0  # the second retry, 2 minutes later: the lease has lapsed
    assert retry.run_once(500, "alpha", uploading(uploads, "second retry")) == SUBMITTED
    assert uploads == ["killed run", "second retry"]


@pytest.mark.slow
def test_a_live_upload_slower_than_its_lease_keeps_its_lock(table):
    lease = 1.5
    holder, duplicate = IdempotencyGuard(table, lease_seconds=lease), IdempotencyGuard(table)
    uploads: list[str] = []
    outcome: list[str] = []

    def slow_numerai() -> None:
        time.sleep(2 * lease)  # the holder renews its lease while it waits
        try:
            duplicate.run_once(500, "alpha", uploading(uploads, "duplicate"))
        except AlreadyInProgress:
            outcome.append("held off")

    assert holder.run_once(500, "alpha", uploading(uploads, "holder", slow_numerai)) == SUBMITTED
    assert uploads == ["holder"] and outcome == ["held off"]


class RenewalOutage:
    """DynamoDB unreachable for the holder's lease renewals (its other calls get through):
    the first ``failing`` renewals time out, later ones succeed (None: all of them fail)."""

    def __init__(self, guard: IdempotencyGuard, failing: int | None = None) -> None:
        self.failing = failing
        self.failed = 0
        guard.persistence.client.meta.events.register_last("before-send", self.drop)

    def drop(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        renewal = target.endswith(b".UpdateItem") and b"SET #lease" in request.body
        if renewal and (self.failing is None or self.failed < self.failing):
            self.failed += 1
            raise ReadTimeoutError(endpoint_url=request.url)


def test_a_holder_whose_renewals_all_fail_sends_nothing_more_and_frees_its_own_lock(table):
    holder = IdempotencyGuard(table, lease_seconds=2.0, safety_margin=0.5)
    outage = RenewalOutage(holder)
    uploads: list[str] = []

    def create_after_a_slow_put() -> None:
        time.sleep(1.7)  # the PUT took most of the lease; no renewal got through
        holder.prove_held()
        uploads.append("create sent")

    with pytest.raises(LeaseLost):
        holder.run_once(500, "alpha", uploading(uploads, "holder", create_after_a_slow_put))
    assert outage.failed and uploads == ["holder"]
    # Nothing was sent and the lock was its own: the next run goes ahead at once.
    assert IdempotencyGuard(table).run_once(500, "alpha", uploading(uploads, "next")) == SUBMITTED
    assert uploads == ["holder", "next"]


def test_a_holder_whose_renewals_fail_for_a_while_still_submits_once_they_recover(table):
    holder = IdempotencyGuard(table, lease_seconds=4.0, safety_margin=1.0)
    outage = RenewalOutage(holder, failing=1)  # renewals every second: the second succeeds
    uploads: list[str] = []

    def create_later() -> None:
        time.sleep(3.2)  # past the first lease less the margin: only a renewal proves it
        holder.prove_held()
        uploads.append("create sent")

    assert holder.run_once(500, "alpha", uploading(uploads, "holder", create_later)) == SUBMITTED
    assert outage.failed == 1 and uploads == ["holder", "create sent"]


def test_a_failed_holder_whose_lease_lapsed_never_removes_the_new_owners_lock(table, monkeypatch):
    clock = PowertoolsClock(monkeypatch)
    lapsed, new_owner, third = (IdempotencyGuard(table) for _ in range(3))
    uploads: list[str] = []
    inside, may_finish = threading.Event(), threading.Event()

    def hold_until_told() -> None:
        inside.set()
        assert may_finish.wait(10)

    pool = ThreadPoolExecutor(1)  # the new owner's container
    owner: list[Any] = []

    def take_over_then_fail() -> None:
        clock.offset = 180.0  # the lapsed holder's lease has ended: a new run takes over
        owner.append(
            pool.submit(
                new_owner.run_once, 500, "alpha", uploading(uploads, "new owner", hold_until_told)
            )
        )
        assert inside.wait(10)
        raise RuntimeError("the lapsed holder fails")  # powertools then removes its record

    with pytest.raises(RuntimeError):
        lapsed.run_once(500, "alpha", uploading(uploads, "lapsed", take_over_then_fail))
    # The new owner is still uploading: a third run must be held off, not upload again.
    with pytest.raises(AlreadyInProgress):
        third.run_once(500, "alpha", uploading(uploads, "third run"))
    may_finish.set()
    assert owner[0].result(10) == SUBMITTED
    pool.shutdown()
    assert uploads == ["lapsed", "new owner"]
