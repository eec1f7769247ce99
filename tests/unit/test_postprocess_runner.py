"""A round with post-processing: neutralized and blended models submit what numerai-tools
would compute; a blend whose benchmark is missing fails only that model."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from onnx import TensorProto

from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.events import WorkerRequest
from numerai_bot.inference import ModelCache, load_model
from numerai_bot.live_data import LiveData, LiveDataCache
from numerai_bot.round.runner import RoundRunner
from numerai_bot.tournaments import SIGNALS
from standins import synthetic_tournaments as provided
from standins.onnx_models import linear_model
from tests.unit.fakes import FakeNumerai, MemoryLedger
from tests.unit.test_neutralize import numerai_tools_way

MODELS = {
    "plain": "id-p",
    "neutral": "id-n",
    "blended": "id-b",
    "bad_bench": "id-x",
    "sig_neutral": "id-s",
    "sig_bench": "id-t",
}
IN_TOURNAMENT = {"sig_neutral": 11, "sig_bench": 11}


@pytest.fixture
def root(tmp_path: Path, small_data: Path) -> Path:
    folder = tmp_path / "numerai"
    shutil.copytree(small_data, folder / "v5.2")
    provided.write_dataset(folder, provided.SIGNALS, live_rows=300, train_eras=2, ids_per_era=20)
    return folder


@pytest.fixture
def bot(tmp_path: Path, root: Path, small_features):
    store = LocalModelStore(tmp_path / "store")
    store.write("plain.onnx", linear_model(small_features["small"], seed=1))
    store.write("neutral.onnx", linear_model(small_features["medium"], seed=2))
    signals = [
        n
        for n in pd.read_parquet(root / "signals/v2.1/live.parquet").columns
        if n.startswith("feature_") and n not in provided.STRING_FEATURES
    ]
    store.write(
        "sig.onnx",
        linear_model(
            signals,
            seed=3,
            data_version="v2.1",
            tournament="signals",
            input_type=TensorProto.DOUBLE,
        ),
    )
    models = {
        "plain": {"artifact": "plain.onnx"},
        "neutral": {
            "artifact": "neutral.onnx",
            "neutralize": {"proportion": 0.75, "against": "small"},
        },
        "blended": {
            "artifact": "neutral.onnx",
            "blend": [
                {"benchmark": "v52_lgbm_ender20", "weight": 0.2},
                {"model": "plain", "weight": 0.1},
            ],
        },
        "bad_bench": {
            "artifact": "plain.onnx",
            "blend": [{"benchmark": "v52_lgbm_nosuch20", "weight": 0.2}],
        },
        "sig_neutral": {
            "artifact": "sig.onnx",
            "tournament": "signals",
            "neutralize": {"proportion": 1.0, "against": "factors"},
        },
        "sig_bench": {
            "artifact": "sig.onnx",
            "tournament": "signals",
            "blend": [{"benchmark": "v21_lgbm_target", "weight": 0.2}],
        },
    }
    store.write("models.json", json.dumps({"models": models}).encode())
    numerai = FakeNumerai(root / "v5.2", MODELS, tournaments=IN_TOURNAMENT)
    numerai.served = frozenset(str(p.relative_to(root)) for p in root.rglob("*.*"))
    runner = RoundRunner(
        numerai,
        store,
        MemoryLedger(),
        LiveDataCache(tmp_path / "live", numerai),
        ModelCache(store, threads=1),
    )
    return runner, numerai, store


def uploaded(numerai: FakeNumerai, model_id: str) -> pd.Series:
    body = next(u["body"] for u in numerai.uploads if u["model_id"] == model_id)
    rows = list(csv.reader(io.StringIO(body.decode())))[1:]
    return pd.Series([float(v) for _, v in rows], index=[i for i, _ in rows])


def raw_predictions(store, artifact: str, live_path: Path, tournament="classic"):
    from numerai_bot.tournaments import TOURNAMENTS

    model = load_model(artifact, "1", store.read(artifact).data, threads=1)
    live = LiveData(live_path, 1, model.metadata.data_version, TOURNAMENTS[tournament])
    raw = model.predict(live.features(model.metadata.numeric_features), None, None)
    return live, pd.Series(np.asarray(raw, dtype=np.float64), index=live.ids)


def numerai_way(raw: pd.Series, exposures: np.ndarray, proportion: float) -> pd.Series:
    """numerai-tools' neutralize on the complete rows, its fit carried to the others."""
    complete, theirs, extended = numerai_tools_way(raw.to_numpy(), exposures, proportion)
    extended[complete] = theirs
    return pd.Series(extended, index=raw.index)


