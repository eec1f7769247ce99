"""The season that breaks things for real, and the counts that judge it.

A short season runs the simulation's own command in a fresh process (it brings up its own
moto, fault proxy and stand-ins): every worker run is a process, some are SIGKILLed at each
kill point, S3, DynamoDB and Secrets Manager fail over HTTP, and the targets must hold. The
full season is ``make season``. Then each metric is made to fail once on purpose against
the real stand-in, so that a green season means something.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from benchmarks.season import KINDS, SeasonConfig, SeasonReport
from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot.errors import UploadError
from numerai_bot.ledger import FAILED, SUBMITTED, LedgerRecord
from numerai_bot.tournaments import CLASSIC
from standins.aws import MotoServer
from standins.aws_faults import AwsFaultProxy
from standins.numerai.server import NumeraiStandin
from standins.worker_process import KILL_POINTS, KILLED, Invocation, KillSpec, SpawnLauncher
from tests.conftest import SMALL
from tests.unit.fakes import MemoryLedger

SHORT_SEASON = [
    *("--rounds", "5", "--models", "2", "--seed", "2"),
    *("--live-rows", "300", "--features", "60", "--timeout", "1", "--fast-retries"),
]


@pytest.mark.slow
def test_a_short_season_that_kills_workers_and_breaks_aws_keeps_every_promise(
    tmp_path: Path,
) -> None:
    counts_file = tmp_path / "season.json"
    command = [sys.executable, "-m", "benchmarks.season", *SHORT_SEASON, "--quiet"]
    command += ["--workdir", str(tmp_path / "work"), "--json", str(counts_file)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    table = done.stdout[-6000:] + done.stderr[-3000:]
    assert counts_file.exists(), table
    counts = json.loads(counts_file.read_text())
    # Every fault kind was injected, every kill point fired, every AWS service failed.
    assert all(counts["faults"][kind] > 0 for kind in KINDS), table
    assert all(counts["kills"][point]["fired"] > 0 for point in KILL_POINTS), table
    failed = {key.split("/")[0] for key in counts["aws_failed_requests"]}
    assert failed >= {"s3", "dynamodb", "secretsmanager"}, table
    # A killed upload's lock held off a later run (the guard's lease), and was recovered.
    assert sum(counts["kills"][point]["held_off"] for point in KILL_POINTS) > 0, table
    assert counts["ledger_write_failures"] > 0, table
    assert counts["runs"]["processes"] > counts["runs"]["killed"] > 0, table
    # And still: every recoverable model-round once, on time, valid, recorded, no secret.
    assert counts["expected"] == 5 * 2, table
    assert counts["missed_recoverable"] == 0, table
    assert counts["recoverable_submitted_pct"] == "100.0 %", table
    assert counts["late"] == 0, table
    assert counts["duplicates"] == 0, table
    assert counts["invalid"] == 0, table
    assert counts["corrupt_uploads"] == 0, table
    assert counts["ledger_agrees_pct"] == "100.0 %", table
    assert counts["secrets_in_logs"] == 0 and counts["log_files"] > 10, table
    assert counts["target_met"] and done.returncode == 0, table


# -- each metric fails once on purpose ---------------------------------------------------------
MODEL = "deliberate"
MODEL_ID = "0b2f6a52-00aa-4000-8000-0000000000aa"


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("deliberate")
    with NumeraiStandin(root, models={MODEL: MODEL_ID}, round_number=6999, **SMALL) as server:
        yield server


def _submit(standin: NumeraiStandin, body: bytes | None = None) -> str:
    """Upload the way the bot does (auth, PUT, create) over HTTP; the submission id."""
    client = NumeraiClient(standin.public_id, standin.secret_key, api_url=standin.url)
    if body is None:
        ids = sorted(standin.live_ids())
        rows = "".join(f"{i},{(n + 1) / (len(ids) + 1)}\n" for n, i in enumerate(ids))
        body = ("id,prediction\n" + rows).encode()
    return client.upload_submission(MODEL_ID, body, "deliberate.csv", None, CLASSIC).submission_id


def _on_time(standin: NumeraiStandin, ledger: MemoryLedger, number: int) -> str:
    submission_id = _submit(standin)
    ledger.put(LedgerRecord(number, MODEL, SUBMITTED, submission_id=submission_id))
    return submission_id


def _deliberately_late(standin: NumeraiStandin, ledger: MemoryLedger, number: int) -> None:
    """Submitted after the staking close (the round still takes it): late, at Numerai."""
    now = dt.datetime.now(dt.UTC)
    standin.set_round_times(close_staking_time=now - dt.timedelta(minutes=1))
    submission_id = _submit(standin)
    ledger.put(LedgerRecord(number, MODEL, SUBMITTED, submission_id=submission_id))


def _twice(standin: NumeraiStandin, ledger: MemoryLedger, number: int) -> None:
    _on_time(standin, ledger, number)
    _submit(standin)


def _invalid(standin: NumeraiStandin, ledger: MemoryLedger, number: int) -> None:
    _on_time(standin, ledger, number)
    with pytest.raises(UploadError):
        _submit(standin, b"id,prediction\nnot-a-live-id,0.5\n")


def _ledger_lies(standin: NumeraiStandin, ledger: MemoryLedger, number: int) -> None:
    _submit(standin)
    ledger.put(LedgerRecord(number, MODEL, SUBMITTED, submission_id="not-numerai-s-id"))


def _missed(standin: NumeraiStandin, ledger: MemoryLedger, number: int) -> None:
    """Nothing submitted for a recoverable model-round."""


def _corrupt_model_uploads(
    standin: NumeraiStandin, ledger: MemoryLedger, number: int
) -> dict[tuple[int, str], str]:
    """The season corrupted the model's file this round, and an upload got through anyway:
    what the bot must never do (the file fails its checks). The season's plan says so."""
    _on_time(standin, ledger, number)
    return {(number, MODEL): "model file corrupt"}


