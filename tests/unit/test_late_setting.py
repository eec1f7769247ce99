"""A model may be set to skip late rounds: after Numerai's staking close, while the round still
takes submissions, it is skipped with a clear outcome and the others still submit late."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.events import WorkerRequest
from numerai_bot.models_config import (
    ModelConfig,
    parse_models_config,
    parse_models_entries,
    render_models_config,
)
from standins.onnx_models import linear_model
from tests.unit.fakes import FakeNumerai, local_runner

MODELS = {"on_time_only": "id-1", "late_ok": "id-2"}


@pytest.fixture
def bot(tmp_path: Path, small_data: Path, small_features):
    store = LocalModelStore(tmp_path / "store")
    for name in MODELS:
        store.write(f"models/{name}.onnx", linear_model(small_features["small"]))
    configs = [
        ModelConfig("on_time_only", "models/on_time_only.onnx", submits_late=False),
        ModelConfig("late_ok", "models/late_ok.onnx"),
    ]
    store.write("models.json", render_models_config(configs))
    numerai = FakeNumerai(small_data, MODELS)
    runner = local_runner(tmp_path, numerai, store)
    return runner, numerai, runner.ledger


def test_a_model_set_to_skip_late_rounds_is_skipped_and_the_others_submit_late(bot):
    runner, numerai, ledger = bot
    numerai.close_in = dt.timedelta(minutes=-3)  # staking closed 3 min ago
    numerai.late_window = dt.timedelta(hours=1)  # the round still takes submissions
    result = runner.run(WorkerRequest("schedule"))
    outcomes = {o.model: o for o in result.outcomes}
    skipped = outcomes["on_time_only"]
    assert skipped.status == "skipped_late" and not result.failed
    assert "1 already done" not in result.message  # it was not submitted at all
    assert "1 not submitted late (set to skip)" in result.message
    assert skipped.detail.startswith("late, and the model is set to skip late rounds")
    assert '"late": "submit"' in skipped.detail
    assert outcomes["late_ok"].status == "submitted"
    assert [u["model_id"] for u in numerai.uploads] == ["id-2"]
    assert ledger.get(500, "on_time_only") is None  # nothing failed, nothing to retry


def test_a_model_set_to_skip_late_rounds_submits_on_time(bot):
    runner, numerai, _ = bot
    result = runner.run(WorkerRequest("webhook"))
    assert len(result.submitted) == 2 and len(numerai.uploads) == 2


@pytest.mark.parametrize("value", ["never", "Skip", True, None, ["skip"]])
def test_a_bad_late_setting_fails_only_that_model_and_names_the_choices(value):
    document = {
        "models": {
            "m": {"artifact": "m.onnx", "late": value},
            "other": {"artifact": "other.onnx"},
        }
    }
    configs, broken = parse_models_entries(json.dumps(document))
    assert [c.name for c in configs] == ["other"]
    (entry,) = broken
    assert "'late' must be one of 'submit', 'skip'" in entry.error and repr(value) in entry.error


def test_the_late_setting_round_trips_and_the_default_is_left_out():
    text = '{"models": {"a": {"artifact": "a.onnx", "late": "skip"}, "b": {"artifact": "b.onnx"}}}'
    a, b = parse_models_config(text)
    assert (a.submits_late, b.submits_late) == (False, True)
    rendered = json.loads(render_models_config([a, b]))["models"]
    assert rendered["a"]["late"] == "skip" and "late" not in rendered["b"]
    assert parse_models_config(json.dumps({"models": rendered})) == [a, b]
