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
import json
import os
import subprocess
import sys
import tomllib
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
from numerai_bot.adapters.model_store import open_model_store
from numerai_bot_cli.main import main
from standins.local_bot import LocalBot
from standins.onnx_models import linear_model
from standins.synthetic_prices import price_history, reference_features

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
def own_account(local_bot: LocalBot) -> str:
    """``own_sig``, a Signals model of the account (made once)."""
    return local_bot.standin.create_model(OWN, tournament="signals")


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
