"""Signals (11) and Crypto (12) on the Numerai stand-in, driven by numerapi's unmodified
``SignalsAPI`` and ``CryptoAPI`` over real HTTP, beside Classic (8).

Each test gets a fresh stand-in on a shared, small data folder (Signals live ~300 rows,
Crypto ~150).
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numerapi
import numerapi.base_api
import numpy as np
import pandas as pd
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from standins import synthetic_tournaments
from standins.numerai import (
    NumeraiStandin,
    StandinAdmin,
    TournamentSizes,
    model_id_for,
    signals_validation,
)
from standins.numerai import __main__ as standin_main
from standins.numerai.validation import SubmissionInvalid
from tests.conftest import examples

CLASSIC_SIZES = {
    "live_rows": 120,
    "n_features": 20,
    "train_eras": 2,
    "validation_eras": 1,
    "rows_per_era": 10,
}
SMALL = TournamentSizes(train_eras=3, validation_eras=2, ids_per_era=50)
TOURNAMENT_SIZES = {
    11: dataclasses.replace(SMALL, live_rows=300, n_features=10),
    12: dataclasses.replace(SMALL, live_rows=150, n_features=8),
}
MODELS = {name: model_id_for(name) for name in ("classic_model", "signals_model", "crypto_model")}
OWNERS = {"signals_model": 11, "crypto_model": "crypto"}
ROUNDS = {8: 1100, 11: 700, 12: 300}

SUBMISSIONS = """
query($modelId: String) {
  submissions(modelId: $modelId) { id round { number tournament } triggerId }
}"""
MODEL = "query($id: String) { model(modelId: $id) { id name tournament } }"
TRIGGER = "mutation($modelId: String!) { triggerModelWebhook(modelId: $modelId) }"
SIGNALS_AUTH = """
query($filename: String!, $tournament: Int!, $modelId: String) {
  submissionUploadSignalsAuth(filename: $filename, tournament: $tournament, modelId: $modelId) {
    filename url
  }
}"""
SIGNALS_CREATE = """
mutation($filename: String!, $modelId: String) {
  createSignalsSubmission(filename: $filename, modelId: $modelId, source: "test") {
    id firstEffectiveDate round { number tournament }
  }
}"""


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tournament-data")


@pytest.fixture
def standin(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NumeraiStandin]:
    for name in ("TRIGGER_ID", "NUMERAI_PUBLIC_ID", "NUMERAI_SECRET_KEY", "NUMERAI_COMPUTE_ID"):
        monkeypatch.delenv(name, raising=False)
    with NumeraiStandin(
        data_root,
        models=MODELS,
        model_tournaments=OWNERS,
        tournament_sizes=TOURNAMENT_SIZES,
        **CLASSIC_SIZES,
    ) as running:
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", running.url)
        yield running


def _api(cls: type, standin: NumeraiStandin):
    return cls(
        public_id=standin.public_id,
        secret_key=standin.secret_key,
        verbosity="critical",
        show_progress_bars=False,
    )


@pytest.fixture
def napi(standin: NumeraiStandin) -> numerapi.NumerAPI:
    return _api(numerapi.NumerAPI, standin)


@pytest.fixture
def sapi(standin: NumeraiStandin) -> numerapi.SignalsAPI:
    return _api(numerapi.SignalsAPI, standin)


@pytest.fixture
def capi(standin: NumeraiStandin) -> numerapi.CryptoAPI:
    return _api(numerapi.CryptoAPI, standin)


def signals_frame(tickers: list[str]) -> pd.DataFrame:
    """A valid-looking Signals submission for ``tickers``."""
    return pd.DataFrame(
        {"numerai_ticker": tickers, "signal": np.linspace(0.01, 0.99, len(tickers))}
    )


def live_tickers(standin: NumeraiStandin, tournament: int = 11) -> list[str]:
    return sorted(standin.live_ids(tournament=tournament))


class Receiver:
    """A local webhook target that records the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook?token=t"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- rounds, models, data -------------------------------------------------------------------------


