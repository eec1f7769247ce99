"""Signals and Crypto models: train, export, check and publish them like Classic ones.

Synthetic data from ``standins.synthetic_tournaments`` (float features with NaN; Signals with
the string columns ``feature_country`` and ``feature_exchange_code``). Few trees, small files:
the 2,000-tree figures come from ``python -m benchmarks.export.tournament_parity``.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import lightgbm as lgb
import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest
from numerapi import base_api

from model_export.cli.program import main
from model_export.converters.libraries import wrap
from model_export.ensemble import EnsembleError, Member, build_ensemble
from model_export.export import export_lightgbm, export_model
from model_export.metadata import read_metadata
from model_export.parity import average_ranks
from model_export.publish import publish
from model_export.string_features import (
    StringEncoding,
    add_string_inputs,
    encoding_from_graph,
)
from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.errors import ConfigError
from numerai_bot.models_config import parse_models_config
from numerai_bot.tournaments import CRYPTO
from standins import synthetic_tournaments as synthetic

from .test_cli import _FakeNumerai

STRINGS = ("feature_country", "feature_exchange_code")
# colsample 1.0: with a handful of trees every feature, the string ones included, gets splits;
# one LightGBM thread: the test machines share two cores.
FEW_TREES = ["--n-estimators", "40", "--colsample-bytree", "1.0", "--param", "num_threads=1"]
FEW_TREES += ["--quiet"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small Signals (150 tickers × 12 weeks, 600 live) and Crypto (100 × 12, 300 live) data."""
    root = tmp_path_factory.mktemp("tournaments")
    synthetic.write_dataset(
        root, synthetic.SIGNALS, ids_per_era=150, train_eras=12, validation_eras=2, live_rows=600
    )
    synthetic.write_dataset(
        root, synthetic.CRYPTO, ids_per_era=100, train_eras=12, validation_eras=2, live_rows=300
    )
    return root


def _train_argv(data: Path, out: Path, name: str, *extra: str) -> list[str]:
    argv = ["train", "--data-dir", str(data), "--name", name, "-o", str(out / f"{name}.onnx")]
    return [*argv, "--save-native", str(out / f"{name}.txt"), *FEW_TREES, *extra]


def _train(data: Path, out: Path, name: str, *extra: str) -> dict[str, Path]:
    assert main(_train_argv(data, out, name, *extra)) == 0
    return {"onnx": out / f"{name}.onnx", "native": out / f"{name}.txt"}


