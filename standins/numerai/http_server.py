"""HTTP routing on stdlib ``http.server``: which path goes to which part of the stand-in.

=======================  =====================================================
``POST /``               GraphQL (numerapi posts to ``API_TOURNAMENT_URL`` as is)
``GET|HEAD /files/...``  dataset downloads (``Range`` supported)
``PUT /uploads/<tok>``   one-time submission upload
``GET /submission-files/<id>``  an accepted submission's CSV
``/_standin/...``        admin knobs (JSON), see :mod:`standins.numerai.admin`
=======================  =====================================================
"""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from standins.numerai import admin, datasets, graphql_endpoint, storage
from standins.numerai.graphql_endpoint import Answer, json_answer

if TYPE_CHECKING:
    from standins.numerai.app import StandinApp

log = logging.getLogger(__name__)
CHUNK = 1024 * 1024


class StandinHTTPServer(ThreadingHTTPServer):
    """A threading server that knows its stand-in."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], standin: StandinApp) -> None:
        super().__init__(address, StandinHandler)
        self.standin = standin


class StandinHandler(BaseHTTPRequestHandler):
    """One request: route it, answer it, never let a client hang-up crash the server."""

    server: StandinHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client's delayed
    # ACK held every answer ~40 ms (measured 44 ms against 2 ms), which Numerai's servers
    # do not do and fresh connections (numerapi's) never meet.
    disable_nagle_algorithm = True
    server_version = "numerai-standin/1"

    # -- plumbing -----------------------------------------------------------------------------

    @property
    def standin(self) -> StandinApp:
        return self.server.standin

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _split(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        return unquote(parts.path), dict(parse_qsl(parts.query))

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, answer: Answer, head_only: bool = False) -> None:
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not head_only:
                self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _base_url(self) -> str:
        host = self.headers.get("Host") or self.standin.url.split("://", 1)[1]
        return f"http://{host}"

    def _admin(self, method: str, path: str, query: dict[str, str]) -> None:
        raw = self._read_body()
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            self._send(json_answer({"error": "body is not JSON"}, 400))
            return
        self._send(admin.handle(self.standin, method, path, query, body or {}))

    # -- methods ------------------------------------------------------------------------------

    def do_POST(self) -> None:
        path, query = self._split()
        if path.startswith(admin.PREFIX):
            self._admin("POST", path, query)
        elif path in ("/", ""):
            context = self.standin.request_context(
                self.headers.get("Authorization"), self._base_url()
            )
            answer = graphql_endpoint.handle(
                self.standin.schema, self.standin.faults, context, self._read_body()
            )
            self._send(answer)
        else:
            self._read_body()
            self._send(json_answer({"error": f"no route POST {path}"}, 404))

    def do_GET(self) -> None:
        path, query = self._split()
        if path.startswith(admin.PREFIX):
            self._admin("GET", path, query)
        elif path.startswith("/files/"):
            self._download(path[len("/files/") :])
        elif path.startswith("/submission-files/"):
            content = self.standin.submission_csv(path[len("/submission-files/") :])
            if content is None:
                self._send(storage.s3_error(404, "NoSuchKey", "The specified key does not exist."))
            else:
                self._send(Answer(200, content, content_type="text/csv"))
        elif path in ("/", ""):
            self._send(json_answer({"errors": [{"message": "Must provide query string."}]}, 400))
        else:
            self._send(json_answer({"error": f"no route GET {path}"}, 404))

    def do_HEAD(self) -> None:
        path, _ = self._split()
        if path.startswith("/files/"):
            self._download(path[len("/files/") :], head_only=True)
        else:
            self._send(json_answer({}, 404), head_only=True)

    def do_PUT(self) -> None:
        path, _ = self._split()
        content = self._read_body()
        if not path.startswith("/uploads/"):
            self._send(storage.s3_error(403))
            return
        self.standin.faults.count("PUT upload")
        token = path[len("/uploads/") :]
        self._send(
            storage.receive_upload(self.standin.tournament, self.standin.faults, token, content)
        )

    # -- downloads ----------------------------------------------------------------------------

    def _download(self, filename: str, head_only: bool = False) -> None:
        self.standin.faults.count("GET file")
        path = self.standin.tournament.file_path(filename)
        if path is None:
            self._send(
                storage.s3_error(404, "NoSuchKey", "The specified key does not exist."), head_only
            )
            return
        placeholders = self.standin.faults.live_placeholders
        if placeholders and path.name == "live.parquet":
            path = datasets.with_unusable_ids(path, placeholders)
        plan = storage.plan_download(path, self.headers.get("Range"))
        if isinstance(plan, Answer):
            self._send(plan, head_only)
            return
        try:
            self.send_response(plan.status)
            for name, value in plan.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(plan.length))
            self.end_headers()
            if head_only:
                return
            with path.open("rb") as handle:
                handle.seek(plan.start)
                left = plan.length
                while left > 0:
                    chunk = handle.read(min(CHUNK, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
