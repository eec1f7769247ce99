"""Test knobs: injected 5xx failures, response delays, upload (PUT) behaviour, call counts.

Operations are the GraphQL root field names a request selects (``rounds``,
``submission_upload_auth`` ...). Names match loosely: case and underscores are ignored, so a
rule for ``createSubmission`` also hits numerapi's ``create_submission``.

Defined once, here: :class:`Faults` holds the knobs, :data:`FAULT_KINDS` says which kinds of
fault there are and how their (JSON) arguments set them, and :class:`FaultControls` is the
Python face of them that the in-process stand-in and its HTTP client share; the admin
endpoints are ``POST /_standin/<kind>``.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PUT_MODES = ("ok", "reject", "drop", "slow")
# What a createSubmission naming an upload filename that a submission already used does.
# Numerai's behaviour is not documented (numerapi never reuses one): the stand-in can play
# either. "refuse": an error, Numerai keeps the first; "accept": a second submission.
REUSE_MODES = ("refuse", "accept")
DEFAULT_REJECT_STATUS = 403
DEFAULT_SLOW_SECONDS = 2.0


def normalise(operation: str) -> str:
    """``create_submission`` and ``createSubmission`` become the same key."""
    return operation.replace("_", "").lower()


@dataclass
class FailRule:
    """Answer the next ``remaining`` matching GraphQL calls with HTTP ``status``."""

    remaining: int
    status: int
    operation: str | None

    def matches(self, operations: list[str]) -> bool:
        return self.operation is None or normalise(self.operation) in {
            normalise(op) for op in operations
        }


@dataclass
class SlowCreate:
    """The next ``remaining`` createSubmission calls are recorded, and answered, only after
    ``seconds``: long after a client's read timeout, and after its first look at the list."""

    remaining: int
    seconds: float


@dataclass
class PutBehaviour:
    """What the upload endpoint does with the next PUTs."""

    mode: str = "ok"
    status: int = DEFAULT_REJECT_STATUS
    delay: float = DEFAULT_SLOW_SECONDS
    remaining: int | None = None  # None: until changed; N: for N PUTs, then back to "ok"


class Faults:
    """Thread-safe store of the knobs; the HTTP layer asks it what to do for each request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fail_rules: list[FailRule] = []
        self._delays: dict[str | None, float] = {}
        self._put = PutBehaviour()
        self._calls: Counter[str] = Counter()
        self._slow_creates: list[SlowCreate] = []
        self._slow_until = 0.0  # time.monotonic() when the last slow create taken lands
        self.reuse = REUSE_MODES[0]
        self.live_placeholders: tuple[str, ...] = ()  # ids the served live files get

    def reset(self) -> None:
        """Drop every knob and zero the counters."""
        with self._lock:
            self._fail_rules.clear()
            self._delays.clear()
            self._put = PutBehaviour()
            self._calls.clear()
            self._slow_creates.clear()
            self.reuse = REUSE_MODES[0]
            self.live_placeholders = ()

    # -- failures and delays ------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 503, operation: str | None = None) -> None:
        """Queue a rule: the next ``count`` calls (of ``operation``, or any) get HTTP ``status``."""
        if count < 1:
            raise ValueError("count must be at least 1")
        if not 500 <= status <= 599:
            raise ValueError("status must be a 5xx code")
        with self._lock:
            self._fail_rules.append(FailRule(count, status, operation))

    def take_failure(self, operations: list[str]) -> int | None:
        """Consume one matching failure; return its status, or None to answer normally."""
        with self._lock:
            for rule in self._fail_rules:
                if rule.matches(operations):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._fail_rules.remove(rule)
                    return rule.status
        return None

    def set_delay(self, seconds: float, operation: str | None = None) -> None:
        """Delay GraphQL responses (of ``operation``, or all) by ``seconds``; 0 removes it."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        key = None if operation is None else normalise(operation)
        with self._lock:
            if seconds:
                self._delays[key] = float(seconds)
            else:
                self._delays.pop(key, None)

    def delay_for(self, operations: list[str]) -> float:
        """The longest delay that applies to a request selecting ``operations`` (a slow
        create counted down by this request included)."""
        with self._lock:
            delays = [self._delays.get(None, 0.0)]
            delays += [self._delays.get(normalise(op), 0.0) for op in operations]
            creates = {normalise("createSubmission"), normalise("createSignalsSubmission")}
            if self._slow_creates and creates & {normalise(op) for op in operations}:
                slow = self._slow_creates[0]
                self._slow_until = max(self._slow_until, time.monotonic() + slow.seconds)
                slow.remaining -= 1
                if slow.remaining <= 0:
                    self._slow_creates.pop(0)
                delays.append(slow.seconds)
        return max(delays)

    def slow_creates_land_by(self) -> float:
        """When (``time.monotonic()``) every slow create taken so far has been recorded."""
        with self._lock:
            return self._slow_until

    def slow_creates(self, seconds: float, times: int = 1, reuse: str | None = None) -> None:
        """The next ``times`` creates are recorded and answered after ``seconds``; ``reuse``
        (see :data:`REUSE_MODES`) sets what a reused upload filename does from now on."""
        if seconds < 0 or times < 1:
            raise ValueError("seconds must not be negative and times at least 1")
        if reuse is not None and reuse not in REUSE_MODES:
            raise ValueError(f"reuse must be one of {REUSE_MODES}")
        with self._lock:
            self._slow_creates.append(SlowCreate(times, float(seconds)))
            if reuse is not None:
                self.reuse = reuse

    # -- uploads ------------------------------------------------------------------------------

    def set_put_behaviour(
        self,
        mode: str,
        *,
        status: int | None = None,
        delay: float | None = None,
        times: int | None = None,
    ) -> None:
        """Set the upload endpoint's behaviour: ``ok``, ``reject``, ``drop`` or ``slow``.

        ``reject`` answers ``status`` (403 by default, or e.g. 500) with an S3-style XML error
        and stores nothing; ``drop`` answers 200 but stores nothing; ``slow`` waits ``delay``
        seconds, then stores. ``times`` limits the behaviour to that many PUTs.
        """
        if mode not in PUT_MODES:
            raise ValueError(f"mode must be one of {PUT_MODES}")
        with self._lock:
            self._put = PutBehaviour(
                mode=mode,
                status=status or DEFAULT_REJECT_STATUS,
                delay=DEFAULT_SLOW_SECONDS if delay is None else float(delay),
                remaining=times,
            )

    def take_put_behaviour(self) -> PutBehaviour:
        """The behaviour for this PUT (counting down a limited one)."""
        with self._lock:
            current = self._put
            if current.remaining is not None:
                current.remaining -= 1
                if current.remaining <= 0:
                    self._put = PutBehaviour()
            return PutBehaviour(current.mode, current.status, current.delay, None)

    # -- counters -----------------------------------------------------------------------------

    def count(self, operation: str) -> None:
        """Record one call of ``operation`` (GraphQL field, or ``PUT upload`` / ``GET file``)."""
        with self._lock:
            self._calls[operation] += 1

    def calls(self) -> dict[str, int]:
        """Calls per operation since the start or the last reset."""
        with self._lock:
            return dict(self._calls)

    def snapshot(self) -> dict[str, Any]:
        """The active knobs, for the admin state endpoint."""
        with self._lock:
            return {
                "fail_rules": [vars(rule).copy() for rule in self._fail_rules],
                "delays": {k or "*": v for k, v in self._delays.items()},
                "put": vars(self._put).copy(),
                "slow_creates": [vars(slow).copy() for slow in self._slow_creates],
                "reuse": self.reuse,
                "live_placeholders": list(self.live_placeholders),
            }


