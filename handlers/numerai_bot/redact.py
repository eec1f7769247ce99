"""Keep secrets out of log lines: presigned URLs' queries, tokens, signatures and API keys.

Errors from requests and urllib3 quote the URL they failed on, and a presigned S3 URL's
query is a credential (``X-Amz-Signature``, ``X-Amz-Security-Token``). :func:`redact` cuts
every URL's query string and every secret-looking ``name=value``; :class:`RedactingFilter`
applies it to each log record (message, arguments, ``extra=`` fields, traceback), and
:func:`install_redaction` puts it on the handlers, whose formatted output is redacted too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

REDACTED = "<redacted>"
# Characters that end a URL or a value: whitespace, quotes, brackets, and the backslash
# of a JSON escape (so that redacting a JSON log line keeps it valid JSON).
_STOP = r"\s'\"<>\\`"
_SENSITIVE_WORDS = r"x-amz-[\w-]+|signature|token|key|secret|password|credential|policy"
# LogRecord's own attributes: everything else in its __dict__ came from ``extra=``.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


@dataclass(frozen=True)
class _Rule:
    """One kind of secret: its expression, its replacement, and the fragments (lower case)
    without one of which the expression cannot match, so that a line holding none of them
    skips it. Most log lines hold none: they cost a lower() and a few ``in`` tests."""

    pattern: re.Pattern[str]
    replacement: str | Callable[[re.Match[str]], str]
    needs: tuple[str, ...] = ()  # empty: always run

    def apply(self, text: str, lowered: str) -> str:
        if self.needs and not any(fragment in lowered for fragment in self.needs):
            return text
        return self.pattern.sub(self.replacement, text)


_SENSITIVE_FRAGMENTS = (
    "x-amz-", "signature", "token", "key", "secret", "password", "credential", "policy"
)  # fmt: skip
# A secret-looking name is found by its word, not from every position of every word before
# it (which was quadratic on a JSON line): the rest of the name is kept as it is anyway.
_RULES = (
    _Rule(  # a URL's query string
        re.compile(rf"((?:https?|s3)://[^{_STOP}?#]*)\?[^{_STOP}#]+", re.IGNORECASE),
        rf"\1?{REDACTED}",
        ("://",),
    ),
    _Rule(  # a Function URL's path (the webhook's token)
        re.compile(
            rf"(https?://[^{_STOP}/?#]*\.lambda-url\.[^{_STOP}/?#]*)/[^{_STOP}?#]+", re.IGNORECASE
        ),
        rf"\1/{REDACTED}",
        (".lambda-url.",),
    ),
    _Rule(  # an Authorization header's value, its scheme kept
        re.compile(
            r"""(authorization["']?\s*[:=]\s*["']?)(?:(token|bearer|basic|aws4-hmac-sha256)\s+)?"""
            r"""[^"'\\\s,}]+""",
            re.IGNORECASE,
        ),
        lambda m: f"{m[1]}{m[2] + ' ' if m[2] else ''}{REDACTED}",
        ("authorization",),
    ),
    _Rule(  # name=value with a secret-looking name
        re.compile(rf"((?:{_SENSITIVE_WORDS})[\w.-]*)=[^&{_STOP}#,;)]+", re.IGNORECASE),
        rf"\1={REDACTED}",
        _SENSITIVE_FRAGMENTS,
    ),
    _Rule(  # a quoted field, also inside a JSON string (quotes escaped): "token": "…"
        re.compile(
            r"""((?:token|secret|signature|password|credential|api[_-]?key)"""
            r"""[\w-]*\\*["']?\s*:\s*\\*["'])[^"'\\]+""",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
        ("token", "secret", "signature", "password", "credential", "key"),
    ),
    _Rule(  # a Numerai API key pair, public$secret
        re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{8,}\$[A-Za-z0-9]{8,}"), REDACTED, ("$",)
    ),
    _Rule(  # a Numerai secret key alone
        re.compile(r"(?<![A-Za-z0-9])[A-Z0-9]{64}(?![A-Za-z0-9])"), REDACTED
    ),
)


