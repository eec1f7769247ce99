"""The Numerai adapter: numerapi with timeouts, retries, a checked upload and typed errors.

numerapi stays the source of the queries, but its transport swallows connection errors,
timeouts and 4xx (returning ``{}``, which later fails as ``KeyError: 'data'``), has no
timeout, and never checks the presigned PUT. This adapter overrides numerapi's public
``raw_query`` hook with a session that does all three properly.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3

from numerai_bot.adapters.lean_numerapi import import_numerapi
from numerai_bot.errors import (
    NumeraiAuthError,
    NumeraiError,
    NumeraiNotReached,
    NumeraiUnavailable,
    RoundClosed,
    SubmissionUnconfirmed,
    UploadError,
)
from numerai_bot.ports import AccountModel, Created, RoundInfo
from numerai_bot.retry import RetryPolicy, call_with_retry
from numerai_bot.tournaments import CLASSIC, Tournament

numerapi = import_numerapi()  # pandas and fsspec only if a call needs them (see there)
logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds for GraphQL calls
TRANSFER_TIMEOUT = (5.0, 120.0)  # for dataset downloads and the submission PUT
# createSubmission validates the whole file before it answers, and it is the one call that
# must not be sent twice: it gets the PUT's patience, not a query's (the run's deadline
# still bounds it).
CREATE_TIMEOUT = (5.0, 120.0)
# urllib3's reasons for a request that never left: no connection was made.
NOT_CONNECTED = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
AUTH_MARKERS = ("authenticat", "api key", "token", "permission", "not authorized")
CLOSED_MARKERS = ("not open", "round is closed", "no open round")

ROUND_QUERY = """
query($tournament: Int!) {
  rounds(tournament: $tournament number: 0) {
    number openTime closeTime closeStakingTime
  }
}
"""
RECENT_ROUNDS = """
query($tournament: Int!) {
  rounds(tournament: $tournament) { number openTime closeTime closeStakingTime }
}
"""
FIND_SUBMISSION = """
query($modelId: String) {
  submissions(modelId: $modelId) { id filename triggerId round { number tournament } }
}
"""
ACCOUNT_MODELS = "query { account { models { id name tournament } } }"
LIST_DATASETS = """
query($round: Int $tournament: Int) { listDatasets(round: $round tournament: $tournament) }
"""
DATASET_QUERY = """
query($filename: String! $round: Int $tournament: Int) {
  dataset(filename: $filename round: $round tournament: $tournament)
}
"""


@dataclass(frozen=True)
class SettlePolling:
    """How long a run asks Numerai's submissions list about a create whose answer was lost
    before leaving the model pending for a later run: every ``every`` seconds, for at most
    ``within`` seconds (and never past the run's deadline)."""

    every: float = 5.0
    within: float = 60.0


def _nothing() -> None:
    """No lock to prove (see ``upload_submission``'s ``proof``)."""


class _NumerAPI(numerapi.NumerAPI):
    """numerapi whose transport is ours (see module docstring)."""

    def __init__(self, client: NumeraiClient, public_id: str | None, secret_key: str | None):
        super().__init__(public_id, secret_key, verbosity="WARNING", show_progress_bars=False)
        self._client = client

    def raw_query(self, query, variables=None, authorization=False, **_ignored):  # type: ignore[override]
        return self._client.graphql(query, variables, authorization=authorization)


class NumeraiClient:
    """Everything the bot asks of Numerai, with timeouts, retries and typed errors."""

    def __init__(
        self,
        public_id: str | None,
        secret_key: str | None,
        api_url: str = numerapi.base_api.API_TOURNAMENT_URL,
        tournament: int = CLASSIC.id,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        create_timeout: tuple[float, float] = CREATE_TIMEOUT,
        settle: SettlePolling | None = None,
    ) -> None:
        self.api_url = api_url
        self.tournament = tournament
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.create_timeout = create_timeout
        self.settle = settle or SettlePolling()
        self._session = session or requests.Session()
        self._auth = f"Token {public_id}${secret_key}" if public_id and secret_key else None
        self.api = _NumerAPI(self, public_id, secret_key)
        self.api.tournament_id = tournament

    def use_keys(self, public_id: str | None, secret_key: str | None) -> None:
        """Switch to (possibly rotated) API keys; the next call uses them."""
        self._auth = f"Token {public_id}${secret_key}" if public_id and secret_key else None
        self.api.token = (public_id, secret_key) if public_id and secret_key else None

    def set_deadline(self, deadline: float | None) -> None:
        """Stop retrying at ``deadline`` (``time.monotonic()`` seconds): the round's close or
        the Lambda's timeout, whichever comes first."""
        self.retry = self.retry.with_deadline(deadline)

    # -- transport -------------------------------------------------------------------------
    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, authorization: bool = False
    ) -> dict[str, Any]:
        """POST one GraphQL operation; retry transient failures; raise typed errors."""
        return call_with_retry(
            lambda: self._graphql_once(query, variables, authorization), self.retry
        )

    def _graphql_once(
        self,
        query: str,
        variables: dict[str, Any] | None,
        authorization: bool,
        timeout: tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if authorization:
            if not self._auth:
                raise NumeraiAuthError("this call needs Numerai API keys and none are configured")
            headers["Authorization"] = self._auth
        try:
            response = self._session.post(
                self.api_url,
                json={"query": query, "variables": variables},
                headers=headers,
                timeout=timeout or self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            kind = NumeraiNotReached if _never_sent(error) else NumeraiUnavailable
            raise kind(f"Numerai API unreachable: {type(error).__name__}") from None
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as error:  # the call reached Numerai and its answer was cut short: it may have acted
            raise NumeraiUnavailable(f"Numerai API answer lost: {type(error).__name__}") from None
        except (requests.RequestException, ValueError) as error:  # messages quote the URL
            raise NumeraiError(f"Numerai API call failed: {type(error).__name__}") from None
        if response.status_code == 429:
            raise NumeraiNotReached("Numerai API answered HTTP 429")
        if response.status_code >= 500:
            raise NumeraiUnavailable(f"Numerai API answered HTTP {response.status_code}")
        if response.status_code in (401, 403):
            raise NumeraiAuthError(f"Numerai API refused the keys (HTTP {response.status_code})")
        if response.status_code >= 400:
            raise NumeraiError(f"Numerai API answered HTTP {response.status_code}")
        try:
            payload = response.json()
        except (json.JSONDecodeError, requests.JSONDecodeError):
            raise NumeraiUnavailable(
                "Numerai API answered with something that is not JSON"
            ) from None
        if not isinstance(payload, dict):
            raise NumeraiError("Numerai API answered with an unexpected JSON document")
        errors = payload.get("errors")
        if errors:
            raise _graphql_error(errors)
        if not isinstance(payload.get("data"), dict):
            raise NumeraiError("Numerai API answered without data")
        return payload

    # -- rounds and models -----------------------------------------------------------------
    def current_round(self, tournament: Tournament | int | None = None) -> RoundInfo:
        """The tournament's round open for submissions; :class:`RoundClosed` between rounds.

        Each tournament has its own round numbers: a Signals run asks Signals' round.
        """
        data = self.graphql(ROUND_QUERY, {"tournament": _id(tournament, self.tournament)})["data"]
        rounds = data.get("rounds") or []
        if not rounds or rounds[0].get("number") is None:
            raise RoundClosed("Numerai reports no open round")
        return _round_info(rounds[0])

    def last_closed_round(
        self, tournament: Tournament | int | None = None, now: dt.datetime | None = None
    ) -> RoundInfo | None:
        """The tournament's most recent round whose submission window has closed (numerapi's
        ``get_competitions`` lists rounds the same way); None if Numerai lists none."""
        data = self.graphql(RECENT_ROUNDS, {"tournament": _id(tournament, self.tournament)})
        now = now or dt.datetime.now(dt.UTC)
        closed: list[RoundInfo] = []
        for found in data["data"].get("rounds") or []:
            if not isinstance(found, dict) or found.get("number") is None:
                continue
            info = _round_info(found)
            left = info.seconds_left(now)
            if left is not None and left <= 0:
                closed.append(info)
        return max(closed, key=lambda r: r.number, default=None)

    def model_ids(self, tournament: Tournament | int | None = None) -> dict[str, str]:
        """The account's models of one tournament, ``{name: id}`` (numerapi's get_models)."""
        return self.api.get_models(_id(tournament, self.tournament))

    def account_models(self) -> dict[str, AccountModel]:
        """Every model of the account in every tournament, ``{name: AccountModel}``."""
        data = self.graphql(ACCOUNT_MODELS, authorization=True)["data"]
        found: dict[str, AccountModel] = {}
        for model in (data.get("account") or {}).get("models") or []:
            if not isinstance(model, dict) or not model.get("name") or not model.get("id"):
                continue
            raw = model.get("tournament")
            number = int(raw) if isinstance(raw, int | str) and str(raw).isdigit() else 8
            found[str(model["name"])] = AccountModel(str(model["id"]), number)
        return found

    def served_datasets(self, tournament: Tournament | int | None = None) -> frozenset[str]:
        """The dataset files Numerai serves now for the tournament (``list_datasets``)."""
        args = {"round": None, "tournament": _id(tournament, self.tournament)}
        data = self.graphql(LIST_DATASETS, args)["data"]
        return frozenset(str(name) for name in data.get("listDatasets") or [])

    def round_submission(
        self, model_id: str, round_number: int, tournament: Tournament | int | None = None
    ) -> dict[str, Any] | None:
        """The model's submission Numerai holds for this round, if any (the newest one).

        Numerai is the source of truth for "already submitted": a worker killed after
        ``create_submission`` left no ledger record, but Numerai has the submission.
        """
        number = _id(tournament, self.tournament)
        payload = self.graphql(FIND_SUBMISSION, {"modelId": model_id}, authorization=True)
        return _of_round(payload["data"].get("submissions"), round_number, number)

    def set_webhook(self, model_id: str, url: str | None) -> bool:
        """Register (or clear, with None) the model's round-open webhook."""
        return self.api.set_submission_webhook(model_id, url)

    def trigger_webhook(self, model_id: str) -> str:
        """Ask Numerai to call the model's webhook now; returns the new trigger id."""
        query = "mutation($modelId: String!) { triggerModelWebhook(modelId: $modelId) }"
        data = self.graphql(query, {"modelId": model_id}, authorization=True)["data"]
        return str(data["triggerModelWebhook"])

    def submissions(self, model_id: str) -> list[dict[str, Any]]:
        """The model's submissions as Numerai lists them (round, trigger id, time)."""
        query = """query($modelId: String) { submissions(modelId: $modelId) {
            id filename triggerId insertedAt round { number tournament } } }"""
        data = self.graphql(query, {"modelId": model_id}, authorization=True)["data"]
        return list(data.get("submissions") or [])

    # -- data ------------------------------------------------------------------------------
    def download_dataset(
        self,
        filename: str,
        dest: Path,
        round_number: int | None,
        tournament: Tournament | int | None = None,
    ) -> Path:
        """Download a dataset file atomically to ``dest`` (checked status and length).

        Not numerapi's download_dataset: that one has a 600 s timeout, and when it resumes
        a partial file it turns TLS verification off.
        """
        args = {
            "filename": filename,
            "round": round_number,
            "tournament": _id(tournament, self.tournament),
        }
        url = self.graphql(DATASET_QUERY, args)["data"]["dataset"]
        if not url:
            raise NumeraiError(f"Numerai has no dataset {filename!r} for this round")
        return call_with_retry(lambda: self._download_once(url, dest, filename), self.retry)

    def _download_once(self, url: str, dest: Path, filename: str) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._session.get(url, stream=True, timeout=TRANSFER_TIMEOUT) as response:
                if response.status_code >= 500:
                    raise NumeraiUnavailable(
                        f"download of {filename} got HTTP {response.status_code}"
                    )
                if response.status_code != 200:
                    raise NumeraiError(f"download of {filename} got HTTP {response.status_code}")
                expected = response.headers.get("Content-Length")
                fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".part")
                size = 0
                with os.fdopen(fd, "wb") as out:
                    for chunk in response.iter_content(1 << 20):
                        out.write(chunk)
                        size += len(chunk)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise NumeraiUnavailable(
                f"download of {filename} failed: {type(error).__name__}"
            ) from None
        except (requests.RequestException, ValueError) as error:
            # A malformed presigned URL (InvalidSchema, MissingSchema, urllib3's
            # LocationParseError) quotes it, signature and all: only the class name leaves.
            raise NumeraiError(f"download of {filename} failed: {type(error).__name__}") from None
        if expected is not None and int(expected) != size:
            os.unlink(tmp)
            raise NumeraiUnavailable(
                f"download of {filename} truncated: {size} of {expected} bytes"
            )
        os.replace(tmp, dest)
        return dest

    # -- upload ----------------------------------------------------------------------------
    def upload_submission(
        self,
        model_id: str,
        csv_bytes: bytes,
        filename: str,
        trigger_id: str | None,
        tournament: Tournament = CLASSIC,
        round_number: int | None = None,
        earlier: frozenset[str] = frozenset(),
        proof: Callable[[], None] = _nothing,
    ) -> Created:
        """numerapi's three steps (auth → PUT → create) for the model's tournament, with
        the PUT's status checked.

        The calls are the tournament's (numerapi 3.1.1's texts, see ``tournaments``). The
        trigger id is passed explicitly; numerapi would read ``TRIGGER_ID`` from the
        environment, which leaks between runs in a warm Lambda. ``round_number`` lets a lost
        ``create`` answer be reconciled on the round and trigger id; ``earlier`` are the
        ids of the round's submissions that existed before (a forced re-submission), which
        a reconciliation must not mistake for this one. ``proof`` runs right before the PUT
        and before the create, and raises to stop (the guard's lease can no longer be shown).
        """
        calls = tournament.upload
        auth_args = {"filename": filename, "tournament": tournament.id, "modelId": model_id}
        auth = self.graphql(calls.auth_query, auth_args, authorization=True)["data"]
        upload = auth.get(calls.auth_field) or {}
        if not upload.get("url") or not upload.get("filename"):
            raise UploadError("Numerai did not return an upload URL")

        def put() -> None:
            proof()
            self._put_once(upload["url"], csv_bytes)

        call_with_retry(put, self.retry)
        create_args = {
            "filename": upload["filename"],
            "modelId": model_id,
            "triggerId": trigger_id,
            "dataDatestamp": None,
        }
        if calls.create_takes_tournament:
            create_args["tournament"] = tournament.id
        lost = _LostAnswer(
            model_id, upload["filename"], round_number, tournament.id, trigger_id, earlier
        )
        return self._create_submission(
            calls.create_mutation, calls.create_field, create_args, lost, proof
        )

    def _create_submission(
        self,
        mutation: str,
        field: str,
        create_args: dict,
        lost: _LostAnswer,
        proof: Callable[[], None] = _nothing,
    ) -> Created:
        """``create_submission``, sent at most once while it may still land.

        A create that never reached Numerai (connection refused, connect timeout, 429) is
        sent again. One whose answer was lost after it was sent (read timeout, 5xx, dropped
        connection) may be recorded anyway, now or later: it is never sent again, with this
        filename or another. Numerai's own list settles it (:meth:`_settle`). What Numerai
        does with a reused upload filename is not documented: numerapi 3.1.1 asks for a
        fresh upload slot per upload, but its ``raw_query`` re-sends a create answered with
        a 5xx, filename and all, so Numerai meets reuses; whether it accepts one as a second
        submission or refuses it (a failure reported while Numerai holds the file), never
        reusing it makes either harmless.
        """

        def attempt() -> str:
            proof()
            try:
                payload = self._graphql_once(mutation, create_args, True, self.create_timeout)
            except NumeraiNotReached:
                raise
            except NumeraiUnavailable as error:
                raise _AnswerLost(str(error)) from None
            except NumeraiError as error:
                raise UploadError(f"Numerai refused the submission: {error}") from None
            submission = payload["data"].get(field) or {}
            if not submission.get("id"):
                raise UploadError("Numerai accepted the upload but returned no submission id")
            return str(submission["id"])

        sent_at = time.monotonic()
        try:
            return Created(call_with_retry(attempt, self.retry, retry_on=(NumeraiNotReached,)))
        except _AnswerLost as error:
            return self._settle(lost, sent_at, str(error))

    def _settle(self, lost: _LostAnswer, sent_at: float, why: str) -> Created:
        """The id of the submission a create with a lost answer made, once Numerai lists
        it; :class:`SubmissionUnconfirmed` if it does not within the polling time."""
        give_up = time.monotonic() + self.settle.within
        if self.retry.deadline is not None:
            give_up = min(give_up, self.retry.deadline)
        while True:
            try:
                found = self._find_submission(lost)
            except NumeraiError:
                found = None
            if found is not None:
                logger.warning(
                    "create answered late; found at Numerai",
                    extra={"submission_id": found, "lost_answer": why},
                )
                return Created(found, answered_late=True)
            if time.monotonic() + self.settle.every >= give_up:
                break
            time.sleep(self.settle.every)
        logger.warning(
            "pending: Numerai has not confirmed the create; will reconcile next run",
            extra={"lost_answer": why},
        )
        raise SubmissionUnconfirmed(
            f"pending: the create's answer was lost ({why}) and Numerai has not confirmed "
            "the submission yet; will reconcile next run",
            sent_at,
        )

    def _find_submission(self, lost: _LostAnswer) -> str | None:
        """The id of the submission a lost ``create`` answer may have made, if Numerai
        recorded it (one call, no retry: the caller's polling decides)."""
        payload = self._graphql_once(FIND_SUBMISSION, {"modelId": lost.model_id}, True)
        listed = [s for s in payload["data"].get("submissions") or [] if isinstance(s, dict)]
        for submission in listed:
            if submission.get("filename") == lost.filename and submission.get("id"):
                return str(submission["id"])
        if lost.round_number is None:
            return None
        fresh = [s for s in listed if str(s.get("id")) not in lost.earlier]
        found = _of_round(fresh, lost.round_number, lost.tournament, lost.trigger_id)
        return str(found["id"]) if found else None

    def _put_once(self, url: str, body: bytes) -> None:
        # requests' messages quote the presigned URL (its signature and security token):
        # only the exception's class name may leave this method.
        try:
            response = self._session.put(url, data=body, timeout=TRANSFER_TIMEOUT)
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as error:
            raise NumeraiUnavailable(f"upload PUT failed: {type(error).__name__}") from None
        except (requests.RequestException, ValueError) as error:  # ValueError: LocationParseError
            raise UploadError(f"upload PUT failed: {type(error).__name__}") from None
        if response.status_code >= 500:
            raise NumeraiUnavailable(f"upload PUT got HTTP {response.status_code}")
        if response.status_code >= 300:
            raise UploadError(f"upload PUT got HTTP {response.status_code}; nothing was stored")


class _AnswerLost(NumeraiUnavailable):
    """A create was sent and its answer lost: never retried, settled by Numerai's list."""


def _never_sent(error: requests.RequestException) -> bool:
    """Whether a transport error happened before the request could reach Numerai."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NOT_CONNECTED)


@dataclass(frozen=True)
class _LostAnswer:
    """What identifies an upload whose ``create`` answer may be lost."""

    model_id: str
    filename: str
    round_number: int | None
    tournament: int
    trigger_id: str | None
    earlier: frozenset[str] = frozenset()


def _id(tournament: Tournament | int | None, default: int) -> int:
    if tournament is None:
        return default
    return tournament if isinstance(tournament, int) else tournament.id


def _of_round(
    submissions: Any, round_number: int, tournament: int, trigger_id: str | None = None
) -> dict[str, Any] | None:
    """The newest listed submission of (tournament, round), with ``trigger_id`` if given.

    Read leniently: a missing ``round.tournament`` counts as a match (the list is the
    model's own, and a model belongs to one tournament); a missing trigger id too.
    """
    best: dict[str, Any] | None = None
    for submission in submissions or []:
        if not isinstance(submission, dict) or not submission.get("id"):
            continue
        rnd = submission.get("round") or {}
        number = rnd.get("number") if isinstance(rnd, dict) else None
        if number is None or str(number) != str(round_number):
            continue
        listed_tournament = rnd.get("tournament")
        if listed_tournament is not None and str(listed_tournament) != str(tournament):
            continue
        listed_trigger = submission.get("triggerId")
        if trigger_id and listed_trigger and str(listed_trigger) != trigger_id:
            continue
        if best is None or str(submission.get("insertedAt") or "") >= str(
            best.get("insertedAt") or ""
        ):
            best = submission
    return best


def _graphql_error(errors: Any) -> NumeraiError:
    messages = (
        [str(e.get("message", e)) for e in errors] if isinstance(errors, list) else [str(errors)]
    )
    message = "; ".join(messages)[:500]
    lowered = message.lower()
    if any(marker in lowered for marker in CLOSED_MARKERS):
        return RoundClosed(message)
    if any(marker in lowered for marker in AUTH_MARKERS):
        return NumeraiAuthError(message)
    return NumeraiError(message)


def _round_info(found: dict[str, Any]) -> RoundInfo:
    """A ``Round`` as Numerai lists it (times read leniently)."""
    return RoundInfo(
        number=int(found["number"]),
        open_time=_time(found.get("openTime")),
        close_time=_time(found.get("closeTime")),
        close_staking_time=_time(found.get("closeStakingTime")),
    )


def _time(value: str | None) -> dt.datetime | None:
    """An ISO time read leniently: anything unreadable is unknown (None), not an error."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
