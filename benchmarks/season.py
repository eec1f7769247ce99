"""Play a season of rounds against the local stand-ins and break things for real: kill worker
processes mid-upload, fail S3, DynamoDB and Secrets Manager over HTTP, break Numerai; then
count what Numerai got.

    PYTHONPATH=handlers:. python -m benchmarks.season --rounds 100 --models 4 --seed 1

Each worker invocation is a process of its own (``standins.worker_process``), as in Lambda;
the webhook runs in this process behind a Function URL stand-in. A round, in season time:

- 0: the round opens on the Numerai stand-in, which calls every model's webhook; each hand-off
  starts a worker process at once (Lambda's async invoke, duplicates included);
- +1 min, +3 min: Lambda's retries of runs that failed or were killed (up to 2);
- +15, +30, +45 min: the fallback schedule's checks. The first always runs (it also looks
  back at the last closed round); a later one is skipped when the ledger already says
  SUBMITTED for every model whose file is intact, since that run would only skip them (and
  fail a corrupt one again);
- +60 min: the round closes.

Season time runs ahead of the wall clock: the season skips the minutes between these
moments instead of waiting, and each child's powertools clock runs ahead by the time skipped,
so an IN_PROGRESS record left by a killed run expires in season time as it would in Lambda:
its guard lease (``idempotency.GUARD_LEASE_SECONDS``, renewed while a live holder uploads)
after its last renewal, or the Lambda's timeout (900 s) if sooner. Numerai's round times
stay on the wall clock.

Faults are drawn per round from a seeded RNG (:data:`KINDS`, every kind at least once):
Numerai's (5xx, timeouts, refused or dropped PUTs, lost or doubled webhooks ...), AWS's (5xx,
throttling and timeouts from ``standins.aws_faults`` in front of moto, including ledger
writes and idempotency answers that are lost), and kills: a worker SIGKILLs itself at one
of ``standins.worker_process.KILL_POINTS`` for one model. Every count comes from the
stand-in's records (ground truth), the ledger and the children's captured logs.
Exit status 0 when the targets are met.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import random
import re
import socket
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.adapters.model_store import open_model_store
from numerai_bot.ledger import SUBMITTED
from numerai_bot.ports import Ledger
from standins.aws_faults import AwsFaultProxy
from standins.local_bot import LocalBot
from standins.onnx_models import linear_model
from standins.worker_process import (
    KILL_POINTS,
    KILLED,
    LAUNCHERS,
    KillSpec,
    LambdaSettings,
    ProcessLambda,
    SeasonClock,
)

OPERATIONS = ("rounds", "account", "dataset", "submission_upload_auth", "create_submission")
CORRUPTIONS = ("truncated", "random-bytes", "nan-output", "constant-output")
FIRST_ROUND = 5000
LATE_WINDOW = dt.timedelta(seconds=10)  # a round opening "nearly closed"
STAKING_WINDOW = dt.timedelta(hours=1)
# Numerai scores a submission made after closeStakingTime and before closeTime, unstaked:
# the stand-in accepts it and marks it late, so a late upload shows instead of failing.
LATE_GRACE = dt.timedelta(hours=1)
CHECKS = (900.0, 1800.0, 2700.0)  # the fallback schedule, seconds after the open
ROUND_LENGTH = 3600.0
KILL_WINDOW = 1000.0  # kills fire in the webhook phase, its retries and the first check
# Where Numerai sends a model's round-open call, by the webhook's state this round.
WEBHOOK_URLS: dict[str, Callable[[str], str | None]] = {
    "not-sent": lambda dead: None,  # no webhook registered: never called
    "undelivered": lambda dead: dead,  # a URL nothing listens on
}


@dataclass(frozen=True)
class Fault:
    """One injected fault: its kind, the models it targets and its knobs."""

    kind: str
    models: tuple[str, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def options(self) -> dict[str, Any]:
        """The knobs as a dict."""
        return dict(self.params)

    def label(self) -> str:
        """Short text for the per-round line."""
        bits = [*self.models, *(f"{k}={v}" for k, v in self.params if v is not None)]
        return f"{self.kind}({', '.join(bits)})" if bits else self.kind


def _nothing(season: Season, fault: Fault) -> None:
    """No action at this phase."""


@dataclass(frozen=True)
class FaultKind:
    """A kind of fault: what it is, how often, and how the season injects it.

    ``arrange`` runs before the round opens (the webhook phase's knobs), ``later`` when the
    first fallback check runs. ``targeted`` kinds hit one healthy model (its file intact,
    the round not opening nearly closed); ``recoverable`` says whether the bot can still
    submit inside the round.
    """

    group: str
    description: str
    probability: float
    draw: Callable[[random.Random, list[str]], Fault]
    arrange: Callable[[Season, Fault], None] = _nothing
    later: Callable[[Season, Fault], None] = _nothing
    recoverable: bool = True
    targeted: bool = False
    excludes: tuple[str, ...] = ()  # kinds or groups that may not share its round


# -- the fault catalogue ----------------------------------------------------------------------
def _plain(kind: str) -> Callable[[random.Random, list[str]], Fault]:
    return lambda rng, models: Fault(kind)


def _some_models(kind: str) -> Callable[[random.Random, list[str]], Fault]:
    def draw(rng: random.Random, models: list[str]) -> Fault:
        return Fault(kind, tuple(sorted(rng.sample(models, rng.randint(1, len(models))))))

    return draw


def _one_model(kind: str, **knobs: Callable[[random.Random], Any]) -> Callable[..., Fault]:
    def draw(rng: random.Random, models: list[str]) -> Fault:
        params = tuple((name, make(rng)) for name, make in knobs.items())
        return Fault(kind, (rng.choice(models),), params)

    return draw


def _with(kind: str, **knobs: Callable[[random.Random], Any]) -> Callable[..., Fault]:
    def draw(rng: random.Random, models: list[str]) -> Fault:
        return Fault(kind, params=tuple((name, make(rng)) for name, make in knobs.items()))

    return draw


def _burst(season: Season, fault: Fault) -> None:
    o = fault.options
    season.standin.fail_next(o["count"], status=o["status"], operation=o["operation"])


def _timeout(season: Season, fault: Fault) -> None:
    season.standin.set_delay(season.config.timeout + 1.0, operation=fault.options["operation"])


def _slow(season: Season, fault: Fault) -> None:
    season.standin.set_delay(fault.options["delay"])
    season.standin.set_put_behaviour("slow", delay=fault.options["put_delay"])


def _late_create(reuse: str) -> Callable[[Season, Fault], None]:
    def arrange(season: Season, fault: Fault) -> None:
        late = season.config.timeout + fault.options["after"]
        season.standin.slow_creates(late, times=1, reuse=reuse)

    return arrange


# Numerai faults that stop the webhook phase's uploads before their create: a fault that
# needs a create (or a PUT) to happen does not share a round with them.
BEFORE_CREATE = ("timeout", "5xx-burst", "put-reject", "put-drop")
# A lease short enough that a slow PUT spans several renewals (the deployed one is 120 s).
OUTAGE_LEASE = 2.0


def _renewal_outage(season: Season, fault: Fault) -> None:
    season.lambda_.settings.guard_lease = OUTAGE_LEASE
    season.standin.set_put_behaviour("slow", delay=OUTAGE_LEASE, times=1)
    season.proxy.fail_next(
        "dynamodb", "5xx", fault.options["count"], operation="UpdateItem", contains="SET #lease"
    )


# Ids a live file built from a null or empty id column holds, as text.
UNUSABLE_IDS = ("", "nan", "None")


def _unusable_live_ids(season: Season, fault: Fault) -> None:
    season.standin.serve_unusable_live_ids(tuple(fault.options["ids"]))


def _put(mode: str) -> Callable[[Season, Fault], None]:
    def arrange(season: Season, fault: Fault) -> None:
        o = fault.options
        season.standin.set_put_behaviour(mode, status=o.get("status"), times=o["times"])

    return arrange


def _webhook(state: str) -> Callable[[Season, Fault], None]:
    def arrange(season: Season, fault: Fault) -> None:
        for name in fault.models:
            season.webhook_state.setdefault(name, state)

    return arrange


def _twice_delivered(season: Season, fault: Fault) -> None:
    season.lambda_.duplicate.update(fault.models)


def _aws_kind(
    name: str,
    description: str,
    probability: float,
    service: str,
    kind: str,
    counts: tuple[int, int],
    operation: str | None = None,
    target: str | None = None,
    codes: tuple[str, ...] = (),
) -> FaultKind:
    """An AWS fault: the proxy fails the next N matching requests of ``service``.

    ``target`` (formatted with ``round`` and ``model``) narrows it to requests naming one
    model's item or object (e.g. its ledger record), or holding a text (``INPROGRESS``)."""
    per_model = target is not None and "{model}" in target

    def draw(rng: random.Random, models: list[str]) -> Fault:
        params = (("count", rng.randint(*counts)), ("code", rng.choice(codes) if codes else None))
        return Fault(name, (rng.choice(models),) if per_model else (), params)

    def arrange(season: Season, fault: Fault) -> None:
        o = fault.options
        contains = None
        if target is not None:
            model = fault.models[0] if fault.models else ""
            contains = target.format(round=season.number, model=model)
        season.proxy.fail_next(
            service,
            kind,
            o["count"],
            operation=operation,
            contains=contains,
            code=o["code"],
            hold=season.config.aws_timeout + 0.5,
        )

    return FaultKind("aws", description, probability, draw, arrange, targeted=per_model)


THROTTLES = ("ProvisionedThroughputExceededException", "ThrottlingException")
# AWS faults: name, description, probability, then the proxy rule (service, kind, how many
# requests, operation, a text the request must hold, error codes). botocore retries S3 and
# Secrets Manager 3 attempts, DynamoDB 4: a burst within them is absorbed, a longer one
# reaches the bot.
AWS_FAULTS: tuple[tuple[Any, ...], ...] = (
    ("s3-5xx", "S3 answers 500/503 to the next 1-2 requests", 0.1, "s3", "5xx", (1, 2)),
    ("s3-slowdown", "S3 answers 503 SlowDown 1-2 times", 0.1, "s3", "throttle", (1, 2)),
    ("s3-timeout", "an S3 request gets no answer in time", 0.06, "s3", "timeout", (1, 1)),
    ("s3-model-unreadable", "a model's file read fails past the retries (3x 5xx)", 0.05,
     "s3", "5xx", (3, 3), "GetObject", "/models/{model}.onnx"),
    ("dynamodb-5xx", "DynamoDB answers 500 to the next 1-3 requests", 0.1,
     "dynamodb", "5xx", (1, 3)),
    ("dynamodb-throttle", "ProvisionedThroughputExceeded/ThrottlingException 1-3 times", 0.1,
     "dynamodb", "throttle", (1, 3), None, None, THROTTLES),
    ("dynamodb-timeout", "a DynamoDB request gets no answer in time", 0.06,
     "dynamodb", "timeout", (1, 1)),
    ("idempotency-answer-lost", "the guard's IN_PROGRESS put is stored, its answer lost", 0.05,
     "dynamodb", "lost-answer", (1, 1), "PutItem", "INPROGRESS"),
    ("ledger-write-fail", "a model's ledger write is throttled past botocore's 4 attempts and the "
     "bot's 4 tries (16x): 'submitted, not recorded'", 0.06,
     "dynamodb", "throttle", (16, 16), "PutItem", "ledger#{round}#{model}", THROTTLES),
    ("secrets-5xx", "Secrets Manager answers 500 to the next 1-2 requests", 0.06,
     "secretsmanager", "5xx", (1, 2)),
    ("secrets-throttle", "Secrets Manager answers ThrottlingException 1-2 times", 0.06,
     "secretsmanager", "throttle", (1, 2)),
    ("secrets-timeout", "a Secrets Manager request gets no answer in time", 0.04,
     "secretsmanager", "timeout", (1, 1)),
    ("secrets-outage", "Secrets Manager fails 3 requests in a row (a run cannot start)", 0.04,
     "secretsmanager", "5xx", (3, 3)),
)  # fmt: skip


def _kill(point: str) -> FaultKind:
    def arrange(season: Season, fault: Fault) -> None:
        season.arm_kill(point, fault.models[0])

    return FaultKind(
        "kill",
        f"SIGKILL at {point}: {KILL_POINTS[point][0]}",
        0.06,
        _one_model(f"kill-{point}"),
        arrange,
        targeted=True,
        excludes=("kill",),  # one kill a round: a run of several models dies for them all
    )


KINDS: dict[str, FaultKind] = {
    # Numerai (the stand-in's knobs)
    "5xx-burst": FaultKind(
        "numerai",
        "Numerai answers 5xx to the next N calls (one operation or any)",
        0.25,
        _with(
            "5xx-burst",
            count=lambda r: r.randint(1, 8),
            status=lambda r: r.choice((500, 502, 503, 504)),
            operation=lambda r: r.choice((None, *OPERATIONS)),
        ),
        _burst,
    ),
    "timeout": FaultKind(
        "numerai",
        "one Numerai operation answers after the client's timeout",
        0.08,
        _with("timeout", operation=lambda r: r.choice(OPERATIONS)),
        _timeout,
    ),
    "slow": FaultKind(
        "numerai",
        "every Numerai answer and PUT is slow, within the timeout",
        0.1,
        _with("slow", delay=lambda r: round(r.uniform(0.05, 0.4), 2), put_delay=lambda r: 1.0),
        _slow,
    ),
    "create-late": FaultKind(
        "numerai",
        "a create is recorded and answered after the client's timeout (a reused upload "
        "filename would be accepted as a second submission)",
        0.06,
        _with("create-late", after=lambda r: round(r.uniform(0.5, 6.0), 1)),
        _late_create("accept"),
        excludes=("create-late-refused-reuse", *BEFORE_CREATE),
    ),
    "create-late-refused-reuse": FaultKind(
        "numerai",
        "a create is recorded and answered after the client's timeout (a reused upload "
        "filename is refused)",
        0.04,
        _with("create-late-refused-reuse", after=lambda r: round(r.uniform(0.5, 6.0), 1)),
        _late_create("refuse"),
        excludes=BEFORE_CREATE,
    ),
    "renewal-outage": FaultKind(
        "aws",
        "every guard lease renewal fails while a slow PUT outlasts the lease",
        0.04,
        _with("renewal-outage", count=lambda r: 1000),
        _renewal_outage,
        excludes=("slow", "renewal-outage-partial", *BEFORE_CREATE),
    ),
    "renewal-outage-partial": FaultKind(
        "aws",
        "the guard's first lease renewals fail (within botocore's retries) during a slow PUT",
        0.04,
        _with("renewal-outage-partial", count=lambda r: r.randint(1, 3)),
        _renewal_outage,
        excludes=("slow", *BEFORE_CREATE),
    ),
    "put-reject": FaultKind(
        "numerai",
        "the presigned PUT is refused (403 or 5xx) N times",
        0.15,
        _with(
            "put-reject",
            status=lambda r: r.choice((403, 500, 503)),
            times=lambda r: r.randint(1, 3),
        ),
        _put("reject"),
    ),
    "put-drop": FaultKind(
        "numerai",
        "the PUT answers 200 but stores nothing, N times",
        0.1,
        _with("put-drop", times=lambda r: r.randint(1, 2)),
        _put("drop"),
    ),
    "webhook-not-sent": FaultKind(
        "numerai",
        "Numerai never calls a model's webhook",
        0.1,
        _some_models("webhook-not-sent"),
        _webhook("not-sent"),
    ),
    "webhook-undelivered": FaultKind(
        "numerai",
        "Numerai's call to the webhook fails (unreachable)",
        0.08,
        _some_models("webhook-undelivered"),
        _webhook("undelivered"),
    ),
    "webhook-twice": FaultKind(
        "numerai",
        "Numerai calls a model's webhook twice, at once",
        0.12,
        _some_models("webhook-twice"),
        _webhook("twice"),
    ),
    "delivery-twice": FaultKind(
        "lambda",
        "Lambda delivers the worker's async event twice",
        0.12,
        _some_models("delivery-twice"),
        _twice_delivered,
    ),
    "schedule-burst": FaultKind(
        "numerai",
        "a 5xx burst within the retries hits the first fallback check",
        0.15,
        _with(
            "schedule-burst",
            count=lambda r: r.randint(1, 2),
            status=lambda r: r.choice((500, 502, 503, 504)),
            operation=lambda r: r.choice((None, *OPERATIONS)),
        ),
        later=_burst,
    ),
    "live-ids-unusable": FaultKind(
        "numerai",
        "the live file has rows with blank, 'nan' or 'None' ids until Numerai replaces it "
        "(after the webhook phase)",
        0.04,
        _with(
            "live-ids-unusable",
            ids=lambda r: tuple(r.sample(UNUSABLE_IDS, r.randint(1, len(UNUSABLE_IDS)))),
        ),
        _unusable_live_ids,
    ),
    "model-corrupt": FaultKind(
        "bucket",
        "a model file is corrupted in the bucket, fixed rounds later",
        0.04,
        _plain("model-corrupt"),
        recoverable=False,
    ),
    "late-open": FaultKind(
        "numerai",
        "staking closes 10 s after the round opens: late (scored, not staked) beats none",
        0.03,
        _plain("late-open"),
        recoverable=False,
    ),
    # AWS over HTTP in front of moto (see AWS_FAULTS)
    **{row[0]: _aws_kind(*row) for row in AWS_FAULTS},
    # A failed ledger write must meet the model's first run: no lost webhook, no held lock
    # (and no kill of the same model: targeted faults take one model each).
    "ledger-write-fail": dataclasses.replace(
        _aws_kind(*next(r for r in AWS_FAULTS if r[0] == "ledger-write-fail")),
        excludes=("idempotency-answer-lost", "webhook-not-sent", "webhook-undelivered"),
    ),
    # Kills: a worker process SIGKILLs itself at a point, for one model (then Lambda retries)
    **{f"kill-{point}": _kill(point) for point in KILL_POINTS},
}


@dataclass
class SeasonConfig:
    """What to simulate and how."""

    rounds: int = 100
    models: int = 4
    seed: int = 1
    live_rows: int = 1000
    features: int = 100
    timeout: float = 2.0
    fast_retries: bool = False
    launcher: str = "forkserver"
    lambda_timeout: float = 900.0
    aws_timeout: float = 1.0
    workdir: Path | None = None
    verbose: bool = True


# -- counting ---------------------------------------------------------------------------------
SECRET_MARKERS = ("X-Amz-Signature", "X-Amz-Security-Token", "Signature=", "/uploads/")


@dataclass
class KillReport:
    """What the kills at one point led to."""

    armed: int = 0
    fired: int = 0
    submitted_once: int = 0
    duplicates: int = 0
    ledger_agrees: int = 0
    held_off: int = 0  # later runs that met the killed run's IN_PROGRESS record (RETRY)
    recovered_by: Counter = field(default_factory=Counter)


@dataclass
class SeasonReport:
    """The season's counts, from the stand-in's records (ground truth), the ledger and logs."""

    config: SeasonConfig
    expected: int = 0
    on_time: int = 0
    by_schedule: int = 0
    late: int = 0
    late_instead: int = 0  # late where on time was impossible (better than none: not a fault)
    missed: int = 0
    missed_unrecoverable: Counter = field(default_factory=Counter)
    duplicates: int = 0
    invalid: int = 0
    corrupt_uploads: int = 0
    ledger_agreeing: int = 0
    secrets_in_logs: int = 0
    log_files: int = 0
    faults: Counter = field(default_factory=Counter)
    aws_failed_requests: Counter = field(default_factory=Counter)
    runs: Counter = field(default_factory=Counter)
    leftover_in_progress: int = 0
    ledger_write_failures: int = 0
    kills: dict[str, KillReport] = field(
        default_factory=lambda: {p: KillReport() for p in KILL_POINTS}
    )
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unrecoverable(self) -> int:
        """Model-rounds nothing the bot may do could submit in time (by the plan)."""
        return sum(self.missed_unrecoverable.values())

    @property
    def recoverable(self) -> int:
        """Model-rounds the bot must submit."""
        return self.expected - self.unrecoverable

    @property
    def missed_recoverable(self) -> int:
        """Model-rounds the bot should have submitted and did not."""
        return self.missed - self.unrecoverable

    @property
    def ledger_disagreements(self) -> int:
        """Model-rounds where the ledger says otherwise than Numerai."""
        return self.expected - self.ledger_agreeing

    def meets_target(self) -> bool:
        """Every recoverable model-round on time, nothing twice, late or invalid, the ledger
        agreeing with Numerai everywhere, no secret in any log."""
        return (
            self.missed_recoverable == 0
            and self.late == 0
            and self.duplicates == 0
            and self.invalid == 0
            and self.corrupt_uploads == 0
            and self.ledger_disagreements == 0
            and self.secrets_in_logs == 0
        )

    # -- counting from the ground truth ----------------------------------------------------
    def count_round(
        self,
        number: int,
        models: Iterable[str],
        records: list[dict[str, Any]],
        ledger: Ledger,
        unrecoverable: dict[tuple[int, str], str],
        round_faults: str = "none",
    ) -> None:
        """Count one closed round from the stand-in's records and the ledger."""
        mine = [r for r in records if r["round"] == number]
        for r in mine:
            if r["status"] == "rejected":
                self.invalid += 1
                self.problems.append(f"round {number} {r['model_name']}: {r['reason']}")
        for name in models:
            self.expected += 1
            got = [r for r in mine if r["model_name"] == name and r["status"] == "accepted"]
            in_time = [r for r in got if not r.get("late")]
            why = unrecoverable.get((number, name))
            if why and not in_time:  # on time was impossible: late is better than none
                self.late_instead += len(got)
            else:
                self.late += len(got) - len(in_time)
            if not in_time:
                self.missed += 1
                if why:
                    self.missed_unrecoverable[why] += 1
                else:
                    self.problems.append(
                        f"round {number} {name} missed ({len(got)} late); faults: {round_faults}"
                    )
            else:
                self.on_time += 1
                self.by_schedule += in_time[0]["trigger_id"] is None  # webhooks carry one
            if len(got) > 1:
                self.duplicates += len(got) - 1
                self.problems.append(f"round {number} {name} submitted {len(got)} times")
            if got and why == "model file corrupt":
                self.corrupt_uploads += 1
            if ledger_agrees(ledger, number, name, got):
                self.ledger_agreeing += 1
            else:
                stored = ledger.get(number, name)
                self.problems.append(
                    f"round {number} {name}: ledger says "
                    f"{f'{stored.status} {stored.submission_id}' if stored else 'nothing'}, "
                    f"Numerai has {[r['id'] for r in got]}; faults: {round_faults}"
                )

    def count_secrets(self, paths: Iterable[Path], secrets: Iterable[str]) -> None:
        """Count the secrets (and signed URL markers) found in captured log files."""
        needles = [s for s in (*secrets, *SECRET_MARKERS) if s]
        pattern = re.compile("|".join(re.escape(s) for s in needles))
        for path in paths:
            self.log_files += 1
            text = path.read_text(errors="replace")
            found = pattern.findall(text)
            self.ledger_write_failures += text.count('"ledger write failed"')
            if found:
                self.secrets_in_logs += len(found)
                shown = sorted({_mask(s) for s in found})
                self.problems.append(f"{path.name}: {len(found)} secret(s) logged: {shown}")

    # -- output ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-friendly values (``--json``), with the target's verdict."""
        return {
            "rounds": self.config.rounds,
            "models": self.config.models,
            "seed": self.config.seed,
            "expected": self.expected,
            "recoverable": self.recoverable,
            "on_time": self.on_time,
            "by_schedule": self.by_schedule,
            "late": self.late,
            "late_instead": self.late_instead,
            "missed": self.missed,
            "missed_unrecoverable": dict(self.missed_unrecoverable),
            "missed_recoverable": self.missed_recoverable,
            "recoverable_submitted_pct": _pct(
                self.recoverable - self.missed_recoverable, self.recoverable
            ),
            "duplicates": self.duplicates,
            "invalid": self.invalid,
            "corrupt_uploads": self.corrupt_uploads,
            "ledger_agreeing": self.ledger_agreeing,
            "ledger_disagreements": self.ledger_disagreements,
            "ledger_agrees_pct": _pct(self.ledger_agreeing, self.expected),
            "secrets_in_logs": self.secrets_in_logs,
            "log_files": self.log_files,
            "faults": {kind: self.faults[kind] for kind in KINDS},
            "aws_failed_requests": dict(self.aws_failed_requests),
            "runs": dict(self.runs),
            "leftover_in_progress": self.leftover_in_progress,
            "ledger_write_failures": self.ledger_write_failures,
            "kills": {
                point: {
                    "armed": k.armed,
                    "fired": k.fired,
                    "submitted_once": k.submitted_once,
                    "duplicates": k.duplicates,
                    "ledger_agrees": k.ledger_agrees,
                    "held_off": k.held_off,
                    "recovered_by": dict(k.recovered_by),
                }
                for point, k in self.kills.items()
            },
            "problems": self.problems,
            "seconds": round(self.seconds, 1),
            "target_met": self.meets_target(),
        }

    def table(self) -> str:
        """The printed summary."""
        c = self.config
        retry = (
            "fast (3 attempts, 0.01-0.05 s)"
            if c.fast_retries
            else "production (5 attempts, 0.5-8 s)"
        )
        recovered = self.recoverable - self.missed_recoverable
        rows: list[tuple[str, Any]] = [
            ("model-rounds expected", self.expected),
            ("  unrecoverable by design", self.unrecoverable),
            *((f"    {reason}", n) for reason, n in sorted(self.missed_unrecoverable.items())),
            ("  recoverable", self.recoverable),
            ("recoverable submitted on time (target 100 %)", _pct(recovered, self.recoverable)),
            ("  by a webhook's run or its retries", self.on_time - self.by_schedule),
            ("  by a fallback check", self.by_schedule),
            ("  missed (target 0)", self.missed_recoverable),
            ("late, at Numerai: after the staking close (target 0)", self.late),
            ("  late where on time was impossible (better than none)", self.late_instead),
            ("duplicates (target 0)", self.duplicates),
            ("invalid uploads (target 0)", self.invalid),
            ("uploads from a corrupt model (target 0)", self.corrupt_uploads),
            ("ledger = Numerai (target 100 %)", _pct(self.ledger_agreeing, self.expected)),
            (f"secrets in captured logs, {self.log_files} files (target 0)", self.secrets_in_logs),
            ("", ""),
            ("worker processes", self.runs["processes"]),
            ("  killed at a kill point", self.runs["killed"]),
            ("  ended in a function error (Lambda retries it)", self.runs["errors"]),
            ("  Lambda retries among them", self.runs["retries"]),
            ("  fallback checks run", self.runs["checks"]),
            ("  CPU per run, mean (ms)", self.runs["cpu_ms_per_run"]),
            ("fallback checks skipped (nothing left to submit)", self.runs["idle_checks"]),
            ("leftover IN_PROGRESS records seen", self.leftover_in_progress),
            ("ledger writes that failed (logged)", self.ledger_write_failures),
        ]
        lines = [
            f"Season: {c.rounds} rounds x {c.models} models, seed {c.seed}; live data "
            f"{c.live_rows} rows x {c.features} features; Numerai retries {retry}, client "
            f"timeout {c.timeout:g} s; one process per worker run ({c.launcher}), Lambda "
            f"timeout {c.lambda_timeout:g} s, 2 async retries; AWS client timeout "
            f"{c.aws_timeout:g} s",
            "",
            *(f"{name:<56}{value!s:>9}" if name else "" for name, value in rows),
            "",
            "faults injected (times):",
            *(
                f"  {kind:<26}{self.faults[kind]:>4}  {KINDS[kind].description}"
                f"{'' if KINDS[kind].recoverable else '  [unrecoverable]'}"
                for kind in KINDS
            ),
            "",
            "AWS requests failed by the proxy: "
            + (
                ", ".join(f"{k} {n}" for k, n in sorted(self.aws_failed_requests.items())) or "none"
            ),
            "",
            "what each kill led to:",
            f"  {'point':<22}{'armed':>6}{'fired':>6}{'once':>6}{'dup':>5}{'ledger ok':>10}"
            f"{'held off':>9}  recovered by",
            *(
                f"  {point:<22}{k.armed:>6}{k.fired:>6}{k.submitted_once:>6}{k.duplicates:>5}"
                f"{k.ledger_agrees:>10}{k.held_off:>9}  "
                + ", ".join(f"{how} {n}" for how, n in k.recovered_by.most_common())
                for point, k in self.kills.items()
            ),
            "",
            f"target met: {'yes' if self.meets_target() else 'NO'}; "
            f"wall time {self.seconds:.0f} s ({self.seconds / max(c.rounds, 1):.1f} s per round)",
        ]
        if self.problems:
            lines += ["", "problems:", *(f"  {p}" for p in self.problems[:40])]
        return "\n".join(lines)


def ledger_agrees(ledger: Ledger, number: int, name: str, accepted: list[dict[str, Any]]) -> bool:
    """The ledger says SUBMITTED with one of Numerai's accepted ids iff Numerai has one."""
    stored = ledger.get(number, name)
    says_submitted = stored is not None and stored.status == SUBMITTED
    if not accepted:
        return not says_submitted
    return (
        says_submitted
        and stored is not None
        and stored.submission_id in {r["id"] for r in accepted}
    )


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f} %" if whole else "-"


