"""Numerai for the operator: the endpoint, the keys, the account's models, clear errors.

Built on the bot's own :class:`~numerai_bot.adapters.numerai_client.NumeraiClient`
(timeouts, retries, typed errors), pointed at ``NUMERAI_API_URL`` when set, so everything
works against the local stand-in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot.config import NUMERAI_API_URL
from numerai_bot.errors import NumeraiAuthError, NumeraiError, NumeraiUnavailable, RoundClosed
from numerai_bot.retry import RetryPolicy
from numerai_bot.tournaments import CLASSIC
from numerai_bot_cli.aws import aws_errors, session
from numerai_bot_cli.errors import CliError

KEYS_HINT = (
    "create an API key at https://numer.ai/account (scopes: upload submissions, read "
    "submission info, read user info), then `numerai-bot put-keys`"
)
# Interactive commands should fail fast rather than retry for a minute.
CLI_RETRY = RetryPolicy(attempts=3, base_delay=0.5, max_delay=2.0)

# Only documented fields: public sources show ``computePickleUpload { filename }``.
MODELS_WITH_UPLOADS = """
query { account { models { id name tournament computePickleUpload { filename } } } }
"""


@dataclass(frozen=True)
class AccountModel:
    """One of the account's models: its tournament (8, 11, 12) and whether Numerai runs it
    through Model Uploads."""

    name: str
    id: str
    upload: dict[str, Any] | None
    upload_known: bool = True
    tournament: int = CLASSIC.id


def api_url(flag: str | None, configured: str | None) -> str:
    """``--api-url``, else ``NUMERAI_API_URL``, else numerai-bot.toml, else Numerai's."""
    return (flag or os.environ.get("NUMERAI_API_URL") or configured or NUMERAI_API_URL).rstrip("/")


def make_client(public_id: str | None, secret_key: str | None, url: str) -> NumeraiClient:
    """The bot's Numerai client with a short retry policy for interactive use."""
    return NumeraiClient(public_id, secret_key, api_url=url, retry=CLI_RETRY)


def env_keys() -> tuple[str, str] | None:
    """``NUMERAI_PUBLIC_ID`` and ``NUMERAI_SECRET_KEY`` when both are set."""
    public_id = os.environ.get("NUMERAI_PUBLIC_ID", "").strip()
    secret_key = os.environ.get("NUMERAI_SECRET_KEY", "").strip()
    return (public_id, secret_key) if public_id and secret_key else None


def stored_keys(secret_name: str, region: str | None) -> tuple[str, str]:
    """The keys ``put-keys`` stored in the stack's secret (the operator may read it)."""
    with aws_errors("read the Numerai keys from secret", secret_name):
        client = session(region).client("secretsmanager")
        try:
            value = client.get_secret_value(SecretId=secret_name).get("SecretString", "")
        except client.exceptions.ResourceNotFoundException:
            raise CliError(
                f"secret {secret_name} holds no Numerai keys yet", "run `numerai-bot put-keys`"
            ) from None
    try:
        keys = json.loads(value)
        return str(keys["public_id"]), str(keys["secret_key"])
    except (json.JSONDecodeError, KeyError, TypeError):
        raise CliError(
            f"secret {secret_name} is not the JSON put-keys writes", "run `numerai-bot put-keys`"
        ) from None


@contextmanager
def numerai_errors(url: str) -> Iterator[None]:
    """Turn the client's typed errors into next steps."""
    try:
        yield
    except NumeraiAuthError as error:
        raise CliError(f"Numerai refused the API keys: {error}", KEYS_HINT) from None
    except RoundClosed as error:
        raise CliError(
            f"no Numerai round is open: {error}",
            "rounds open Tuesday to Saturday at about 12:00 UTC; try again then",
        ) from None
    except NumeraiUnavailable as error:
        raise CliError(
            f"Numerai's API at {url} did not answer: {error}",
            "check your network (or NUMERAI_API_URL / --api-url) and try again in a minute",
        ) from None
    except NumeraiError as error:
        raise CliError(f"Numerai answered with an error: {error}", "see the message") from None


def account_models(client: NumeraiClient) -> dict[str, AccountModel]:
    """The account's models of every tournament by name, each with its tournament and its
    Model Upload (if Numerai says).

    Numerai lists a model's hosted Model Upload as ``account.models.computePickleUpload``;
    numerapi has no call for it. If the endpoint does not know the field, the models are
    returned with ``upload_known=False``.
    """
    try:
        data = client.graphql(MODELS_WITH_UPLOADS, authorization=True)["data"]
    except NumeraiError as error:
        if isinstance(error, NumeraiAuthError | NumeraiUnavailable):
            raise
        return {
            name: AccountModel(name, found.id, None, False, found.tournament)
            for name, found in client.account_models().items()
        }
    models = (data.get("account") or {}).get("models") or []
    return {
        m["name"]: AccountModel(
            m["name"], m["id"], m.get("computePickleUpload"), True, _tournament_id(m)
        )
        for m in models
        if isinstance(m, dict) and m.get("name") and m.get("id")
    }


def _tournament_id(model: dict[str, Any]) -> int:
    raw = model.get("tournament")
    return int(raw) if isinstance(raw, int | str) and str(raw).isdigit() else CLASSIC.id
