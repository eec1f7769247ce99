"""Parse what arrives: Numerai's webhook body and the worker's request, whatever its source.

Hand-written rather than powertools Parser: Parser needs pydantic (~8 MiB installed) and
the worker package has little room under Lambda's 250 MiB limit; these payloads have five
fields. Every failure is a :class:`PayloadError` with a message safe to return to a caller.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

MODEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]{0,63}")
TRIGGER_ID = re.compile(r"[A-Za-z0-9_\-:.]{1,128}")
DATA_VERSION = re.compile(r"[A-Za-z0-9_.\-]{1,32}")
MAX_ROUND = 1_000_000
SOURCES = ("webhook", "schedule", "manual", "shard")


class PayloadError(ValueError):
    """The body or event is malformed; the message says which field and why."""


@dataclass(frozen=True)
class WebhookPayload:
    """Numerai's round-open call: ``{"roundNumber", "dataVersion", "triggerId", "isTest"}``.

    Every field is optional and read leniently: the bot needs none of them to run a round
    (the worker asks Numerai which round is open), so an odd value is dropped, not refused.
    """

    round_number: int | None = None
    data_version: str | None = None
    trigger_id: str | None = None
    is_test: bool = False


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
    """Read Numerai's webhook JSON leniently; refuse only a body that cannot be a trigger.

    An empty body or ``{}`` is a trigger without trigger id. Only text that is not JSON, or
    JSON that is not an object, is a :class:`PayloadError`: the token alone decides who may
    call, and no field the bot does not need may make Numerai's call fail.
    """
    text = _body_text(body)
    if not text.strip():
        return WebhookPayload()
    try:
        data = json.loads(text)
    except RecursionError:
        raise PayloadError("body is not JSON: nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, or an integer too long to convert
        raise PayloadError(f"body is not JSON: {_short(str(error))}") from None
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    return WebhookPayload(
        round_number=_lenient_round(data.get("roundNumber")),
        data_version=_lenient_version(data.get("dataVersion")),
        trigger_id=_lenient_trigger_id(data.get("triggerId")),
        is_test=_lenient_bool(data.get("isTest")),
    )


def _body_text(body: bytes | str | None) -> str:
    """The body as text; bytes that are not UTF-8 cannot be JSON."""
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body is not JSON: not UTF-8 text") from None


def _short(message: str) -> str:
    """An error message cut short and free of lone surrogates, safe to return and log."""
    return message[:120].encode("utf-8", "replace").decode("utf-8")


def _lenient_round(value: Any) -> int | None:
    """A plausible round number, else None: the worker asks Numerai anyway."""
    if isinstance(value, bool):
        return None
    digits = isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", value)
    whole = isinstance(value, float) and value.is_integer()
    if digits or whole:
        value = int(value)
    if isinstance(value, int) and 0 < value < MAX_ROUND:
        return value
    return None


def _lenient_version(value: Any) -> str | None:
    """``5``, ``5.2``, ``"5.2"`` or ``"v5.3"`` as short text; anything else is dropped."""
    if isinstance(value, bool) or _huge_or_nonfinite(value):
        return None
    if isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    return text if DATA_VERSION.fullmatch(text) else None


def _lenient_trigger_id(value: Any) -> str | None:
    """A trigger id we can pass on (a number becomes its string); anything else is dropped."""
    if isinstance(value, bool) or _huge_or_nonfinite(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str) and TRIGGER_ID.fullmatch(value):
        return value
    return None


def _huge_or_nonfinite(value: Any) -> bool:
    """NaN, infinities and integers too long to be an id or a version."""
    if isinstance(value, float):
        return not math.isfinite(value) or abs(value) >= 1e128
    return isinstance(value, int) and abs(value) >= 10**128


def _lenient_bool(value: Any) -> bool:
    """True for ``true``, ``1`` and ``"true"``/``"1"`` (any case); everything else is False."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return False


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
