"""The webhook's decision, free of Lambda: is the token right, is the body sane, hand off.

Numerai signs nothing, so the only gate is a secret token inside the registered URL:
``/<token>/<model>`` (what ``register-webhooks`` registers), ``/<token>`` (every model), or
``?token=…&model=…`` (earlier registrations). Only the token decides 403; the body is read
leniently (see :func:`parse_webhook_body`). Answers never say which check failed, and
nothing here logs the token, the path, the query string or the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from numerai_bot.events import MODEL_NAME, PayloadError, WorkerRequest, parse_webhook_body
from numerai_bot.ports import WorkerInvoker


@dataclass(frozen=True)
class HttpRequest:
    """The parts of the HTTP call the gate looks at."""

    method: str
    path: str
    query: Mapping[str, str]
    body: bytes
    malformed: str | None = None  # why the event's body could not be read, if it could not


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
    if not isinstance(given, str) or not given or not expected:
        return False
    return hmac.compare_digest(_digest(given), _digest(expected))


def _digest(text: str) -> bytes:
    # surrogatepass: a crafted lone surrogate must compare unequal, not raise.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def authorised_model(request: HttpRequest, expected_token: str) -> tuple[bool, str | None]:
    """Whether the call carries the token, and the model it names (None: every model).

    ``/<token>/<model>`` names the model in the path; ``?token=…`` and ``/<token>`` take it
    from ``?model=``. Every candidate is compared, so timing says nothing about which one.
    """
    segments = [unquote(s) for s in request.path.split("/") if s]
    last = segments[-1] if segments else None
    before_last = segments[-2] if len(segments) > 1 else None
    in_query = token_matches(request.query.get("token"), expected_token)
    in_last = token_matches(last, expected_token)
    in_before_last = token_matches(before_last, expected_token)
    if in_query or in_last:
        return True, request.query.get("model")
    if in_before_last:
        return True, last
    return False, None


def handle_webhook(
    request: HttpRequest, expected_token: str, max_body_bytes: int, invoker: WorkerInvoker
) -> HttpResponse:
    """Check and hand off one round-open call; the HTTP answer for Numerai."""
    allowed, model = authorised_model(request, expected_token)
    if not allowed:
        return FORBIDDEN
    if request.method.upper() != "POST":
        return HttpResponse(405, {"error": "use POST"})
    if request.malformed is not None:
        return HttpResponse(400, {"error": request.malformed})
    if len(request.body) > max_body_bytes:
        return HttpResponse(400, {"error": f"body larger than {max_body_bytes} bytes"})
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
