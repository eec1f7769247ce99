"""The stand-in's "S3": dataset downloads with HTTP ranges and the one-time upload PUT.

Numerai hands out presigned S3 URLs for both. Downloads support ``Range`` (numerapi resumes
with ``Range: bytes=N-``) and always send ``Content-Length`` (numerapi compares it with a
local file to skip downloads). Uploads answer like S3: 200 with an ``ETag`` or an XML error
body. numerapi never checks the PUT status, so a failed PUT only shows later, when
``createSubmission`` finds no upload.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from standins.numerai.faults import Faults
from standins.numerai.graphql_endpoint import Answer
from standins.numerai.service import Tournament

S3_ERRORS = {
    403: ("AccessDenied", "Access Denied"),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def s3_error(status: int, code: str | None = None, message: str | None = None) -> Answer:
    """An S3-style XML error answer."""
    default_code, default_message = S3_ERRORS.get(status, ("InternalError", "Error"))
    request_id = secrets.token_hex(8).upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code or default_code}</Code>"
        f"<Message>{message or default_message}</Message>"
        f"<RequestId>{request_id}</RequestId><HostId>{secrets.token_hex(16)}</HostId></Error>"
    )
    return Answer(status, body.encode(), content_type="application/xml")


@dataclass(frozen=True)
class FileSlice:
    """Which bytes of a file to send, and with which status and headers."""

    path: Path
    status: int
    start: int
    length: int
    headers: dict[str, str]


def plan_download(path: Path, range_header: str | None) -> FileSlice | Answer:
    """Decide a GET's answer: the whole file (200), one range (206) or 416."""
    size = path.stat().st_size
    headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
    if not range_header:
        return FileSlice(path, 200, 0, size, headers)
    match = _RANGE.match(range_header.strip())
    if match is None:  # Several ranges or another unit: ignore the header, as servers may.
        return FileSlice(path, 200, 0, size, headers)
    first, last = match.groups()
    if first == "" and last == "":
        return FileSlice(path, 200, 0, size, headers)
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        answer = s3_error(416, "InvalidRange", "The requested range is not satisfiable")
        answer.headers["Content-Range"] = f"bytes */{size}"
        return answer
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return FileSlice(path, 206, start, end - start + 1, headers)


def receive_upload(tournament: Tournament, faults: Faults, token: str, content: bytes) -> Answer:
    """Answer a PUT to an upload URL according to the current PUT behaviour knob."""
    pending = tournament.claim_upload_slot(token)
    if pending is None:
        return s3_error(403, "AccessDenied", "Request has expired or the upload URL was used")
    behaviour = faults.take_put_behaviour()
    if behaviour.mode == "reject":
        return s3_error(behaviour.status)
    if behaviour.mode == "slow":
        time.sleep(behaviour.delay)
    etag = tournament.store_upload(pending, content, keep=behaviour.mode != "drop")
    return Answer(200, b"", content_type="text/plain", headers={"ETag": f'"{etag}"'})
