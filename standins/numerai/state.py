"""The stand-in's tournament state: rounds, uploads, submissions, webhooks, deliveries.

Plain records plus one lock. Nothing here knows about HTTP or GraphQL, so the resolvers, the
admin endpoints and the Python knob methods all read and change the same state the same way.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from standins.numerai import clock

CLASSIC = 8
ROUND_WINDOW = dt.timedelta(hours=1)
RESOLVE_AFTER = dt.timedelta(days=31)
SCORE_AFTER = dt.timedelta(days=3)


@dataclass
class Round:
    """One tournament round with Numerai's four times."""

    number: int
    open_time: dt.datetime
    close_staking_time: dt.datetime
    close_time: dt.datetime
    resolve_time: dt.datetime
    resolved: bool = False
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tournament: int = CLASSIC

    def is_resolved(self, moment: dt.datetime) -> bool:
        """Resolved when marked so or when its resolve time has passed."""
        return self.resolved or self.resolve_time <= moment

    def as_graphql(self) -> dict[str, Any]:
        """The round as Numerai's ``Round`` type (times as ISO strings)."""
        moment = clock.now()
        return {
            "id": self.id,
            "tournament": self.tournament,
            "number": self.number,
            "target": "target",
            "openTime": clock.iso(self.open_time),
            "closeTime": clock.iso(self.close_time),
            "closeStakingTime": clock.iso(self.close_staking_time),
            "scoreTime": clock.iso(self.close_time + SCORE_AFTER),
            "resolveTime": clock.iso(self.resolve_time),
            "resolvedGeneral": self.is_resolved(moment),
            "resolvedStaking": self.is_resolved(moment),
            "payoutFactor": "1.0",
            "stakeThreshold": "0",
            "dataDatestamp": int(self.open_time.strftime("%Y%m%d")),
            "roundScoreConfigs": [],
        }


def make_round(
    number: int,
    open_time: dt.datetime,
    window: dt.timedelta = ROUND_WINDOW,
    tournament: int = CLASSIC,
) -> Round:
    """A round opening at ``open_time`` that closes ``window`` later and resolves a month on."""
    close = open_time + window
    return Round(number, open_time, close, close, close + RESOLVE_AFTER, tournament=tournament)


@dataclass
class RoundBook:
    """One tournament's rounds: the history, the latest number and the open/closed knob."""

    tournament: int
    rounds: dict[int, Round]
    current_number: int
    open_flag: bool

    @classmethod
    def starting(cls, tournament: int, number: int, is_open: bool) -> RoundBook:
        """A book whose only round opened now (or, when closed, ended an hour ago)."""
        now = clock.now_seconds()
        opened = now if is_open else now - ROUND_WINDOW * 2
        return cls(
            tournament, {number: make_round(number, opened, tournament=tournament)}, number, is_open
        )

    @property
    def current(self) -> Round:
        """The latest round (open or not)."""
        return self.rounds[self.current_number]

    def is_open(self, moment: dt.datetime | None = None) -> bool:
        """Open for submissions: not closed by a knob, and inside open time .. close time."""
        moment = moment or clock.now()
        current = self.current
        return self.open_flag and current.open_time <= moment < current.close_time

    def open_round(self, number: int, window: dt.timedelta = ROUND_WINDOW) -> Round:
        """Start round ``number`` now; earlier rounds stay in the history."""
        new = make_round(number, clock.now_seconds(), window, self.tournament)
        self.rounds[number] = new
        self.current_number = number
        self.open_flag = True
        return new


@dataclass
class PendingUpload:
    """A one-time upload slot handed out by ``submissionUploadAuth``."""

    token: str
    filename: str
    model_id: str
    tournament: int
    created_at: dt.datetime
    used: bool = False


@dataclass
class StoredUpload:
    """Bytes that reached the upload endpoint, keyed by the filename the API returned."""

    filename: str
    model_id: str
    tournament: int
    content: bytes
    stored_at: dt.datetime


@dataclass
class SubmissionRecord:
    """One ``createSubmission`` attempt, accepted or rejected."""

    id: str
    model_id: str
    model_name: str
    round_number: int
    tournament: int
    filename: str
    trigger_id: str | None
    source: str | None
    data_datestamp: int | None
    status: str
    reason: str | None
    rows: int | None
    inserted_at: dt.datetime
    content: bytes = field(default=b"", repr=False)
    # After the round's closeStakingTime but before its closeTime: scored, never staked
    # ("late submissions are scored but unstakeable").
    late: bool = False

    def as_json(self) -> dict[str, Any]:
        """JSON-friendly view for tests and the admin endpoint (without the CSV bytes)."""
        return {
            "id": self.id,
            "model_id": self.model_id,
            "model_name": self.model_name,
            "round": self.round_number,
            "tournament": self.tournament,
            "filename": self.filename,
            "trigger_id": self.trigger_id,
            "source": self.source,
            "data_datestamp": self.data_datestamp,
            "status": self.status,
            "reason": self.reason,
            "rows": self.rows,
            "inserted_at": clock.iso(self.inserted_at),
            "late": self.late,
            "bytes": len(self.content),
        }


