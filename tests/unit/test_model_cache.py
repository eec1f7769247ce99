"""Sessions are cached, bounded, shared between identical files and refreshed on change."""

from __future__ import annotations

from numerai_bot.inference import ModelCache
from numerai_bot.model_store import LocalModelStore
from tests.onnx_models import linear_model

FEATURES = ["feature_a", "feature_b", "feature_c"]


def test_memory_stays_bounded_however_many_models(tmp_path):
    store = LocalModelStore(tmp_path)
    for i in range(5):
        store.write(f"m{i}.onnx", linear_model(FEATURES, seed=i))
    cache = ModelCache(store, threads=1, max_sessions=2)
    for i in range(5):
        cache.get(f"m{i}.onnx")
    assert len(cache._models) == 2


def test_identical_files_share_one_session_and_a_replaced_file_is_reloaded(tmp_path):
    store = LocalModelStore(tmp_path)
    store.write("a.onnx", linear_model(FEATURES, seed=1))
    store.write("b.onnx", linear_model(FEATURES, seed=1))
    cache = ModelCache(store, threads=1)
    first, twin = cache.get("a.onnx"), cache.get("b.onnx")
    assert twin.session is first.session and twin.key == "b.onnx"
    store.write("a.onnx", linear_model(FEATURES, seed=2))
    assert cache.get("a.onnx").session is not first.session
