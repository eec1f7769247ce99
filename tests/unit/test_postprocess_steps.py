"""The post-processing steps on their own, with an era whose inputs are plain arrays."""

from __future__ import annotations

import numpy as np
import pytest

from numerai_bot.errors import ModelError, PredictionError
from numerai_bot.models_config import ModelConfig
from numerai_bot.postprocess.live_era import aligned
from numerai_bot.postprocess.neutralize import design_matrix
from numerai_bot.postprocess.spec import BlendPart, Neutralization, PostProcess
from numerai_bot.postprocess.steps import Blend, KeepRaw, Neutralize, Rank, run_steps, steps_for


class ArrayEra:
    """Era inputs from arrays (what LiveEra reads from the round's files)."""

    def __init__(self, exposures: np.ndarray, benchmarks: dict[str, np.ndarray]) -> None:
        self.exposures = exposures
        self.benchmarks = benchmarks

    def neutralizers(self, against):
        return design_matrix(self.exposures)

    def benchmark(self, column: str) -> np.ndarray:
        return self.benchmarks[column]

    def model(self, config):
        raise AssertionError("not used here")


def test_steps_follow_the_config_neutralize_rank_blend_rank() -> None:
    config = ModelConfig(
        "m",
        "m.onnx",
        postprocess=PostProcess(Neutralization(0.5, "all"), (BlendPart("benchmark", "b", 0.25),)),
    )
    assert steps_for(config) == (
        Neutralize(0.5, "all"),
        Rank(),
        Blend(0.75, (BlendPart("benchmark", "b", 0.25),)),
        Rank(),
    )
    assert steps_for(ModelConfig("m", "m.onnx", transform="raw")) == (KeepRaw(),)


def test_predictions_that_are_a_mix_of_the_features_have_nothing_left() -> None:
    rng = np.random.default_rng(0)
    exposures = rng.normal(size=(200, 3))
    predictions = exposures @ np.array([1.0, -2.0, 0.5])
    with pytest.raises(PredictionError, match=r"lower 'neutralize\.proportion'"):
        run_steps((Neutralize(1.0, "all"),), predictions, ArrayEra(exposures, {}))


def test_blend_mixes_ranks_by_weight() -> None:
    own = np.array([0.1, 0.2, 0.3, 0.4])
    bench = np.array([40.0, 30.0, 20.0, 10.0])  # ranked before mixing: its scale is moot
    era = ArrayEra(np.zeros((4, 1)), {"b": bench})
    ranks = [0.125, 0.375, 0.625, 0.875]
    mostly_own = (Blend(0.75, (BlendPart("benchmark", "b", 0.25),)), Rank())
    assert run_steps(mostly_own, np.array(ranks), era).tolist() == ranks
    mixed = Blend(0.75, (BlendPart("benchmark", "b", 0.25),)).apply(np.array(ranks), era)
    assert np.allclose(mixed, 0.75 * np.array(ranks) + 0.25 * np.array(ranks[::-1]))
    mostly_bench = (Blend(0.25, (BlendPart("benchmark", "b", 0.75),)), Rank())
    assert run_steps(mostly_bench, own, era).tolist() == ranks[::-1]


def test_live_ids_without_a_benchmark_prediction_are_a_clear_error() -> None:
    ids = np.array(["a", "b"], dtype=object)
    live = np.array(["b", "a", "c"], dtype=object)
    with pytest.raises(ModelError, match=r"1 of 3 live ids have no prediction from bench.*'c'"):
        aligned(ids, np.array([0.1, 0.2]), live, "bench")
    assert aligned(ids, np.array([0.1, 0.2]), live[:2], "bench").tolist() == [0.2, 0.1]
    with pytest.raises(ModelError, match="1 missing predictions"):
        aligned(ids, np.array([0.1, np.nan]), live[:2], "bench")
