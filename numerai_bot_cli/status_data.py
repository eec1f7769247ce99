"""What ``numerai-bot status`` shows, gathered from the ledger and Numerai.

Per model: the latest round in the ledger (or on Numerai), when the submission arrived
relative to the round's open time, its trigger id, whether Numerai lists it, rows, the
latest resolved scores (``submission_scores``), a payout score and the stake; plus a
per-round history (scores, latency) for the plot. Pure functions over fetched data, so
the table and plot can be tested without a network.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from numerai_bot.errors import NumeraiAuthError, NumeraiError, NumeraiUnavailable
from numerai_bot.ledger import FAILED, SUBMITTED, LedgerRecord
from numerai_bot.numerai_client import NumeraiClient

SUBMISSIONS_QUERY = """
query($modelId: String) {
  submissions(modelId: $modelId) { id triggerId insertedAt round { number openTime } }
}
"""
CORR_NAMES = ("v2_corr20", "canon_corr", "corr20", "corr")
MMC_NAMES = ("mmc", "v2_mmc20", "mmc20", "canon_mmc")
# Used when Numerai lists neither the round's payout multipliers nor a settled payout:
# Numerai's published payout score, 0.5 x CORR + 2 x MMC (before the +-5 % clip).
DEFAULT_PAYOUT_WEIGHTS = {"corr": 0.5, "mmc": 2.0}


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
    model_id: str | None = None
    round: int | None = None
    submitted_at: dt.datetime | None = None
    minutes_after_open: float | None = None
    trigger_id: str = ""
    numerai_status: str = "-"
    rows: int | None = None
    error: str = ""
    scored_round: int | None = None
    corr: float | None = None
    mmc: float | None = None
    payout: float | None = None
    stake: float | None = None
    history: list[RoundPoint] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """JSON-friendly view (``status --json``)."""
        return {
            "model": self.name,
            "model_id": self.model_id,
            "round": self.round,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
            "minutes_after_open": self.minutes_after_open,
            "trigger_id": self.trigger_id or None,
            "numerai_status": self.numerai_status,
            "rows": self.rows,
            "error": self.error or None,
            "scored_round": self.scored_round,
            "corr": self.corr,
            "mmc": self.mmc,
            "payout_score": self.payout,
            "stake": self.stake,
            "history": [vars(p) for p in self.history],
        }


@dataclass
class NumeraiView:
    """What Numerai says about one model."""

    model_id: str | None
    submissions: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    performances: list[dict[str, Any]] = field(default_factory=list)
    stake: float | None = None


def fetch_numerai(client: NumeraiClient, name: str, model_id: str | None) -> NumeraiView:
    """Submissions (authenticated), scores, performances and stake (public) of one model."""
    view = NumeraiView(model_id)
    if model_id is None:
        return view
    data = client.graphql(SUBMISSIONS_QUERY, {"modelId": model_id}, authorization=True)["data"]
    view.submissions = list(data.get("submissions") or [])
    view.scores = list(client.api.submission_scores(model_id) or [])
    view.performances = _optional(lambda: _performances(client, model_id)) or []
    stake = _optional(lambda: client.api.stake_get(name))
    view.stake = float(stake) if stake is not None else None
    return view


def _performances(client: NumeraiClient, model_id: str) -> list[dict[str, Any]]:
    with warnings.catch_warnings():  # numerapi marks it deprecated; it still has atRisk
        warnings.simplefilter("ignore", DeprecationWarning)
        return list(client.api.round_model_performances_v2(model_id) or [])


def _optional(call: Any) -> Any:
    """A value Numerai may not offer (or this endpoint may lack): None instead of failing."""
    try:
        return call()
    except (NumeraiAuthError, NumeraiUnavailable):
        raise
    except (NumeraiError, KeyError, TypeError, ValueError):
        return None


def build_status(name: str, records: Iterable[LedgerRecord], view: NumeraiView) -> ModelStatus:
    """Combine the model's ledger records with Numerai's view into one status line."""
    ledger = {r.round_number: r for r in records if r.model_name == name}
    listed = _listed_per_round(view.submissions)
    opens = {n: s["open"] for n, s in listed.items() if s["open"] is not None}
    scores = _scores_per_round(view.scores)
    perf = {int(p["roundNumber"]): p for p in view.performances if p.get("roundNumber")}
    status = ModelStatus(name, view.model_id)

    rounds = sorted(set(ledger) | set(listed) | set(scores))
    for number in rounds:
        point = RoundPoint(number)
        if number in scores:
            values = scores[number]
            point.corr = _first(values, CORR_NAMES)
            point.mmc = _first(values, MMC_NAMES)
            point.payout = payout_score(values, perf.get(number))
        if number in listed:
            point.minutes_after_open = _minutes(listed[number]["at"], opens.get(number))
        elif number in ledger and ledger[number].status == FAILED:
            point.failed = True
        status.history.append(point)

    latest_round = max(set(ledger) | set(listed), default=None)
    if latest_round is not None:
        _fill_latest(status, latest_round, ledger.get(latest_round), listed.get(latest_round))
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
    status.stake = view.stake if view.stake is not None else _latest_at_risk(view.performances)
    return status


def _fill_latest(
    status: ModelStatus,
    number: int,
    record: LedgerRecord | None,
    listed: dict[str, Any] | None,
) -> None:
    status.round = number
    if record is not None:
        status.trigger_id = record.trigger_id
        status.rows = record.rows or None
        status.submitted_at = _time(record.updated_at) if record.status == SUBMITTED else None
    if listed is not None:
        status.numerai_status = "accepted"
        status.submitted_at = listed["at"] or status.submitted_at
        status.trigger_id = status.trigger_id or (listed["trigger_id"] or "")
    elif record is not None and record.status == FAILED:
        status.numerai_status = "failed"
        status.error = record.error
    elif record is not None:
        status.numerai_status = "not listed"


def _listed_per_round(submissions: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The last submission Numerai lists for each round (the one it scores)."""
    per_round: dict[int, dict[str, Any]] = {}
    for submission in submissions:
        number = (submission.get("round") or {}).get("number")
        if number is None:
            continue
        at = _time(submission.get("insertedAt"))
        known = per_round.get(int(number))
        if known is None or (at and known["at"] and at >= known["at"]):
            per_round[int(number)] = {
                "at": at,
                "open": _time((submission.get("round") or {}).get("openTime")),
                "trigger_id": submission.get("triggerId"),
                "id": submission.get("id"),
            }
    return per_round


