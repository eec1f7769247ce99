"""A short season on the local stand-ins, with every kind of fault injected at least once.

It runs the simulation's own command in a fresh process: the season brings up its own moto
and stand-ins, and moto keeps its resources per process. The full season (100 rounds x 4
models, production retry policy) is the same command:
``PYTHONPATH=handlers:. python -m scripts.simulate_season --rounds 100 --models 4 --seed 1``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from scripts.simulate_season import KINDS

SHORT_SEASON = [
    *("--rounds", "8", "--models", "3"),
    # Seed 2's plan times out create_submission for every model, which once led to
    # duplicates (Numerai stored the first attempt, the schedule submitted again).
    *("--seed", "2"),
    *("--live-rows", "300", "--features", "60", "--timeout", "0.5", "--fast-retries"),
]


def test_a_short_season_with_every_fault_submits_every_recoverable_model_round_exactly_once(
    tmp_path: Path,
) -> None:
    counts_file = tmp_path / "season.json"
    command = [sys.executable, "-m", "scripts.simulate_season", *SHORT_SEASON, "--quiet"]
    command += ["--workdir", str(tmp_path / "work"), "--json", str(counts_file)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    table = done.stdout[-4000:] + done.stderr[-4000:]
    assert counts_file.exists(), table
    counts = json.loads(counts_file.read_text())
    assert all(counts["faults"][kind] > 0 for kind in KINDS), table
    assert counts["expected"] == 8 * 3, table
    assert counts["on_time"] + counts["late"] + counts["missed"] == counts["expected"], table
    assert sum(counts["missed_unrecoverable"].values()) > 0, table  # the faults took effect
    assert counts["by_schedule"] > 0, table  # and the fallback schedule had work to do
    assert counts["missed_recoverable"] == 0, table
    assert counts["late"] == 0, table
    assert counts["duplicates"] == 0, table
    assert counts["invalid"] == 0, table
    assert counts["corrupt_uploads"] == 0, table
    assert counts["ledger_disagreements"] == 0, table
    assert counts["target_met"] and done.returncode == 0, table
