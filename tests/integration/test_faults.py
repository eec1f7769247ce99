"""Fault injection: every kind of bad input or broken dependency docs/faults.md lists.

Each test breaks one thing on the local stand-ins (moto for AWS, the Numerai stand-in, the
webhook over real HTTP) and checks the three outcomes that matter to a user who stakes on
the round:

* what was uploaded: the stand-in's own records, accepted or rejected (ground truth);
* what the ledger holds: DynamoDB (moto) through ``DynamoLedger``;
* what was logged: the powertools JSON stream of the worker and the webhook.

The promise: a clear error naming the model and the cause, no upload of bad predictions,
other models unaffected, the ledger says what happened. The ``logs`` fixture also checks,
after every test, that no token or key reached a log line. docs/faults.md lists the cases.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import onnx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from botocore.config import Config
from onnx import TensorProto, helper, numpy_helper

import webhook
import worker
from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.adapters.model_store import S3ModelStore, open_model_store
from numerai_bot.adapters.numerai_client import SettlePolling
from numerai_bot.config import WorkerSettings
from numerai_bot.events import WorkerRequest
from numerai_bot.inference import ModelCache
from numerai_bot.ledger import LedgerRecord
from numerai_bot.model_metadata import ModelMetadata
from numerai_bot.outcomes import RoundResult
from numerai_bot.retry import RetryPolicy
from numerai_bot.round.runner import RoundRunner
from numerai_bot.wiring import build_runner
from standins.local_bot import LocalBot
from standins.local_lambda import LocalContext
from standins.onnx_models import linear_model
from tests.integration.conftest import MODELS, accepted
from tests.unit.fakes import runner_with

# Retries as in production, but without the seconds of backoff (the policy is what varies).
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
JSON = "application/json"
BOTO_ONE_TRY = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1)


# -- what was logged ------------------------------------------------------------------------
class LogCapture:
    """The worker's and the webhook's powertools JSON lines, parsed."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        """Everything logged so far."""
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """Each JSON log line as a dict (non-JSON lines are skipped)."""
        found = []
        for line in self.text.splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                found.append(record)
        return found

    def failures(self) -> dict[str, str]:
        """``model not submitted`` lines: model name -> the error it logged (the last one)."""
        return {
            r["model"]: r["error"]
            for r in self.records()
            if r.get("message") == "model not submitted" and "model" in r
        }

    def webhook_statuses(self) -> list[int]:
        """The statuses the webhook logged for the calls it answered."""
        return [r["status"] for r in self.records() if r.get("message") == "webhook answered"]


@pytest.fixture
def logs(bot: LocalBot) -> Iterator[LogCapture]:
    """Capture the handlers' logs; afterwards check that no token or key was ever logged."""
    capture = LogCapture()
    for module in (worker, webhook):
        module.logger.registered_handler.setStream(capture.stream)
    try:
        yield capture
    finally:
        for module in (worker, webhook):
            module.logger.registered_handler.setStream(sys.stdout)
    for secret in (bot.token, bot.standin.secret_key, bot.standin.public_id):
        assert secret not in capture.text


# -- helpers --------------------------------------------------------------------------------
def ledger(bot: LocalBot) -> DynamoLedger:
    """The ledger table the worker writes (moto)."""
    return DynamoLedger(bot.stack.table, boto3.resource("dynamodb"))


def record(bot: LocalBot, model: str) -> LedgerRecord | None:
    """The ledger's record for ``model`` in the open round."""
    return ledger(bot).get(bot.standin.current_round, model)


def attempts(bot: LocalBot, model: str | None = None) -> list[dict]:
    """Every createSubmission the stand-in recorded this round, accepted or rejected."""
    number = bot.standin.current_round
    return [s for s in bot.standin.submissions(model) if s["round"] == number]


def run_worker(bot: LocalBot, event: dict | None = None) -> Any:
    """The worker handler, as Lambda's async invoke runs it: its answer or its exception."""
    try:
        return bot.worker_handler(event or {"source": "schedule"}, LocalContext("worker"))
    except Exception as error:
        return error


def run(runner: RoundRunner, request: WorkerRequest | None = None) -> RoundResult | Exception:
    """A runner's result, or the exception that escaped it."""
    try:
        return runner.run(request or WorkerRequest("schedule"))
    except Exception as error:
        return error


