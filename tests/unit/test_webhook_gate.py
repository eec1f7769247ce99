"""The webhook lets only the right token through and hands off without doing the work."""

from __future__ import annotations

import json

from numerai_bot.events import WorkerRequest
from numerai_bot.webhook_gate import HttpRequest, handle_webhook, token_matches

TOKEN = "s3cr3t-token-0123456789abcdef"
BODY = json.dumps({"roundNumber": 900, "dataVersion": 5, "triggerId": "trig-9", "isTest": False})


class RecordingInvoker:
    def __init__(self) -> None:
        self.requests: list[WorkerRequest] = []

    def invoke(self, request: WorkerRequest) -> None:
        self.requests.append(request)


def call(query=None, path="/", body=BODY, method="POST"):
    invoker = RecordingInvoker()
    request = HttpRequest(
        method, path, query or {}, body.encode() if isinstance(body, str) else body
    )
    return handle_webhook(request, TOKEN, 4096, invoker), invoker.requests


def test_right_token_in_query_hands_off_and_answers_200():
    response, handed = call({"token": TOKEN})
    assert response.status == 200
    assert handed == [WorkerRequest("webhook", 900, "trig-9", False, None)]


def test_token_in_path_and_model_in_query_select_one_model():
    response, handed = call({"model": "my_model"}, path=f"/hook/{TOKEN}")
    assert response.status == 200
    assert handed[0].models == ("my_model",)


def test_wrong_or_missing_token_is_403_without_detail_and_nothing_runs():
    for query in ({"token": TOKEN[:-1] + "x"}, {}, {"token": ""}):
        response, handed = call(query)
        assert (response.status, response.body, handed) == (403, {"error": "forbidden"}, [])


def test_oversized_and_malformed_bodies_are_400():
    assert call({"token": TOKEN}, body="x" * 5000)[0].status == 400
    response, handed = call({"token": TOKEN}, body="{oops")
    assert response.status == 400 and "JSON" in response.body["error"] and handed == []


def test_token_comparison_handles_different_lengths():
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches("short", TOKEN)
    assert not token_matches(None, TOKEN)
