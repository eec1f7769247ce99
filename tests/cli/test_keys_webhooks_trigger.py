"""put-keys, register-webhooks and trigger against the stand-ins."""

from __future__ import annotations

import json
import sys
import time
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.adapters.numerai_client import NumeraiClient
from standins.numerai.resolvers import set_model_upload
from tests.cli.conftest import BOT_MODELS, MODELS

NEW_PUBLIC = "NEWPUBLICID00000000000000000000X"


def stored(bot) -> dict:
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=bot.stack.keys_secret)
    return json.loads(secret["SecretString"])


@pytest.fixture
def restore_keys(local_bot):
    """Put the stand-in's keys back after a test changed the secret."""
    yield
    boto3.client("secretsmanager").put_secret_value(
        SecretId=local_bot.stack.keys_secret,
        SecretString=json.dumps(
            {"public_id": local_bot.standin.public_id, "secret_key": local_bot.standin.secret_key}
        ),
    )


# --- put-keys ----------------------------------------------------------------------------


def test_put_keys_from_env_verifies_stores_and_never_echoes(
    local_bot, cli, monkeypatch, capsys, restore_keys
):
    public_id, secret_key = local_bot.standin.public_id, local_bot.standin.secret_key
    monkeypatch.setenv("NUMERAI_PUBLIC_ID", public_id)
    monkeypatch.setenv("NUMERAI_SECRET_KEY", secret_key)
    assert cli("put-keys") == 0
    captured = capsys.readouterr()
    count = len(local_bot.standin.models)  # 3, and any other CLI modules added to the stand-in
    assert "stored the Numerai keys" in captured.out and f"{count} models" in captured.err
    for text in (captured.out, captured.err):
        assert secret_key not in text and public_id not in text
    assert stored(local_bot) == {"public_id": public_id, "secret_key": secret_key}


def test_put_keys_prompts_without_echo(local_bot, cli, monkeypatch, capsys, restore_keys):
    monkeypatch.delenv("NUMERAI_PUBLIC_ID", raising=False)
    monkeypatch.delenv("NUMERAI_SECRET_KEY", raising=False)
    answers = iter([local_bot.standin.public_id, local_bot.standin.secret_key])
    prompts = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert cli("put-keys") == 0
    assert len(prompts) == 2 and all("not shown" in p for p in prompts)
    captured = capsys.readouterr()
    assert local_bot.standin.secret_key not in captured.out + captured.err


def test_put_keys_refuses_keys_numerai_rejects_and_stores_nothing(
    local_bot, cli, monkeypatch, capsys
):
    before = stored(local_bot)
    wrong = "WRONGSECRET" + "9" * 53
    monkeypatch.setenv("NUMERAI_PUBLIC_ID", NEW_PUBLIC)
    monkeypatch.setenv("NUMERAI_SECRET_KEY", wrong)
    assert cli("put-keys") == 1
    captured = capsys.readouterr()
    assert "Numerai refused the API keys" in captured.err and "numer.ai/account" in captured.err
    assert wrong not in captured.out + captured.err
    assert stored(local_bot) == before


def test_put_keys_skip_verify_still_never_echoes(local_bot, cli, monkeypatch, capsys, restore_keys):
    monkeypatch.setenv("NUMERAI_PUBLIC_ID", NEW_PUBLIC)
    monkeypatch.setenv("NUMERAI_SECRET_KEY", "S" * 64)
    assert cli("put-keys", "--skip-verify") == 0
    captured = capsys.readouterr()
    assert "S" * 64 not in captured.out + captured.err
    assert stored(local_bot)["public_id"] == NEW_PUBLIC


