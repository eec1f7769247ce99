"""Lambda, locally: a Function URL server, an async invoker and a context object.

moto cannot run Lambda code without Docker, so the demo and the tests call our handlers
directly, wrapped here exactly as Lambda would wrap them: a payload-2.0 Function URL event
built from a real HTTP request, and async invocations on a background thread with the
event serialised through JSON.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from numerai_bot.events import WorkerRequest

TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")


@dataclass
class LocalContext:
    """The attributes of Lambda's context object that powertools and our handlers read."""

    function_name: str = "local-function"
    memory_limit_in_mb: int = 3008
    timeout_seconds: float = 900.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        """A plausible ARN for logs."""
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Like Lambda: time left before the timeout."""
        return int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000)


class ThreadInvoker:
    """``InvocationType=Event``, locally: run the worker handler on a background thread."""

    def __init__(self, handler: Callable[[dict, Any], Any], function_name: str = "worker") -> None:
        self.handler = handler
        self.function_name = function_name
        self.threads: list[threading.Thread] = []
        self.results: list[Any] = []
        self._lock = threading.Lock()

    def invoke(self, request: WorkerRequest) -> None:
        """Start the worker on a JSON copy of the event and return at once."""
        event = json.loads(json.dumps(request.to_event()))
        thread = threading.Thread(target=self._run, args=(event,), daemon=True)
        with self._lock:
            self.threads.append(thread)
        thread.start()

    def _run(self, event: dict) -> None:
        try:
            result: Any = self.handler(event, LocalContext(self.function_name))
        except Exception as error:  # Lambda records it; keep it for the caller to inspect
            result = error
        with self._lock:
            self.results.append(result)

    def wait_started(self, count: int, timeout: float = 60.0) -> int:
        """Block until ``count`` runs have been handed off (or ``timeout``); how many were.

        Numerai calls webhooks in the background, so a caller that triggered them must wait
        for the hand-offs before :meth:`wait`, which joins only the runs already started.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                started = len(self.threads)
            if started >= count or time.monotonic() >= deadline:
                return started
            time.sleep(0.02)

    def wait(self, timeout: float = 600.0) -> list[Any]:
        """Join every run started so far; their results (or exceptions)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [t for t in self.threads if t.is_alive()]
            if not pending:
                break
            pending[0].join(max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                break
        with self._lock:
            return list(self.results)


def function_url_event(
    method: str, raw_url: str, headers: dict[str, str], body: bytes, source_ip: str = "127.0.0.1"
) -> dict[str, Any]:
    """The payload-2.0 event a Lambda Function URL delivers for this HTTP request.

    ``rawPath`` is the request's path as sent (``/<token>/<model>`` included), never
    reinterpreted: ``urlsplit`` alone would read ``//a/b`` as host ``a`` and path ``/b``.
    """
    path, query_string = _path_and_query(raw_url)
    lowered = {k.lower(): v for k, v in headers.items()}
    query: dict[str, str] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    content_type = lowered.get("content-type", "")
    is_text = any(content_type.startswith(t) for t in TEXT_TYPES)
    if is_text:  # Lambda base64-encodes what is not valid text, whatever its content type
        try:
            body.decode()
        except UnicodeDecodeError:
            is_text = False
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query_string,
        "headers": lowered,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "localfunctionurl",
            "domainName": lowered.get("host", "localhost"),
            "domainPrefix": "localfunctionurl",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": bool(body) and not is_text,
    }
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = body.decode() if is_text else base64.b64encode(body).decode()
    return event


def _path_and_query(raw_url: str) -> tuple[str, str]:
    """Path and query string of a request target (origin form ``/p?q`` or absolute form)."""
    if not raw_url.startswith("/"):
        parts = urlsplit(raw_url)
        return parts.path or "/", parts.query
    target = raw_url.split("#", 1)[0]
    path, _, query = target.partition("?")
    return path or "/", query


class FunctionUrlServer:
    """Serves a handler the way a Lambda Function URL does, on 127.0.0.1 (or ``host``)."""

    def __init__(
        self, handler: Callable[[dict, Any], dict], port: int = 0, host: str = "127.0.0.1"
    ) -> None:
        self.handler = handler
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                event = function_url_event(self.command, self.path, dict(self.headers), body)
                try:
                    answer = owner.handler(event, LocalContext("webhook", 256, 10))
                except Exception:  # Lambda answers 502 when the function itself crashes
                    answer = {"statusCode": 502, "body": '{"message": "Internal Server Error"}'}
                payload = str(answer.get("body", "")).encode()
                self.send_response(int(answer.get("statusCode", 200)))
                for key, value in (answer.get("headers") or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Silent: the request line holds the token."""

        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FunctionUrlServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
