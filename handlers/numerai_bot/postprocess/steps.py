"""Post-processing as data: a model's steps (neutralize, rank, blend) are small typed values
built from its config, each with an ``apply``; the worker runs them in order on the live era
between predict and the checked file.

Neutralization runs here, on the live era in the worker, not inside the ONNX graph: it is a
least-squares fit over every live row at once (ONNX has no least-squares or SVD operator,
and the graph sees a batch of rows at a time), and the worker already holds the live
features. Its cost is measured in ``benchmarks/neutralization.py`` (docs/post-processing.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from numerai_bot.errors import PredictionError
from numerai_bot.postprocess.neutralize import Neutralizers, neutralize_design
from numerai_bot.postprocess.spec import BENCHMARK, MODEL, BlendPart
from numerai_bot.submission import rank_to_unit, to_predictions, zero_spread

if TYPE_CHECKING:
    from numerai_bot.models_config import ModelConfig


class EraInputs(Protocol):
    """What the steps read beside the predictions, aligned to the live rows."""

    def neutralizers(self, against: str | tuple[str, ...]) -> Neutralizers:
        """The least-squares matrix of the ``against`` columns (missing values filled, a
        column of ones appended), one row per live row, and its complete rows."""
        ...

    def benchmark(self, column: str) -> np.ndarray:
        """A benchmark model's live predictions, one per live row."""
        ...

    def model(self, config: ModelConfig) -> np.ndarray:
        """Another configured model's final predictions, one per live row."""
        ...


class Step(Protocol):
    """One post-processing step: values in, values out (one per live row)."""

    def apply(self, values: np.ndarray, era: EraInputs) -> np.ndarray: ...


@dataclass(frozen=True)
class Neutralize:
    """Remove ``proportion`` of the predictions' exposure to ``against`` (numerai-tools' way)."""

    proportion: float
    against: str | tuple[str, ...]

    def apply(self, values: np.ndarray, era: EraInputs) -> np.ndarray:
        try:
            neutral = neutralize_design(values, era.neutralizers(self.against), self.proportion)
        except ValueError as error:  # e.g. too few rows with every column
            raise PredictionError(f"cannot neutralize: {error}") from None
        if not np.isfinite(neutral).all() or zero_spread(neutral):
            raise PredictionError(
                "the neutralized predictions have no spread left: the model's predictions are "
                "a linear mix of the columns it is neutralized against; lower "
                "'neutralize.proportion' or neutralize against fewer columns"
            )
        return neutral


@dataclass(frozen=True)
class Rank:
    """Average-tie ranks into (0, 1), like ``rank(pct=True)``."""

    def apply(self, values: np.ndarray, era: EraInputs) -> np.ndarray:
        return to_predictions(values, len(values), "rank")


@dataclass(frozen=True)
class KeepRaw:
    """The values as they are, refused outside [0, 1]."""

    def apply(self, values: np.ndarray, era: EraInputs) -> np.ndarray:
        return to_predictions(values, len(values), "raw")


@dataclass(frozen=True)
class Blend:
    """The ranked predictions mixed with other ranked predictions, by weight."""

    own_weight: float
    parts: tuple[BlendPart, ...]

    def apply(self, values: np.ndarray, era: EraInputs) -> np.ndarray:
        mixed = self.own_weight * values
        for part in self.parts:
            other = BLEND_SOURCES[part.source](era, part)
            mixed = mixed + part.weight * rank_to_unit(other)
        return mixed


def _blended_model(era: EraInputs, part: BlendPart) -> np.ndarray:
    assert part.model is not None, "models.json resolves the models a blend names"
    return era.model(part.model)


# A blend part's source → how its live predictions are read.
BLEND_SOURCES: dict[str, Callable[[EraInputs, BlendPart], np.ndarray]] = {
    BENCHMARK: lambda era, part: era.benchmark(part.name),
    MODEL: _blended_model,
}


# models.json's ``transform`` → its step.
TRANSFORMS: dict[str, Step] = {"rank": Rank(), "raw": KeepRaw()}


def steps_for(config: ModelConfig) -> tuple[Step, ...]:
    """The model's steps in order: neutralize, its transform, blend and rank again."""
    post = config.postprocess
    steps: list[Step] = []
    if post.neutralization is not None:
        steps.append(Neutralize(post.neutralization.proportion, post.neutralization.against))
    steps.append(TRANSFORMS[config.transform])
    if post.blend:
        steps += [Blend(post.own_weight, post.blend), Rank()]
    return tuple(steps)


def run_steps(steps: tuple[Step, ...], values: np.ndarray, era: EraInputs) -> np.ndarray:
    """``values`` through every step in order."""
    for step in steps:
        values = step.apply(values, era)
    return values
