"""No secret reaches a log line: presigned URLs, webhook tokens, API keys, whatever the path."""

from __future__ import annotations

import importlib
import io
import json
import logging
import string
from collections.abc import Callable

import pytest
import requests
from aws_lambda_powertools import Logger
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from urllib3.exceptions import LocationParseError

from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot.errors import NumeraiError, NumeraiUnavailable, UploadError
from numerai_bot.redact import RedactingFilter, install_redaction, redact
from numerai_bot.retry import RetryPolicy
from tests.conftest import examples

secrets = st.text(string.ascii_letters + string.digits, min_size=16, max_size=40)
url_encoded = st.builds(lambda a, b: f"{a}%2F{b}%2B%3D", secrets, secrets)


def presigned(signature: str, token: str, credential: str) -> str:
    return (
        "https://numerai-submissions.s3.amazonaws.com/uploads/abc/live.csv"
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={credential}%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
        f"&X-Amz-Date=20260101T120000Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host"
        f"&X-Amz-Security-Token={token}&X-Amz-Signature={signature}"
    )


# Each carrier: (secret, url-encoded secret, secret) -> text holding them, as errors and
# libraries write them.
CARRIERS: dict[str, Callable[[str, str, str], str]] = {
    "requests HTTPError": lambda a, b, c: (
        f"403 Client Error: Forbidden for url: {presigned(a, b, c)}"
    ),
    "urllib3 retries": lambda a, b, c: (
        "HTTPSConnectionPool(host='numerai-submissions.s3.amazonaws.com', port=443): Max "
        f"retries exceeded with url: /uploads/live.csv?X-Amz-Signature={a}"
        f"&X-Amz-Security-Token={b}&X-Amz-Credential={c} (Caused by SSLError('bad'))"
    ),
    "webhook query": lambda a, b, c: f"POST https://h.example/?token={a}&model=m&x={b}",
    "webhook path": lambda a, b, c: f"https://abc123.lambda-url.us-east-1.on.aws/{c}/m",
    "authorization header": lambda a, b, c: str(
        {"Authorization": f"Token {a}${c}", "X-Amz-Security-Token": b}
    ),
    "authorization line": lambda a, b, c: f"Authorization: Token {a}${c} token={b}",
    "api key": lambda a, b, c: f"keys {a}${c} were rejected",
    "json fields": lambda a, b, c: json.dumps({"secret_key": a, "token": b, "signature": c}),
}


def secret_parts(carrier: str, a: str, b: str, c: str) -> list[str]:
    """What must not be logged: each secret the carrier holds."""
    text = CARRIERS[carrier](a, b, c)
    return [part for part in (a, b, c) if part in text]


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_redact_removes_each_kind_of_secret(carrier):
    a, b, c = "SIGNATUREabcdef0123456789", "TOKENabcdef0123456789xyz", "CREDabcdef0123456789xy"
    text = CARRIERS[carrier](a, b, c)
    assert any(part in text for part in (a, b, c))  # the carrier does carry them
    cleaned = redact(text)
    assert "<redacted>" in cleaned
    for part in secret_parts(carrier, a, b, c):
        assert part not in cleaned


def test_redact_keeps_what_is_not_secret():
    text = "model alpha: round 1234 failed: HTTP 403 from https://api.example/graphql"
    assert redact(text) == text
    assert redact("see https://x.example/a?b=1") == "see https://x.example/a?<redacted>"


@given(st.text(max_size=200))
def test_redaction_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


# --- every logging path --------------------------------------------------------------------

powertools_logger = Logger(service="redaction-test", logger_handler=logging.StreamHandler())
install_redaction(powertools_logger)


def powertools_output(log: Callable[[Logger], None]) -> str:
    stream = io.StringIO()
    powertools_logger.registered_handler.setStream(stream)
    try:
        log(powertools_logger)
    finally:
        powertools_logger.remove_keys(["detail"])
    return stream.getvalue()


