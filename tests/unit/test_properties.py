"""For any input: a valid result or a clear error, never an escaping exception."""

from __future__ import annotations

import contextlib
import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numerai_bot.errors import PredictionError
from numerai_bot.events import PayloadError, parse_webhook_body, parse_worker_event
from numerai_bot.submission import build_csv, to_predictions, validate_submission
from numerai_bot.webhook_gate import HttpRequest, handle_webhook
from tests.conftest import examples

TOKEN = "property-token-0123456789abcdef"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=10,
)
payload_like = st.fixed_dictionaries(
    {},
    optional={
        "roundNumber": json_values,
        "dataVersion": json_values,
        "triggerId": json_values,
        "isTest": json_values,
    },
)


class Nowhere:
    def __init__(self) -> None:
        self.calls = 0

    def invoke(self, request) -> None:
        self.calls += 1


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | payload_like.map(lambda d: json.dumps(d).encode()))
def test_webhook_parser_returns_a_payload_or_a_clear_error(body):
    try:
        payload = parse_webhook_body(body)
    except PayloadError as error:
        assert str(error)
    else:
        assert payload.round_number is None or payload.round_number > 0
        assert isinstance(payload.is_test, bool)


@given(
    st.binary(max_size=300) | payload_like.map(lambda d: json.dumps(d).encode()),
    st.sampled_from([TOKEN, "", "wrong", None]),
)
def test_webhook_answers_200_400_or_403_and_hands_off_only_when_200(body, token):
    invoker = Nowhere()
    query = {} if token is None else {"token": token}
    response = handle_webhook(HttpRequest("POST", "/", query, body), TOKEN, 4096, invoker)
    assert response.status in (200, 400, 403)
    assert invoker.calls == (1 if response.status == 200 else 0)
    if token != TOKEN:
        assert response.status == 403


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_worker_event_parser_never_raises_anything_else(event):
    with contextlib.suppress(PayloadError):
        parse_worker_event(event)


IDS = np.array([f"n{i:015x}" for i in range(40)], dtype=object)


# 2x the profile: NaN, infinities and ties must all turn up among the outputs.
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=examples(200))
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=0, max_size=45),
    st.sampled_from(["rank", "raw"]),
)
def test_any_model_output_becomes_a_valid_submission_or_a_clear_error(values, transform):
    raw = np.array(values, dtype=np.float64)
    try:
        predictions = to_predictions(raw, len(IDS), transform)
    except PredictionError as error:
        assert str(error)
        return
    body = build_csv(IDS, predictions)
    assert validate_submission(body, IDS) == len(IDS)
    assert predictions.min() >= 0.0 and predictions.max() <= 1.0
