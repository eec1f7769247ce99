"""Numerai's webhook body is read leniently (only the token decides who may call); the
worker's events are parsed strictly, with clear errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerai_bot.events import (
    MAX_ROUND,
    TRIGGER_ID,
    PayloadError,
    WebhookPayload,
    WorkerRequest,
    parse_webhook_body,
    parse_worker_event,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ("roundNumber", "dataVersion", "triggerId", "isTest")


def test_numerai_payload_with_string_round_number_is_accepted():
    body = json.dumps({"roundNumber": "1234", "dataVersion": 5, "triggerId": "t-1", "isTest": None})
    assert parse_webhook_body(body) == WebhookPayload(1234, "5", "t-1", False)


def test_unknown_fields_are_ignored():
    assert parse_webhook_body(b'{"roundNumber": 7, "extra": [1]}').round_number == 7


@pytest.mark.parametrize("body", [None, b"", "", b"  \n", b"{}", "{}"])
def test_empty_body_is_a_valid_trigger(body):
    assert parse_webhook_body(body) == WebhookPayload(None, None, None, False)


@pytest.mark.parametrize(
    ("version", "expected"),
    [("5.2", "5.2"), (5.2, "5.2"), ("v5.3", "v5.3"), (5, "5"), (None, None), ({"a": 1}, None)],
)
def test_any_data_version_is_accepted(version, expected):
    assert parse_webhook_body(json.dumps({"dataVersion": version})).data_version == expected


@pytest.mark.parametrize(
    ("is_test", "expected"),
    [
        *[(True, True), (1, True), ("true", True), ("TRUE", True), (False, False), (0, False)],
        *[("false", False), (None, False), ("maybe", False), ([1], False), (2, False)],
    ],
)
def test_is_test_is_read_leniently(is_test, expected):
    assert parse_webhook_body(json.dumps({"isTest": is_test})).is_test is expected


@pytest.mark.parametrize(
    ("trigger_id", "expected"),
    [
        *[("t-1", "t-1"), (12345, "12345"), (12.0, "12"), (1.5, "1.5"), ("", None), (None, None)],
        *[("has spaces ; semicolons", None), ("x" * 129, None), (True, None), ([1], None)],
    ],
)
def test_trigger_id_is_a_string_or_a_number_else_dropped(trigger_id, expected):
    assert parse_webhook_body(json.dumps({"triggerId": trigger_id})).trigger_id == expected


@pytest.mark.parametrize("round_number", [-3, 0, "abc", "12.5", True, 10**12, [7], None, 1.5])
def test_a_round_number_the_worker_cannot_use_is_ignored(round_number):
    assert parse_webhook_body(json.dumps({"roundNumber": round_number})).round_number is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"[" * 2000, "nested too deeply"),
    ],
)
def test_only_a_body_that_cannot_be_a_trigger_gets_a_clear_error(body, message):
    with pytest.raises(PayloadError, match=message):
        parse_webhook_body(body)


@given(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values))
def test_any_json_object_is_a_trigger_with_fields_we_can_pass_on(data):
    payload = parse_webhook_body(json.dumps(data))
    assert payload.round_number is None or 0 < payload.round_number < MAX_ROUND
    assert payload.trigger_id is None or TRIGGER_ID.fullmatch(payload.trigger_id)
    assert isinstance(payload.is_test, bool)
    assert payload.data_version is None or isinstance(payload.data_version, str)
    if isinstance(data.get("triggerId"), str) and TRIGGER_ID.fullmatch(data["triggerId"]):
        assert payload.trigger_id == data["triggerId"]


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_body_is_either_a_trigger_or_a_payload_error(body):
    try:
        payload = parse_webhook_body(body)
    except PayloadError as error:
        assert str(error)
    else:
        assert isinstance(payload, WebhookPayload)


def test_worker_accepts_scheduler_and_webhook_events():
    assert parse_worker_event({"source": "schedule"}) == WorkerRequest(source="schedule")
    webhook = WorkerRequest("webhook", 12, "trig", True, ("m1",))
    assert parse_worker_event(webhook.to_event()) == webhook


def test_worker_rejects_bad_model_names():
    with pytest.raises(PayloadError, match="models"):
        parse_worker_event({"models": ["../etc"]})


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"roundNumber": True}, "integer"),
        ({"roundNumber": -3}, "out of range"),
        ({"triggerId": "has spaces"}, "triggerId"),
        ({"isTest": "maybe"}, "isTest"),
    ],
)
def test_worker_events_stay_strict(event, message):
    with pytest.raises(PayloadError, match=message):
        parse_worker_event(event)
