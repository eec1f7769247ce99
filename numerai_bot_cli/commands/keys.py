"""``numerai-bot put-keys``: the Numerai API keys into the stack's keys secret.

The keys come from a prompt that does not echo (getpass) or from NUMERAI_PUBLIC_ID /
NUMERAI_SECRET_KEY, are checked against Numerai with one cheap authenticated call before
anything is stored, and are never printed, logged or passed on a command line.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from numerai_bot_cli.aws import aws_errors, session
from numerai_bot_cli.common import (
    build_context,
    config_options,
    numerai_options,
    say,
    stack_options,
)
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.numerai import KEYS_HINT, env_keys, make_client, numerai_errors

# The scope uploads need (as Numerai names it in account.apiTokens).
NEEDED_SCOPES = ("upload_submission",)
TOKENS_QUERY = "query { account { apiTokens { public_id scopes } } }"


def register(commands: Any) -> None:
    """Add the subcommand."""
    sub = commands.add_parser(
        "put-keys",
        parents=[config_options(), stack_options("NumeraiApiKeysSecretName"), numerai_options()],
        help="store your Numerai API keys in the stack's secret (verified, never echoed)",
        description="Read the Numerai API keys from NUMERAI_PUBLIC_ID/NUMERAI_SECRET_KEY or a "
        "prompt that does not echo, check them with Numerai (list the account's models), and "
        "store them as JSON in the stack's keys secret, which only the worker can read. "
        "Nothing is stored when Numerai refuses them.",
    )
    sub.add_argument(
        "--skip-verify", action="store_true", help="store without asking Numerai first"
    )
    sub.set_defaults(run=run)


def read_keys() -> tuple[str, str]:
    """From the environment, else from a no-echo prompt on the terminal."""
    keys = env_keys()
    if keys is not None:
        say("using NUMERAI_PUBLIC_ID and NUMERAI_SECRET_KEY from the environment")
        return keys
    if not sys.stdin.isatty():
        raise CliError(
            "no terminal to prompt for the keys",
            "run it in a terminal, or set NUMERAI_PUBLIC_ID and NUMERAI_SECRET_KEY",
        )
    public_id = getpass.getpass("Numerai public ID (not shown): ").strip()
    secret_key = getpass.getpass("Numerai secret key (not shown): ").strip()
    if not public_id or not secret_key:
        raise CliError("both the public ID and the secret key are needed", KEYS_HINT)
    return public_id, secret_key


def verify(keys: tuple[str, str], url: str) -> list[str]:
    """The account's model names (every tournament), or a :class:`CliError` when Numerai
    refuses the keys."""
    client = make_client(keys[0], keys[1], url)
    with numerai_errors(url):
        models = sorted(client.account_models())
    _warn_missing_scopes(client, keys[0])
    return models


def _warn_missing_scopes(client: Any, public_id: str) -> None:
    """Say so when the key lacks a scope the bot needs (best effort: never fails)."""
    try:
        tokens = client.graphql(TOKENS_QUERY, authorization=True)["data"]["account"]["apiTokens"]
    except Exception:  # the scope list is a courtesy; the model listing already passed
        return
    for token in tokens or []:
        if token.get("public_id") == public_id:
            missing = [s for s in NEEDED_SCOPES if s not in (token.get("scopes") or [])]
            if missing:
                say(f"warning: this key lacks the scopes {missing}; uploads will be refused")


def run(args: argparse.Namespace) -> int:
    """Verify, then store; the keys never reach stdout, stderr or a log."""
    ctx = build_context(args)
    secret_name = ctx.stack.output("NumeraiApiKeysSecretName")
    keys = read_keys()
    if args.skip_verify:
        say("not verified with Numerai (--skip-verify)")
        models: list[str] = []
    else:
        models = verify(keys, ctx.api_url)
        say(f"Numerai accepted the keys: {len(models)} models ({', '.join(models) or 'none'})")
    value = json.dumps({"public_id": keys[0], "secret_key": keys[1]})
    with aws_errors("store the keys in secret", secret_name):
        client = session(ctx.region).client("secretsmanager")
        client.put_secret_value(SecretId=secret_name, SecretString=value)
    print(f"stored the Numerai keys in secret {secret_name}")
    say("next: `numerai-bot publish`, then `numerai-bot register-webhooks`")
    return 0