def _mask(secret: str) -> str:
    return secret if secret in SECRET_MARKERS else f"{secret[:4]}..."


# -- the plan ---------------------------------------------------------------------------------
def clash(kind: str, other: str) -> bool:
    """Whether two kinds may not be injected in the same round (either one excludes the
    other, by name or by group)."""
    a, b = KINDS[kind], KINDS[other]
    return bool({other, b.group} & set(a.excludes) or {kind, a.group} & set(b.excludes))


@dataclass
class SeasonPlan:
    """Faults per round, and when each model file is corrupted and fixed."""

    faults: list[list[Fault]]
    corrupt_at: dict[int, list[tuple[str, str]]]
    fixed_at: dict[int, list[str]]


def plan_season(rng: random.Random, rounds: int, models: list[str]) -> SeasonPlan:
    """Draw each round's faults; every kind appears at least once (when rounds allow).

    Targeted faults (kills, a model's ledger write or file read) hit a model whose file is
    intact in a round that does not open nearly closed, so that each one can take effect.
    """
    corrupt_at: dict[int, list[tuple[str, str]]] = {}
    fixed_at: dict[int, list[str]] = {}
    broken: dict[int, set[str]] = {}
    busy: dict[str, int] = {}  # model -> round its file is fixed again

    def corrupt(index: int) -> None:
        free = [m for m in models if busy.get(m, -1) <= index]
        if len(free) < 2:  # keep a healthy model for targeted faults
            return
        model = rng.choice(free)
        until = index + rng.randint(1, 4)
        busy[model] = until
        corrupt_at.setdefault(index, []).append((model, rng.choice(CORRUPTIONS)))
        fixed_at.setdefault(until, []).append(model)
        for i in range(index, until):
            broken.setdefault(i, set()).add(model)

    corrupt(rng.randrange(max(1, rounds - 2)))
    for index in range(rounds):
        if rng.random() < KINDS["model-corrupt"].probability:
            corrupt(index)
    late = {i for i in range(rounds) if rng.random() < KINDS["late-open"].probability}
    late.add(rng.randrange(rounds))
    faults: list[list[Fault]] = [
        [Fault("late-open")] if index in late else [] for index in range(rounds)
    ]
    targeted: dict[int, set[str]] = {}  # one targeted fault per model and round

    def place(index: int, kind: str) -> bool:
        spec = KINDS[kind]
        if any(f.kind == kind or clash(kind, f.kind) for f in faults[index]):
            return False
        candidates = models
        if spec.targeted:
            taken = broken.get(index, set()) | targeted.get(index, set())
            candidates = [m for m in models if m not in taken]
            if index in late or not candidates:
                return False
        fault = spec.draw(rng, candidates)
        if spec.targeted:
            targeted.setdefault(index, set()).update(fault.models)
        faults[index].append(fault)
        return True

    kinds = [k for k in KINDS if k not in ("model-corrupt", "late-open")]
    # Every kind once, in the first round (at random) that can take it; the most
    # constrained (targeted at one healthy model) first.
    for kind in sorted(kinds, key=lambda k: not KINDS[k].targeted):
        any(place(index, kind) for index in rng.sample(range(rounds), rounds))
    for index in range(rounds):
        for kind in rng.sample(kinds, len(kinds)):  # no kind always first to a free slot
            if rng.random() < KINDS[kind].probability:
                place(index, kind)
    return SeasonPlan(faults, corrupt_at, fixed_at)


