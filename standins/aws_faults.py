"""AWS faults over HTTP: a reverse proxy between boto3 and moto that breaks chosen requests.

Point ``AWS_ENDPOINT_URL`` at :attr:`AwsFaultProxy.url`: every request goes on to moto
unchanged, unless a rule queued with :meth:`AwsFaultProxy.fail_next` ("fail the next N
requests of service X with kind K") takes it. A rule can be narrowed to one operation
(``PutItem``, ``GetSecretValue``, ``GetObject`` ...) and to requests whose path or body
contains a text (the bot's ledger items hold ``ledger#``, powertools' records
``INPROGRESS``; a model file's key is in its path).

The kinds are data (:data:`KINDS`), and so is each service's answer to them
(:data:`ANSWERS`): an S3 ``SlowDown`` is a 503 in XML, a DynamoDB throttle a 400 with
``ProvisionedThroughputExceededException`` or ``ThrottlingException`` in JSON. botocore
parses them as it would AWS's and retries them under its own policy, so a burst shorter
than its attempts is absorbed and a longer one reaches the bot.
"""

from __future__ import annotations

import http.client
import json
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
DEFAULT_HOLD_SECONDS = 3.0  # longer than the clients' read timeout in the season


@dataclass(frozen=True)
class Kind:
    """One way a request can fail: answered with an error, or held past the client's
    timeout (before moto sees it, or after moto applied it and the answer is lost)."""

    description: str
    answers: bool = True  # an error answer from ANSWERS
    forward: bool = False  # moto processes the request first
    hold: bool = False  # no answer before the client gives up


KINDS: dict[str, Kind] = {
    "5xx": Kind("a 5xx error answer (InternalError, ServiceUnavailable ...)"),
    "throttle": Kind("a throttling answer (SlowDown 503, ThrottlingException 400 ...)"),
    "timeout": Kind("no answer before the client's timeout; not processed", False, False, True),
    "lost-answer": Kind("processed by moto, the answer never arrives", False, True, True),
}


@dataclass(frozen=True)
class Answer:
    """An error answer: HTTP status and the service's error code and message."""

    status: int
    code: str
    message: str