@pytest.fixture(scope="module")
def signals(data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Signals example model trained with its string features encoded (40 trees)."""
    out = tmp_path_factory.mktemp("signals")
    files = _train(data, out, "sig", "--tournament", "signals")
    return {**files, "live": data / "signals/v2.1/live.parquet", "dir": out}


@pytest.fixture(scope="module")
def crypto(data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Crypto example model (40 trees)."""
    out = tmp_path_factory.mktemp("crypto")
    files = _train(data, out, "cry", "--tournament", "crypto")
    return {**files, "live": data / "crypto/v2.0/live.parquet", "dir": out}


def _worker_inputs(path: Path, live: pd.DataFrame) -> dict[str, np.ndarray]:
    """What the worker feeds: numeric features as the declared type, strings with "" for
    missing, each in the metadata's order."""
    meta = read_metadata(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    numeric_type = np.float64 if inputs[0].type == "tensor(double)" else np.float32
    feeds = {inputs[0].name: live[list(meta.numeric_features)].to_numpy(numeric_type)}
    if meta.string_features:
        strings = live[list(meta.string_features)].fillna("").astype(str).to_numpy(object)
        feeds[inputs[1].name] = strings
    return feeds


def _run(path: Path, live: pd.DataFrame) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(["prediction"], _worker_inputs(path, live))
    return np.asarray(out, dtype=np.float64)


def _native(native: Path, train: Path, live: pd.DataFrame) -> np.ndarray:
    """The reference pipeline written out independently: sorted distinct training values →
    0, 1, 2…; missing/empty/unseen → NaN; LightGBM on every feature as numbers."""
    booster = lgb.Booster(model_file=str(native))
    names = booster.feature_name()
    frame = live[names].copy()
    training = pd.read_parquet(train, columns=[n for n in names if n in STRINGS])
    for column in training.columns:
        vocabulary = sorted(v for v in training[column].dropna().unique() if v != "")
        codes = {value: float(code) for code, value in enumerate(vocabulary)}
        frame[column] = [codes.get(v, np.nan) for v in live[column]]
    return booster.predict(frame.to_numpy(np.float64))


def test_signals_example_model_trains_on_its_string_features(signals) -> None:
    meta = read_metadata(signals["onnx"])
    assert (meta.tournament, meta.data_version, meta.target) == ("signals", "v2.1", "target")
    assert meta.string_features == STRINGS and set(STRINGS) <= set(meta.features)
    assert meta.parity["ok"] and meta.parity["rows_reranked"] == 0 and meta.parity["rows"] > 500
    booster = lgb.Booster(model_file=str(signals["native"]))
    used = dict(zip(booster.feature_name(), booster.feature_importance(), strict=True))
    assert used["feature_country"] > 0  # the codes really reach the trees
    vocabulary = json.loads((signals["dir"] / "sig.vocabulary.json").read_text())
    assert vocabulary["feature_country"] == sorted(synthetic.COUNTRIES)


def test_signals_file_fed_like_the_worker_gives_exactly_the_native_predictions(
    signals, data
) -> None:
    model = onnx.load(str(signals["onnx"]))
    kinds = [value.type.tensor_type.elem_type for value in model.graph.input]
    assert kinds == [onnx.TensorProto.DOUBLE, onnx.TensorProto.STRING]
    live = pd.read_parquet(signals["live"])
    live.loc[live.index[:5], "feature_country"] = None  # missing
    live.loc[live.index[5:10], "feature_country"] = "ZZ"  # never seen in training
    live.loc[live.index[10:15], "feature_exchange_code"] = ""  # empty
    expected = _native(signals["native"], data / "signals/v2.1/train.parquet", live)
    got = _run(signals["onnx"], live)
    assert np.max(np.abs(got - expected)) <= 1e-12
    assert np.array_equal(average_ranks(got), average_ranks(expected))
    assert np.isnan(got).sum() == 0 and len(np.unique(got)) > 50


def test_check_gate_passes_on_nan_heavy_signals_rows(signals, tmp_path, capsys) -> None:
    live = pd.read_parquet(signals["live"])
    numeric = [c for c in live.columns if c.startswith("feature_") and c not in STRINGS]
    rng = np.random.default_rng(3)
    values = live[numeric].to_numpy(np.float64, copy=True)
    values[rng.random(values.shape) < 0.4] = np.nan  # 40 % missing
    values[:20] = np.nan  # rows with no numeric value at all
    live[numeric] = values
    live.loc[live.index[20:60], "feature_country"] = None
    heavy = tmp_path / "signals/v2.1/live.parquet"
    heavy.parent.mkdir(parents=True)
    live.to_parquet(heavy, index=False)
    argv = ["check", str(signals["onnx"]), str(signals["native"]), "--data", str(heavy)]
    assert main([*argv, "--threads", "1,2,4", "--quiet"]) == 0
    assert "rows re-ranked   0 (limit 0)" in capsys.readouterr().out


def test_validate_scores_a_signals_file_per_date(signals, data, capsys) -> None:
    validation = data / "signals/v2.1/validation.parquet"
    argv = ["validate", str(signals["onnx"]), "--data", str(validation), "--no-plot", "--json"]
    assert main([*argv, "--quiet"]) == 0
    figures = json.loads(capsys.readouterr().out)
    corr = figures["per_era"]["model"]["corr"]
    assert figures["eras"] == 2 and len(corr) == 2
    assert all(np.isfinite(v) for v in corr.values())
    assert set(figures["metrics"]["model"]) == {"corr", "fnc", "feature_exposure"}  # no meta model


def test_users_signals_model_exports_with_its_vocabulary(signals, data, tmp_path) -> None:
    output = tmp_path / "user.onnx"
    argv = ["export", str(signals["native"]), "--data", str(signals["live"]), "-o", str(output)]
    train = data / "signals/v2.1/train.parquet"
    assert main([*argv, "--string-vocabulary", str(train), "--quiet"]) == 0
    meta = read_metadata(output)  # tournament from the file's numerai_ticker column
    assert (meta.tournament, meta.data_version, meta.string_features) == (
        "signals",
        "v2.1",
        STRINGS,
    )
    assert meta.parity["rows_reranked"] == 0
    assert encoding_from_graph(onnx.load(str(output))) == StringEncoding.load(train, STRINGS)
    live = pd.read_parquet(signals["live"])
    assert np.array_equal(_run(output, live), _run(signals["onnx"], live))


@pytest.mark.parametrize(
    "extra",
    [["--string-features", "refuse", "--string-vocabulary", "x.json"], []],
    ids=["asked-to-refuse", "no-vocabulary"],
)
def test_signals_model_with_string_features_is_refused_naming_them(
    signals, tmp_path, capsys, extra
) -> None:
    output = tmp_path / "refused.onnx"
    argv = ["export", str(signals["native"]), "--data", str(signals["live"]), "-o", str(output)]
    assert main([*argv, *extra, "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "feature_country" in error and "feature_exchange_code" in error
    assert not output.exists()


def test_a_model_with_categorical_splits_is_told_so_before_any_vocabulary(tmp_path, capsys) -> None:
    """A vocabulary would not help a model that splits on categories: the first error says
    which feature and how to get a file that exports."""
    rng = np.random.default_rng(0)
    countries = rng.choice(["AU", "CA", "DE", "JP", "US"], 400)
    values = rng.normal(size=400)
    frame = pd.DataFrame({"feature_a": values, "feature_country": pd.Categorical(countries)})
    target = values + (countries == "US") + rng.normal(scale=0.1, size=400)
    params = {"verbosity": -1, "min_data_per_group": 5, "cat_smooth": 1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(frame, target), 3)
    booster.save_model(tmp_path / "categorical.txt")
    live = tmp_path / "signals/v2.1/live.parquet"
    live.parent.mkdir(parents=True)
    tickers = [f"T{i} US" for i in range(400)]
    pd.DataFrame(
        {"numerai_ticker": tickers, "feature_a": values, "feature_country": countries}
    ).to_parquet(live)
    output = tmp_path / "refused.onnx"
    argv = ["export", str(tmp_path / "categorical.txt"), "--data", str(live), "-o", str(output)]
    assert main([*argv, "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "categorical splits on feature_country " in error and "--string-vocabulary" in error
    assert "cannot be encoded without the vocabulary" not in error and not output.exists()


def test_train_refuses_or_drops_string_features_when_asked(data, tmp_path, capsys) -> None:
    argv = ["--tournament", "signals", "--string-features"]
    assert main(_train_argv(data, tmp_path, "refused", *argv, "refuse")) == 2
    assert "feature_country" in capsys.readouterr().err
    dropped = _train(data, tmp_path, "dropped", *argv, "drop")  # numerai-cli's feature list
    meta = read_metadata(dropped["onnx"])
    assert meta.string_features == () and not set(STRINGS) & set(meta.features)
    assert len(onnx.load(str(dropped["onnx"])).graph.input) == 1


def test_crypto_example_model_round_trips(crypto, capsys) -> None:
    meta = read_metadata(crypto["onnx"])
    assert (meta.tournament, meta.data_version) == ("crypto", "v2.0")
    assert meta.target == "target_binned_return_20" and meta.string_features == ()
    model = onnx.load(str(crypto["onnx"]))
    assert [v.type.tensor_type.elem_type for v in model.graph.input] == [onnx.TensorProto.DOUBLE]
    live = pd.read_parquet(crypto["live"])
    booster = lgb.Booster(model_file=str(crypto["native"]))
    expected = booster.predict(live[booster.feature_name()].to_numpy(np.float64))
    got = _run(crypto["onnx"], live)
    assert np.max(np.abs(got - expected)) <= 1e-12
    assert np.array_equal(average_ranks(got), average_ranks(expected))
    argv = ["check", str(crypto["onnx"]), str(crypto["native"]), "--data", str(crypto["live"])]
    assert main([*argv, "--threads", "1", "--quiet"]) == 0


def test_ensemble_keeps_the_tournament_and_refuses_string_members(
    crypto, signals, tmp_path
) -> None:
    output = tmp_path / "ensemble.onnx"
    argv = ["ensemble", str(crypto["onnx"]), str(crypto["onnx"]), "-o", str(output)]
    assert main([*argv, "--data", str(crypto["live"]), "--quiet"]) == 0
    assert read_metadata(output).tournament == "crypto"
    with pytest.raises(EnsembleError, match="read string features"):
        build_ensemble([Member.from_file(signals["onnx"], 0.5)] * 2)


def test_xgboost_model_reads_string_features_through_the_same_encoding(data) -> None:
    xgb = pytest.importorskip("xgboost")
    train = pd.read_parquet(data / "signals/v2.1/train.parquet")
    features = [c for c in train.columns if c.startswith("feature_")]
    encoding = StringEncoding.fit({c: train[c].to_numpy(object) for c in STRINGS})
    frame = train[features].copy()
    for column in STRINGS:
        frame[column] = encoding.codes(column, train[column].to_numpy(object))
    booster = xgb.train(
        {"max_depth": 3, "eta": 0.1}, xgb.DMatrix(frame, train["target"]), num_boost_round=15
    )
    live = pd.read_parquet(data / "signals/v2.1/live.parquet")
    numeric = [c for c in features if c not in STRINGS]
    result = export_model(
        wrap(booster, "xgboost"),
        live[numeric].to_numpy(np.float64),
        data_version="v2.1",
        tournament="signals",
        strings=live[list(STRINGS)].fillna("").to_numpy(object),
        string_encoding=encoding,
        thread_counts=(1, 2),
    )
    assert result.report.ok and result.metadata.string_features == STRINGS


def test_string_encoding_sorts_training_values_and_sends_the_rest_to_nan() -> None:
    encoding = StringEncoding.fit({"c": np.array(["US", None, "", "JP", "US"], dtype=object)})
    assert encoding.vocabularies == {"c": ("JP", "US")}
    codes = encoding.codes("c", np.array(["US", "JP", "", None, "ZZ"], dtype=object))
    np.testing.assert_array_equal(codes, [1.0, 0.0, np.nan, np.nan, np.nan])


def test_the_graph_places_codes_where_the_trees_read_them() -> None:
    """Strings first in the feature order: the graph must still give the trees x[:, 0] = code."""
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, size=400).astype(np.float64)
    numeric = rng.normal(size=(400, 2))
    matrix = np.column_stack([codes, numeric])
    target = 3 * codes + numeric[:, 0]
    names = ["feature_country", "feature_a", "feature_b"]
    booster = lgb.train(
        {"verbosity": -1, "min_data_in_leaf": 5},
        lgb.Dataset(matrix, target, feature_name=names),
        num_boost_round=10,
    )
    encoding = StringEncoding({"feature_country": ("AU", "CA", "US")})
    strings = np.array([["AU", "CA", "US"][int(c)] for c in codes], dtype=object)[:, None]
    result = export_model(
        wrap(booster),
        numeric,
        data_version="v2.1",
        input_type="float64",
        strings=strings,
        string_encoding=encoding,
        thread_counts=(1,),
    )
    assert result.report.ok and result.report.max_abs_diff <= 1e-12
    assert [v.name for v in result.model.graph.input] == ["features", "string_features"]
    with pytest.raises(ValueError, match="not model features"):
        add_string_inputs(result.model, ["feature_a"], StringEncoding({"x": ("a",)}))


@pytest.fixture
def numerai(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fake Numerai serving Signals v2.0 (an older copy) and v2.1 with listDatasets."""
    served = tmp_path / "served"
    shutil.copytree(data / "signals", served / "signals")
    shutil.copytree(data / "signals/v2.1", served / "signals/v2.0")
    handler = type("Handler", (_FakeNumerai,), {"root": served})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(base_api, "API_TOURNAMENT_URL", base_api.API_TOURNAMENT_URL)
    monkeypatch.setenv("NUMERAI_API_URL", f"http://127.0.0.1:{server.server_address[1]}/graphql")
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


def test_signals_download_takes_the_newest_version_served(numerai, tmp_path) -> None:
    dest = tmp_path / "downloads"
    argv = ["--tournament", "signals", "--download", "--string-features", "drop"]
    files = _train(dest, tmp_path, "downloaded", *argv)
    assert sorted(p.name for p in (dest / "signals/v2.1").iterdir()) == [
        "live.parquet",
        "train.parquet",
    ]
    assert read_metadata(files["onnx"]).data_version == "v2.1"


def _classic_file(nan_booster, live_matrix, feature_names) -> bytes:
    result = export_lightgbm(
        nan_booster, live_matrix[:300], data_version="v5.2", feature_names=feature_names,
        num_iteration=5, thread_counts=(1,),
    )  # fmt: skip
    return result.model.SerializeToString()


def test_publish_records_the_tournament_and_refuses_another(
    crypto, signals, tmp_path, nan_booster, live_matrix, feature_names
) -> None:
    store = LocalModelStore(tmp_path / "store")
    data = crypto["onnx"].read_bytes()
    publish(store, "my_crypto", data, tournament="crypto")
    document = json.loads(store.read("models.json").data)
    assert document["models"]["my_crypto"]["tournament"] == "crypto"
    (entry,) = parse_models_config(store.read("models.json").data)
    assert entry.tournament == CRYPTO and entry.data_version == "v2.0"

    with pytest.raises(ConfigError, match=r"crypto model .* but signals was asked for"):
        publish(store, "my_crypto", data, tournament="signals")
    publish(store, "my_classic", _classic_file(nan_booster, live_matrix, feature_names))
    with pytest.raises(ConfigError, match="runs my_classic in the classic tournament"):
        publish(store, "my_classic", data)
    archived = [p.name for p in (tmp_path / "store").glob("my_classic.onnx.2*")]
    assert archived == []  # refused before the current file was archived
    assert "tournament" not in json.loads(store.read("models.json").data)["models"]["my_classic"]


def test_publish_command_carries_the_tournament_from_the_file(crypto, tmp_path, capsys) -> None:
    store = tmp_path / "store"
    argv = ["publish", str(crypto["onnx"]), "--model", "cry", "--store", str(store)]
    assert main([*argv, "--tournament", "signals"]) != 0
    assert "signals was asked for" in capsys.readouterr().err
    assert main(argv) == 0
    (entry,) = parse_models_config((store / "models.json").read_bytes())
    assert entry.tournament == CRYPTO