# -- the bot under test ---------------------------------------------------------------------
def route_logs(path: Path) -> TextIO:
    """The in-process webhook's JSON logs to a file; servers' access logs off the screen.

    numerapi's ``basicConfig`` gives the root logger a stderr handler, which the handlers'
    loggers would also feed (Lambda's runtime owns the root logger; locally nobody does).
    """
    import webhook
    import worker

    stream = path.open("a")
    for module in (worker, webhook):
        module.logger.registered_handler.setStream(stream)
        logging.getLogger(module.logger.name).propagate = False
    for name in ("werkzeug", "numerapi", "standins", "botocore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return stream


def restore_logs() -> None:
    """Handlers' logs back to stdout, as they were."""
    import webhook
    import worker

    for module in (worker, webhook):
        module.logger.registered_handler.setStream(sys.stdout)
        logging.getLogger(module.logger.name).propagate = True


def closed_port_url() -> str:
    """A loopback URL nothing listens on: a webhook call there fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def corrupted(kind: str, good: bytes, features: list[str]) -> bytes:
    """A broken model file of the given kind (loadable or not, all must never be uploaded)."""
    if kind == "truncated":
        return good[: len(good) // 2]
    if kind == "random-bytes":
        return random.Random(len(good)).randbytes(2048)  # noqa: S311 - test data
    if kind == "nan-output":
        return linear_model(features, behaviour="nan")
    return linear_model(features, behaviour="constant")


def in_progress_records(table: Any) -> set[tuple[str, Any]]:
    """powertools' IN_PROGRESS idempotency records in the table: (key, expiry) pairs."""
    from boto3.dynamodb.conditions import Attr

    found: set[tuple[str, Any]] = set()
    kwargs: dict[str, Any] = {"FilterExpression": Attr("status").eq("INPROGRESS")}
    while True:
        page = table.scan(**kwargs)
        found |= {(i["id"], i.get("in_progress_expiration")) for i in page.get("Items", [])}
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# -- one season ------------------------------------------------------------------------------
class Season:
    """Runs the plan on a local bot and keeps what the report needs."""

    def __init__(
        self,
        bot: LocalBot,
        proxy: AwsFaultProxy,
        config: SeasonConfig,
        models: dict[str, str],
        workdir: Path,
    ) -> None:
        import boto3

        self.bot = bot
        self.proxy = proxy
        self.config = config
        self.models = models
        self.workdir = workdir
        assert bot.standin is not None
        self.standin = bot.standin
        self.store = open_model_store(bot.stack.env()["MODEL_STORE_URI"])
        self.ledger = DynamoLedger(bot.stack.table)
        self.table = boto3.resource("dynamodb").Table(bot.stack.table)
        feature_sets = json.loads((self.standin.data.root / "v5.2" / "features.json").read_text())[
            "feature_sets"
        ]
        self.features = {
            name: feature_sets["small" if i % 2 == 0 else "medium"] for i, name in enumerate(models)
        }
        self.good = {
            name: linear_model(self.features[name], seed=i) for i, name in enumerate(models)
        }
        self.clock = SeasonClock()
        env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url}
        env.pop("WORKER_FUNCTION_ARN", None)  # no fan-out below 50 models: no Lambda client
        settings = LambdaSettings(
            env=env,
            workdir=workdir / "lambda",
            lambda_timeout=config.lambda_timeout,
            numerai_timeout=config.timeout,
            fast_retries=config.fast_retries,
            aws_timeout=config.aws_timeout,
        )
        self.lambda_ = ProcessLambda(LAUNCHERS[config.launcher](), settings, self.clock, self.arm)
        self.number = 0
        self.corrupt: set[str] = set()
        self.corruptions = 0
        self.deliveries = 0
        self.webhook_state: dict[str, str] = {}
        self.armed: dict[tuple[str, str], KillSpec] = {}  # (model, point) -> armed this round
        self.kills: list[tuple[int, KillSpec]] = []
        self.in_progress_seen: set[tuple[str, Any]] = set()
        self.closes: dict[int, dt.datetime] = {}
        self.unrecoverable: dict[tuple[int, str], str] = {}
        self.round_faults: dict[int, list[Fault]] = {}
        self.idle_checks = 0

    def setup(self) -> None:
        """Hand the webhook's invocations to worker processes, publish the models, register
        each model's webhook."""
        import webhook

        self.bot.invoker = self.lambda_  # type: ignore[assignment]
        self.bot.webhook_handler = webhook.create_handler(lambda _settings: self.lambda_)
        for name, data in self.good.items():
            self.bot.publish(name, data)
        for name, model_id in self.models.items():
            self.standin.tournament.set_webhook(model_id, self.bot.webhook_url(name))

    # -- kills -----------------------------------------------------------------------------
    def arm_kill(self, point: str, model: str) -> None:
        """Arm a kill at ``point`` for ``model`` this round (it fires in one process)."""
        marker = self.workdir / "lambda" / "kills" / f"{self.number}-{model}-{point}.fired"
        self.armed[(model, point)] = KillSpec(point, model, self.models[model], str(marker))

    def arm(self, event: dict[str, Any], origin: str) -> KillSpec | None:
        """The kill a run about to start carries: the first armed one for a model it runs."""
        if self.clock.now() >= KILL_WINDOW:
            return None
        wanted = event.get("models")
        for (model, _point), spec in self.armed.items():
            if (wanted is None or model in wanted) and not Path(spec.marker).exists():
                return spec
        return None

    # -- a round -----------------------------------------------------------------------------
    def play(self, number: int, faults: list[Fault], corrupt: list, fixed: list[str]) -> None:
        """One round: model files, the webhook phase with its faults, Lambda's retries, the
        fallback checks, the close."""
        self.number = number
        self.round_faults[number] = faults
        self._swap_files(corrupt, fixed)
        late = any(f.kind == "late-open" for f in faults)
        for name in self.models:
            if name in self.corrupt:
                self.unrecoverable[(number, name)] = "model file corrupt"
            elif late:
                self.unrecoverable[(number, name)] = "round opened nearly closed"
        self._webhook_phase(faults, late)
        self._checks(faults)
        self._close()

    def _swap_files(self, corrupt: list[tuple[str, str]], fixed: list[str]) -> None:
        for name in fixed:
            self.bot.publish(name, self.good[name])
            self.corrupt.discard(name)
        for name, how in corrupt:
            self.store.write(f"{name}.onnx", corrupted(how, self.good[name], self.features[name]))
            self.corrupt.add(name)
            self.corruptions += 1

    def _webhook_phase(self, faults: list[Fault], late: bool) -> None:
        """Arrange the faults, open the round: Numerai calls the webhooks, each hand-off
        starts a worker process; wait for them all."""
        standin, tournament = self.standin, self.standin.tournament
        standin.reset_knobs()
        self.proxy.reset()
        self.webhook_state, self.armed = {}, {}
        self.lambda_.round, self.lambda_.origin = self.number, "webhook"
        self.lambda_.duplicate = set()
        self.lambda_.settings.guard_lease = None
        for fault in faults:
            KINDS[fault.kind].arrange(self, fault)
        self.kills += [(self.number, spec) for spec in self.armed.values()]
        dead = closed_port_url()
        for name, state in self.webhook_state.items():
            if state in WEBHOOK_URLS:
                tournament.set_webhook(self.models[name], WEBHOOK_URLS[state](dead))
        self.clock.open_round()
        window = LATE_WINDOW if late else STAKING_WINDOW
        standin.open_round(self.number, window=window + LATE_GRACE)
        opened = _parse(standin.state_summary()["round"]["openTime"])
        standin.set_round_times(close_staking_time=opened + window)
        states = list(self.webhook_state.values())
        self.deliveries += len(self.models) - states.count("not-sent")
        for name, state in self.webhook_state.items():
            if state == "twice":
                tournament.trigger_webhook(self.models[name])
                self.deliveries += 1
        standin.wait_for_deliveries(self.deliveries, timeout=120)
        self.lambda_.wait()
        for name in self.webhook_state:
            tournament.set_webhook(self.models[name], self.bot.webhook_url(name))
        self.lambda_.duplicate = set()
        standin.reset_knobs()  # Numerai's outage is over; AWS's lasts to the first check
        self._note_in_progress()

    def _checks(self, faults: list[Fault]) -> None:
        """Lambda's retries as they fall due, the fallback checks at +15, +30, +45 min."""
        first = True
        for moment in CHECKS:
            self.lambda_.run_until(moment)
            if moment > CHECKS[0]:
                self.proxy.reset()
            self._note_in_progress()
            if moment > CHECKS[0] and self._nothing_to_do(self.number):
                self.idle_checks += 1
                continue
            self._let_slow_creates_land()
            self.clock.advance_to(moment)
            origin = f"check+{moment / 60:.0f}"
            self.lambda_.origin = origin
            if first:
                for fault in faults:
                    KINDS[fault.kind].later(self, fault)
                first = False
            self.lambda_.start({"source": "schedule"}, origin)
            self.lambda_.wait()
            self.standin.reset_knobs()
        self.lambda_.run_until(ROUND_LENGTH)
        self._note_in_progress()
        self.lambda_.drop_pending()
        self.proxy.reset()
        self.clock.advance_to(ROUND_LENGTH)

    def _let_slow_creates_land(self) -> None:
        """Season time skips idle minutes, not Numerai's work: a create Numerai is still
        processing (a late-create fault, seconds of wall time) lands before the season jumps
        to a check. Otherwise a create of seconds would land, in season time, after the
        guard's 10-minute settle window, a case the bot accepts by design (see
        docs/faults.md) and the season would count as its duplicate."""
        wait = self.standin.faults.slow_creates_land_by() + 0.5 - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def _nothing_to_do(self, number: int) -> bool:
        """Whether a check could only skip every model: the ledger says SUBMITTED for each,
        except models whose file is corrupt (the check would fail them once more)."""
        for name in self.models:
            stored = self.ledger.get(number, name)
            if (stored is None or stored.status != SUBMITTED) and name not in self.corrupt:
                return False
        return True

    def _note_in_progress(self) -> None:
        """Remember IN_PROGRESS records present while no run is alive: left by dead runs."""
        self.in_progress_seen |= in_progress_records(self.table)

    def _close(self) -> None:
        """Close the round now for everything (staked or late), and remember when."""
        now = dt.datetime.now(dt.UTC)
        self.standin.set_round_times(close_staking_time=now, close_time=now)
        self.closes[self.number] = now

    # -- the report --------------------------------------------------------------------------
    def report(self, seconds: float) -> SeasonReport:
        """Count from the stand-in's records, the ledger and the captured logs."""
        report = SeasonReport(self.config, seconds=seconds)
        for faults in self.round_faults.values():
            report.faults.update(f.kind for f in faults)
        report.faults["model-corrupt"] = self.corruptions
        records = self.standin.submissions()
        for number in sorted(self.closes):
            faults = ", ".join(f.label() for f in self.round_faults[number]) or "none"
            report.count_round(
                number, self.models, records, self.ledger, self.unrecoverable, faults
            )
        logs = sorted((self.workdir / "lambda" / "logs").glob("*.log"))
        logs.append(self.workdir / "handlers.log")
        report.count_secrets(logs, (self.bot.token, self.standin.secret_key))
        report.aws_failed_requests.update(self.proxy.injected)
        report.leftover_in_progress = len(self.in_progress_seen)
        report.runs.update(self._run_counts())
        self._kill_report(report, records)
        return report

    def _run_counts(self) -> Counter:
        runs = self.lambda_.runs
        cpu = [r.cpu_seconds for r in runs if r.cpu_seconds is not None]
        return Counter(
            cpu_ms_per_run=round(1000 * sum(cpu) / max(len(cpu), 1)),
            processes=len(runs),
            killed=sum(r.fired is not None for r in runs),
            errors=sum(r.exit_code not in (0, KILLED) for r in runs),
            retries=sum(r.attempt > 0 for r in runs),
            checks=sum(r.origin.startswith("check") and r.attempt == 0 for r in runs),
            idle_checks=self.idle_checks,
        )

    def _kill_report(self, report: SeasonReport, records: list[dict[str, Any]]) -> None:
        """For each armed kill: did it fire, and what followed for its model."""
        for number, spec in self.kills:
            k = report.kills[spec.point]
            k.armed += 1
            runs = self.lambda_.runs_of(number)
            killed = next(
                (r for r in runs if r.fired and r.kill and r.kill.marker == spec.marker), None
            )
            if killed is None:
                continue
            k.fired += 1
            got = [
                r
                for r in records
                if r["round"] == number
                and r["model_name"] == spec.model
                and r["status"] == "accepted"
            ]
            k.submitted_once += len(got) == 1
            k.duplicates += max(0, len(got) - 1)
            k.ledger_agrees += ledger_agrees(self.ledger, number, spec.model, got)
            after = [r for r in runs if r.started >= killed.started and r is not killed]
            outcomes = [(r, r.outcome(spec.model)) for r in after]
            k.held_off += sum(o == "retry" for _, o in outcomes)
            done = next(
                (
                    (r, o)
                    for r, o in outcomes
                    if o in ("submitted", "found at Numerai", "skipped (guard's stored result)")
                ),
                None,
            )
            k.recovered_by[f"{done[0].label}: {done[1]}" if done else "nothing"] += 1


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def simulate(config: SeasonConfig, progress: Callable[[str], None] | None = print) -> SeasonReport:
    """Run a whole season on fresh local stand-ins; the report."""
    from aws_lambda_powertools.utilities import parameters

    started = time.monotonic()
    rng = random.Random(config.seed)  # noqa: S311 - a reproducible simulation, not crypto
    names = [f"sim_model_{i + 1}" for i in range(config.models)]
    models = {n: str(uuid.uuid5(uuid.NAMESPACE_URL, f"season:{n}")) for n in names}
    plan = plan_season(rng, config.rounds, names)
    with tempfile.TemporaryDirectory(prefix="season-") as tmp:
        workdir = config.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        parameters.clear_caches()  # secrets of another local bot in this process
        stream = route_logs(workdir / "handlers.log")
        servers = (workdir / "servers.log").open("a")
        try:
            # Lambda prints metrics (EMF) to stdout: into the log file with the rest. The
            # servers' own complaints (a killed worker resets its connections) to another.
            with (
                contextlib.redirect_stdout(stream),
                contextlib.redirect_stderr(servers),
                LocalBot(
                    workdir,
                    models=models,
                    round_number=FIRST_ROUND - 1,
                    live_rows=config.live_rows,
                    n_features=config.features,
                    train_eras=4,
                    validation_eras=2,
                    rows_per_era=20,
                ) as bot,
                AwsFaultProxy(bot.stack.endpoint_url) as proxy,
            ):
                season = Season(bot, proxy, config, models, workdir)
                season.setup()
                for index in range(config.rounds):
                    number = FIRST_ROUND + index
                    round_started = time.monotonic()
                    season.play(
                        number,
                        plan.faults[index],
                        plan.corrupt_at.get(index, []),
                        plan.fixed_at.get(index, []),
                    )
                    if progress is not None and config.verbose:
                        progress(_round_line(season, number, time.monotonic() - round_started))
                stream.flush()
                report = season.report(time.monotonic() - started)
        finally:
            restore_logs()
            stream.close()
            servers.close()
            parameters.clear_caches()
    return report


