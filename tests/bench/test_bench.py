"""The quick benchmark (1 and 10 models, medium features), printing its table.

Marked ``bench``: excluded from ``make test`` by pyproject's ``-m 'not bench'``; run with
``make bench`` or ``pytest -m bench -s``. It asserts only that every side ran and submitted
every model, that memory does not grow with the number of models (peak RSS is far steadier
than time on a shared machine), and that the report has its sections: the targets are
printed as PASS/FAIL figures, not asserted, because timings on shared machines vary.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.bench.__main__ import main

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
    assert {(r["side"], r["models"]) for r in runs} == {
        ("ours", 1),
        ("baseline", 1),
        ("ours", 10),
        ("baseline", 10),
    }
    assert all(r["submitted"] == r["models"] and not r["failed"] for r in runs)
    # Every model is its own file, so the worker builds one session per model.
    ten = next(r for r in runs if r["side"] == "ours" and r["models"] == 10)
    assert ten["phases"]["  of which session creation"]["calls"] == 10
    # Memory stays flat as models are added (it grew 55 MiB per model before the lean path;
    # 1 → 10 models now adds about 30 MiB, mostly the second cached session and upload threads).
    one = next(r for r in runs if r["side"] == "ours" and r["models"] == 1)
    assert ten["peak_rss_mib"] - one["peak_rss_mib"] < 80
    for section in ("1-2.", "3a.", "3b.", "4.", "5.", "Targets"):
        assert section in printed
    verdicts = {t["verdict"] for t in figures["summary"]["targets"]}
    assert verdicts <= {"PASS", "FAIL", "n/a"}