def test_put_keys_without_terminal_or_env_says_how(cli, monkeypatch, capsys):
    monkeypatch.delenv("NUMERAI_PUBLIC_ID", raising=False)
    monkeypatch.delenv("NUMERAI_SECRET_KEY", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert cli("put-keys") == 1
    assert "NUMERAI_SECRET_KEY" in capsys.readouterr().err


# --- register-webhooks -------------------------------------------------------------------


def test_register_webhooks_sets_a_path_form_url_per_model_without_printing_the_token(
    bot, cli, capsys
):
    assert cli("register-webhooks") == 0
    captured = capsys.readouterr()
    token = bot.token
    assert token not in captured.out + captured.err
    registered = bot.standin.webhooks()
    base = bot.webhook_base_url.rstrip("/")
    for name in BOT_MODELS:
        assert registered[name] == f"{base}/{token}/{name}"  # no query string at all
        assert f"{name}: webhook set to {base}/…/{name}" in captured.out


def test_a_path_form_registration_fires_a_round_for_that_model_only(bot, cli, capsys):
    assert urlsplit(bot.standin.webhooks()["beta"]).query == ""
    assert cli("trigger", "beta", "--interval", "0.1", "--timeout", "60") == 0
    bot.invoker.wait(timeout=30)
    round_number = bot.standin.current_round
    assert [s["round"] for s in bot.standin.submissions("beta")].count(round_number) == 1
    assert round_number not in [s["round"] for s in bot.standin.submissions("alpha")]


def test_an_existing_query_form_registration_keeps_working(bot, cli, capsys):
    bot.numerai.set_webhook(MODELS["alpha"], bot.webhook_url("alpha"))  # ?token=…&model=alpha
    assert parse_qs(urlsplit(bot.standin.webhooks()["alpha"]).query)["model"] == ["alpha"]
    assert cli("trigger", "alpha", "--interval", "0.1", "--timeout", "60") == 0
    out = capsys.readouterr().out
    trigger_id = out.split("trigger id ")[1].split()[0]
    bot.invoker.wait(timeout=30)
    (submission,) = [
        s for s in bot.standin.submissions("alpha") if s["round"] == bot.standin.current_round
    ]
    assert submission["trigger_id"] == trigger_id


def test_register_webhooks_fails_loudly_when_numerai_does_not_confirm(
    bot, cli, capsys, monkeypatch
):
    """Numerai answers ``false`` for beta: exit 1, beta named, alpha reported as done."""
    real_graphql = NumeraiClient.graphql

    def graphql(self, query, variables=None, **kwargs):
        if "setSubmissionWebhook" in query and variables["modelId"] == MODELS["beta"]:
            return {"data": {"setSubmissionWebhook": "false"}}
        return real_graphql(self, query, variables, **kwargs)

    monkeypatch.setattr(NumeraiClient, "graphql", graphql)
    assert cli("register-webhooks", "alpha", "beta") == 1
    captured = capsys.readouterr()
    assert "Numerai did not confirm the webhook of beta" in captured.err
    assert "already done: alpha" in captured.err
    assert "register-webhooks beta" in captured.err
    assert "beta: webhook set" not in captured.out
    assert bot.token not in captured.out + captured.err


def test_register_webhooks_refuses_a_model_upload_model_and_registers_nothing(bot, cli, capsys):
    set_model_upload(bot.standin.state, MODELS["hosted"], "predict.pkl")
    try:
        before = bot.standin.webhooks()
        assert cli("register-webhooks", "alpha", "hosted") == 1
    finally:
        set_model_upload(bot.standin.state, MODELS["hosted"], None)
    err = capsys.readouterr().err
    assert "hosted uses Numerai's Model Uploads (predict.pkl)" in err
    assert "nothing registered" in err and "remove the upload" in err
    assert bot.standin.webhooks() == before
    assert "hosted" not in bot.standin.webhooks()


def test_register_webhooks_names_unknown_models(bot, cli, capsys):
    assert cli("register-webhooks", "nobody") == 1
    assert "nobody is not a model of this account" in capsys.readouterr().err


def test_register_webhooks_refuses_a_model_whose_tournament_differs_from_the_config(
    bot, workspace, capsys
):
    from numerai_bot_cli.main import main

    config = workspace / "numerai-bot.toml"
    text = config.read_text()
    block = text.index("[models.alpha]")
    line = text.index('tournament = "classic"', block)
    wrong = workspace / "wrong-tournament.toml"
    wrong.write_text(text[:line] + 'tournament = "signals"' + text[line + 22 :])
    before = bot.standin.webhooks()
    assert main(["register-webhooks", "alpha", "--config", str(wrong)]) == 1
    err = capsys.readouterr().err
    assert "alpha is a tournament-8 model in the account but signals (11)" in err
    assert bot.standin.webhooks() == before  # nothing registered


def test_register_webhooks_clear_removes_them(bot, cli):
    assert cli("register-webhooks", "beta", "--clear") == 0
    assert "beta" not in bot.standin.webhooks()


# --- trigger -----------------------------------------------------------------------------


def test_trigger_waits_for_the_submission_with_its_trigger_id(bot, cli, capsys):
    assert cli("trigger", "alpha", "--interval", "0.1", "--timeout", "60") == 0
    out = capsys.readouterr().out
    trigger_id = out.split("trigger id ")[1].split()[0]
    assert "listed by Numerai" in out
    (submission,) = [
        s for s in bot.standin.submissions("alpha") if s["round"] == bot.standin.current_round
    ]
    assert submission["trigger_id"] == trigger_id
    bot.invoker.wait(timeout=30)  # Numerai lists the upload just before the ledger write
    record = DynamoLedger(bot.stack.table, boto3.resource("dynamodb")).get(
        bot.standin.current_round, "alpha"
    )
    assert record.status == "submitted" and record.trigger_id == trigger_id


def test_trigger_without_a_webhook_says_register_first(bot, cli, capsys):
    assert cli("trigger", "hosted", "--timeout", "1") == 1
    assert "register-webhooks hosted" in capsys.readouterr().err


def test_trigger_reports_a_failed_submission_at_once_with_the_bots_reason(bot, cli, capsys):
    bot.standin.set_put_behaviour("reject", status=403)
    started = time.monotonic()
    assert cli("trigger", "beta", "--interval", "0.1", "--timeout", "60") == 1
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert "the bot did not submit beta" in err and "HTTP 403" in err
    assert "numerai-bot logs --trigger" in err
    bot.invoker.wait(timeout=30)


def test_trigger_times_out_pointing_at_the_logs(bot, cli, capsys):
    wrong = bot.webhook_url("beta", token="not-the-token-" + "x" * 20)
    bot.numerai.set_webhook(MODELS["beta"], wrong)  # the webhook answers 403: nothing runs
    assert cli("trigger", "beta", "--interval", "0.1", "--timeout", "1") == 1
    err = capsys.readouterr().err
    assert "no submission with trigger id" in err and "numerai-bot logs --trigger" in err


def test_trigger_between_rounds_says_when_rounds_open(bot, cli, capsys):
    bot.standin.close_round()
    assert cli("trigger", "alpha") == 1
    assert "Tuesday to Saturday" in capsys.readouterr().err
