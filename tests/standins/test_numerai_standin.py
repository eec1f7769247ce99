"""The Numerai stand-in against the real, unmodified numerapi client over real HTTP.

Each test gets a fresh stand-in (its own port and state) on a shared, small data folder.
numerapi retries HTTP 5xx with 5-second sleeps, so 5xx tests pass ``retries``/``delay``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numerapi
import numerapi.base_api
import numpy as np
import pandas as pd
import pytest
import requests

from standins.numerai import NumeraiStandin, StandinAdmin, model_id_for
from standins.numerai.validation import SubmissionInvalid, validate_submission

SIZES = {
    "live_rows": 200,
    "n_features": 60,
    "train_eras": 4,
    "validation_eras": 2,
    "rows_per_era": 20,
}
ROUND = 1100
ROOT = Path(__file__).resolve().parents[2]

UPLOAD_AUTH_CAMEL = """
query($filename: String!, $tournament: Int!, $modelId: String) {
  submissionUploadAuth(filename: $filename, tournament: $tournament, modelId: $modelId) {
    filename
    url
  }
}"""
CREATE_CAMEL = """
mutation($filename: String!, $tournament: Int!, $modelId: String, $triggerId: String) {
  createSubmission(filename: $filename, tournament: $tournament, modelId: $modelId,
                   triggerId: $triggerId, source: "test") { id }
}"""
SUBMISSIONS = """
query($modelId: String) {
  submissions(modelId: $modelId) { id round { number tournament } triggerId insertedAt }
}"""
TRIGGER = "mutation($modelId: String!) { triggerModelWebhook(modelId: $modelId) }"
CURRENT_ROUND = "query { rounds(tournament: 8, number: 0) { number openTime closeStakingTime } }"


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("numerai-data")


@pytest.fixture
def standin(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NumeraiStandin]:
    for name in ("TRIGGER_ID", "NUMERAI_PUBLIC_ID", "NUMERAI_SECRET_KEY", "NUMERAI_COMPUTE_ID"):
        monkeypatch.delenv(name, raising=False)
    with NumeraiStandin(data_root, round_number=ROUND, **SIZES) as running:
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", running.url)
        yield running


@pytest.fixture
def napi(standin: NumeraiStandin) -> numerapi.NumerAPI:
    return numerapi.NumerAPI(
        public_id=standin.public_id,
        secret_key=standin.secret_key,
        verbosity="critical",
        show_progress_bars=False,
    )


@pytest.fixture
def model_id(standin: NumeraiStandin) -> str:
    return standin.models["demo_model"]


def valid_predictions(standin: NumeraiStandin) -> pd.DataFrame:
    ids = sorted(standin.live_ids())
    return pd.DataFrame({"id": ids, "prediction": np.linspace(0.01, 0.99, len(ids))})


class Receiver:
    """A local webhook target that records POSTed JSON and answers a chosen status."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[dict] = []
        self.event = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(json.loads(body))
                answer = json.dumps({"accepted": outer.status == 200}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                outer.event.set()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook?token=s3cret"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- rounds, models, datasets ---------------------------------------------------------------------


def test_get_models_maps_names_to_uuids(napi: numerapi.NumerAPI, standin: NumeraiStandin) -> None:
    assert napi.get_models() == standin.models
    assert napi.get_models(tournament=11) == {}
    assert standin.models["demo_model"] == model_id_for("demo_model")


def test_get_account_and_model_name(napi: numerapi.NumerAPI, model_id: str) -> None:
    account = napi.get_account()
    assert {m["name"] for m in account["models"]} == {"demo_model", "demo_model_2"}
    assert account["availableNmr"] > 0
    assert napi.modelid_to_modelname(model_id) == "demo_model"


def test_current_round_and_open_check(napi: numerapi.NumerAPI, standin: NumeraiStandin) -> None:
    assert napi.get_current_round() == ROUND
    assert napi.check_round_open() is True
    raw = napi.raw_query(CURRENT_ROUND)["data"]["rounds"][0]
    assert raw["openTime"].endswith("Z") and raw["closeStakingTime"].endswith("Z")
    assert dt.datetime.fromisoformat(raw["openTime"]) < dt.datetime.now(tz=dt.UTC)


def test_closed_round_is_an_error_and_check_round_open_false(
    napi: numerapi.NumerAPI, standin: NumeraiStandin
) -> None:
    standin.close_round()
    assert napi.check_round_open() is False
    with pytest.raises(ValueError, match=r"^Current round not open for submissions$"):
        napi.get_current_round()
    standin.open_round(ROUND, trigger_webhooks=False)
    assert napi.get_current_round() == ROUND


def test_staking_deadline_passed_reads_closed_to_numerapi(
    napi: numerapi.NumerAPI, standin: NumeraiStandin
) -> None:
    past = dt.datetime.now(tz=dt.UTC) - dt.timedelta(minutes=1)
    standin.set_round_times(close_staking_time=past)
    assert napi.get_current_round() == ROUND  # still the current round
    assert napi.check_round_open() is False  # numerapi compares with closeStakingTime


def test_open_round_rotates_live_ids(napi: numerapi.NumerAPI, standin: NumeraiStandin) -> None:
    before = standin.live_ids()
    assert standin.open_round() == ROUND + 1
    assert napi.get_current_round() == ROUND + 1
    after = standin.live_ids()
    assert len(after) == SIZES["live_rows"] and not before & after
    assert [r["number"] for r in napi.list_rounds()] == [ROUND + 1, ROUND]


def test_list_datasets(napi: numerapi.NumerAPI) -> None:
    files = napi.list_datasets()
    for name in ("features.json", "live.parquet", "train.parquet", "validation.parquet"):
        assert f"v5.2/{name}" in files
    assert not any("standin" in f for f in files)


def test_benchmark_and_meta_model_files_are_served_for_the_live_ids(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, tmp_path: Path
) -> None:
    files = napi.list_datasets()
    for name in (
        "live_benchmark_models.parquet",
        "validation_benchmark_models.parquet",
        "meta_model.parquet",
    ):
        assert f"v5.2/{name}" in files
    dest = napi.download_dataset(
        "v5.2/live_benchmark_models.parquet", str(tmp_path / "live_benchmark_models.parquet")
    )
    benchmarks = pd.read_parquet(dest)
    assert set(benchmarks.index) == set(standin.live_ids())
    assert "v52_lgbm_ender20" in benchmarks.columns
    assert benchmarks.min().min() > 0 and benchmarks.max().max() <= 1
    meta = pd.read_parquet(napi.download_dataset("v5.2/meta_model.parquet", str(tmp_path / "m.p")))
    assert list(meta.columns) == ["numerai_meta_model"]


def test_download_round_trip_and_range_resume(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, data_root: Path, tmp_path: Path
) -> None:
    source = (data_root / "v5.2" / "live.parquet").read_bytes()
    dest = napi.download_dataset("v5.2/live.parquet", str(tmp_path / "a" / "live.parquet"))
    assert Path(dest).read_bytes() == source
    assert pd.read_parquet(dest).index.size == SIZES["live_rows"]

    partial = tmp_path / "b" / "live.parquet"
    partial.parent.mkdir()
    Path(f"{partial}.temp").write_bytes(source[: len(source) // 2])
    napi.download_dataset("v5.2/live.parquet", str(partial))
    assert partial.read_bytes() == source
    assert standin.calls()["GET file"] == 3  # one full GET, then a GET and a Range GET


def test_range_requests_answer_206_and_416(napi: numerapi.NumerAPI, data_root: Path) -> None:
    query = 'query { dataset(filename: "v5.2/features.json") }'
    url = napi.raw_query(query)["data"]["dataset"]
    size = (data_root / "v5.2" / "features.json").stat().st_size
    whole = requests.get(url, timeout=5)
    assert whole.status_code == 200 and int(whole.headers["Content-Length"]) == size
    part = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=5)
    assert part.status_code == 206 and part.content == whole.content[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{size}"
    beyond = requests.get(url, headers={"Range": f"bytes={size}-"}, timeout=5)
    assert beyond.status_code == 416


def test_several_data_versions_share_live_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with NumeraiStandin(tmp_path, ["v5.0", "v5.2"], **SIZES) as running:
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", running.url)
        files = numerapi.NumerAPI(verbosity="critical").list_datasets()
        assert "v5.0/live.parquet" in files and "v5.2/live.parquet" in files
        assert running.live_ids("v5.0") == running.live_ids("v5.2")
        marker = json.loads((tmp_path / "v5.2" / ".standin.json").read_text())
        assert marker["live_round"] == running.current_round


def test_unknown_dataset_is_a_graphql_error(napi: numerapi.NumerAPI, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        napi.download_dataset("v5.2/nope.parquet", str(tmp_path / "x"))


# -- submissions ----------------------------------------------------------------------------------


def test_upload_csv_file_records_trigger_id(
    napi: numerapi.NumerAPI,
    standin: NumeraiStandin,
    model_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIGGER_ID", "trigger-123")
    path = tmp_path / "predictions.csv"
    valid_predictions(standin).to_csv(path, index=False)
    submission_id = napi.upload_predictions(str(path), model_id=model_id)

    [record] = standin.submissions()
    assert record["id"] == submission_id and record["status"] == "accepted"
    assert record["model_name"] == "demo_model" and record["round"] == ROUND
    assert record["rows"] == SIZES["live_rows"] and record["trigger_id"] == "trigger-123"
    assert record["source"] == "numerapi" and record["filename"].endswith("/predictions.csv")
    assert standin.submission_csv(submission_id) == path.read_bytes()

    listed = napi.raw_query(SUBMISSIONS, {"modelId": model_id}, authorization=True)
    [entry] = listed["data"]["submissions"]
    assert entry["triggerId"] == "trigger-123"
    assert entry["round"] == {"number": ROUND, "tournament": 8}
    assert [s["id"] for s in napi.submission_ids(model_id)] == [submission_id]


def test_upload_dataframe(napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str) -> None:
    submission_id = napi.upload_predictions(df=valid_predictions(standin), model_id=model_id)
    [record] = standin.submissions()
    assert record["id"] == submission_id and record["trigger_id"] is None


def test_probability_column_is_accepted(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    frame = valid_predictions(standin).rename(columns={"prediction": "probability"})
    napi.upload_predictions(df=frame, model_id=model_id)
    assert standin.submissions()[0]["status"] == "accepted"


def _break(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    if kind == "nan":
        frame.loc[5, "prediction"] = np.nan
    elif kind == "duplicate":
        frame.loc[len(frame) - 1, "id"] = frame.loc[0, "id"]
    elif kind == "missing":
        frame = frame.iloc[5:]
    elif kind == "extra":
        frame = pd.concat([frame, pd.DataFrame({"id": ["nffffffffffffff"], "prediction": [0.5]})])
    elif kind == "range":
        frame.loc[3, "prediction"] = 1.5
    elif kind == "constant":
        frame["prediction"] = 0.5
    elif kind == "header":
        frame = frame.rename(columns={"prediction": "pred"})
    elif kind == "extra_column":
        frame["era"] = "X"
    return frame


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("nan", r"invalid_submission_values: submission must not contain NaNs"),
        ("duplicate", r"invalid_submission_ids: 1 ids appear more than once"),
        ("missing", r"invalid_submission_ids: 5 of 200 live ids of round 1100 are missing"),
        ("extra", r"invalid_submission_ids: 1 ids are not in the live data of round 1100"),
        ("range", r"invalid_submission_values: values must be between 0 and 1"),
        ("constant", r"non-zero standard deviation"),
        ("header", r"invalid_submission_headers: .*got id,pred$"),
        ("extra_column", r"invalid_submission_headers: .*got id,prediction,era$"),
    ],
)
def test_invalid_submissions_are_rejected(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str, kind: str, message: str
) -> None:
    frame = _break(kind, valid_predictions(standin))
    with pytest.raises(ValueError, match=message):
        napi.upload_predictions(df=frame, model_id=model_id)
    [record] = standin.submissions()
    assert record["status"] == "rejected"
    assert re.search(message, record["reason"])
    assert napi.submission_ids(model_id) == []


def test_submission_with_last_rounds_ids_is_rejected(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    stale = valid_predictions(standin)
    standin.open_round(trigger_webhooks=False)
    with pytest.raises(ValueError, match="not in the live data of round 1101"):
        napi.upload_predictions(df=stale, model_id=model_id)


def test_closed_round_refuses_submissions(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    standin.close_round()
    with pytest.raises(ValueError, match=r"^Current round not open for submissions$"):
        napi.upload_predictions(df=valid_predictions(standin), model_id=model_id)


def test_dropped_put_fails_at_create_submission(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    standin.set_put_behaviour("drop", times=1)
    with pytest.raises(ValueError, match=r"^upload not found"):
        napi.upload_predictions(df=valid_predictions(standin), model_id=model_id)
    assert standin.submissions() == []
    napi.upload_predictions(df=valid_predictions(standin), model_id=model_id)  # back to ok
    assert standin.submissions()[0]["status"] == "accepted"


def test_rejected_put_answers_s3_xml_and_numerapi_ignores_it(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    auth = napi.raw_query(
        UPLOAD_AUTH_CAMEL,
        {"filename": "p.csv", "tournament": 8, "modelId": model_id},
        authorization=True,
    )["data"]["submissionUploadAuth"]
    standin.set_put_behaviour("reject", status=500)
    answer = requests.put(auth["url"], data=b"id,prediction\n", timeout=5)
    assert answer.status_code == 500 and "<Code>InternalError</Code>" in answer.text
    standin.set_put_behaviour("reject")
    answer = requests.put(auth["url"], data=b"id,prediction\n", timeout=5)
    assert answer.status_code == 403 and "<Code>AccessDenied</Code>" in answer.text
    with pytest.raises(ValueError, match=r"^upload not found"):
        napi.upload_predictions(df=valid_predictions(standin), model_id=model_id)


def test_upload_url_is_single_use(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    auth = napi.raw_query(
        UPLOAD_AUTH_CAMEL,
        {"filename": "p.csv", "tournament": 8, "modelId": model_id},
        authorization=True,
    )["data"]["submissionUploadAuth"]
    first = requests.put(auth["url"], data=b"a", timeout=5)
    assert first.status_code == 200 and first.headers["ETag"]
    assert requests.put(auth["url"], data=b"a", timeout=5).status_code == 403


def test_slow_put_still_stores(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    standin.set_put_behaviour("slow", delay=0.3)
    started = time.monotonic()
    napi.upload_predictions(df=valid_predictions(standin), model_id=model_id)
    assert time.monotonic() - started >= 0.3
    assert standin.submissions()[0]["status"] == "accepted"


def test_camel_case_spellings(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    auth = napi.raw_query(
        UPLOAD_AUTH_CAMEL,
        {"filename": "preds.csv", "tournament": 8, "modelId": model_id},
        authorization=True,
    )["data"]["submissionUploadAuth"]
    body = valid_predictions(standin).to_csv(index=False).encode()
    assert requests.put(auth["url"], data=body, timeout=5).status_code == 200
    created = napi.raw_query(
        CREATE_CAMEL,
        {"filename": auth["filename"], "tournament": 8, "modelId": model_id, "triggerId": "t-9"},
        authorization=True,
    )["data"]["createSubmission"]
    [record] = standin.submissions()
    assert created["id"] == record["id"] and record["trigger_id"] == "t-9"
    assert record["source"] == "test"
    calls = standin.calls()
    assert calls["submissionUploadAuth"] == 1 and calls["createSubmission"] == 1


def test_model_id_required_for_multi_model_accounts(
    napi: numerapi.NumerAPI, standin: NumeraiStandin
) -> None:
    with pytest.raises(ValueError, match="modelId is required"):
        napi.upload_predictions(df=valid_predictions(standin))
    with pytest.raises(ValueError, match="not found in this account"):
        napi.upload_predictions(df=valid_predictions(standin), model_id=model_id_for("other"))


# -- auth, faults, GraphQL errors -----------------------------------------------------------------


def test_wrong_key_is_refused(standin: NumeraiStandin) -> None:
    wrong = numerapi.NumerAPI(standin.public_id, "not-the-secret", verbosity="critical")
    with pytest.raises(ValueError, match=r"^Invalid API key"):
        wrong.get_models()
    assert wrong.get_current_round() == ROUND  # public queries need no key


def test_missing_key_is_refused(napi: numerapi.NumerAPI) -> None:
    with pytest.raises(ValueError, match=r"^Not authenticated"):
        napi.raw_query("query { account { id } }")  # no Authorization header sent


def test_5xx_knob(napi: numerapi.NumerAPI, standin: NumeraiStandin) -> None:
    standin.fail_next(1, status=503)
    assert napi.raw_query(CURRENT_ROUND, retries=1) == {}  # numerapi swallows the 503
    standin.fail_next(1, status=502)
    answer = napi.raw_query(CURRENT_ROUND, retries=2, delay=0)  # numerapi's own retry
    assert answer["data"]["rounds"][0]["number"] == ROUND
    assert standin.calls()["rounds"] == 3


def test_5xx_knob_for_one_operation(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    standin.fail_next(1, status=500, operation="create_submission")  # also hits createSubmission
    assert napi.get_current_round() == ROUND
    auth = napi.raw_query(
        UPLOAD_AUTH_CAMEL,
        {"filename": "p.csv", "tournament": 8, "modelId": model_id},
        authorization=True,
    )["data"]["submissionUploadAuth"]
    body = valid_predictions(standin).to_csv(index=False).encode()
    requests.put(auth["url"], data=body, timeout=5)
    variables = {"filename": auth["filename"], "tournament": 8, "modelId": model_id}
    assert napi.raw_query(CREATE_CAMEL, variables, authorization=True, retries=1) == {}
    created = napi.raw_query(CREATE_CAMEL, variables, authorization=True, retries=1)
    assert created["data"]["createSubmission"]["id"] == standin.submissions()[0]["id"]
    assert standin.calls()["createSubmission"] == 2


def test_delay_knob(napi: numerapi.NumerAPI, standin: NumeraiStandin) -> None:
    standin.set_delay(0.3, operation="rounds")
    started = time.monotonic()
    napi.list_datasets()
    assert time.monotonic() - started < 0.3
    napi.get_current_round()
    assert time.monotonic() - started >= 0.3


def test_graphql_validation_and_syntax_errors(napi: numerapi.NumerAPI) -> None:
    with pytest.raises(ValueError, match="Cannot query field 'nope'"):
        napi.raw_query("query { nope }")
    with pytest.raises(ValueError, match="Syntax Error"):
        napi.raw_query("query { rounds(")
    raw = requests.post(numerapi.base_api.API_TOURNAMENT_URL, json={"query": "{ nope }"}, timeout=5)
    assert raw.status_code == 200 and raw.json()["data"] is None


# -- webhooks -------------------------------------------------------------------------------------


def test_webhook_registration_trigger_and_round_open(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    with Receiver() as receiver:
        assert napi.set_submission_webhook(model_id, receiver.url) is True
        assert standin.webhooks() == {"demo_model": receiver.url}
        trigger_id = napi.raw_query(TRIGGER, {"modelId": model_id}, authorization=True)["data"][
            "triggerModelWebhook"
        ]
        [delivery] = standin.wait_for_deliveries(1, timeout=5)
        assert receiver.received == [
            {"roundNumber": ROUND, "dataVersion": 5, "triggerId": trigger_id, "isTest": True}
        ]
        assert delivery["status"] == 200 and delivery["trigger_id"] == trigger_id
        assert json.loads(delivery["body"]) == {"accepted": True}

        receiver.status = 500
        new_round = standin.open_round()
        deliveries = standin.wait_for_deliveries(2, timeout=5)
        assert receiver.received[-1]["isTest"] is False
        assert receiver.received[-1]["roundNumber"] == new_round
        assert deliveries[-1]["status"] == 500

    assert napi.set_submission_webhook(model_id, None) is True
    assert standin.webhooks() == {}
    with pytest.raises(ValueError, match="no submission webhook"):
        napi.raw_query(TRIGGER, {"modelId": model_id}, authorization=True)


def test_unreachable_webhook_records_the_error(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    with Receiver() as receiver:
        url = receiver.url
    napi.set_submission_webhook(model_id, url)  # receiver is gone now
    napi.raw_query(TRIGGER, {"modelId": model_id}, authorization=True)
    [delivery] = standin.wait_for_deliveries(1, timeout=5)
    assert delivery["status"] is None and "Error" in delivery["error"]


def test_invalid_webhook_url(napi: numerapi.NumerAPI, model_id: str) -> None:
    with pytest.raises(ValueError, match="Invalid webhook URL"):
        napi.set_submission_webhook(model_id, "ftp://example.com/x")


# -- scores ---------------------------------------------------------------------------------------


def test_scores_after_resolution(
    napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str
) -> None:
    submission_id = napi.upload_predictions(df=valid_predictions(standin), model_id=model_id)
    assert napi.submission_scores(model_id) == []
    assert napi.pending_model_payouts()["pending"][0]["roundNumber"] == ROUND

    standin.open_round(trigger_webhooks=False)
    standin.resolve_round(ROUND)
    scores = napi.submission_scores(model_id)
    assert {s["displayName"] for s in scores} == {"v2_corr20", "mmc", "bmc"}
    assert all(s["roundNumber"] == ROUND and s["resolved"] for s in scores)
    assert all(s["submissionId"] == submission_id for s in scores)
    assert napi.submission_scores(model_id) == scores  # deterministic
    [corr] = napi.submission_scores(model_id, display_name="v2_corr20")
    assert -0.05 <= corr["value"] <= 0.08

    [payout] = napi.pending_model_payouts()["actual"]
    assert payout["modelName"] == "demo_model" and payout["roundNumber"] == ROUND
    with pytest.warns(DeprecationWarning):
        [performance] = napi.round_model_performances_v2(model_id)
    assert performance["roundResolved"] is True
    assert len(performance["submissionScores"]) == 3


# -- admin endpoints and process mode -------------------------------------------------------------


def test_admin_endpoints(napi: numerapi.NumerAPI, standin: NumeraiStandin, model_id: str) -> None:
    admin = StandinAdmin(standin.url)
    admin.close_round()
    assert napi.check_round_open() is False
    assert admin.open_round(ROUND, trigger_webhooks=False) == ROUND
    assert admin.live_ids() == standin.live_ids()
    admin.fail_next(1, status=503, operation="rounds")
    assert napi.raw_query(CURRENT_ROUND, retries=1) == {}
    admin.set_put_behaviour("drop", times=1)
    with pytest.raises(ValueError, match="upload not found"):
        napi.upload_predictions(df=valid_predictions(standin), model_id=model_id)
    napi.upload_predictions(df=valid_predictions(standin), model_id=model_id)
    [accepted] = [s for s in admin.submissions() if s["status"] == "accepted"]
    assert admin.submission_csv(accepted["id"]) == standin.submission_csv(accepted["id"])
    assert admin.calls()["rounds"] >= 2
    summary = admin.state_summary()
    assert summary["round"]["number"] == ROUND and summary["round_open"] is True
    admin.set_round_times(close_time="2000-01-01T00:00:00Z")
    assert standin.is_round_open() is False
    admin.reset_knobs()
    assert admin.calls() == {}
    assert admin.wait_for_deliveries(0) == []


def test_run_as_a_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = [f"--{key.replace('_', '-')}={value}" for key, value in SIZES.items()]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'handlers'}{os.pathsep}{ROOT}"}
    command = [sys.executable, "-m", "standins.numerai", "--port", "0", "--data", str(tmp_path)]
    process = subprocess.Popen(
        [*command, "--round", "42", "--public-id", "PUB", "--secret-key", "SEC", *sizes],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", url)
        napi = numerapi.NumerAPI("PUB", "SEC", verbosity="critical")
        assert napi.get_current_round() == 42
        assert set(napi.get_models()) == {"demo_model", "demo_model_2"}
        StandinAdmin(url).close_round()
        assert napi.check_round_open() is False
    finally:
        process.terminate()
        assert process.wait(10) == 0


# -- validation rules directly --------------------------------------------------------------------


def test_validate_submission_directly() -> None:
    live = frozenset({"n1", "n2", "n3"})
    assert validate_submission(b"id,prediction\nn1,0.1\nn2,0.2\nn3,0.3\n", live, 7) == 3
    with pytest.raises(SubmissionInvalid, match="could not read CSV"):
        validate_submission(b"", live, 7)
    with pytest.raises(SubmissionInvalid, match="NaN or non-numeric"):
        validate_submission(b"id,prediction\nn1,abc\nn2,0.2\nn3,0.3\n", live, 7)
    with pytest.raises(SubmissionInvalid, match="has no rows"):
        validate_submission(b"id,prediction\n", live, 7)
