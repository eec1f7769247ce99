"""Where an upload becomes exactly-once: one submission per (tournament, round, model).

The guard (a :class:`~numerai_bot.ports.SubmissionGuard`; deployed, the DynamoDB one in
:mod:`numerai_bot.adapters.dynamodb_guard`) lets one invocation at a time upload a model for a
round; inside it, Numerai is asked first, because it is the source of truth and the ledger
can lag: a submission it already holds for the round (a worker killed after
``create_submission``) is returned, not repeated. A forced run uploads again on purpose and
tells Numerai which earlier submission it replaces.

A create whose answer was lost and that Numerai does not list yet leaves the model pending
(:class:`~numerai_bot.errors.SubmissionUnconfirmed`): the guard keeps its record, and every
run that meets it asks Numerai again instead of uploading.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from numerai_bot.errors import SubmissionUnconfirmed
from numerai_bot.events import WorkerRequest
from numerai_bot.ports import NumeraiPort, RemainingTime, SubmissionGuard
from numerai_bot.round.job import CheckedFile, ModelJob

logger = logging.getLogger(__name__)

LATE_NOTE = "create answered late; found at Numerai"


class NoGuard:
    """No cross-invocation guard: for unit tests and single-process local runs."""

    def run_once(
        self, round_number: int, model: str, action: Callable[[], dict], tournament: int = 8
    ) -> dict:
        """Just run it."""
        return action()

    def register_context(self, context: RemainingTime | None) -> None:
        """Nothing to bound: no records are kept."""

    def prove_held(self) -> None:
        """No lock, nothing to prove."""


@dataclass(frozen=True)
class Uploaded:
    """A model's submission for the round, and who made it."""

    submission_id: str
    rows: int
    by_this_run: bool  # False: another invocation (or a killed one) had already submitted
    found_at_numerai: bool = False  # Numerai held it before this run asked
    note: str = ""  # how it was settled, when not by create's own answer

    def to_record(self) -> dict:
        """What the guard stores as the action's result."""
        record: dict = {"submission_id": self.submission_id, "rows": self.rows}
        if self.found_at_numerai:
            record["found"] = True
        return record


class ExactlyOnceUpload:
    """Uploads a checked file at most once per (tournament, round, model)."""

    def __init__(self, numerai: NumeraiPort, guard: SubmissionGuard | None = None) -> None:
        self.numerai = numerai
        self.guard = guard or NoGuard()

    def upload(self, job: ModelJob, request: WorkerRequest, file: CheckedFile) -> Uploaded:
        """Upload under the guard; what Numerai now holds and whether this call sent it."""
        tournament = job.tournament
        sent: list[Uploaded] = []
        found: list[Uploaded] = []
        sending: list[bool] = []  # this run reached the upload (its create may be the one)

        def upload() -> dict:
            held = self.numerai.round_submission(job.model_id, job.round_number, tournament)
            if held is not None and not request.force:
                found.append(Uploaded(str(held["id"]), file.rows, False, True))
                return found[0].to_record()
            earlier = frozenset({str(held["id"])}) if held is not None else frozenset()
            sending.append(True)
            created = self.numerai.upload_submission(
                job.model_id,
                file.body,
                f"{job.name}-{tournament.name}-round{job.round_number}.csv",
                request.trigger_id,
                tournament,
                job.round_number,
                earlier,
                proof=self.guard.prove_held,
            )
            note = LATE_NOTE if created.answered_late else ""
            sent.append(Uploaded(created.submission_id, file.rows, True, note=note))
            return sent[0].to_record()

        try:
            if request.force:
                upload()
                return sent[0]
            done = self.guard.run_once(job.round_number, job.name, upload, tournament.id)
        except SubmissionUnconfirmed:
            if request.force:  # the client already looked, past the submission it replaces
                raise
            # Ours or an earlier run's create may still land: Numerai alone can settle it.
            return self._reconcile(job, file, by_this_run=bool(sending))
        except Exception as error:
            if not sent:
                raise
            # Numerai has it; only the guard's bookkeeping failed afterwards.
            logger.warning(
                "submitted, but could not record it",
                extra={"model": job.name, "error": type(error).__name__},
            )
            return sent[0]
        if sent:
            return sent[0]
        if found:
            return found[0]
        # The guard returned the result another invocation stored.
        return Uploaded(
            str(done["submission_id"]), int(done["rows"]), False, bool(done.get("found"))
        )

    def _reconcile(self, job: ModelJob, file: CheckedFile, by_this_run: bool) -> Uploaded:
        """The submission an unconfirmed create made, if Numerai lists it now; else the
        model stays pending (:class:`SubmissionUnconfirmed` again) and nothing is sent."""
        held = self.numerai.round_submission(job.model_id, job.round_number, job.tournament)
        if held is None:
            logger.warning(
                "pending: Numerai has not confirmed the create; will reconcile next run",
                extra={"model": job.name},
            )
            raise SubmissionUnconfirmed(
                "pending: a create reached Numerai but Numerai has not confirmed it; "
                "will reconcile next run"
            )
        logger.warning(LATE_NOTE, extra={"model": job.name, "submission_id": str(held["id"])})
        return Uploaded(str(held["id"]), file.rows, by_this_run, not by_this_run, LATE_NOTE)
