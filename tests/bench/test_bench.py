"""The quick benchmark (1 and 10 models of each tournament, the heavy ensemble), printing it.

Marked ``bench``: excluded from ``make test`` by pyproject's ``-m 'not bench'``; run with
``make bench`` or ``pytest -m bench -s``. It asserts only that every side ran and submitted
every model (Classic, Signals, Crypto, the heavy ensemble on 2 CPUs and pinned to one), that
memory does not grow with the number of models (peak RSS is far steadier than time on a
shared machine), and that the report has its sections and a measured PASS/FAIL line for each
of the scaling targets: the verdicts are printed, not asserted, because timings on shared
machines vary.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.__main__ import main

pytestmark = pytest.mark.bench


def test_quick_benchmark_runs_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    code = main(["--quick", "--json", str(out), "--workdir", str(tmp_path / "work")])
    printed = capsys.readouterr().out
    with capsys.disabled():
        print("\n" + printed)
    assert code == 0
    figures = json.loads(out.read_text())
    runs = figures["results"]["runs"]
    assert {(r["side"], r["feature_set"], r["models"]) for r in runs} == {
        ("ours", "medium", 1),
        ("baseline", "medium", 1),
        ("whole-file baseline", "medium", 1),
        ("previous", "medium", 1),
        ("ours", "medium", 10),
        ("baseline", "medium", 10),
        ("whole-file baseline", "medium", 10),
        ("previous", "medium", 10),
        ("ours", "signals", 1),
        ("ours", "signals", 10),
        ("ours", "crypto", 1),
        ("ours", "crypto", 10),
    }
    assert all(r["submitted"] == r["models"] and not r["failed"] for r in runs)
    medium = [r for r in runs if r["feature_set"] == "medium"]
    # Every model is its own file, so the worker builds one session per model.
    ten = next(r for r in medium if r["side"] == "ours" and r["models"] == 10)
    assert ten["phases"]["  of which session creation"]["calls"] == 10
    # Memory stays flat as models are added (it grew 55 MiB per model before the lean path;
    # 1 → 10 models now adds about 30 MiB, mostly the second cached session and upload threads).
    one = next(r for r in medium if r["side"] == "ours" and r["models"] == 1)
    assert ten["peak_rss_mib"] - one["peak_rss_mib"] < 80
    for section in ("1-2.", "1b.", "3a.", "3b.", "4.", "5.", "8.", "9.", "11.", "Targets at scale"):
        assert section in printed
    assert "Today / previous release" in printed
    assert {r["what"] for r in figures["summary"]["previous"]} >= {
        "worker time, medium ×10, 6,720 rows",
        "worker peak RSS, medium ×10, 6,720 rows",
        "cold import of the worker (venv)",
        "webhook warm p99",
    }
    verdicts = {t["verdict"] for t in figures["summary"]["targets"]}
    assert verdicts <= {"PASS", "FAIL", "n/a"}
    # Every scaling target has its line, and each was measured (PASS or FAIL, never n/a).
    scaling = figures["summary"]["scaling"]["targets"]
    assert len(scaling) == 10
    assert {t["verdict"] for t in scaling} <= {"PASS", "FAIL"}
    heavy = figures["results"]["heavy"]
    assert {(h["trees"], h["pinned"]) for h in heavy} == {(20_000, False), (20_000, True)}
