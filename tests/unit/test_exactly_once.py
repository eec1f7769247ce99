"""Exactly once even when a worker dies, a ledger that never lies, and one model never
blocking the others (each test a user's story)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.errors import AlreadyInProgress
from numerai_bot.events import WorkerRequest
from numerai_bot.inference import ModelCache
from numerai_bot.ledger import FAILED, SUBMITTED, LedgerRecord
from numerai_bot.live_data import LiveDataCache
from numerai_bot.models_config import ModelConfig, render_models_config
from numerai_bot.outcomes import RETRY
from numerai_bot.round.records import LEDGER_RETRY
from numerai_bot.round.runner import RoundRunner
from numerai_bot.round.window import prediction_budget
from standins.onnx_models import linear_model, slow_model
from tests.unit.fakes import FakeNumerai, MemoryLedger, runner_with

MODELS = {"alpha": "id-alpha", "beta": "id-beta", "gamma": "id-gamma"}


class Clock:
    """A clock the test moves (the live cache remembers failures for 30 s)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def data(tmp_path: Path, small_data: Path) -> Path:
    """A private copy of the small data: tests may break its live file."""
    copy = tmp_path / "numerai" / "v5.2"
    shutil.copytree(small_data, copy)
    return copy


@pytest.fixture
def bot(tmp_path: Path, data: Path, small_features):
    store = LocalModelStore(tmp_path / "store")
    for i, name in enumerate(MODELS):
        store.write(f"models/{name}.onnx", linear_model(small_features["small"], seed=i))
    store.write(
        "models.json",
        render_models_config([ModelConfig(name, f"models/{name}.onnx") for name in MODELS]),
    )
    numerai = FakeNumerai(data, MODELS)
    ledger = MemoryLedger()
    shared = LocalModelStore(tmp_path / "shared")
    clock = Clock()
    runner = RoundRunner(
        numerai,
        store,
        ledger,
        LiveDataCache(tmp_path / "live", numerai, shared, clock=clock),
        ModelCache(store, threads=1),
    )
    return runner, numerai, store, ledger, shared, clock


def held_submission(numerai: FakeNumerai, model_id: str, round_number: int = 500) -> None:
    """What a worker killed right after ``create_submission`` leaves: Numerai has it."""
    numerai.uploads.append(
        {
            "id": "sub-killed",
            "model_id": model_id,
            "body": b"",
            "trigger_id": "trig-1",
            "round": round_number,
            "tournament": 8,
        }
    )


def test_worker_killed_after_create_submission_is_not_submitted_twice(bot):
    runner, numerai, _, ledger, _, _ = bot
    held_submission(numerai, "id-alpha")  # the ledger knows nothing of it
    result = runner.run(WorkerRequest("webhook", trigger_id="trig-1"))
    alpha = next(o for o in result.outcomes if o.model == "alpha")
    assert alpha.status == "skipped" and "found at Numerai" in alpha.detail
    assert [u["model_id"] for u in numerai.uploads].count("id-alpha") == 1
    record = ledger.get(500, "alpha")
    assert record.status == SUBMITTED and record.submission_id == "sub-killed"


def test_force_resubmits_even_when_numerai_holds_a_submission(bot):
    runner, numerai, _, ledger, _, _ = bot
    held_submission(numerai, "id-alpha")
    runner.run(WorkerRequest("manual", models=("alpha",), force=True))
    assert [u["model_id"] for u in numerai.uploads].count("id-alpha") == 2
    assert ledger.get(500, "alpha").forced is True


class HeldGuard:
    """The idempotency record of a killed invocation, still IN_PROGRESS."""

    def run_once(self, round_number, model, action, tournament=8):
        raise AlreadyInProgress("another invocation is submitting this model right now")


def test_a_model_held_by_another_invocation_is_a_retry_not_a_success(bot):
    runner, numerai, _, ledger, _, _ = bot
    runner = runner_with(runner, guard=HeldGuard())
    result = runner.run(WorkerRequest("webhook"))
    assert {o.status for o in result.outcomes} == {RETRY}
    assert result.status == "incomplete" and len(result.pending) == 3
    assert numerai.uploads == [] and ledger.get(500, "alpha") is None