def _scores_per_round(rows: list[dict[str, Any]]) -> dict[int, dict[str, float]]:
    """Resolved scores per round: ``{round: {displayName: value}}`` (latest day wins)."""
    best: dict[tuple[int, str], tuple[int, float]] = {}
    for row in rows:
        if not row.get("resolved") or row.get("value") is None or row.get("roundNumber") is None:
            continue
        key = (int(row["roundNumber"]), str(row.get("displayName")))
        day = int(row.get("day") or 0)
        if key not in best or day >= best[key][0]:
            best[key] = (day, float(row["value"]))
    per_round: dict[int, dict[str, float]] = {}
    for (number, metric), (_day, value) in best.items():
        per_round.setdefault(number, {})[metric] = value
    return per_round


def payout_score(values: dict[str, float], performance: dict[str, Any] | None) -> float | None:
    """The score the payout follows, best source first.

    1. Numerai's payout multipliers for the round: sum of multiplier x score.
    2. The settled payout over the stake at risk (what the round actually paid per NMR).
    3. ``DEFAULT_PAYOUT_WEIGHTS`` applied to CORR and MMC.
    """
    if performance:
        multipliers = performance.get("payoutMultipliers") or []
        weighted = [
            (float(m["multiplier"]), values.get(str(m.get("displayName"))))
            for m in multipliers
            if m.get("multiplier") is not None
        ]
        if weighted and all(v is not None for _, v in weighted):
            return round(sum(w * v for w, v in weighted if v is not None), 6)
        at_risk = _float(performance.get("atRisk"))
        settled = [
            _float(s.get("payoutSettled")) for s in performance.get("submissionScores") or []
        ]
        paid = [p for p in settled if p is not None]
        if at_risk and paid:
            return round(sum(paid) / at_risk, 6)
    corr, mmc = _first(values, CORR_NAMES), _first(values, MMC_NAMES)
    if corr is None or mmc is None:
        return None
    return round(DEFAULT_PAYOUT_WEIGHTS["corr"] * corr + DEFAULT_PAYOUT_WEIGHTS["mmc"] * mmc, 6)


def _latest_at_risk(performances: list[dict[str, Any]]) -> float | None:
    numbered = [p for p in performances if p.get("roundNumber") is not None]
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


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
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
