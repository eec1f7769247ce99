"""``numerai-bot plan``: memory size, seconds and cost from the published models' costs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from numerai_bot_cli.commands import plan as plan_command
from numerai_bot_cli.main import main

TYPICAL = {
    "trees": 2000,
    "predict_seconds_per_1k_rows": 0.054,
    "session_seconds": 0.075,
    "measured_on": "2cpu",
}
HEAVY = {
    "trees": 20000,
    "predict_seconds_per_1k_rows": 0.62,
    "session_seconds": 0.9,
    "measured_on": "2cpu",
}


def _store(folder: Path, models: dict[str, dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "models.json").write_text(json.dumps({"models": models}))
    return folder


def _entry(cost: dict | None = None, tournament: str | None = None) -> dict:
    entry: dict = {"artifact": "x.onnx", "transform": "rank"}
    if cost is not None:
        entry["cost"] = cost
    if tournament:
        entry["tournament"] = tournament
    return entry


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """``plan(models, *flags)``: run the command on a local store; (exit code, stdout)."""
    monkeypatch.chdir(tmp_path)  # no numerai-bot.toml of the checkout's

    def run(models: dict[str, dict], *flags: str) -> tuple[int, str]:
        store = _store(tmp_path / "store", models)
        code = main(["plan", "--store", str(store), *flags])
        return code, capsys.readouterr().out

    return run


def test_an_operator_sees_memory_seconds_and_cost_for_the_published_models(plan) -> None:
    code, out = plan(
        {
            "my_model": _entry(TYPICAL),
            "my_signals": _entry(TYPICAL, "signals"),
            "my_coin": _entry(TYPICAL, "crypto"),
        }
    )
    assert code == 0
    for name in ("my_model", "my_signals", "my_coin"):
        assert name in out
    assert "recommended worker memory" in out and "WorkerMemorySize" in out
    assert "expected seconds per round" in out
    assert "one run for every model     no: one worker" in out
    assert "concurrent shards allowed   6" in out
    assert "cost per round" in out and "cost per month" in out
    assert "624 fallback checks" in out
    assert "not measured" not in out
    assert "5,000" in out and "500" in out  # Signals' and Crypto's live rows


def test_a_model_never_measured_says_republish_and_counts_as_typical(plan) -> None:
    code, out = plan({"measured": _entry(TYPICAL), "old_model": _entry()})
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("old_model"))
    assert "not measured, republish" in row and "(typical)" in row
    assert "old_model: republish (numerai-bot publish)" in out


def test_json_holds_the_same_plan_for_scripts(plan) -> None:
    code, out = plan({"my_model": _entry(TYPICAL), "old_model": _entry()}, "--json")
    assert code == 0
    document = json.loads(out)
    assert document["not_measured"] == ["old_model"]
    assert document["concurrent_shards_allowed"] == 6  # 10 less the worker and 3 for the webhook
    assert document["fan_out"] is False
    recommended = document["recommended"]
    assert recommended["memory_mb"] in [s["memory_mb"] for s in document["sizes"]]
    assert recommended["dollars_per_month"] > recommended["dollars_per_round"] > 0
    by_name = {m["name"]: m for m in document["models"]}
    assert by_name["my_model"]["measured"] and by_name["my_model"]["trees"] == 2000
    assert not by_name["old_model"]["measured"]


def test_a_month_is_its_rounds_plus_the_fallback_checks(plan) -> None:
    _, out = plan({"my_model": _entry(TYPICAL)}, "--json")
    document = json.loads(out)
    for size in document["sizes"]:
        gb = size["memory_mb"] / 1024
        checks = 624 * (1.0 * gb * 0.0000166667 + 0.2e-6)
        expected = 5 * 52 / 12 * size["dollars_per_round"] + checks
        assert size["dollars_per_month"] == pytest.approx(expected, rel=1e-3)


def test_many_models_fan_out_in_as_many_shards_as_the_account_may_run(plan) -> None:
    models = {f"model_{i:03d}": _entry(TYPICAL) for i in range(240)}
    code, out = plan(models, "--concurrency", "7", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["fan_out"] is True
    assert document["concurrent_shards_allowed"] == 3
    assert document["recommended"]["shards"] == 3  # 240 typical models want 5; 3 may run
    # Webhooks: 240 invocations, 7 at a time: the round is longer than one worker's share.
    assert document["recommended"]["round_seconds"] > 240 / 7 * 0.5


def test_a_heavy_account_is_told_to_buy_more_vcpus(plan) -> None:
    models = {f"heavy_{i:03d}": _entry(HEAVY) for i in range(100)}
    _, out = plan(models, "--concurrency", "1", "--target-seconds", "600", "--json")
    document = json.loads(out)
    slowest = document["sizes"][0]
    assert slowest["memory_mb"] == 1769 and slowest["round_seconds"] > 600
    assert document["recommended"]["memory_mb"] > 1769
    assert document["recommended"]["round_seconds"] <= 600


def test_more_vcpus_make_rounds_faster_but_not_cheaper() -> None:
    configs_models = {"my_model": _entry(TYPICAL)}
    from numerai_bot.models_config import parse_models_config

    configs = parse_models_config(json.dumps({"models": configs_models}))
    document = plan_command.build_plan(configs)
    seconds = [s["round_seconds"] for s in document["sizes"]]
    dollars = [s["dollars_per_round"] for s in document["sizes"]]
    assert seconds == sorted(seconds, reverse=True)
    assert dollars == sorted(dollars)
    assert document["recommended"]["memory_mb"] == 1769


def test_a_store_without_models_json_says_to_publish_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main(["plan", "--store", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err
    assert "models.json" in err and "numerai-bot publish" in err


def test_a_many_model_invocation_runs_one_model_per_vcpu_at_once() -> None:
    from numerai_bot_cli.commands.plan import ModelCost, many_models_seconds

    model = ModelCost("m", "classic", 6720, 2000, 0.1, 0.07, 2, True)
    alone = model.seconds(2.0)
    assert many_models_seconds([model], 2.0) == alone  # one model gets both threads
    ten = many_models_seconds([model] * 10, 2.0)
    assert ten == pytest.approx(10 * model.lane_seconds() / 2)  # two lanes of one thread
    assert ten < 10 * alone  # the tree kernel's 2nd thread gains 1.55x, a 2nd lane 2x
    assert many_models_seconds([model] * 10, 1.0) == pytest.approx(10 * model.lane_seconds())


def test_neutralizing_against_every_feature_is_counted_in_seconds_and_memory(plan) -> None:
    neutral = {**_entry(TYPICAL), "neutralize": {"proportion": 0.5, "against": "all"}}
    few = {**_entry(TYPICAL), "neutralize": {"proportion": 0.5, "against": ["feature_a"]}}
    _, plain_out = plan({"my_model": _entry(TYPICAL)}, "--json")
    code, out = plan({"my_model": neutral, "light": few}, "--json")
    assert code == 0
    document, plain = json.loads(out), json.loads(plain_out)
    by_name = {m["name"]: m for m in document["models"]}
    heavy = by_name["my_model"]
    assert heavy["postprocess_seconds"] > 5  # 2,748 features x 6,720 rows on 2 vCPUs
    assert heavy["postprocess_mib"] > 100
    assert by_name["light"]["postprocess_seconds"] < 0.01
    before = plain["models"][0]["seconds_at_recommended"]
    assert heavy["seconds_at_recommended"] > before + 5
    assert document["peak_rss_mib"] > plain["peak_rss_mib"] + 100
    _, text = plan({"my_model": neutral})
    assert "my_model: post-processing (neutralize, blended models) adds" in text


def test_a_blend_counts_the_model_it_blends_in(plan) -> None:
    blended = {**_entry(TYPICAL), "blend": [{"model": "heavy", "weight": 0.3}]}
    _, out = plan({"blended": blended, "heavy": _entry(HEAVY)}, "--json")
    by_name = {m["name"]: m for m in json.loads(out)["models"]}
    heavy_seconds = HEAVY["session_seconds"] + HEAVY["predict_seconds_per_1k_rows"] * 6.72
    assert abs(by_name["blended"]["postprocess_seconds"] - heavy_seconds) < 1e-9


def test_an_operator_short_of_memory_sees_what_one_lane_saves_and_costs(plan) -> None:
    models = {f"m{i}": _entry(TYPICAL) for i in range(10)}
    code, out = plan(models, "--json", "--target-seconds", "1")  # the fastest size: 6 vCPUs
    assert code == 0
    lane = json.loads(out)["one_lane"]
    assert lane["lanes_by_default"] == 6
    saved = lane["peak_rss_mib"] - lane["one_lane_peak_rss_mib"]
    assert saved == 5 * plan_command.LANE_MIB  # a session, a batch and a build per lane
    assert lane["one_lane_run_seconds"] > lane["run_seconds"]  # more threads gain less
    assert lane["one_lane_run_dollars"] > lane["run_dollars"]
    code, out = plan(models, "--target-seconds", "1")
    assert "PREDICT_LANES=1 lowers the peak to about" in out