def test_failed_never_replaces_submitted_and_older_never_replaces_newer():
    ledger = MemoryLedger()
    ok = LedgerRecord(500, "alpha", SUBMITTED, submission_id="s1", started_at=100.0)
    assert ledger.put(ok)
    stale_failure = LedgerRecord(500, "alpha", FAILED, error="S3 timeout", started_at=90.0)
    late_failure = LedgerRecord(500, "alpha", FAILED, error="S3 timeout", started_at=200.0)
    assert not ledger.put(stale_failure) and not ledger.put(late_failure)
    assert ledger.get(500, "alpha").status == SUBMITTED
    older = LedgerRecord(501, "beta", FAILED, error="old", started_at=50.0)
    newer = LedgerRecord(501, "beta", FAILED, error="new", started_at=60.0)
    assert ledger.put(newer) and not ledger.put(older)
    assert ledger.get(501, "beta").error == "new"


class FlakyLedger(MemoryLedger):
    """Fails the first ``failures`` SUBMITTED writes, as DynamoDB may right after an upload."""

    def __init__(self, failures: int = 1) -> None:
        super().__init__()
        self.failures = failures

    def put(self, record: LedgerRecord) -> bool:
        if record.status == SUBMITTED and self.failures:
            self.failures -= 1
            raise RuntimeError("DynamoDB throttled")
        return super().put(record)


def test_a_ledger_write_that_fails_once_after_the_upload_is_retried_at_once(bot):
    runner, numerai, _, _, _, _ = bot
    ledger = FlakyLedger(failures=1)
    runner = runner_with(runner, ledger=ledger)
    result = runner.run(WorkerRequest("webhook", models=("alpha",)))
    assert result.status == "complete" and len(numerai.uploads) == 1
    assert ledger.get(500, "alpha").status == SUBMITTED


def test_a_ledger_write_lost_after_the_upload_says_not_recorded_and_the_next_run_repairs_it(bot):
    runner, numerai, _, _, _, _ = bot
    ledger = FlakyLedger(failures=LEDGER_RETRY.attempts)
    runner = runner_with(runner, ledger=ledger)
    result = runner.run(WorkerRequest("webhook", models=("alpha",)))
    assert ledger.get(500, "alpha") is None and len(numerai.uploads) == 1
    (alpha,) = result.outcomes
    assert alpha.status == SUBMITTED and "submitted, not recorded" in alpha.detail
    assert result.status != "complete" and "submitted, not recorded" in result.message
    assert any("submitted, not recorded" in alert for alert in result.alerts)
    again = runner.run(WorkerRequest("schedule", models=("alpha",)))
    assert again.outcomes[0].status == "skipped" and len(numerai.uploads) == 1
    assert ledger.get(500, "alpha").status == SUBMITTED


def test_a_slow_model_is_stopped_at_its_budget_and_the_others_submit(bot, small_features):
    runner, _numerai, store, ledger, _, _ = bot
    store.write("models/alpha.onnx", slow_model(small_features["small"]))
    # slow_model runs ~0.3 s on one thread of a quiet 2-core machine: a 0.1 s budget always stops it
    configs = [ModelConfig("alpha", "models/alpha.onnx", time_budget_seconds=0.1)]
    configs += [ModelConfig(n, f"models/{n}.onnx") for n in ("beta", "gamma")]
    store.write("models.json", render_models_config(configs))
    result = runner.run(WorkerRequest("webhook"))
    failed = {o.model: o.detail for o in result.failed}
    assert list(failed) == ["alpha"] and "time budget of 0.1 s" in failed["alpha"]
    assert {o.model for o in result.submitted} == {"beta", "gamma"}
    assert ledger.get(500, "alpha").status == FAILED


def test_the_default_budget_is_a_fair_share_of_the_time_left():
    assert prediction_budget(None, None, 3) is None  # no deadline: no limit
    assert prediction_budget(None, 315.0, 3) == pytest.approx(100.0)  # 15 s kept for uploads
    assert prediction_budget(30, 315.0, 3) == 30
    assert prediction_budget(900, 315.0, 3) == 300


def test_one_bad_models_json_entry_fails_only_that_model(bot):
    runner, _numerai, store, _, _, _ = bot
    store.write(
        "models.json",
        b'{"models": {"alpha": {"artifact": "models/alpha.onnx", "transform": "sigmoid"},'
        b' "beta": {"artifact": 3}, "gamma": {"artifact": "models/gamma.onnx"}}}',
    )
    result = runner.run(WorkerRequest("webhook"))
    failed = {o.model: o.detail for o in result.failed}
    assert "'transform'" in failed["alpha"] and "sigmoid" in failed["alpha"]
    assert "'artifact'" in failed["beta"]
    assert [o.model for o in result.submitted] == ["gamma"]


def test_a_malformed_models_json_fails_the_run_with_one_clear_error(bot):
    runner, _numerai, store, _, _, _ = bot
    store.write("models.json", b"[1, 2")
    result = runner.run(WorkerRequest("webhook"))
    assert result.status == "failed" and "models.json is not valid JSON" in result.message