def test_each_tournament_has_its_own_current_round(
    napi: numerapi.NumerAPI, sapi: numerapi.SignalsAPI, capi: numerapi.CryptoAPI
) -> None:
    rounds = (napi.get_current_round(), sapi.get_current_round(), capi.get_current_round())
    assert rounds == (ROUNDS[8], ROUNDS[11], ROUNDS[12])
    assert napi.get_current_round(tournament=11) == ROUNDS[11]
    history = sapi.raw_query("query { rounds(tournament: 11) { number tournament } }")
    assert history["data"]["rounds"] == [{"number": ROUNDS[11], "tournament": 11}]


def test_tournaments_open_close_and_advance_independently(
    standin: NumeraiStandin,
    napi: numerapi.NumerAPI,
    sapi: numerapi.SignalsAPI,
    capi: numerapi.CryptoAPI,
) -> None:
    assert standin.open_round(tournament=11) == ROUNDS[11] + 1
    standin.close_round(tournament="crypto")
    assert napi.get_current_round() == ROUNDS[8]
    assert sapi.get_current_round() == ROUNDS[11] + 1
    assert not capi.check_round_open() and sapi.check_round_open() and napi.check_round_open()
    with pytest.raises(ValueError, match="Current round not open for submissions"):
        capi.get_current_round()
    assert standin.round_number(12) == ROUNDS[12]
    assert standin.open_round(tournament=12) == ROUNDS[12] + 1
    assert capi.get_current_round() == ROUNDS[12] + 1
    assert standin.current_round == ROUNDS[8]  # Classic's knobs are untouched


def test_models_are_listed_with_their_tournament(
    standin: NumeraiStandin,
    napi: numerapi.NumerAPI,
    sapi: numerapi.SignalsAPI,
    capi: numerapi.CryptoAPI,
) -> None:
    assert napi.get_models() == {"classic_model": MODELS["classic_model"]}
    assert sapi.get_models() == {"signals_model": MODELS["signals_model"]}
    assert capi.get_models() == {"crypto_model": MODELS["crypto_model"]}
    model = sapi.raw_query(MODEL, {"id": MODELS["signals_model"]}, authorization=True)
    assert model["data"]["model"]["tournament"] == 11

    new_id = standin.create_model("late_signals", tournament=11)
    assert new_id == model_id_for("late_signals")
    assert sapi.get_models() == {"signals_model": MODELS["signals_model"], "late_signals": new_id}
    assert standin.models_in(11) == sapi.get_models()
    with pytest.raises(ValueError, match="already exists"):
        standin.create_model("late_signals", tournament=12)
    with pytest.raises(ValueError, match="not served"):
        standin.create_model("tournament_99", tournament=99)


def test_signals_and_crypto_list_and_download_their_own_live_files(
    sapi: numerapi.SignalsAPI, capi: numerapi.CryptoAPI, napi: numerapi.NumerAPI, tmp_path: Path
) -> None:
    assert sapi.list_datasets() == [
        f"signals/v2.1/{name}"
        for name in ("features.json", "live.parquet", "train.parquet", "validation.parquet")
    ]
    assert capi.list_datasets()[1] == "crypto/v2.0/live.parquet"
    assert not any(name.startswith(("signals/", "crypto/")) for name in napi.list_datasets())

    signals = pd.read_parquet(
        sapi.download_dataset("signals/v2.1/live.parquet", str(tmp_path / "s.parquet"))
    )
    assert 290 <= len(signals) <= 300 and signals["numerai_ticker"].is_unique
    assert signals["numerai_ticker"].str.fullmatch(r"[A-Z]{2,4} [A-Z]{2}").all()
    assert {"feature_country", "feature_exchange_code"} <= set(signals.columns)
    assert signals.filter(like="feature_").isna().any().any()

    crypto = pd.read_parquet(
        capi.download_dataset("crypto/v2.0/live.parquet", str(tmp_path / "c.parquet"))
    )
    assert 140 <= len(crypto) <= 150
    assert crypto["symbol"].iloc[0] == "BTC" and crypto["symbol"].str.fullmatch(r"[A-Z]{3,4}").all()
    features = json.loads(
        Path(
            capi.download_dataset("crypto/v2.0/features.json", str(tmp_path / "f.json"))
        ).read_text()
    )
    assert features["targets"] == ["target_binned_return_20"]


