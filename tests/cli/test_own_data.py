"""Bring your own data through the CLI, against the stand-ins over HTTP: ``put-live`` checks
a table against Numerai's universe and the model as the worker would and uploads it (or
refuses it, saying why, uploading nothing); ``init --feature-function`` writes a working
feature function; ``doctor`` checks each own-data model's table, coverage and function;
``status`` shows each model's input, its coverage, and a model waiting for its data.

A Signals model of the account, ``own_sig``, reads the user's table ``momentum`` with the
features ``momentum_20`` and ``volatility_20`` (:func:`standins.synthetic_prices.
reference_features`); each test gets models.json with it and a fresh Signals round.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.exceptions import ClientError
from onnx import TensorProto

from model_export.publish import publish
from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.adapters.model_store import open_model_store
from numerai_bot.ledger import SUBMITTED
from numerai_bot.outcomes import WAITING
from numerai_bot.own_data.feature_function import FeatureRequest, check_answer
from numerai_bot.tournaments import SIGNALS
from numerai_bot_cli.main import main
from standins.local_bot import LocalBot
from standins.onnx_models import linear_model
from standins.synthetic_prices import price_history, reference_features
from tests.cli.test_doctor import run_doctor
from tests.cli.test_status_and_logs import parse_sections

# The operator commands for own data end to end against the stand-ins (~45 s): make test-all
pytestmark = pytest.mark.slow

OWN = "own_sig"
TABLE = "momentum"
FEATURES = ("momentum_20", "volatility_20")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Round:
    """The open Signals round: its number, data date and universe (every id column)."""

    number: int
    data_date: dt.date
    universe: pd.DataFrame
    folder: Path  # where tests write the user's files

    def key(self, day: dt.date | None = None) -> str:
        """Where the worker reads the table for ``day`` (default: the round's data date)."""
        return f"own-data/signals/{TABLE}/{(day or self.data_date).isoformat()}.parquet"


@pytest.fixture(scope="module")
def own_account(local_bot: LocalBot) -> Iterator[str]:
    """``own_sig``, a Signals model of the account for this module only: later tests list
    the account's models (the stand-in has no knob to delete one, so its state is undone)."""
    model_id = local_bot.standin.create_model(OWN, tournament="signals")
    yield model_id
    state = local_bot.standin.state
    with state.lock:
        del state.models[OWN]
        state.model_tournaments.pop(model_id, None)
        state.webhooks.pop(model_id, None)


@pytest.fixture
def signals(bot: LocalBot, own_account, tmp_path: Path) -> Iterator[Round]:
    """A fresh Signals round, ``own_sig`` published with an own-data input, and models.json
    put back afterwards (later tests run the Classic models only)."""
    store = open_model_store(f"s3://{bot.stack.bucket}/models")
    before = store.read("models.json").data
    number = bot.standin.open_round(tournament="signals", trigger_webhooks=False)
    onnx = linear_model(
        FEATURES,
        data_version="v2.1",
        tournament="signals",
        input_source="own",
        input_type=TensorProto.DOUBLE,
    )
    publish(store, OWN, onnx, "rank")
    set_input(bot, {"source": "own", "table": TABLE})
    live = pd.read_parquet(bot.workdir / "numerai-data" / "signals" / "v2.1" / "live.parquet")
    data_date = dt.date.fromisoformat(str(live["date"].max())[:10])
    yield Round(number, data_date, live.drop(columns=[c for c in live if "feature" in c]), tmp_path)
    store.write("models.json", before)
    bot.standin.close_round(tournament="signals")


def set_input(bot: LocalBot, value: dict | None) -> None:
    """Give ``own_sig`` this models.json ``input`` (None: Numerai's live file)."""
    store = open_model_store(f"s3://{bot.stack.bucket}/models")
    document = json.loads(store.read("models.json").data)
    entry = document["models"][OWN]
    entry.pop("input", None)
    if value is not None:
        entry["input"] = value
    store.write("models.json", json.dumps(document).encode())


def user_table(
    rnd: Round, rows: int | None = None, id_column: str = "ticker", **changes
) -> pd.DataFrame:
    """The user's table for the first ``rows`` ids of the universe, keyed by ``id_column``."""
    ids = rnd.universe[id_column].dropna().astype(str).tolist()[:rows]
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({id_column: ids})
    for name in FEATURES:
        frame[name] = rng.normal(size=len(ids))
    for name, value in changes.items():
        frame[name] = value
    return frame


def write(rnd: Round, frame: pd.DataFrame, name: str = "table.parquet") -> Path:
    path = rnd.folder / name
    frame.to_parquet(path, index=False)
    return path


def bucket_object(bot: LocalBot, key: str) -> bytes | None:
    try:
        return boto3.client("s3").get_object(Bucket=bot.stack.bucket, Key=key)["Body"].read()
    except ClientError:
        return None


def floor_percent(covered: int, total: int) -> str:
    return f"{100 * covered // total} %"


# --- put-live ------------------------------------------------------------------------------


def test_put_live_checks_a_table_keyed_by_ticker_prints_its_coverage_and_uploads_it(
    bot, signals, cli, capsys
):
    total = len(signals.universe)
    covered = total * 4 // 5
    path = write(signals, user_table(signals, rows=covered))
    assert cli("put-live", str(path), "--model", OWN) == 0
    out, err = capsys.readouterr()
    share = floor_percent(covered, total)
    assert f"covers {covered:,} of {total:,} ids ({share}) joined on ticker" in out
    assert f"signals round {signals.number}, data date {signals.data_date}" in out
    destination = f"s3://{bot.stack.bucket}/{signals.key()}"
    assert f"uploaded {path} to {destination}" in out
    assert bucket_object(bot, signals.key()) == path.read_bytes()
    # below the default coverage_alert 0.9: said, not refused
    assert f"warning: {share} is below the model's coverage_alert 0.9" in err
    assert f"{total - covered:,} ids the table lacks are fed as missing values" in err


def test_a_dry_run_checks_the_table_and_uploads_nothing(bot, signals, cli, capsys):
    path = write(signals, user_table(signals, id_column="numerai_ticker"))
    assert cli("put-live", str(path), "--model", OWN, "--dry-run") == 0
    out, err = capsys.readouterr()
    total = len(signals.universe)
    assert f"covers {total:,} of {total:,} ids (100 %) joined on numerai_ticker" in out
    assert "dry run: would upload to" in out and "warning" not in err
    assert bucket_object(bot, signals.key()) is None


def test_a_date_given_by_hand_names_the_key_and_the_tables_date_column_must_agree(
    bot, signals, cli, capsys
):
    day = signals.data_date - dt.timedelta(days=1)
    path = write(signals, user_table(signals, date=day.isoformat()))
    assert cli("put-live", str(path), "--model", OWN, "--date", day.isoformat()) == 0
    _, err = capsys.readouterr()
    assert bucket_object(bot, signals.key(day)) == path.read_bytes()
    assert f"the round's data date is {signals.data_date}; a table for {day} is not read" in err


def duplicate_ids(rnd: Round) -> pd.DataFrame:
    table = user_table(rnd, rows=200)
    return pd.concat([table, table.iloc[[7]]], ignore_index=True)


# (name, the bad table, what the user reads): each is a table the worker refuses.
REFUSED = {
    "duplicate ids": (duplicate_ids, "the table lists ticker {ticker7!r} more than once"),
    "a missing feature column": (
        lambda rnd: user_table(rnd).drop(columns=["volatility_20"]),
        "the table lacks 1 of the model's 2 features, e.g. volatility_20",
    ),
    "a mistyped feature column": (
        lambda rnd: user_table(rnd, volatility_20="high"),
        "feature volatility_20 must be numeric, the table has large_string",
    ),
    "fewer than 100 ids": (
        lambda rnd: user_table(rnd, rows=60),
        "the table covers 60 of the {total} ids in Numerai's universe (joined on ticker); "
        "Numerai needs at least 100",
    ),
    "a date column of another day": (
        lambda rnd: user_table(rnd, date=(rnd.data_date - dt.timedelta(days=7)).isoformat()),
        "{destination} holds data for {week_before}, but its key says {data_date} and the "
        "round's data date is {data_date}: write the round's table under its own date",
    ),
}


@pytest.mark.parametrize("bad", list(REFUSED))
def test_put_live_refuses_a_table_the_worker_would_refuse_and_uploads_nothing(
    bot, signals, cli, capsys, bad
):
    make, message = REFUSED[bad]
    path = write(signals, make(signals))
    assert cli("put-live", str(path), "--model", OWN) == 1
    out, err = capsys.readouterr()
    expected = message.format(
        ticker7=signals.universe["ticker"].astype(str).tolist()[7],
        total=len(signals.universe),
        destination=f"s3://{bot.stack.bucket}/{signals.key()}",
        week_before=signals.data_date - dt.timedelta(days=7),
        data_date=signals.data_date,
    )
    assert err.startswith(f"error: {path} is refused for {OWN}: ")
    assert expected in err
    assert "next: fix the table and run put-live again; nothing was uploaded" in err
    assert "uploaded" not in out
    assert bucket_object(bot, signals.key()) is None


def test_put_live_refuses_a_model_that_reads_numerais_live_file(bot, signals, cli, capsys):
    set_input(bot, None)
    path = write(signals, user_table(signals))
    assert cli("put-live", str(path), "--model", OWN) == 1
    err = capsys.readouterr().err
    assert f"{OWN} reads Numerai's live file: its models.json entry has no own-data input" in err
    assert '"input": {"source": "own"' in err
    assert cli("put-live", str(path), "--model", "nobody") == 1
    assert "nobody is not in models.json" in capsys.readouterr().err
    assert bucket_object(bot, signals.key()) is None


def test_put_live_refuses_a_model_file_exported_for_numerais_data(bot, signals, cli, capsys):
    store = open_model_store(f"s3://{bot.stack.bucket}/models")
    numerai_file = linear_model(FEATURES, data_version="v2.1", tournament="signals")
    publish(store, OWN, numerai_file, "rank", model_input="numerai")
    set_input(bot, {"source": "own", "table": TABLE})  # models.json edited by hand
    assert cli("put-live", str(write(signals, user_table(signals))), "--model", OWN) == 1
    err = capsys.readouterr().err
    assert f"the worker would refuse {OWN}: {OWN}.onnx was exported to read numerai data" in err
    assert bucket_object(bot, signals.key()) is None


def test_between_rounds_put_live_dates_the_table_by_the_universe_numerai_serves_now(
    bot, signals, cli, capsys
):
    bot.standin.close_round(tournament="signals")
    path = write(signals, user_table(signals))
    assert cli("put-live", str(path), "--model", OWN) == 0
    out = capsys.readouterr().out
    assert f"signals round (none open), data date {signals.data_date}" in out
    assert bucket_object(bot, signals.key()) == path.read_bytes()


# --- init --feature-function -----------------------------------------------------------------


def scaffold(folder: Path) -> Path:
    """``numerai-bot init --feature-function`` into ``folder``."""
    assert main(["init", "--feature-function", "--features-dir", str(folder)]) == 0
    return folder


def run_function(folder: Path, event: dict, env: dict[str, str]) -> dict:
    """The scaffolded handler run as Lambda runs it: in a Python of its own, with only the
    function's environment (the checkout is not on its path)."""
    code = "import json, sys, app; print(json.dumps(app.handler(json.loads(sys.argv[1]), None)))"
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(event)],
        cwd=folder,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(folder), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_init_writes_a_feature_function_whose_handler_computes_the_reference_features(
    tmp_path, capsys
):
    folder = scaffold(tmp_path / "features")
    out, err = capsys.readouterr()
    assert f"wrote {folder / 'app.py'} and {folder / 'requirements.txt'}" in out
    assert "PRICES_URI" in err and "numerai-bot deploy" in err
    requirements = (folder / "requirements.txt").read_text()
    assert all(name in requirements for name in ("pandas==", "pyarrow==", "numpy=="))
    app = (folder / "app.py").read_text()
    assert "def handler(event" in app and "FEATURE_SECRET_ID" in app and "secretsmanager" in app

    data_date = dt.date(2029, 11, 9)
    ids = [f"T{n:03d} US" for n in range(150)]
    prices = price_history(ids, data_date, days=45, tournament="signals", seed=3)
    prices.to_parquet(tmp_path / "prices.parquet", index=False)
    universe = pd.DataFrame({"numerai_ticker": [*ids[:120], "NEW US"], "date": str(data_date)})
    universe.to_parquet(tmp_path / "universe.parquet", index=False)
    output = tmp_path / "own-data" / "signals" / TABLE / f"{data_date}.parquet"
    event = {
        "tournament": "signals",
        "round": 701,
        "data_date": str(data_date),
        "table": TABLE,
        "universe": str(tmp_path / "universe.parquet"),
        "output": str(output),
    }
    answer = run_function(folder, event, {"PRICES_URI": str(tmp_path / "prices.parquet")})
    assert answer == {"output": str(output), "rows": 120}  # the universe's ids with prices
    written = pd.read_parquet(output)
    expected = reference_features(prices, data_date)
    expected = expected[expected["numerai_ticker"].isin(ids[:120])].reset_index(drop=True)
    pd.testing.assert_frame_equal(written[list(expected.columns)], expected)
    assert written[list(FEATURES)].notna().all().all()