@dataclass
class Delivery:
    """One webhook POST the stand-in made (or is making) to a registered URL."""

    id: str
    model_id: str
    model_name: str
    url: str
    payload: dict[str, Any]
    started_at: dt.datetime
    status: int | None = None
    body: str | None = None
    error: str | None = None
    elapsed_ms: float | None = None
    done: bool = False
    tournament: int = CLASSIC

    def as_json(self) -> dict[str, Any]:
        """JSON-friendly view for tests and the admin endpoint."""
        return {
            "id": self.id,
            "model_id": self.model_id,
            "model_name": self.model_name,
            "tournament": self.tournament,
            "url": self.url,
            "payload": self.payload,
            "trigger_id": self.payload.get("triggerId"),
            "started_at": clock.iso(self.started_at),
            "status": self.status,
            "body": self.body,
            "error": self.error,
            "elapsed_ms": self.elapsed_ms,
            "done": self.done,
        }


class TournamentState:
    """All mutable tournament state behind one lock (``with state.lock: ...``).

    Rounds are kept per tournament (:meth:`book`); ``rounds``, ``current``, ``is_open`` ...
    without a tournament are Classic's, as before Signals and Crypto existed.
    """

    def __init__(
        self,
        models: dict[str, str],
        round_number: int,
        round_open: bool,
        *,
        tournament_rounds: Mapping[int, int] | None = None,
        model_tournaments: Mapping[str, int] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.models = dict(models)  # name -> id
        tournaments = dict(model_tournaments or {})
        self.model_tournaments = {  # model id -> tournament; absent means Classic
            model_id: tournaments[name] for name, model_id in models.items() if name in tournaments
        }
        others = {t: n for t, n in (tournament_rounds or {}).items() if t != CLASSIC}
        starts = {CLASSIC: round_number, **others}
        self.books: dict[int, RoundBook] = {
            tournament: RoundBook.starting(tournament, number, round_open)
            for tournament, number in starts.items()
        }
        self.pending_uploads: dict[str, PendingUpload] = {}
        self.uploads: dict[str, StoredUpload] = {}
        self.submissions: list[SubmissionRecord] = []
        self.webhooks: dict[str, str] = {}  # model id -> url
        self.deliveries: list[Delivery] = []
        self.deliveries_changed = threading.Condition(self.lock)

    # -- rounds -------------------------------------------------------------------------------

    def book(self, tournament: int = CLASSIC) -> RoundBook:
        """One tournament's rounds (KeyError for a tournament not served)."""
        return self.books[tournament]

    @property
    def rounds(self) -> dict[int, Round]:
        """Classic's rounds by number."""
        return self.books[CLASSIC].rounds

    @property
    def current_number(self) -> int:
        """Classic's latest round number."""
        return self.books[CLASSIC].current_number

    @property
    def open_flag(self) -> bool:
        """Classic's open/closed knob."""
        return self.books[CLASSIC].open_flag

    @open_flag.setter
    def open_flag(self, value: bool) -> None:
        self.books[CLASSIC].open_flag = value

    @property
    def current(self) -> Round:
        """Classic's latest round (open or not)."""
        return self.books[CLASSIC].current

    def is_open(self, moment: dt.datetime | None = None) -> bool:
        """Whether Classic is open for submissions."""
        return self.books[CLASSIC].is_open(moment)

    def open_round(self, number: int, window: dt.timedelta = ROUND_WINDOW) -> Round:
        """Start Classic round ``number`` now."""
        return self.books[CLASSIC].open_round(number, window)

    # -- models -------------------------------------------------------------------------------

    def model_name(self, model_id: str) -> str | None:
        """The account's name for a model id, or None when the id is not the account's."""
        for name, known in self.models.items():
            if known == model_id:
                return name
        return None

    def tournament_of(self, model_id: str) -> int:
        """The tournament a model belongs to (Classic unless created for another)."""
        return self.model_tournaments.get(model_id, CLASSIC)

    def add_model(self, name: str, model_id: str, tournament: int) -> None:
        """Add a model to the account (a name already used is an error)."""
        if name in self.models:
            raise ValueError(f"model {name!r} already exists")
        if self.model_name(model_id) is not None:
            raise ValueError(f"model id {model_id} already exists")
        self.models[name] = model_id
        self.model_tournaments[model_id] = tournament
