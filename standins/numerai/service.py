"""Tournament rules: what each API operation does to the state, without GraphQL or HTTP.

Every rule Numerai enforces lives here (round must be open, the upload must exist, the CSV
must be valid, the model must be the account's ...). Broken rules raise :class:`ApiError`,
whose message the GraphQL layer returns verbatim in ``errors[0].message``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from standins.numerai import clock, scores, validation
from standins.numerai.datasets import DataStore
from standins.numerai.state import (
    CLASSIC,
    ROUND_WINDOW,
    PendingUpload,
    Round,
    StoredUpload,
    SubmissionRecord,
    TournamentState,
)
from standins.numerai.webhooks import WebhookSender

log = logging.getLogger(__name__)

ROUND_NOT_OPEN = "Current round not open for submissions"
UPLOAD_NOT_FOUND = "upload not found"


class ApiError(Exception):
    """A rule was broken; the message is what the API answers."""


class Tournament:
    """The Classic tournament as one account sees it."""

    def __init__(self, state: TournamentState, data: DataStore, sender: WebhookSender) -> None:
        self.state = state
        self.data = data
        self.sender = sender

    # -- rounds -------------------------------------------------------------------------------

    @staticmethod
    def check_tournament(tournament: int | None) -> None:
        """Only Classic (8) exists here; ``None`` means the default, Classic."""
        if tournament is not None and tournament != CLASSIC:
            raise ApiError(f"Tournament {tournament} is not served by this stand-in (Classic is 8)")

    def rounds(
        self,
        number: int | None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Round]:
        """``rounds``: number 0 is the open round (an error between rounds), else history."""
        moment = clock.now()
        with self.state.lock:
            if number == 0:
                if not self.state.is_open(moment):
                    raise ApiError(ROUND_NOT_OPEN)
                return [self.state.current]
            if number is not None:
                found = self.state.rounds.get(number)
                return [found] if found else []
            history = sorted(self.state.rounds.values(), key=lambda r: r.number, reverse=True)
            if status is not None:
                history = [r for r in history if self._status(r, moment) == status]
            return history[:limit] if limit is not None else history

    def _status(self, rnd: Round, moment: dt.datetime) -> str:
        if rnd.number == self.state.current_number and self.state.is_open(moment):
            return "OPEN"
        if rnd.is_resolved(moment):
            return "RESOLVED"
        if rnd.open_time > moment:
            return "UPCOMING"
        return "RESOLVING"

    def check_round_exists(self, round_number: int | None) -> None:
        """Data is only listed for the current round or earlier ones."""
        if round_number is not None and round_number > self.state.current_number:
            raise ApiError(f"Round {round_number} does not exist yet")

    # -- datasets -----------------------------------------------------------------------------

    def dataset(self, filename: str, round_number: int | None) -> str:
        """The served path of a dataset file (the caller turns it into a URL)."""
        self.check_round_exists(round_number)
        if self.data.path_for(filename) is None:
            raise ApiError(f"Dataset {filename!r} not found")
        return filename

    # -- models -------------------------------------------------------------------------------

    def resolve_model(self, model_id: str | None) -> tuple[str, str]:
        """(id, name) of one of the account's models; ``None`` is fine for one-model accounts."""
        with self.state.lock:
            if not model_id:
                if len(self.state.models) == 1:
                    name, only = next(iter(self.state.models.items()))
                    return only, name
                raise ApiError("modelId is required for accounts with more than one model")
            name = self.state.model_name(model_id)
        if name is None:
            raise ApiError(f"Model {model_id!r} not found in this account")
        return model_id, name

    def accepted_submissions(self, model_id: str | None = None) -> list[SubmissionRecord]:
        """Accepted submissions, oldest first, optionally of one model."""
        with self.state.lock:
            return [
                s
                for s in self.state.submissions
                if s.status == "accepted" and (model_id is None or s.model_id == model_id)
            ]

    # -- uploads and submissions ----------------------------------------------------------------

    def upload_auth(self, filename: str, tournament: int, model_id: str | None) -> PendingUpload:
        """Hand out a one-time upload slot (Numerai: a presigned S3 PUT URL)."""
        self.check_tournament(tournament)
        model_id, _ = self.resolve_model(model_id)
        basename = filename.replace("\\", "/").rsplit("/", 1)[-1] or "predictions.csv"
        pending = PendingUpload(
            token=secrets.token_urlsafe(24),
            filename=f"{uuid.uuid4().hex}/{basename}",
            model_id=model_id,
            tournament=tournament,
            created_at=clock.now(),
        )
        with self.state.lock:
            self.state.pending_uploads[pending.token] = pending
        return pending

    def claim_upload_slot(self, token: str) -> PendingUpload | None:
        """The unused slot for ``token`` (None when unknown or already used)."""
        with self.state.lock:
            pending = self.state.pending_uploads.get(token)
            return None if pending is None or pending.used else pending

    def store_upload(self, pending: PendingUpload, content: bytes, keep: bool) -> str:
        """Mark the slot used and (unless ``keep`` is False) store the bytes; return an ETag."""
        with self.state.lock:
            pending.used = True
            if keep:
                self.state.uploads[pending.filename] = StoredUpload(
                    pending.filename, pending.model_id, pending.tournament, content, clock.now()
                )
        return hashlib.md5(content, usedforsecurity=False).hexdigest()

    def create_submission(
        self,
        filename: str,
        tournament: int,
        model_id: str | None,
        trigger_id: str | None,
        source: str | None,
        data_datestamp: int | None,
    ) -> SubmissionRecord:
        """Validate an uploaded CSV for the open round and record it (rejections too)."""
        self.check_tournament(tournament)
        model_id, model_name = self.resolve_model(model_id)
        with self.state.lock:
            if not self.state.is_open():
                raise ApiError(ROUND_NOT_OPEN)
            upload = self.state.uploads.get(filename)
            round_number = self.state.current_number
        if upload is None:
            raise ApiError(
                f"{UPLOAD_NOT_FOUND}: nothing was stored under {filename!r}; "
                "the PUT to the upload URL failed or never happened"
            )
        if upload.model_id != model_id:
            raise ApiError(f"{UPLOAD_NOT_FOUND}: {filename!r} was uploaded for another model")
        record = SubmissionRecord(
            id=str(uuid.uuid4()),
            model_id=model_id,
            model_name=model_name,
            round_number=round_number,
            tournament=tournament,
            filename=filename,
            trigger_id=trigger_id,
            source=source,
            data_datestamp=data_datestamp,
            status="accepted",
            reason=None,
            rows=None,
            inserted_at=clock.now(),
            content=upload.content,
        )
        try:
            live_ids = validation.best_matching_ids(upload.content, self.data.live_id_sets())
            record.rows = validation.validate_submission(upload.content, live_ids, round_number)
        except validation.SubmissionInvalid as err:
            record.status, record.reason = "rejected", str(err)
        with self.state.lock:
            self.state.submissions.append(record)
            self.state.uploads.pop(filename, None)
        if record.status == "rejected":
            raise ApiError(record.reason)
        return record

    def submission(self, submission_id: str) -> SubmissionRecord:
        """An accepted submission of this account by id."""
        for record in self.accepted_submissions():
            if record.id == submission_id:
                return record
        raise ApiError(f"Submission {submission_id!r} not found")

    # -- webhooks -----------------------------------------------------------------------------

    def set_webhook(self, model_id: str | None, url: str | None) -> None:
        """Register (or with an empty value, clear) a model's submission webhook."""
        model_id, _ = self.resolve_model(model_id)
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ApiError(f"Invalid webhook URL {url!r}: an http(s) URL is required")
        with self.state.lock:
            if url:
                self.state.webhooks[model_id] = url
            else:
                self.state.webhooks.pop(model_id, None)

    def trigger_webhook(self, model_id: str) -> str:
        """A test trigger: POST to the model's webhook in the background, return the trigger id."""
        model_id, name = self.resolve_model(model_id)
        with self.state.lock:
            if model_id not in self.state.webhooks:
                raise ApiError(f"Model {name} has no submission webhook set")
            round_number = self.state.current_number
        return self.sender.trigger(model_id, round_number, is_test=True)

    # -- round changes (knobs) ----------------------------------------------------------------

    def open_round(
        self,
        number: int | None = None,
        window: dt.timedelta = ROUND_WINDOW,
        trigger_webhooks: bool = True,
    ) -> Round:
        """Start a new round now: new live ids, then the round-open webhook for every model."""
        with self.state.lock:
            number = self.state.current_number + 1 if number is None else number
            if number < self.state.current_number:
                raise ValueError(f"round {number} is older than round {self.state.current_number}")
        if number != self.state.current_number:
            self.data.rotate_live(number)
        with self.state.lock:
            new = self.state.open_round(number, window)
            models = list(self.state.webhooks) if trigger_webhooks else []
        for model_id in models:
            self.sender.trigger(model_id, number, is_test=False)
        return new

    # -- scores -------------------------------------------------------------------------------

    def scores(self, model_id: str, **filters: Any) -> list[dict[str, Any]]:
        """``submissionScores`` for any model id (public data, like on Numerai)."""
        with self.state.lock:
            rows = scores.submission_scores(
                model_id, list(self.state.submissions), dict(self.state.rounds), clock.now()
            )
        return scores.filter_scores(rows, **filters)

    def performances(self, model_id: str) -> list[dict[str, Any]]:
        """``v2RoundModelPerformances`` for any model id."""
        with self.state.lock:
            return scores.round_performances(
                model_id, list(self.state.submissions), dict(self.state.rounds), clock.now()
            )

    def payouts(self) -> dict[str, list[dict[str, Any]]]:
        """``pendingModelPayouts`` for the account's models."""
        with self.state.lock:
            return scores.model_payouts(
                dict(self.state.models),
                list(self.state.submissions),
                dict(self.state.rounds),
                clock.now(),
            )
