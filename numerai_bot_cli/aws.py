"""AWS for the operator: one boto3 session, and AWS's errors turned into next steps.

boto3 honours ``AWS_ENDPOINT_URL`` by itself, so every call here reaches moto's server in
local runs and tests without a special client.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from numerai_bot_cli.errors import CliError

DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
NOT_FOUND = ("ResourceNotFoundException", "NoSuchBucket", "ResourceNotFound")


def session(region: str | None) -> Any:
    """A boto3 session in ``region`` (None: the environment's or the profile's region)."""
    import boto3

    return boto3.session.Session(region_name=region) if region else boto3.session.Session()


def error_code(error: Exception) -> str:
    """The AWS error code of a ``ClientError`` (empty for anything else)."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


@contextmanager
def aws_errors(action: str, resource: str = "") -> Iterator[None]:
    """Turn botocore's exceptions raised while doing ``action`` into a :class:`CliError`."""
    from botocore import exceptions as bx

    what = f"{action} {resource}".strip()
    try:
        yield
    except bx.NoCredentialsError:
        raise CliError(
            f"cannot {what}: no AWS credentials found",
            "run `aws configure` (or set AWS_PROFILE / AWS_ACCESS_KEY_ID), then try again",
        ) from None
    except bx.NoRegionError:
        raise CliError(
            f"cannot {what}: no AWS region set",
            "pass --region, set [stack] region in numerai-bot.toml, or export AWS_REGION",
        ) from None
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError) as error:
        raise CliError(
            f"cannot {what}: AWS is unreachable ({error})",
            "check your network, the region, and AWS_ENDPOINT_URL if you set it",
        ) from None
    except bx.ClientError as error:
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", "")
        if code in DENIED:
            raise CliError(
                f"cannot {what}: AWS denied it ({code})",
                "use credentials that may do this (the operator's, not the functions' roles); "
                "`aws sts get-caller-identity` shows whose they are",
            ) from None
        if code in NOT_FOUND:
            raise CliError(
                f"cannot {what}: it does not exist ({message or code})",
                "deploy the stack first (`numerai-bot deploy`), or check --stack/--region",
            ) from None
        raise CliError(f"cannot {what}: {code}: {message}", "see AWS's message above") from None