def test_init_keeps_an_existing_feature_function_unless_forced(tmp_path, capsys):
    folder = scaffold(tmp_path / "features")
    (folder / "app.py").write_text("# my features\n")
    assert main(["init", "--feature-function", "--features-dir", str(folder)]) == 1
    assert "requirements.txt already exist" in capsys.readouterr().err
    assert (folder / "app.py").read_text() == "# my features\n"
    assert main(["init", "--feature-function", "--features-dir", str(folder), "--force"]) == 0
    assert "def handler(event" in (folder / "app.py").read_text()


def test_the_feature_function_template_ships_with_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    shipped = project["package-data"]["numerai_bot_cli"]
    package = ROOT / "numerai_bot_cli"
    files = [p.relative_to(package) for p in (package / "templates").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"app.py", "requirements.txt"}
    for path in files:
        assert any(path.match(pattern) for pattern in shipped), (path, shipped)


# --- doctor ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def feature_function(local_bot: LocalBot) -> str:
    """The scaffolded feature function deployed in moto (created, never invoked there)."""
    role = boto3.client("iam").create_role(
        RoleName="numerai-bot-features-test", AssumeRolePolicyDocument="{}"
    )
    code = io.BytesIO()
    template = ROOT / "numerai_bot_cli" / "templates" / "feature_function" / "app.py"
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", template.read_text())
    boto3.client("lambda").create_function(
        FunctionName="numerai-bot-features",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
        Timeout=300,
    )
    return "numerai-bot-features"


