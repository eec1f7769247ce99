"""Own data: a participant trains, exports, validates and publishes a Signals or Crypto model on
features of their own, joined to Numerai's targets by date and id, as they would at home.

Numerai is the stand-in, over HTTP: the participant's own job downloads the targets and the
live universe with numerapi, computes momentum and volatility from their own prices
(``standins.synthetic_prices``) at every era and at the live date, and writes one Parquet
table; ``train``/``validate`` download the targets again themselves (``--download``). Small
data, few trees.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from numerapi import base_api

from model_export.cli.program import main
from model_export.converters.libraries import wrap
from model_export.data import numerai_api
from model_export.export import export_model
from model_export.metadata import read_metadata
from model_export.own_data import join_targets, read_own_table, read_targets
from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.models_config import ModelConfig, parse_models_config
from numerai_bot.own_data.join import OwnDataError
from numerai_bot.tournaments import CRYPTO, SIGNALS
from standins import synthetic_prices as prices
from standins.numerai import NumeraiStandin
from standins.synthetic_tournaments import signals_ids
from tests.standins.test_synthetic_prices import CLASSIC_SIZES, TOURNAMENT_SIZES

DOWNLOADS = {
    SIGNALS: ("v2.1", ("train.parquet", "validation.parquet", "live.parquet")),
    CRYPTO: ("v1.0", ("historical_targets.parquet", "live_universe.parquet")),
}
FEATURES = ["momentum_20", "volatility_20"]
HELD_OUT = 6  # the stand-in's validation eras: trained without, scored on
# colsample 1.0: both features in every tree; one LightGBM thread: the machines share 2 cores.
FEW_TREES = ["--n-estimators", "30", "--colsample-bytree", "1.0", "--param", "num_threads=1"]
CORR = re.compile(r"CORR \(numerai_corr\)\s+([+-]\d+\.\d+)")


@pytest.fixture(scope="module")
def numerai(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Numerai stand-in over HTTP, as small as the price tests'; the CLI's numerapi calls
    go to it (NUMERAI_API_URL)."""
    with (
        pytest.MonkeyPatch.context() as patch,
        NumeraiStandin(
            tmp_path_factory.mktemp("standin"),
            models={},
            tournament_sizes=TOURNAMENT_SIZES,
            **CLASSIC_SIZES,
        ) as standin,
    ):
        patch.setenv("NUMERAI_API_URL", standin.url)
        patch.setattr(base_api, "API_TOURNAMENT_URL", base_api.API_TOURNAMENT_URL)
        yield standin.url


