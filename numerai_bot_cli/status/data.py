"""What ``numerai-bot status`` shows for one model, from the ledger and Numerai.

Per model, in its own tournament: the latest round in the ledger (or on Numerai), when the
submission arrived relative to the round's open time, its trigger id, what the ledger says
(with churn and turnover), whether Numerai lists it, rows, the latest resolved scores
(``submissionScores``), a payout score from the round's own multipliers and the stake; plus
a per-round history (scores, latency) for the plot. Pure functions over fetched data, so the
table and plot can be tested without a network. ``None`` means Numerai did not say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from numerai_bot.ledger import FAILED, SUBMITTED, LedgerRecord
from numerai_bot.outcomes import WAITING
from numerai_bot.tournaments import CLASSIC, Tournament
from numerai_bot_cli.status.payout import PayoutRule, payout_score, rule_from_performance

CORR_NAMES = ("v2_corr20", "canon_corr", "corr20", "corr")
MMC_NAMES = ("mmc", "v2_mmc20", "mmc20", "canon_mmc")
ACCEPTED, MISSING = "accepted", "missing"


@dataclass
class RoundPoint:
    """One model in one round: resolved scores (if any) and submission latency."""

    round: int
    corr: float | None = None
    mmc: float | None = None
    payout: float | None = None
    minutes_after_open: float | None = None
    failed: bool = False  # the ledger's record says the bot could not submit


@dataclass
class ModelStatus:
    """One line of the status table, plus the model's history for the plot."""

    name: str
    tournament: str = CLASSIC.name
    model_id: str | None = None
    round: int | None = None
    submitted_at: dt.datetime | None = None
    minutes_after_open: float | None = None
    trigger_id: str = ""
    ledger_status: str = "-"  # submitted, failed, or - (no record)
    forced: bool = False
    numerai_status: str = "-"  # accepted, missing (not listed), or - (unknown)
    rows: int | None = None
    churn: float | None = None
    turnover: float | None = None
    error: str = ""
    scored_round: int | None = None
    corr: float | None = None
    mmc: float | None = None
    payout: float | None = None
    payout_unknown: bool = False  # scored, but Numerai gave no multipliers for the round
    stake: float | None = None
    input: str = "-"  # numerai (Numerai's live file), own (the user's table), - (unknown)
    coverage: float | None = None  # own data: share of the universe the latest round covered
    round_open: bool = False  # its latest round is the tournament's open one
    history: list[RoundPoint] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        """The ledger says the latest round waits for the model's own data."""
        return self.ledger_status == WAITING

    @property
    def failed(self) -> bool:
        """Not submitted in its latest round: Numerai does not list it, or (when Numerai
        cannot say) the ledger says it failed; waiting for its own data while the round is
        open is not failing (the next scheduled check tries again)."""
        if self.waiting and self.numerai_status != ACCEPTED:
            return not self.round_open
        if self.numerai_status == MISSING:
            return True
        return self.numerai_status == "-" and self.ledger_status == FAILED

    def as_json(self) -> dict[str, Any]:
        """JSON-friendly view (``status --json``)."""
        return {
            "model": self.name,
            "tournament": self.tournament,
            "model_id": self.model_id,
            "round": self.round,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
            "minutes_after_open": self.minutes_after_open,
            "trigger_id": self.trigger_id or None,
            "ledger_status": None if self.ledger_status == "-" else self.ledger_status,
            "forced": self.forced,
            "numerai_status": None if self.numerai_status == "-" else self.numerai_status,
            "rows": self.rows,
            "churn": self.churn,
            "turnover": self.turnover,
            "error": self.error or None,
            "scored_round": self.scored_round,
            "corr": self.corr,
            "mmc": self.mmc,
            "payout_score": self.payout,
            "stake": self.stake,
            "input": None if self.input == "-" else self.input,
            "coverage": self.coverage,
            "history": [vars(p) for p in self.history],
        }


@dataclass
class NumeraiView:
    """What Numerai says about one model; None where it did not answer."""

    model_id: str | None
    submissions: list[dict[str, Any]] | None = None
    scores: list[dict[str, Any]] | None = None
    performances: list[dict[str, Any]] = field(default_factory=list)
    stake: float | None = None
    round_rules: dict[int, PayoutRule] = field(default_factory=dict)  # from the rounds