def text_of(outcome: Any) -> str:
    """What a caller is told: an exception's text, or a result's message and details."""
    if isinstance(outcome, Exception):
        return f"{type(outcome).__name__}: {outcome}"
    if isinstance(outcome, RoundResult):
        outcome = outcome.to_dict()
    return json.dumps(outcome)


def make_runner(
    timeout: tuple[float, float] = (5.0, 30.0), retry: RetryPolicy = FAST_RETRY
) -> RoundRunner:
    """The production wiring against the stand-ins, with a chosen timeout and retry policy."""
    runner = build_runner(WorkerSettings.from_env())
    runner.numerai.timeout = timeout
    runner.numerai.create_timeout = timeout
    runner.numerai.settle = SettlePolling(every=0.2, within=2.0)
    runner.numerai.retry = retry
    return runner


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def assert_submitted_once(bot: LocalBot, *models: str) -> None:
    """Each model has exactly one accepted submission this round and a matching ledger record."""
    for model in models:
        (submission,) = accepted(bot, model)
        assert submission["rows"] == len(bot.standin.live_ids())
        stored = record(bot, model)
        assert stored is not None and stored.status == "submitted"
        assert stored.submission_id == submission["id"]


def assert_failed_cleanly(bot: LocalBot, logs: LogCapture, model: str, cause: str) -> None:
    """Nothing reached Numerai for ``model``; the ledger and the log name the cause."""
    assert attempts(bot, model) == []
    stored = record(bot, model)
    assert stored is not None and stored.status == "failed", stored
    assert cause in stored.error
    assert cause in logs.failures()[model]


# -- the webhook: bad bodies over real HTTP --------------------------------------------------
def post_webhook(
    bot: LocalBot, body: bytes, model: str = "alpha", content_type: str = "application/json"
) -> requests.Response:
    """POST ``body`` to the model's registered URL, as Numerai (or anyone) could."""
    return requests.post(
        bot.webhook_url(model), data=body, headers={"Content-Type": content_type}, timeout=30
    )


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        pytest.param(
            b'{"roundNumber": 12, "triggerId": ', JSON, "body is not JSON", id="truncated"
        ),
        pytest.param(
            b"roundNumber=12&isTest=true",
            "application/x-www-form-urlencoded",
            "body is not JSON",
            id="form-encoded",
        ),
        # Binary content types reach the function base64-encoded.
        pytest.param(b"\xff\xfe{}", "application/octet-stream", "body is not JSON", id="binary"),
        pytest.param(b"[12, true]", JSON, "body must be a JSON object", id="array"),
    ],
)
def test_malformed_webhook_json_is_refused_with_400_and_starts_no_worker(
    bot: LocalBot, logs: LogCapture, body: bytes, content_type: str, reason: str
) -> None:
    response = post_webhook(bot, body, content_type=content_type)
    assert response.status_code == 400 and reason in response.json()["error"]
    assert bot.invoker.threads == []
    assert attempts(bot) == [] and record(bot, "alpha") is None
    assert logs.webhook_statuses() == [400]


def test_an_empty_body_is_a_trigger_without_a_trigger_id(bot: LocalBot, logs: LogCapture) -> None:
    response = post_webhook(bot, b"")  # numerai-cli's own node test POSTs nothing at all
    assert response.status_code == 200
    bot.invoker.wait(timeout=120)
    (submitted,) = [a for a in attempts(bot) if a["model_name"] == "alpha"]
    assert submitted["status"] == "accepted" and not submitted.get("trigger_id")


@pytest.mark.parametrize(
    "payload",
    [
        {"roundNumber": "round 12"},
        {"roundNumber": True},
        {"roundNumber": [12]},
        {"roundNumber": -3},
        {"isTest": "maybe"},
        {"triggerId": "a b; drop table"},
        {"dataVersion": {"v": 5}},
    ],
)
def test_webhook_fields_of_the_wrong_type_are_ignored_and_the_model_is_submitted(
    bot: LocalBot, logs: LogCapture, payload: dict
) -> None:
    response = post_webhook(bot, json.dumps(payload).encode())  # only the token decides
    assert response.status_code == 200
    bot.invoker.wait(timeout=120)
    (submitted,) = [a for a in attempts(bot) if a["model_name"] == "alpha"]
    assert submitted["status"] == "accepted" and not submitted.get("trigger_id")


