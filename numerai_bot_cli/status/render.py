"""The ``status`` report as text: one table per tournament, then notes, warnings, legend."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from numerai_bot.ledger import FAILED, SUBMITTED
from numerai_bot.model_input import OWN
from numerai_bot.ports import RoundInfo
from numerai_bot.tournaments import Tournament
from numerai_bot_cli.status.data import MISSING, ModelStatus
from numerai_bot_cli.table import number, percent, render_table

LEGEND = (
    "+MIN: minutes after the round opened. LEDGER: the bot's record of that round (forced: a "
    "deliberate re-submission). NUMERAI: accepted (listed), missing (not listed). CHURN, "
    "TURNOVER: against the model's previous submission (Numerai zeroes a stake from 15 % churn "
    "or 25 % turnover). SCORED: latest resolved round. PAYOUT: the round's payout factor x "
    "(multiplier x score, summed) with the multipliers Numerai gives for that round, before "
    "its clip; unknown when Numerai gives none. STAKE: NMR (current, else at risk). INPUT "
    "(Signals, Crypto): numerai (Numerai's live file) or own (your table); COVERAGE: the share "
    "of Numerai's universe your table covered in that round."
)


@dataclass
class Section:
    """One tournament's models, and its open round (None: none open, or unknown)."""

    tournament: Tournament
    current: RoundInfo | None
    statuses: list[ModelStatus] = field(default_factory=list)
    round_known: bool = True  # False: Numerai could not say which round is open


def columns(section: Section) -> list[tuple[str, bool]]:
    """(header, right-aligned) of the section's table; churn columns where they apply."""
    churn = section.tournament.churn_gate or any(
        s.churn is not None or s.turnover is not None for s in section.statuses
    )
    own = any(s.input == OWN or s.coverage is not None for s in section.statuses)
    names = ["MODEL"] + (["INPUT"] if section.tournament.own_data or own else [])
    names += ["ROUND", "SUBMITTED (UTC)", "+MIN", "TRIGGER", "LEDGER", "NUMERAI", "ROWS"]
    names += ["COVERAGE"] if own else []
    names += ["CHURN", "TURNOVER"] if churn else []
    names += ["SCORED", "CORR", "MMC", "PAYOUT", "STAKE"]
    left = {"MODEL", "INPUT", "SUBMITTED (UTC)", "TRIGGER", "LEDGER", "NUMERAI"}
    return [(name, name not in left) for name in names]


def cells(s: ModelStatus, wide: bool) -> dict[str, str]:
    """Every column's text for one model."""
    payout = "unknown" if s.payout_unknown else number(s.payout)
    ledger = "forced" if s.forced and s.ledger_status == SUBMITTED else s.ledger_status
    return {
        "MODEL": s.name,
        "INPUT": s.input,
        "ROUND": number(s.round, "{}"),
        "SUBMITTED (UTC)": s.submitted_at.strftime("%Y-%m-%d %H:%M") if s.submitted_at else "-",
        "+MIN": number(s.minutes_after_open, "{:.1f}"),
        "TRIGGER": (s.trigger_id if wide else s.trigger_id[:8]) or "-",
        "LEDGER": ledger,
        "NUMERAI": s.numerai_status,
        "ROWS": number(s.rows, "{:,}"),
        "COVERAGE": percent(s.coverage),
        "CHURN": number(s.churn, "{:.3f}"),
        "TURNOVER": number(s.turnover, "{:.3f}"),
        "SCORED": number(s.scored_round, "{}"),
        "CORR": number(s.corr),
        "MMC": number(s.mmc),
        "PAYOUT": payout,
        "STAKE": number(s.stake, "{:.2f}"),
    }


def title(section: Section) -> str:
    """``signals (11): round 1101 open, closes 2026-11-30 13:00 UTC``."""
    head = f"{section.tournament.name} ({section.tournament.id})"
    current = section.current
    if current is None:
        return f"{head}: {'no round open' if section.round_known else 'open round unknown'}"
    closes = current.close_staking_time or current.close_time
    until = f", closes {closes:%Y-%m-%d %H:%M} UTC" if closes else ""
    return f"{head}: round {current.number} open{until}"


def render_section(section: Section, wide: bool = False) -> str:
    """The section's title and table."""
    chosen = columns(section)
    headers = [name for name, _ in chosen]
    right = {i for i, (_, is_right) in enumerate(chosen) if is_right}
    rows = [[cells(s, wide)[name] for name in headers] for s in section.statuses]
    return "\n".join([title(section), render_table(headers, rows, right)])


def notes(sections: list[Section]) -> list[str]:
    """What needs the operator's eye, model by model."""
    found = []
    for section in sections:
        open_round = section.current.number if section.current else None
        for s in section.statuses:
            if s.waiting:
                state = "waits" if s.round_open else "closed while it waited"
                found.append(
                    f"{s.name}: {s.tournament} round {s.round} {state} for its own data: "
                    f"{s.error or 'no reason recorded'}"
                )
            elif s.failed and s.ledger_status == FAILED:
                found.append(f"{s.name}: {s.tournament} round {s.round} failed: {s.error}")
            elif s.numerai_status == MISSING and s.ledger_status == SUBMITTED:
                found.append(
                    f"{s.name}: the ledger says submitted but Numerai does not list it for "
                    f"{s.tournament} round {s.round}"
                )
            elif s.failed:
                found.append(f"{s.name}: Numerai lists no submission for round {s.round}")
            if open_round is not None and (s.round is None or s.round < open_round):
                found.append(
                    f"{s.name}: nothing yet for the open {s.tournament} round {open_round}"
                )
    return found


def render(sections: list[Section], wide: bool = False, extra: list[str] | None = None) -> str:
    """Every section, then the notes, notices and warning lines, then the legend."""
    parts = [render_section(s, wide) for s in sections]
    if not parts:
        parts = ["no models: name some, or list them in numerai-bot.toml / models.json"]
    lines = notes(sections) + list(extra or [])
    return "\n\n".join(parts) + "\n\n" + "\n".join([*lines, *textwrap.wrap(LEGEND, 92)])
