"""status (a table per tournament, JSON, plot, failures, no-Scan fallback, optional Numerai
fields, payout multipliers, data versions) and logs (file and CloudWatch, per tournament),
over a short season played through the CLI: three Classic rounds, two resolved, one model
failing in the last one; two Signals and two Crypto rounds, the first resolved."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError
from onnx import TensorProto

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot_cli.commands import status as status_command
from numerai_bot_cli.main import main
from standins import synthetic_tournaments as provided
from standins.local_bot import LocalBot
from standins.numerai import resolvers, state
from standins.numerai.scores import metric_value
from standins.onnx_models import linear_model
from tests.cli.conftest import MODELS, WORKER_FUNCTION, open_round_minutes_ago

# Status and logs over a shared multi-round setup (~25 s): make test-all
pytestmark = pytest.mark.slow

LATENCY = {0: 4.0, 1: 9.0, 2: 14.0}  # minutes after the open, per round of the season


# A Signals and a Crypto model of the account, with the tournament's data folder.
OTHERS = {"sig_model": (11, "signals", "signals/v2.1"), "coin_model": (12, "crypto", "crypto/v2.0")}


@dataclass
class Season:
    rounds: list[int]
    triggers: dict[tuple[int, str], str]
    log_file: Path
    config: Path
    other_rounds: dict[str, list[int]]  # signals / crypto model -> its two rounds


def other_model(bot: LocalBot, name: str, folder: Path) -> Path:
    """A linear ONNX model on the tournament's provided features (strings encoded)."""
    _, tournament, data = OTHERS[name]
    names = pq.read_schema(bot.workdir / "numerai-data" / data / "live.parquet").names
    features = [n for n in names if n.startswith("feature_")]
    strings = tuple(n for n in features if n in provided.STRING_FEATURES)
    path = folder / f"{name}.onnx"
    path.write_bytes(
        linear_model(
            features,
            data_version=data.split("/")[1],
            tournament=tournament,
            string_features=strings,
            input_type=TensorProto.DOUBLE if strings else TensorProto.FLOAT,
        )
    )
    return path


def fire(bot: LocalBot, model_id: str) -> str:
    """triggerModelWebhook, then wait until the worker run it started is done."""
    before = len(bot.standin.webhook_deliveries())
    trigger_id = bot.numerai.trigger_webhook(model_id)
    bot.standin.wait_for_deliveries(before + 1, 30)
    bot.invoker.wait(timeout=120)
    return trigger_id


def play_other_tournaments(bot: LocalBot, workspace: Path, config: str) -> dict[str, list[int]]:
    """Two rounds of a Signals and a Crypto model through their webhooks, the first
    resolved: the second has churn against the first."""
    played: dict[str, list[int]] = {}
    for name, (number, tournament, _) in OTHERS.items():
        model_id = bot.standin.create_model(name, tournament=number)
        for index in range(2):
            round_number = bot.standin.open_round(tournament=number, trigger_webhooks=False)
            if index == 0:
                path = other_model(bot, name, workspace)
                argv = ["publish", name, "--file", str(path), "--tournament", tournament]
                assert main([*argv, "--config", config]) == 0
                bot.numerai.set_webhook(model_id, bot.webhook_url(name))
            fire(bot, model_id)
            played.setdefault(name, []).append(round_number)
        bot.standin.resolve_round(played[name][0], tournament=number)
    return played


@pytest.fixture(scope="module")
def season(local_bot: LocalBot, workspace: Path, tmp_path_factory):
    """Classic rounds r0, r1 (resolved) and r2 (open; beta's file is broken), and two rounds
    each of a Signals and a Crypto model, via the CLI."""
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
        others = play_other_tournaments(local_bot, workspace, config)
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
    yield Season(rounds, triggers, log_file, Path(config), others)
    for number, _, _ in OTHERS.values():  # later tests run Classic rounds only
        local_bot.standin.close_round(tournament=number)


def run_status(season: Season, *extra: str) -> int:
    return main(["status", "--config", str(season.config), *extra])


# --- status ------------------------------------------------------------------------------


