"""The core: submit the open round of each tournament for the configured models, each model
isolated from the others.

It knows nothing of Lambda: it receives a :class:`WorkerRequest` and its adapters (Numerai,
model store, ledger, live-data cache, model cache, submission archive) and returns a
:class:`RoundResult`. Tournaments are data (:mod:`numerai_bot.tournaments`): the runner
groups the models by tournament, asks Numerai for that tournament's open round, and runs
the same steps for each group.

Exactly once, even when a worker dies: before uploading, Numerai is asked whether it already
holds the model's submission for the round (it is the source of truth; the ledger can lag),
and every path that learns a submission exists writes SUBMITTED to the ledger.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from math import ceil
from typing import Any, Protocol

import numpy as np

from numerai_bot.churn import Movement, SubmissionArchive, movement
from numerai_bot.data_versions import check_served
from numerai_bot.errors import (
    AlreadyInProgress,
    BotError,
    ConfigError,
    ModelError,
    PredictionError,
    RoundClosed,
)
from numerai_bot.events import WorkerRequest
from numerai_bot.idempotency import NoGuard, SubmissionGuard
from numerai_bot.inference import ModelCache
from numerai_bot.ledger import FAILED, SUBMITTED, Ledger, LedgerRecord
from numerai_bot.live_data import LiveDataCache
from numerai_bot.model_store import ModelStore
from numerai_bot.models_config import BrokenEntry, ModelConfig, load_models_entries
from numerai_bot.notifier import Notifier
from numerai_bot.numerai_client import AccountModel, RoundInfo
from numerai_bot.outcomes import (
    CLOSED,
    RETRY,
    SKIPPED,
    ModelOutcome,
    RoundResult,
    summarize,
)
from numerai_bot.redact import redact
from numerai_bot.round_close import RoundCloseCheck
from numerai_bot.shards import balanced_shards
from numerai_bot.submission import build_csv, to_predictions, validate_submission
from numerai_bot.tournaments import TOURNAMENTS, Tournament
from numerai_bot.webhook_gate import WorkerInvoker

logger = logging.getLogger(__name__)

__all__ = ["CLOSED", "RETRY", "SKIPPED", "ModelOutcome", "RoundResult", "RoundRunner"]
# Do not start a model with less time than this left (download, predict, upload, retries).
MIN_SECONDS_PER_MODEL = 20.0
# Kept aside from the prediction budgets for the uploads that follow them.
UPLOAD_RESERVE_SECONDS = 15.0
UPLOAD_CONCURRENCY = 8


class NumeraiPort(Protocol):
    """What the runner asks of Numerai (implemented by ``NumeraiClient``)."""

    def current_round(self, tournament: Tournament) -> RoundInfo: ...

    def set_deadline(self, deadline: float | None) -> None: ...

    def last_closed_round(self, tournament: Tournament) -> RoundInfo | None: ...

    def account_models(self) -> dict[str, AccountModel]: ...

    def served_datasets(self, tournament: Tournament) -> frozenset[str]: ...

    def round_submission(
        self, model_id: str, round_number: int, tournament: Tournament
    ) -> dict[str, Any] | None: ...

    def upload_submission(
        self,
        model_id: str,
        csv_bytes: bytes,
        filename: str,
        trigger_id: str | None,
        tournament: Tournament,
        round_number: int | None = None,
        earlier: frozenset[str] = frozenset(),
    ) -> str: ...


@dataclass
class _Job:
    config: ModelConfig
    round_number: int
    model_id: str = ""
    version: str = ""  # of the artifact that predicted
    started: float = 0.0  # clock()
    started_at: float = field(default_factory=time.time)  # epoch: newer attempts win
    moved: Movement | None = None

    @property
    def tournament(self) -> Tournament:
        return self.config.tournament


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
    ) -> None:
        self.numerai = numerai
        self.store = store
        self.ledger = ledger
        self.live_data = live_data
        self.models = models
        self.guard = guard or NoGuard()
        self.fanout = fanout
        self.shard_size = max(1, shard_size)
        self.max_shards = max(1, max_shards)
        self.notifier = notifier
        # Called at the start of each run: rotated keys reach a warm worker (secret cache).
        self.refresh_credentials = refresh_credentials
        self.clock = clock
        self.archive = archive
        self.lanes = max(1, lanes or os.cpu_count() or 1)  # models predicting at once

    def run(self, request: WorkerRequest, deadline: float | None = None) -> RoundResult:
        """Ask Numerai for each tournament's open round, then submit every selected model
        still missing.

        ``deadline`` (``clock()`` seconds) is when this invocation must stop, e.g. the
        Lambda's timeout; each round's own close time is taken into account as well.
        Failures, churn alerts and whatever a scheduled run submitted reach the notifier; a
        check that found nothing to do notifies nobody.
        """
        result = self._run(request, deadline)
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
            configs, broken = _select(configs, broken, request)
        except BotError as error:
            logger.error("cannot start the round", extra={"error": str(error)})
            return RoundResult(None, "failed", str(error))
        outcomes = [self._broken(entry) for entry in broken]
        groups = {t: [c for c in configs if c.tournament == t] for t in TOURNAMENTS.values()}
        groups = {t: group for t, group in groups.items() if group}
        rounds: dict[str, int | None] = {}
        open_rounds: dict[Tournament, tuple[RoundInfo, float | None]] = {}
        for tournament, group in groups.items():
            found = self._open_round(tournament, request, deadline)
            if isinstance(found, str):  # closed, or Numerai could not say: each model says so
                rounds[tournament.name] = None
                status = CLOSED if found.startswith("no ") else FAILED
                outcomes += [
                    ModelOutcome(c.name, status, found, tournament=tournament.name) for c in group
                ]
                continue
            rounds[tournament.name] = found[0].number
            open_rounds[tournament] = found
        if not open_rounds:
            reasons = dict.fromkeys(o.detail for o in outcomes if o.status in (CLOSED, FAILED))
            return summarize(rounds, outcomes, nothing_open=True, message="; ".join(reasons))
        try:
            account = self.numerai.account_models()
        except BotError as error:  # e.g. revoked keys: every selected model says why
            message = f"cannot list the account's models: {error}"
            for tournament, (current, _) in open_rounds.items():
                for config in groups[tournament]:
                    job = _Job(config, current.number, started=self.clock())
                    outcomes.append(self._fail(job, request, message))
            return summarize(rounds, outcomes, message=message)
        selected = [c for t in open_rounds for c in groups[t]]
        if self.fanout is not None and request.source != "shard":
            shards = balanced_shards(selected, self.shard_size, self.max_shards)
            if len(shards) > 1:
                return self._fan_out(shards, open_rounds, request, rounds, outcomes)
        for tournament, (current, until) in open_rounds.items():
            outcomes += self._run_tournament(
                tournament, current, groups[tournament], account, request, until
            )
        return summarize(rounds, outcomes)

    def _open_round(
        self, tournament: Tournament, request: WorkerRequest, deadline: float | None
    ) -> tuple[RoundInfo, float | None] | str:
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
        seconds_left = current.seconds_left()
        if seconds_left is not None:
            if seconds_left <= 0 and not request.force:
                message = (
                    f"no {tournament.name} round is open: round {current.number} closed for "
                    f"submissions {-seconds_left / 60:.0f} min ago; a submission now would be "
                    f"queued for round {current.number + 1}, so nothing was uploaded "
                    "(use force to do it)"
                )
                logger.warning(message)
                return message
            round_deadline = self.clock() + max(seconds_left, 0)
            deadline = round_deadline if deadline is None else min(deadline, round_deadline)
        if request.round_number is not None and request.round_number != current.number:
            logger.info(
                "payload round differs from the open round; using Numerai's",
                extra={"payload_round": request.round_number, "open_round": current.number},
            )
        return current, deadline

    def _run_tournament(
        self,
        tournament: Tournament,
        current: RoundInfo,
        configs: list[ModelConfig],
        account: dict[str, AccountModel],
        request: WorkerRequest,
        deadline: float | None,
    ) -> list[ModelOutcome]:
        """Every selected model of one tournament: prepare, predict in lanes, upload behind."""
        self.numerai.set_deadline(deadline)
        served = self._served(tournament)
        outcomes: list[ModelOutcome] = []
        jobs: list[_Job] = []
        for config in configs:
            job = _Job(config, current.number, started=self.clock())
            outcome = self._prepare(job, account, request)
            if outcome is None:
                jobs.append(job)
            else:
                outcomes.append(outcome)
        # Models predict side by side, one lane per vCPU with one onnxruntime thread each:
        # onnxruntime's tree kernel gains only 1.5x from a second thread, while two models at
        # once gain 2x, and each lane builds its next session while the other predicts.
        # Uploads are network-bound and run behind; ledger writes stay on this thread.
        lanes = max(1, min(self.lanes, len(jobs)))
        threads = max(1, (os.cpu_count() or 1) // lanes)
        with (
            ThreadPoolExecutor(UPLOAD_CONCURRENCY, thread_name_prefix="upload") as pool,
            ThreadPoolExecutor(lanes, thread_name_prefix="predict") as predictors,
        ):
            handed = [
                predictors.submit(
                    self._predict_and_hand_off,
                    job,
                    request,
                    served,
                    deadline,
                    ceil((len(jobs) - index) / lanes),
                    threads,
                    pool,
                )
                for index, job in enumerate(jobs)
            ]
            for job, result in zip(jobs, handed, strict=True):
                upload = result.result()
                if isinstance(upload, str):
                    outcomes.append(self._fail(job, request, upload))
                else:
                    outcomes.append(self._finish(job, request, upload))
        return outcomes

    def _predict_and_hand_off(
        self,
        job: _Job,
        request: WorkerRequest,
        served: frozenset[str] | None,
        deadline: float | None,
        turns_left: int,
        threads: int,
        uploads: ThreadPoolExecutor,
    ) -> Future | str:
        """On a predict lane: the model's upload future, or why it failed (the caller records
        it). ``turns_left`` is how many models this lane may still run, for a fair budget."""
        job.started = self.clock()
        left = None if deadline is None else deadline - self.clock()
        if left is not None and left < MIN_SECONDS_PER_MODEL:
            return (
                f"not started: only {max(left, 0):.0f} s left before the round closes or "
                "this invocation times out"
            )
        try:
            ids, predictions = self._predict(
                job, served, _budget(job.config, left, turns_left), threads
            )
        except Exception as error:
            return _reason(error, job)
        # The CSV, its checks and the churn read run on an upload thread, beside the next
        # predict: single-threaded Python that fills the CPU onnxruntime leaves idle.
        return uploads.submit(self._check_and_upload, job, request, ids, predictions)

    def _fan_out(
        self,
        shards: list[list[ModelConfig]],
        open_rounds: dict[Tournament, tuple[RoundInfo, float | None]],
        request: WorkerRequest,
        rounds: dict[str, int | None],
        outcomes: list[ModelOutcome],
    ) -> RoundResult:
        """Stage the live files in the shared cache, then one async worker per shard."""
        assert self.fanout is not None
        configs = [c for shard in shards for c in shard]
        for tournament, (current, _) in open_rounds.items():
            versions = {c.data_version for c in configs if c.tournament == tournament}
            for version in sorted(v for v in versions if v):
                try:
                    self.live_data.get(current.number, version, tournament)
                except BotError as error:  # each shard will report it per model
                    logger.error("could not stage live data", extra={"error": str(error)})
        for shard in shards:
            self.fanout.invoke(
                WorkerRequest(
                    "shard",
                    request.round_number,
                    request.trigger_id,
                    request.is_test,
                    tuple(c.name for c in shard),
                    request.force,
                )
            )
        message = f"{len(configs)} models handed to {len(shards)} shards balanced by cost"
        logger.info(message, extra={"rounds": rounds, "shards": len(shards)})
        first = next((n for n in rounds.values() if n is not None), None)
        return RoundResult(first, "fanned_out", message, outcomes, rounds)

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

    def _broken(self, entry: BrokenEntry) -> ModelOutcome:
        logger.error("model not submitted", extra={"model": entry.name, "error": entry.error})
        return ModelOutcome(entry.name, FAILED, entry.error)

    def _prepare(
        self, job: _Job, account: dict[str, AccountModel], request: WorkerRequest
    ) -> ModelOutcome | None:
        """Resolve the model id, skip what is done. None means: go on."""
        name, tournament = job.config.name, job.tournament
        found = account.get(name)
        if found is None:
            return self._fail(
                job,
                request,
                f"model {name!r} is not in this Numerai account; its models are: "
                f"{', '.join(sorted(account)) or 'none'}",
            )
        job.model_id = found.id
        if found.tournament != tournament.id:
            return self._fail(
                job,
                request,
                f"model {name!r} is a tournament-{found.tournament} model in your account, "
                f"but models.json says {tournament.name} ({tournament.id}): fix its "
                "'tournament' entry",
            )
        if not request.force:
            try:
                done = self.ledger.get(job.round_number, name, tournament.id)
            except BotError as error:  # without the ledger we cannot know: upload nothing
                return self._fail(job, request, str(error))
            if done is not None and done.status == SUBMITTED:
                return self._outcome(
                    job, SKIPPED, f"already submitted ({done.submission_id})", done.submission_id
                )
        return None

    def _predict(
        self,
        job: _Job,
        served: frozenset[str] | None,
        budget: float | None,
        threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run the model on the live data; the live ids and their predictions in (0, 1).

        Sessions are fetched per model (built with ``threads`` intra-op threads), not all
        held for the run: each lane holds one and the cache one more, so memory does not grow
        with the number of models. Columns already read for an earlier model are reused.
        """
        tournament = job.tournament
        model = self.models.get(job.config.artifact, threads)
        job.version = model.version
        metadata = model.metadata
        if metadata.tournament != tournament.name:
            raise ModelError(
                f"{job.config.artifact} was exported for {metadata.tournament}, but models.json "
                f"runs it as a {tournament.name} model: publish the right file"
            )
        check_served(tournament, metadata.data_version, served)
        live = self.live_data.get(job.round_number, metadata.data_version, tournament)
        matrix = live.features(metadata.numeric_features)
        strings = live.strings(metadata.string_features) if metadata.string_features else None
        raw = model.predict(matrix, strings, budget)
        return live.ids, to_predictions(raw, live.rows, job.config.transform)

    def _check_and_upload(
        self, job: _Job, request: WorkerRequest, ids: np.ndarray, predictions: np.ndarray
    ) -> tuple[dict, bool]:
        """On an upload thread: the checked CSV, then the guarded upload."""
        body, rows = self._checked_body(job, ids, predictions)
        return self._upload_once(job, request, body, rows)

    def _checked_body(
        self, job: _Job, ids: np.ndarray, predictions: np.ndarray
    ) -> tuple[bytes, int]:
        """The CSV body checked by Numerai's rules and the churn gate; its row count."""
        tournament = job.tournament
        body = build_csv(ids, predictions, tournament)
        rows = validate_submission(body, ids, tournament)
        if tournament.churn_gate:
            job.moved = movement(
                self.archive, tournament.name, job.config.name, job.round_number, body
            )
            limit = job.config.max_churn
            churned = job.moved.churn if job.moved is not None else None
            if limit is not None and churned is not None and churned > limit:
                raise PredictionError(
                    f"churn {job.moved.churn:.3f} against round {job.moved.previous_round} "
                    f"is above max_churn {limit} in models.json: not uploaded (Numerai "
                    "zeroes the stake of a submission churning 15 % or more)"
                )
        return body, rows

    def _upload_once(
        self, job: _Job, request: WorkerRequest, body: bytes, rows: int
    ) -> tuple[dict, bool]:
        """Upload under the guard; the result and whether this call did the upload.

        Inside the guard, Numerai is asked first: a submission it already holds for the
        round (a worker killed after ``create_submission``) is returned, not repeated.
        """
        uploaded: list[dict] = []
        tournament = job.tournament

        def upload() -> dict:
            held = self.numerai.round_submission(job.model_id, job.round_number, tournament)
            if held is not None and not request.force:
                return {"submission_id": str(held["id"]), "rows": rows, "found": True}
            earlier = frozenset({str(held["id"])}) if held is not None else frozenset()
            submission_id = self.numerai.upload_submission(
                job.model_id,
                body,
                f"{job.config.name}-{tournament.name}-round{job.round_number}.csv",
                request.trigger_id,
                tournament,
                job.round_number,
                earlier,
            )
            uploaded.append({"submission_id": submission_id, "rows": rows})
            return uploaded[0]

        try:
            if request.force:
                return upload(), True
            done = self.guard.run_once(job.round_number, job.config.name, upload, tournament.id)
        except Exception as error:
            if not uploaded:
                raise
            # Numerai has it; only the guard's bookkeeping failed afterwards.
            logger.warning(
                "submitted, but could not record it",
                extra={"model": job.config.name, "error": type(error).__name__},
            )
            return uploaded[0], True
        if uploaded:
            self._keep(job, body)
        return done, bool(uploaded)

    def _keep(self, job: _Job, body: bytes) -> None:
        """Archive the uploaded file for the next round's churn (best effort)."""
        if self.archive is None or not job.tournament.churn_gate:
            return
        try:
            self.archive.keep(job.tournament.name, job.config.name, job.round_number, body)
        except Exception as error:  # the submission stands; next round has no comparison
            logger.warning(
                "could not keep the submitted file",
                extra={"model": job.config.name, "error": type(error).__name__},
            )

    def _finish(self, job: _Job, request: WorkerRequest, upload: Future) -> ModelOutcome:
        """Turn an upload's result into the model's outcome and ledger record."""
        name = job.config.name
        try:
            done, ran = upload.result()
        except AlreadyInProgress as error:
            logger.warning("model held by another invocation", extra={"model": name})
            return self._outcome(job, RETRY, str(error))
        except Exception as error:
            return self._fail(job, request, _reason(error, job))
        seconds = round(self.clock() - job.started, 3)
        moved = job.moved if ran else None
        self._record(
            LedgerRecord(
                job.round_number,
                name,
                SUBMITTED,
                model_id=job.model_id,
                submission_id=done["submission_id"],
                trigger_id=request.trigger_id or "",
                rows=done["rows"],
                artifact=job.config.artifact,
                artifact_version=job.version,
                source=request.source,
                forced=request.force and ran,
                seconds=seconds,
                tournament=job.tournament.id,
                started_at=job.started_at,
                churn=moved.churn if moved else None,
                turnover=moved.turnover if moved else None,
            )
        )
        if not ran:  # another invocation, or a killed one, submitted it: Numerai has it
            where = "found at Numerai" if done.get("found") else "by another invocation"
            return self._outcome(
                job,
                SKIPPED,
                f"already submitted ({done['submission_id']}, {where})",
                done["submission_id"],
            )
        logger.info(
            "model submitted",
            extra={
                "model": name,
                "tournament": job.tournament.name,
                "round": job.round_number,
                "submission_id": done["submission_id"],
                "rows": done["rows"],
                "seconds": seconds,
            },
        )
        outcome = self._outcome(job, SUBMITTED, "", done["submission_id"], done["rows"], seconds)
        if moved is not None:
            outcome.churn, outcome.turnover = moved.churn, moved.turnover
            high_churn = moved.churn is not None and moved.churn >= job.config.churn_alert
            high_turnover = (
                moved.turnover is not None and moved.turnover >= job.config.turnover_alert
            )
            if high_churn or high_turnover:
                outcome.detail = (
                    f"churn {_figure(moved.churn)} / turnover {_figure(moved.turnover)} against "
                    f"round {moved.previous_round}: above the alert thresholds "
                    f"({job.config.churn_alert} / {job.config.turnover_alert})"
                )
                outcome.alert = True
        return outcome

    def _outcome(
        self,
        job: _Job,
        status: str,
        detail: str,
        submission_id: str = "",
        rows: int = 0,
        seconds: float = 0.0,
    ) -> ModelOutcome:
        return ModelOutcome(
            job.config.name,
            status,
            detail,
            submission_id,
            rows,
            seconds,
            job.tournament.name,
            job.round_number,
        )

    def _fail(self, job: _Job, request: WorkerRequest, error: str) -> ModelOutcome:
        name = job.config.name
        seconds = round(self.clock() - job.started, 3)
        logger.error("model not submitted", extra={"model": name, "error": error})
        self._record(
            LedgerRecord(
                job.round_number,
                name,
                FAILED,
                model_id=job.model_id,
                trigger_id=request.trigger_id or "",
                error=error,
                artifact=job.config.artifact,
                source=request.source,
                seconds=seconds,
                tournament=job.tournament.id,
                started_at=job.started_at,
            )
        )
        return self._outcome(job, FAILED, error, seconds=seconds)

    def _record(self, record: LedgerRecord) -> None:
        """Write the ledger; a failed write is logged, never allowed to hide the outcome.

        A write refused by the ledger's rule (a FAILED over a SUBMITTED, an older attempt
        over a newer one) is normal when runs overlap: the newer truth stays.
        """
        try:
            written = self.ledger.put(record)
        except Exception as error:  # the submission itself stands; say the ledger missed it
            logger.error(
                "ledger write failed",
                extra={"model": record.model_name, "error": type(error).__name__},
            )
            return
        if written is False:
            logger.info(
                "ledger already holds a newer or successful record; kept it",
                extra={"model": record.model_name, "status": record.status},
            )


