"""The live file loads beside the first session builds; it reaches the shared cache when
models are handed to shards, before any of them looks for it, and only then."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from pathlib import Path

import pytest

from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.errors import LiveDataError
from numerai_bot.events import WorkerRequest
from numerai_bot.inference import ModelCache
from numerai_bot.live_data import LiveDataCache
from numerai_bot.models_config import ModelConfig, render_models_config
from numerai_bot.ports import RoundInfo
from numerai_bot.round.fan_out import FanOut
from numerai_bot.tournaments import CLASSIC
from standins.onnx_models import linear_model
from tests.unit.fakes import FakeNumerai, local_runner, runner_with

SHARED_KEY = "classic/500/v5.2/live.parquet"


class SlowStore(LocalModelStore):
    """A shared cache whose uploads take a while; records which thread wrote."""

    def __init__(self, root: Path, seconds: float = 0.3) -> None:
        super().__init__(root)
        self.seconds = seconds
        self.writers: list[str] = []

    reads = 0

    def read(self, key: str):
        self.reads += 1
        return super().read(key)

    def write_file(self, key: str, path: Path) -> str:
        time.sleep(self.seconds)
        self.writers.append(threading.current_thread().name)
        return super().write_file(key, path)


@pytest.fixture
def data(tmp_path: Path, small_data: Path) -> Path:
    copy = tmp_path / "numerai" / "v5.2"
    shutil.copytree(small_data, copy)
    return copy


class RecordingNumerai(FakeNumerai):
    """Records which thread downloaded each file."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.downloaders: list[str] = []

    def download_dataset(self, filename, dest, round_number, tournament=CLASSIC):
        self.downloaders.append(threading.current_thread().name)
        return super().download_dataset(filename, dest, round_number, tournament)


def one_model_runner(tmp_path: Path, data: Path, features: list[str], shared: SlowStore):
    store = LocalModelStore(tmp_path / "store")
    store.write("alpha.onnx", linear_model(features))
    config = ModelConfig("alpha", "alpha.onnx", data_version="v5.2")
    store.write("models.json", render_models_config([config]))
    return local_runner(tmp_path, RecordingNumerai(data, {"alpha": "id-alpha"}), store, shared)


def test_a_run_of_its_own_models_shares_nothing(tmp_path, data, small_features):
    shared = SlowStore(tmp_path / "shared")
    runner = one_model_runner(tmp_path, data, small_features["small"], shared)
    assert runner.run(WorkerRequest("webhook")).status == "complete"
    assert shared.writers == [] and not (shared.root / SHARED_KEY).exists()


def test_the_live_file_loads_beside_the_model_session(tmp_path, data, small_features):
    shared = SlowStore(tmp_path / "shared", seconds=0.0)
    runner = one_model_runner(tmp_path, data, small_features["small"], shared)
    assert runner.run(WorkerRequest("webhook")).status == "complete"
    assert runner.numerai.downloaders == ["live-prefetch"]


class BuildRecorder(ModelCache):
    """Records the thread each session is built on."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.builders: list[str] = []

    def build(self, fetched, threads=None):
        self.builders.append(threading.current_thread().name)
        return super().build(fetched, threads)


def test_the_session_builds_beside_the_live_column_read(tmp_path, data, small_features):
    runner = one_model_runner(tmp_path, data, small_features["small"], SlowStore(tmp_path / "s"))
    models = BuildRecorder(runner.store, threads=1)
    runner = runner_with(runner, models=models)
    assert runner.run(WorkerRequest("webhook")).status == "complete"
    assert models.builders == ["session-build"]


def test_a_live_file_that_fails_early_fails_the_model_once_with_its_reason(
    tmp_path, data, small_features
):
    (data / "live.parquet").write_bytes(b"not parquet")
    runner = one_model_runner(tmp_path, data, small_features["small"], SlowStore(tmp_path / "s"))
    result = runner.run(WorkerRequest("webhook"))
    (failed,) = result.failed
    assert "live.parquet of round 500 is unreadable" in failed.detail
    assert runner.numerai.downloaders == ["live-prefetch"]  # remembered, not fetched twice


class CheckingInvoker:
    """Records, at each shard's start, whether the shared cache holds the live file."""

    def __init__(self, shared: Path) -> None:
        self.shared = shared
        self.found: list[bool] = []

    def invoke(self, request: WorkerRequest) -> None:
        self.found.append((self.shared / SHARED_KEY).is_file())


def test_shards_start_only_once_the_live_file_is_in_the_shared_cache(tmp_path, data):
    numerai = FakeNumerai(data, {})
    shared = SlowStore(tmp_path / "shared")
    invoker = CheckingInvoker(shared.root)
    fan_out = FanOut(invoker, LiveDataCache(tmp_path / "live", numerai, shared), shard_size=1)
    configs = [ModelConfig(n, f"{n}.onnx", data_version="v5.2") for n in ("a", "b")]
    info = RoundInfo(500, dt.datetime.now(dt.UTC), None, None)
    result = fan_out.hand_off(fan_out.shards(configs), {CLASSIC: info}, WorkerRequest("x"), {}, [])
    assert result.status == "fanned_out"
    assert invoker.found == [True, True] and numerai.downloads == 1


def test_a_file_is_staged_once_and_not_again_by_a_worker_that_read_it_from_the_cache(
    tmp_path, data
):
    shared = SlowStore(tmp_path / "shared", seconds=0.0)
    first = LiveDataCache(tmp_path / "first", FakeNumerai(data, {}), shared)
    first.stage(500, "v5.2")
    first.stage(500, "v5.2")
    shard_source = FakeNumerai(data, {})
    shard = LiveDataCache(tmp_path / "shard", shard_source, shared)
    shard.stage(500, "v5.2")  # a shard handing off again finds it in the bucket
    assert len(shared.writers) == 1 and shard_source.downloads == 0


def test_a_staged_file_found_bad_later_leaves_the_shared_cache(tmp_path, data):
    shared = SlowStore(tmp_path / "shared", seconds=0.0)
    cache = LiveDataCache(tmp_path / "live", FakeNumerai(data, {}), shared)
    cache.stage(500, "v5.2")
    assert (shared.root / SHARED_KEY).is_file()
    live = cache.get(500, "v5.2")
    assert live.on_bad_file is not None
    live.on_bad_file(LiveDataError("column feature_x holds no numbers"))
    assert not (shared.root / SHARED_KEY).exists()


@pytest.mark.parametrize(
    ("source", "shared_reads", "downloads"), [("shard", 1, 0), ("webhook", 0, 1)]
)
def test_only_a_shard_looks_in_the_shared_cache(
    tmp_path, data, small_features, source, shared_reads, downloads
):
    shared = SlowStore(tmp_path / "shared", seconds=0.0)
    LiveDataCache(tmp_path / "stager", FakeNumerai(data, {}), shared).stage(500, "v5.2")
    shared.reads = 0
    runner = one_model_runner(tmp_path, data, small_features["small"], shared)
    result = runner.run(WorkerRequest(source, models=("alpha",)))
    assert result.status == "complete"
    assert shared.reads == shared_reads and runner.numerai.downloads == downloads