@pytest.fixture(scope="module")
def downloads(numerai: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the participant's own job downloads: targets and the live universe."""
    folder = tmp_path_factory.mktemp("downloads")
    for chosen, (version, names) in DOWNLOADS.items():
        api = numerai_api(chosen, numerai)
        for name in names:
            dataset = chosen.dataset(version, name)
            api.download_dataset(dataset, dest_path=str(folder / dataset))
    return folder


def own_features(downloads: Path, tournament: str) -> pd.DataFrame:
    """Momentum and volatility from the participant's prices at every era and the live date:
    ``date``, the tournament's id column, the two features."""
    history = prices.standin_prices(downloads, tournament)
    eras = sorted(prices.standin_targets(downloads, tournament)["date"].unique())
    _, live_date = prices.standin_live(downloads, tournament)
    return prices.reference_features(history, [*eras, live_date.isoformat()])


@pytest.fixture(scope="module")
def tables(downloads: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The participant's tables: Crypto by symbol (dates as dates); Signals by numerai_ticker
    (dates as text) and by ticker (dates as YYYYMMDD integers, another column order)."""
    folder = tmp_path_factory.mktemp("own")
    crypto = own_features(downloads, "crypto")
    crypto["date"] = pd.to_datetime(crypto["date"]).dt.date
    signals = own_features(downloads, "signals")
    by_ticker = signals.assign(
        ticker=[signals_ids(t)["ticker"] for t in signals["numerai_ticker"]],
        date=signals["date"].str.replace("-", "").astype(int),
    ).drop(columns="numerai_ticker")[["volatility_20", "ticker", "date", "momentum_20"]]
    paths = {
        "crypto": folder / "crypto_momentum.parquet",
        "signals": folder / "signals_momentum.parquet",
        "signals_by_ticker": folder / "signals_by_ticker.parquet",
    }
    crypto.to_parquet(paths["crypto"], index=False)
    signals.to_parquet(paths["signals"], index=False)
    by_ticker.to_parquet(paths["signals_by_ticker"], index=False)
    return paths


def _train(table: Path, data: Path, out: Path, *extra: str) -> None:
    argv = ["train", "--own-data", str(table), "--download", "--data-dir", str(data)]
    argv += ["--holdout-eras", str(HELD_OUT), "--parity-rows", "1000", "-o", str(out)]
    assert main([*argv, *FEW_TREES, "--quiet", *extra]) == 0


def _validated_corr(onnx_file: Path, table: Path, data: Path, capsys, *extra: str) -> float:
    """``validate --own-data`` on the held-out eras; prints its report, returns the mean."""
    argv = ["validate", str(onnx_file), "--own-data", str(table), "--data-dir", str(data)]
    assert main([*argv, "--max-eras", str(HELD_OUT), "--no-plot", "--quiet", *extra]) == 0
    report = capsys.readouterr().out
    with capsys.disabled():
        print(f"\n{onnx_file.name} on its own data:\n{report}")
    assert f"{HELD_OUT} eras" in report and "WARNING" not in report  # later eras only
    return float(CORR.search(report).group(1))


def _own_model_checks(onnx_file: Path, tournament: str, version: str, key: str) -> None:
    meta = read_metadata(onnx_file)
    assert (meta.input, meta.tournament, meta.data_version) == ("own", tournament, version)
    assert sorted(meta.features) == FEATURES and meta.target == "target"  # the table's order
    assert meta.parity["ok"] and meta.parity["rows_reranked"] == 0
    assert meta.parity["rows"] == 1000  # the newest dates of the participant's table
    assert meta.validation["own_data"]["id_column"] == key


def test_a_crypto_model_on_own_momentum_and_volatility_joins_v1_targets_and_scores_later_eras(
    tables, tmp_path, capsys
) -> None:
    onnx_file = tmp_path / "crypto_momentum.onnx"
    _train(tables["crypto"], tmp_path / "data", onnx_file)
    assert (tmp_path / "data/crypto/v1.0/historical_targets.parquet").is_file()
    _own_model_checks(onnx_file, "crypto", "v1.0", "symbol")
    meta = read_metadata(onnx_file)
    assert meta.validation["mean_era_spearman"] > 0  # the native model on the held-out eras
    assert meta.validation["train_eras"][1] < "2031-08-01"  # the held-out eras are not in it
    assert _validated_corr(onnx_file, tables["crypto"], tmp_path / "data", capsys) > 0


def test_a_signals_table_keyed_by_ticker_is_joined_through_numerais_id_columns(
    tables, tmp_path, capsys
) -> None:
    onnx_file = tmp_path / "signals_by_ticker.onnx"
    _train(tables["signals_by_ticker"], tmp_path / "data", onnx_file)
    _own_model_checks(onnx_file, "signals", "v2.1", "ticker")
    own = read_metadata(onnx_file).validation["own_data"]
    assert own["eras"] == 22 and own["joined_rows"] == 22 * 200  # every era, every stock
    assert _validated_corr(onnx_file, tables["signals_by_ticker"], tmp_path / "data", capsys) > 0


def test_a_signals_model_trained_at_home_on_numerai_tickers_exports_with_parity_on_own_rows(
    tables, downloads, tmp_path, capsys
) -> None:
    # The participant's own training: their table merged with Numerai's train.parquet.
    own = pd.read_parquet(tables["signals"])
    train = pd.read_parquet(downloads / "signals/v2.1/train.parquet")
    rows = own.merge(train[["date", "numerai_ticker", "target"]], on=["date", "numerai_ticker"])
    params = {"objective": "regression", "num_leaves": 7, "verbosity": -1, "num_threads": 1}
    dataset = lgb.Dataset(rows[FEATURES], rows["target"])
    native = tmp_path / "signals_momentum.txt"
    lgb.train(params, dataset, num_boost_round=30).save_model(str(native))

    onnx_file = tmp_path / "signals_momentum.onnx"
    argv = ["export", str(native), "--own-data", str(tables["signals"]), "-o", str(onnx_file)]
    assert main([*argv, "--parity-rows", "1000", "--quiet"]) == 0
    meta = read_metadata(onnx_file)
    assert (meta.input, meta.tournament, meta.data_version) == ("own", "signals", "v2.1")
    assert meta.parity["ok"] and meta.parity["rows"] == 1000
    assert meta.validation["own_data"]["id_column"] == "numerai_ticker"
    corr = _validated_corr(onnx_file, tables["signals"], downloads, capsys)
    assert corr > 0


@pytest.fixture(scope="module")
def own_file(tables, downloads, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Crypto file exported to read own data (targets already downloaded)."""
    out = tmp_path_factory.mktemp("publish") / "own.onnx"
    argv = ["train", "--own-data", str(tables["crypto"]), "--data-dir", str(downloads)]
    assert main([*argv, *FEW_TREES, "--parity-rows", "500", "-o", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def numerai_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Crypto file of the same features exported to read Numerai's live file."""
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(400, 2))
    booster = lgb.train(
        {"objective": "regression", "verbosity": -1, "num_threads": 1},
        lgb.Dataset(matrix, matrix[:, 0] + rng.normal(size=400), feature_name=FEATURES),
        num_boost_round=5,
    )
    out = tmp_path_factory.mktemp("publish") / "numerai.onnx"
    export_model(
        wrap(booster, "lightgbm"), matrix, data_version="v2.0", tournament="crypto",
        input_type="float64", thread_counts=(1,), output=out,
    )  # fmt: skip
    assert read_metadata(out).input == "numerai"
    return out


def _publish(path: Path, store: Path, *extra: str, model: str = "my_crypto") -> int:
    return main(["publish", str(path), "--model", model, "--store", str(store), *extra])


def _entry(store: Path, model: str = "my_crypto") -> ModelConfig:
    configs = parse_models_config((store / "models.json").read_bytes())
    return next(c for c in configs if c.name == model)


def test_publish_writes_an_own_entry_for_a_file_that_reads_own_data(own_file, tmp_path) -> None:
    assert _publish(own_file, tmp_path) == 0
    entry = _entry(tmp_path)
    assert (entry.input.source, entry.input.table) == ("own", "my_crypto")
    document = json.loads((tmp_path / "models.json").read_text())
    assert document["models"]["my_crypto"]["input"] == {"source": "own"}

    # Settings given are written; those not given are kept on a later publish.
    assert _publish(own_file, tmp_path, "--table", "momentum", "--missing", "drop") == 0
    assert _publish(own_file, tmp_path, "--id-column", "symbol") == 0
    setting = _entry(tmp_path).input
    assert (setting.table, setting.missing, setting.id_column) == ("momentum", "drop", "symbol")


def test_publish_refuses_an_own_file_as_a_numerai_input_and_says_how_to_fix_it(
    own_file, tmp_path, capsys
) -> None:
    assert _publish(own_file, tmp_path, "--input", "numerai") == 2
    error = capsys.readouterr().err
    assert "exported to read own data" in error and "--input own" in error
    assert not (tmp_path / "models.json").exists()  # nothing written


def test_publish_refuses_a_numerai_file_as_own_input_and_over_an_own_entry(
    own_file, numerai_file, tmp_path, capsys
) -> None:
    assert _publish(numerai_file, tmp_path, "--input", "own") == 2
    assert "exported to read Numerai's live file" in capsys.readouterr().err
    assert _publish(numerai_file, tmp_path, "--table", "momentum") == 2  # a table means own
    capsys.readouterr()

    assert _publish(own_file, tmp_path, "--table", "momentum") == 0
    assert _publish(numerai_file, tmp_path) == 2  # the entry gives it own data
    error = capsys.readouterr().err
    assert "own data (table 'momentum')" in error and "--input numerai" in error
    assert _entry(tmp_path).input.table == "momentum"


def test_switching_a_model_to_numerais_data_is_explicit_and_rollback_restores_its_own_table(
    own_file, numerai_file, tmp_path
) -> None:
    store = LocalModelStore(tmp_path)
    assert _publish(own_file, tmp_path, "--table", "momentum") == 0
    assert _publish(numerai_file, tmp_path, "--input", "numerai") == 0
    assert not _entry(tmp_path).input.own
    assert main(["rollback", "--model", "my_crypto", "--store", str(tmp_path)]) == 0
    entry = _entry(tmp_path)
    assert (entry.input.source, entry.input.table) == ("own", "momentum")
    assert store.read("my_crypto.onnx").data == own_file.read_bytes()


def test_validate_sends_a_file_that_reads_own_data_to_its_own_table(
    own_file, downloads, capsys
) -> None:
    live = downloads / "crypto/v1.0/live_universe.parquet"
    assert main(["validate", str(own_file), "--data", str(live), "--no-plot"]) == 2
    assert "--own-data FILE.parquet" in capsys.readouterr().err


def test_a_table_listing_an_id_twice_on_one_date_is_refused_naming_it(tmp_path) -> None:
    path = tmp_path / "twice.parquet"
    pd.DataFrame(
        {"date": ["2029-11-02"] * 3, "symbol": ["BTC", "ETH", "BTC"], "momentum": [1.0, 2, 3]}
    ).to_parquet(path)
    with pytest.raises(OwnDataError, match="symbol 'BTC' more than once on 2029-11-02"):
        read_own_table(path, CRYPTO)


def test_own_dates_are_read_leniently_and_ids_as_text_like_the_worker(tmp_path) -> None:
    path = tmp_path / "mixed.parquet"
    stamps = [dt.datetime(2029, 11, 2, 21, tzinfo=dt.UTC), dt.datetime(2029, 11, 9, tzinfo=dt.UTC)]
    pd.DataFrame(
        {"date": stamps, "sedol": [2000019, 2000026], "value": [1, 2], "name": ["a", "b"]}
    ).to_parquet(path)
    own = read_own_table(path, SIGNALS)
    assert own.key == "sedol" and own.features == ("value",)  # text columns are no features
    assert own.eras == ["2029-11-02", "2029-11-09"]
    targets_dir = tmp_path / "v2.1"
    targets_dir.mkdir()
    for name, day in (("train", "20291102"), ("validation", "20291109")):
        pd.DataFrame(
            {"date": [day], "numerai_ticker": ["X US"], "sedol": ["2000019"], "target": [0.75]}
        ).to_parquet(targets_dir / f"{name}.parquet")
    joined = join_targets(own, read_targets(targets_dir, SIGNALS, "sedol"))
    assert joined[["date", "sedol", "value", "target"]].values.tolist() == [
        ["2029-11-02", "2000019", 1.0, 0.75]
    ]
