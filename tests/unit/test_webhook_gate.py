"""The webhook lets only the right token through (query or path form), reads the body
leniently, and hands off without doing the work."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

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


def test_oversized_and_non_json_bodies_are_400():
    assert call({"token": TOKEN}, body="x" * 5000)[0].status == 400
    for body in ("{oops", "[1]", b"\xff{}", "[" * 2000):
        response, handed = call({"token": TOKEN}, body=body)
        assert response.status == 400 and "JSON" in response.body["error"] and handed == []


def test_token_comparison_handles_different_lengths():
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches("short", TOKEN)
    assert not token_matches(None, TOKEN)


def test_path_form_token_then_model_selects_that_model():
    response, handed = call(path=f"/{TOKEN}/my_model")
    assert response.status == 200
    assert handed == [WorkerRequest("webhook", 900, "trig-9", False, ("my_model",))]


def test_path_form_with_only_the_token_submits_every_model():
    for path in (f"/{TOKEN}", f"/{TOKEN}/"):
        response, handed = call(path=path)
        assert response.status == 200 and handed[0].models is None


def test_path_form_with_a_wrong_token_is_403_even_naming_a_model():
    for path in (f"/{TOKEN[:-1]}x/my_model", f"/my_model/{TOKEN[:-1]}x", "/", "//"):
        response, handed = call(path=path)
        assert (response.status, handed) == (403, [])


def test_path_form_with_a_bad_model_name_is_400():
    response, handed = call(path=f"/{TOKEN}/..%2Fetc")
    assert response.status == 400 and handed == []


def test_numerai_cli_s_empty_object_and_an_empty_body_are_triggers_without_trigger_id():
    for body in ("{}", ""):
        response, handed = call({"token": TOKEN, "model": "m"}, body=body)
        assert response.status == 200
        assert handed == [WorkerRequest("webhook", None, None, False, ("m",))]


def test_fields_the_bot_does_not_need_never_cause_a_400():
    body = json.dumps({"roundNumber": -4, "dataVersion": "v5.3", "triggerId": 77, "isTest": 0})
    response, handed = call({"token": TOKEN}, body=body)
    assert response.status == 200
    assert handed == [WorkerRequest("webhook", None, "77", False, None)]


def test_only_the_token_decides_403_whatever_the_body_or_method():
    for body, method in (("{oops", "POST"), ("x" * 5000, "POST"), (BODY, "GET")):
        response, handed = call({"token": "wrong-token"}, body=body, method=method)
        assert (response.status, handed) == (403, [])


def test_right_token_with_another_method_is_405():
    assert call({"token": TOKEN}, method="GET")[0].status == 405


def test_an_unreadable_event_body_is_400_after_the_token_check():
    request = HttpRequest("POST", f"/{TOKEN}", {}, b"", malformed="body is not valid base64")
    response = handle_webhook(request, TOKEN, 4096, RecordingInvoker())
    assert (response.status, response.body) == (400, {"error": "body is not valid base64"})
    request = HttpRequest("POST", "/nope", {}, b"", malformed="body is not valid base64")
    assert handle_webhook(request, TOKEN, 4096, RecordingInvoker()).status == 403


def test_a_lone_surrogate_token_is_refused_not_raised():
    assert not token_matches("\ud800" * 20, TOKEN)
    assert call({"token": "\udfff"})[0].status == 403


@given(
    st.binary(max_size=300) | st.text(max_size=300),
    st.sampled_from([{"token": TOKEN}, {"token": "nope"}, {}]),
    st.sampled_from(["/", f"/{TOKEN}", f"/{TOKEN}/m_1", "/x/y"]),
)
def test_any_body_gets_200_or_400_with_the_token_and_403_without(body, query, path):
    response, handed = call(query, path=path, body=body)
    has_token = query.get("token") == TOKEN or TOKEN in path
    if not has_token:
        assert (response.status, handed) == (403, [])
        return
    assert response.status in (200, 400)
    assert (response.status == 200) == bool(handed)
    # The README's classification, with the standard library's reading of JSON:
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        allowed = {400}  # not text: cannot be JSON
    else:
        if not text.strip(" \t\n\r"):
            allowed = {200}  # empty, or JSON's own whitespace around nothing: a trigger
        elif text.isspace():
            allowed = {200, 400}  # other Unicode blanks (U+0085, U+3000): the README is silent
        else:
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                allowed = {400}  # not JSON
            else:
                allowed = {200} if isinstance(value, dict) else {400}  # only an object
    assert response.status in allowed
