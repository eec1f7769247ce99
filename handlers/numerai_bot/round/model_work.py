"""One model's work in a round: predict on its live input, post-process (neutralize, rank,
blend: :mod:`numerai_bot.postprocess`), then build the file and check it by Numerai's rules
and the churn gate; keep what was uploaded for next round's churn."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from numerai_bot.churn import SubmissionArchive, movement
from numerai_bot.errors import BotError, ModelError, PredictionError
from numerai_bot.inference import ModelCache
from numerai_bot.models_config import ModelConfig
from numerai_bot.postprocess.live_era import LiveEra, VersionFiles
from numerai_bot.postprocess.steps import run_steps, steps_for
from numerai_bot.round.inputs import ModelInputs
from numerai_bot.round.job import CheckedFile, ModelJob, Predictions
from numerai_bot.submission import build_csv, checked_output, validate_submission

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _beside(work: Callable[[], T]) -> Future[T]:
    """``work()`` on a thread of its own; its result (or error) in the future."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as error:  # handed to whoever waits on the future
            future.set_exception(error)

    threading.Thread(target=run, name="session-build").start()
    return future


class ModelWork:
    """Predicts and builds checked files, model by model, from the shared caches."""

    def __init__(
        self,
        models: ModelCache,
        inputs: ModelInputs,
        archive: SubmissionArchive | None = None,
        files: VersionFiles | None = None,
    ) -> None:
        self.models = models
        self.inputs = inputs
        self.archive = archive
        self.files = files  # features.json and benchmark files (neutralize, blend)
        # Final predictions of this round's models, for the models that blend them in:
        # (tournament, round, model, artifact version, config) → predictions.
        self._final: dict[tuple, tuple[Predictions, object]] = {}
        self._lock = threading.Lock()

    def predict(
        self,
        job: ModelJob,
        served: frozenset[str] | None,
        budget: float | None,
        threads: int | None = None,
    ) -> Predictions:
        """Run the model on its live input (Numerai's file or the user's own table).

        Sessions are fetched per model (built with ``threads`` intra-op threads), not all
        held for the run: each lane holds one and the cache one more, so memory does not grow
        with the number of models. Columns already read for an earlier model are reused.
        The file's metadata names its columns, so they are read while onnxruntime builds
        the session on a thread beside (it builds without the GIL).
        """
        tournament = job.tournament
        fetched = self.models.fetch(job.config.artifact)
        job.version = fetched.version
        metadata = fetched.metadata
        if metadata.tournament != tournament.name:
            raise ModelError(
                f"{job.config.artifact} was exported for {metadata.tournament}, but models.json "
                f"runs it as a {tournament.name} model: publish the right file"
            )
        if metadata.input != job.config.input.source:
            raise ModelError(
                f"{job.config.artifact} was exported to read {metadata.input} data, but "
                f"models.json gives it {job.config.input.source} data: publish it with the "
                "input it was trained on"
            )
        key = (tournament.name, job.round_number, job.name, fetched.version, job.config)
        with self._lock:
            done = self._final.get(key)
        if done is not None:  # predicted already this round, for a model that blends it in
            job.coverage = done[1]  # type: ignore[assignment]
            return done[0]
        building = _beside(lambda: self.models.build(fetched, threads))
        try:
            given = self.inputs.read(job, metadata, served)
            live = given.live
            matrix = live.features(metadata.numeric_features)
            strings = live.strings(metadata.string_features) if metadata.string_features else None
        except Exception:
            building.result()  # the model's own error first, as when it was built first
            raise
        model = building.result()
        job.coverage = given.coverage
        raw = model.predict(matrix, strings, budget)
        values = checked_output(raw, live.rows)
        era = LiveEra(
            live,
            self._files(),
            served,
            lambda other: self._blended(job, other, served, budget, threads),
        )
        predictions = Predictions(live.ids, run_steps(steps_for(job.config), values, era))
        with self._lock:  # this round's only: a warm container drops the older ones
            self._final = {k: v for k, v in self._final.items() if k[:2] == key[:2]}
            self._final[key] = (predictions, given.coverage)
        return predictions

    def _blended(
        self,
        job: ModelJob,
        other: ModelConfig,
        served: frozenset[str] | None,
        budget: float | None,
        threads: int | None,
    ) -> tuple:
        """Another configured model's final predictions this round (ids, values), for
        ``job``'s blend: predicted here unless this container has them already."""
        try:
            found = self.predict(
                ModelJob(
                    other,
                    job.round_number,
                    started=job.started,
                    data_date=job.data_date,
                    deadline=job.deadline,
                    late=job.late,
                ),
                served,
                budget,
                threads,
            )
        except BotError as error:
            raise ModelError(f"cannot blend with model {other.name}: {error}") from None
        return found.ids, found.values

    def _files(self) -> VersionFiles:
        if self.files is None:
            raise ModelError("this stack cannot read Numerai's data files")
        return self.files

    def checked_file(self, job: ModelJob, predictions: Predictions) -> CheckedFile:
        """The CSV body checked by Numerai's rules and the churn gate."""
        tournament = job.tournament
        body = build_csv(predictions.ids, predictions.values, tournament)
        rows = validate_submission(body, predictions.ids, tournament)
        moved = None
        if tournament.churn_gate:
            limit = job.config.max_churn
            moved = movement(self.archive, tournament.name, job.name, job.round_number, body, limit)
            churned = moved.churn if moved is not None else None
            if limit is not None and churned is not None and churned > limit:
                raise PredictionError(
                    f"churn {churned:.3f} against round {moved.previous_round} "
                    f"is above max_churn {limit} in models.json: not uploaded (Numerai "
                    "zeroes the stake of a submission churning 15 % or more)"
                )
        return CheckedFile(body, rows, moved)

    def keep(self, job: ModelJob, file: CheckedFile) -> None:
        """Archive the uploaded file for the next round's churn (best effort)."""
        if self.archive is None or not job.tournament.churn_gate:
            return
        try:
            self.archive.keep(job.tournament.name, job.name, job.round_number, file.body)
        except Exception as error:  # the submission stands; next round has no comparison
            logger.warning(
                "could not keep the submitted file",
                extra={"model": job.name, "error": type(error).__name__},
            )
