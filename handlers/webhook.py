"""Lambda entry point of Numerai's round-open webhook (Function URL, payload format 2.0).

Checks the token, answers 200 at once and hands the work to the worker asynchronously.
The raw event is never logged: its query string and path carry the token.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent

from numerai_bot.config import WebhookSettings
from numerai_bot.invoker import LambdaInvoker
from numerai_bot.secret_store import webhook_token
from numerai_bot.webhook_gate import HttpRequest, WorkerInvoker, handle_webhook

logger = Logger(service="numerai-bot-webhook")

HANDOFF_FAILED = {
    "statusCode": 500,
    "headers": {"content-type": "application/json"},
    "body": '{"error": "the bot could not start the worker; see its logs"}',
}


def to_http_request(event: dict[str, Any], max_body_bytes: int) -> HttpRequest:
    """The parts of a Function URL event the gate needs (body cut just past the limit)."""
    url_event = LambdaFunctionUrlEvent(event)
    raw = url_event.body or ""
    if url_event.is_base64_encoded:
        # Decode no more than needed to know that the body is too large.
        body = base64.b64decode(raw[: (max_body_bytes // 3 + 2) * 4], validate=False)
    else:
        body = raw.encode()[: max_body_bytes + 1]
    return HttpRequest(
        method=url_event.request_context.http.method,
        path=url_event.raw_path or "/",
        query=url_event.query_string_parameters or {},
        body=body,
    )


def create_handler(
    invoker_factory: Callable[[WebhookSettings], WorkerInvoker],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A webhook handler handing off through the invoker ``invoker_factory`` builds."""
    built: dict[str, Any] = {}

    @logger.inject_lambda_context(log_event=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        """403 bad token, 400 bad body, 200 handed off, 500 if the hand-off failed."""
        if not built:
            settings = WebhookSettings.from_env()
            built.update(settings=settings, invoker=invoker_factory(settings))
        settings = built["settings"]
        request = to_http_request(event, settings.max_body_bytes)
        try:
            response = handle_webhook(
                request,
                webhook_token(settings.token_secret_id),
                settings.max_body_bytes,
                built["invoker"],
            )
        except Exception as error:
            logger.error("could not hand off to the worker", extra={"error": type(error).__name__})
            return HANDOFF_FAILED
        logger.info("webhook answered", extra={"status": response.status})
        return response.to_function_url()

    return handler


handler = create_handler(lambda settings: LambdaInvoker(settings.worker_function_arn))
