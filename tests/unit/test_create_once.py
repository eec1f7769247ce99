"""createSubmission is sent again only when it surely never reached Numerai; an answer lost
after sending is settled by Numerai's own list, never by a second create."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import urllib3

from numerai_bot.adapters.numerai_client import NumeraiClient, SettlePolling
from numerai_bot.errors import SubmissionUnconfirmed
from numerai_bot.retry import RetryPolicy
from numerai_bot.tournaments import CLASSIC


class Answer:
    """What requests returns: a status and a JSON body."""

    def __init__(self, payload: dict[str, Any], status: int = 200) -> None:
        self.status_code = status
        self.payload = payload

    def json(self) -> dict[str, Any]:
        return self.payload


def refused() -> requests.ConnectionError:
    """What requests raises when nothing listens: the request never left."""
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", reason))


class Numerai:
    """A session that answers the upload's calls; ``create`` lists what each create does
    (an exception, or "ok"); ``listed`` is what the submissions list shows."""

    def __init__(self, create: list[Any], listed: list[dict[str, Any]] | None = None) -> None:
        self.create = create
        self.listed = listed or []
        self.creates_sent = 0

    def post(self, url: str, json: dict[str, Any], **_: Any) -> Answer:
        query = json["query"]
        if "submission_upload_auth" in query or "submissionUploadAuth" in query:
            auth = {"filename": "abc/alpha.csv", "url": "https://upload.example/put"}
            return Answer({"data": {"submission_upload_auth": auth}})
        if "create_submission" in query or "createSubmission" in query:
            outcome = self.create.pop(0)
            if isinstance(outcome, Exception):
                if outcome is not REFUSED:  # a refused connection sent nothing
                    self.creates_sent += 1
                raise outcome
            self.creates_sent += 1
            return Answer({"data": {"create_submission": {"id": "sub-1"}}})
        return Answer({"data": {"submissions": self.listed}})

    def put(self, url: str, **_: Any) -> Answer:
        return Answer({})


REFUSED = refused()


def client(session: Numerai) -> NumeraiClient:
    return NumeraiClient(
        "public",
        "secret",
        api_url="https://api.example/",
        retry=RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0),
        session=session,  # type: ignore[arg-type]
        settle=SettlePolling(every=0.01, within=0.05),
    )


def upload(numerai: NumeraiClient) -> Any:
    return numerai.upload_submission("model-1", b"id,prediction\n", "alpha.csv", None, CLASSIC, 7)


def test_a_create_that_never_reached_numerai_is_sent_again() -> None:
    numerai = Numerai(create=[REFUSED, "ok"])
    created = upload(client(numerai))
    assert created.submission_id == "sub-1" and not created.answered_late
    assert numerai.creates_sent == 1


@pytest.mark.parametrize(
    "lost",
    [
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("connection reset"),
        requests.exceptions.ChunkedEncodingError("answer cut short"),
        requests.exceptions.ContentDecodingError("answer garbled"),
    ],
    ids=["read-timeout", "dropped", "cut-short", "garbled"],
)
def test_a_create_whose_answer_was_lost_is_never_sent_again(lost: Exception) -> None:
    numerai = Numerai(create=[lost, "ok"])
    with pytest.raises(SubmissionUnconfirmed, match="will reconcile next run"):
        upload(client(numerai))
    assert numerai.creates_sent == 1


def test_a_create_whose_answer_was_lost_is_found_in_numerais_list() -> None:
    listed = [{"id": "sub-9", "filename": "abc/alpha.csv", "round": {"number": 7}}]
    numerai = Numerai(create=[requests.ReadTimeout("read timed out")], listed=listed)
    created = upload(client(numerai))
    assert created.submission_id == "sub-9" and created.answered_late
    assert numerai.creates_sent == 1
