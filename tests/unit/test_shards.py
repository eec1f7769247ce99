"""Fan-out shards are balanced by each model's measured cost and capped by concurrency."""

from __future__ import annotations

from numerai_bot.models_config import ModelConfig
from numerai_bot.shards import balanced_shards, model_cost, typical_cost
from numerai_bot.tournaments import CRYPTO


def model(name: str, per_1k: float | None = None) -> ModelConfig:
    extra = {} if per_1k is None else {"cost": {"predict_seconds_per_1k_rows": per_1k}}
    return ModelConfig(name, f"{name}.onnx", extra=extra)


def test_one_heavy_ensemble_gets_a_shard_of_its_own():
    heavy = model("heavy", per_1k=3.0)  # ~20 s for 6,720 rows
    light = [model(f"m{i}") for i in range(60)]
    shards = balanced_shards([heavy, *light], shard_size=50, max_shards=9)
    with_heavy = next(s for s in shards if heavy in s)
    assert len(with_heavy) < len(light) / len(shards)  # fewer models beside the heavy one
    loads = [sum(model_cost(c) for c in s) for s in shards]
    assert max(loads) - min(loads) <= model_cost(heavy)


def test_shards_never_exceed_the_accounts_concurrency():
    shards = balanced_shards([model(f"m{i}") for i in range(500)], shard_size=10, max_shards=9)
    assert len(shards) == 9 and sum(len(s) for s in shards) == 500


def test_typical_models_below_the_shard_size_do_not_fan_out():
    assert len(balanced_shards([model(f"m{i}") for i in range(50)], 50, 9)) == 1


def test_an_unmeasured_crypto_model_costs_less_than_a_classic_one():
    crypto = ModelConfig("c", "c.onnx", tournament=CRYPTO)
    assert model_cost(crypto) < model_cost(model("x")) == typical_cost()