ANSWERS: dict[tuple[str, str], tuple[Answer, ...]] = {
    ("s3", "5xx"): (
        Answer(500, "InternalError", "We encountered an internal error. Please try again."),
        Answer(503, "ServiceUnavailable", "Service is unable to handle request."),
    ),
    ("s3", "throttle"): (Answer(503, "SlowDown", "Please reduce your request rate."),),
    ("dynamodb", "5xx"): (
        Answer(500, "InternalServerError", "Internal server error"),
        Answer(503, "ServiceUnavailable", "Service unavailable"),
    ),
    ("dynamodb", "throttle"): (
        Answer(
            400,
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded.",
        ),
        Answer(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    ),
    ("secretsmanager", "5xx"): (
        Answer(500, "InternalServiceError", "An error occurred on the server side."),
    ),
    ("secretsmanager", "throttle"): (Answer(400, "ThrottlingException", "Rate exceeded"),),
}
# How each service writes an error body: (content type, body from an Answer).
_BODIES: dict[str, tuple[str, Any]] = {
    "s3": (
        "application/xml",
        lambda a: (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{a.code}</Code><Message>{a.message}</Message>"
            "<RequestId>FAULTPROXY</RequestId></Error>"
        ),
    ),
    "dynamodb": (
        "application/x-amz-json-1.0",
        lambda a: json.dumps(
            {"__type": f"com.amazonaws.dynamodb.v20120810#{a.code}", "message": a.message}
        ),
    ),
    "secretsmanager": (
        "application/x-amz-json-1.1",
        lambda a: json.dumps({"__type": a.code, "Message": a.message}),
    ),
}
_S3_OPERATIONS = {
    ("GET", True): "GetObject",
    ("PUT", True): "PutObject",
    ("HEAD", True): "HeadObject",
    ("DELETE", True): "DeleteObject",
    ("GET", False): "ListObjects",
    ("HEAD", False): "HeadBucket",
}


@dataclass
class Rule:
    """Fail the next ``remaining`` matching requests with ``kind``."""

    service: str
    kind: str
    remaining: int
    operation: str | None = None
    contains: bytes | None = None
    code: str | None = None  # which of the service's answers (default: the first)
    hold: float = DEFAULT_HOLD_SECONDS

    def matches(self, request: Request) -> bool:
        """Whether this request is one the rule fails (``contains``: in its path or body)."""
        if request.service != self.service:
            return False
        if self.operation is not None and request.operation != self.operation:
            return False
        if self.contains is None:
            return True
        return self.contains in request.body or self.contains in request.path.encode()

    def answer(self) -> Answer:
        """The error answer for an answering kind."""
        choices = ANSWERS[(self.service, self.kind)]
        return next((a for a in choices if a.code == self.code), choices[0])


@dataclass(frozen=True)
class Request:
    """What the proxy read of one request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    service: str
    operation: str


def service_of(headers: dict[str, str]) -> str:
    """The AWS service a signed request is for (its SigV4 credential scope)."""
    found = _SCOPE.search(headers.get("authorization", ""))
    return found.group(1) if found else "unknown"


def operation_of(method: str, path: str, headers: dict[str, str], service: str) -> str:
    """``PutItem``, ``GetSecretValue`` (X-Amz-Target) or an S3 operation from method and path."""
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    if service == "s3":
        parts = urlsplit(path).path.strip("/").split("/", 1)
        has_key = len(parts) == 2 and bool(parts[1])
        return _S3_OPERATIONS.get((method, has_key), method)
    return method


class AwsFaultProxy:
    """The proxy: a threaded HTTP server on 127.0.0.1 forwarding to ``upstream`` (moto)."""

    def __init__(self, upstream: str, port: int = 0) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self.requests: Counter[str] = Counter()  # service -> requests seen
        self.injected: Counter[str] = Counter()  # "service/kind" -> requests failed
        self.events: list[tuple[str, str, str]] = []  # (service/kind, operation, code)
        self._server = _QuietServer(("127.0.0.1", port), _handler_class(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the endpoint URL to give boto3."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> AwsFaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- knobs -----------------------------------------------------------------------------
    def fail_next(
        self,
        service: str,
        kind: str,
        count: int = 1,
        *,
        operation: str | None = None,
        contains: str | None = None,
        code: str | None = None,
        hold: float = DEFAULT_HOLD_SECONDS,
    ) -> None:
        """Fail the next ``count`` requests of ``service`` (``s3``, ``dynamodb``,
        ``secretsmanager``) with ``kind`` (see :data:`KINDS`)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}")
        if KINDS[kind].answers and (service, kind) not in ANSWERS:
            raise ValueError(f"no {kind} answer known for {service}")
        if count < 1:
            raise ValueError("count must be at least 1")
        needle = contains.encode() if contains is not None else None
        with self._lock:
            self._rules.append(Rule(service, kind, count, operation, needle, code, hold))

    def reset(self) -> None:
        """Drop every rule not used up yet (the counters stay)."""
        with self._lock:
            self._rules.clear()

    def pending(self) -> int:
        """Requests the queued rules would still fail."""
        with self._lock:
            return sum(rule.remaining for rule in self._rules)

    def take(self, request: Request) -> Rule | None:
        """Count the request; consume and return the first rule that fails it, if any."""
        with self._lock:
            self.requests[request.service] += 1
            for rule in self._rules:
                if rule.matches(request):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    code = rule.answer().code if KINDS[rule.kind].answers else rule.kind
                    self.injected[f"{rule.service}/{rule.kind}"] += 1
                    self.events.append((f"{rule.service}/{rule.kind}", request.operation, code))
                    return rule
        return None

    # -- forwarding ------------------------------------------------------------------------
    def forward(self, request: Request) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send the request to moto; its status, reason, headers and body."""
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
            headers["content-length"] = str(len(request.body))
            connection.request(request.method, request.path, body=request.body, headers=headers)
            response = connection.getresponse()
            body = response.read()
            return response.status, response.reason, response.getheaders(), body
        finally:
            connection.close()


class _QuietServer(ThreadingHTTPServer):
    """A client that vanished (a killed worker, a timed-out call) is no server error."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Say nothing of resets and broken pipes; anything else as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def error_body(service: str, answer: Answer) -> tuple[str, bytes]:
    """The content type and body ``service`` answers an error with."""
    content_type, render = _BODIES[service]
    return content_type, render(answer).encode()


def _handler_class(proxy: AwsFaultProxy) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall on keep-alive answers

        def _serve(self) -> None:
            request = self._read()
            rule = proxy.take(request)
            kind = KINDS[rule.kind] if rule is not None else None
            if rule is not None and kind is not None and kind.answers:
                content_type, body = error_body(request.service, rule.answer())
                self._answer(rule.answer().status, [("Content-Type", content_type)], body)
                return
            if kind is not None and not kind.forward:
                self._hold(rule)
                return
            try:
                status, _reason, headers, body = proxy.forward(request)
            except OSError:
                self.send_error(502, "moto unreachable")
                return
            if kind is not None:  # applied upstream; the answer is lost
                self._hold(rule)
                return
            self._answer(status, headers, body, head=request.method == "HEAD")

        def _read(self) -> Request:
            headers = {k.lower(): v for k, v in self.headers.items()}
            if headers.get("transfer-encoding", "").lower() == "chunked":
                body = self._read_chunked()
            else:
                length = int(headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
            service = service_of(headers)
            operation = operation_of(self.command, self.path, headers, service)
            return Request(self.command, self.path, headers, body, service, operation)

        def _read_chunked(self) -> bytes:
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()

        def _hold(self, rule: Rule | None) -> None:
            time.sleep(rule.hold if rule is not None else DEFAULT_HOLD_SECONDS)
            self.close_connection = True  # the client gave up long ago: say nothing

        def _answer(
            self, status: int, headers: list[tuple[str, str]], body: bytes, head: bool = False
        ) -> None:
            self.send_response(status)
            length = str(len(body))
            for key, value in headers:
                if key.lower() in HOP_BY_HOP:
                    if head and key.lower() == "content-length":
                        length = value  # a HEAD says the object's size, sends no body
                    continue
                self.send_header(key, value)
            self.send_header("Content-Length", length)
            self.end_headers()
            if not head:
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (its timeout)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: request lines can carry signed query strings."""

    return _Handler
