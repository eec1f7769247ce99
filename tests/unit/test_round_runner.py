"""The core submits every configured model once, and one broken model never blocks others."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.events import WorkerRequest
from numerai_bot.inference import ModelCache
from numerai_bot.live_data import LiveDataCache
from numerai_bot.models_config import ModelConfig, render_models_config
from numerai_bot.round.runner import RoundRunner
from numerai_bot.submission import validate_submission
from standins.onnx_models import linear_model
from tests.unit.fakes import FakeNumerai, MemoryLedger, runner_with

MODELS = {"alpha": "id-alpha", "beta": "id-beta", "gamma": "id-gamma"}


@pytest.fixture
def bot(tmp_path: Path, small_data: Path, small_features):
    store = LocalModelStore(tmp_path / "store")
    medium = small_features["medium"]
    for i, name in enumerate(MODELS):
        store.write(
            f"models/{name}.onnx", linear_model(medium if i else small_features["small"], seed=i)
        )
    store.write(
        "models.json",
        render_models_config([ModelConfig(name, f"models/{name}.onnx") for name in MODELS]),
    )
    numerai = FakeNumerai(small_data, MODELS)
    ledger = MemoryLedger()
    runner = RoundRunner(
        numerai,
        store,
        ledger,
        LiveDataCache(tmp_path / "live", numerai),
        ModelCache(store, threads=1),
    )
    return runner, numerai, store, ledger


def live_ids(small_data: Path) -> np.ndarray:
    import pyarrow.parquet as pq

    return np.asarray(
        pq.read_table(small_data / "live.parquet", columns=["id"])["id"].to_pylist(), dtype=object
    )


def test_every_configured_model_submits_a_valid_csv_with_the_trigger_id(bot, small_data):
    runner, numerai, _, ledger = bot
    result = runner.run(WorkerRequest("webhook", 500, "trig-1"))
    assert result.status == "complete" and len(result.submitted) == 3
    assert {u["model_id"] for u in numerai.uploads} == set(MODELS.values())
    for upload in numerai.uploads:
        assert upload["trigger_id"] == "trig-1"
        assert validate_submission(upload["body"], live_ids(small_data)) == 300
    assert ledger.get(500, "beta").status == "submitted"
    assert numerai.downloads == 1


def test_second_run_of_the_same_round_submits_nothing_more(bot):
    runner, numerai, _, _ = bot
    runner.run(WorkerRequest("webhook"))
    again = runner.run(WorkerRequest("schedule"))
    assert [o.status for o in again.outcomes] == ["skipped"] * 3
    assert len(numerai.uploads) == 3


def test_closed_round_submits_nothing_and_says_so(bot):
    runner, numerai, _, _ = bot
    numerai.round_number = None
    result = runner.run(WorkerRequest("webhook", 500))
    assert result.status == "closed" and "not open" in result.message and numerai.uploads == []


@pytest.mark.parametrize(("behaviour", "message"), [("nan", "NaN"), ("constant", "same value")])
def test_bad_predictions_are_refused_and_the_other_models_submit(
    bot, small_features, behaviour, message
):
    runner, numerai, store, ledger = bot
    store.write("models/beta.onnx", linear_model(small_features["small"], behaviour=behaviour))
    result = runner.run(WorkerRequest("webhook"))
    failed = {o.model: o.detail for o in result.failed}
    assert list(failed) == ["beta"] and message in failed["beta"]
    assert {u["model_id"] for u in numerai.uploads} == {"id-alpha", "id-gamma"}
    assert ledger.get(500, "beta").status == "failed" and message in ledger.get(500, "beta").error


def test_corrupt_file_missing_metadata_and_unknown_feature_are_isolated(bot, small_features):
    runner, numerai, store, _ = bot
    store.write("models/alpha.onnx", b"not an onnx file")
    store.write("models/beta.onnx", linear_model(small_features["small"], metadata=False))
    store.write("models/gamma.onnx", linear_model(["feature_that_does_not_exist"]))
    result = runner.run(WorkerRequest("webhook"))
    details = {o.model: o.detail for o in result.failed}
    assert "not a loadable ONNX" in details["alpha"]
    assert "metadata" in details["beta"]
    assert "not in v5.2 live data" in details["gamma"]
    assert numerai.uploads == []


def test_unknown_model_name_is_a_clear_per_model_error(bot):
    runner, numerai, _, _ = bot
    del numerai.models["gamma"]
    result = runner.run(WorkerRequest("webhook"))
    assert "not in this Numerai account" in result.failed[0].detail
    assert len(numerai.uploads) == 2


def test_failed_upload_is_a_failure_and_a_retry_submits_only_what_is_missing(bot):
    runner, numerai, _, _ = bot
    numerai.fail_uploads_for = {"id-beta"}
    first = runner.run(WorkerRequest("webhook"))
    assert [o.model for o in first.failed] == ["beta"] and "HTTP 403" in first.failed[0].detail
    numerai.fail_uploads_for = set()
    second = runner.run(WorkerRequest("schedule"))
    assert [o.model for o in second.submitted] == ["beta"]


def test_replaced_model_file_is_picked_up_without_a_new_container(bot, small_features):
    runner, numerai, store, _ = bot
    runner.run(WorkerRequest("webhook", models=("alpha",)))
    store.write("models/alpha.onnx", linear_model(small_features["small"], seed=42))
    runner.run(WorkerRequest("manual", models=("alpha",), force=True))
    first, second = (u["body"] for u in numerai.uploads)
    assert first != second


def test_after_the_round_closes_nothing_is_uploaded_and_the_result_says_why(bot):
    runner, numerai, _, _ = bot
    import datetime as dt

    numerai.close_in = dt.timedelta(minutes=-3)
    result = runner.run(WorkerRequest("schedule"))
    assert result.status == "closed"
    assert "closed for submissions 3 min ago, late ones included" in result.message
    assert numerai.uploads == []


def test_after_the_staking_close_a_late_submission_is_better_than_none(bot):
    """Numerai still takes the round's submissions after closeStakingTime (scored, not
    staked); a Signals or Crypto week without one zeroes the stake."""
    runner, numerai, _, _ = bot
    import datetime as dt

    numerai.close_in = dt.timedelta(minutes=-3)
    numerai.late_window = dt.timedelta(hours=1)
    result = runner.run(WorkerRequest("schedule"))
    assert result.status == "complete" and len(numerai.uploads) == len(result.submitted) > 0
    assert all(o.detail.startswith("late: after the staking close") for o in result.submitted)
    assert {u["round"] for u in numerai.uploads} == {500}


def test_models_that_cannot_finish_before_the_deadline_are_not_started(bot):
    runner, numerai, _, ledger = bot
    import time

    result = runner.run(WorkerRequest("webhook"), deadline=time.monotonic() + 5)
    assert [o.status for o in result.outcomes] == ["failed"] * 3
    assert "s left" in result.outcomes[0].detail and numerai.uploads == []
    assert ledger.get(500, "alpha").status == "failed"


def test_uploads_of_different_models_run_concurrently(bot):
    runner, numerai, _, _ = bot
    import threading

    barrier = threading.Barrier(len(MODELS), timeout=10)
    upload = numerai.upload_submission

    def upload_when_all_are_in_flight(*args, **kwargs):
        barrier.wait()  # breaks (and the model fails) if uploads ran one after another
        return upload(*args, **kwargs)

    numerai.upload_submission = upload_when_all_are_in_flight
    result = runner.run(WorkerRequest("webhook"))
    assert result.status == "complete" and len(numerai.uploads) == len(MODELS)


class _RecordingCache(ModelCache):
    """Records which lane asked for each model, and how many onnxruntime threads its
    session was built with."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lanes: list[str] = []
        self.threads: list[int | None] = []

    def fetch(self, key):
        self.lanes.append(threading.current_thread().name)
        return super().fetch(key)

    def build(self, fetched, threads=None):
        self.threads.append(threads)
        return super().build(fetched, threads)


@pytest.mark.parametrize("lanes", [1, 2])
def test_models_predict_side_by_side_one_lane_per_vcpu(bot, lanes, monkeypatch):
    runner, numerai, store, ledger = bot
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    models = _RecordingCache(store, threads=1)
    runner = runner_with(runner, models=models, lanes=lanes)
    result = runner.run(WorkerRequest("webhook", 500))
    assert len(set(models.lanes)) == lanes and len(models.threads) == 3
    assert set(models.threads) == {2 // lanes}
    assert [o.model for o in result.outcomes] == list(MODELS)  # reported in models.json order
    assert len(numerai.uploads) == 3 and ledger.get(500, "gamma").status == "submitted"
