"""The webhook's decision, free of Lambda: is the token right, is the body sane, hand off.

Numerai signs nothing, so the only gate is a secret token inside the registered URL
(``?token=…``, or as the last path segment). Answers never say which check failed, and
nothing here logs the token, the query string or the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from numerai_bot.events import MODEL_NAME, PayloadError, WorkerRequest, parse_webhook_body


class WorkerInvoker(Protocol):
    """Hands a request to the worker without waiting for it (Lambda ``Event`` invoke)."""

    def invoke(self, request: WorkerRequest) -> None:
        """Queue the work; raise if it could not be queued."""
        ...


@dataclass(frozen=True)
class HttpRequest:
    """The parts of the HTTP call the gate looks at."""

    method: str
    path: str
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class HttpResponse:
    """Status and a small JSON body."""

    status: int
    body: dict

    def to_function_url(self) -> dict:
        """The Lambda Function URL response shape."""
        return {
            "statusCode": self.status,
            "headers": {"content-type": "application/json"},
            "body": json.dumps(self.body),
        }


FORBIDDEN = HttpResponse(403, {"error": "forbidden"})


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; hashing first hides the expected token's length too."""
    if not given or not expected:
        return False
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


def presented_token(request: HttpRequest) -> str | None:
    """The token from ``?token=`` or the path's last segment."""
    if request.query.get("token"):
        return request.query["token"]
    segment = request.path.rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def handle_webhook(
    request: HttpRequest, expected_token: str, max_body_bytes: int, invoker: WorkerInvoker
) -> HttpResponse:
    """Check and hand off one round-open call; the HTTP answer for Numerai."""
    if not token_matches(presented_token(request), expected_token):
        return FORBIDDEN
    if request.method.upper() != "POST":
        return HttpResponse(405, {"error": "use POST"})
    if len(request.body) > max_body_bytes:
        return HttpResponse(400, {"error": f"body larger than {max_body_bytes} bytes"})
    model = request.query.get("model")
    if model is not None and not MODEL_NAME.fullmatch(model):
        return HttpResponse(400, {"error": "model must be a Numerai model name"})
    try:
        payload = parse_webhook_body(request.body)
    except PayloadError as error:
        return HttpResponse(400, {"error": str(error)})
    work = WorkerRequest(
        source="webhook",
        round_number=payload.round_number,
        trigger_id=payload.trigger_id,
        is_test=payload.is_test,
        models=(model,) if model else None,
    )
    invoker.invoke(work)
    return HttpResponse(200, {"accepted": True, "roundNumber": payload.round_number})