def stdlib_output(log: Callable[[logging.Logger], None], *, install: bool) -> str:
    """A stdlib logger whose format shows extras; filter only, or install_redaction."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(levelname)s %(message)s | %(detail)s", defaults={"detail": "-"})
    )
    logger = logging.getLogger(f"redaction-test-{install}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    if install:
        install_redaction(logger)
    else:
        handler.addFilter(RedactingFilter())
    log(logger)
    return stream.getvalue()


def raise_from(message: str) -> None:
    """An upload error whose cause (printed in tracebacks) carries ``message``."""
    try:
        raise requests.HTTPError(message)
    except requests.HTTPError as error:
        error.add_note(f"while putting: {message}")
        raise UploadError("upload failed") from error


def logging_paths(message: str) -> dict[str, Callable[[], str]]:
    def exception(logger: logging.Logger | Logger) -> None:
        try:
            raise_from(message)
        except UploadError:
            logger.exception("unexpected error")

    def exc_info_extra(logger: logging.Logger | Logger) -> None:
        try:
            raise requests.ConnectionError(message)
        except requests.ConnectionError as error:
            logger.error("failed: %s", error, exc_info=True, extra={"detail": {"url": message}})

    stdlib_ways: dict[str, Callable[[logging.Logger], None]] = {
        "message": lambda log: log.error(message),
        "args": lambda log: log.warning("upload failed: %s (%r)", message, [message]),
        "extra": lambda log: log.error("failed", extra={"detail": message}),
        "exception": exception,
        "exc_info and extra": exc_info_extra,
        "object message": lambda log: log.error(requests.HTTPError(message)),
    }
    paths: dict[str, Callable[[], str]] = {}
    for name, way in stdlib_ways.items():
        paths[f"stdlib filter, {name}"] = lambda way=way: stdlib_output(way, install=False)
        paths[f"stdlib installed, {name}"] = lambda way=way: stdlib_output(way, install=True)
        paths[f"powertools, {name}"] = lambda way=way: powertools_output(way)
    paths["powertools, dict message"] = lambda: powertools_output(
        lambda log: log.info({"event": "upload", "error": message})
    )
    paths["powertools, appended key"] = lambda: powertools_output(
        lambda log: (log.append_keys(detail=message), log.info("upload failed"))
    )
    return paths


PATHS = sorted(logging_paths("x"))


@pytest.mark.parametrize("path", PATHS)
# 0.4x the profile per logging path: the paths together try more than one property would.
@settings(max_examples=examples(40), suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(CARRIERS)), secrets, url_encoded, secrets)
def test_secrets_fed_through_any_logging_path_never_reach_the_output(path, carrier, a, b, c):
    message = CARRIERS[carrier](a, b, c)
    output = logging_paths(message)[path]()
    assert output.strip()  # something was logged
    for part in secret_parts(carrier, a, b, c):
        assert part not in output, (path, output)


def test_without_redaction_the_same_paths_would_leak():
    """The property above can fail: unfiltered, the secrets are in the output."""
    message = CARRIERS["requests HTTPError"]("SIGabc0123456789xyz", "TOKabc0123456789", "CRED0123")
    stream = io.StringIO()
    logger = logging.getLogger("redaction-test-control")
    logger.handlers[:] = [logging.StreamHandler(stream)]
    logger.propagate = False
    try:
        raise_from(message)
    except UploadError:
        logger.exception("unexpected error")
    assert "SIGabc0123456789xyz" in stream.getvalue()


def test_powertools_json_lines_stay_json_once_redacted():
    message = CARRIERS["requests HTTPError"]("S" * 20, "T" * 20, "C" * 20) + ' "quoted" \\ end'
    output = powertools_output(lambda log: log.error("failed", extra={"detail": message}))
    line = json.loads(output)
    assert line["detail"].startswith("403 Client Error") and "S" * 20 not in output


def test_install_redaction_is_idempotent():
    install_redaction(powertools_logger)
    install_redaction(powertools_logger)
    handler = powertools_logger.registered_handler
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    output = powertools_output(lambda log: log.info("token=abcdefghijklmnopqrs"))
    assert output.count("<redacted>") == 1


# --- the presigned PUT's errors carry only a class name --------------------------------------


class RaisingSession:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def put(self, url: str, **kwargs: object) -> None:
        raise self.error

    def get(self, url: str, **kwargs: object) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("error_class", "typed"),
    [
        (requests.ConnectionError, NumeraiUnavailable),
        (requests.Timeout, NumeraiUnavailable),
        (requests.exceptions.SSLError, NumeraiUnavailable),
        (requests.exceptions.ChunkedEncodingError, NumeraiUnavailable),
        (requests.exceptions.InvalidURL, UploadError),
        (requests.exceptions.TooManyRedirects, UploadError),
        (requests.exceptions.ContentDecodingError, UploadError),
        (requests.HTTPError, UploadError),
        (requests.RequestException, UploadError),
    ],
)
def test_any_requests_error_of_the_put_becomes_a_typed_error_without_the_url(error_class, typed):
    url = presigned("SIGNATUREabcdef0123456789", "TOKENabcdef0123456789", "AKIAEXAMPLE")
    client = NumeraiClient(
        None, None, "http://numerai.invalid", retry=RetryPolicy(attempts=1), session=None
    )
    client._session = RaisingSession(error_class(f"failed for url: {url}"))  # type: ignore[assignment]
    with pytest.raises(typed) as caught:
        client._put_once(url, b"id,prediction\n")
    assert str(caught.value) == f"upload PUT failed: {error_class.__name__}"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("module_name", ["worker", "webhook"])
def test_the_handlers_install_redaction_for_their_own_and_the_core_s_loggers(module_name):
    module = importlib.import_module(module_name)
    url = presigned("SIGNATUREabcdef0123456789", "TOKENabcdef0123456789", "AKIAEXAMPLE")
    stream = io.StringIO()
    previous = module.logger.registered_handler.setStream(stream)
    try:
        module.logger.error("unexpected error", extra={"error": f"PUT failed: {url}"})
        if module_name == "worker":  # the core's loggers write through the worker's handler
            logging.getLogger("numerai_bot.round.runner").error("unexpected error: %s", url)
    finally:
        module.logger.registered_handler.setStream(previous)
    output = stream.getvalue()
    assert output.count("unexpected error") == (2 if module_name == "worker" else 1)
    assert "SIGNATUREabcdef0123456789" not in output and "TOKENabcdef" not in output


@pytest.mark.parametrize(
    "error_class",
    [
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidURL,
        LocationParseError,
    ],
)
def test_a_malformed_download_url_becomes_a_typed_error_without_the_url(tmp_path, error_class):
    url = presigned("SIGNATUREabcdef0123456789", "TOKENabcdef0123456789", "AKIAEXAMPLE")
    client = NumeraiClient(
        None, None, "http://numerai.invalid", retry=RetryPolicy(attempts=1), session=None
    )
    client._session = RaisingSession(error_class(f"failed for url: {url}"))  # type: ignore[assignment]
    with pytest.raises(NumeraiError) as caught:
        client._download_once(url, tmp_path / "live.parquet", "v5.3/live.parquet")
    assert str(caught.value) == f"download of v5.3/live.parquet failed: {error_class.__name__}"
    assert "SIGNATURE" not in repr(caught.value) and caught.value.__suppress_context__
