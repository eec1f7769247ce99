"""Parse what arrives: Numerai's webhook body and the worker's request, whatever its source.

Hand-written rather than powertools Parser: Parser needs pydantic (~8 MiB installed) and
the worker package has little room under Lambda's 250 MiB limit; these payloads have five
fields. Every failure is a :class:`PayloadError` with a message safe to return to a caller.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

MODEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]{0,63}")
TRIGGER_ID = re.compile(r"[A-Za-z0-9_\-:.]{1,128}")
MAX_ROUND = 1_000_000
SOURCES = ("webhook", "schedule", "manual", "shard")


class PayloadError(ValueError):
    """The body or event is malformed; the message says which field and why."""


@dataclass(frozen=True)
class WebhookPayload:
    """Numerai's round-open call: ``{"roundNumber", "dataVersion", "triggerId", "isTest"}``."""

    round_number: int | None
    data_version: int | None
    trigger_id: str | None
    is_test: bool


@dataclass(frozen=True)
class WorkerRequest:
    """One run of the worker: which models (None = all configured) and with which trigger.

    ``round_number`` is only what the caller believed; the worker asks Numerai which
    round is open and never trusts it.
    """

    source: str = "manual"
    round_number: int | None = None
    trigger_id: str | None = None
    is_test: bool = False
    models: tuple[str, ...] | None = None
    force: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_event(self) -> dict[str, Any]:
        """The JSON the webhook sends to the worker's async invoke."""
        event: dict[str, Any] = {"source": self.source, "isTest": self.is_test}
        if self.round_number is not None:
            event["roundNumber"] = self.round_number
        if self.trigger_id is not None:
            event["triggerId"] = self.trigger_id
        if self.models is not None:
            event["models"] = list(self.models)
        if self.force:
            event["force"] = True
        return event


def parse_webhook_body(body: bytes | str | None) -> WebhookPayload:
    """Parse and check Numerai's webhook JSON; unknown fields are ignored."""
    if body is None or (isinstance(body, bytes | str) and not body.strip()):
        raise PayloadError("empty body: expected Numerai's JSON round-open payload")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PayloadError(f"body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    return WebhookPayload(
        round_number=_round_number(data.get("roundNumber")),
        data_version=_optional_int(data.get("dataVersion"), "dataVersion"),
        trigger_id=_trigger_id(data.get("triggerId")),
        is_test=_bool(data.get("isTest"), "isTest"),
    )


def parse_worker_event(event: Any) -> WorkerRequest:
    """Accept the webhook's async payload, the scheduler's payload or a manual invoke."""
    if event is None:
        event = {}
    if isinstance(event, str | bytes):
        try:
            event = json.loads(event)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PayloadError("worker event is not JSON") from None
    if not isinstance(event, dict):
        raise PayloadError("worker event must be a JSON object")
    source = event.get("source", "manual")
    if source not in SOURCES:
        raise PayloadError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    models = event.get("models")
    if models is not None:
        if isinstance(models, str):
            models = [models]
        if not isinstance(models, list) or not all(
            isinstance(m, str) and MODEL_NAME.fullmatch(m) for m in models
        ):
            raise PayloadError("models must be a list of Numerai model names")
        models = tuple(dict.fromkeys(models))
    return WorkerRequest(
        source=source,
        round_number=_round_number(event.get("roundNumber")),
        trigger_id=_trigger_id(event.get("triggerId")),
        is_test=_bool(event.get("isTest"), "isTest"),
        models=models,
        force=_bool(event.get("force"), "force"),
    )


def _round_number(value: Any) -> int | None:
    number = _optional_int(value, "roundNumber")
    if number is not None and not 0 < number < MAX_ROUND:
        raise PayloadError(f"roundNumber {number} is out of range")
    return number


def _optional_int(value: Any, name: str) -> int | None:
    """Numerai sends some numbers as strings: accept ``1234`` and ``"1234"``, nothing else."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise PayloadError(f"{name} must be an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise PayloadError(f"{name} must be an integer, got {type(value).__name__}")


def _trigger_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not TRIGGER_ID.fullmatch(value):
        raise PayloadError("triggerId must be a short string of letters, digits and -_:.")
    return value


def _bool(value: Any, name: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise PayloadError(f"{name} must be true or false")
