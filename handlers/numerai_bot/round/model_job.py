"""One model's work in a round: predict on the live data, then build the file and check it
by Numerai's rules and the churn gate; keep what was uploaded for next round's churn."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from numerai_bot.churn import Movement, SubmissionArchive, movement
from numerai_bot.data_versions import check_served
from numerai_bot.errors import ModelError, PredictionError
from numerai_bot.inference import ModelCache
from numerai_bot.live_data import LiveDataCache
from numerai_bot.models_config import ModelConfig
from numerai_bot.submission import build_csv, to_predictions, validate_submission
from numerai_bot.tournaments import Tournament

logger = logging.getLogger(__name__)


@dataclass
class ModelJob:
    """A model being submitted for one round, and what the run learns about it on the way."""

    config: ModelConfig
    round_number: int
    model_id: str = ""
    version: str = ""  # of the artifact that predicted
    started: float = 0.0  # clock()
    started_at: float = field(default_factory=time.time)  # epoch: newer attempts win

    @property
    def tournament(self) -> Tournament:
        """The tournament the model is configured for."""
        return self.config.tournament

    @property
    def name(self) -> str:
        """The model's name in models.json and at Numerai."""
        return self.config.name


@dataclass(frozen=True)
class Predictions:
    """The live ids and the model's predictions for them, in (0, 1)."""

    ids: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class CheckedFile:
    """A submission file that passed Numerai's rules and the churn gate."""

    body: bytes
    rows: int
    moved: Movement | None  # against the model's previous submission (churn-gated only)


class ModelWork:
    """Predicts and builds checked files, model by model, from the shared caches."""

    def __init__(
        self,
        models: ModelCache,
        live_data: LiveDataCache,
        archive: SubmissionArchive | None = None,
    ) -> None:
        self.models = models
        self.live_data = live_data
        self.archive = archive

    def predict(
        self,
        job: ModelJob,
        served: frozenset[str] | None,
        budget: float | None,
        threads: int | None = None,
    ) -> Predictions:
        """Run the model on the live data.

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
        return Predictions(live.ids, to_predictions(raw, live.rows, job.config.transform))

    def checked_file(self, job: ModelJob, predictions: Predictions) -> CheckedFile:
        """The CSV body checked by Numerai's rules and the churn gate."""
        tournament = job.tournament
        body = build_csv(predictions.ids, predictions.values, tournament)
        rows = validate_submission(body, predictions.ids, tournament)
        moved = None
        if tournament.churn_gate:
            moved = movement(self.archive, tournament.name, job.name, job.round_number, body)
            limit = job.config.max_churn
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
