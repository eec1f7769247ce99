"""Many models fan out to shards that share one live download; failures reach the user."""

from __future__ import annotations

import pytest

from standins.aws import read_alerts
from standins.local_lambda import LocalContext
from standins.onnx_models import linear_model
from tests.integration.conftest import MODELS, accepted
from worker import RoundIncomplete


def heavy(bot) -> None:
    """Give every published model the measured cost of a typical 2,000-tree model."""
    import json

    from numerai_bot.adapters.model_store import open_model_store

    store = open_model_store(
        bot.stack.env()["MODEL_STORE_URI"],
    )
    document = json.loads(store.read("models.json").data)
    for entry in document["models"].values():
        entry["cost"] = {"predict_seconds_per_1k_rows": 0.07, "session_seconds": 0.1}
    store.write("models.json", json.dumps(document).encode())


def test_models_fan_out_to_shards_that_reuse_one_live_download(bot, monkeypatch):
    monkeypatch.setenv("SHARD_SIZE", "1")
    bot.restart_handlers()
    heavy(bot)
    downloads_before = bot.standin.calls().get("GET file", 0)
    result = bot.worker_handler({"source": "schedule"}, LocalContext("worker"))
    assert result["status"] == "fanned_out" and "3 shards" in result["message"]
    shard_results = bot.invoker.wait()
    assert [r["status"] for r in shard_results] == ["complete"] * len(MODELS)
    assert sorted(s["model_name"] for s in accepted(bot)) == sorted(MODELS)
    assert bot.standin.calls().get("GET file", 0) - downloads_before == 1


def test_a_failed_model_is_announced_on_the_alert_topic(bot, feature_sets):
    read_alerts(bot.stack)
    bot.publish("gamma", linear_model(feature_sets["small"], behaviour="constant"))
    # the run raises, so that Lambda's async retry and the alarms see the failed model
    with pytest.raises(RoundIncomplete, match="gamma"):
        bot.worker_handler({"source": "schedule"}, LocalContext("worker"))
    (alert,) = read_alerts(bot.stack)
    assert "NOT submitted" in alert["subject"]
    assert "gamma [classic]: failed (model returned (nearly) the same value" in alert["message"]
    assert "alpha [classic]: submitted" in alert["message"]


def test_the_scheduled_run_reports_what_it_caught_up_and_then_stays_quiet(bot):
    read_alerts(bot.stack)
    bot.worker_handler({"source": "manual", "models": ["alpha"]}, LocalContext("worker"))
    assert read_alerts(bot.stack) == []  # a successful manual run is quiet
    bot.worker_handler({"source": "schedule"}, LocalContext("worker"))
    (alert,) = read_alerts(bot.stack)
    assert "2 submitted" in alert["subject"]
    assert "alpha [classic]: skipped (already submitted" in alert["message"]
    bot.worker_handler({"source": "schedule"}, LocalContext("worker"))
    assert read_alerts(bot.stack) == []  # nothing missing: nobody is notified
