"""The worker imports only what a round needs: numerapi without pandas and fsspec, which
load on first use for whoever does need them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

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


def test_a_cold_worker_and_a_classic_read_do_not_load_pyarrow_compute(tmp_path: Path) -> None:
    path = tmp_path / "live.parquet"
    column = pa.array(np.array([0, 4, 2], np.int8), mask=np.array([False, True, False]))
    pq.write_table(pa.table({"id": pa.array(["n1", "n2", "n3"]), "feature_a": column}), path)
    loaded = _run(
        "import sys, worker; from pathlib import Path; "
        "from numerai_bot.live_data import LiveData; "
        f"m = LiveData(Path({str(path)!r}), 1, 'v5.2').features(('feature_a',)).dense(); "
        "print('pyarrow._compute' in sys.modules, m.ravel().tolist()[0])"
    )
    assert loaded == "False 0.0"


def test_numerapi_calls_that_need_pandas_still_get_the_real_one() -> None:
    found = _run(
        "import numerai_bot.adapters.numerai_client as c, numerapi.base_api as b, pandas; "
        "frame = b.pd.DataFrame({'id': ['a'], 'prediction': [0.5]}); "
        "print(b.pd.DataFrame is pandas.DataFrame, b.fsspec.open.__module__, frame.shape)"
    )
    assert found == "True fsspec.core (1, 2)"


def test_reading_live_features_does_not_load_pandas(tmp_path: Path) -> None:
    path = tmp_path / "live.parquet"
    mask = np.array([False, True, False])
    table = {
        "id": pa.array(["n1", "n2", "n3"]),
        "numerai_ticker": pa.array(["A US", "B US", "C JP"]),
        "feature_int": pa.array(np.array([0, 4, 2], np.int8), mask=mask),
        "feature_float": pa.array(np.array([1.5, 0.0, 3.0]), mask=mask),
        "feature_country": pa.array(["US", None, "JP"]),
    }
    pq.write_table(pa.table(table), path)
    found = _run(
        "import json, sys, numpy as np, worker; from pathlib import Path; "
        "from numerai_bot.live_data import LiveData; from numerai_bot.tournaments import SIGNALS; "
        f"classic = LiveData(Path({str(path)!r}), 1, 'v5.2'); "
        "m = classic.features(('feature_int', 'feature_float')).dense(); "
        f"signals = LiveData(Path({str(path)!r}), 1, 'v2.1', SIGNALS); "
        "f = signals.features(('feature_float',)).dense(np.float64); "
        "s = signals.strings(('feature_country',)); "
        "print(json.dumps([np.nan_to_num(m, nan=-9).tolist(), np.nan_to_num(f, nan=-9).tolist(), "
        "s.tolist(), classic.ids.tolist(), 'pandas.core' in sys.modules]))"
    )
    assert json.loads(found) == [
        [[0.0, 1.5], [-9, -9], [2.0, 3.0]],
        [[1.5], [-9], [3.0]],
        [["US"], [""], ["JP"]],
        ["n1", "n2", "n3"],
        False,
    ]


def test_predict_lanes_is_read_from_the_environment_and_checked() -> None:
    from numerai_bot.config import WorkerSettings
    from numerai_bot.errors import ConfigError

    env = {
        "MODEL_STORE_URI": "s3://bucket/models",
        "LEDGER_TABLE_NAME": "ledger",
        "NUMERAI_SECRET_ID": "keys",
    }
    assert WorkerSettings.from_env(env).predict_lanes is None  # one per vCPU
    assert WorkerSettings.from_env({**env, "PREDICT_LANES": "1"}).predict_lanes == 1
    try:
        WorkerSettings.from_env({**env, "PREDICT_LANES": "-1"})
    except ConfigError as error:
        assert "PREDICT_LANES must be a positive integer" in str(error)
    else:
        raise AssertionError("a negative lane count was accepted")
