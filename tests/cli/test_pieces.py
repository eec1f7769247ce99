"""The CLI's pure pieces: payout score, status lines, log filters, URLs, config, ages."""

from __future__ import annotations

import datetime as dt

import pytest

from numerai_bot.ledger import LedgerRecord
from numerai_bot_cli.commands.logs import parse_age
from numerai_bot_cli.commands.webhooks import refused, webhook_url
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.logsource import LogFilter, format_line, parse_lines
from numerai_bot_cli.numerai import AccountModel
from numerai_bot_cli.status_data import NumeraiView, build_status, payout_score

SCORES = {"v2_corr20": 0.02, "mmc": 0.01}


def test_payout_score_prefers_numerais_multipliers():
    performance = {
        "payoutMultipliers": [
            {"displayName": "v2_corr20", "multiplier": 0.75},
            {"displayName": "mmc", "multiplier": 2.25},
        ],
        "atRisk": 10,
        "submissionScores": [{"payoutSettled": 9.0}],
    }
    assert payout_score(SCORES, performance) == pytest.approx(0.75 * 0.02 + 2.25 * 0.01)


def test_payout_score_then_settled_payout_over_stake_then_default_weights():
    performance = {
        "payoutMultipliers": [],
        "atRisk": "10",
        "submissionScores": [{"payoutSettled": "0.3"}],
    }
    assert payout_score(SCORES, performance) == pytest.approx(0.03)
    assert payout_score(SCORES, {"atRisk": "0"}) == pytest.approx(0.5 * 0.02 + 2 * 0.01)
    assert payout_score({"v2_corr20": 0.02}, None) is None


def test_status_of_a_submission_numerai_does_not_list():
    record = LedgerRecord(
        7, "m", "submitted", trigger_id="t-1", rows=10, updated_at="2026-01-01T12:05:00+00:00"
    )
    status = build_status("m", [record], NumeraiView("id"))
    assert (status.round, status.numerai_status, status.trigger_id, status.rows) == (
        7,
        "not listed",
        "t-1",
        10,
    )
    assert status.minutes_after_open is None  # no open time known


def test_status_latency_comes_from_numerais_times():
    view = NumeraiView(
        "id",
        submissions=[
            {
                "id": "s",
                "triggerId": "t",
                "insertedAt": "2026-01-01T12:07:30Z",
                "round": {"number": 8, "openTime": "2026-01-01T12:00:00Z"},
            }
        ],
    )
    status = build_status("m", [], view)
    assert status.numerai_status == "accepted" and status.minutes_after_open == 7.5
    assert status.trigger_id == "t" and status.submitted_at == dt.datetime(
        2026, 1, 1, 12, 7, 30, tzinfo=dt.UTC
    )


LINES = [
    {
        "level": "INFO",
        "function_request_id": "a",
        "model": "x",
        "trigger_id": "t1",
        "message": "model submitted",
    },
    {
        "level": "INFO",
        "function_request_id": "a",
        "round": 5,
        "trigger_id": "t1",
        "message": "round 5: done",
    },
    {
        "level": "ERROR",
        "function_request_id": "b",
        "model": "y",
        "trigger_id": "t2",
        "message": "model not submitted",
    },
    {
        "level": "INFO",
        "function_request_id": "b",
        "round": 6,
        "trigger_id": "t2",
        "message": "round 6",
    },
]


def test_round_filter_keeps_the_whole_invocation():
    assert [line["message"] for line in LogFilter(round=5).apply(LINES)] == [
        "model submitted",
        "round 5: done",
    ]


def test_trigger_prefix_model_and_level_filters():
    assert len(LogFilter(trigger="t2").apply(LINES)) == 2
    assert [line["model"] for line in LogFilter(models=("y",)).apply(LINES)] == ["y"]
    assert [line["level"] for line in LogFilter(level="ERROR").apply(LINES)] == ["ERROR"]


def test_log_lines_are_json_only_and_formatted_on_one_line():
    parsed = list(
        parse_lines(
            [
                "START RequestId: 1",
                '2026-01-01T00:00:00Z\tid\t{"level": "INFO", "message": "hi", "rows": 3}',
                "{broken",
            ]
        )
    )
    assert parsed == [{"level": "INFO", "message": "hi", "rows": 3}]
    assert format_line(parsed[0]).endswith("hi  rows=3")


def test_webhook_url_carries_token_and_model():
    assert webhook_url("https://x.lambda-url.on.aws/", "tok", "m_1") == (
        "https://x.lambda-url.on.aws/?token=tok&model=m_1"
    )
    assert webhook_url("http://127.0.0.1:9", "a b", "m").endswith("/?token=a+b&model=m")
    with pytest.raises(CliError):
        webhook_url("https://x/?token=old", "t", "m")


def test_refused_names_unknown_and_model_upload_models():
    account = {
        "ok": AccountModel("ok", "1", None),
        "hosted": AccountModel("hosted", "2", {"filename": "p.pkl"}),
    }
    assert refused(["ok"], account) == []
    reasons = refused(["hosted", "ghost"], account)
    assert "Model Uploads (p.pkl)" in reasons[0] and "ghost is not" in reasons[1]


@pytest.mark.parametrize(("text", "minutes"), [("90m", 90), ("12h", 720), ("7d", 10080)])
def test_ages(text, minutes):
    assert parse_age(text) == dt.timedelta(minutes=minutes)


def test_bad_age_says_how_to_write_it():
    with pytest.raises(CliError, match="90m"):
        parse_age("yesterday")
