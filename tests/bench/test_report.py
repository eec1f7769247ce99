"""The benchmark's verdicts from given figures (no measuring): each target against the fair
baseline, the older whole-file baseline shown beside it, today/previous ratios, and the
previous release extracted from git."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks.measure.sides import LIVE_READS
from benchmarks.report.render import render
from benchmarks.report.summary import summarize
from benchmarks.suite.previous import extract_previous
from standins.synthetic_data import LIVE_ROWS


def _run(side: str, models: int, seconds: float, rss: float, rows: int = LIVE_ROWS) -> dict:
    return {
        "side": side,
        "feature_set": "medium",
        "models": models,
        "rows": rows,
        "repeat": 0,
        "seconds": seconds,
        "cpu_seconds": seconds,
        "import_seconds": 0.5,
        "rss_after_imports_mib": 100.0,
        "peak_rss_mib": rss,
        "phases": {},
    }


def _results(runs: list[dict]) -> dict:
    plan = {"feature_sets": ["medium"], "growth_rows_models": 10}
    return {
        "meta": {
            "plan": plan,
            "date": "today",
            "commit": "abc",
            "cpu_count": 2,
            "cpu": "x86_64",
            "python": "3.12",
            "versions": {},
            "models": {},
            "previous": "HEAD~1 (abc)",
        },
        "runs": runs,
        "heavy": [
            {
                "feature_set": "medium",
                "members": 10,
                "trees": 20_000,
                "onnx_bytes": 10**7,
                "cpus": 2,
                "pinned": False,
                "session_seconds": 1.0,
                "predict_seconds": 4.0,
                "import_seconds": 1.0,
                "seconds": 7.0,
                "cpu_seconds": 12.0,
                "peak_rss_mib": 500.0,
                "others_share": 0.0,
            },
        ],
        "cold_start": {
            "venv_worker": {"import_seconds": 0.6, "process_seconds": 1.0, "runs": 3},
            "previous_venv_worker": {"import_seconds": 0.8, "process_seconds": 1.2, "runs": 3},
        },
        "webhook": {
            "calls": 10,
            "first_call_ms": 9.0,
            "p50_ms": 1.0,
            "p99_ms": 2.0,
            "max_ms": 3.0,
            "invocations_recorded": 10,
        },
        "webhook_previous": {"p99_ms": 1.0},
        "errors": [],
    }


def test_each_target_is_judged_against_the_fair_baseline_not_the_whole_file_one() -> None:
    runs = [
        _run("ours", 10, 8.0, 300.0),
        _run("baseline", 10, 10.0, 320.0),  # 0.80x time (PASS), 0.94x RSS (FAIL)
        _run("whole-file baseline", 10, 16.0, 400.0),  # would pass both
        _run("previous", 10, 4.0, 300.0),
        _run("ours", 1, 1.0, 250.0),
        _run("baseline", 1, 1.2, 240.0),  # time PASS, RSS 1.04x FAIL
    ]
    summary = summarize(_results(runs))
    verdicts = {t["target"]: t["verdict"] for t in summary["targets"]}
    assert verdicts["10 models, medium, 6,720 rows: worker time ≤ 0.85× baseline"] == "PASS"
    assert verdicts["10 models, medium, 6,720 rows: worker peak RSS ≤ 0.90× baseline"] == "FAIL"
    assert verdicts["1 model, medium, 6,720 rows: worker peak RSS ≤ 1.00× baseline"] == "FAIL"
    assert verdicts["10 models, medium, 67,200 rows: worker time ≤ 0.80× baseline"] == "n/a"
    assert verdicts["20,000-tree ensemble on every vCPU: end to end with imports < 10 s"] == "PASS"
    ten = next(r for r in summary["pairs"] if r["models"] == 10)
    assert ten["whole_file_ratios"]["time"] == 0.5
    assert ten["previous_ratios"]["time"] == 2.0


def test_today_over_previous_is_printed_for_time_rss_cold_import_and_webhook() -> None:
    runs = [_run("ours", 10, 8.0, 300.0), _run("previous", 10, 4.0, 200.0)]
    results = _results(runs)
    summary = summarize(results)
    ratios = {r["what"]: round(r["ratio"], 2) for r in summary["previous"]}
    assert ratios == {
        "worker time, medium ×10, 6,720 rows": 2.0,
        "worker peak RSS, medium ×10, 6,720 rows": 1.5,
        "cold import of the worker (venv)": 0.75,
        "webhook warm p99": 2.0,
    }
    printed = render(results, summary)
    assert "Today / previous release (HEAD~1 (abc))" in printed
    assert " 2.00×  webhook warm p99" in printed


def test_the_fair_baseline_reads_only_the_model_columns(tmp_path: Path) -> None:
    path = tmp_path / "live.parquet"
    frame = pd.DataFrame(
        {"feature_a": [1, 2], "feature_b": [3, 4], "feature_c": [0, 0]},
        index=pd.Index(["n1", "n2"], name="id"),
    )
    frame.to_parquet(path)
    fair = LIVE_READS["model_columns"](pd, path, ["feature_b", "feature_a"])
    whole = LIVE_READS["whole_file"](pd, path, ["feature_b", "feature_a"])
    assert list(fair.columns) == ["feature_b", "feature_a"]
    assert list(fair.index) == ["n1", "n2"]
    assert list(whole.columns) == ["feature_a", "feature_b", "feature_c"]


def test_the_previous_release_is_extracted_from_git_or_the_reason_is_given(
    tmp_path: Path,
) -> None:
    found = extract_previous("HEAD", tmp_path / "previous")
    assert not isinstance(found, str)
    assert (found.handlers / "worker.py").is_file()
    missing = extract_previous("no-such-release", tmp_path / "none")
    assert isinstance(missing, str) and "'no-such-release' unavailable" in missing