def outputs_with(workspace: Path, tmp_path: Path, **extra: str) -> Path:
    """The stack's outputs, plus ``extra`` ones (e.g. the feature function's name)."""
    outputs = json.loads((workspace / "stack-outputs.json").read_text())
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**outputs, **extra}))
    return path


def own_lines(cli, capsys, outputs: Path) -> dict[str, dict]:
    """``doctor --json``'s own-data lines for own_sig, by what they check."""
    _, findings, _ = run_doctor(cli, capsys, outputs)
    prefix = f"own-data/{OWN}/"
    return {k[len(prefix) :]: v for k, v in findings.items() if k.startswith(prefix)}


def put_object(bot: LocalBot, key: str, frame: pd.DataFrame) -> None:
    """A table dropped straight into the bucket (as the user's own job would)."""
    sink = io.BytesIO()
    frame.to_parquet(sink, index=False)
    boto3.client("s3").put_object(Bucket=bot.stack.bucket, Key=key, Body=sink.getvalue())


def test_a_table_the_scaffolded_function_writes_to_s3_passes_doctor(
    bot, signals, cli, capsys, workspace, tmp_path, feature_function
):
    folder = scaffold(tmp_path / "features")
    ids = signals.universe["numerai_ticker"].tolist()
    put_object(bot, "vendor/prices.parquet", price_history(ids, signals.data_date, days=30))
    universe_key = f"own-data/signals/_universe/{signals.data_date}.parquet"
    put_object(bot, universe_key, signals.universe.drop(columns=["data_type"]))
    request = FeatureRequest(
        "signals",
        signals.number,
        signals.data_date,
        TABLE,
        f"s3://{bot.stack.bucket}/{universe_key}",
        f"s3://{bot.stack.bucket}/{signals.key()}",
    )
    aws = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    prices = {"PRICES_URI": f"s3://{bot.stack.bucket}/vendor/prices.parquet"}
    answer = run_function(folder, request.to_event(), {**aws, **prices})
    check_answer(request, answer)  # the worker accepts the answer
    assert answer["rows"] == len(ids)

    set_input(bot, {"source": "own", "table": TABLE, "feature_function": True})
    outputs = outputs_with(workspace, tmp_path, FeatureFunctionName=feature_function)
    lines = own_lines(cli, capsys, outputs)
    assert {name: line["ok"] for name, line in lines.items()} == {
        "function": True,
        "table": True,
        "coverage": True,
    }
    assert f"feature function {feature_function} is deployed" in lines["function"]["detail"]
    assert (
        f"{signals.key()}: for {signals.data_date}, the round's data date"
        in (lines["table"]["detail"])
    )
    total = f"{len(ids):,}"
    assert (
        f"covers {total} of {total} ids (100 %) joined on numerai_ticker"
        in (lines["coverage"]["detail"])
    )


