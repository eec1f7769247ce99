"""The ledger's side of a round: each model's outcome written as a record, and the churn
alerts a submitted model raises. A failed ledger write is retried, then logged, never
allowed to hide the outcome; a submission the ledger missed says so and alerts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from numerai_bot.churn import Movement
from numerai_bot.events import WorkerRequest
from numerai_bot.ledger import FAILED, SUBMITTED, LedgerRecord
from numerai_bot.outcomes import NOT_RECORDED, RETRY, SKIPPED, WAITING, ModelOutcome
from numerai_bot.ports import Ledger
from numerai_bot.retry import RetryPolicy, call_with_retry
from numerai_bot.round.exactly_once import Uploaded
from numerai_bot.round.job import ModelJob

logger = logging.getLogger(__name__)

# A ledger write after a good upload: a few quick tries beyond botocore's own, so that a
# throttling burst does not leave the ledger behind Numerai until the next scheduled check.
LEDGER_RETRY = RetryPolicy(attempts=4, base_delay=0.5, max_delay=4.0)


class RoundRecords:
    """Turns what happened to each model into its outcome and ledger record."""

    def __init__(
        self,
        ledger: Ledger,
        clock: Callable[[], float] = time.monotonic,
        retry: RetryPolicy = LEDGER_RETRY,
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.retry = retry

    def already_submitted(self, job: ModelJob) -> ModelOutcome | None:
        """The SKIPPED outcome of a model the ledger says is submitted for the round.

        Raises :class:`BotError` when the ledger cannot be read: upload nothing on a guess.
        """
        done = self.ledger.get(job.round_number, job.name, job.tournament.id)
        if done is not None and done.status == SUBMITTED:
            return outcome(
                job, SKIPPED, f"already submitted ({done.submission_id})", done.submission_id
            )
        return None

    def not_done(
        self, job: ModelJob, request: WorkerRequest, status: str, detail: str
    ) -> ModelOutcome:
        """A model neither submitted nor failed: held by another run (RETRY) or waiting for
        its own data (WAITING, recorded so that ``status`` shows why)."""
        if status == RETRY:
            logger.warning("model not done; retry later", extra={"model": job.name, "why": detail})
            return outcome(job, status, detail)
        logger.info("model waiting for its own data", extra={"model": job.name, "why": detail})
        seconds = round(self.clock() - job.started, 3)
        self._write(_record(job, request, WAITING, seconds, error=detail))
        return outcome(job, status, detail, seconds=seconds)

    def failed(self, job: ModelJob, request: WorkerRequest, error: str) -> ModelOutcome:
        """Log and record why the model was not submitted."""
        seconds = round(self.clock() - job.started, 3)
        logger.error("model not submitted", extra={"model": job.name, "error": error})
        self._write(_record(job, request, FAILED, seconds, error=error))
        return outcome(job, FAILED, error, seconds=seconds)

    def submitted(
        self, job: ModelJob, request: WorkerRequest, done: Uploaded, moved: Movement | None
    ) -> ModelOutcome:
        """Record a submission Numerai holds (sent by this run or not); alert on churn."""
        seconds = round(self.clock() - job.started, 3)
        moved = moved if done.by_this_run else None
        recorded = self._write(
            _record(
                job,
                request,
                SUBMITTED,
                seconds,
                submission_id=done.submission_id,
                rows=done.rows,
                artifact_version=job.version,
                forced=request.force and done.by_this_run,
                churn=moved.churn if moved else None,
                turnover=moved.turnover if moved else None,
            )
        )
        if not done.by_this_run:  # another invocation, or a killed one: Numerai has it
            where = "found at Numerai" if done.found_at_numerai else "by another invocation"
            return outcome(
                job,
                SKIPPED,
                f"already submitted ({done.submission_id}, {where})",
                done.submission_id,
            )
        logger.info(
            "model submitted",
            extra={
                "model": job.name,
                "tournament": job.tournament.name,
                "round": job.round_number,
                "submission_id": done.submission_id,
                "rows": done.rows,
                "seconds": seconds,
            },
        )
        late = "late: after the staking close; scored, not staked" if job.late else ""
        detail = "; ".join(filter(None, [done.note, late]))
        result = outcome(job, SUBMITTED, detail, done.submission_id, done.rows, seconds)
        reasons = []
        if not recorded:
            unrecorded = f"{NOT_RECORDED}: the ledger write failed; the next check records it"
            result.recorded = False
            result.detail = "; ".join(filter(None, [result.detail, unrecorded]))
            reasons.append(NOT_RECORDED)
        if moved is not None:
            result.churn, result.turnover = moved.churn, moved.turnover
            alert = churn_alert(job, moved)
            if alert:
                result.detail = "; ".join(filter(None, [result.detail, alert]))
                figures = f"churn {_figure(moved.churn)}, turnover {_figure(moved.turnover)}"
                reasons.append(moved.unreadable or figures)
        low = coverage_alert(job)
        if low:
            result.detail = "; ".join(filter(None, [result.detail, low]))
            reasons.append(low)
        if reasons:
            result.alert, result.alert_reason = True, "; ".join(reasons)
        return result

    def _write(self, record: LedgerRecord) -> bool:
        """Write the ledger, retrying a failed write; whether it holds the record now. A
        write that still fails is logged, never allowed to hide the outcome.

        A write refused by the ledger's rule (a FAILED over a SUBMITTED, an older attempt
        over a newer one) is normal when runs overlap: the newer truth stays.
        """
        try:
            written = call_with_retry(
                lambda: self.ledger.put(record), self.retry, retry_on=(Exception,)
            )
        except Exception as error:  # the submission itself stands; say the ledger missed it
            logger.error(
                "ledger write failed",
                extra={"model": record.model_name, "error": type(error).__name__},
            )
            return False
        if written is False:
            logger.info(
                "ledger already holds a newer or successful record; kept it",
                extra={"model": record.model_name, "status": record.status},
            )
        return True


def _record(
    job: ModelJob, request: WorkerRequest, status: str, seconds: float, **fields: Any
) -> LedgerRecord:
    """The model's ledger record for this attempt, with what every status records."""
    return LedgerRecord(
        job.round_number,
        job.name,
        status,
        model_id=job.model_id,
        trigger_id=request.trigger_id or "",
        artifact=job.config.artifact,
        source=request.source,
        seconds=seconds,
        tournament=job.tournament.id,
        started_at=job.started_at,
        input=job.config.input.source,
        coverage=_share(job),
        **fields,
    )


