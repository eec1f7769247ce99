"""Lambda entry point of Numerai's round-open webhook (Function URL, payload format 2.0).

Checks the token, answers 200 at once and hands the work to the worker asynchronously.
Whatever the event (missing keys, wrong types, bad base64, lone surrogates, deep JSON), the
handler answers 400, 403 or 405 rather than raise. The raw event is never logged: its path
and query string carry the token.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger

from numerai_bot.adapters.aws_session import AwsSession
from numerai_bot.adapters.lambda_invoker import LambdaInvoker
from numerai_bot.adapters.secrets_manager import webhook_token
from numerai_bot.config import WebhookSettings
from numerai_bot.ports import WorkerInvoker
from numerai_bot.redact import install_redaction, without_secrets
from numerai_bot.webhook_gate import FORBIDDEN, HttpRequest, handle_webhook

logger = Logger(service="numerai-bot-webhook")
install_redaction(logger)

HANDOFF_FAILED = {
    "statusCode": 500,
    "headers": {"content-type": "application/json"},
    "body": '{"error": "the bot could not start the worker; see its logs"}',
}


def to_http_request(event: Any, max_body_bytes: int) -> HttpRequest:
    """The parts of a Function URL event the gate needs (body cut just past the limit).

    Read defensively: a key missing or of the wrong type counts as absent, and a body that
    cannot be read marks the request malformed (a 400, once the token has been checked).
    """
    event = event if isinstance(event, Mapping) else {}
    http = _mapping(_mapping(event.get("requestContext")).get("http"))
    method, path = http.get("method"), event.get("rawPath")
    query = {
        key: value
        for key, value in _mapping(event.get("queryStringParameters")).items()
        if isinstance(key, str) and isinstance(value, str)
    }
    body, malformed = _body(event, max_body_bytes)
    return HttpRequest(
        method=method if isinstance(method, str) else "",
        path=path if isinstance(path, str) and path else "/",
        query=query,
        body=body,
        malformed=malformed,
    )


def _mapping(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _body(event: Mapping[Any, Any], max_body_bytes: int) -> tuple[bytes, str | None]:
    """The body's bytes (at most one past the limit), or why it cannot be read."""
    raw = event.get("body")
    if raw is None:
        return b"", None
    if not isinstance(raw, str):
        return b"", "body must be text"
    if event.get("isBase64Encoded") is True:
        # Decode no more than needed to know that the body is too large.
        try:
            return base64.b64decode(raw[: (max_body_bytes // 3 + 2) * 4], validate=True), None
        except (binascii.Error, ValueError):
            return b"", "body is not valid base64"
    # surrogatepass: a lone surrogate becomes bytes that are not UTF-8, hence "not JSON".
    return raw[: max_body_bytes + 1].encode("utf-8", "surrogatepass")[: max_body_bytes + 1], None


def create_handler(
    invoker_factory: Callable[[WebhookSettings], WorkerInvoker],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A webhook handler handing off through the invoker ``invoker_factory`` builds."""
    built: dict[str, Any] = {}

    @logger.inject_lambda_context(log_event=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        """403 bad token, 405 not POST, 400 bad body, 200 handed off, 500 hand-off failed."""
        try:
            return answer(event)
        except Exception as error:  # settings or wiring: Lambda prints the message as it is
            raise without_secrets(error) from None

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        if not built:
            settings = WebhookSettings.from_env()
            built.update(settings=settings, invoker=invoker_factory(settings))
        settings = built["settings"]
        try:
            request = to_http_request(event, settings.max_body_bytes)
        except Exception as error:  # never expected; refuse without detail rather than crash
            logger.error("unreadable webhook event", extra={"error": type(error).__name__})
            return FORBIDDEN.to_function_url()
        try:
            response = handle_webhook(
                request,
                webhook_token(settings.token_secret_id, AWS),
                settings.max_body_bytes,
                built["invoker"],
            )
        except Exception as error:
            logger.error("could not hand off to the worker", extra={"error": type(error).__name__})
            return HANDOFF_FAILED
        logger.info("webhook answered", extra={"status": response.status})
        return response.to_function_url()

    return handler


AWS = AwsSession()  # the token's and the invoke's clients from one boto3 session
handler = create_handler(lambda settings: LambdaInvoker(settings.worker_function_arn, aws=AWS))
