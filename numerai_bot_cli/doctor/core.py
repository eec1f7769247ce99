"""``numerai-bot doctor``'s machinery: checks as registered data, their findings, the report.

A check is a function registered with its item letter (the order it runs and prints in), its
name, what it proves and the usual next step; it yields :class:`Finding` lines (one per model
where that is the unit). Nothing here knows what a check does, so adding one is one function.

A finding is ✓ (``ok=True``), ✗ (``ok=False``: broken) or ? (``ok=None``: not yet, e.g. no
submission before a new stack's first round, or not verified, e.g. Numerai has no query for
it); only a ✗ exits non-zero, so a new deployment with nothing broken passes. A ✓ may carry
a warning (!, with a next step): the round works, but something deserves the operator's eye.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from numerai_bot.errors import BotError, NumeraiAuthError, NumeraiError
from numerai_bot_cli.errors import CliError

MARKS = {True: "✓", False: "✗", None: "?"}
WARNING_MARK = "!"
EXIT_NOTHING_BROKEN, EXIT_FAILED = 0, 1


@dataclass(frozen=True)
class Finding:
    """One printed line: which check (``keys/upload``, ``webhook/alpha``), its outcome,
    what was seen, and the next step when it is not ✓."""

    check: str
    ok: bool | None
    detail: str
    next_step: str = ""
    warning: bool = False  # passes, but deserves the operator's eye (printed as !)


class Blocked(Exception):
    """A check cannot run because something it needs failed earlier (reported there)."""

    def __init__(self, reason: str, next_step: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.next_step = next_step


@dataclass(frozen=True)
class Check:
    """A registered check (see module docstring)."""

    item: str
    name: str
    what: str
    next_step: str
    run: Callable[[Any], Iterable[Finding]]


CHECKS: dict[str, Check] = {}


def check(item: str, name: str, what: str, next_step: str) -> Callable:
    """Register the decorated ``run(env) -> Iterable[Finding]`` as a check."""

    def register(run: Callable[[Any], Iterable[Finding]]) -> Callable[[Any], Iterable[Finding]]:
        CHECKS[name] = Check(item, name, what, next_step, run)
        return run

    return register


def passed(name: str, detail: str) -> Finding:
    """A ✓ line."""
    return Finding(name, True, detail)


def failed(name: str, detail: str, next_step: str) -> Finding:
    """A ✗ line with what to do about it."""
    return Finding(name, False, detail, next_step)


def warned(name: str, detail: str, next_step: str) -> Finding:
    """A ! line: passes (the round works), with what deserves a look and what to do."""
    return Finding(name, True, detail, next_step, warning=True)


def unverified(name: str, detail: str, next_step: str = "") -> Finding:
    """A ? line: not yet, or not proven either way, and why; not broken."""
    return Finding(name, None, detail, next_step)


def run_checks(env: Any, checks: Iterable[Check] | None = None) -> list[Finding]:
    """Every check in item order; one check's failure never stops the others."""
    ordered = sorted(checks if checks is not None else CHECKS.values(), key=lambda c: c.item)
    findings: list[Finding] = []
    for registered in ordered:
        findings.extend(_run_one(registered, env))
    return findings


def _run_one(registered: Check, env: Any) -> list[Finding]:
    """The check's findings, or one line saying why it could not finish."""
    name = registered.name
    try:
        return list(registered.run(env))
    except Blocked as blocked:
        return [unverified(name, f"not checked: {blocked.reason}", blocked.next_step)]
    except CliError as error:
        return [failed(name, error.message, error.hint or registered.next_step)]
    except NumeraiAuthError:
        return [unverified(name, "not checked: Numerai refused the keys", "see keys above")]
    except (NumeraiError, BotError) as error:
        return [failed(name, str(error), registered.next_step)]
    except (BotoCoreError, ClientError) as error:
        return [failed(name, f"AWS: {error}", registered.next_step)]
    except Exception as error:  # a bug in a check must not hide the other checks
        return [
            failed(
                name,
                f"doctor failed inside this check ({type(error).__name__}: {str(error)[:200]})",
                "report it with this line; the other checks still ran",
            )
        ]


def exit_code(findings: list[Finding]) -> int:
    """1 when any line is ✗, else 0 (✓, ! and ? lines: nothing is broken)."""
    return EXIT_FAILED if any(f.ok is False for f in findings) else EXIT_NOTHING_BROKEN


def render_text(findings: list[Finding]) -> str:
    """One line per finding, the next step under every ✗ and ?, and a count."""
    width = max((len(f.check) for f in findings), default=0)
    lines = []
    for f in findings:
        mark = WARNING_MARK if f.warning else MARKS[f.ok]
        lines.append(f"{mark} {f.check:<{width}}  {f.detail}")
        if (f.ok is not True or f.warning) and f.next_step:
            lines.append(f"  {'':<{width}}  next: {f.next_step}")
    counts = {mark: sum(f.ok is ok for f in findings) for ok, mark in MARKS.items()}
    warnings = sum(f.warning for f in findings)
    lines.append(
        f"{counts['✓']} passed"
        + (f" ({warnings} with a warning)" if warnings else "")
        + f", {counts['✗']} failed, {counts['?']} not yet or not verified"
        + (_verdict(counts) if exit_code(findings) == EXIT_NOTHING_BROKEN else "")
    )
    return "\n".join(lines)


def _verdict(counts: dict[str, int]) -> str:
    return ": nothing broken (see ? lines)" if counts["?"] else ": ready for the round"


def render_json(findings: list[Finding]) -> str:
    """``[{"check", "ok", "detail", "next_step", "warning"}, ...]`` (ok is null when not
    verified)."""
    return json.dumps([asdict(f) for f in findings], indent=2, ensure_ascii=False)
