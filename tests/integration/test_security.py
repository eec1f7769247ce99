"""No token, key or secret ever reaches a log line or an answer, whatever happens."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import webhook
import worker
from numerai_bot_cli.commands.webhooks import webhook_url
from standins.local_lambda import LocalContext
from standins.onnx_models import linear_model
from tests.integration.conftest import accepted


@contextmanager
def handler_logs() -> Iterator[io.StringIO]:
    """What the worker's and the webhook's loggers write, meanwhile (then as before)."""
    captured = io.StringIO()
    handlers = [module.logger.registered_handler for module in (worker, webhook)]
    previous = [handler.setStream(captured) for handler in handlers]
    try:
        yield captured
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)


def test_secrets_never_appear_in_logs_or_answers(bot, feature_sets, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    with handler_logs() as captured:
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
    text = "\n".join(
        [captured.getvalue(), caplog.text, capsys.readouterr().out, answers, deliveries]
    )
    assert "model not submitted" in text  # the logs were captured
    for secret in (bot.token, bot.standin.secret_key, bot.standin.public_id):
        assert secret not in text


def test_the_token_never_reaches_a_log_line_in_either_url_form(bot, caplog, capsys):
    """Path form (what register-webhooks sets), query form (older registrations), and a
    wrong token: the calls work as they should, and no log line holds the token."""
    caplog.set_level(logging.DEBUG)
    ids = bot.numerai.model_ids()
    urls = {
        "alpha": webhook_url(bot.webhook_base_url, bot.token, "alpha"),
        "beta": bot.webhook_url("beta"),
        "gamma": webhook_url(bot.webhook_base_url, "y" * 48, "gamma"),
    }
    with handler_logs() as captured:
        before = len(bot.standin.webhook_deliveries())
        for name, url in urls.items():
            bot.numerai.set_webhook(ids[name], url)
        triggers = {bot.trigger(name): name for name in urls}
        deliveries = bot.standin.wait_for_deliveries(before + 3, timeout=30)
        bot.invoker.wait()
    answers = {
        triggers[d["trigger_id"]]: d["status"] for d in deliveries if d["trigger_id"] in triggers
    }
    assert answers == {"alpha": 200, "beta": 200, "gamma": 403}
    assert {s["model_name"] for s in accepted(bot)} == {"alpha", "beta"}
    text = "\n".join([captured.getvalue(), caplog.text, capsys.readouterr().out])
    assert text.count("webhook answered") >= 3  # the webhook's lines were captured
    assert bot.token not in text
