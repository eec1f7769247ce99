"""The Numerai adapter: numerapi with timeouts, retries, a checked upload and typed errors.

numerapi stays the source of the queries, but its transport swallows connection errors,
timeouts and 4xx (returning ``{}``, which later fails as ``KeyError: 'data'``), has no
timeout, and never checks the presigned PUT. This adapter overrides numerapi's public
``raw_query`` hook with a session that does all three properly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from numerai_bot.adapters.lean_numerapi import import_numerapi
from numerai_bot.errors import (
    NumeraiAuthError,
    NumeraiError,
    NumeraiUnavailable,
    RoundClosed,
    UploadError,
)
from numerai_bot.ports import AccountModel, RoundInfo
from numerai_bot.retry import RetryPolicy, call_with_retry
from numerai_bot.tournaments import CLASSIC, Tournament

numerapi = import_numerapi()  # pandas and fsspec only if a call needs them (see there)

DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds for GraphQL calls
TRANSFER_TIMEOUT = (5.0, 120.0)  # for dataset downloads and the submission PUT
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
    ) -> None:
        self.api_url = api_url
        self.tournament = tournament
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
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
        self, query: str, variables: dict[str, Any] | None, authorization: bool
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
                timeout=self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise NumeraiUnavailable(f"Numerai API unreachable: {type(error).__name__}") from None
        except (requests.RequestException, ValueError) as error:  # messages quote the URL
            raise NumeraiError(f"Numerai API call failed: {type(error).__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
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
    ) -> str:
        """numerapi's three steps (auth → PUT → create) for the model's tournament, with
        the PUT's status checked.

        The calls are the tournament's (numerapi 3.1.1's texts, see ``tournaments``). The
        trigger id is passed explicitly; numerapi would read ``TRIGGER_ID`` from the
        environment, which leaks between runs in a warm Lambda. ``round_number`` lets a lost
        ``create`` answer be reconciled on the round and trigger id; ``earlier`` are the
        ids of the round's submissions that existed before (a forced re-submission), which
        a reconciliation must not mistake for this one.
        """
        calls = tournament.upload
        auth_args = {"filename": filename, "tournament": tournament.id, "modelId": model_id}
        auth = self.graphql(calls.auth_query, auth_args, authorization=True)["data"]
        upload = auth.get(calls.auth_field) or {}
        if not upload.get("url") or not upload.get("filename"):
            raise UploadError("Numerai did not return an upload URL")
        call_with_retry(lambda: self._put_once(upload["url"], csv_bytes), self.retry)
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
        return self._create_submission(calls.create_mutation, calls.create_field, create_args, lost)

    def _create_submission(
        self, mutation: str, field: str, create_args: dict, lost: _LostAnswer
    ) -> str:
        """``create_submission``, made safe to retry.

        When an attempt's answer is lost (timeout, 5xx, dropped connection), Numerai may
        have recorded the submission anyway; a blind retry (or the fallback schedule, told
        it failed) would then submit twice. So after such an attempt, before trying again
        and before giving up, look for a submission of this very upload: by the unique
        filename Numerai handed out, or else by the round (and trigger id), since Numerai's
        ``submissions`` list may not carry the filename.
        """
        uncertain = False

        def attempt() -> str:
            nonlocal uncertain
            if uncertain:
                found = self._find_submission(lost)
                if found is not None:
                    return found
            try:
                payload = self._graphql_once(mutation, create_args, True)
            except NumeraiUnavailable:
                uncertain = True
                raise
            except NumeraiError as error:
                raise UploadError(f"Numerai refused the submission: {error}") from None
            submission = payload["data"].get(field) or {}
            if not submission.get("id"):
                raise UploadError("Numerai accepted the upload but returned no submission id")
            return str(submission["id"])

        try:
            return call_with_retry(attempt, self.retry)
        except NumeraiError:
            if uncertain:  # e.g. the retry was refused because the first one used the upload
                try:
                    found = self._find_submission(lost)
                except NumeraiError:
                    found = None
                if found is not None:
                    return found
            raise

    def _find_submission(self, lost: _LostAnswer) -> str | None:
        """The id of the submission a lost ``create`` answer may have made, if Numerai
        recorded it (one call, no retry: the caller's retry loop decides)."""
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