def test_doctor_warns_below_coverage_alert_and_fails_a_table_of_fewer_than_100_ids(
    bot, signals, cli, capsys, workspace, tmp_path
):
    total = len(signals.universe)
    covered = total * 4 // 5
    assert cli("put-live", str(write(signals, user_table(signals, covered))), "--model", OWN) == 0
    outputs = outputs_with(workspace, tmp_path)
    capsys.readouterr()
    cli("doctor", "--stack-outputs", str(outputs))
    text = capsys.readouterr().out
    share = floor_percent(covered, total)
    assert (
        f"! own-data/{OWN}/coverage  covers {covered:,} of {total:,} ids ({share}) joined on "
        f"ticker of signals/v2.1/live.parquet: {share} is below the model's coverage_alert 0.9"
    ) in text
    assert "next: add the missing ids to your table, or lower coverage_alert" in text
    assert "with a warning)" in text.splitlines()[-1]

    put_object(bot, signals.key(), user_table(signals, rows=60))
    coverage = own_lines(cli, capsys, outputs)["coverage"]
    assert coverage["ok"] is False and "Numerai needs at least 100" in coverage["detail"]
    assert f"numerai-bot put-live FILE --model {OWN}" in coverage["next_step"]


def test_doctor_fails_a_model_without_a_fresh_table_naming_the_newest_it_found(
    bot, signals, cli, capsys, workspace, tmp_path
):
    older = signals.data_date - dt.timedelta(days=3)
    put_object(bot, signals.key(older), user_table(signals))
    outputs = outputs_with(workspace, tmp_path)
    lines = own_lines(cli, capsys, outputs)
    assert lines["table"]["ok"] is False and "coverage" not in lines
    where = f"s3://{bot.stack.bucket}/{signals.key()}"
    assert lines["table"]["detail"] == (
        f"no table for the round's data date {signals.data_date} at {where}; the newest is for "
        f"{older}, 3 days older than the data date {signals.data_date}, too old (max_age_days 0)"
    )
    assert lines["table"]["next_step"].startswith(
        f"drop the round's table: `numerai-bot put-live FILE --model {OWN}`, or allow older"
    )

    set_input(bot, {"source": "own", "table": TABLE, "max_age_days": 3})
    lines = own_lines(cli, capsys, outputs)
    assert lines["table"]["ok"] is True and lines["coverage"]["ok"] is True
    assert f"for {older}, 3 days older than the data date" in lines["table"]["detail"]