def ranked(values: pd.Series) -> pd.Series:
    return (values.rank() - 0.5) / len(values)


def test_neutralized_and_blended_models_submit_what_numerai_tools_computes(
    bot, root: Path, small_features
) -> None:
    runner, numerai, store = bot
    result = runner.run(WorkerRequest("webhook", 500))
    by_name = {o.model: o for o in result.outcomes}
    assert by_name["neutral"].status == "submitted", by_name["neutral"].detail
    assert by_name["blended"].status == "submitted", by_name["blended"].detail

    live, raw = raw_predictions(store, "neutral.onnx", root / "v5.2/live.parquet")
    exposures = live.features(tuple(small_features["small"])).dense(np.float64)
    expected = ranked(numerai_way(raw, exposures, 0.75))
    got = uploaded(numerai, "id-n")
    difference = float(np.max(np.abs(got[expected.index].to_numpy() - expected.to_numpy())))
    print(f"neutralized then ranked: max |bot - numerai_tools| = {difference:.2e}")
    assert difference < 1e-12

    _, plain = raw_predictions(store, "plain.onnx", root / "v5.2/live.parquet")
    bench = pd.read_parquet(root / "v5.2/live_benchmark_models.parquet")["v52_lgbm_ender20"]
    mix = 0.7 * ranked(raw) + 0.2 * ranked(bench[raw.index]) + 0.1 * ranked(plain)
    got = uploaded(numerai, "id-b")
    assert np.max(np.abs(got[raw.index].to_numpy() - ranked(mix).to_numpy())) < 1e-12


def test_missing_benchmark_column_fails_only_that_model(bot) -> None:
    runner, _, _ = bot
    result = runner.run(WorkerRequest("webhook", 500))
    by_name = {o.model: o for o in result.outcomes}
    assert by_name["bad_bench"].status == "failed"
    assert "no benchmark model 'v52_lgbm_nosuch20'" in by_name["bad_bench"].detail
    assert "v52_lgbm_ender20" in by_name["bad_bench"].detail  # what it could have named
    assert by_name["plain"].status == "submitted"


def test_signals_model_is_neutralized_to_the_factors(bot, root: Path) -> None:
    runner, numerai, store = bot
    result = runner.run(WorkerRequest("webhook", models=("sig_neutral", "sig_bench")))
    by_name = {o.model: o for o in result.outcomes}
    assert by_name["sig_neutral"].status == "submitted", by_name["sig_neutral"].detail
    live, raw = raw_predictions(store, "sig.onnx", root / "signals/v2.1/live.parquet", "signals")
    factors = json.loads((root / "signals/v2.1/features.json").read_text())["feature_sets"][
        "factors"
    ]
    exposures = live.features(tuple(factors)).dense(np.float64)
    neutral = numerai_way(raw, exposures, 1.0)
    got = uploaded(numerai, "id-s")
    assert np.max(np.abs(got[raw.index].to_numpy() - ranked(neutral).to_numpy())) < 1e-12
    # Numerai ships no benchmark models for Signals here: that model alone says so.
    assert by_name["sig_bench"].status == "failed"
    assert "live_benchmark_models.parquet" in by_name["sig_bench"].detail
    assert SIGNALS.name in by_name["sig_bench"].detail
