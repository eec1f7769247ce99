"""Fan-out shards weigh a model's post-processing: neutralizing against every feature costs
seconds, and a blend costs the model it predicts again."""

from __future__ import annotations

import json

from numerai_bot.models_config import parse_models_entries
from numerai_bot.postprocess.cost import neutralize_mib, neutralize_seconds
from numerai_bot.shards import balanced_shards, model_cost


def _configs(models: dict) -> dict:
    configs, broken = parse_models_entries(json.dumps({"models": models}))
    assert not broken
    return {c.name: c for c in configs}


def test_neutralizing_against_every_feature_weighs_its_seconds_in_shards() -> None:
    configs = _configs(
        {
            "plain": {"artifact": "p.onnx"},
            "neutral": {"artifact": "n.onnx", "neutralize": {"proportion": 1, "against": "all"}},
            "mix": {"artifact": "m.onnx", "blend": [{"model": "neutral", "weight": 0.5}]},
        }
    )
    plain, neutral, mix = (model_cost(configs[n]) for n in ("plain", "neutral", "mix"))
    assert neutral - plain == neutralize_seconds(6_720, 2_748) > 5
    assert abs(mix - (plain + neutral)) < 1e-9
    shards = balanced_shards([configs["neutral"], *[configs["plain"]] * 6], 3, 9)
    assert [configs["neutral"]] in shards  # the heavy one gets a shard of its own


def test_the_cost_model_stays_near_the_benchmarks_figures() -> None:
    # benchmarks/neutralization.py on the 2-core VM (docs/post-processing.md)
    for rows, seconds, mib in ((6_720, 9.1, 403), (67_200, 46, 1_722)):
        assert 0.7 * seconds < neutralize_seconds(rows, 2_748) < 1.3 * seconds
        assert 0.85 * mib < neutralize_mib(rows, 2_748) < 1.15 * mib
