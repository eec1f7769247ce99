"""Time helpers: one place that decides how the stand-in reads and writes timestamps.

Numerai's API sends times as ISO 8601 strings in UTC with a ``Z`` suffix
(``2026-11-24T13:00:00Z``); numerapi parses them with ``dateutil``. Every time the stand-in
emits goes through :func:`iso` so the format stays identical everywhere.
"""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC


def now() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(tz=UTC)


def now_seconds() -> dt.datetime:
    """The current time truncated to whole seconds (Numerai's round times have no fraction).

    Truncating moves the time backwards, so a round opened "now" is already open.
    """
    return now().replace(microsecond=0)


def iso(moment: dt.datetime | None) -> str | None:
    """Format a datetime the way Numerai does: UTC, ISO 8601, ``Z`` suffix."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    text = moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def parse(value: str | dt.datetime) -> dt.datetime:
    """Read an ISO 8601 string (``Z`` or offset; naive means UTC) or pass a datetime through."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