def churn_alert(job: ModelJob, moved: Movement) -> str | None:
    """Why the submission's churn or turnover deserves an alert, or None."""
    config = job.config
    if moved.unreadable:  # no comparison: the kept file was set aside, say which
        return moved.unreadable
    high_churn = moved.churn is not None and moved.churn >= config.churn_alert
    high_turnover = moved.turnover is not None and moved.turnover >= config.turnover_alert
    if not (high_churn or high_turnover):
        return None
    return (
        f"churn {_figure(moved.churn)} / turnover {_figure(moved.turnover)} against "
        f"round {moved.previous_round}: above the alert thresholds "
        f"({config.churn_alert} / {config.turnover_alert})"
    )


def coverage_alert(job: ModelJob) -> str | None:
    """Why the own table's coverage of the universe deserves an alert, or None."""
    covered, threshold = job.coverage, job.config.input.coverage_alert
    if covered is None or covered.share >= threshold:
        return None
    return (
        f"own data covers {covered.share:.1%} of Numerai's universe ({covered.covered} of "
        f"{covered.universe} ids), below coverage_alert {threshold}"
    )


def outcome(
    job: ModelJob,
    status: str,
    detail: str,
    submission_id: str = "",
    rows: int = 0,
    seconds: float = 0.0,
) -> ModelOutcome:
    """The model's outcome in this run."""
    return ModelOutcome(
        job.name,
        status,
        detail,
        submission_id,
        rows,
        seconds,
        job.tournament.name,
        job.round_number,
        input=job.config.input.source,
        coverage=_share(job),
    )


def _share(job: ModelJob) -> float | None:
    return round(job.coverage.share, 4) if job.coverage is not None else None


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
