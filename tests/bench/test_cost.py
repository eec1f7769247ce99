"""Publishing measures what a model costs the worker and stores it in models.json."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from model_export import cost
from model_export.export import export_lightgbm
from model_export.publish import publish
from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.models_config import parse_models_config
from standins.onnx_models import linear_model

FEATURES = [f"feature_{i}" for i in range(12)]


@pytest.fixture(scope="module")
def tree_file() -> bytes:
    """A 30-tree LightGBM model exported by model_export."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=(600, len(FEATURES))).astype(np.float32)
    y = x[:, 0] * 0.1 + rng.normal(0, 0.1, 600)
    booster = lgb.train(
        {"objective": "regression", "num_leaves": 8, "verbose": -1},
        lgb.Dataset(x, y),
        num_boost_round=30,
    )
    result = export_lightgbm(
        booster, x[:200], data_version="v5.2", feature_names=FEATURES, thread_counts=(1,)
    )
    return result.model.SerializeToString()


def _entry(store: LocalModelStore, name: str) -> dict:
    return json.loads(store.read("models.json").data)["models"][name]


def test_a_published_tree_model_carries_its_trees_and_measured_seconds(
    tree_file: bytes, tmp_path: Path
) -> None:
    store = LocalModelStore(tmp_path)
    entry = publish(store, "my_model", tree_file).entry
    stored = _entry(store, "my_model")["cost"]
    assert stored == entry.extra["cost"]
    assert cost.valid_cost(stored)
    assert stored["trees"] == 30
    assert stored["predict_seconds_per_1k_rows"] > 0 and stored["session_seconds"] > 0
    assert stored["measured_on"].endswith("cpu")
    (config,) = parse_models_config(store.read("models.json").data)  # the worker reads it
    assert config.extra["cost"] == stored


def test_signals_models_with_string_inputs_are_measured_too(tmp_path: Path) -> None:
    features = ["feature_a", "feature_b", "feature_country"]
    data = linear_model(features, tournament="signals", string_features=("feature_country",))
    store = LocalModelStore(tmp_path)
    publish(store, "my_signals", data)
    stored = _entry(store, "my_signals")
    assert stored["tournament"] == "signals"
    assert cost.valid_cost(stored["cost"]) and stored["cost"]["trees"] == 0


def test_publishing_still_works_when_the_measurement_fails(
    tree_file: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    store = LocalModelStore(tmp_path)
    publish(store, "my_model", tree_file)
    assert "cost" in _entry(store, "my_model")

    def broken(_data: bytes) -> dict:
        raise RuntimeError("no CPU today")

    monkeypatch.setattr(cost, "measure_cost", broken)
    with caplog.at_level(logging.WARNING):
        publish(store, "my_model", tree_file)
    assert "cost" not in _entry(store, "my_model")  # no stale figure from the previous file
    assert "could not measure my_model's cost" in caplog.text
    assert store.read("my_model.onnx").data == tree_file


def test_only_well_formed_cost_entries_are_valid() -> None:
    good = {
        "trees": 10,
        "predict_seconds_per_1k_rows": 0.1,
        "session_seconds": 0.02,
        "measured_on": "2cpu",
    }
    assert cost.valid_cost(good)
    assert not cost.valid_cost({**good, "trees": "10"})
    assert not cost.valid_cost({**good, "session_seconds": -1})
    assert not cost.valid_cost({k: v for k, v in good.items() if k != "measured_on"})
    assert not cost.valid_cost(None)
