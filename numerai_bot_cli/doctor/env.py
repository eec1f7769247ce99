"""What the doctor's checks share: the stack's outputs, the stored Numerai keys and client, the
account's models, models.json, rounds, the ledger and AWS clients, each fetched once.

Everything a test cannot get from moto or the Numerai stand-in goes through :class:`Probes`,
which a test replaces; a probe that is not given makes its check say "not verified" rather
than pass.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.adapters.ledger_scan import scan_ledger
from numerai_bot.adapters.model_store import open_model_store
from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot.errors import ConfigError, NumeraiAuthError, RoundClosed
from numerai_bot.ledger import SUBMITTED
from numerai_bot.models_config import BrokenEntry, ModelConfig, load_models_entries
from numerai_bot.ports import AccountModel, ModelStore
from numerai_bot.tournaments import Tournament
from numerai_bot_cli.aws import aws_errors, session
from numerai_bot_cli.common import Context
from numerai_bot_cli.doctor.core import Blocked
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.numerai import make_client, stored_keys

ROUNDS_QUERY = "query($tournament: Int) { rounds(tournament: $tournament) { number openTime } }"
KEYS_BLOCKED = Blocked("the stored Numerai keys do not work (see keys)", "fix the keys first")


def post_status(url: str, body: bytes, timeout: float) -> int:
    """POST ``body`` as JSON to ``url``; the HTTP status (0 when nothing answered)."""
    try:
        response = requests.post(
            url, data=body, headers={"Content-Type": "application/json"}, timeout=timeout
        )
    except requests.RequestException:
        return 0
    return response.status_code


@dataclass
class Probes:
    """Answers a test may give instead of the outside world.

    ``registered_webhooks``: ``{model name: URL}`` as Numerai holds them. Numerai has no
    documented query that returns a model's webhook, so by default there is none and the
    webhook check falls back on the ledger's evidence.
    """

    registered_webhooks: Callable[[DoctorEnv], Mapping[str, str | None]] | None = None
    http_post: Callable[[str, bytes, float], int] = post_status
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class RoundRef:
    """A tournament's most recent round and whether it is still open."""

    number: int
    is_open: bool


@dataclass
class DoctorEnv:
    """The deployment as the checks see it (see module docstring)."""

    ctx: Context
    probes: Probes = field(default_factory=Probes)
    fire: str | None = None  # None: no test call; "": pick a model; else that model
    timeout: float = 300.0
    interval: float = 5.0
    _memo: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        """``make()`` the first time; later the same value, or the same exception again."""
        if key not in self._memo:
            try:
                self._memo[key] = (True, make())
            except Exception as error:
                self._memo[key] = (False, error)
        ok, value = self._memo[key]
        if not ok:
            raise value
        return value

    # -- the stack -------------------------------------------------------------------------
    def output(self, key: str) -> str:
        """A stack output (flags and --stack-outputs win, as in every command)."""
        return self.ctx.stack.output(key)

    def has_output(self, key: str) -> bool:
        """Whether the stack has ``key`` (an optional output)."""
        try:
            return bool(self.output(key))
        except CliError:
            return False

    def session(self) -> Any:
        """One boto3 session for every AWS call (a session per client costs ~0.4 s each)."""
        return self.once("session", lambda: session(self.ctx.region))

    def aws(self, service: str) -> Any:
        """A boto3 client in the stack's region (honours AWS_ENDPOINT_URL)."""
        return self.once(f"aws:{service}", lambda: self.session().client(service))

    def store(self) -> ModelStore:
        """The stack's model store (``ModelStoreUri``)."""

        def make() -> ModelStore:
            uri = self.output("ModelStoreUri")
            with aws_errors("open the model store", uri):
                return open_model_store(uri, self.aws("s3") if uri.startswith("s3://") else None)

        return self.once("store", make)

    def models(self) -> tuple[list[ModelConfig], list[BrokenEntry]]:
        """models.json in the bucket: the usable entries and the broken ones."""

        def make() -> tuple[list[ModelConfig], list[BrokenEntry]]:
            try:
                return load_models_entries(self.store())
            except ConfigError as error:
                raise CliError(str(error), "publish the models: `numerai-bot publish`") from None

        return self.once("models", make)

    def configs(self) -> list[ModelConfig]:
        """The usable models.json entries; :class:`Blocked` when models.json is unreadable."""
        try:
            return self.models()[0]
        except CliError as error:
            raise Blocked(f"models.json unreadable ({error.message})", error.hint) from None

    def ledger(self) -> DynamoLedger:
        """The stack's ledger table."""
        return self.once(
            "ledger",
            lambda: DynamoLedger(
                self.output("LedgerTableName"), self.session().resource("dynamodb")
            ),
        )

    def ever_submitted(self) -> frozenset[tuple[str, int]]:
        """(model, tournament id) of every SUBMITTED record the ledger holds, any round: a
        model with none has not had its first round through this stack yet."""
        return self.once(
            "ever_submitted",
            lambda: frozenset(
                (record.model_name, record.tournament)
                for record in scan_ledger(
                    self.output("LedgerTableName"), self.session().resource("dynamodb")
                )
                if record.status == SUBMITTED
            ),
        )

    # -- Numerai ---------------------------------------------------------------------------
    def keys(self) -> tuple[str, str]:
        """The keys put-keys stored in the stack's secret (what the worker uses)."""
        return self.once(
            "keys",
            lambda: stored_keys(self.output("NumeraiApiKeysSecretName"), self.ctx.region),
        )

    def client(self) -> NumeraiClient:
        """A Numerai client with the stored keys."""
        return self.once("client", lambda: make_client(*self.keys(), self.ctx.api_url))

    def public_client(self) -> NumeraiClient:
        """A Numerai client without keys (rounds, datasets)."""
        return self.once("public", lambda: make_client(None, None, self.ctx.api_url))

    def account_unchecked(self) -> dict[str, AccountModel]:
        """The account's models in every tournament; raises what Numerai raised."""
        return self.once("account", lambda: self.client().account_models())

    def account(self) -> dict[str, AccountModel]:
        """The account's models; :class:`Blocked` when the keys do not work."""
        try:
            return self.account_unchecked()
        except (CliError, NumeraiAuthError):
            raise KEYS_BLOCKED from None

    def latest_round(self, tournament: Tournament) -> RoundRef:
        """The tournament's open round, else the last one that opened."""

        def make() -> RoundRef:
            client = self.public_client()
            try:
                return RoundRef(client.current_round(tournament).number, True)
            except RoundClosed:
                pass
            rows = client.graphql(ROUNDS_QUERY, {"tournament": tournament.id})["data"]
            now = dt.datetime.now(dt.UTC)
            numbers = [
                int(r["number"])
                for r in rows.get("rounds") or []
                if isinstance(r, dict) and r.get("number") is not None and _opened(r, now)
            ]
            if not numbers:
                raise Blocked(f"Numerai lists no {tournament} round yet")
            return RoundRef(max(numbers), False)

        return self.once(f"round:{tournament.id}", make)

    def served(self, tournament: Tournament) -> frozenset[str]:
        """The dataset files Numerai serves now for the tournament."""
        return self.once(
            f"served:{tournament.id}", lambda: self.public_client().served_datasets(tournament)
        )


def _opened(row: dict[str, Any], now: dt.datetime) -> bool:
    """Whether a listed round has opened (a round without an open time counts)."""
    text = str(row.get("openTime") or "")
    if not text:
        return True
    try:
        opened = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return True
    return (opened if opened.tzinfo else opened.replace(tzinfo=dt.UTC)) <= now
