"""Doctor checks on the webhook: (c) each model's registered URL is this stack's, (d) the
Function URL refuses a wrong token and, with ``--fire``, a test call ends in a submission.

Registered URLs are compared by host, path, token and model, and printed only as
``scheme://host``: never with a token. Numerai documents no query that returns a model's
webhook, so without :attr:`Probes.registered_webhooks` the evidence is the ledger: a round
whose submission arrived through this stack's webhook.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from numerai_bot.errors import NumeraiError
from numerai_bot.ledger import FAILED, SUBMITTED
from numerai_bot.models_config import ModelConfig
from numerai_bot_cli.commands.trigger import find_submission
from numerai_bot_cli.commands.webhooks import read_token
from numerai_bot_cli.doctor.core import Finding, check, failed, passed, unverified
from numerai_bot_cli.doctor.env import DoctorEnv

REGISTER = "numerai-bot register-webhooks"
WEBHOOK_SOURCES = ("webhook", "shard")  # a fan-out shard keeps the webhook's trigger id
PROBE_TIMEOUT = 10.0


@check(
    "c",
    "webhook",
    "each model's webhook registered on Numerai is this stack's Function URL",
    REGISTER,
)
def webhook_check(env: DoctorEnv) -> Iterator[Finding]:
    """Compare what Numerai holds with the stack's URL and token, per model."""
    configs = env.configs()
    base = env.output("WebhookBaseUrl")
    reader = env.probes.registered_webhooks
    if reader is None:
        for config in configs:
            yield _ledger_evidence(env, config)
        return
    token = read_token(env.output("WebhookTokenSecretName"), env.ctx.region)
    registered = reader(env)
    for config in configs:
        yield compare_webhook(config.name, registered.get(config.name), base, token)


def compare_webhook(model: str, url: str | None, base: str, token: str) -> Finding:
    """Whether ``url`` (path form ``<base>/<token>/<model>`` or query form
    ``<base>?token=…&model=…``) reaches this stack for ``model``."""
    name = f"webhook/{model}"
    fix = f"{REGISTER} {model}"
    if not url:
        return failed(name, "no webhook registered: Numerai will not call the stack", fix)
    parts, ours = urlsplit(url), urlsplit(base)
    prefix = ours.path.rstrip("/")
    same_host = (parts.scheme, parts.netloc.lower()) == (ours.scheme, ours.netloc.lower())
    if not same_host or not (parts.path == prefix or parts.path.startswith(prefix + "/")):
        return failed(
            name,
            f"points at {parts.scheme}://{parts.netloc}, not this stack "
            f"({ours.scheme}://{ours.netloc})",
            fix,
        )
    segments = [unquote(s) for s in parts.path[len(prefix) :].split("/") if s]
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if v}
    if "token" in query:
        form, given, named = "query form", query["token"], query.get("model")
    elif segments and len(segments) <= 2:
        form, given = "path form", segments[0]
        named = segments[1] if len(segments) == 2 else query.get("model")
    else:
        return failed(name, "this stack's host, but not a URL the webhook accepts", fix)
    if not hmac.compare_digest(given.encode(), token.encode()):
        return failed(
            name,
            f"this stack's URL ({form}) with another token (an earlier deployment's?): "
            "the stack answers it 403",
            fix,
        )
    if named is None:
        return passed(
            name, f"this stack's URL ({form}), no model: a call submits every model missing"
        )
    if named != model:
        return failed(name, f"this stack's URL ({form}) for model {named}, not {model}", fix)
    return passed(name, f"this stack's URL ({form}) for {model}")


def _ledger_evidence(env: DoctorEnv, config: ModelConfig) -> Finding:
    """Without a way to read the registration: did the last round come through it?"""
    name = f"webhook/{config.name}"
    latest = env.latest_round(config.tournament)
    record = env.ledger().get(latest.number, config.name, config.tournament.id)
    if (
        record is not None
        and record.status == SUBMITTED
        and record.source in WEBHOOK_SOURCES
        and record.trigger_id
    ):
        return passed(
            name,
            f"Numerai called this stack's webhook for {config.name} in round {latest.number} "
            f"(trigger {record.trigger_id}); the registration itself cannot be read",
        )
    return unverified(
        name,
        "Numerai has no documented query for a model's webhook, and the ledger shows no "
        f"webhook call for {config.name} in round {latest.number}",
        f"`numerai-bot doctor --fire {config.name}` sends a test call through it, or "
        f"`{REGISTER}` (re)registers every model",
    )


