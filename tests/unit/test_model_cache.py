"""Sessions are cached, bounded, shared between identical files and refreshed on change."""

from __future__ import annotations

import contextlib
import threading
import time

from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.inference import ModelCache
from standins.onnx_models import linear_model

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


class _SlowStore(LocalModelStore):
    """Reads take a while and are counted, like a big file fetched from S3."""

    def __init__(self, root, fail_first: bool = False):
        super().__init__(root)
        self.reads = 0
        self.fail_first = fail_first

    def read(self, key):
        self.reads += 1
        time.sleep(0.3)
        if self.fail_first and self.reads == 1:
            raise OSError("S3 said 503")
        return super().read(key)


def test_a_model_asked_for_while_its_prefetch_is_building_is_built_once(tmp_path):
    store = _SlowStore(tmp_path)
    store.write("heavy.onnx", linear_model(FEATURES, seed=3))
    cache = ModelCache(store, threads=1)
    prefetch = threading.Thread(target=cache.get, args=("heavy.onnx",))
    prefetch.start()
    time.sleep(0.05)  # the prefetch is reading the file
    model = cache.get("heavy.onnx")
    prefetch.join()
    assert store.reads == 1
    assert cache.get("heavy.onnx").session is model.session


def test_a_failed_prefetch_leaves_the_model_its_own_attempt(tmp_path):
    store = _SlowStore(tmp_path, fail_first=True)
    store.write("m.onnx", linear_model(FEATURES, seed=4))
    cache = ModelCache(store, threads=1)
    prefetch = threading.Thread(target=lambda: _swallow(cache.get, "m.onnx"))
    prefetch.start()
    time.sleep(0.05)
    assert cache.get("m.onnx").metadata.features == tuple(FEATURES)
    prefetch.join()
    assert store.reads == 2


def _swallow(call, *args):
    with contextlib.suppress(OSError):
        call(*args)


def test_two_lanes_never_build_two_sessions_at_once(tmp_path, monkeypatch):
    import numerai_bot.inference as inference

    store = LocalModelStore(tmp_path)
    for name in ("a", "b", "c"):
        store.write(f"{name}.onnx", linear_model(FEATURES, seed=ord(name)))
    building, most = [], []
    build = inference.load_model

    def counted_build(*args, **kwargs):
        building.append(1)
        most.append(len(building))
        time.sleep(0.2)  # a 2,000-tree build takes a while
        try:
            return build(*args, **kwargs)
        finally:
            building.pop()

    monkeypatch.setattr(inference, "load_model", counted_build)
    cache = ModelCache(store, threads=1, max_sessions=3)
    lanes = [threading.Thread(target=cache.get, args=(f"{n}.onnx",)) for n in "abc"]
    for lane in lanes:
        lane.start()
    for lane in lanes:
        lane.join()
    assert len(most) == 3 and max(most) == 1  # each build's transient memory alone
