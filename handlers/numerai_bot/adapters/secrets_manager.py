"""Secrets from AWS Secrets Manager through powertools Parameters (cached, max_age)."""

from __future__ import annotations

import logging
import os

from numerai_bot.adapters.aws_session import AwsSession, session_or_new
from numerai_bot.errors import ConfigError, KeysNotSet

CACHE_SECONDS = 300
# At DEBUG, botocore logs whole responses, GetSecretValue's SecretString included, and
# urllib3 logs request lines (which hold the webhook's token): never let them go that low.
for _name in ("botocore", "boto3", "urllib3"):
    logging.getLogger(_name).setLevel(max(logging.getLogger(_name).level, logging.INFO))


def numerai_keys(secret_id: str | None, aws: AwsSession | None = None) -> tuple[str, str]:
    """The Numerai (public_id, secret_key), from the secret or, locally, the environment."""
    if not secret_id:
        public_id, secret_key = (
            os.environ.get("NUMERAI_PUBLIC_ID"),
            os.environ.get("NUMERAI_SECRET_KEY"),
        )
        if not public_id or not secret_key:
            raise ConfigError("NUMERAI_PUBLIC_ID and NUMERAI_SECRET_KEY must both be set")
        return public_id, secret_key
    try:
        value = _secret(secret_id, "json", aws)
    except _NoValueYet:
        raise KeysNotSet(
            f"no Numerai keys in secret {secret_id} yet: store them with numerai-bot put-keys "
            "(until then scheduled checks do nothing)"
        ) from None
    if not isinstance(value, dict) or not value.get("public_id") or not value.get("secret_key"):
        raise ConfigError(
            f"secret {secret_id} must be JSON with 'public_id' and 'secret_key'; "
            "store them with: python -m scripts.put_keys"
        )
    return str(value["public_id"]), str(value["secret_key"])


def webhook_token(secret_id: str | None, aws: AwsSession | None = None) -> str:
    """The webhook's token, from the secret or, locally, ``WEBHOOK_TOKEN``."""
    token = _secret(secret_id, None, aws) if secret_id else os.environ.get("WEBHOOK_TOKEN", "")
    if not isinstance(token, str) or len(token) < 16:
        raise ConfigError("the webhook token is missing or shorter than 16 characters")
    return token


class _NoValueYet(ConfigError):
    """The secret exists but has no value yet (the stack creates it empty)."""


def _secret(secret_id: str, transform: str | None, aws: AwsSession | None) -> object:
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS

    # powertools' default provider, made from the caller's session instead of a session of
    # its own; kept in powertools' registry so that its cache (and clear_caches) still work.
    if "secrets" not in DEFAULT_PROVIDERS:
        client = session_or_new(aws).client("secretsmanager")
        DEFAULT_PROVIDERS["secrets"] = parameters.SecretsProvider(boto3_client=client)
    try:
        return parameters.get_secret(secret_id, transform=transform, max_age=CACHE_SECONDS)
    except parameters.exceptions.TransformParameterError:
        raise ConfigError(f"secret {secret_id} is not valid JSON") from None
    except parameters.exceptions.GetParameterError as error:
        # powertools re-raises inside its except block: the AWS error is the context, not
        # the cause. Its class name (ResourceNotFoundException, AccessDeniedException ...)
        # says what is wrong without repeating any message text.
        original = error.__cause__ or error.__context__
        cause = type(original).__name__ if original is not None else "unknown error"
        # A secret created without a value answers "can't find the specified secret value";
        # a deleted one "can't find the specified secret" (same class, a real fault).
        unset = cause == "ResourceNotFoundException" and "secret value" in str(original)
        raise (_NoValueYet if unset else ConfigError)(
            f"cannot read secret {secret_id} ({cause}); check that it exists and that the "
            "function may read it"
        ) from None
