"""What the fallback schedule checks besides submitting: the alarm that matters and the
weekly data-version notice.

- A round that **closed** with a configured model that neither the ledger nor Numerai show
  as submitted is the failure a user must hear about (a failed run while the round is open
  is not: a retry or the next check may still submit). Checked once per closed round (the
  idempotency guard remembers), it becomes an alert and the ``ModelsMissingAtClose`` metric
  the stack's alarm watches; a submission Numerai holds but the ledger lacks is repaired.
- Once a week, models on an older data version than the newest Numerai serves are named.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from numerai_bot.data_versions import newest, older_than_newest
from numerai_bot.errors import AlreadyInProgress, BotError
from numerai_bot.ledger import SUBMITTED, LedgerRecord
from numerai_bot.models_config import ModelConfig
from numerai_bot.ports import AccountModel, CloseNumerai, Ledger, RoundInfo, SubmissionGuard
from numerai_bot.redact import redact
from numerai_bot.tournaments import TOURNAMENTS, Tournament

logger = logging.getLogger(__name__)

# A round that closed longer ago than this is not checked for missing models (a first deploy
# must not alarm about rounds it never ran).
CLOSE_CHECK_WINDOW_SECONDS = 24 * 3600
# The guard's keys (never Numerai model names, which cannot start with "_").
CLOSE_CHECK = "__round_closed__"
VERSION_NOTICE = "__data_versions__"


@dataclass
class CloseReport:
    """Alerts for the round's summary and the count for the alarm's metric."""

    alerts: list[str] = field(default_factory=list)
    missing_at_close: int = 0


class RoundCloseCheck:
    """The schedule's checks (module docstring); ``numerai`` is the runner's NumeraiPort."""

    def __init__(
        self,
        numerai: CloseNumerai,
        ledger: Ledger,
        guard: SubmissionGuard,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.numerai = numerai
        self.ledger = ledger
        self.guard = guard
        self.now = now

    def run(self, configs: list[ModelConfig]) -> CloseReport:
        """Every tournament with configured models: its last closed round, its versions."""
        report = CloseReport()
        for tournament in TOURNAMENTS.values():
            group = [c for c in configs if c.tournament == tournament]
            if not group:
                continue
            try:
                self._closed_round(tournament, group, report)
                self._versions(tournament, group, report)
            except (BotError, AlreadyInProgress) as error:
                logger.warning(
                    "close check failed; the next check tries again",
                    extra={"tournament": tournament.name, "error": redact(str(error))},
                )
        return report

    def _closed_round(
        self, tournament: Tournament, group: list[ModelConfig], report: CloseReport
    ) -> None:
        closed: RoundInfo | None = self.numerai.last_closed_round(tournament)
        left = closed.seconds_left(self.now()) if closed is not None else None
        if closed is None or left is None or -left > CLOSE_CHECK_WINDOW_SECONDS:
            return
        found: list[list[str]] = []
        action = functools.partial(self._missing, tournament, closed.number, group, found)
        self.guard.run_once(closed.number, CLOSE_CHECK, action, tournament.id)
        if found and found[0]:
            report.missing_at_close += len(found[0])
            report.alerts.append(
                f"{tournament.name} round {closed.number} closed with no submission from: "
                f"{', '.join(found[0])}"
            )

    def _versions(
        self, tournament: Tournament, group: list[ModelConfig], report: CloseReport
    ) -> None:
        """Once per ISO week and tournament: models on an older version than the newest."""
        year, week, _ = self.now().isocalendar()
        notes: list[str] = []

        def notice() -> dict:
            served = self.numerai.served_datasets(tournament)
            versions = {c.name: c.data_version for c in group}
            older = older_than_newest(tournament, versions, served)
            if older:
                latest = newest(tournament, served)
                models = ", ".join(f"{m} ({v})" for m, v in sorted(older.items()))
                notes.append(
                    f"{tournament.name}: Numerai now serves {latest}; still on an older "
                    f"version: {models} (retrain or re-export on {latest})"
                )
            return {"notes": notes}

        self.guard.run_once(year * 100 + week, VERSION_NOTICE, notice, tournament.id)
        report.alerts.extend(notes)

    def _missing(
        self,
        tournament: Tournament,
        round_number: int,
        configs: list[ModelConfig],
        out: list[list[str]],
    ) -> dict:
        """The guarded action: the models with no submission in the round (ledger, then
        Numerai, repairing the ledger from Numerai), said once."""
        missing: list[str] = []
        account: dict[str, AccountModel] | None = None
        for config in configs:
            record = self.ledger.get(round_number, config.name, tournament.id)
            if record is not None and record.status == SUBMITTED:
                continue
            if account is None:
                account = self.numerai.account_models()
            model = account.get(config.name)
            held = (
                self.numerai.round_submission(model.id, round_number, tournament)
                if model is not None
                else None
            )
            if held is None or model is None:
                missing.append(config.name)
                continue
            self._repair(tournament, round_number, config.name, model.id, str(held["id"]))
        out.append(missing)
        return {"missing": missing}

    def _repair(
        self, tournament: Tournament, round_number: int, name: str, model_id: str, sub_id: str
    ) -> None:
        """Numerai has it (a manual upload, a lost ledger write): the ledger says so too."""
        record = LedgerRecord(
            round_number,
            name,
            SUBMITTED,
            model_id=model_id,
            submission_id=sub_id,
            source="close-check",
            tournament=tournament.id,
        )
        try:
            self.ledger.put(record)
        except Exception as error:  # the next check tries again
            logger.error(
                "ledger write failed", extra={"model": name, "error": type(error).__name__}
            )