# -- the kinds of fault, as data ---------------------------------------------------------------

Arguments = Mapping[str, Any]


def _fail(faults: Faults, a: Arguments) -> None:
    faults.fail_next(int(a.get("count", 1)), int(a.get("status", 503)), a.get("operation"))


def _delay(faults: Faults, a: Arguments) -> None:
    faults.set_delay(float(a["seconds"]), a.get("operation"))


def _put(faults: Faults, a: Arguments) -> None:
    faults.set_put_behaviour(
        a["mode"], status=a.get("status"), delay=a.get("delay"), times=a.get("times")
    )


def _slow_create(faults: Faults, a: Arguments) -> None:
    faults.slow_creates(float(a["seconds"]), int(a.get("times", 1)), a.get("reuse"))


def _live_ids(faults: Faults, a: Arguments) -> None:
    faults.live_placeholders = tuple(str(i) for i in a.get("ids", ()))


def _reset(faults: Faults, a: Arguments) -> None:
    faults.reset()


# kind (also the admin endpoint ``POST /_standin/<kind>``) -> how its arguments set the knobs
FAULT_KINDS: dict[str, Callable[[Faults, Arguments], None]] = {
    "fail": _fail,
    "delay": _delay,
    "put": _put,
    "slow-create": _slow_create,
    "live-ids": _live_ids,
    "reset": _reset,
}


class FaultControls(ABC):
    """The fault knobs as Python methods, one definition for every face of the stand-in: each
    is one kind of :data:`FAULT_KINDS` with its arguments, handed to :meth:`apply_fault`."""

    @abstractmethod
    def apply_fault(self, kind: str, arguments: Arguments) -> None:
        """Set one kind of fault: on the stand-in itself, or over HTTP on a running one."""

    def fail_next(self, count: int = 1, *, status: int = 503, operation: str | None = None) -> None:
        """Answer the next ``count`` GraphQL calls (of ``operation`` only, if given) with 5xx.

        numerapi retries 5xx itself (3 tries, 5 s apart, doubling): in tests call
        ``raw_query(..., retries=1)`` or ``delay=0`` to stay fast.
        """
        self.apply_fault("fail", {"count": count, "status": status, "operation": operation})

    def set_delay(self, seconds: float, *, operation: str | None = None) -> None:
        """Delay GraphQL answers (of ``operation`` only, if given); 0 removes the delay."""
        self.apply_fault("delay", {"seconds": seconds, "operation": operation})

    def set_put_behaviour(
        self,
        mode: str,
        *,
        status: int | None = None,
        delay: float | None = None,
        times: int | None = None,
    ) -> None:
        """Upload PUTs: ``ok``, ``reject`` (403/``status`` + S3 XML), ``drop`` (200, not
        stored) or ``slow`` (``delay`` s, then stored); ``times`` limits it to N PUTs."""
        self.apply_fault("put", {"mode": mode, "status": status, "delay": delay, "times": times})

    def slow_creates(self, seconds: float, *, times: int = 1, reuse: str | None = None) -> None:
        """The next ``times`` createSubmission calls are recorded and answered only after
        ``seconds``; ``reuse`` ("refuse"/"accept"): what a reused upload filename does."""
        self.apply_fault("slow-create", {"seconds": seconds, "times": times, "reuse": reuse})

    def serve_unusable_live_ids(self, ids: tuple[str, ...]) -> None:
        """Serve live files whose first rows' ids are ``ids`` (blank, "nan", "None" ...);
        an empty tuple serves them as they are."""
        self.apply_fault("live-ids", {"ids": list(ids)})

    def reset_knobs(self) -> None:
        """Remove failures, delays and the PUT behaviour; zero the call counters."""
        self.apply_fault("reset", {})