def build_status(
    name: str,
    records: Iterable[LedgerRecord],
    view: NumeraiView,
    tournament: Tournament = CLASSIC,
    input_source: str | None = None,
) -> ModelStatus:
    """Combine the model's ledger records in its tournament with Numerai's view;
    ``input_source`` is models.json's (else the latest record's is shown)."""
    ledger = {
        r.round_number: r for r in records if r.model_name == name and r.tournament == tournament.id
    }
    listed = _listed_per_round(view.submissions or [])
    opens = {n: s["open"] for n, s in listed.items() if s["open"] is not None}
    scores = _scores_per_round(view.scores or [])
    perf = {int(p["roundNumber"]): p for p in view.performances if p.get("roundNumber")}
    status = ModelStatus(name, tournament.name, view.model_id)

    for number in sorted(set(ledger) | set(listed) | set(scores)):
        point = RoundPoint(number)
        if number in scores:
            values = scores[number]
            point.corr = _first(values, CORR_NAMES)
            point.mmc = _first(values, MMC_NAMES)
            rule = rule_from_performance(perf.get(number)) or view.round_rules.get(number)
            point.payout = payout_score(values, rule)
        if number in listed:
            point.minutes_after_open = _minutes(listed[number]["at"], opens.get(number))
        elif number in ledger and ledger[number].status == FAILED:
            point.failed = True
        status.history.append(point)

    latest_round = max(set(ledger) | set(listed), default=None)
    if latest_round is not None:
        _fill_latest(status, latest_round, ledger.get(latest_round), listed.get(latest_round))
        if view.submissions is not None and latest_round not in listed:
            status.numerai_status = MISSING
        status.minutes_after_open = _minutes(status.submitted_at, opens.get(latest_round))
    scored = [p for p in status.history if p.corr is not None or p.mmc is not None]
    if scored:
        last = scored[-1]
        status.scored_round, status.corr, status.mmc, status.payout = (
            last.round,
            last.corr,
            last.mmc,
            last.payout,
        )
        status.payout_unknown = last.payout is None
    status.stake = view.stake if view.stake is not None else _latest_at_risk(view.performances)
    status.input = input_source or status.input
    return status


def _fill_latest(
    status: ModelStatus,
    number: int,
    record: LedgerRecord | None,
    listed: dict[str, Any] | None,
) -> None:
    status.round = number
    if record is not None:
        status.ledger_status = record.status
        status.forced = record.forced
        status.trigger_id = record.trigger_id
        status.rows = record.rows or None
        status.churn, status.turnover = record.churn, record.turnover
        status.input, status.coverage = record.input or status.input, record.coverage
        status.submitted_at = _time(record.updated_at) if record.status == SUBMITTED else None
        if record.status in (FAILED, WAITING):
            status.error = record.error
    if listed is not None:
        status.numerai_status = ACCEPTED
        status.submitted_at = listed["at"] or status.submitted_at
        status.trigger_id = status.trigger_id or (listed["trigger_id"] or "")


def _listed_per_round(submissions: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The last submission Numerai lists for each round (the one it scores)."""
    per_round: dict[int, dict[str, Any]] = {}
    for submission in submissions:
        rnd = submission.get("round") if isinstance(submission.get("round"), dict) else {}
        number = _int(rnd.get("number"))
        if number is None:
            continue
        at = _time(submission.get("insertedAt"))
        known = per_round.get(number)
        if known is None or (at and known["at"] and at >= known["at"]):
            per_round[number] = {
                "at": at,
                "open": _time(rnd.get("openTime")),
                "trigger_id": submission.get("triggerId"),
                "id": submission.get("id"),
            }
    return per_round


def _scores_per_round(rows: list[dict[str, Any]]) -> dict[int, dict[str, float]]:
    """Resolved scores per round: ``{round: {displayName: value}}`` (latest day wins)."""
    best: dict[tuple[int, str], tuple[int, float]] = {}
    for row in rows:
        number, value = _int(row.get("roundNumber")), _float(row.get("value"))
        if not row.get("resolved") or value is None or number is None:
            continue
        key = (number, str(row.get("displayName")))
        day = _int(row.get("day")) or 0
        if key not in best or day >= best[key][0]:
            best[key] = (day, value)
    per_round: dict[int, dict[str, float]] = {}
    for (number, metric), (_day, value) in best.items():
        per_round.setdefault(number, {})[metric] = value
    return per_round


def _latest_at_risk(performances: list[dict[str, Any]]) -> float | None:
    numbered = [p for p in performances if _int(p.get("roundNumber")) is not None]
    if not numbered:
        return None
    latest = max(numbered, key=lambda p: int(p["roundNumber"]))
    return _float(latest.get("atRisk"))


def _first(values: dict[str, float], names: tuple[str, ...]) -> float | None:
    for name in names:
        if name in values:
            return values[name]
    return None


def _minutes(at: dt.datetime | None, opened: dt.datetime | None) -> float | None:
    if at is None or opened is None:
        return None
    return round((at - opened).total_seconds() / 60, 1)


def _int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _time(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