# -- own data: every id column, Crypto's universe and targets --------------------------------------


def download(api: numerapi.SignalsAPI, name: str, folder: Path) -> pd.DataFrame:
    """One dataset file through numerapi, saved under its dataset name, read back."""
    return pd.read_parquet(api.download_dataset(name, str(folder / name)))


def test_signals_files_carry_every_accepted_id_column_mapped_per_stock(
    sapi: numerapi.SignalsAPI, tmp_path: Path
) -> None:
    live = download(sapi, "signals/v2.1/live.parquet", tmp_path)
    train = download(sapi, "signals/v2.1/train.parquet", tmp_path)
    ids = ["numerai_ticker", "ticker", "bloomberg_ticker", "composite_figi", "sedol"]
    assert list(live.columns[:6]) == [*ids, "date"] and live["date"].nunique() == 1
    assert {*ids, "date", "target"} <= set(train.columns)
    assert all(live[column].dropna().is_unique for column in ids)
    stocks = live.set_index("numerai_ticker")
    assert stocks.loc["AAPL US", ["ticker", "bloomberg_ticker"]].tolist() == ["AAPL", "AAPL US"]
    assert stocks.loc["TM JP", "ticker"] == "TM.T"
    assert live["composite_figi"].str.fullmatch(r"BBG[0-9B-DF-HJ-NP-TV-Z]{8}[0-9]").all()
    figis = live["composite_figi"]
    assert all(synthetic_tournaments.figi_check_digit(f[:11]) == f[11] for f in figis)
    sedols = live["sedol"].dropna()
    assert 0 < live["sedol"].isna().mean() < 0.2  # most stocks have one, as on Numerai
    assert sedols.str.fullmatch(r"[0-9B-DF-HJ-NP-TV-Z]{6}[0-9]").all()
    # The same stock has the same ids in every file.
    both = train.drop_duplicates("numerai_ticker").merge(live, on="numerai_ticker")
    assert len(both) > 0
    for column in ids[1:]:
        pd.testing.assert_series_equal(both[f"{column}_x"], both[f"{column}_y"], check_names=False)


def test_a_signals_submission_keyed_by_any_id_column_is_checked_against_that_column(
    standin: NumeraiStandin, sapi: numerapi.SignalsAPI, tmp_path: Path
) -> None:
    live = download(sapi, "signals/v2.1/live.parquet", tmp_path)
    model_id = MODELS["signals_model"]
    for column in ("composite_figi", "sedol", "ticker"):
        keyed = live[column].dropna().tolist()
        frame = pd.DataFrame({column: keyed, "signal": np.linspace(0.01, 0.99, len(keyed))})
        sapi.upload_predictions(df=frame, model_id=model_id)
        assert standin.submissions()[-1]["rows"] == len(keyed)
    tickers_as_figis = signals_frame(live_tickers(standin)).rename(
        columns={"numerai_ticker": "composite_figi"}
    )
    message = refused(sapi, tickers_as_figis)  # numerai_tickers are not FIGIs
    assert message.startswith("invalid_submission_ids: Not enough stocks submitted.")
    assert re.search(r"\(0 of \d+ submitted ids", message)


