"""The CLI's pure pieces: payout score, status lines and sections, data-version notices, log
filters, URLs, config, model specs, the worker's Lambda answer, ages."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from numerai_bot.ledger import LedgerRecord
from numerai_bot.tournaments import CLASSIC, CRYPTO, SIGNALS
from numerai_bot_cli.commands.init import parse_model
from numerai_bot_cli.commands.logs import parse_age
from numerai_bot_cli.commands.trigger import parse_invoke_response
from numerai_bot_cli.commands.webhooks import refused, webhook_url
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.logsource import LogFilter, format_line, parse_lines
from numerai_bot_cli.numerai import AccountModel
from numerai_bot_cli.status.data import NumeraiView, build_status
from numerai_bot_cli.status.payout import (
    PayoutRule,
    payout_score,
    rule_from_performance,
    rule_from_round,
)
from numerai_bot_cli.status.render import Section, render
from numerai_bot_cli.status.version_notices import version_notices

SCORES = {"v2_corr20": 0.02, "mmc": 0.01}
RESOLVED = [
    {"roundNumber": 7, "displayName": name, "value": value, "day": 20, "resolved": True}
    for name, value in SCORES.items()
]


def test_payout_is_the_rounds_factor_times_its_own_multipliers():
    performance = {
        "payoutMultipliers": [
            {"displayName": "v2_corr20", "multiplier": 0.75},
            {"displayName": "mmc", "multiplier": 2.25},
        ],
        "roundPayoutFactor": 0.8,
        "atRisk": 10,
    }
    rule = rule_from_performance(performance)
    assert payout_score(SCORES, rule) == pytest.approx(0.8 * (0.75 * 0.02 + 2.25 * 0.01))


def test_payout_multipliers_may_come_from_the_rounds_score_configs():
    round_doc = {
        "number": 7,
        "payoutFactor": "0.5",
        "roundScoreConfigs": [
            {"displayName": "v2_corr20", "isPayout": True, "defaultMultiplier": 1.0},
            {"displayName": "mmc", "isPayout": True, "defaultMultiplier": 3.0},
            {"displayName": "bmc", "isPayout": False, "defaultMultiplier": 9.0},
        ],
    }
    assert rule_from_round(round_doc) == PayoutRule(0.5, (("v2_corr20", 1.0), ("mmc", 3.0)))
    assert payout_score(SCORES, rule_from_round(round_doc)) == pytest.approx(0.5 * 0.05)


def test_payout_is_unknown_without_numerais_multipliers_never_guessed():
    settled_only = {"payoutMultipliers": [], "roundPayoutFactor": 1.0, "atRisk": "10"}
    assert rule_from_performance(settled_only) is None
    assert rule_from_round({"payoutFactor": "1.0", "roundScoreConfigs": []}) is None
    no_factor = {"payoutMultipliers": [{"displayName": "mmc", "multiplier": 2}]}
    assert rule_from_performance(no_factor) is None
    assert payout_score(SCORES, None) is None
    rule = PayoutRule(1.0, (("v2_corr20", 1.0), ("canon_mmc", 2.0)))
    assert payout_score(SCORES, rule) is None  # a payout score Numerai did not return
    status = build_status("m", [], NumeraiView("id", submissions=[], scores=RESOLVED))
    assert status.corr == 0.02 and status.payout is None and status.payout_unknown
    assert "unknown" in render([Section(CLASSIC, None, [status])])


def test_status_of_a_submission_numerai_does_not_list():
    record = LedgerRecord(
        7, "m", "submitted", trigger_id="t-1", rows=10, updated_at="2026-01-01T12:05:00+00:00"
    )
    status = build_status("m", [record], NumeraiView("id", submissions=[]))
    assert (status.round, status.ledger_status, status.numerai_status) == (
        7,
        "submitted",
        "missing",
    )
    assert (status.trigger_id, status.rows, status.failed) == ("t-1", 10, True)
    assert status.minutes_after_open is None  # no open time known
    unknown = build_status("m", [record], NumeraiView("id", submissions=None))
    assert unknown.numerai_status == "-" and not unknown.failed  # Numerai did not say


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


def test_a_models_status_reads_only_its_own_tournaments_ledger_and_rounds():
    records = [
        LedgerRecord(3000, "m", "submitted", tournament=8),
        LedgerRecord(1101, "m", "submitted", tournament=11, churn=0.12, turnover=0.3),
    ]
    listed = [
        {"id": "a", "round": {"number": 3000, "tournament": 8}},
        {"id": "b", "round": {"number": 1101, "tournament": 11}},
    ]
    status = build_status("m", records, NumeraiView("id", submissions=listed[1:]), SIGNALS)
    assert (status.tournament, status.round, status.churn, status.turnover) == (
        "signals",
        1101,
        0.12,
        0.3,
    )
    assert status.numerai_status == "accepted"


def test_signals_and_crypto_sections_carry_churn_columns_and_classic_does_not():
    signals = build_status(
        "sig",
        [LedgerRecord(1101, "sig", "submitted", tournament=11, churn=0.2)],
        NumeraiView(None),
        SIGNALS,
    )
    classic = build_status("m", [LedgerRecord(3000, "m", "submitted")], NumeraiView(None))
    text = render(
        [
            Section(CLASSIC, None, [classic]),
            Section(SIGNALS, None, [signals]),
            Section(CRYPTO, None),
        ]
    )
    classic_part, signals_part = text.split("\n\n")[:2]
    assert classic_part.startswith("classic (8): no round open") and "CHURN" not in classic_part
    assert signals_part.startswith("signals (11)") and "CHURN  TURNOVER" in signals_part
    assert "0.200" in signals_part


def test_newer_and_retired_data_versions_are_named():
    served = ["v5.2/live.parquet", "v5.3/live.parquet", "signals/v2.1/live.parquet", "v5.3/x"]
    notices = version_notices(CLASSIC, {"a": "v5.2", "b": "v5.3", "c": "v5.0", "d": ""}, served)
    assert len(notices) == 2
    assert "serves data v5.3, newer than v5.2 of a" in notices[1]
    assert "no longer serves data v5.0 of c" in notices[0]
    assert version_notices(SIGNALS, {"s": "v2.1"}, served) == []


def test_model_specs_name_their_tournament():
    assert parse_model("my_model") == ("my_model", CLASSIC)
    assert parse_model("signals:my_sig") == ("my_sig", SIGNALS)
    assert parse_model("12:coin") == ("coin", CRYPTO)
    with pytest.raises(CliError, match="unknown tournament 'tennis'"):
        parse_model("tennis:m")


def test_the_workers_lambda_answer_or_its_error():
    ok = {"Payload": io.BytesIO(b'{"status": "complete", "outcomes": []}'), "StatusCode": 200}
    assert parse_invoke_response(ok).result == {"status": "complete", "outcomes": []}
    failed = {
        "FunctionError": "Unhandled",
        "Payload": io.BytesIO(b'{"errorMessage": "round 5: 1 failed. m: boom"}'),
    }
    answer = parse_invoke_response(failed)
    assert answer.result is None and answer.error == "round 5: 1 failed. m: boom"


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


TOURNAMENT_LINES = [
    {"function_request_id": "c", "message": "start", "level": "INFO"},
    {
        "function_request_id": "c",
        "message": "model submitted",
        "model": "sig",
        "tournament": "signals",
        "round": 6,
        "level": "INFO",
    },
    {
        "function_request_id": "c",
        "message": "model submitted",
        "model": "m",
        "tournament": "classic",
        "round": 3000,
        "level": "INFO",
    },
    {
        "function_request_id": "c",
        "message": "done",
        "rounds": {"classic": 3000, "signals": 6, "crypto": None},
        "level": "INFO",
    },
]


def test_tournament_filter_keeps_its_lines_and_the_runs_shared_ones():
    shown = LogFilter(tournament="signals").apply(TOURNAMENT_LINES)
    assert [line["message"] for line in shown] == ["start", "model submitted", "done"]
    assert shown[1]["model"] == "sig"


def test_a_round_number_is_read_within_its_tournament():
    assert LogFilter(round=6, tournament="classic").apply(TOURNAMENT_LINES) == []
    shown = LogFilter(round=6).apply(TOURNAMENT_LINES + LINES)
    assert [line.get("model") for line in shown] == [None, "sig", None, "y", None]
    shown = LogFilter(round=3000, tournament="classic").apply(TOURNAMENT_LINES)
    assert [line.get("model") for line in shown] == [None, "m", None]


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


def test_webhook_url_carries_token_and_model_as_path_segments():
    assert webhook_url("https://x.lambda-url.on.aws/", "tok", "m_1") == (
        "https://x.lambda-url.on.aws/tok/m_1"
    )
    assert webhook_url("http://127.0.0.1:9", "a b", "m").endswith(":9/a%20b/m")
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
