"""The round's orchestration: submit the open round of each tournament for the configured
models, each model isolated from the others.

It reads as the round does: fresh keys, the selected models, each tournament's open round,
the account's models, then either shards handed to other workers or every model here,
through predict lanes with uploads behind them; a summary, the schedule's close check and a
notice. Each step lives in a room of its own in this package (:mod:`.window`,
:mod:`.selection`, :mod:`.lanes`, :mod:`.inputs`, :mod:`.model_work`, :mod:`.exactly_once`,
:mod:`.records`,
:mod:`.fan_out`); the runner knows nothing of Lambda and talks to the world only through
:mod:`numerai_bot.ports`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from numerai_bot.churn import Movement, SubmissionArchive
from numerai_bot.errors import AlreadyInProgress, BotError, OwnDataNotReady, RoundClosed
from numerai_bot.events import WorkerRequest
from numerai_bot.inference import ModelCache
from numerai_bot.ledger import FAILED
from numerai_bot.live_data import LiveDataCache
from numerai_bot.models_config import BrokenEntry, ModelConfig, load_models_entries
from numerai_bot.outcomes import (
    CLOSED,
    RETRY,
    SKIPPED_LATE,
    WAITING,
    ModelOutcome,
    RoundResult,
    summarize,
)
from numerai_bot.ports import (
    AccountModel,
    Ledger,
    ModelStore,
    Notifier,
    NumeraiPort,
    RemainingTime,
    RoundInfo,
    SubmissionGuard,
    WorkerInvoker,
)
from numerai_bot.postprocess.live_era import VersionFiles
from numerai_bot.redact import redact
from numerai_bot.round.exactly_once import ExactlyOnceUpload, NoGuard, Uploaded
from numerai_bot.round.fan_out import FanOut
from numerai_bot.round.inputs import ModelInputs
from numerai_bot.round.job import ModelJob, Predictions
from numerai_bot.round.lanes import LaneTurn, lane_count, run_in_lanes
from numerai_bot.round.model_work import ModelWork
from numerai_bot.round.records import RoundRecords, outcome
from numerai_bot.round.selection import account_model, select
from numerai_bot.round.window import (
    closed_for_submissions,
    data_date_before,
    late_submission,
    prediction_budget,
    run_deadline,
    skipped_late,
    too_late_to_start,
)
from numerai_bot.round_close import RoundCloseCheck
from numerai_bot.tournaments import TOURNAMENTS, Tournament

logger = logging.getLogger(__name__)


class NotStarted(BotError):
    """Too little time was left to start the model."""


# Errors that leave a model not done but not failed: the status its outcome gets instead.
NOT_DONE: dict[type[BotError], str] = {AlreadyInProgress: RETRY, OwnDataNotReady: WAITING}


@dataclass(frozen=True)
class OpenRound:
    """A tournament's open round and this run's deadline for it (``clock()`` seconds)."""

    info: RoundInfo
    deadline: float | None
    late: bool = False  # staking has closed; the round still takes (unstaked) submissions


@dataclass(frozen=True)
class Delivered:
    """What the upload stage hands back: Numerai's submission and the file's churn."""

    uploaded: Uploaded
    moved: Movement | None


class RoundRunner:
    """Submits each tournament's open round for the configured models (module docstring)."""

    def __init__(
        self,
        numerai: NumeraiPort,
        store: ModelStore,
        ledger: Ledger,
        live_data: LiveDataCache,
        models: ModelCache,
        guard: SubmissionGuard | None = None,
        fanout: WorkerInvoker | None = None,
        shard_size: int = 50,
        max_shards: int = 9,
        notifier: Notifier | None = None,
        refresh_credentials: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        archive: SubmissionArchive | None = None,
        lanes: int | None = None,
        inputs: ModelInputs | None = None,
    ) -> None:
        self.numerai = numerai
        self.store = store
        self.ledger = ledger
        self.guard = guard or NoGuard()
        self.notifier = notifier
        # Called at the start of each run: rotated keys reach a warm worker (secret cache).
        self.refresh_credentials = refresh_credentials
        self.clock = clock
        self.lanes = lanes  # models predicting at once (None: one per vCPU)
        self.live_data = live_data
        self.work = ModelWork(
            models,
            inputs or ModelInputs.numerai_only(live_data),
            archive,
            VersionFiles(live_data),
        )
        self.uploads = ExactlyOnceUpload(numerai, self.guard)
        self.records = RoundRecords(ledger, clock)
        self.fan_out = (
            FanOut(fanout, live_data, shard_size, max_shards) if fanout is not None else None
        )

    def run(
        self,
        request: WorkerRequest,
        deadline: float | None = None,
        invocation: RemainingTime | None = None,
    ) -> RoundResult:
        """Ask Numerai for each tournament's open round, then submit every selected model
        still missing.

        ``deadline`` (``clock()`` seconds) is when this invocation must stop, e.g. the
        Lambda's timeout; each round's own close time is taken into account as well.
        ``invocation`` is the running invocation's clock (Lambda's context), which the
        guard's records must not outlive. Failures, churn alerts and whatever a scheduled
        run submitted reach the notifier; a check that found nothing to do notifies nobody.
        """
        if invocation is not None:
            self.guard.register_context(invocation)
        try:
            result = self._run(request, deadline)
        finally:  # no load outlives the invocation (Lambda freezes it on return)
            self.live_data.settle()
        if request.source == "schedule":
            self._check_closed_rounds(result)
        worth_telling = result.failed or result.status == "failed" or result.alerts
        if request.source == "schedule" and result.submitted:
            worth_telling = True
        if self.notifier is not None and worth_telling:
            try:
                self.notifier.notify(result)
            except Exception as error:  # the round's outcome stands; say the alert failed
                logger.error("notification failed", extra={"error": type(error).__name__})
        return result

    # -- the run ---------------------------------------------------------------------------
    def _run(self, request: WorkerRequest, deadline: float | None) -> RoundResult:
        if self.refresh_credentials is not None:
            try:
                self.refresh_credentials()
            except BotError as error:
                logger.error("cannot read the Numerai keys", extra={"error": str(error)})
                return RoundResult(None, "failed", str(error))
        self.numerai.set_deadline(deadline)
        try:
            configs, broken = load_models_entries(self.store)
            configs, broken = select(configs, broken, request)
        except BotError as error:
            logger.error("cannot start the round", extra={"error": str(error)})
            return RoundResult(None, "failed", str(error))
        outcomes = [_broken(entry) for entry in broken]
        groups = {t: [c for c in configs if c.tournament == t] for t in TOURNAMENTS.values()}
        groups = {t: group for t, group in groups.items() if group}
        rounds: dict[str, int | None] = {}
        open_rounds: dict[Tournament, OpenRound] = {}
        for tournament, group in groups.items():
            found = self._open_round(tournament, request, deadline)
            if isinstance(found, str):  # closed, or Numerai could not say: each model says so
                rounds[tournament.name] = None
                status = CLOSED if found.startswith("no ") else FAILED
                outcomes += [
                    ModelOutcome(c.name, status, found, tournament=tournament.name) for c in group
                ]
                continue
            rounds[tournament.name] = found.info.number
            open_rounds[tournament] = found
        if not open_rounds:
            reasons = dict.fromkeys(o.detail for o in outcomes if o.status in (CLOSED, FAILED))
            return summarize(rounds, outcomes, nothing_open=True, message="; ".join(reasons))
        try:
            account = self.numerai.account_models()
        except BotError as error:  # e.g. revoked keys: every selected model says why
            message = f"cannot list the account's models: {error}"
            for tournament, found in open_rounds.items():
                for config in groups[tournament]:
                    job = ModelJob(config, found.info.number, started=self.clock())
                    outcomes.append(self.records.failed(job, request, message))
            return summarize(rounds, outcomes, message=message)
        selected = [c for t in open_rounds for c in groups[t]]
        if self.fan_out is not None and request.source != "shard":
            shards = self.fan_out.shards(selected)
            if len(shards) > 1:
                infos = {t: found.info for t, found in open_rounds.items()}
                return self.fan_out.hand_off(shards, infos, request, rounds, outcomes)
        for tournament, found in open_rounds.items():
            outcomes += self._run_tournament(
                tournament, found, groups[tournament], account, request
            )
        return summarize(rounds, outcomes)

    def _open_round(
        self, tournament: Tournament, request: WorkerRequest, deadline: float | None
    ) -> OpenRound | str:
        """The tournament's open round and this run's deadline for it, or why there is none."""
        try:
            current = self.numerai.current_round(tournament)
        except RoundClosed as error:
            logger.info(
                "no round open; nothing submitted",
                extra={"tournament": tournament.name, "reason": str(error)},
            )
            return f"no {tournament.name} round is open for submissions ({error})"
        except BotError as error:
            logger.error("cannot ask Numerai for the round", extra={"error": str(error)})
            return f"cannot ask Numerai which {tournament.name} round is open: {error}"
        round_left = current.seconds_to_close()
        if round_left is not None:
            if round_left <= 0 and not request.force:
                message = closed_for_submissions(tournament.name, current.number, round_left)
                logger.warning(message)
                return message
            deadline = run_deadline(self.clock(), round_left, deadline)
        staking_left = current.seconds_left()
        late = staking_left is not None and staking_left <= 0
        if late:
            logger.warning(late_submission(tournament.name, current.number, staking_left))
        if request.round_number is not None and request.round_number != current.number:
            logger.info(
                "payload round differs from the open round; using Numerai's",
                extra={"payload_round": request.round_number, "open_round": current.number},
            )
        return OpenRound(current, deadline, late)

    def _run_tournament(
        self,
        tournament: Tournament,
        found: OpenRound,
        configs: list[ModelConfig],
        account: dict[str, AccountModel],
        request: WorkerRequest,
    ) -> list[ModelOutcome]:
        """Every selected model of one tournament: prepare, predict in lanes, upload behind."""
        self.numerai.set_deadline(found.deadline)
        served = self._served(tournament)
        outcomes: list[ModelOutcome] = []
        jobs: list[ModelJob] = []
        data_date = data_date_before(found.info.open_time)
        for config in configs:
            job = ModelJob(
                config,
                found.info.number,
                started=self.clock(),
                data_date=data_date,
                deadline=found.deadline,
                late=found.late,
                from_shared_cache=request.source == "shard",
            )
            skipped = self._prepare(job, account, request) or _late_skip(job)
            if skipped is None:
                jobs.append(job)
            else:
                outcomes.append(skipped)

        def front(job: ModelJob, turn: LaneTurn) -> Predictions:
            job.started = self.clock()
            left = None if found.deadline is None else found.deadline - self.clock()
            late = too_late_to_start(left)
            if late is not None:
                raise NotStarted(late)
            budget = prediction_budget(job.config.time_budget_seconds, left, turn.turns_left)
            return self.work.predict(job, served, budget, turn.threads)

        def back(job: ModelJob, predictions: Predictions) -> Delivered:
            # The CSV, its checks and the churn read run here, on an upload thread beside
            # the next predict: single-threaded Python filling the CPU onnxruntime leaves.
            file = self.work.checked_file(job, predictions)
            uploaded = self.uploads.upload(job, request, file)
            if uploaded.by_this_run:
                self.work.keep(job, file)
            return Delivered(uploaded, file.moved)

        self.work.inputs.prefetch(jobs, served)  # the live file loads beside the sessions
        for finished in run_in_lanes(jobs, lane_count(self.lanes, len(jobs)), front, back):
            job = finished.item
            try:
                delivered = finished.value()
            except tuple(NOT_DONE) as error:
                status = next(s for kind, s in NOT_DONE.items() if isinstance(error, kind))
                outcomes.append(self.records.not_done(job, request, status, str(error)))
                continue
            except Exception as error:
                outcomes.append(self.records.failed(job, request, _reason(error, job)))
                continue
            outcomes.append(
                self.records.submitted(job, request, delivered.uploaded, delivered.moved)
            )
        return outcomes

    def _check_closed_rounds(self, result: RoundResult) -> None:
        """The schedule's close check and weekly version notice (see ``round_close``)."""
        try:
            configs, _ = load_models_entries(self.store)
        except BotError as error:
            logger.warning("close check skipped", extra={"error": str(error)})
            return
        report = RoundCloseCheck(self.numerai, self.ledger, self.guard).run(configs)
        result.alerts.extend(report.alerts)
        result.missing_at_close += report.missing_at_close

    # -- steps -----------------------------------------------------------------------------
    def _served(self, tournament: Tournament) -> frozenset[str] | None:
        """The files Numerai serves for the tournament, once per run (None: unknown)."""
        try:
            return self.numerai.served_datasets(tournament)
        except BotError as error:  # the check is a safeguard; the live download decides
            logger.warning("cannot list Numerai's datasets", extra={"error": str(error)})
            return None

    def _prepare(
        self, job: ModelJob, account: dict[str, AccountModel], request: WorkerRequest
    ) -> ModelOutcome | None:
        """Resolve the model id and skip what is done; None means: go on."""
        found = account_model(job.config, account)
        if isinstance(found, str):
            return self.records.failed(job, request, found)
        job.model_id = found.id
        if request.force:
            return None
        try:
            return self.records.already_submitted(job)
        except BotError as error:  # without the ledger we cannot know: upload nothing
            return self.records.failed(job, request, str(error))


def _late_skip(job: ModelJob) -> ModelOutcome | None:
    """The SKIPPED outcome of a model set to skip late rounds when this one is late."""
    why = skipped_late(job.late, job.config.submits_late)
    return None if why is None else outcome(job, SKIPPED_LATE, why)


def _broken(entry: BrokenEntry) -> ModelOutcome:
    logger.error("model not submitted", extra={"model": entry.name, "error": entry.error})
    return ModelOutcome(entry.name, FAILED, entry.error)


def _reason(error: Exception, job: ModelJob) -> str:
    """Our own errors carry their message; anything else is a bug, logged with its trace.
    Either way no secret (a presigned URL's signature, a token) reaches the message."""
    if isinstance(error, BotError):
        return redact(str(error))
    logger.error(
        "unexpected error",
        extra={"model": job.name, "error": redact(f"{type(error).__name__}: {error}")},
    )
    return f"internal error: {type(error).__name__}"