def test_crypto_lists_its_v1_universe_and_targets_beside_v2(
    standin: NumeraiStandin, capi: numerapi.CryptoAPI, tmp_path: Path
) -> None:
    listed = capi.list_datasets()
    assert {
        "crypto/v1.0/historical_targets.parquet",
        "crypto/v1.0/live_universe.parquet",
        "crypto/v2.0/live.parquet",
    } <= set(listed)
    universe = download(capi, "crypto/v1.0/live_universe.parquet", tmp_path)
    v2_live = download(capi, "crypto/v2.0/live.parquet", tmp_path)
    assert list(universe.columns) == ["symbol", "date"]
    assert set(universe["symbol"]) == set(v2_live["symbol"]) == standin.live_ids(tournament=12)
    assert universe["date"].unique().tolist() == v2_live["date"].unique().tolist()

    targets = download(capi, "crypto/v1.0/historical_targets.parquet", tmp_path)
    assert list(targets.columns) == ["symbol", "date", "target", "target_binned_return_20"]
    eras = pd.to_datetime(pd.Series(sorted(targets["date"].unique())))
    assert len(eras) == 5 and (eras.diff().dropna() == pd.Timedelta(weeks=1)).all()
    live_date = pd.Timestamp(universe["date"].iloc[0])
    assert eras.iloc[-1] <= live_date - pd.Timedelta(days=20)  # targets need 20 days to resolve
    assert targets["target"].between(0, 1).all() and targets["target"].nunique() == 5
    assert not targets.duplicated(["symbol", "date"]).any()


def test_crypto_v1_listing_serves_only_the_universe_and_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_user = {12: dataclasses.replace(TOURNAMENT_SIZES[12], versions=("v1.0",))}
    with NumeraiStandin(
        tmp_path / "data",
        models={"crypto_model": MODELS["crypto_model"]},
        model_tournaments={"crypto_model": 12},
        tournament_sizes=new_user,
        **CLASSIC_SIZES,
    ) as standin:
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", standin.url)
        capi = _api(numerapi.CryptoAPI, standin)
        assert capi.list_datasets() == [
            "crypto/v1.0/historical_targets.parquet",
            "crypto/v1.0/live_universe.parquet",
        ]
        with pytest.raises(ValueError, match="not found"):
            capi.download_dataset("crypto/v2.0/live.parquet", str(tmp_path / "live.parquet"))
        assert not (tmp_path / "data/crypto/v2.0").exists()
        universe = download(capi, "crypto/v1.0/live_universe.parquet", tmp_path)
        assert set(universe["symbol"]) == standin.live_ids(tournament=12)
        symbols = universe["symbol"].tolist()
        frame = pd.DataFrame({"symbol": symbols, "signal": np.linspace(0.1, 0.9, len(symbols))})
        capi.upload_predictions(df=frame, model_id=MODELS["crypto_model"])
        assert standin.submissions()[0]["rows"] == len(symbols)
        # Each round has its own universe file; history moves on a week.
        before = download(capi, "crypto/v1.0/historical_targets.parquet", tmp_path)
        standin.open_round(tournament=12)
        after = download(capi, "crypto/v1.0/historical_targets.parquet", tmp_path)
        assert after["date"].max() > before["date"].max()
        shared = before.merge(after, on=["symbol", "date"])
        assert len(shared) > 0 and (shared["target_x"] == shared["target_y"]).all()


def test_data_versions_are_picked_per_tournament_and_unknown_ones_refused() -> None:
    assert standin_main.parse_versions(["crypto=v1.0", "12 = v1.0, v2.0"]) == {12: ("v1.0", "v2.0")}
    sizes = standin_main.tournament_sizes({11: 300}, {12: ("v1.0",)})
    assert sizes == {11: TournamentSizes(live_rows=300), 12: TournamentSizes(versions=("v1.0",))}
    with pytest.raises(
        ValueError, match=re.escape("crypto serves data versions v2.0, v1.0, not v9.9")
    ):
        NumeraiStandin(".", tournament_sizes={12: TournamentSizes(versions=("v9.9",))})
    with pytest.raises(ValueError, match=re.escape("signals serves data versions v2.1, not v1.0")):
        NumeraiStandin(".", tournament_sizes={11: TournamentSizes(versions=("v1.0",))})