def test_a_webhook_url_with_a_bad_model_name_is_refused(bot: LocalBot, logs: LogCapture) -> None:
    response = post_webhook(bot, b'{"roundNumber": 12}', model="../../alpha")
    assert response.status_code == 400 and "model must be" in response.json()["error"]
    assert bot.invoker.threads == [] and attempts(bot) == []


@pytest.mark.parametrize("size", [4097, 5_000_000])
def test_a_huge_webhook_body_is_refused_before_it_is_parsed(
    bot: LocalBot, logs: LogCapture, size: int
) -> None:
    padding = "x" * (size - len('{"roundNumber": 12, "pad": ""}'))
    body = json.dumps({"roundNumber": 12, "pad": padding}).encode()
    assert len(body) == size
    response = post_webhook(bot, body)
    assert response.status_code == 400 and "larger than 4096 bytes" in response.json()["error"]
    assert bot.invoker.threads == [] and attempts(bot) == []
    assert logs.webhook_statuses() == [400]


def test_unknown_webhook_fields_are_ignored_and_the_model_is_submitted(
    bot: LocalBot, logs: LogCapture
) -> None:
    payload = {
        "roundNumber": str(bot.standin.current_round),  # Numerai sometimes sends a string
        "dataVersion": 5,
        "triggerId": "trigger-with-extras",
        "isTest": None,
        "surprise": {"nested": [1, 2, {"deeper": None}]},
        "modelId": "not-ours",
    }
    response = post_webhook(bot, json.dumps(payload).encode())
    assert response.status_code == 200 and response.json()["accepted"] is True
    (result,) = bot.invoker.wait(60)
    assert result["status"] == "complete" and result["submitted"] == 1
    assert_submitted_once(bot, "alpha")
    assert accepted(bot, "alpha")[0]["trigger_id"] == "trigger-with-extras"
    assert record(bot, "alpha").trigger_id == "trigger-with-extras"
    assert accepted(bot, "beta") == []  # the URL named alpha only


# -- the live file ---------------------------------------------------------------------------
def live_path(bot: LocalBot) -> Path:
    """Where the stand-in keeps the open round's live file (rewritten by each new round)."""
    return bot.standin.data.root / "v5.2" / "live.parquet"


def rewrite_live(bot: LocalBot, change: Callable[[pa.Table], pa.Table | bytes]) -> None:
    """Replace the stand-in's live file by ``change(table)`` (a table, or raw bytes).

    The round is new for every test, so our live cache (disk and bucket) has no copy yet.
    """
    path = live_path(bot)
    table = pq.read_table(path).replace_schema_metadata(None)
    changed = change(table)
    if isinstance(changed, bytes):
        path.write_bytes(changed)
    else:
        pq.write_table(changed, path)


def _with_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def _nan_ids(table: pa.Table) -> pa.Table:
    ids = table.column("id").to_pylist()
    ids[7] = None
    return _with_column(table, "id", pa.array(ids, pa.string()))


def _duplicate_ids(table: pa.Table) -> pa.Table:
    ids = table.column("id").to_pylist()
    ids[1] = ids[0]
    return _with_column(table, "id", pa.array(ids, pa.string()))