def _select(
    configs: list[ModelConfig], broken: list[BrokenEntry], request: WorkerRequest
) -> tuple[list[ModelConfig], list[BrokenEntry]]:
    """The requested models (all when None); unknown names are broken entries of their own."""
    if request.models is None:
        return configs, broken
    by_name = {c.name: c for c in configs}
    broken_by_name = {b.name: b for b in broken}
    unknown = [m for m in request.models if m not in by_name and m not in broken_by_name]
    if unknown and len(unknown) == len(request.models):
        raise ConfigError(
            f"model(s) {', '.join(unknown)} are not in models.json; configured: "
            f"{', '.join(sorted(by_name)) or 'none'}"
        )
    chosen_broken = [broken_by_name[m] for m in request.models if m in broken_by_name]
    chosen_broken += [
        BrokenEntry(m, f"model {m!r} is not in models.json; publish it first") for m in unknown
    ]
    return [by_name[m] for m in request.models if m in by_name], chosen_broken


def _budget(config: ModelConfig, left: float | None, remaining_models: int) -> float | None:
    """A model's prediction time: its configured budget, else a fair share of what is left
    (recomputed for each model, so time a fast model leaves unused goes to the next)."""
    share = None
    if left is not None:
        share = max(left - UPLOAD_RESERVE_SECONDS, 1.0) / max(remaining_models, 1)
    if config.time_budget_seconds is None:
        return share
    if left is None:
        return config.time_budget_seconds
    return min(config.time_budget_seconds, max(left - UPLOAD_RESERVE_SECONDS, 1.0))


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _reason(error: Exception, job: _Job) -> str:
    """Our own errors carry their message; anything else is a bug, logged with its trace.
    Either way no secret (a presigned URL's signature, a token) reaches the message."""
    if isinstance(error, BotError):
        return redact(str(error))
    logger.error(
        "unexpected error",
        extra={"model": job.config.name, "error": redact(f"{type(error).__name__}: {error}")},
    )
    return f"internal error: {type(error).__name__}"
