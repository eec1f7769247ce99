"""Numerai's webhook body and the worker's events are parsed strictly, with clear errors."""

from __future__ import annotations

import json

import pytest

from numerai_bot.events import PayloadError, WorkerRequest, parse_webhook_body, parse_worker_event


def test_numerai_payload_with_string_round_number_is_accepted():
    body = json.dumps({"roundNumber": "1234", "dataVersion": 5, "triggerId": "t-1", "isTest": None})
    payload = parse_webhook_body(body)
    assert (payload.round_number, payload.data_version, payload.trigger_id, payload.is_test) == (
        1234,
        5,
        "t-1",
        False,
    )


def test_unknown_fields_are_ignored():
    assert parse_webhook_body(b'{"roundNumber": 7, "extra": [1]}').round_number == 7


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"roundNumber": true}', "integer"),
        (b'{"roundNumber": -3}', "out of range"),
        (b'{"triggerId": "has spaces and ; semicolons"}', "triggerId"),
        (b'{"isTest": "maybe"}', "isTest"),
    ],
)
def test_malformed_webhook_bodies_get_a_clear_error(body, message):
    with pytest.raises(PayloadError, match=message):
        parse_webhook_body(body)


def test_worker_accepts_scheduler_and_webhook_events():
    assert parse_worker_event({"source": "schedule"}) == WorkerRequest(source="schedule")
    webhook = WorkerRequest("webhook", 12, "trig", True, ("m1",))
    assert parse_worker_event(webhook.to_event()) == webhook


def test_worker_rejects_bad_model_names():
    with pytest.raises(PayloadError, match="models"):
        parse_worker_event({"models": ["../etc"]})