BROKEN_LIVE_FILES: dict[str, tuple[Callable[[pa.Table], pa.Table | bytes], str]] = {
    "truncated": (lambda t: _parquet_bytes(t)[: len(_parquet_bytes(t)) // 2], "is unreadable"),
    "not-parquet": (lambda t: b"id,feature_a\nn000,1\n", "is unreadable"),
    "empty-file": (lambda t: b"", "is unreadable"),
    "no-id-column": (lambda t: t.drop_columns(["id"]), "has no 'id' column"),
    "nan-ids": (_nan_ids, "live.parquet has 1 rows without a 'id' value"),
    "duplicate-ids": (_duplicate_ids, "more than once"),
    "no-rows": (lambda t: t.slice(0, 0), "live.parquet has no rows"),
}


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize("case", list(BROKEN_LIVE_FILES))
def test_a_broken_live_file_fails_every_model_clearly_and_uploads_nothing(
    bot: LocalBot, logs: LogCapture, case: str
) -> None:
    change, cause = BROKEN_LIVE_FILES[case]
    rewrite_live(bot, change)
    outcome = run_worker(bot)
    assert isinstance(outcome, Exception)
    for model in MODELS:
        assert f"{model}: " in str(outcome)
        assert_failed_cleanly(bot, logs, model, cause)
    assert attempts(bot) == []
    assert bot.standin.calls().get("GET file") == 1  # one download, not one per model


def medium_only(features: dict[str, list[str]]) -> list[str]:
    """Features the medium-set models read and the small-set model does not."""
    small = set(features["small"])
    return [f for f in features["medium"] if f not in small]


def _out_of_range(column: str) -> Callable[[pa.Table], pa.Table]:
    def change(table: pa.Table) -> pa.Table:
        values = table.column(column).to_pylist()
        values[3] = 9
        return _with_column(table, column, pa.array(values, pa.int8()))

    return change


def as_text(column: str) -> Callable[[pa.Table], pa.Table]:
    def change(table: pa.Table) -> pa.Table:
        return _with_column(table, column, table.column(column).cast(pa.string()))

    return change


@pytest.mark.parametrize(
    ("case", "cause"),
    [
        ("missing-columns", "5 feature(s) not in v5.2 live data"),
        ("out-of-range", "outside [0, 4]"),
        ("text-column", "must be fed to the model as strings"),
    ],
)
def test_live_data_unfit_for_some_models_fails_only_those_models(
    bot: LocalBot, logs: LogCapture, feature_sets: dict[str, list[str]], case: str, cause: str
) -> None:
    bot.publish("alpha", linear_model(feature_sets["small"], seed=0))  # needs none of them
    extra = medium_only(feature_sets)
    changes = {
        "missing-columns": lambda t: t.drop_columns(extra[:5]),
        "out-of-range": _out_of_range(extra[0]),
        "text-column": as_text(extra[0]),
    }
    rewrite_live(bot, changes[case])
    outcome = run_worker(bot)
    assert isinstance(outcome, Exception) and "alpha" not in str(outcome)
    assert_submitted_once(bot, "alpha")
    for model in ("beta", "gamma"):
        assert_failed_cleanly(bot, logs, model, cause)


def test_missing_feature_values_are_normal_and_reach_the_model_as_nan(
    bot: LocalBot, logs: LogCapture, feature_sets: dict[str, list[str]]
) -> None:
    column = feature_sets["small"][0]
    rewrite_live(bot, lambda t: _with_column(t, column, pa.nulls(t.num_rows, pa.int8())))
    result = run_worker(bot)
    assert result["status"] == "complete", text_of(result)
    assert_submitted_once(bot, *MODELS)


def test_a_live_file_numerai_replaces_is_used_on_the_next_run_not_the_bad_copy(
    bot: LocalBot, logs: LogCapture
) -> None:
    good = live_path(bot).read_bytes()
    rewrite_live(bot, lambda t: good[: len(good) // 3])
    assert isinstance(run_worker(bot), Exception)
    assert attempts(bot) == []
    live_path(bot).write_bytes(good)
    bot.restart_handlers()  # the next invocation (the schedule, or Lambda's async retry)
    result = run_worker(bot)
    assert result["status"] == "complete", text_of(result)
    assert_submitted_once(bot, *MODELS)


CONCURRENT_READS = """
import json, random, tempfile, threading
from pathlib import Path
from numerai_bot.live_data import LiveData
from standins.synthetic_data import write_dataset

folder = write_dataset(Path(tempfile.mkdtemp()), live_rows=1000, n_features=100,
                       train_eras=1, validation_eras=1, rows_per_era=5)
names = json.loads((folder / "features.json").read_text())["feature_sets"]["all"]

def read(live, seed):
    pick = random.Random(seed)
    for _ in range(3):
        live.preload(pick.sample(names, 30))

for attempt in range(60):
    live = LiveData(folder / "live.parquet", 1, "v5.2")
    runs = [threading.Thread(target=read, args=(live, attempt * 8 + i)) for i in range(8)]
    [run.start() for run in runs]
    [run.join() for run in runs]
print("ok")
"""


@pytest.mark.slow
def test_duplicate_runs_reading_the_same_live_file_at_once_do_not_crash_the_process() -> None:
    # Duplicate deliveries run side by side in one process locally (and could share a warm
    # runner): pyarrow's ParquetFile crashed (SIGSEGV/SIGABRT) when read from two threads.
    done = subprocess.run(
        [sys.executable, "-c", CONCURRENT_READS],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


# -- the ONNX file ---------------------------------------------------------------------------
def store_artifact(model: str, data: bytes) -> None:
    """Overwrite a published artifact in the bucket, bypassing publish's checks (as a
    half-finished copy, a hand upload or a wrong file would)."""
    open_model_store(os.environ["MODEL_STORE_URI"]).write(f"{model}.onnx", data)


def output_model(features: list[str], shape: str) -> bytes:
    """A model with the metadata contract whose output has the wrong shape.

    shape: "short" (one value fewer than rows) or "two-columns" (rows x 2).
    """
    model = onnx.load_from_string(linear_model(features))
    graph = model.graph
    graph.node[-1].output[0] = "full"
    del graph.output[:]
    if shape == "short":
        graph.initializer.extend(
            [
                numpy_helper.from_array(np.array([0], dtype=np.int64), "starts"),
                numpy_helper.from_array(np.array([-1], dtype=np.int64), "ends"),
            ]
        )
        graph.node.append(helper.make_node("Slice", ["full", "starts", "ends"], ["prediction"]))
        dims: list[Any] = ["M"]
    else:
        graph.initializer.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"))
        graph.node.extend(
            [
                helper.make_node("Unsqueeze", ["full", "axis1"], ["column"]),
                helper.make_node("Concat", ["column", "column"], ["prediction"], axis=1),
            ]
        )
        dims = ["N", 2]
    graph.output.append(helper.make_tensor_value_info("prediction", TensorProto.DOUBLE, dims))
    onnx.checker.check_model(model)
    return model.SerializeToString()


def wider_graph_than_metadata(features: list[str]) -> bytes:
    """A sound graph over 4 more columns than its metadata lists (a stale feature list)."""
    model = onnx.load_from_string(
        linear_model([*features, "extra_1", "extra_2", "extra_3", "extra_4"], seed=1)
    )
    props = ModelMetadata(features=tuple(features), data_version="v5.2").to_props()
    helper.set_model_props(model, props)
    return model.SerializeToString()


def _truncated_onnx(features: list[str]) -> bytes:
    data = linear_model(features, seed=1)
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("build", "cause"),
    [
        pytest.param(
            lambda f: np.random.default_rng(3).bytes(4096),
            "beta.onnx is not a loadable ONNX model",
            id="random-bytes",
        ),
        pytest.param(_truncated_onnx, "beta.onnx is not a loadable ONNX model", id="truncated"),
        pytest.param(lambda f: b"", "beta.onnx is not a loadable ONNX model", id="empty"),
        pytest.param(
            wider_graph_than_metadata,
            "beta.onnx takes 64 columns but its metadata lists 60 numeric features",
            id="wrong-input-width",
        ),
        pytest.param(
            lambda f: linear_model(f, seed=1, metadata=False),
            "beta.onnx: ONNX file has no numerai.schema, numerai.features, "
            "numerai.data_version metadata",
            id="no-metadata",
        ),
        pytest.param(
            lambda f: linear_model(f, behaviour="nan"),
            "model returned 300 NaN or infinite predictions",
            id="output-nan",
        ),
        pytest.param(
            lambda f: linear_model(f, behaviour="constant"),
            "the same value for every row",
            id="output-constant",
        ),
        pytest.param(
            lambda f: output_model(f, "short"),
            "model output has shape (299,), expected one value per row (300)",
            id="output-short",
        ),
        pytest.param(
            lambda f: output_model(f, "two-columns"),
            "model output has shape (300, 2), expected one value per row (300)",
            id="output-two-columns",
        ),
    ],
)
def test_a_bad_model_file_fails_only_that_model_and_uploads_nothing_for_it(
    bot: LocalBot,
    logs: LogCapture,
    feature_sets: dict[str, list[str]],
    build: Callable[[list[str]], bytes],
    cause: str,
) -> None:
    store_artifact("beta", build(feature_sets["medium"]))
    outcome = run_worker(bot)
    assert isinstance(outcome, Exception) and "beta: " in str(outcome) and cause in str(outcome)
    assert_failed_cleanly(bot, logs, "beta", cause)
    assert_submitted_once(bot, "alpha", "gamma")


def test_a_model_file_fixed_after_a_failure_is_picked_up_by_the_warm_worker(
    bot: LocalBot, logs: LogCapture, feature_sets: dict[str, list[str]]
) -> None:
    good = linear_model(feature_sets["medium"], seed=1)
    store_artifact("beta", good[:100])
    assert isinstance(run_worker(bot), Exception)
    store_artifact("beta", good)
    result = run_worker(bot)  # same warm handler: its model cache sees the new version
    statuses = {o["model"]: o["status"] for o in result["outcomes"]}
    assert statuses == {"alpha": "skipped", "beta": "submitted", "gamma": "skipped"}
    assert_submitted_once(bot, *MODELS)


# -- the Numerai secret ----------------------------------------------------------------------
@pytest.fixture
def numerai_secret(bot: LocalBot) -> Iterator[Callable[[str | None], None]]:
    """Set the keys secret's value (None deletes it) as the next cold start will read it;
    the right keys are put back afterwards."""
    client = boto3.client("secretsmanager")
    secret_id = bot.stack.keys_secret
    good = json.dumps({"public_id": bot.standin.public_id, "secret_key": bot.standin.secret_key})

    def set_secret(value: str | None) -> None:
        if value is None:
            client.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        else:
            client.put_secret_value(SecretId=secret_id, SecretString=value)
        parameters.clear_caches()  # powertools keeps secrets for 300 s
        bot.restart_handlers()

    yield set_secret
    try:
        client.put_secret_value(SecretId=secret_id, SecretString=good)
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=secret_id, SecretString=good)
    parameters.clear_caches()
    bot.restart_handlers()


def _bad_secrets(bot: LocalBot) -> dict[str, tuple[str | None, str]]:
    public, secret = bot.standin.public_id, bot.standin.secret_key
    return {
        "missing": (None, "(ResourceNotFoundException)"),
        "not-json": (f"{public}:{secret}", "is not valid JSON"),
        "no-secret-key": (json.dumps({"public_id": public}), "must be JSON with 'public_id'"),
        "wrong-field-names": (
            json.dumps({"NUMERAI_PUBLIC_ID": public, "NUMERAI_SECRET_KEY": secret}),
            "must be JSON with 'public_id' and 'secret_key'",
        ),
        "revoked-keys": (
            json.dumps({"public_id": public, "secret_key": "R" * len(secret)}),
            "Invalid API key",
        ),
    }


@pytest.mark.parametrize(
    "case", ["missing", "not-json", "no-secret-key", "wrong-field-names", "revoked-keys"]
)
def test_a_missing_or_malformed_numerai_secret_stops_the_run_with_a_clear_error(
    bot: LocalBot, logs: LogCapture, numerai_secret: Callable[[str | None], None], case: str
) -> None:
    value, cause = _bad_secrets(bot)[case]
    numerai_secret(value)
    outcome = run_worker(bot)
    assert isinstance(outcome, Exception) and cause in str(outcome)
    assert bot.standin.secret_key not in str(outcome)
    assert bot.standin.secret_key[:20] not in logs.text
    assert attempts(bot) == []
    for model in MODELS:
        # Without keys the worker cannot reach the per-model stage; if it records the round
        # (see docs/faults.md), the record must say why.
        stored = record(bot, model)
        assert stored is None or (stored.status == "failed" and cause in stored.error)


def test_the_round_submits_once_the_secret_is_fixed(
    bot: LocalBot, logs: LogCapture, numerai_secret: Callable[[str | None], None]
) -> None:
    numerai_secret("not json")
    assert isinstance(run_worker(bot), Exception)
    numerai_secret(
        json.dumps({"public_id": bot.standin.public_id, "secret_key": bot.standin.secret_key})
    )
    result = run_worker(bot)
    assert result["status"] == "complete", text_of(result)
    assert_submitted_once(bot, *MODELS)


# -- S3 and DynamoDB unavailable -------------------------------------------------------------
@pytest.fixture
def aws_down(bot: LocalBot, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Make one AWS service unreachable for the next cold start (``s3`` or ``dynamodb``), by
    pointing its standard service endpoint variable at a closed port; restored afterwards."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore would retry a refused connection

    def take_down(service: str) -> None:
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service.upper()}", closed_port_url())
        bot.restart_handlers()

    yield take_down
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    bot.restart_handlers()


def test_s3_unreachable_stops_the_run_with_a_clear_error_and_uploads_nothing(
    bot: LocalBot, logs: LogCapture, aws_down: Callable[[str], None], monkeypatch
) -> None:
    aws_down("s3")
    outcome = run_worker(bot)
    assert isinstance(outcome, Exception)
    assert "cannot read 'models.json' from s3://numerai-bot-models/models" in str(outcome)
    assert "S3 unreachable (EndpointConnectionError)" in str(outcome)
    assert attempts(bot) == []
    for model in MODELS:  # the model list itself is in S3: nothing can name the models
        stored = record(bot, model)
        assert stored is None or (stored.status == "failed" and "S3" in stored.error)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    bot.restart_handlers()
    result = run_worker(bot)
    assert result["status"] == "complete", text_of(result)
    assert_submitted_once(bot, *MODELS)


def test_model_files_unreachable_fail_each_model_in_the_ledger(
    bot: LocalBot, logs: LogCapture
) -> None:
    runner = make_runner()
    dead = boto3.client("s3", endpoint_url=closed_port_url(), config=BOTO_ONE_TRY)
    runner = runner_with(runner, models=ModelCache(S3ModelStore(bot.stack.bucket, "models", dead)))
    result = run(runner)
    assert isinstance(result, RoundResult) and len(result.failed) == len(MODELS)
    for model in MODELS:
        assert_failed_cleanly(
            bot,
            logs,
            model,
            f"cannot read '{model}.onnx' from s3://numerai-bot-models/models: "
            "S3 unreachable (EndpointConnectionError)",
        )


def _restore_table(bot: LocalBot) -> None:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=bot.stack.table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.mark.parametrize(
    ("case", "cause"),
    [
        ("unreachable", "DynamoDB unreachable (EndpointConnectionError)"),
        ("table-deleted", "DynamoDB error ResourceNotFoundException"),
    ],
)
def test_dynamodb_unavailable_uploads_nothing_rather_than_risk_a_duplicate(
    bot: LocalBot, logs: LogCapture, aws_down: Callable[[str], None], monkeypatch, case, cause
) -> None:
    if case == "unreachable":
        aws_down("dynamodb")
    else:
        boto3.client("dynamodb").delete_table(TableName=bot.stack.table)
    try:
        outcome = run_worker(bot)
    finally:
        if case == "table-deleted":
            _restore_table(bot)
        monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
        bot.restart_handlers()
    assert f"the ledger table {bot.stack.table}: {cause}" in text_of(outcome)
    assert attempts(bot) == []
    result = run_worker(bot)
    assert result["status"] == "complete", text_of(result)
    assert_submitted_once(bot, *MODELS)


def test_idempotency_store_unavailable_fails_each_model_without_uploading(
    bot: LocalBot, logs: LogCapture
) -> None:
    runner = make_runner()
    dead = boto3.client("dynamodb", endpoint_url=closed_port_url(), config=BOTO_ONE_TRY)
    runner.guard.persistence = DynamoDBPersistenceLayer(
        table_name=bot.stack.table, boto3_client=dead
    )
    result = run(runner)
    assert isinstance(result, RoundResult) and len(result.failed) == len(MODELS)
    for model in MODELS:
        assert_failed_cleanly(bot, logs, model, "idempotency table is unreachable")


# -- Numerai: 5xx bursts, timeouts, failed PUTs ----------------------------------------------
def test_a_5xx_burst_longer_than_the_retries_fails_that_model_and_the_schedule_recovers_it(
    bot: LocalBot, logs: LogCapture
) -> None:
    bot.standin.fail_next(FAST_RETRY.attempts, status=503, operation="submission_upload_auth")
    runner = make_runner()
    result = run(runner, WorkerRequest("webhook", models=("alpha",)))
    assert isinstance(result, RoundResult) and [o.model for o in result.failed] == ["alpha"]
    assert_failed_cleanly(bot, logs, "alpha", "Numerai API answered HTTP 503")
    result = run(runner)  # the fallback schedule
    assert isinstance(result, RoundResult) and result.status == "complete"
    assert_submitted_once(bot, *MODELS)


def test_numerai_down_at_the_start_of_a_run_says_so_and_uploads_nothing(
    bot: LocalBot, logs: LogCapture
) -> None:
    bot.standin.fail_next(FAST_RETRY.attempts, status=502, operation="rounds")
    outcome = run(make_runner())
    assert "Numerai API answered HTTP 502" in text_of(outcome)
    assert attempts(bot) == [] and all(record(bot, m) is None for m in MODELS)


# A 5xx answer to create_submission is not retried: Numerai may have recorded it
# (tests/integration/test_slow_create.py follows that model to its single submission).
@pytest.mark.parametrize("operation", ["submission_upload_auth", "rounds", None])
def test_a_5xx_burst_within_the_retries_still_submits_each_model_exactly_once(
    bot: LocalBot, logs: LogCapture, operation: str | None
) -> None:
    bot.standin.fail_next(FAST_RETRY.attempts - 1, status=503, operation=operation)
    result = run(make_runner(), WorkerRequest("webhook", models=("alpha",)))
    assert isinstance(result, RoundResult) and result.status == "complete", text_of(result)
    assert_submitted_once(bot, "alpha")
    assert attempts(bot, "alpha") == accepted(bot, "alpha")


def test_a_timeout_on_create_submission_after_numerai_stored_it_does_not_submit_twice(
    bot: LocalBot, logs: LogCapture
) -> None:
    # Numerai records the submission, but the answer comes after our read timeout.
    bot.standin.set_delay(0.8, operation="create_submission")
    runner = make_runner(timeout=(1.0, 0.5))
    result = run(runner, WorkerRequest("webhook", models=("alpha",)))
    assert isinstance(result, RoundResult) and result.status == "complete", text_of(result)
    bot.standin.set_delay(0, operation="create_submission")
    result = run(runner)  # the schedule must not submit alpha again
    assert isinstance(result, RoundResult)
    assert {o.model: o.status for o in result.outcomes}["alpha"] == "skipped"
    assert_submitted_once(bot, *MODELS)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("operation", "stage"),
    [("rounds", "start"), ("dataset", "model"), ("submission_upload_auth", "model")],
)
def test_numerai_timeouts_fail_clearly_and_the_next_run_recovers(
    bot: LocalBot, logs: LogCapture, operation: str, stage: str
) -> None:
    bot.standin.set_delay(0.6, operation=operation)
    retry = RetryPolicy(2, 0.01, 0.05)
    outcome = run(make_runner(timeout=(1.0, 0.3), retry=retry))
    bot.standin.set_delay(0, operation=operation)
    assert "Numerai API unreachable: ReadTimeout" in text_of(outcome)
    assert attempts(bot) == []
    if stage == "model":
        for model in MODELS:
            assert_failed_cleanly(bot, logs, model, "Numerai API unreachable: ReadTimeout")
    if operation == "dataset":  # one download's retries for the run, not one per model
        assert bot.standin.calls()["dataset"] == retry.attempts
    result = run(make_runner(timeout=(1.0, 0.3), retry=retry))  # a later invocation
    assert isinstance(result, RoundResult) and result.status == "complete", text_of(result)
    assert_submitted_once(bot, *MODELS)


def test_slow_numerai_answers_within_the_timeout_only_slow_the_round_down(
    bot: LocalBot, logs: LogCapture
) -> None:
    bot.standin.set_delay(0.1)
    bot.standin.set_put_behaviour("slow", delay=0.3)
    result = run(make_runner(timeout=(1.0, 2.0)))
    assert isinstance(result, RoundResult) and result.status == "complete", text_of(result)
    assert_submitted_once(bot, *MODELS)


@pytest.mark.parametrize(
    ("mode", "status", "cause"),
    [
        ("reject", 403, "upload PUT got HTTP 403; nothing was stored"),
        ("drop", None, "upload not found"),
    ],
)
def test_a_failed_put_fails_that_model_only_and_the_schedule_recovers_it(
    bot: LocalBot, logs: LogCapture, mode: str, status: int | None, cause: str
) -> None:
    bot.standin.set_put_behaviour(mode, status=status, times=1)
    runner = make_runner()
    result = run(runner, WorkerRequest("webhook", models=("beta",)))
    assert isinstance(result, RoundResult) and [o.model for o in result.failed] == ["beta"]
    assert accepted(bot, "beta") == []
    stored = record(bot, "beta")
    assert stored is not None and stored.status == "failed" and cause in stored.error
    assert cause in logs.failures()["beta"]
    result = run(runner)
    assert isinstance(result, RoundResult) and result.status == "complete", text_of(result)
    assert_submitted_once(bot, *MODELS)


def test_a_put_answering_5xx_is_retried_and_submits_once(bot: LocalBot, logs: LogCapture) -> None:
    bot.standin.set_put_behaviour("reject", status=503, times=FAST_RETRY.attempts - 1)
    result = run(make_runner(), WorkerRequest("webhook", models=("gamma",)))
    assert isinstance(result, RoundResult) and result.status == "complete", text_of(result)
    assert_submitted_once(bot, "gamma")
    assert bot.standin.calls()["PUT upload"] == FAST_RETRY.attempts
