"""The webhook handler answers every event (400, 403, 405; 200 only with the token), and
never raises: a crash would be Lambda's 502 and an error alarm for a stranger's request."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import webhook
from numerai_bot.events import WorkerRequest
from standins.local_lambda import LocalContext, function_url_event
from tests.conftest import examples

TOKEN = "never-raises-token-0123456789abcdef"


class RecordingInvoker:
    def __init__(self) -> None:
        self.requests: list[WorkerRequest] = []

    def invoke(self, request: WorkerRequest) -> None:
        self.requests.append(request)


@pytest.fixture(scope="module")
def handler() -> Iterator[Callable[[Any], dict]]:
    """The real handler (powertools decorator included), its token from the environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKER_FUNCTION_ARN", "arn:aws:lambda:us-east-1:123456789012:function:w")
        patch.setenv("WEBHOOK_TOKEN", TOKEN)
        patch.delenv("WEBHOOK_TOKEN_SECRET_ID", raising=False)
        invoker = RecordingInvoker()
        lambda_handler = webhook.create_handler(lambda settings: invoker)
        yield lambda event: lambda_handler(event, LocalContext("webhook", 256, 10))


def event(path: str = "/", body: Any = None, **changes: Any) -> dict[str, Any]:
    """A Function URL event as Lambda builds it, then its body and ``changes`` set as given."""
    built = function_url_event("POST", path, {"content-type": "application/json"}, b"")
    if body is not None:
        built["body"] = body
    built.update(changes)
    return built


def status(answer: Any) -> int:
    assert isinstance(answer, dict) and isinstance(answer["statusCode"], int)
    assert isinstance(answer["body"], str)
    return answer["statusCode"]


def test_a_good_call_is_handed_off(handler):
    assert status(handler(event(f"/{TOKEN}/alpha", '{"triggerId": 5}'))) == 200


@pytest.mark.parametrize("crafted", [None, "", "text", 5, 1.5, True, [], [1, {}], b"bytes", {}])
def test_an_event_that_is_not_a_function_url_event_is_403(handler, crafted):
    assert status(handler(crafted)) == 403


def test_missing_keys_count_as_absent(handler):
    full = event(f"/{TOKEN}", "{}")
    for name in ("rawPath", "requestContext", "body", "isBase64Encoded", "headers", "version"):
        crafted = {key: value for key, value in full.items() if key != name}
        assert status(handler(crafted)) == {"rawPath": 403, "requestContext": 405}.get(name, 200)


def test_wrong_types_everywhere_are_403(handler):
    crafted = {
        "rawPath": 5,
        "queryStringParameters": f"token={TOKEN}",
        "requestContext": ["http"],
        "body": {"roundNumber": 1},
        "isBase64Encoded": "yes",
    }
    assert status(handler(crafted)) == 403
    crafted["queryStringParameters"] = {"token": [TOKEN], 5: TOKEN}
    assert status(handler(crafted)) == 403


def test_a_body_that_is_not_text_is_400_with_the_token(handler):
    for body in (123, ["{}"], {"roundNumber": 1}, b"{}"):
        assert status(handler(event(f"/{TOKEN}", body=body))) == 400


def test_invalid_base64_with_is_base64_encoded_is_400(handler):
    for body in ("not base64!!", "abc", "\u00e9\u00e9\u00e9\u00e9", "\ud800AAA"):
        answer = handler(event(f"/{TOKEN}", isBase64Encoded=True, body=body))
        assert status(answer) == 400 and "base64" in answer["body"]


def test_valid_base64_json_is_accepted(handler):
    encoded = base64.b64encode(b'{"isTest": 1}').decode()
    assert status(handler(event(f"/{TOKEN}", isBase64Encoded=True, body=encoded))) == 200


def test_no_request_context_is_405_with_the_token_and_403_without(handler):
    crafted = event(f"/{TOKEN}", "{}")
    del crafted["requestContext"]
    assert status(handler(crafted)) == 405
    crafted["rawPath"] = "/wrong"
    assert status(handler(crafted)) == 403


def test_lone_surrogates_in_body_or_token_are_refused(handler):
    escaped = '{"triggerId": "\\ud800", "dataVersion": "\\udfff"}'  # valid JSON
    assert status(handler(event(f"/{TOKEN}", body=escaped))) == 200
    for raw in ('{"triggerId": "\ud800"}', "\ud800\udfff{"):  # not UTF-8: cannot be JSON
        assert status(handler(event(f"/{TOKEN}", body=raw))) == 400
    assert status(handler(event("/\ud800" + TOKEN[1:]))) == 403
    assert status(handler(event("/", queryStringParameters={"token": "\udfff"}))) == 403


def test_two_thousand_nested_brackets_are_400(handler):
    assert status(handler(event(f"/{TOKEN}", body="[" * 2000))) == 400
    deep = event(f"/{TOKEN}", body="{}")
    deep["queryStringParameters"] = json.loads("[" * 900 + "]" * 900)
    assert status(handler(deep)) == 200  # query of the wrong type: ignored, path token used


surrogates = st.sampled_from(["\ud800", "\udbff\udc00", "\udfff"])
texts = st.text(max_size=30) | st.builds(lambda a, s: a + s, st.text(max_size=10), surrogates)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts | st.binary(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=10,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=10,
)
paths = st.sampled_from(["/", f"/{TOKEN}", f"/{TOKEN}/m_1", f"/{TOKEN}/bad name", "/x/y"])
bodies = st.none() | texts | st.just("[" * 2000) | st.just("{}") | json_values.map(json.dumps)
FIELDS = ("rawPath", "queryStringParameters", "requestContext", "body", "isBase64Encoded")


@st.composite
def events(draw: st.DrawFn) -> Any:
    """Lambda-shaped events with any field replaced or dropped, or anything at all."""
    shaped = event(draw(paths), draw(bodies))
    if draw(st.booleans()):
        shaped["queryStringParameters"] = {"token": draw(st.sampled_from([TOKEN, "x", ""]))}
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        if draw(st.booleans()):
            shaped.pop(name, None)
        else:
            shaped[name] = draw(values)
    if draw(st.booleans()):
        shaped["isBase64Encoded"] = True
    return draw(st.just(shaped) | values)


# 4x the profile: events are a wide space, and each example is cheap.
@settings(max_examples=examples(400), suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_any_event_gets_an_answer_and_200_only_with_the_token(handler, crafted):
    webhook.to_http_request(crafted, 4096)  # reads any event itself, not via the catch-all
    code = status(handler(crafted))
    assert code in (200, 400, 403, 405)
    if code == 200:
        query = crafted.get("queryStringParameters")
        in_query = isinstance(query, dict) and query.get("token") == TOKEN
        assert in_query or TOKEN in str(crafted.get("rawPath"))
