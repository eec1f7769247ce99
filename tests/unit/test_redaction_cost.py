"""Redaction that is cheap still leaves nothing out: a line is only spared the expressions
whose fragments it lacks, so it comes out exactly as if every expression had run on it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerai_bot.redact import REDACTED, redact
from tests.conftest import examples

# The seven expressions as they ran on every line, in order, before the fragment checks.
_STOP = r"\s'\"<>\\`"
_WORDS = r"x-amz-[\w-]+|signature|token|key|secret|password|credential|policy"
EVERY_EXPRESSION = [
    (re.compile(rf"((?:https?|s3)://[^{_STOP}?#]*)\?[^{_STOP}#]+", re.I), rf"\1?{REDACTED}"),
    (
        re.compile(rf"(https?://[^{_STOP}/?#]*\.lambda-url\.[^{_STOP}/?#]*)/[^{_STOP}?#]+", re.I),
        rf"\1/{REDACTED}",
    ),
    (
        re.compile(
            r"""(authorization["']?\s*[:=]\s*["']?)(?:(token|bearer|basic|aws4-hmac-sha256)\s+)?"""
            r"""[^"'\\\s,}]+""",
            re.I,
        ),
        lambda m: f"{m[1]}{m[2] + ' ' if m[2] else ''}{REDACTED}",
    ),
    (
        re.compile(rf"(?<![\w-])([\w.-]*(?:{_WORDS})[\w.-]*)=[^&{_STOP}#,;)]+", re.I),
        rf"\1={REDACTED}",
    ),
    (
        re.compile(
            r"""(\\*["']?[\w-]*(?:token|secret|signature|password|credential|api[_-]?key)[\w-]*"""
            r"""\\*["']?\s*:\s*\\*["'])[^"'\\]+""",
            re.I,
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{8,}\$[A-Za-z0-9]{8,}"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9])[A-Z0-9]{64}(?![A-Za-z0-9])"), REDACTED),
]


def every_expression(text: str) -> str:
    for pattern, replacement in EVERY_EXPRESSION:
        text = pattern.sub(replacement, text)
    return text


# Lines built from the pieces secrets and log lines are made of, so that most examples hold
# some fragment, some several, and some none.
PIECES = st.sampled_from(
    [
        "https://", "s3://", "h.lambda-url.us-east-1.on.aws/", "?", "&", "=", ":", '"', "'",
        "\\\"", " ", ",", "/", ".", "-", "_", "$", "{", "}", "Authorization", "Token ",
        "X-Amz-Signature", "x-amz-security-token", "TOKEN", "api_key", "ApiKey", "secret_key",
        "Password", "credential", "policy", "signature", "webhook answered", "status",
        "abcdefgh12", "SECRETKEY" * 8, "A" * 64, "0123456789", "function_name", "key",
    ]
)  # fmt: skip
LINES = st.lists(PIECES, max_size=8).map("".join)
# One line per expression, holding only what that expression needs.
EACH_ALONE = [
    "GET https://h.example/a?b=1",
    "https://h.lambda-url.us-east-1.on.aws/tok/alpha",
    "Authorization: Token abcdefgh12",
    "key=abcdefgh12",
    "x-amz-date=20260101",
    '{"api_key": "abcdefgh12"}',
    "keys abcdefgh12$abcdefgh12 refused",
    "A" * 64,
]


@pytest.mark.parametrize("line", EACH_ALONE)
def test_a_line_holding_one_kind_of_secret_loses_it(line):
    assert redact(line) == every_expression(line) != line


@settings(max_examples=examples(3000))
@given(LINES)
def test_a_line_comes_out_as_if_every_expression_had_run(line):
    assert redact(line) == every_expression(line)


@settings(max_examples=examples(1000))
@given(st.text(max_size=120))
def test_any_text_comes_out_as_if_every_expression_had_run(text):
    assert redact(text) == every_expression(text)
