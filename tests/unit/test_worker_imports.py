"""The worker imports only what a round needs: numerapi without pandas and fsspec, which
load on first use for whoever does need them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'handlers'}{os.pathsep}{REPO}"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_cold_worker_does_not_load_pandas_or_fsspec() -> None:
    loaded = _run(
        "import sys, worker; "
        "print(sorted(m for m in ('pandas.core', 'fsspec.spec') if m in sys.modules))"
    )
    assert loaded == "[]"


def test_numerapi_calls_that_need_pandas_still_get_the_real_one() -> None:
    found = _run(
        "import numerai_bot.adapters.numerai_client as c, numerapi.base_api as b, pandas; "
        "frame = b.pd.DataFrame({'id': ['a'], 'prediction': [0.5]}); "
        "print(b.pd.DataFrame is pandas.DataFrame, b.fsspec.open.__module__, frame.shape)"
    )
    assert found == "True fsspec.core (1, 2)"