def break_live_file(path: Path) -> None:
    """A live file listing its ``id`` column twice."""
    table = pq.read_table(path)
    ids = table.column("id")
    broken = pa.Table.from_arrays([ids, *table.columns], names=["id", *table.column_names])
    pq.write_table(broken, path)


def test_a_live_file_with_two_id_columns_is_refused_and_evicted_from_both_caches(bot, data):
    runner, numerai, _, _, shared, clock = bot
    good = (data / "live.parquet").read_bytes()
    break_live_file(data / "live.parquet")
    shared.write("classic/500/v5.2/live.parquet", (data / "live.parquet").read_bytes())
    result = runner.run(WorkerRequest("webhook"))
    assert len(result.failed) == 3
    assert "lists column(s) id more than once" in result.failed[0].detail
    assert not (shared.root / "classic/500/v5.2/live.parquet").exists()
    (data / "live.parquet").write_bytes(good)  # Numerai fixes the file
    clock.now += 60
    again = runner.run(WorkerRequest("schedule"))
    assert again.status == "complete" and len(numerai.uploads) == 3


def test_an_unexpected_error_never_logs_a_presigned_url(bot, caplog):
    runner, numerai, _, _, _, _ = bot
    secret = "X-Amz-Signature=deadbeefcafe&X-Amz-Security-Token=IQoJb3JpZ2lu"

    def leaky_upload(*args, **kwargs):
        raise RuntimeError(f"PUT https://bucket.s3.amazonaws.com/sub.csv?{secret} failed")

    numerai.upload_submission = leaky_upload
    with caplog.at_level(logging.DEBUG):
        result = runner.run(WorkerRequest("webhook", models=("alpha",)))
    assert result.failed and "deadbeefcafe" not in result.failed[0].detail
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "deadbeefcafe" not in logged and "IQoJb3JpZ2lu" not in logged


class MemoryGuard:
    """Remembers each (tournament, round, key)'s result, as powertools Idempotency does."""

    def __init__(self) -> None:
        self.done: dict[tuple, dict] = {}

    def run_once(self, round_number, model, action, tournament=8):
        key = (tournament, round_number, model)
        if key not in self.done:
            self.done[key] = action()
        return self.done[key]


def test_a_round_that_closes_with_a_model_missing_alarms_once(bot):
    import datetime as dt

    from numerai_bot.ports import RoundInfo

    runner, numerai, _, ledger, _, _ = bot
    runner = runner_with(runner, guard=MemoryGuard())
    closed_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    numerai.closed[8] = RoundInfo(499, closed_at - dt.timedelta(hours=1), closed_at, closed_at)
    ledger.put(LedgerRecord(499, "alpha", SUBMITTED, submission_id="s-a"))
    held_submission(numerai, "id-beta", round_number=499)  # Numerai has it, the ledger not
    numerai.round_number = None  # between rounds: the check still looks back
    first = runner.run(WorkerRequest("schedule"))
    assert first.missing_at_close == 1
    assert first.alerts == ["classic round 499 closed with no submission from: gamma"]
    assert ledger.get(499, "beta").status == SUBMITTED  # repaired from Numerai
    again = runner.run(WorkerRequest("schedule"))
    assert again.missing_at_close == 0 and again.alerts == []


def test_a_failed_run_while_the_round_is_open_is_not_the_close_alarm(bot):
    runner, numerai, _, _, _, _ = bot
    numerai.fail_uploads_for = {"id-beta"}
    result = runner.run(WorkerRequest("schedule"))
    assert len(result.failed) == 1 and result.missing_at_close == 0


def test_a_newer_data_version_is_named_once_a_week(bot):
    runner, numerai, store, _, _, _ = bot
    runner = runner_with(runner, guard=MemoryGuard())
    configs = [ModelConfig("alpha", "models/alpha.onnx", data_version="v5.2")]
    configs += [ModelConfig(n, f"models/{n}.onnx", data_version="v5.3") for n in ("beta",)]
    store.write("models.json", render_models_config(configs))
    numerai.served = frozenset({"v5.2/live.parquet", "v5.3/live.parquet"})
    first = runner.run(WorkerRequest("schedule"))
    notices = [a for a in first.alerts if "now serves" in a]
    assert notices == [
        "classic: Numerai now serves v5.3; still on an older version: alpha (v5.2) "
        "(retrain or re-export on v5.3)"
    ]
    again = runner.run(WorkerRequest("schedule"))
    assert not [a for a in again.alerts if "now serves" in a]
