"""The worker's structured (JSON) log lines: read from a file or CloudWatch, filtered, shown.

powertools writes one JSON object per line with ``function_request_id`` on every line, and
``tournament``, ``round``, ``model`` or ``trigger_id`` where they apply (a run's summary
carries ``rounds``, one per tournament). Some lines carry no round or tournament, so a round
or tournament filter keeps every line of each invocation that logged a matching one, except
lines that name another round or tournament.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numerai_bot.errors import ConfigError
from numerai_bot.tournaments import tournament as find_tournament

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
CONTEXT_KEYS = {
    "level",
    "location",
    "message",
    "timestamp",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "xray_trace_id",
    "sampling_rate",
    "model",
    "trigger_id",
}


@dataclass(frozen=True)
class LogFilter:
    """Which lines to keep; every given criterion must hold."""

    round: int | None = None
    trigger: str | None = None  # a trigger id or its prefix
    models: tuple[str, ...] = ()
    level: str = "DEBUG"
    tournament: str | None = None  # "classic", "signals", "crypto"

    def apply(self, lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Keep the matching lines, in their order."""
        lines = list(lines)
        if self.round is not None or self.tournament is not None:
            verdicts = [self._scope(line) for line in lines]
            invocations = {
                line.get("function_request_id")
                for line, verdict in zip(lines, verdicts, strict=True)
                if verdict and line.get("function_request_id")
            }
            lines = [
                line
                for line, verdict in zip(lines, verdicts, strict=True)
                if verdict or (verdict is None and line.get("function_request_id") in invocations)
            ]
        if self.trigger:
            lines = [
                line for line in lines if str(line.get("trigger_id") or "").startswith(self.trigger)
            ]
        if self.models:
            lines = [line for line in lines if _mentions(line, self.models)]
        floor = LEVELS.get(self.level.upper(), 0)
        return [line for line in lines if LEVELS.get(str(line.get("level")).upper(), 0) >= floor]

    def _scope(self, line: dict[str, Any]) -> bool | None:
        """Whether the line is of the wanted round and tournament: True, False, or None when
        it does not say."""
        verdicts = []
        if self.round is not None:
            pairs = _rounds_of(line)
            verdicts.append(
                any(
                    number == self.round and (self.tournament in (None, name) or name is None)
                    for name, number in pairs
                )
                if pairs
                else None
            )
        if self.tournament is not None:
            named = _tournaments_of(line)
            verdicts.append(self.tournament in named if named else None)
        if False in verdicts:
            return False
        return True if verdicts and all(verdicts) else None


def _tournament_name(value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        return find_tournament(value).name
    except ConfigError:
        return str(value)


def _tournaments_of(line: dict[str, Any]) -> set[str]:
    """The tournaments a line names: its ``tournament``, or the keys of a run's ``rounds``."""
    named = {_tournament_name(line.get("tournament"))}
    rounds = line.get("rounds")
    if isinstance(rounds, dict):
        named |= {_tournament_name(key) for key in rounds}
    return {name for name in named if name}


def _rounds_of(line: dict[str, Any]) -> set[tuple[str | None, int]]:
    """(tournament or None, round) pairs a line names."""
    own = _tournament_name(line.get("tournament"))
    pairs = set()
    for key in ("round", "open_round"):
        number = _number(line.get(key))
        if number is not None:
            pairs.add((own, number))
    rounds = line.get("rounds")
    if isinstance(rounds, dict):
        for key, value in rounds.items():
            number = _number(value)
            if number is not None:
                pairs.add((_tournament_name(key), number))
    return pairs


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    return None


def _mentions(line: dict[str, Any], models: tuple[str, ...]) -> bool:
    if line.get("model") in models:
        return True
    listed = line.get("models")
    return isinstance(listed, list) and any(m in listed for m in models)


def parse_lines(texts: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects among ``texts`` (Lambda's START/END/REPORT lines are skipped)."""
    for text in texts:
        text = text.strip()
        if not text.startswith("{"):
            # Lambda's text format may prefix the JSON with time and request id.
            brace = text.find("{")
            if brace < 0:
                continue
            text = text[brace:]
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            yield value


def read_file(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON lines of a log file (the demo's ``.demo/bot.log``)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        yield from parse_lines(handle)


def cloudwatch_events(
    client: Any,
    log_group: str,
    start: dt.datetime,
    end: dt.datetime | None,
    pattern: str = "",
    on_page: Any = None,
) -> Iterator[dict[str, Any]]:
    """The JSON lines of ``log_group`` between ``start`` and ``end`` (all pages)."""
    arguments: dict[str, Any] = {
        "logGroupName": log_group,
        "startTime": int(start.timestamp() * 1000),
        "interleaved": True,
    }
    if end is not None:
        arguments["endTime"] = int(end.timestamp() * 1000)
    if pattern:
        arguments["filterPattern"] = pattern
    while True:
        page = client.filter_log_events(**arguments)
        if on_page is not None:
            on_page(len(page.get("events", [])))
        yield from parse_lines(e.get("message", "") for e in page.get("events", []))
        token = page.get("nextToken")
        if not token or token == arguments.get("nextToken"):
            return
        arguments["nextToken"] = token


def format_line(line: dict[str, Any], wide: bool = False) -> str:
    """``time level service model trigger message key=value ...`` on one line."""
    stamp = str(line.get("timestamp", ""))[:19]
    service = str(line.get("service", "")).removeprefix("numerai-bot-")
    trigger = str(line.get("trigger_id") or "-")
    extras = " ".join(
        f"{key}={_short(value)}" for key, value in line.items() if key not in CONTEXT_KEYS
    )
    parts = [
        stamp,
        f"{line.get('level', '')!s:<7}",
        f"{service:<7}",
        f"{line.get('model') or '-'!s:<14}",
        trigger if wide else trigger[:8].ljust(8),
        str(line.get("message", "")),
    ]
    return "  ".join(parts) + (f"  {extras}" if extras else "")


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 200 else text[:197] + "..."