# Every fragment some rule needs, and the rules that need none: a line holding none of the
# fragments (most lines) runs only those, after a lower() and one ``in`` test per fragment.
_FRAGMENTS = tuple(dict.fromkeys(f for rule in _RULES for f in rule.needs))
_ALWAYS = tuple(rule for rule in _RULES if not rule.needs)


def redact(text: str) -> str:
    """``text`` without URL queries, secret parameters, authorization values or API keys."""
    lowered = text.lower()
    if not any(fragment in lowered for fragment in _FRAGMENTS):
        for rule in _ALWAYS:
            text = rule.pattern.sub(rule.replacement, text)
        return text
    for rule in _RULES:
        cleaned = rule.apply(text, lowered)
        if cleaned != text:  # what a rule cut may change what the next one needs
            text, lowered = cleaned, cleaned.lower()
    return text


class RedactedError(Exception):
    """An error whose message (or a cause's) held a secret: its type's name and its message,
    redacted, with the original traceback's frames."""


def without_secrets(error: BaseException) -> BaseException:
    """``error`` itself when no message in its chain needs redacting, else a
    :class:`RedactedError` in its place: Lambda's runtime prints an escaping exception's
    message unredacted, and tracebacks print the messages of its causes."""
    if not any(redact(_text(e)) != _text(e) for e in _chain(error)):
        return error
    cleaned = RedactedError(f"{type(error).__name__}: {redact(_text(error))}")
    cleaned.__suppress_context__ = True
    return cleaned.with_traceback(error.__traceback__)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # an exception whose __str__ fails says nothing, secrets included
        return ""


def redact_value(value: Any) -> Any:
    """Strings redacted, containers redacted inside, other objects by their text if needed."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        cleaned = [redact_value(item) for item in value]
        return cleaned if isinstance(value, list) else tuple(cleaned)
    if isinstance(value, set | frozenset):
        return {redact_value(item) for item in value}
    try:
        text = str(value)
    except Exception:  # an object whose __str__ fails cannot leak through its text
        return value
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class RedactingFilter(logging.Filter):
    """Redacts a record in place: message and arguments, ``extra=`` fields, traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always lets the record through, once redacted."""
        try:
            _redact_record(record)
        except Exception:  # a record that cannot be redacted is replaced, never let through
            record.msg, record.args, record.exc_info, record.exc_text = (
                "log record withheld: it could not be redacted",
                None,
                None,
                None,
            )
        return True


def _redact_record(record: logging.LogRecord) -> None:
    if isinstance(record.msg, Mapping):  # powertools logs dict messages as JSON objects
        record.msg = redact_value(record.msg)
        record.args = redact_value(record.args) if record.args else record.args
    else:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep both, redacted
            record.msg = redact_value(record.msg)
            record.args = redact_value(record.args) if record.args else record.args
        else:
            record.msg, record.args = redact(message), None
    for name, value in list(vars(record).items()):
        if name not in _RECORD_FIELDS:
            setattr(record, name, redact_value(value))
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_redaction(*loggers: Any) -> None:
    """Redact every record and every formatted line of the root's and ``loggers``' handlers.

    ``loggers`` may be powertools Loggers or standard ones. The filter cleans the record;
    the handler's formatted output is redacted again, because powertools formats a
    traceback from ``exc_info`` itself and adds keys the record does not carry.
    """
    for handler in _handlers([logging.getLogger(), *loggers]):
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
        if not getattr(handler, "_numerai_bot_redacts", False):
            handler.format = _redacting(handler.format)  # type: ignore[method-assign]
            handler._numerai_bot_redacts = True  # type: ignore[attr-defined]


def _redacting(format_record: Any) -> Any:
    """A handler's ``format``, its output redacted."""

    def format_redacted(record: logging.LogRecord) -> str:
        return redact(format_record(record))

    return format_redacted


def _handlers(loggers: Iterable[Any]) -> list[logging.Handler]:
    found: list[logging.Handler] = []
    for logger in loggers:
        std = getattr(logger, "_logger", logger)  # a powertools Logger wraps a stdlib one
        for handler in getattr(std, "handlers", []):
            if handler not in found:
                found.append(handler)
    return found
