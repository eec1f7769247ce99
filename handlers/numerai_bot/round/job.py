"""The values a model's round passes between the rooms: the job (what the run learns about the
model on the way), its predictions and its checked file."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np

from numerai_bot.churn import Movement
from numerai_bot.models_config import ModelConfig
from numerai_bot.own_data.join import Coverage
from numerai_bot.tournaments import Tournament


@dataclass
class ModelJob:
    """A model being submitted for one round, and what the run learns about it on the way."""

    config: ModelConfig
    round_number: int
    model_id: str = ""
    version: str = ""  # of the artifact that predicted
    started: float = 0.0  # clock()
    started_at: float = field(default_factory=time.time)  # epoch: newer attempts win
    data_date: dt.date | None = None  # the round's data date (own data's freshness)
    deadline: float | None = None  # clock() seconds when this run must stop for the round
    coverage: Coverage | None = None  # own data: how much of the universe the table covered
    late: bool = False  # submitted after the staking close: scored, not staked
    from_shared_cache: bool = False  # a shard's: the hand-off staged its live file there

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