def test_doctor_fails_a_model_asking_for_a_feature_function_the_stack_does_not_have(
    bot, signals, cli, capsys, workspace, tmp_path
):
    set_input(bot, {"source": "own", "table": TABLE, "feature_function": True})
    lines = own_lines(cli, capsys, outputs_with(workspace, tmp_path))
    function = lines["function"]
    assert function["ok"] is False
    assert "the stack has none (no FeatureFunctionName output)" in function["detail"]
    assert "numerai-bot init --feature-function" in function["next_step"]
    # the table is not there yet, and that is the function's job when the round runs
    assert (
        lines["table"]["ok"] is True and "the feature function writes" in (lines["table"]["detail"])
    )
    elsewhere = outputs_with(workspace, tmp_path, FeatureFunctionName="numerai-bot-nowhere")
    function = own_lines(cli, capsys, elsewhere)["function"]
    assert function["ok"] is False and "Lambda has no such function" in function["detail"]


# --- status ----------------------------------------------------------------------------------


def fire(bot: LocalBot, cli, model_id: str) -> None:
    """``numerai-bot trigger`` the model's webhook; wait until the worker's run is done."""
    delivered = len(bot.standin.webhook_deliveries())
    assert cli("trigger", OWN, "--no-wait") == 0
    bot.standin.wait_for_deliveries(delivered + 1, 30)
    bot.invoker.wait(timeout=120)