def _round_line(season: Season, number: int, seconds: float) -> str:
    got = {
        r["model_name"]
        for r in season.standin.submissions()
        if r["round"] == number and r["status"] == "accepted"
    }
    runs = season.lambda_.runs_of(number)
    killed = [f"{r.fired}@{r.label}" for r in runs if r.fired]
    calls = [
        d for d in season.standin.webhook_deliveries() if d["payload"].get("roundNumber") == number
    ]
    answered = sum(d["status"] == 200 for d in calls)
    errors = sorted({str(d["error"] or d["status"]) for d in calls if d["status"] != 200})
    faults = ", ".join(f.label() for f in season.round_faults[number]) or "-"
    corrupt = ",".join(sorted(season.corrupt)) or "-"
    return (
        f"round {number}: {len(got)}/{len(season.models)} submitted  {seconds:5.1f} s  "
        f"webhooks {answered}/{len(calls)}{' (' + '; '.join(errors) + ')' if errors else ''}"
        f"  runs {len(runs)}"
        f"{'  killed ' + ' '.join(killed) if killed else ''}  "
        f"corrupt: {corrupt}  faults: {faults}"
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print the per-round lines and the season's table."""
    # Each worker run flushes metrics; a run that submitted nothing warns about it.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--live-rows", type=int, default=1000, help="live rows per round")
    parser.add_argument("--features", type=int, default=100, help="features in the data")
    parser.add_argument("--timeout", type=float, default=2.0, help="Numerai client timeout, s")
    parser.add_argument(
        "--fast-retries", action="store_true", help="retry with ~0 s backoff (default: production)"
    )
    parser.add_argument(
        "--launcher",
        choices=sorted(LAUNCHERS),
        default="forkserver",
        help="how worker processes start: forked from a preloaded server, or fresh interpreters",
    )
    parser.add_argument("--lambda-timeout", type=float, default=900.0, help="seconds")
    parser.add_argument("--aws-timeout", type=float, default=1.0, help="AWS client timeout, s")
    parser.add_argument("--workdir", type=Path, help="keep data and every run's log here")
    parser.add_argument("--quiet", action="store_true", help="only the final table")
    parser.add_argument("--json", type=Path, help="also write the counts to this JSON file")
    args = parser.parse_args(argv)
    config = SeasonConfig(
        rounds=args.rounds,
        models=args.models,
        seed=args.seed,
        live_rows=args.live_rows,
        features=args.features,
        timeout=args.timeout,
        fast_retries=args.fast_retries,
        launcher=args.launcher,
        lambda_timeout=args.lambda_timeout,
        aws_timeout=args.aws_timeout,
        workdir=args.workdir,
        verbose=not args.quiet,
    )
    out = sys.stdout
    report = simulate(config, progress=lambda line: print(line, file=out, flush=True))
    print()
    print(report.table())
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0 if report.meets_target() else 1


if __name__ == "__main__":
    sys.exit(main())