# sabotage -> the count it must move (to exactly 1); a sabotage may return the season plan's
# unrecoverable model-rounds ({(round, model): why}) for that round
SABOTAGES: dict[str, tuple[Callable[..., dict[tuple[int, str], str] | None], str]] = {
    "late": (_deliberately_late, "late"),
    "duplicate": (_twice, "duplicates"),
    "invalid": (_invalid, "invalid"),
    "ledger-lies": (_ledger_lies, "ledger_disagreements"),
    "missed": (_missed, "missed_recoverable"),
    "corrupt-model-uploads": (_corrupt_model_uploads, "corrupt_uploads"),
}


@pytest.mark.parametrize("name", sorted(SABOTAGES))
def test_each_metric_counts_a_deliberate_failure(standin: NumeraiStandin, name: str) -> None:
    sabotage, metric = SABOTAGES[name]
    number = standin.round_number() + 1
    standin.open_round(number, trigger_webhooks=False)
    ledger = MemoryLedger()
    unrecoverable = sabotage(standin, ledger, number) or {}
    now = dt.datetime.now(dt.UTC)
    standin.set_round_times(close_staking_time=now, close_time=now)

    report = SeasonReport(SeasonConfig(rounds=1, models=1))
    report.count_round(number, [MODEL], standin.submissions(), ledger, unrecoverable)

    assert getattr(report, metric) == 1, report.table()
    assert not report.meets_target()


def test_a_clean_round_meets_every_target(standin: NumeraiStandin) -> None:
    number = standin.round_number() + 1
    standin.open_round(number, trigger_webhooks=False)
    ledger = MemoryLedger()
    _on_time(standin, ledger, number)
    report = SeasonReport(SeasonConfig(rounds=1, models=1))
    report.count_round(number, [MODEL], standin.submissions(), ledger, {})
    assert report.meets_target(), report.table()
    assert (report.on_time, report.late, report.ledger_agreeing) == (1, 0, 1)


def test_a_corrupt_model_the_bot_refused_to_upload_meets_the_target(standin) -> None:
    number = standin.round_number() + 1
    standin.open_round(number, trigger_webhooks=False)
    ledger = MemoryLedger()
    ledger.put(LedgerRecord(number, MODEL, FAILED, error="not a loadable ONNX model"))
    report = SeasonReport(SeasonConfig(rounds=1, models=1))
    corrupt = {(number, MODEL): "model file corrupt"}
    report.count_round(number, [MODEL], standin.submissions(), ledger, corrupt)
    assert report.meets_target(), report.table()
    assert (report.corrupt_uploads, report.unrecoverable, report.missed_recoverable) == (0, 1, 0)


@pytest.mark.parametrize(
    "line",
    [
        "the token is {token}",
        "PUT https://bucket.s3.amazonaws.com/x.csv?X-Amz-Signature=abc123 failed",
        "Token PUBLIC${key}",
        "uploading to http://127.0.0.1:9/uploads/Zm9vYmFy",
    ],
)
def test_a_secret_in_a_captured_log_is_counted(tmp_path: Path, line: str) -> None:
    token, key = "webhook-token-" + "x" * 32, "SECRETKEY" + "y" * 40
    clean, leaky = tmp_path / "clean.log", tmp_path / "leaky.log"
    clean.write_text('{"message": "model submitted", "model": "a"}\n')
    leaky.write_text(line.format(token=token, key=key) + "\n")
    report = SeasonReport(SeasonConfig())
    report.count_secrets([clean, leaky], (token, key))
    assert report.secrets_in_logs == 1 and report.log_files == 2
    assert not report.meets_target()