@check(
    "d",
    "function-url",
    "the Function URL answers 403 to a wrong token (and with --fire, a test call submits)",
    "redeploy the current template (`numerai-bot deploy`)",
)
def function_url_check(env: DoctorEnv) -> Iterator[Finding]:
    """Wrong token in path form, query form, and no token at all: each must be a 403."""
    base = env.output("WebhookBaseUrl").rstrip("/")
    wrong = "doctor-not-the-token-" + secrets.token_urlsafe(12)
    calls = {
        "path form": f"{base}/{wrong}/doctor-probe",
        "query form": f"{base}/?token={wrong}&model=doctor-probe",
        "no token": f"{base}/",
    }
    body = json.dumps({"isTest": True}).encode()
    answers = {form: env.probes.http_post(url, body, PROBE_TIMEOUT) for form, url in calls.items()}
    host = urlsplit(base).netloc
    accepted = [form for form, status in answers.items() if 200 <= status < 300]
    if accepted:
        yield failed(
            "function-url/wrong-token",
            f"{host} accepted a wrong token ({', '.join(accepted)}): anyone with the URL can "
            "start the worker",
            "redeploy the current template (`numerai-bot deploy`); the webhook must read its "
            "token from WEBHOOK_TOKEN_SECRET_ID",
        )
    elif all(status == 0 for status in answers.values()):
        yield failed(
            "function-url/wrong-token",
            f"{host} did not answer",
            "check the stack output WebhookBaseUrl (or --webhook-url) and that the stack is "
            "deployed",
        )
    elif any(status != 403 for status in answers.values()):
        seen = ", ".join(f"{form}: {status or 'no answer'}" for form, status in answers.items())
        yield failed(
            "function-url/wrong-token",
            f"expected 403 to a wrong token, got {seen}",
            "read the webhook's log (`aws logs tail /aws/lambda/<stack>-webhook`)",
        )
    else:
        yield passed(
            "function-url/wrong-token", "403 to a wrong token (path and query form) and to none"
        )
    if env.fire is not None:
        yield fire(env)


def fire(env: DoctorEnv) -> Finding:
    """``triggerModelWebhook`` for one model, then wait (bounded) until Numerai lists the
    submission carrying the trigger id and the ledger records it."""
    name = "function-url/fire"
    configs = env.configs()
    account = env.account()
    usable = [
        c for c in configs if c.name in account and account[c.name].tournament == c.tournament.id
    ]
    if env.fire:
        chosen = next((c for c in usable if c.name == env.fire), None)
        if chosen is None:
            return failed(
                name,
                f"{env.fire} is not a usable model of models.json (see account)",
                "fire a model listed above with ✓",
            )
    else:
        chosen = next((c for c in usable if not _submitted(env, c)), usable[0] if usable else None)
        if chosen is None:
            return failed(
                name,
                "no model of models.json is usable (see account)",
                "fix the account check first",
            )
    latest = env.latest_round(chosen.tournament)
    if not latest.is_open:
        return unverified(
            name,
            f"no {chosen.tournament} round is open: a test call needs one",
            "run `numerai-bot doctor --fire` while a round is open (Tuesday to Saturday, from "
            "about 12:00 UTC)",
        )
    if _submitted(env, chosen):
        return unverified(
            name,
            f"{chosen.name} already submitted round {latest.number}: the worker skips a test "
            "call for it",
            "fire a model still missing this round (`--fire MODEL`), or after the next round opens",
        )
    model_id = account[chosen.name].id
    try:
        trigger_id = env.client().trigger_webhook(model_id)
    except NumeraiError as error:
        return failed(
            name,
            f"Numerai could not call {chosen.name}'s webhook: {error}",
            f"{REGISTER} {chosen.name}",
        )
    return _wait(env, chosen, model_id, latest.number, trigger_id)


def _submitted(env: DoctorEnv, config: ModelConfig) -> bool:
    latest = env.latest_round(config.tournament)
    record = env.ledger().get(latest.number, config.name, config.tournament.id)
    return record is not None and record.status == SUBMITTED


def _wait(
    env: DoctorEnv, config: ModelConfig, model_id: str, round_number: int, trigger_id: str
) -> Finding:
    """Poll Numerai and the ledger until both show the trigger's submission, or time out."""
    name = "function-url/fire"
    started = time.monotonic()
    listed = None
    while True:
        listed = listed or find_submission(env.client().submissions(model_id), trigger_id)
        record = env.ledger().get(round_number, config.name, config.tournament.id)
        mine = record is not None and record.trigger_id == trigger_id
        if mine and record.status == FAILED:
            return failed(
                name,
                f"the stack ran {config.name} for the test call and failed: {record.error}",
                f"`numerai-bot logs --trigger {trigger_id}`",
            )
        seconds = time.monotonic() - started
        if listed and mine and record.status == SUBMITTED:
            return passed(
                name,
                f"test call for {config.name}: Numerai listed submission {listed.get('id')} "
                f"(round {round_number}) and the ledger recorded it after {seconds:.0f} s",
            )
        if seconds >= env.timeout:
            break
        env.probes.sleep(env.interval)
    where = "listed by Numerai but not in the ledger" if listed else "no submission listed"
    return failed(
        name,
        f"test call for {config.name} (trigger {trigger_id}): {where} after {env.timeout:.0f} s",
        f"`numerai-bot logs --trigger {trigger_id}` shows what the worker did",
    )
