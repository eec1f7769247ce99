"""Tournament rules: what each API operation does to the state, without GraphQL or HTTP.

Every rule Numerai enforces lives here (round must be open, the upload must exist, the CSV
must be valid, the model must be the account's ...). Broken rules raise :class:`ApiError`,
whose message the GraphQL layer returns verbatim in ``errors[0].message``. Classic (8),
Signals (11) and Crypto (12) follow the same rules; what differs between them is data
(:mod:`standins.numerai.tournaments`): each has its own rounds, data, upload calls and
submission rules, and a model belongs to one of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from standins.numerai import clock, scores, validation
from standins.numerai.datasets import DataStore
from standins.numerai.state import (
    CLASSIC,
    ROUND_WINDOW,
    PendingUpload,
    Round,
    RoundBook,
    StoredUpload,
    SubmissionRecord,
    TournamentState,
)
from standins.numerai.tournaments import (
    CLASSIC_CALLS,
    TournamentSpec,
    UnknownTournament,
    UploadCalls,
    spec_for,
)
from standins.numerai.webhooks import WebhookSender

log = logging.getLogger(__name__)

ROUND_NOT_OPEN = "Current round not open for submissions"
UPLOAD_NOT_FOUND = "upload not found"
UPLOAD_USED = "upload already submitted"


class ApiError(Exception):
    """A rule was broken; the message is what the API answers."""


class DataSource(Protocol):
    """One tournament's files: Classic's versioned DataStore or Signals'/Crypto's data."""

    versions: list[str]

    def ready_for(self, round_number: int) -> None: ...

    def list_files(self) -> list[str]: ...

    def path_for(self, filename: str) -> Path | None: ...

    def live_ids(self, version: str | None = None) -> frozenset[str]: ...

    def live_id_sets(self) -> dict[str, frozenset[str]]:
        """Classic: live ids per data version; Signals, Crypto: per id column."""
        ...


class Tournament:
    """Numerai's tournaments (Classic, Signals, Crypto) as one account sees them."""

    def __init__(
        self,
        state: TournamentState,
        data: DataStore,
        sender: WebhookSender,
        provided: Mapping[int, DataSource] | None = None,
        reuse: Callable[[], str] = lambda: "refuse",
    ) -> None:
        self.state = state
        self.reuse = reuse  # what a reused upload filename does (faults.REUSE_MODES)
        self.data = data  # Classic's files
        self.sender = sender
        self.stores: dict[int, DataSource] = {CLASSIC: data, **dict(provided or {})}

    # -- tournaments --------------------------------------------------------------------------

    def spec(self, tournament: int | str | None) -> TournamentSpec:
        """The served tournament numbered ``tournament``; None is Classic."""
        try:
            spec = spec_for(tournament)
        except (UnknownTournament, ValueError) as err:
            raise ApiError(str(err)) from err
        if spec.id not in self.state.books or spec.id not in self.stores:
            raise ApiError(f"Tournament {tournament} is not served by this stand-in")
        return spec

    check_tournament = spec

    def book(self, tournament: int | str | None = None) -> RoundBook:
        """A served tournament's rounds."""
        return self.state.book(self.spec(tournament).id)

    def model_spec(self, model_id: str) -> TournamentSpec:
        """The tournament a model of the account belongs to."""
        return spec_for(self.state.tournament_of(model_id))

    # -- rounds -------------------------------------------------------------------------------

    def rounds(
        self,
        number: int | None,
        status: str | None = None,
        limit: int | None = None,
        tournament: int | None = None,
    ) -> list[Round]:
        """``rounds``: number 0 is the open round (an error between rounds), else history."""
        moment = clock.now()
        book = self.book(tournament)
        with self.state.lock:
            if number == 0:
                if not book.is_open(moment):
                    raise ApiError(ROUND_NOT_OPEN)
                return [book.current]
            if number is not None:
                found = book.rounds.get(number)
                return [found] if found else []
            history = sorted(book.rounds.values(), key=lambda r: r.number, reverse=True)
            if status is not None:
                history = [r for r in history if self._status(book, r, moment) == status]
            return history[:limit] if limit is not None else history

    @staticmethod
    def _status(book: RoundBook, rnd: Round, moment: dt.datetime) -> str:
        if rnd.number == book.current_number and book.is_open(moment):
            return "OPEN"
        if rnd.is_resolved(moment):
            return "RESOLVED"
        if rnd.open_time > moment:
            return "UPCOMING"
        return "RESOLVING"

    def check_round_exists(self, round_number: int | None, tournament: int | None = None) -> None:
        """Data is only listed for the current round or earlier ones."""
        book = self.book(tournament)
        if round_number is not None and round_number > book.current_number:
            raise ApiError(f"Round {round_number} does not exist yet")

    # -- datasets -----------------------------------------------------------------------------

    def store(self, tournament: int | None = None) -> DataSource:
        """A tournament's files, generated or rotated to its current round if needed."""
        spec = self.spec(tournament)
        with self.state.lock:
            source = self.stores[spec.id]
            source.ready_for(self.state.book(spec.id).current_number)
        return source

    def list_files(self, tournament: int | None = None) -> list[str]:
        """``listDatasets``: the tournament's files as Numerai names them."""
        return self.store(tournament).list_files()

    def file_path(self, filename: str) -> Path | None:
        """The local file behind a dataset name of any tournament, or None."""
        for tournament, source in self.stores.items():
            if any(filename.startswith(f"{version}/") for version in source.versions):
                return self.store(tournament).path_for(filename)
        return None

    def dataset(
        self, filename: str, round_number: int | None, tournament: int | None = None
    ) -> str:
        """The served path of a dataset file (the caller turns it into a URL)."""
        self.check_round_exists(round_number, tournament)
        if self.file_path(filename) is None:
            raise ApiError(f"Dataset {filename!r} not found")
        return filename

    # -- models -------------------------------------------------------------------------------

    def resolve_model(self, model_id: str | None, tournament: int | None = None) -> tuple[str, str]:
        """(id, name) of one of the account's models; ``None`` is fine for one-model accounts.

        With ``tournament``, "one model" means one model of that tournament.
        """
        with self.state.lock:
            if not model_id:
                candidates = [
                    (name, known)
                    for name, known in self.state.models.items()
                    if tournament is None or self.state.tournament_of(known) == tournament
                ]
                if len(candidates) == 1:
                    name, only = candidates[0]
                    return only, name
                if not candidates:
                    raise ApiError(f"This account has no model in tournament {tournament}")
                raise ApiError("modelId is required for accounts with more than one model")
            name = self.state.model_name(model_id)
        if name is None:
            raise ApiError(f"Model {model_id!r} not found in this account")
        return model_id, name

    def add_model(
        self, name: str, tournament: int | None = None, model_id: str | None = None
    ) -> str:
        """Create a model of the account in a tournament (default Classic); return its id."""
        if not name:
            raise ValueError("model names must not be empty")
        spec = self.spec(tournament)
        model_id = str(uuid.UUID(model_id)) if model_id else str(uuid.uuid4())
        with self.state.lock:
            self.state.add_model(name, model_id, spec.id)
        return model_id

    def accepted_submissions(self, model_id: str | None = None) -> list[SubmissionRecord]:
        """Accepted submissions, oldest first, optionally of one model."""
        with self.state.lock:
            return [
                s
                for s in self.state.submissions
                if s.status == "accepted" and (model_id is None or s.model_id == model_id)
            ]

    # -- uploads and submissions ----------------------------------------------------------------

    def upload_model(
        self, model_id: str | None, tournament: int | None, calls: UploadCalls
    ) -> tuple[str, str, TournamentSpec]:
        """(id, name, tournament) of the model an upload call is for, checked against the call.

        The ``tournament`` argument, when given, must be the model's own; and a model uploads
        with its tournament's calls (Signals: ``submissionUploadSignalsAuth`` ...).
        """
        asked = None if tournament is None else self.spec(tournament)
        model_id, name = self.resolve_model(model_id, None if asked is None else asked.id)
        own = self.model_spec(model_id)
        if asked is not None and asked.id != own.id:
            raise ApiError(
                f"Model {name} is a {own.name} model (tournament {own.id}); "
                f"it cannot submit to {asked.name} (tournament {asked.id})"
            )
        if own.calls != calls:
            raise ApiError(
                f"{own.name} models submit with {own.calls.auth} and {own.calls.create}, "
                f"not {calls.auth} and {calls.create}"
            )
        return model_id, name, own

    def upload_auth(
        self,
        filename: str,
        tournament: int | None,
        model_id: str | None,
        calls: UploadCalls = CLASSIC_CALLS,
    ) -> PendingUpload:
        """Hand out a one-time upload slot (Numerai: a presigned S3 PUT URL)."""
        model_id, _, spec = self.upload_model(model_id, tournament, calls)
        basename = filename.replace("\\", "/").rsplit("/", 1)[-1] or "predictions.csv"
        pending = PendingUpload(
            token=secrets.token_urlsafe(24),
            filename=f"{uuid.uuid4().hex}/{basename}",
            model_id=model_id,
            tournament=spec.id,
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
        tournament: int | None,
        model_id: str | None,
        trigger_id: str | None,
        source: str | None,
        data_datestamp: int | None,
        calls: UploadCalls = CLASSIC_CALLS,
    ) -> SubmissionRecord:
        """Validate an uploaded CSV for the open round of the model's tournament; record it."""
        model_id, model_name, spec = self.upload_model(model_id, tournament, calls)
        with self.state.lock:
            book = self.state.book(spec.id)
            if not book.is_open():
                raise ApiError(ROUND_NOT_OPEN)
            upload = self.state.uploads.get(filename)
            reused = any(s.filename == filename for s in self.state.submissions)
            round_number = book.current_number
            staking_closed = book.current.close_staking_time
        if reused and self.reuse() == "refuse":
            raise ApiError(f"{UPLOAD_USED}: {filename!r} was already submitted")
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
            tournament=spec.id,
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
        record.late = record.inserted_at >= staking_closed  # accepted, scored, unstakeable
        try:
            id_sets = self.store(spec.id).live_id_sets()
            record.rows = spec.validate(upload.content, id_sets, round_number)
        except validation.SubmissionInvalid as err:
            record.status, record.reason = "rejected", str(err)
        with self.state.lock:
            self.state.submissions.append(record)
            if self.reuse() == "refuse":  # "accept": the file stays, a reuse submits again
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
        """A test trigger: POST to the model's webhook in the background, return the trigger id.

        The body carries the current round of the model's own tournament.
        """
        model_id, name = self.resolve_model(model_id)
        spec = self.model_spec(model_id)
        with self.state.lock:
            if model_id not in self.state.webhooks:
                raise ApiError(f"Model {name} has no submission webhook set")
            round_number = self.state.book(spec.id).current_number
        return self.sender.trigger(
            model_id, round_number, is_test=True, data_version=spec.webhook_data_version
        )

    # -- round changes (knobs) ----------------------------------------------------------------

    def open_round(
        self,
        number: int | None = None,
        window: dt.timedelta = ROUND_WINDOW,
        trigger_webhooks: bool = True,
        tournament: int | None = None,
    ) -> Round:
        """Start a tournament's new round now: new live data, then its models' webhooks."""
        spec = self.spec(tournament)
        with self.state.lock:
            book = self.state.book(spec.id)
            number = book.current_number + 1 if number is None else number
            if number < book.current_number:
                raise ValueError(f"round {number} is older than round {book.current_number}")
            if number != book.current_number:
                self.stores[spec.id].ready_for(number)
            new = book.open_round(number, window)
            models = [
                model_id
                for model_id in self.state.webhooks
                if trigger_webhooks and self.state.tournament_of(model_id) == spec.id
            ]
        for model_id in models:
            self.sender.trigger(
                model_id, number, is_test=False, data_version=spec.webhook_data_version
            )
        return new

    def close_round(self, tournament: int | None = None) -> None:
        """Close a tournament's current round: no open round, submissions refused."""
        book = self.book(tournament)
        with self.state.lock:
            book.open_flag = False

    # -- scores -------------------------------------------------------------------------------

    def _scored(
        self, tournament: int | None, model_id: str | None = None
    ) -> tuple[int, list[SubmissionRecord], dict[int, Round]]:
        """(tournament, its submissions, its rounds); no tournament: the model's own."""
        with self.state.lock:
            if tournament is None and model_id is not None:
                chosen = self.state.tournament_of(model_id)
            else:
                chosen = self.spec(tournament).id
            submissions = [s for s in self.state.submissions if s.tournament == chosen]
            return chosen, submissions, dict(self.state.book(chosen).rounds)

    def scores(self, model_id: str, tournament: int | None = None, **filters: Any) -> list[dict]:
        """``submissionScores`` for any model id (public data, like on Numerai)."""
        _, submissions, rounds = self._scored(tournament, model_id)
        rows = scores.submission_scores(model_id, submissions, rounds, clock.now())
        return scores.filter_scores(rows, **filters)

    def performances(self, model_id: str, tournament: int | None = None) -> list[dict[str, Any]]:
        """``v2RoundModelPerformances`` for any model id."""
        _, submissions, rounds = self._scored(tournament, model_id)
        return scores.round_performances(model_id, submissions, rounds, clock.now())

    def payouts(self, tournament: int | None = None) -> dict[str, list[dict[str, Any]]]:
        """``pendingModelPayouts`` for the account's models of one tournament."""
        chosen, submissions, rounds = self._scored(tournament)
        with self.state.lock:
            models = {
                name: model_id
                for name, model_id in self.state.models.items()
                if self.state.tournament_of(model_id) == chosen
            }
        return scores.model_payouts(models, submissions, rounds, clock.now())
