"""What a run reports: one outcome per model and the run's result, with a message that says
what happened ("2 submitted, 1 already done, 0 failed"). The notifier and the handler read it;
the runner writes it."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from numerai_bot.ledger import FAILED, SUBMITTED

logger = logging.getLogger(__name__)

SKIPPED = "skipped"  # already submitted for the round
# The round is late (after the staking close) and the model is set to skip late rounds.
SKIPPED_LATE = "skipped_late"
NOT_RECORDED = "submitted, not recorded"  # Numerai has it; the ledger write failed
CLOSED = "closed"
# Another invocation holds the model's lock (or died holding it): not done, retry later.
RETRY = "retry"
# The model's own data is not there yet: not a failure while the round is open; the next
# scheduled check tries again (the close check alarms if it never comes).
WAITING = "waiting"


@dataclass
class ModelOutcome:
    """What happened to one model in this run."""

    model: str
    status: str
    detail: str = ""
    submission_id: str = ""
    rows: int = 0
    seconds: float = 0.0
    tournament: str = "classic"
    round_number: int | None = None
    churn: float | None = None
    turnover: float | None = None
    alert: bool = False  # churn, turnover or coverage past the model's alert threshold
    input: str = "numerai"  # where the model's live input came from: "numerai" or "own"
    coverage: float | None = None  # own data: share of Numerai's universe the table covers
    alert_reason: str = ""  # what the alert says, when there is one
    recorded: bool = True  # False: submitted, but the ledger write failed (the next run fixes)


@dataclass
class RoundResult:
    """The run's answer: the rounds it met, an overall status and one outcome per model."""

    round_number: int | None
    status: str
    message: str
    outcomes: list[ModelOutcome] = field(default_factory=list)
    rounds: dict[str, int | None] = field(default_factory=dict)  # tournament → open round
    alerts: list[str] = field(default_factory=list)  # churn above a model's threshold ...
    missing_at_close: int = 0  # configured models with no submission in a round that closed

    @property
    def failed(self) -> list[ModelOutcome]:
        """Models that did not submit and should have."""
        return [o for o in self.outcomes if o.status == FAILED]

    @property
    def pending(self) -> list[ModelOutcome]:
        """Models another invocation holds: not done, worth a retry."""
        return [o for o in self.outcomes if o.status == RETRY]

    @property
    def waiting(self) -> list[ModelOutcome]:
        """Models whose own data is not there yet: the next scheduled check tries again."""
        return [o for o in self.outcomes if o.status == WAITING]

    @property
    def submitted(self) -> list[ModelOutcome]:
        """Models submitted by this run."""
        return [o for o in self.outcomes if o.status == SUBMITTED]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly, for the Lambda response and logs."""
        return {
            "roundNumber": self.round_number,
            "rounds": self.rounds,
            "status": self.status,
            "message": self.message,
            "submitted": len(self.submitted),
            "failed": len(self.failed),
            "alerts": self.alerts,
            "missingAtClose": self.missing_at_close,
            "outcomes": [asdict(o) for o in self.outcomes],
        }


def summarize(
    rounds: dict[str, int | None],
    outcomes: list[ModelOutcome],
    nothing_open: bool = False,
    message: str = "",
) -> RoundResult:
    """The run's overall status and a message that says what happened."""
    count = {s: sum(o.status == s for o in outcomes) for s in (SUBMITTED, SKIPPED, FAILED)}
    pending = sum(o.status == RETRY for o in outcomes)
    waiting = sum(o.status == WAITING for o in outcomes)
    skipped_late = sum(o.status == SKIPPED_LATE for o in outcomes)
    unrecorded = sum(o.status == SUBMITTED and not o.recorded for o in outcomes)
    opened = ", ".join(f"{t} {n}" for t, n in rounds.items() if n is not None)
    if nothing_open and not count[FAILED]:
        status = CLOSED
        message = message or "no round open: nothing to do"
    else:
        status = "incomplete" if count[FAILED] or pending or waiting or unrecorded else "complete"
        if not outcomes:
            status = "failed"
        message = message or (
            f"{'round ' + opened if opened else 'no round open'}: {count[SUBMITTED]} "
            f"submitted, {count[SKIPPED]} already done, {count[FAILED]} failed"
            + (f" ({unrecorded} {NOT_RECORDED})" if unrecorded else "")
            + (f", {pending} pending (held by another run or unconfirmed)" if pending else "")
            + (f", {waiting} waiting for own data" if waiting else "")
            + (f", {skipped_late} not submitted late (set to skip)" if skipped_late else "")
        )
    alerts = [
        f"{o.model} ({o.tournament}): "
        + (o.alert_reason or f"churn {_figure(o.churn)}, turnover {_figure(o.turnover)}")
        for o in outcomes
        if o.alert
    ]
    first = next((n for n in rounds.values() if n is not None), None)
    logger.info(message, extra={"rounds": rounds, "status": status})
    return RoundResult(first, status, message, outcomes, rounds, alerts)


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