def test_live_files_rotate_with_their_own_tournament_round(
    standin: NumeraiStandin, data_root: Path
) -> None:
    def live(folder: str) -> bytes:
        return (data_root / folder / "live.parquet").read_bytes()

    for tournament in (11, 12):
        standin.live_ids(tournament=tournament)  # generates the files on first use
    before = {folder: live(folder) for folder in ("v5.2", "signals/v2.1", "crypto/v2.0")}
    classic_ids = standin.live_ids()
    standin.open_round(tournament=11)
    assert live("signals/v2.1") != before["signals/v2.1"]
    assert live("crypto/v2.0") == before["crypto/v2.0"]
    assert live("v5.2") == before["v5.2"] and standin.live_ids() == classic_ids
    standin.open_round()  # Classic: new ids; Signals keeps its round's file
    assert standin.live_ids() != classic_ids
    assert standin.round_number(11) == ROUNDS[11] + 1


# -- uploads --------------------------------------------------------------------------------------


def test_a_valid_signals_upload_is_accepted_for_the_signals_round_with_its_trigger_id(
    standin: NumeraiStandin, sapi: numerapi.SignalsAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIGGER_ID", "trigger-signals-1")
    model_id = MODELS["signals_model"]
    tickers = live_tickers(standin)
    submission_id = sapi.upload_predictions(df=signals_frame(tickers), model_id=model_id)

    [record] = standin.submissions("signals_model")
    assert record["id"] == submission_id and record["status"] == "accepted"
    assert (record["round"], record["tournament"]) == (ROUNDS[11], 11)
    assert record["trigger_id"] == "trigger-signals-1" and record["rows"] == len(tickers)
    listed = sapi.raw_query(SUBMISSIONS, {"modelId": model_id}, authorization=True)
    assert listed["data"]["submissions"] == [
        {
            "id": submission_id,
            "round": {"number": ROUNDS[11], "tournament": 11},
            "triggerId": "trigger-signals-1",
        }
    ]
    assert standin.submissions(tournament=8) == []


def test_signals_create_answers_first_effective_date(
    standin: NumeraiStandin, sapi: numerapi.SignalsAPI
) -> None:
    model_id = MODELS["signals_model"]
    auth = sapi.raw_query(
        SIGNALS_AUTH,
        {"filename": "s.csv", "tournament": 11, "modelId": model_id},
        authorization=True,
    )["data"]["submissionUploadSignalsAuth"]
    body = signals_frame(live_tickers(standin)).to_csv(index=False).encode()
    assert requests.put(auth["url"], data=body, timeout=10).status_code == 200
    created = sapi.raw_query(
        SIGNALS_CREATE, {"filename": auth["filename"], "modelId": model_id}, authorization=True
    )["data"]["createSignalsSubmission"]
    assert created["round"] == {"number": ROUNDS[11], "tournament": 11}
    assert created["firstEffectiveDate"]


def test_a_crypto_upload_goes_through_classics_calls_with_tournament_12(
    standin: NumeraiStandin, capi: numerapi.CryptoAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIGGER_ID", "trigger-crypto-1")
    symbols = live_tickers(standin, 12)
    frame = pd.DataFrame({"symbol": symbols, "signal": np.linspace(0.1, 0.9, len(symbols))})
    # CryptoAPI has no upload of its own: base_api's submission_upload_auth/create_submission.
    capi.upload_predictions(df=frame, model_id=MODELS["crypto_model"])
    [record] = standin.submissions("crypto_model")
    assert (record["round"], record["tournament"], record["status"]) == (ROUNDS[12], 12, "accepted")
    assert record["trigger_id"] == "trigger-crypto-1"
    calls = standin.calls()
    assert calls["submission_upload_auth"] == 1 and calls["create_submission"] == 1


def refused(api: numerapi.SignalsAPI, frame: pd.DataFrame, model: str = "signals_model") -> str:
    with pytest.raises(ValueError) as caught:
        api.upload_predictions(df=frame, model_id=MODELS[model])
    return str(caught.value)


def test_99_valid_tickers_are_refused_naming_the_rule(
    standin: NumeraiStandin, sapi: numerapi.SignalsAPI
) -> None:
    tickers = live_tickers(standin)[:99] + [f"ZZ{i:02d} XX" for i in range(40)]
    message = refused(sapi, signals_frame(tickers))
    assert message.startswith("invalid_submission_ids: Not enough stocks submitted.")
    assert "99 of 139 submitted ids" in message and "at least 100" in message
    [record] = standin.submissions()
    assert record["status"] == "rejected" and record["reason"] == message


def test_100_valid_tickers_pass_and_unknown_ones_are_dropped(
    standin: NumeraiStandin, sapi: numerapi.SignalsAPI
) -> None:
    tickers = [*live_tickers(standin)[:100], "NOPE XX"]
    sapi.upload_predictions(df=signals_frame(tickers), model_id=MODELS["signals_model"])
    assert standin.submissions()[0]["rows"] == 100


def test_duplicate_tickers_are_refused(standin: NumeraiStandin, sapi: numerapi.SignalsAPI) -> None:
    tickers = live_tickers(standin)
    message = refused(sapi, signals_frame(tickers + tickers[:2]))
    assert message.startswith(
        "invalid_submission_ids: Duplicates detected in numerai_ticker for live period."
    )
    assert "2 ids appear more than once" in message


def test_nan_signal_is_refused(standin: NumeraiStandin, sapi: numerapi.SignalsAPI) -> None:
    frame = signals_frame(live_tickers(standin))
    frame.loc[3, "signal"] = np.nan
    message = refused(sapi, frame)
    assert message.startswith("invalid_submission_values: submission must not contain NaNs")


def test_values_outside_0_1_and_constant_values_are_refused(
    standin: NumeraiStandin, capi: numerapi.CryptoAPI
) -> None:
    symbols = live_tickers(standin, 12)
    frame = pd.DataFrame({"symbol": symbols, "prediction": np.linspace(0.5, 1.5, len(symbols))})
    assert "between 0 and 1" in refused(capi, frame, "crypto_model")
    frame["prediction"] = 0.5
    assert "non-zero standard deviation" in refused(capi, frame, "crypto_model")


def test_headers_must_be_one_id_and_one_prediction_column(
    standin: NumeraiStandin, sapi: numerapi.SignalsAPI, capi: numerapi.CryptoAPI
) -> None:
    tickers = live_tickers(standin)
    frame = pd.DataFrame({"id": tickers, "prediction": np.linspace(0, 1, len(tickers))})
    message = refused(sapi, frame)
    assert message.startswith("invalid_submission_headers:") and "numerai_ticker" in message
    symbols = live_tickers(standin, 12)
    frame = pd.DataFrame({"numerai_ticker": symbols, "signal": np.linspace(0, 1, len(symbols))})
    assert "['symbol']" in refused(capi, frame, "crypto_model")
    # Signals tolerates a date column and other accepted id columns.
    frame = signals_frame(tickers).rename(columns={"numerai_ticker": "bloomberg_ticker"})
    frame.insert(1, "friday_date", 20261127)
    sapi.upload_predictions(df=frame, model_id=MODELS["signals_model"])


def test_a_signals_submission_while_only_classic_is_open_is_refused(
    standin: NumeraiStandin, sapi: numerapi.SignalsAPI, napi: numerapi.NumerAPI
) -> None:
    standin.close_round(tournament=11)
    assert napi.check_round_open() and not sapi.check_round_open()
    message = refused(sapi, signals_frame(live_tickers(standin)))
    assert message == "Current round not open for submissions"
    assert standin.submissions() == []


def test_a_model_submits_only_to_its_own_tournament_with_its_own_calls(
    standin: NumeraiStandin, napi: numerapi.NumerAPI, sapi: numerapi.SignalsAPI
) -> None:
    frame = signals_frame(live_tickers(standin))
    with pytest.raises(ValueError, match=r"is a Signals model .*cannot submit to Classic"):
        napi.upload_predictions(df=frame, model_id=MODELS["signals_model"])
    with pytest.raises(ValueError, match=r"is a Classic model .*cannot submit to Signals"):
        sapi.upload_predictions(df=frame, model_id=MODELS["classic_model"])
    crypto_via_signals = {"filename": "p.csv", "tournament": 12, "modelId": MODELS["crypto_model"]}
    with pytest.raises(ValueError, match="Crypto models submit with submission_upload_auth"):
        sapi.raw_query(SIGNALS_AUTH, crypto_via_signals, authorization=True)
    with pytest.raises(ValueError, match="Signals models submit with submissionUploadSignalsAuth"):
        sapi._upload_auth("submissionUploadAuth", "p.csv", 11, MODELS["signals_model"])
    assert standin.submissions() == []


# -- webhooks and scores --------------------------------------------------------------------------


def test_a_signals_models_webhook_fires_with_the_signals_round(
    standin: NumeraiStandin, sapi: numerapi.SignalsAPI
) -> None:
    model_id = MODELS["signals_model"]
    with Receiver() as receiver:
        assert sapi.set_submission_webhook(model_id, receiver.url)
        trigger = sapi.raw_query(TRIGGER, {"modelId": model_id}, authorization=True)
        trigger_id = trigger["data"]["triggerModelWebhook"]
        standin.wait_for_deliveries(1)
        standin.open_round()  # Classic's round opens: no Signals webhook
        standin.open_round(tournament=11)
        deliveries = standin.wait_for_deliveries(2)
    assert [(d["tournament"], d["payload"]["roundNumber"]) for d in deliveries] == [
        (11, ROUNDS[11]),
        (11, ROUNDS[11] + 1),
    ]
    assert receiver.received[0]["triggerId"] == trigger_id and receiver.received[0]["isTest"]
    assert receiver.received[1]["isTest"] is False
    assert all(d["status"] == 200 for d in deliveries)


def test_scores_answer_for_signals_and_crypto_models(
    standin: NumeraiStandin,
    sapi: numerapi.SignalsAPI,
    napi: numerapi.NumerAPI,
    capi: numerapi.CryptoAPI,
) -> None:
    model_id = MODELS["signals_model"]
    sapi.upload_predictions(df=signals_frame(live_tickers(standin)), model_id=model_id)
    assert sapi.submission_scores(model_id) == []
    standin.resolve_round(ROUNDS[11], tournament=11)
    scores = sapi.submission_scores(model_id)
    assert {row["roundNumber"] for row in scores} == {ROUNDS[11]} and len(scores) == 3
    with pytest.warns(DeprecationWarning):
        [performance] = sapi.round_model_performances_v2(model_id)
    assert performance["roundNumber"] == ROUNDS[11] and performance["roundResolved"]
    assert napi.submission_scores(model_id) == []  # asked as Classic: nothing, no error
    assert capi.submission_scores(MODELS["crypto_model"]) == []
    [payout] = sapi.pending_model_payouts()["actual"]
    assert payout["modelName"] == "signals_model" and payout["roundNumber"] == ROUNDS[11]
    assert napi.pending_model_payouts() == {"actual": [], "pending": []}


# -- knobs over HTTP, the process, the data -------------------------------------------------------


def test_admin_knobs_drive_each_tournament(standin: NumeraiStandin) -> None:
    admin = StandinAdmin(standin.url)
    model_id = admin.create_model("admin_signals", tournament="signals")
    assert admin.models()["admin_signals"] == {"id": model_id, "tournament": 11}
    assert admin.open_round(tournament=11) == ROUNDS[11] + 1
    admin.close_round(tournament=12)
    assert admin.round_number(11) == ROUNDS[11] + 1 and admin.is_round_open(11)
    assert not admin.is_round_open(12) and admin.is_round_open()
    assert admin.live_ids(tournament=12) == standin.live_ids(tournament=12)
    admin.set_round_times(tournament=11, close_time="2000-01-01T00:00:00Z")
    assert not standin.is_round_open(11)
    assert admin.submissions(tournament=11) == []
    summary = admin.state_summary()["tournaments"]
    assert summary["12"]["round"] == ROUNDS[12] and "admin_signals" in summary["11"]["models"]


def test_command_line_names_models_tournaments_and_rounds() -> None:
    items = ["classic", "sig@signals", f"cry={model_id_for('x')}@12"]
    assert standin_main.parse_models(items)["cry"] == model_id_for("x")
    assert standin_main.parse_model_tournaments(items) == {"sig": "signals", "cry": "12"}
    assert standin_main.parse_pairs(["11=710", "12=310"]) == {11: 710, 12: 310}


def test_synthetic_data_is_deterministic_by_seed(tmp_path: Path) -> None:
    shape = dataclasses.replace(synthetic_tournaments.SIGNALS, live_rows=120, n_features=6)

    def write(root: Path, seed: int) -> pd.DataFrame:
        synthetic_tournaments.write_dataset(
            root, shape, seed=seed, round_number=5, train_eras=2, validation_eras=1, ids_per_era=30
        )
        return pd.read_parquet(root / "signals/v2.1/train.parquet")

    first, again = write(tmp_path / "a", 1), write(tmp_path / "b", 1)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(write(tmp_path / "c", 2))
    assert first["feature_country"].isna().any() and first["target"].between(0, 1).all()
    live = pd.read_parquet(tmp_path / "a/signals/v2.1/live.parquet")
    assert set(live["numerai_ticker"]) <= set(synthetic_tournaments.universe(shape, 1))


# -- the rules match numerai-tools ----------------------------------------------------------------


UNIVERSE = [f"T{i:03d} US" for i in range(150)]


def tools_verdict(frame: pd.DataFrame, crypto: bool) -> str:
    """numerai-tools' verdict: "ok" or the rule's prefix."""
    from numerai_tools import submissions as tools

    if crypto:
        universe = pd.DataFrame({"symbol": UNIVERSE})
        check = tools.validate_submission_crypto
    else:
        universe = pd.DataFrame({col: UNIVERSE for col in tools.SIGNALS_ALLOWED_ID_COLS})
        check = tools.validate_submission_signals
    parsed = pd.read_csv(io.BytesIO(frame.to_csv(index=False).encode()), dtype={0: str})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numerai-tools' inplace drop under pandas 3
            check(universe, parsed)
    except AssertionError as err:
        return str(err).split(":")[0] + ":" + str(err).split(":")[1][:20]
    return "ok"


def our_verdict(frame: pd.DataFrame, crypto: bool) -> str:
    rules = signals_validation.CRYPTO_RULES if crypto else signals_validation.SIGNALS_RULES
    content = frame.to_csv(index=False).encode()
    try:
        signals_validation.validate(content, rules, frozenset(UNIVERSE), 1)
    except SubmissionInvalid as err:
        return str(err).split(":")[0] + ":" + str(err).split(":")[1][:20]
    return "ok"


# 0.6x the profile: each example validates a whole submission twice (ours and numerai_tools).
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    crypto=st.booleans(),
    id_column=st.sampled_from(["numerai_ticker", "ticker", "symbol", "id"]),
    value_column=st.sampled_from(["signal", "prediction", "probability"]),
    valid=st.integers(90, 150),
    unknown=st.integers(0, 20),
    duplicates=st.integers(0, 2),
    nans=st.integers(0, 2),
    low=st.sampled_from([0.0, 0.2, -0.1]),
    high=st.sampled_from([1.0, 0.8, 1.1, 0.2]),
)
def test_signals_and_crypto_rules_give_numerai_tools_verdicts(
    crypto: bool,
    id_column: str,
    value_column: str,
    valid: int,
    unknown: int,
    duplicates: int,
    nans: int,
    low: float,
    high: float,
) -> None:
    ids = UNIVERSE[:valid] + [f"X{i:03d} XX" for i in range(unknown)] + UNIVERSE[:duplicates]
    values = np.linspace(low, high, len(ids))
    values[:nans] = np.nan
    frame = pd.DataFrame({id_column: ids, value_column: values})
    assert our_verdict(frame, crypto) == tools_verdict(frame, crypto)