# -- the AWS fault proxy -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory):
    import boto3
    from botocore.config import Config

    with MotoServer() as endpoint, AwsFaultProxy(endpoint) as proxy:
        options: dict[str, Any] = {
            "endpoint_url": proxy.url,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "config": Config(read_timeout=0.5, connect_timeout=0.5),
        }
        clients = {
            name: boto3.client(name, **options) for name in ("s3", "dynamodb", "secretsmanager")
        }
        clients["s3"].create_bucket(Bucket="proxy-test")
        clients["dynamodb"].create_table(
            TableName="t",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        clients["secretsmanager"].create_secret(Name="s", SecretString="v")
        yield proxy, clients
        # moto's backends are process-wide: leave nothing behind for the other tests
        proxy.reset()
        clients["s3"].delete_bucket(Bucket="proxy-test")
        clients["dynamodb"].delete_table(TableName="t")
        clients["secretsmanager"].delete_secret(SecretId="s", ForceDeleteWithoutRecovery=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("service", "kind", "code", "call"),
    [
        ("s3", "throttle", "SlowDown", lambda c: c.get_object(Bucket="proxy-test", Key="k")),
        ("s3", "5xx", "InternalError", lambda c: c.get_object(Bucket="proxy-test", Key="k")),
        (
            "dynamodb",
            "throttle",
            "ProvisionedThroughputExceededException",
            lambda c: c.get_item(TableName="t", Key={"id": {"S": "a"}}),
        ),
        (
            "dynamodb",
            "5xx",
            "InternalServerError",
            lambda c: c.get_item(TableName="t", Key={"id": {"S": "a"}}),
        ),
        (
            "secretsmanager",
            "throttle",
            "ThrottlingException",
            lambda c: c.get_secret_value(SecretId="s"),
        ),
        (
            "secretsmanager",
            "5xx",
            "InternalServiceError",
            lambda c: c.get_secret_value(SecretId="s"),
        ),
    ],
)
def test_the_proxy_answers_as_each_service_does_and_botocore_retries_it(
    aws, service, kind, code, call
) -> None:
    proxy, clients = aws
    client = clients[service]
    proxy.fail_next(service, kind, 1)
    try:
        call(client)  # one failure: absorbed by botocore's retries
    except ClientError as error:
        assert error.response["Error"]["Code"] != code  # (the S3 object does not exist)
    proxy.fail_next(service, kind, 10)
    with pytest.raises(ClientError) as caught:
        call(client)
    assert caught.value.response["Error"]["Code"] == code
    proxy.reset()


def test_a_lost_answer_is_applied_and_its_retry_meets_its_own_write(aws) -> None:
    proxy, clients = aws
    ddb = clients["dynamodb"]
    proxy.fail_next("dynamodb", "lost-answer", 1, operation="PutItem", contains="lost-1", hold=1.0)
    with pytest.raises(ClientError) as caught:
        ddb.put_item(
            TableName="t",
            Item={"id": {"S": "lost-1"}},
            ConditionExpression="attribute_not_exists(id)",
        )
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert ddb.get_item(TableName="t", Key={"id": {"S": "lost-1"}})["Item"]


# -- worker processes ----------------------------------------------------------------------------
def test_a_spawned_worker_runs_one_event_in_its_own_interpreter_and_logs_there(
    tmp_path: Path,
) -> None:
    invocation = Invocation(
        event={"source": "not-a-source"},  # refused before any AWS or Numerai call
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        log_path=str(tmp_path / "run.log"),
        result_path=str(tmp_path / "run.json"),
    )
    code = SpawnLauncher().run(invocation, timeout=120)
    assert code == 0
    assert json.loads((tmp_path / "run.json").read_text())["returned"]["status"] == "rejected"
    assert "rejected worker event" in (tmp_path / "run.log").read_text()


def test_a_kill_fires_once_across_processes(tmp_path: Path) -> None:
    spec = KillSpec("after-put", "m", "id", str(tmp_path / "kill.fired"), run="first")
    script = (
        "import sys; from standins.worker_process import KillSpec, die; "
        f"die(KillSpec(*{(spec.point, spec.model, spec.model_id, spec.marker)!r}, run=sys.argv[1]))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = subprocess.run([sys.executable, "-c", script, "first"], env=env, check=False)
    second = subprocess.run([sys.executable, "-c", script, "second"], env=env, check=False)
    assert first.returncode == KILLED  # SIGKILL, as Lambda ends a worker
    assert second.returncode == 0  # the retry carries the same kill: it does not fire again
    assert json.loads(Path(spec.marker).read_text())["run"] == "first"
