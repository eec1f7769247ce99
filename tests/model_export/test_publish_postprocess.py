"""publish carries a model's neutralize and blend into models.json, and keeps them."""

from __future__ import annotations

import json

import pytest

from model_export.publish import publish
from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.errors import ConfigError
from numerai_bot.postprocess.spec import BlendPart, Neutralization, PostProcess
from standins.onnx_models import linear_model

FEATURES = [f"feature_{i}" for i in range(8)]
BLEND = PostProcess(
    Neutralization(0.5, "small"),
    (BlendPart("benchmark", "v52_lgbm_ender20", 0.2), BlendPart("model", "plain", 0.1)),
)


def _entries(store: LocalModelStore) -> dict:
    return json.loads(store.read("models.json").data)["models"]


def test_published_blend_reaches_models_json_and_survives_a_republish(tmp_path) -> None:
    store = LocalModelStore(tmp_path)
    publish(store, "plain", linear_model(FEATURES, seed=1))
    publish(store, "mix", linear_model(FEATURES, seed=2), postprocess=BLEND)
    entry = _entries(store)["mix"]
    assert entry["neutralize"] == {"proportion": 0.5, "against": "small"}
    assert entry["blend"] == [
        {"benchmark": "v52_lgbm_ender20", "weight": 0.2},
        {"model": "plain", "weight": 0.1},
    ]
    publish(store, "mix", linear_model(FEATURES, seed=3))  # a new file, settings kept
    assert _entries(store)["mix"]["blend"] == entry["blend"]


def test_a_blend_of_an_unpublished_model_is_refused_before_anything_is_written(tmp_path) -> None:
    store = LocalModelStore(tmp_path)
    with pytest.raises(ConfigError, match="publish plain first"):
        publish(store, "mix", linear_model(FEATURES, seed=2), postprocess=BLEND)
    assert not (tmp_path / "models.json").exists()


def test_neutralize_with_raw_transform_is_refused(tmp_path) -> None:
    store = LocalModelStore(tmp_path)
    with pytest.raises(ConfigError, match="work on ranks"):
        publish(
            store,
            "raw_model",
            linear_model(FEATURES),
            "raw",
            postprocess=PostProcess(Neutralization(1.0, "all")),
        )
