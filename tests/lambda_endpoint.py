"""Lambda's Invoke API on 127.0.0.1, recording every call: what botocore really sends.

Point a client at it with ``endpoint_url`` or, for code that builds its own client, with the
standard ``AWS_ENDPOINT_URL_LAMBDA`` variable (it wins over ``AWS_ENDPOINT_URL``). Each
``POST /2015-03-31/functions/<name>/invocations[?Qualifier=…]`` is recorded with its
``X-Amz-Invocation-Type`` header and JSON payload, then answered by ``answer``: by default
as Lambda does, 202 and no body for ``Event``, 200 and ``null`` for ``RequestResponse``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

INVOKE_PATH = "/2015-03-31/functions/"


@dataclass(frozen=True)
class Invoke:
    """One Invoke call as it arrived."""

    function_name: str
    qualifier: str | None
    invocation_type: str
    payload: Any


@dataclass(frozen=True)
class Answer:
    """What the endpoint sends back: status, extra headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes = b""


def lambda_answer(invoke: Invoke) -> Answer:
    """Lambda's own: an event is queued (202), a synchronous call returns the handler's JSON."""
    if invoke.invocation_type == "Event":
        return Answer(202, {})
    return Answer(200, {}, b"null")


class LambdaEndpoint:
    """A context manager serving Invoke on a free port (see the module docstring)."""

    def __init__(self, answer: Callable[[Invoke], Answer] = lambda_answer) -> None:
        self.answer = answer
        self.invokes: list[Invoke] = []
        self._lock = threading.Lock()
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if not parts.path.startswith(INVOKE_PATH) or not parts.path.endswith(
                    "/invocations"
                ):
                    self._send(Answer(404, {}, b'{"Message": "not an Invoke"}'))
                    return
                name = unquote(parts.path[len(INVOKE_PATH) : -len("/invocations")])
                qualifier = parse_qs(parts.query).get("Qualifier", [None])[0]
                invoke = Invoke(
                    name,
                    qualifier,
                    self.headers.get("X-Amz-Invocation-Type") or "RequestResponse",
                    json.loads(raw or b"null"),
                )
                with owner._lock:
                    owner.invokes.append(invoke)
                self._send(owner.answer(invoke))

            def _send(self, answer: Answer) -> None:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                """Silent."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def recorded(self) -> list[Invoke]:
        with self._lock:
            return list(self.invokes)

    def __enter__(self) -> LambdaEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