def parse_sections(out: str) -> dict[str, dict[str, dict[str, str]]]:
    """Each tournament's table (``classic (8): ...`` above it): rows by model, cells by
    header (spans from the dashed line)."""
    lines = out.splitlines()
    sections = {}
    for rule, line in enumerate(lines):
        if not line.startswith("---"):
            continue
        spans, start = [], 0
        for dashes in line.split("  "):
            spans.append((start, start + len(dashes)))
            start += len(dashes) + 2
        headers = _cut(lines[rule - 1], spans)
        rows = {}
        for text in lines[rule + 1 :]:
            if not text.strip():
                break
            cells = dict(zip(headers, _cut(text.ljust(start), spans), strict=True))
            rows[cells["MODEL"]] = cells
        sections[lines[rule - 2].split(" ")[0]] = rows
    return sections


def _cut(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[a:b].strip() for a, b in spans]


def parse_table(out: str) -> dict[str, dict[str, str]]:
    """The Classic table's rows."""
    return parse_sections(out)["classic"]


def test_status_table_has_each_models_last_round_latency_trigger_and_scores(season, capsys):
    assert run_status(season, "alpha", "beta", "--wide") == 1  # beta failed its last round
    out = capsys.readouterr().out
    assert list(parse_sections(out)) == ["classic"]  # only the tournaments of the models named
    rows = parse_table(out)
    last, scored = season.rounds[-1], season.rounds[1]
    assert f"classic (8): round {last} open, closes" in out
    alpha = rows["alpha"]
    assert alpha["ROUND"] == str(last)
    assert alpha["+MIN"] == "14.0"  # minutes after the round opened
    assert alpha["TRIGGER"] == season.triggers[(last, "alpha")]
    assert alpha["LEDGER"] == "submitted" and alpha["NUMERAI"] == "accepted"
    assert alpha["ROWS"] == "300" and "CHURN" not in alpha  # Classic has no churn gate
    assert alpha["SCORED"] == str(scored)
    corr = metric_value(MODELS["alpha"], scored, "v2_corr20", -0.05, 0.08)
    mmc = metric_value(MODELS["alpha"], scored, "mmc", -0.03, 0.04)
    assert alpha["CORR"] == f"{corr:+.4f}" and alpha["MMC"] == f"{mmc:+.4f}"
    assert alpha["PAYOUT"] == "unknown"  # the stand-in gives no multipliers: none guessed
    assert alpha["STAKE"] == "10.00"  # the stand-in's stake at risk
    beta = rows["beta"]
    assert beta["ROUND"] == str(last) and beta["LEDGER"] == "failed"
    assert beta["NUMERAI"] == "missing"
    assert beta["TRIGGER"] == season.triggers[(last, "beta")] and beta["+MIN"] == "-"
    assert f"beta: classic round {last} failed:" in out and "NaN" in out
    assert "warning" not in out


def test_signals_and_crypto_models_have_their_own_sections_with_churn(season, capsys):
    run_status(season, "--wide")
    out = capsys.readouterr().out
    sections = parse_sections(out)
    assert list(sections) == ["classic", "signals", "crypto"]
    assert set(sections["classic"]) == {"alpha", "beta"}
    ledger = DynamoLedger(season_table(season), boto3.resource("dynamodb"))
    for name, (number, tournament, _) in OTHERS.items():
        first, second = season.other_rounds[name]
        row = sections[tournament][name]
        assert (row["ROUND"], row["LEDGER"], row["NUMERAI"]) == (
            str(second),
            "submitted",
            "accepted",
        )
        record = ledger.get(second, name, number)
        assert record.churn is not None and record.turnover is not None
        assert row["CHURN"] == f"{record.churn:.3f}" and row["TURNOVER"] == f"{record.turnover:.3f}"
        assert row["ROWS"] == f"{record.rows:,}" and row["TRIGGER"] == record.trigger_id
        assert row["SCORED"] == str(first)  # scores of its own tournament's resolved round
        corr = metric_value(record.model_id, first, "v2_corr20", -0.05, 0.08)
        assert row["CORR"] == f"{corr:+.4f}" and row["PAYOUT"] == "unknown"
        assert f"{tournament} ({number}): round {second} open" in out


def season_table(season: Season) -> str:
    outputs = json.loads((season.config.parent / "stack-outputs.json").read_text())
    return outputs["LedgerTableName"]


def test_status_prints_its_table_when_numerai_lacks_submission_scores(
    season, local_bot, monkeypatch, capsys
):
    schema = resolvers.build()
    del schema.query_type.fields["submissionScores"]  # an endpoint without the field
    monkeypatch.setattr(local_bot.standin, "schema", schema)
    assert run_status(season, "alpha", "beta") == 1  # beta's failure still decides
    out = capsys.readouterr().out
    alpha = parse_table(out)["alpha"]
    assert alpha["ROUND"] == str(season.rounds[-1]) and alpha["NUMERAI"] == "accepted"
    assert (alpha["SCORED"], alpha["CORR"], alpha["MMC"], alpha["PAYOUT"]) == ("-",) * 4
    assert alpha["STAKE"] == "10.00"
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "submissionScores" in warnings[0]


