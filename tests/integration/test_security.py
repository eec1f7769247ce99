"""No token, key or secret ever reaches a log line or an answer, whatever happens."""

from __future__ import annotations

import io
import logging

import webhook
import worker
from standins.local_lambda import LocalContext
from tests.onnx_models import linear_model


def test_secrets_never_appear_in_logs_or_answers(bot, feature_sets, caplog, capsys):
    captured = io.StringIO()
    for module in (worker, webhook):
        module.logger.registered_handler.setStream(captured)
    caplog.set_level(logging.DEBUG)
    try:
        bot.register_webhooks(["alpha"])
        bot.trigger("alpha")
        bot.numerai.set_webhook(bot.numerai.model_ids()["beta"], bot.webhook_url("beta", "x" * 40))
        bot.trigger("beta")
        bot.publish("gamma", linear_model(feature_sets["small"], behaviour="nan"))
        bot.standin.wait_for_deliveries(2, timeout=30)
        bot.invoker.wait()
        try:
            bot.worker_handler({"source": "schedule"}, LocalContext("worker"))
        except Exception as error:
            answers = str(error)
        deliveries = str([d["body"] for d in bot.standin.webhook_deliveries()])  # our answers
    finally:
        for module in (worker, webhook):
            module.logger.registered_handler.setStream(__import__("sys").stdout)
    text = "\n".join(
        [captured.getvalue(), caplog.text, capsys.readouterr().out, answers, deliveries]
    )
    assert "model not submitted" in text  # the logs were captured
    for secret in (bot.token, bot.standin.secret_key, bot.standin.public_id):
        assert secret not in text
