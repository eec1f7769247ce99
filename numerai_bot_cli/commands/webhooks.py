"""``numerai-bot register-webhooks``: point each model's round-open webhook at the stack.

The URL is the stack's Function URL (output ``WebhookBaseUrl``) followed by the webhook token
(from Secrets Manager) and the model's name as path segments: ``<base>/<token>/<name>``, a
plain URL that survives any caller that drops query strings (the webhook still accepts the
older ``?token=…&model=…`` form). The token is read here and sent only to Numerai; it is
never printed. Models that use Numerai's hosted Model Uploads are refused: Numerai runs
those itself, and a model cannot have both. A model whose registration Numerai does not
confirm stops the command with a non-zero exit naming it.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote, urlsplit

from numerai_bot.tournaments import Tournament
from numerai_bot_cli.aws import aws_errors, session
from numerai_bot_cli.common import (
    build_context,
    config_options,
    numerai_options,
    progress,
    say,
    stack_options,
)
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.numerai import AccountModel, account_models, numerai_errors

UPLOADS_HINT = (
    "Numerai runs a model with a Model Upload itself and will not call a webhook for it: "
    "remove the upload on numer.ai (the model's page, Model Uploads) and run this again, or "
    "leave the model out"
)


def register(commands: Any) -> None:
    """Add the subcommand."""
    sub = commands.add_parser(
        "register-webhooks",
        parents=[
            config_options(),
            stack_options("WebhookBaseUrl", "WebhookTokenSecretName", "NumeraiApiKeysSecretName"),
            numerai_options(),
        ],
        help="register the stack's webhook URL with your Numerai models",
        description="Call Numerai's setSubmissionWebhook for each model with "
        "<WebhookBaseUrl>/<token>/<name>; the token comes from the stack's token secret and is "
        "never printed. Models using Numerai's Model Uploads are refused and nothing is "
        "registered; a registration Numerai does not confirm stops the command (exit 1). "
        "Numerai keys: NUMERAI_PUBLIC_ID/NUMERAI_SECRET_KEY, else those stored by put-keys.",
    )
    sub.add_argument("models", nargs="*", metavar="MODEL", help="models [all in the config]")
    sub.add_argument(
        "--clear", action="store_true", help="remove the models' webhooks instead of setting them"
    )
    sub.set_defaults(run=run)


def webhook_url(base: str, token: str, model: str) -> str:
    """``<base>/<token>/<model>`` (base as the stack outputs it, with or without a slash)."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(f"webhook base URL {base!r} is not an http(s) URL", "check --webhook-url")
    if parts.query or parts.fragment:
        raise CliError(
            "the webhook base URL must not carry a query",
            "pass the Function URL without token (stack output WebhookBaseUrl)",
        )
    return f"{base.rstrip('/')}/{quote(token, safe='')}/{quote(model, safe='')}"


def shown_url(base: str, model: str) -> str:
    """The registered URL as printed: the token replaced by an ellipsis."""
    return f"{base.rstrip('/')}/…/{model}"


def read_token(secret_name: str, region: str | None) -> str:
    """The webhook token from Secrets Manager (the operator's credentials may read it)."""
    with aws_errors("read the webhook token from secret", secret_name):
        client = session(region).client("secretsmanager")
        token = client.get_secret_value(SecretId=secret_name).get("SecretString", "")
    if len(token) < 16:
        raise CliError(
            f"secret {secret_name} holds no usable token (under 16 characters)",
            "redeploy the stack: CloudFormation generates the token",
        )
    return token


def refused(
    models: list[str],
    account: dict[str, AccountModel],
    configured: dict[str, Tournament] | None = None,
) -> list[str]:
    """Reasons to refuse: models not in the account, in another tournament there than in
    the config, or using Model Uploads."""
    reasons = []
    for name in models:
        model = account.get(name)
        wanted = (configured or {}).get(name)
        if model is None:
            known = ", ".join(sorted(account)) or "none"
            reasons.append(f"{name} is not a model of this account (it has: {known})")
        elif wanted is not None and model.tournament != wanted.id:
            reasons.append(
                f"{name} is a tournament-{model.tournament} model in the account but "
                f"{wanted.name} ({wanted.id}) in the config"
            )
        elif model.upload:
            filename = model.upload.get("filename") or "a pickle"
            reasons.append(f"{name} uses Numerai's Model Uploads ({filename})")
    return reasons


def run(args: argparse.Namespace) -> int:
    """Check every model first; register all of them or none."""
    ctx = build_context(args)
    names = ctx.model_names(args.models)
    client = ctx.numerai()
    with numerai_errors(ctx.api_url):
        account = account_models(client)
    configured = {
        name: entry.tournament
        for name, entry in (ctx.config.models or {}).items()
        if entry.tournament is not None
    }
    reasons = refused(names, account, configured)
    if reasons:
        uploads = any("Model Uploads" in r for r in reasons)
        raise CliError(
            "nothing registered: " + "; ".join(reasons),
            UPLOADS_HINT
            if uploads
            else "fix the model names or their tournament (numerai-bot.toml or arguments)",
        )
    if any(not account[n].upload_known for n in names):
        say("warning: this Numerai endpoint does not say which models use Model Uploads")
    if args.clear:
        urls: dict[str, str | None] = dict.fromkeys(names)
    else:
        base = ctx.stack.output("WebhookBaseUrl")
        token = read_token(ctx.stack.output("WebhookTokenSecretName"), ctx.region)
        urls = {name: webhook_url(base, token, name) for name in names}
    done: list[str] = []
    with numerai_errors(ctx.api_url):
        for name in progress(names, desc="registering", unit="model"):
            if not client.set_webhook(account[name].id, urls[name]):
                raise CliError(
                    f"Numerai did not confirm the webhook of {name} (setSubmissionWebhook "
                    "answered something other than true)"
                    + (f"; already done: {', '.join(done)}" if done else ""),
                    f"check {name} on numer.ai, then run `numerai-bot register-webhooks "
                    f"{name}` again",
                )
            done.append(name)
            if urls[name] is None:
                print(f"{name}: webhook removed")
            else:
                print(f"{name}: webhook set to {shown_url(base, name)}")
    if not args.clear:
        say("next: `numerai-bot trigger MODEL` fires a test round and waits for the submission")
    return 0
