"""The synthetic price history (``standins.synthetic_prices``): a user's own data for Signals
and Crypto, deterministic by seed, whose momentum and volatility carry a weak, real signal for
the stand-in's targets, downloaded over HTTP with numerapi as a user would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numerapi
import numerapi.base_api
import numpy as np
import pandas as pd
import pytest

from standins import synthetic_prices as prices
from standins.numerai import NumeraiStandin, TournamentSizes

SIZES = TournamentSizes(train_eras=16, validation_eras=6, ids_per_era=200)
TOURNAMENT_SIZES = {
    11: dataclasses.replace(SIZES, live_rows=300, n_features=8),
    12: dataclasses.replace(SIZES, live_rows=250, n_features=8),
}
CLASSIC_SIZES = {
    "live_rows": 60,
    "n_features": 10,
    "train_eras": 1,
    "validation_eras": 1,
    "rows_per_era": 10,
}
FILES = {
    "signals": ("signals/v2.1/train.parquet", "signals/v2.1/validation.parquet"),
    "crypto": ("crypto/v1.0/historical_targets.parquet",),
}
LIVE = {"signals": "signals/v2.1/live.parquet", "crypto": "crypto/v1.0/live_universe.parquet"}
API = {"signals": numerapi.SignalsAPI, "crypto": numerapi.CryptoAPI}
STOCKS = ["AAPL US", "MSFT US", "TM JP"]


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Signals' and Crypto's targets and live universe, saved by numerapi under their names."""
    folder = tmp_path_factory.mktemp("downloads")
    with (
        pytest.MonkeyPatch.context() as patch,
        NumeraiStandin(
            tmp_path_factory.mktemp("price-data"),
            models={},
            tournament_sizes=TOURNAMENT_SIZES,
            **CLASSIC_SIZES,
        ) as standin,
    ):
        patch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", standin.url)
        for tournament, api_class in API.items():
            api = api_class(
                standin.public_id,
                standin.secret_key,
                verbosity="critical",
                show_progress_bars=False,
            )
            for name in (*FILES[tournament], LIVE[tournament]):
                api.download_dataset(name, str(folder / name))
        yield folder


def per_era_correlation(frame: pd.DataFrame, column: str) -> pd.Series:
    """Spearman correlation of ``column`` with ``target`` in each era, as Numerai scores."""
    return frame.groupby("date").apply(
        lambda era: era[column].rank().corr(era["target"].rank()), include_groups=False
    )


def test_the_same_seed_gives_the_same_prices_and_another_seed_others() -> None:
    first = prices.price_history(STOCKS, "2029-11-02", 60, seed=3)
    pd.testing.assert_frame_equal(first, prices.price_history(STOCKS, "2029-11-02", 60, seed=3))
    assert not first["close"].equals(prices.price_history(STOCKS, "2029-11-02", 60)["close"])
    assert list(first.columns) == ["date", "numerai_ticker", "close", "volume"]
    assert len(first) == 60 * len(STOCKS) and first["date"].iloc[-1] == "2029-11-02"
    assert (pd.to_datetime(first["date"]).dt.day_of_week < 5).all()  # stocks trade on weekdays
    assert (first["close"] > 0).all() and first["volume"].dtype == np.int64
    coins = prices.price_history(["BTC", "ETH"], "2029-11-04", 30, tournament="crypto")
    assert list(coins.columns)[1] == "symbol" and coins["date"].nunique() == 30  # every day


def test_features_at_a_date_do_not_depend_on_the_window_asked_for() -> None:
    short = prices.price_history(STOCKS, "2029-11-02", 40)
    long = prices.price_history(STOCKS, "2029-12-28", 200)
    at = ["2029-10-26", "2029-11-02"]
    pd.testing.assert_frame_equal(
        prices.reference_features(short, at), prices.reference_features(long, at)
    )


def test_reference_features_are_momentum_and_volatility_of_the_closes() -> None:
    history = prices.price_history(STOCKS, "2029-11-02", 30)
    features = prices.reference_features(history, "2029-11-03")  # a Sunday: Friday's close
    assert list(features.columns) == ["date", "numerai_ticker", "momentum_20", "volatility_20"]
    closes = history[history["numerai_ticker"] == "TM JP"]["close"].to_numpy()
    row = features.set_index("numerai_ticker").loc["TM JP"]
    assert row["date"] == "2029-11-03"
    assert row["momentum_20"] == pytest.approx(closes[-1] / closes[-21] - 1)
    assert row["volatility_20"] == pytest.approx(np.std(np.diff(np.log(closes[-21:])), ddof=1))
    early = prices.reference_features(history, "2029-09-28")  # before 21 closes exist
    assert early[["momentum_20", "volatility_20"]].isna().all().all()


@pytest.mark.parametrize("tournament", ["signals", "crypto"])
def test_momentum_and_volatility_from_the_prices_predict_the_standins_targets(
    downloads: Path, tournament: str
) -> None:
    history = prices.standin_prices(downloads, tournament)
    targets = prices.standin_targets(downloads, tournament)
    live, data_date = prices.standin_live(downloads, tournament)
    id_column = prices.market(tournament).id_column
    assert history["date"].max() == data_date.isoformat()
    assert set(live) <= set(history[id_column])

    eras = sorted(targets["date"].unique())
    features = prices.reference_features(history, eras)
    table = targets.merge(features, on=["date", id_column])
    assert len(table) == len(targets) and not table["momentum_20"].isna().any()
    momentum = per_era_correlation(table, "momentum_20")
    volatility = per_era_correlation(table, "volatility_20")
    assert momentum.mean() > 0.05 and (momentum > 0).mean() > 0.8
    assert volatility.mean() < -0.05  # high targets move calmly

    # A model trained on the first eras' ranked features scores positively on the later eras.
    ranked = table.assign(
        **{
            c: table.groupby("date")[c].rank(pct=True) - 0.5
            for c in ("momentum_20", "volatility_20")
        }
    )
    columns = ["momentum_20", "volatility_20"]
    train, test = ranked[ranked["date"] <= eras[-7]], ranked[ranked["date"] > eras[-7]]
    weights, *_ = np.linalg.lstsq(train[columns], train["target"] - 0.5, rcond=None)
    scored = test.assign(prediction=test[columns].to_numpy() @ weights)
    assert weights[0] > 0 > weights[1]
    assert per_era_correlation(scored, "prediction").mean() > 0.05
