"""status (table, JSON, plot, failures, no-Scan fallback) and logs (file and CloudWatch),
over a short season played through the CLI: three rounds, two resolved, one model failing
in the last one."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from numerai_bot_cli.commands import status as status_command
from numerai_bot_cli.main import main
from standins.local_bot import LocalBot
from standins.numerai.scores import metric_value
from tests.cli.conftest import MODELS, WORKER_FUNCTION, open_round_minutes_ago

LATENCY = {0: 4.0, 1: 9.0, 2: 14.0}  # minutes after the open, per round of the season


@dataclass
class Season:
    rounds: list[int]
    triggers: dict[tuple[int, str], str]
    log_file: Path
    config: Path


@pytest.fixture(scope="module")
def season(local_bot: LocalBot, workspace: Path, tmp_path_factory) -> Season:
    """Rounds r0, r1 (resolved) and r2 (open; beta's file is broken), via the CLI."""
    import worker

    config = str(workspace / "numerai-bot.toml")
    log_file = tmp_path_factory.mktemp("logs") / "bot.log"
    handler = worker.logger.registered_handler
    previous = handler.stream
    stream = log_file.open("a")
    handler.setStream(stream)
    local_bot.standin.reset_knobs()
    local_bot.restart_handlers()
    rounds, triggers = [], {}
    try:
        assert main(["publish", "--config", config]) == 0
        assert main(["register-webhooks", "--config", config]) == 0
        for index, minutes in LATENCY.items():
            number = open_round_minutes_ago(local_bot, minutes)
            rounds.append(number)
            if index == 2:
                broken = str(workspace / "broken.onnx")
                assert main(["publish", "beta", "--file", broken, "--config", config]) == 0
            # One model at a time: powertools' appended log keys (trigger_id) are shared by
            # the local worker threads; on Lambda one container runs one invocation.
            for name in ("alpha", "beta"):
                triggers[(number, name)] = local_bot.numerai.trigger_webhook(MODELS[name])
                deliveries = len(local_bot.standin.webhook_deliveries())
                local_bot.standin.wait_for_deliveries(deliveries, 30)
                local_bot.invoker.wait(timeout=60)
            if index < 2:
                local_bot.standin.resolve_round(number)
    finally:
        handler.setStream(previous)
        stream.close()
    # Put beta's good model back for later tests.
    assert main(["publish", "beta", "--config", config]) == 0
    return Season(rounds, triggers, log_file, Path(config))


def run_status(season: Season, *extra: str) -> int:
    return main(["status", "--config", str(season.config), *extra])


# --- status ------------------------------------------------------------------------------


def parse_table(out: str) -> dict[str, dict[str, str]]:
    """Rows of the status table by model, cells by header (spans from the dashed line)."""
    lines = out.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    spans, start = [], 0
    for dashes in lines[rule].split("  "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 2
    cut = lambda line: [line[a:b].strip() for a, b in spans]  # noqa: E731
    headers = cut(lines[rule - 1])
    rows = {}
    for line in lines[rule + 1 :]:
        if not line.strip():
            break
        cells = dict(zip(headers, cut(line.ljust(start)), strict=True))
        rows[cells["MODEL"]] = cells
    return rows


def test_status_table_has_each_models_last_round_latency_trigger_and_scores(season, capsys):
    assert run_status(season, "alpha", "beta", "--wide") == 1  # beta failed its last round
    out = capsys.readouterr().out
    rows = parse_table(out)
    last, scored = season.rounds[-1], season.rounds[1]
    alpha = rows["alpha"]
    assert alpha["ROUND"] == str(last)
    assert alpha["+MIN"] == "14.0"  # minutes after the round opened
    assert alpha["TRIGGER"] == season.triggers[(last, "alpha")]
    assert alpha["NUMERAI"] == "accepted" and alpha["ROWS"] == "300"
    assert alpha["SCORED"] == str(scored)
    corr = metric_value(MODELS["alpha"], scored, "v2_corr20", -0.05, 0.08)
    mmc = metric_value(MODELS["alpha"], scored, "mmc", -0.03, 0.04)
    assert alpha["CORR"] == f"{corr:+.4f}" and alpha["MMC"] == f"{mmc:+.4f}"
    expected_payout = max(-0.05, min(0.05, 0.5 * corr + 2 * mmc))
    assert abs(float(alpha["PAYOUT"]) - expected_payout) < 1e-4
    assert alpha["STAKE"] == "10.00"  # the stand-in's stake at risk
    beta = rows["beta"]
    assert beta["ROUND"] == str(last) and beta["NUMERAI"] == "failed"
    assert beta["TRIGGER"] == season.triggers[(last, "beta")] and beta["+MIN"] == "-"
    assert f"beta: round {last} failed:" in out and "NaN" in out


def test_status_json_carries_the_history_for_the_plot(season, capsys):
    run_status(season, "--json")
    statuses = {s["model"]: s for s in json.loads(capsys.readouterr().out)}
    history = {p["round"]: p for p in statuses["alpha"]["history"]}
    assert [history[r]["minutes_after_open"] for r in season.rounds] == list(LATENCY.values())
    assert history[season.rounds[0]]["corr"] is not None
    assert history[season.rounds[2]]["corr"] is None  # not resolved yet
    assert statuses["beta"]["error"] and statuses["beta"]["numerai_status"] == "failed"
    beta = {p["round"]: p for p in statuses["beta"]["history"]}
    assert [beta[r]["failed"] for r in season.rounds] == [False, False, True]


def test_status_plot_writes_a_png(season, tmp_path, capsys):
    png = tmp_path / "plots" / "status.png"
    run_status(season, "--plot", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert f"wrote {png}" in capsys.readouterr().err


def test_status_without_scan_permission_reads_each_round(season, monkeypatch, capsys):
    def denied(*_args, **_kwargs):
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "Scan")

    monkeypatch.setattr(status_command, "scan_ledger", denied)
    run_status(season, "alpha", "--wide")
    captured = capsys.readouterr()
    assert "reading each (round, model) instead" in captured.err
    assert season.triggers[(season.rounds[-1], "alpha")] in captured.out


# --- logs --------------------------------------------------------------------------------


def test_logs_from_a_file_for_one_round_and_model(season, capsys):
    number = season.rounds[-1]
    argv = ["logs", "--file", str(season.log_file), "--round", str(number), "--model", "beta"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(" beta " in line for line in lines)
    assert any("model not submitted" in line and "NaN" in line for line in lines)


def test_logs_from_a_file_by_trigger_prefix(season, capsys):
    trigger_id = season.triggers[(season.rounds[0], "alpha")]
    assert (
        main(["logs", "--file", str(season.log_file), "--trigger", trigger_id[:8], "--json"]) == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines and {line["trigger_id"] for line in lines} == {trigger_id}
    assert any(line["message"] == "model submitted" for line in lines)


def test_logs_says_when_nothing_matches(season, capsys):
    assert main(["logs", "--file", str(season.log_file), "--round", "1"]) == 1
    assert "no log lines match" in capsys.readouterr().err


def test_logs_from_cloudwatch(season, capsys):
    group = f"/aws/lambda/{WORKER_FUNCTION}"
    client = boto3.client("logs")
    client.create_log_group(logGroupName=group)
    client.create_log_stream(logGroupName=group, logStreamName="s1")
    now = int(time.time() * 1000)
    messages = [line for line in season.log_file.read_text().splitlines() if line.strip()]
    client.put_log_events(
        logGroupName=group,
        logStreamName="s1",
        logEvents=[{"timestamp": now, "message": m} for m in ["START RequestId: x", *messages]],
    )
    number = season.rounds[1]
    assert main(["logs", "--config", str(season.config), "--round", str(number)]) == 0
    out = capsys.readouterr().out
    assert f"round {number}: 1 submitted" in out
    assert "START" not in out
    trigger_id = season.triggers[(number, "beta")]
    argv = ["logs", "--config", str(season.config), "--trigger", trigger_id, "--since", "1h"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out and all(trigger_id[:8] in line for line in out.splitlines())
