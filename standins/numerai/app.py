"""``StandinApp``: the Numerai stand-in without its network: the account, the tournaments of
Classic (8), Signals (11) and Crypto (12), and the test controls.

What :mod:`standins.numerai.http_server` serves and :class:`~standins.numerai.server.NumeraiStandin`
runs on a daemon thread; apart from the network so that the HTTP layer and the admin
endpoints can know the stand-in without the stand-in's server knowing them back.

Each tournament has its own round numbers (1100, 700, 300 by default), open/close knobs and
data; round knobs take ``tournament=`` (default Classic). Signals and Crypto models are made
with :meth:`StandinApp.create_model` or the ``model_tournaments`` argument; their data is
generated the first time it is needed. The fault knobs (``fail_next`` ...) come from
:class:`~standins.numerai.faults.FaultControls`, as the HTTP client's do.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from standins import synthetic_data
from standins.numerai import clock, resolvers, state, tournaments
from standins.numerai.datasets import DataSizes, DataStore
from standins.numerai.faults import FAULT_KINDS, FaultControls, Faults
from standins.numerai.provided_data import ProvidedData, TournamentSizes
from standins.numerai.resolvers import RequestContext
from standins.numerai.service import ApiError, Tournament
from standins.numerai.webhooks import WebhookSender

DEFAULT_PUBLIC_ID = "STANDINPUBLICID0000000000000000X"
DEFAULT_SECRET_KEY = "STANDINSECRETKEY" + "0" * 47 + "X"
DEFAULT_ROUND = tournaments.CLASSIC.default_round
DEFAULT_TOURNAMENT_ROUNDS = {
    spec.id: spec.default_round for spec in tournaments.SPECS.values() if spec.shape is not None
}
Tournaments = int | str | None  # 8, 11, 12, "signals" ...; None is Classic
_MODEL_NAMESPACE = uuid.UUID("6f0c1d2e-5b7a-4c1e-9a55-2f9f6a1b8c01")


def model_id_for(name: str) -> str:
    """A stable UUID for a model name, so default model ids are the same on every run."""
    return str(uuid.uuid5(_MODEL_NAMESPACE, name))


DEFAULT_MODELS = {name: model_id_for(name) for name in ("demo_model", "demo_model_2")}


class StandinApp(FaultControls):
    """A faithful local stand-in of Numerai's tournament GraphQL API (Classic, Signals, Crypto),
    minus the network: what each request is answered with, and the knobs that change it."""

    def __init__(
        self,
        data_root: str | Path,
        data_versions: Sequence[str] = ("v5.2",),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        public_id: str = DEFAULT_PUBLIC_ID,
        secret_key: str = DEFAULT_SECRET_KEY,
        models: Mapping[str, str] | None = None,
        round_number: int = DEFAULT_ROUND,
        round_open: bool = True,
        seed: int = 0,
        live_rows: int = synthetic_data.LIVE_ROWS,
        n_features: int = synthetic_data.FEATURE_SET_SIZES["all"],
        train_eras: int = 60,
        validation_eras: int = 20,
        rows_per_era: int = 100,
        webhook_timeout: float = 10.0,
        username: str = "standin_user",
        model_tournaments: Mapping[str, int | str] | None = None,
        tournament_rounds: Mapping[int, int] | None = None,
        tournament_sizes: Mapping[int, TournamentSizes] | None = None,
    ) -> None:
        """Configure the stand-in; nothing is generated until it is started (``host`` and
        ``port``: where :class:`~standins.numerai.server.NumeraiStandin` serves it).

        ``model_tournaments``: model name -> tournament for models of ``models`` that are not
        Classic. ``tournament_rounds``: the first round of Signals (11) and Crypto (12).
        ``tournament_sizes``: their data sizes (tests use small ones). ``round_open`` applies
        to every tournament.
        """
        models = dict(DEFAULT_MODELS if models is None else models)
        for name, model_id in models.items():
            uuid.UUID(model_id)  # Numerai model ids are UUIDs; fail early otherwise.
            if not name:
                raise ValueError("model names must not be empty")
        owners = {
            name: tournaments.spec_for(value).id
            for name, value in (model_tournaments or {}).items()
        }
        unknown = set(owners) - set(models)
        if unknown:
            raise ValueError(f"model_tournaments names unknown models: {sorted(unknown)}")
        rounds = {**DEFAULT_TOURNAMENT_ROUNDS, **dict(tournament_rounds or {})}
        sizes = dict(tournament_sizes or {})
        self.public_id = public_id
        self.secret_key = secret_key
        self._address = (host, port)
        self.data = DataStore(
            Path(data_root),
            list(data_versions),
            DataSizes(live_rows, n_features, train_eras, validation_eras, rows_per_era),
            seed,
        )
        provided = {
            spec.id: ProvidedData(
                Path(data_root), spec.shape, sizes.get(spec.id, TournamentSizes()), seed
            )
            for spec in tournaments.SPECS.values()
            if spec.shape is not None
        }
        self.state = state.TournamentState(
            models,
            round_number,
            round_open,
            tournament_rounds={t: rounds[t] for t in provided},
            model_tournaments=owners,
        )
        self.faults = Faults()
        self.sender = WebhookSender(self.state, webhook_timeout)
        self.tournament = Tournament(
            self.state, self.data, self.sender, provided, reuse=lambda: self.faults.reuse
        )
        self.schema = resolvers.build()
        self._account = {
            "id": str(uuid.uuid5(_MODEL_NAMESPACE, "account:" + username)),
            "username": username,
            "email": f"{username}@example.com",
            "walletAddress": "0x" + "0" * 39 + "1",
            "availableNmr": "100.0",
            "mfaEnabled": False,
            "status": "VERIFIED",
            "insertedAt": clock.iso(dt.datetime(2020, 1, 1, tzinfo=clock.UTC)),
        }
        self.served_at: str | None = None  # the URL while it is served

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: set ``numerapi.base_api.API_TOURNAMENT_URL`` to this."""
        if self.served_at is None:
            raise RuntimeError("the stand-in is not running; call start() or use `with`")
        return self.served_at

    @property
    def models(self) -> dict[str, str]:
        """The account's models (every tournament), name -> id."""
        with self.state.lock:
            return dict(self.state.models)

    def models_in(self, tournament: Tournaments = None) -> dict[str, str]:
        """The account's models of one tournament (default Classic), name -> id."""
        spec = self._spec(tournament)
        with self.state.lock:
            return {
                name: model_id
                for name, model_id in self.state.models.items()
                if self.state.tournament_of(model_id) == spec.id
            }

    def model_tournament(self, name: str) -> int:
        """The tournament (8, 11, 12) of one of the account's models, by name."""
        with self.state.lock:
            return self.state.tournament_of(self.state.models[name])

    def create_model(
        self, name: str, *, tournament: Tournaments = None, model_id: str | None = None
    ) -> str:
        """Add a model to the account in ``tournament`` (default Classic); return its id.

        The id defaults to :func:`model_id_for` ``(name)``, stable from run to run.
        """
        return self.tournament.add_model(
            name, self._spec(tournament).id, model_id or model_id_for(name)
        )

    def _spec(self, tournament: Tournaments) -> tournaments.TournamentSpec:
        try:
            return self.tournament.spec(tournament)
        except ApiError as err:
            raise ValueError(str(err)) from err

    def request_context(self, authorization: str | None, base_url: str) -> RequestContext:
        """The per-request context resolvers see, with the API key already checked."""
        return RequestContext(
            tournament=self.tournament,
            auth=self._check_token(authorization),
            base_url=base_url,
            account=self._account,
            public_id=self.public_id,
        )

    def _check_token(self, authorization: str | None) -> str:
        if not authorization:
            return "missing"
        scheme, _, token = authorization.partition(" ")
        expected = f"{self.public_id}${self.secret_key}"
        if scheme != "Token" or not secrets.compare_digest(token.strip(), expected):
            return "invalid"
        return "ok"

    # -- knobs: faults (defined by FaultControls) ---------------------------------------------

    def apply_fault(self, kind: str, arguments: Mapping[str, Any]) -> None:
        """Set one kind of fault on this stand-in's :class:`Faults`."""
        FAULT_KINDS[kind](self.faults, arguments)

    # -- knobs: rounds ------------------------------------------------------------------------

    @property
    def current_round(self) -> int:
        """Classic's latest round number (open or closed)."""
        return self.round_number()

    def round_number(self, tournament: Tournaments = None) -> int:
        """A tournament's latest round number (open or closed); default Classic."""
        spec = self._spec(tournament)
        with self.state.lock:
            return self.state.book(spec.id).current_number

    def is_round_open(self, tournament: Tournaments = None) -> bool:
        """Whether ``rounds(tournament, number: 0)`` answers and submissions are accepted now."""
        spec = self._spec(tournament)
        with self.state.lock:
            return self.state.book(spec.id).is_open()

    def open_round(
        self,
        number: int | None = None,
        *,
        window: dt.timedelta | None = None,
        trigger_webhooks: bool = True,
        tournament: Tournaments = None,
    ) -> int:
        """Open ``tournament``'s round ``number`` (default: its next) now for ``window`` (1 h).

        A new number rewrites that tournament's live files (Classic: new ids; Signals and
        Crypto: new values, the universe shifts a little); reopening the current number keeps
        them. Webhooks of that tournament's models get the round-open POST (``isTest`` false).
        """
        spec = self._spec(tournament)
        opened = self.tournament.open_round(
            number, window or state.ROUND_WINDOW, trigger_webhooks, spec.id
        )
        return opened.number

    def close_round(self, *, tournament: Tournaments = None) -> None:
        """Close a tournament's round (default Classic): ``rounds(number: 0)`` errors,
        submissions are refused."""
        self.tournament.close_round(self._spec(tournament).id)

    def set_round_times(
        self,
        *,
        open_time: str | dt.datetime | None = None,
        close_staking_time: str | dt.datetime | None = None,
        close_time: str | dt.datetime | None = None,
        resolve_time: str | dt.datetime | None = None,
        tournament: Tournaments = None,
    ) -> None:
        """Change a tournament's current round's times (ISO strings or datetimes; naive: UTC).

        The round is open while ``open_time <= now < close_time`` (and not closed by a knob);
        numerapi's ``check_round_open`` compares with ``closeStakingTime``.
        """
        spec = self._spec(tournament)
        with self.state.lock:
            current = self.state.book(spec.id).current
            if open_time is not None:
                current.open_time = clock.parse(open_time)
            if close_staking_time is not None:
                current.close_staking_time = clock.parse(close_staking_time)
            if close_time is not None:
                current.close_time = clock.parse(close_time)
            if resolve_time is not None:
                current.resolve_time = clock.parse(resolve_time)

    def resolve_round(self, number: int, *, tournament: Tournaments = None) -> None:
        """Mark a round resolved now, so its submissions get (fake) scores and payouts."""
        spec = self._spec(tournament)
        with self.state.lock:
            rnd = self.state.book(spec.id).rounds.get(number)
            if rnd is None:
                raise ValueError(f"round {number} is unknown")
            rnd.resolved = True
            rnd.resolve_time = min(rnd.resolve_time, clock.now_seconds())

    # -- reads --------------------------------------------------------------------------------

    def submissions(
        self, model_name: str | None = None, *, tournament: Tournaments = None
    ) -> list[dict[str, Any]]:
        """Every create-submission attempt (accepted and rejected), oldest first; optionally
        of one model and/or one tournament (each record has ``round`` and ``tournament``)."""
        wanted = None if tournament is None else self._spec(tournament).id
        with self.state.lock:
            records = list(self.state.submissions)
        return [
            r.as_json()
            for r in records
            if model_name in (None, r.model_name) and wanted in (None, r.tournament)
        ]

    def submission_csv(self, submission_id: str) -> bytes | None:
        """The uploaded bytes of a recorded submission, or None."""
        with self.state.lock:
            for record in self.state.submissions:
                if record.id == submission_id:
                    return record.content
        return None

    def webhooks(self) -> dict[str, str]:
        """Registered webhooks, model name -> URL."""
        with self.state.lock:
            return {
                self.state.model_name(model_id) or model_id: url
                for model_id, url in self.state.webhooks.items()
            }

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Webhook POSTs made so far, with the status and body each got (or its error)."""
        with self.state.lock:
            return [d.as_json() for d in self.state.deliveries]

    def wait_for_deliveries(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``count`` deliveries have finished (or ``timeout``); return all of them."""
        return [d.as_json() for d in self.sender.wait(count, timeout)]

    def calls(self) -> dict[str, int]:
        """Calls per GraphQL operation (root field), plus ``PUT upload`` and ``GET file``."""
        return self.faults.calls()

    def live_ids(
        self, version: str | None = None, *, tournament: Tournaments = None
    ) -> frozenset[str]:
        """The live ids valid for submissions this round (first data version by default).

        Signals: ``numerai_ticker`` values; Crypto: ``symbol`` values.
        """
        return self.tournament.store(self._spec(tournament).id).live_ids(version)

    def state_summary(self) -> dict[str, Any]:
        """Round, models, keys' public id, knobs and counts, as JSON."""
        with self.state.lock:
            current = self.state.current.as_graphql()
            summary = {
                "url": self.served_at,
                "round": current,
                "round_open": self.state.is_open(),
                "tournaments": {
                    str(number): {
                        "round": book.current_number,
                        "round_open": book.is_open(),
                        "models": [
                            name
                            for name, model_id in self.state.models.items()
                            if self.state.tournament_of(model_id) == number
                        ],
                    }
                    for number, book in self.state.books.items()
                },
                "models": dict(self.state.models),
                "public_id": self.public_id,
                "data_root": str(self.data.root),
                "data_versions": self.data.versions,
                "submissions": len(self.state.submissions),
                "deliveries": len(self.state.deliveries),
            }
        summary["knobs"] = self.faults.snapshot()
        summary["calls"] = self.faults.calls()
        return summary