def test_status_without_numerai_still_prints_the_ledgers_table(season, capsys):
    assert run_status(season, "alpha", "--api-url", "http://127.0.0.1:9") == 0
    out = capsys.readouterr().out
    alpha = parse_table(out)["alpha"]
    assert (alpha["ROUND"], alpha["LEDGER"], alpha["NUMERAI"]) == (
        str(season.rounds[-1]),
        "submitted",
        "-",
    )
    assert "classic (8): open round unknown" in out
    (warning,) = [line for line in out.splitlines() if line.startswith("warning:")]
    assert "Numerai not asked" in warning and "only the ledger is shown" in warning


def test_status_payout_uses_the_rounds_own_multipliers(season, monkeypatch, capsys):
    plain = state.Round.as_graphql

    def with_payout_configs(self):
        document = plain(self)
        document["payoutFactor"] = "0.8"
        document["roundScoreConfigs"] = [
            {"displayName": "v2_corr20", "isPayout": True, "defaultMultiplier": 0.75},
            {"displayName": "mmc", "isPayout": True, "defaultMultiplier": 2.25},
        ]
        return document

    monkeypatch.setattr(state.Round, "as_graphql", with_payout_configs)
    run_status(season, "alpha")
    alpha = parse_table(capsys.readouterr().out)["alpha"]
    scored = season.rounds[1]
    corr = metric_value(MODELS["alpha"], scored, "v2_corr20", -0.05, 0.08)
    mmc = metric_value(MODELS["alpha"], scored, "mmc", -0.03, 0.04)
    assert float(alpha["PAYOUT"]) == pytest.approx(0.8 * (0.75 * corr + 2.25 * mmc), abs=1e-4)


def test_status_names_a_newer_data_version_numerai_serves(season, local_bot, monkeypatch, capsys):
    service = local_bot.standin.tournament
    listed = service.list_files

    def with_newer(tournament=None):
        newer = ["v9.0/live.parquet"] if tournament in (None, 8) else []
        return [*listed(tournament), *newer]

    monkeypatch.setattr(service, "list_files", with_newer)
    run_status(season)
    out = capsys.readouterr().out
    assert "classic: Numerai serves data v9.0, newer than v5.2 of alpha, beta" in out
    assert "signals: Numerai serves" not in out and "crypto: Numerai serves" not in out


def test_status_json_carries_the_history_for_the_plot(season, capsys):
    run_status(season, "--json")
    statuses = {s["model"]: s for s in json.loads(capsys.readouterr().out)}
    history = {p["round"]: p for p in statuses["alpha"]["history"]}
    assert [history[r]["minutes_after_open"] for r in season.rounds] == list(LATENCY.values())
    assert history[season.rounds[0]]["corr"] is not None
    assert history[season.rounds[2]]["corr"] is None  # not resolved yet
    assert statuses["beta"]["error"] and statuses["beta"]["ledger_status"] == "failed"
    assert statuses["beta"]["numerai_status"] == "missing"
    assert statuses["sig_model"]["tournament"] == "signals"
    assert statuses["sig_model"]["churn"] is not None
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


def test_logs_for_one_tournament_show_only_its_models(season, capsys):
    argv = ["logs", "--file", str(season.log_file), "--tournament", "signals", "--json"]
    assert main(argv) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    models = {line["model"] for line in lines if line.get("model")}
    assert models == {"sig_model"}
    submitted = [line for line in lines if line["message"] == "model submitted"]
    assert [line["round"] for line in submitted] == season.other_rounds["sig_model"]
    second = season.other_rounds["sig_model"][1]
    argv = ["logs", "--file", str(season.log_file), "--tournament", "signals"]
    assert main([*argv, "--round", str(second)]) == 0
    out = capsys.readouterr().out
    assert "sig_model" in out and "coin_model" not in out and " alpha " not in out


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
    assert f"round classic {number}: 1 submitted" in out
    assert "START" not in out
    trigger_id = season.triggers[(number, "beta")]
    argv = ["logs", "--config", str(season.config), "--trigger", trigger_id, "--since", "1h"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out and all(trigger_id[:8] in line for line in out.splitlines())