def status_json(cli, capsys, *models: str) -> dict[str, dict]:
    cli("status", "--json", *models)
    out = capsys.readouterr().out
    document = out[out.index("[\n") :]
    return {row["model"]: row for row in json.loads(document[: document.index("\n]") + 2])}


def test_status_shows_each_models_input_its_coverage_and_a_round_waiting_for_its_data(
    bot, signals, cli, capsys, own_account
):
    total = len(signals.universe)
    covered = total * 4 // 5
    assert cli("put-live", str(write(signals, user_table(signals, covered))), "--model", OWN) == 0
    bot.numerai.set_webhook(own_account, bot.webhook_url(OWN))
    fire(bot, cli, own_account)
    record = DynamoLedger(bot.stack.table, boto3.resource("dynamodb")).get(
        signals.number, OWN, SIGNALS.id
    )
    assert (record.status, record.input) == (SUBMITTED, "own")
    assert record.coverage == pytest.approx(covered / total, abs=1e-4)
    capsys.readouterr()

    rows = status_json(cli, capsys, OWN, "alpha")
    assert (rows[OWN]["input"], rows[OWN]["coverage"]) == ("own", record.coverage)
    assert (rows["alpha"]["input"], rows["alpha"]["coverage"]) == ("numerai", None)
    assert cli("status", OWN) == 0
    row = parse_sections(capsys.readouterr().out)["signals"][OWN]
    assert (row["INPUT"], row["COVERAGE"], row["LEDGER"]) == (
        "own",
        floor_percent(covered, total),
        "submitted",
    )

    # the next round, with no table: the run waits (not at all here), then records why
    number = bot.standin.open_round(tournament="signals", trigger_webhooks=False)
    set_input(bot, {"source": "own", "table": TABLE, "wait_seconds": 0})
    fire(bot, cli, own_account)
    capsys.readouterr()
    assert cli("status", OWN) == 0  # waiting while the round is open is not failing
    out = capsys.readouterr().out
    row = parse_sections(out)["signals"][OWN]
    assert (row["ROUND"], row["LEDGER"], row["INPUT"], row["COVERAGE"]) == (
        str(number),
        "waiting",
        "own",
        "-",
    )
    assert f"{OWN}: signals round {number} waits for its own data: own data not there yet" in out
    assert status_json(cli, capsys, OWN)[OWN]["ledger_status"] == WAITING


def test_init_replaces_the_checkouts_skeleton_with_a_working_function(tmp_path):
    """The checkout ships features/ as a skeleton (so `sam build` runs without one): init
    writes the example over it without --force."""
    root = Path(__file__).resolve().parents[2] / "features"
    folder = tmp_path / "features"
    folder.mkdir()
    for name in ("app.py", "requirements.txt"):
        (folder / name).write_bytes((root / name).read_bytes())
    assert main(["init", "--feature-function", "--features-dir", str(folder)]) == 0
    assert "def compute_features" in (folder / "app.py").read_text()
    assert "pandas" in (folder / "requirements.txt").read_text()
