"""The core: submit one round for the configured models, each isolated from the others.

It knows nothing of Lambda: it receives a :class:`WorkerRequest` and its adapters (Numerai,
model store, ledger, live-data cache, model cache) and returns a :class:`RoundResult`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from numerai_bot.errors import BotError, ConfigError, RoundClosed
from numerai_bot.events import WorkerRequest
from numerai_bot.idempotency import AlreadyInProgress, NoGuard, SubmissionGuard
from numerai_bot.inference import ModelCache
from numerai_bot.ledger import FAILED, SUBMITTED, Ledger, LedgerRecord
from numerai_bot.live_data import LiveDataCache
from numerai_bot.model_store import ModelStore
from numerai_bot.models_config import ModelConfig, load_models_config
from numerai_bot.notifier import Notifier
from numerai_bot.numerai_client import RoundInfo
from numerai_bot.submission import build_csv, to_predictions, validate_submission
from numerai_bot.webhook_gate import WorkerInvoker

logger = logging.getLogger(__name__)

SKIPPED = "skipped"
# Do not start a model with less time than this left (download, predict, upload, retries).
MIN_SECONDS_PER_MODEL = 20.0
UPLOAD_CONCURRENCY = 8


class NumeraiPort(Protocol):
    """What the runner asks of Numerai (implemented by ``NumeraiClient``)."""

    def current_round(self) -> RoundInfo: ...

    def set_deadline(self, deadline: float | None) -> None: ...

    def model_ids(self) -> dict[str, str]: ...

    def upload_submission(
        self, model_id: str, csv_bytes: bytes, filename: str, trigger_id: str | None
    ) -> str: ...


@dataclass
class ModelOutcome:
    """What happened to one model in this run."""

    model: str
    status: str
    detail: str = ""
    submission_id: str = ""
    rows: int = 0
    seconds: float = 0.0


@dataclass
class RoundResult:
    """The run's answer: the round, an overall status and one outcome per model."""

    round_number: int | None
    status: str
    message: str
    outcomes: list[ModelOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ModelOutcome]:
        """Models that did not submit and should have."""
        return [o for o in self.outcomes if o.status == FAILED]

    @property
    def submitted(self) -> list[ModelOutcome]:
        """Models submitted by this run."""
        return [o for o in self.outcomes if o.status == SUBMITTED]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly, for the Lambda response and logs."""
        return {
            "roundNumber": self.round_number,
            "status": self.status,
            "message": self.message,
            "submitted": len(self.submitted),
            "failed": len(self.failed),
            "outcomes": [asdict(o) for o in self.outcomes],
        }


@dataclass
class _Job:
    config: ModelConfig
    model_id: str = ""
    version: str = ""  # of the artifact that predicted
    started: float = 0.0


class RoundRunner:
    """Submits the open round for the configured models (see module docstring)."""

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
        notifier: Notifier | None = None,
        refresh_credentials: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.numerai = numerai
        self.store = store
        self.ledger = ledger
        self.live_data = live_data
        self.models = models
        self.guard = guard or NoGuard()
        self.fanout = fanout
        self.shard_size = max(1, shard_size)
        self.notifier = notifier
        # Called at the start of each run: rotated keys reach a warm worker (secret cache).
        self.refresh_credentials = refresh_credentials
        self.clock = clock

    def run(self, request: WorkerRequest, deadline: float | None = None) -> RoundResult:
        """Ask Numerai for the open round, then submit every selected model still missing.

        ``deadline`` (``clock()`` seconds) is when this invocation must stop, e.g. the
        Lambda's timeout; the round's own close time is taken into account as well.
        Failures, and every scheduled run, are reported to the notifier.
        """
        result = self._run(request, deadline)
        if self.notifier is not None and (
            result.failed or result.status == "failed" or request.source == "schedule"
        ):
            try:
                self.notifier.notify(result)
            except Exception as error:  # the round's outcome stands; say the alert failed
                logger.error("notification failed", extra={"error": type(error).__name__})
        return result

    def _run(self, request: WorkerRequest, deadline: float | None) -> RoundResult:
        if self.refresh_credentials is not None:
            try:
                self.refresh_credentials()
            except BotError as error:
                logger.error("cannot read the Numerai keys", extra={"error": str(error)})
                return RoundResult(None, "failed", str(error))
        self.numerai.set_deadline(deadline)
        try:
            current = self.numerai.current_round()
        except RoundClosed as error:
            logger.info("no round open; nothing submitted", extra={"reason": str(error)})
            return RoundResult(None, "closed", f"no round is open for submissions ({error})")
        except BotError as error:
            logger.error("cannot ask Numerai for the round", extra={"error": str(error)})
            return RoundResult(None, "failed", f"cannot ask Numerai which round is open: {error}")
        seconds_left = current.seconds_left()
        if seconds_left is not None:
            if seconds_left <= 0 and not request.force:
                message = (
                    f"round {current.number} closed for submissions "
                    f"{-seconds_left / 60:.0f} min ago; a submission now would be queued for "
                    f"round {current.number + 1}, so nothing was uploaded (use force to do it)"
                )
                logger.warning(message)
                return RoundResult(current.number, "closed", message)
            round_deadline = self.clock() + seconds_left
            deadline = round_deadline if deadline is None else min(deadline, round_deadline)
            self.numerai.set_deadline(deadline)
        if request.round_number is not None and request.round_number != current.number:
            logger.warning(
                "payload round differs from the open round; using Numerai's",
                extra={"payload_round": request.round_number, "open_round": current.number},
            )
        try:
            configs = self._select(load_models_config(self.store), request)
        except BotError as error:
            logger.error("cannot start the round", extra={"error": str(error)})
            return RoundResult(current.number, "failed", str(error))
        try:
            account = self.numerai.model_ids()
        except BotError as error:  # e.g. revoked keys: every selected model says why
            message = f"cannot list the account's models: {error}"
            outcomes = [
                self._fail(_Job(c, started=self.clock()), current.number, request, message)
                for c in configs
            ]
            return RoundResult(current.number, "failed", message, outcomes)
        if self.fanout is not None and request.source != "shard" and len(configs) > self.shard_size:
            return self._fan_out(configs, current.number, request)

        outcomes: list[ModelOutcome] = []
        jobs: list[_Job] = []
        for config in configs:
            job = _Job(config, started=self.clock())
            outcome = self._prepare(job, current.number, account, request)
            if outcome is None:
                jobs.append(job)
            else:
                outcomes.append(outcome)
        # Predictions run one model at a time (onnxruntime already uses every vCPU); uploads
        # are network-bound and run concurrently behind them. Ledger writes stay on this thread.
        uploads: list[tuple[_Job, Future]] = []
        with ThreadPoolExecutor(UPLOAD_CONCURRENCY, thread_name_prefix="upload") as pool:
            for job in jobs:
                left = None if deadline is None else deadline - self.clock()
                if left is not None and left < MIN_SECONDS_PER_MODEL:
                    outcomes.append(
                        self._fail(
                            job,
                            current.number,
                            request,
                            f"not started: only {max(left, 0):.0f} s left before the round "
                            "closes or this invocation times out",
                        )
                    )
                    continue
                try:
                    body, rows = self._predict(job, current.number)
                except Exception as error:
                    outcomes.append(self._fail(job, current.number, request, _reason(error, job)))
                    continue
                upload = pool.submit(self._upload_once, job, current.number, request, body, rows)
                uploads.append((job, upload))
            for job, upload in uploads:
                outcomes.append(self._finish(job, current.number, request, upload))
        failed = sum(o.status == FAILED for o in outcomes)
        status = "incomplete" if failed else "complete"
        message = (
            f"round {current.number}: {sum(o.status == SUBMITTED for o in outcomes)} submitted, "
            f"{sum(o.status == SKIPPED for o in outcomes)} already done, {failed} failed"
        )
        logger.info(message, extra={"round": current.number, "status": status})
        return RoundResult(current.number, status, message, outcomes)

    def _fan_out(
        self, configs: list[ModelConfig], round_number: int, request: WorkerRequest
    ) -> RoundResult:
        """Stage the live files in the shared cache, then one async worker per shard."""
        assert self.fanout is not None
        for version in sorted({c.data_version for c in configs if c.data_version}):
            try:
                self.live_data.get(round_number, version)
            except BotError as error:  # each shard will report it per model
                logger.error("could not stage live data", extra={"error": str(error)})
        names = [c.name for c in configs]
        shards = [names[i : i + self.shard_size] for i in range(0, len(names), self.shard_size)]
        for shard in shards:
            self.fanout.invoke(
                WorkerRequest(
                    "shard",
                    round_number,
                    request.trigger_id,
                    request.is_test,
                    tuple(shard),
                    request.force,
                )
            )
        message = f"round {round_number}: {len(names)} models handed to {len(shards)} shards"
        logger.info(message, extra={"round": round_number, "shards": len(shards)})
        return RoundResult(round_number, "fanned_out", message)

    # -- steps -----------------------------------------------------------------------------
    @staticmethod
    def _select(configs: list[ModelConfig], request: WorkerRequest) -> list[ModelConfig]:
        if request.models is None:
            return configs
        by_name = {c.name: c for c in configs}
        unknown = [m for m in request.models if m not in by_name]
        if unknown:
            raise ConfigError(
                f"model(s) {', '.join(unknown)} are not in models.json; configured: "
                f"{', '.join(sorted(by_name)) or 'none'}"
            )
        return [by_name[m] for m in request.models]

    def _prepare(
        self, job: _Job, round_number: int, account: dict[str, str], request: WorkerRequest
    ) -> ModelOutcome | None:
        """Resolve the model id, skip what is done, load the session. None means: go on."""
        name = job.config.name
        job.model_id = account.get(name, "")
        if not job.model_id:
            return self._fail(
                job,
                round_number,
                request,
                f"model {name!r} is not in this Numerai account; its models are: "
                f"{', '.join(sorted(account)) or 'none'}",
            )
        if not request.force:
            try:
                done = self.ledger.get(round_number, name)
            except BotError as error:  # without the ledger we cannot know: upload nothing
                return self._fail(job, round_number, request, str(error))
            if done is not None and done.status == SUBMITTED:
                return ModelOutcome(
                    name,
                    SKIPPED,
                    f"already submitted ({done.submission_id})",
                    done.submission_id,
                    done.rows,
                )
        return None

    def _predict(self, job: _Job, round_number: int) -> tuple[bytes, int]:
        """Run the model on the live data; the checked CSV body and its row count.

        Sessions are fetched per model, not all held for the run: the cache keeps a few,
        so memory does not grow with the number of models. Columns already read for an
        earlier model are reused.
        """
        model = self.models.get(job.config.artifact)
        job.version = model.version
        live = self.live_data.get(round_number, model.metadata.data_version)
        matrix = live.features(model.metadata.features)
        predictions = to_predictions(model.predict(matrix), live.rows, job.config.transform)
        body = build_csv(live.ids, predictions)
        return body, validate_submission(body, live.ids)

    def _upload_once(
        self, job: _Job, round_number: int, request: WorkerRequest, body: bytes, rows: int
    ) -> tuple[dict, bool]:
        """Upload under the guard; the result and whether this call did the upload."""
        uploaded: list[dict] = []

        def upload() -> dict:
            submission_id = self.numerai.upload_submission(
                job.model_id,
                body,
                f"{job.config.name}-round{round_number}.csv",
                request.trigger_id,
            )
            uploaded.append({"submission_id": submission_id, "rows": rows})
            return uploaded[0]

        try:
            if request.force:
                return upload(), True
            done = self.guard.run_once(round_number, job.config.name, upload)
        except Exception as error:
            if not uploaded:
                raise
            # Numerai has it; only the guard's bookkeeping failed afterwards.
            logger.warning(
                "submitted, but could not record it",
                extra={"model": job.config.name, "error": type(error).__name__},
            )
            return uploaded[0], True
        return done, bool(uploaded)

    def _finish(
        self, job: _Job, round_number: int, request: WorkerRequest, upload: Future
    ) -> ModelOutcome:
        """Turn an upload's result into the model's outcome and ledger record."""
        name = job.config.name
        try:
            done, ran = upload.result()
        except AlreadyInProgress as error:
            return ModelOutcome(name, SKIPPED, str(error))
        except Exception as error:
            return self._fail(job, round_number, request, _reason(error, job))
        if not ran:  # another invocation submitted it between our ledger read and now
            return ModelOutcome(
                name,
                SKIPPED,
                f"already submitted ({done['submission_id']})",
                done["submission_id"],
                done["rows"],
            )
        seconds = round(self.clock() - job.started, 3)
        self._record(
            LedgerRecord(
                round_number,
                name,
                SUBMITTED,
                model_id=job.model_id,
                submission_id=done["submission_id"],
                trigger_id=request.trigger_id or "",
                rows=done["rows"],
                artifact=job.config.artifact,
                artifact_version=job.version,
                source=request.source,
                forced=request.force,
                seconds=seconds,
            )
        )
        logger.info(
            "model submitted",
            extra={
                "model": name,
                "submission_id": done["submission_id"],
                "rows": done["rows"],
                "seconds": seconds,
            },
        )
        return ModelOutcome(name, SUBMITTED, "", done["submission_id"], done["rows"], seconds)

    def _fail(
        self, job: _Job, round_number: int, request: WorkerRequest, error: str
    ) -> ModelOutcome:
        name = job.config.name
        seconds = round(self.clock() - job.started, 3)
        logger.error("model not submitted", extra={"model": name, "error": error})
        self._record(
            LedgerRecord(
                round_number,
                name,
                FAILED,
                model_id=job.model_id,
                trigger_id=request.trigger_id or "",
                error=error,
                artifact=job.config.artifact,
                source=request.source,
                seconds=seconds,
            )
        )
        return ModelOutcome(name, FAILED, error, seconds=seconds)

    def _record(self, record: LedgerRecord) -> None:
        """Write the ledger; a failed write is logged, never allowed to hide the outcome."""
        try:
            self.ledger.put(record)
        except Exception as error:  # the submission itself stands; say the ledger missed it
            logger.error(
                "ledger write failed",
                extra={"model": record.model_name, "error": type(error).__name__},
            )


def _reason(error: Exception, job: _Job) -> str:
    """Our own errors carry their message; anything else is a bug, logged with its trace."""
    if isinstance(error, BotError):
        return str(error)
    logger.exception("unexpected error", extra={"model": job.config.name})
    return f"internal error: {type(error).__name__}"
