"""Numerai's webhook body, judged by the README's rules and never by the handler's own.

Each body is built from a kind the README names, so the expected answer comes from how it
was built, not from parsing it again: an empty body or a JSON object (whatever its fields
hold) is a trigger (200, handed to the worker); text that is not JSON, JSON that is not an
object, and a body over the size limit are 400, and nothing runs. A trigger carries on what
it can: a ``triggerId`` string or number, a real round number, ``isTest`` as a boolean, 0/1
or "true"/"false"; anything else in those fields is dropped, never refused.
"""

from __future__ import annotations

import json
import string
import uuid

from hypothesis import given
from hypothesis import strategies as st

from numerai_bot.events import WorkerRequest
from numerai_bot.webhook_gate import HttpRequest, handle_webhook

TOKEN = "spec-token-0123456789abcdef0123"
LIMIT = 4096  # the body limit the handler is given (the stack's default)
FIELDS = ("roundNumber", "dataVersion", "triggerId", "isTest")


class RecordingInvoker:
    def __init__(self) -> None:
        self.requests: list[WorkerRequest] = []

    def invoke(self, request: WorkerRequest) -> None:
        self.requests.append(request)


def post(body: bytes) -> tuple[int, list[WorkerRequest]]:
    """The right token in the path; Numerai's body as given."""
    invoker = RecordingInvoker()
    response = handle_webhook(HttpRequest("POST", f"/{TOKEN}", {}, body), TOKEN, LIMIT, invoker)
    return response.status, invoker.requests


def trigger(round_number=None, trigger_id=None, is_test=False) -> list[WorkerRequest]:
    """What a good call hands to the worker: every model, with what the body carried."""
    return [WorkerRequest("webhook", round_number, trigger_id, is_test, None)]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
junk = st.sampled_from([None, [], {}, ["t-1"], {"id": "t-1"}, [7]])
# text no one could pass on as Numerai's trigger id
JUNK_IDS = ("", " ", "two words", "semi;colon", 'quo"te', "line\nbreak", "x" * 1000)

# (what the body says, what the worker must get)
trigger_ids = st.one_of(
    st.uuids().map(lambda u: (str(u), str(u))),
    st.text(string.ascii_letters + string.digits + "-_:.", min_size=1, max_size=64).map(
        lambda t: (t, t)
    ),
    st.integers(-(10**15), 10**15).map(lambda n: (n, str(n))),
    st.integers(-(10**6), 10**6).map(lambda n: (float(n), str(n))),  # 12.0 is trigger 12
    st.sampled_from(JUNK_IDS).map(lambda v: (v, None)),
    st.booleans().map(lambda v: (v, None)),
    junk.map(lambda v: (v, None)),
)
round_numbers = st.one_of(
    st.integers(1, 99_999).map(lambda n: (n, n)),
    st.integers(1, 99_999).map(lambda n: (str(n), n)),
    st.integers(1, 99_999).map(lambda n: (float(n), n)),
    st.sampled_from([0, -1, -1234, 1.5, "", "abc", "12.5", "-3"]).map(lambda v: (v, None)),
    st.booleans().map(lambda v: (v, None)),
    junk.map(lambda v: (v, None)),
)
is_tests = st.one_of(
    st.sampled_from([True, 1, "true", "True", "TRUE"]).map(lambda v: (v, True)),
    st.sampled_from([False, 0, "false", "FALSE", 2, -1]).map(lambda v: (v, False)),
    junk.map(lambda v: (v, False)),
)


@st.composite
def objects(draw: st.DrawFn) -> tuple[dict, list[WorkerRequest]]:
    """A JSON object as Numerai (or anyone with the URL) might send, and its hand-off."""
    data = draw(
        st.dictionaries(st.text(max_size=10).filter(lambda k: k not in FIELDS), json_values)
    )
    round_number = trigger_id = None
    is_test = False
    if draw(st.booleans()):
        data["roundNumber"], round_number = draw(round_numbers)
    if draw(st.booleans()):
        data["triggerId"], trigger_id = draw(trigger_ids)
    if draw(st.booleans()):
        data["isTest"], is_test = draw(is_tests)
    if draw(st.booleans()):
        data["dataVersion"] = draw(json_values)  # not the webhook's business: never refused
    return data, trigger(round_number, trigger_id, is_test)


def encode(data: object, indent: int | None, blank: str) -> bytes:
    return (blank + json.dumps(data, indent=indent) + blank).encode()


json_blank = st.text(" \t\n\r", max_size=6)  # JSON's own whitespace (RFC 8259)


@given(objects(), st.sampled_from([None, 2]), json_blank)
def test_any_json_object_is_a_trigger_that_carries_what_it_can(built, indent, blank):
    data, handed = built
    body = encode(data, indent, blank)
    if len(body) > LIMIT:
        return  # the size limit has its own test
    assert post(body) == (200, handed)


@given(json_blank)
def test_an_empty_or_blank_body_is_a_trigger_without_trigger_id(blank):
    assert post(blank.encode()) == (200, trigger())


@given(
    st.one_of(
        st.lists(json_values, max_size=3),
        st.text(max_size=20),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
    ),
    json_blank,
)
def test_json_that_is_not_an_object_is_400_and_nothing_runs(value, blank):
    assert post(encode(value, None, blank)) == (400, [])


@given(objects(), st.sampled_from(["truncated", "bad utf-8 inside", "bad utf-8 before", "prose"]))
def test_a_body_that_is_not_json_text_is_400_and_nothing_runs(built, how):
    data, _ = built
    text = json.dumps(data)
    with_id = json.dumps({**data, "triggerId": "t-1"}).encode()
    body = {
        "truncated": text[:-1].encode(),  # an object's text without its closing brace
        "bad utf-8 inside": with_id.replace(b't-1"', b't-1\xff"'),
        "bad utf-8 before": b"\xff" + text.encode(),
        "prose": f"round open! {text}".encode(),
    }[how]
    assert post(body) == (400, [])


@given(objects(), st.integers(-64, 64))
def test_a_body_up_to_the_limit_is_read_and_one_byte_over_is_400(built, offset):
    data, handed = built
    size = LIMIT + offset
    padded = {**data, "padding": ""}
    room = size - len(json.dumps(padded).encode())
    if room < 0:
        return  # this object alone is already larger
    padded["padding"] = "p" * room
    body = json.dumps(padded).encode()
    assert len(body) == size
    assert post(body) == ((200, handed) if size <= LIMIT else (400, []))


def test_a_trigger_id_it_cannot_pass_on_is_dropped_and_the_round_still_runs():
    for junk_id in JUNK_IDS:
        body = json.dumps({"roundNumber": 7, "triggerId": junk_id}).encode()
        assert post(body) == (200, trigger(7)), junk_id


def test_numerai_s_own_call_hands_its_trigger_on():
    trigger_id = str(uuid.uuid4())
    body = {"roundNumber": 1021, "dataVersion": "v5.2", "triggerId": trigger_id, "isTest": False}
    assert post(json.dumps(body).encode()) == (200, trigger(1021, trigger_id, False))
