"""Bring your own data: a Signals or Crypto model fed the user's own table, joined to
Numerai's universe for the round; every bad table fails its own model only, and a table not
there yet waits instead of failing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from onnx import TensorProto

from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.churn import SubmissionArchive
from numerai_bot.errors import ConfigError
from numerai_bot.events import WorkerRequest
from numerai_bot.inference import ModelCache
from numerai_bot.live_data import LiveDataCache
from numerai_bot.model_input import ModelInput
from numerai_bot.models_config import (
    ModelConfig,
    parse_models_config,
    parse_models_entries,
    render_models_config,
)
from numerai_bot.own_data.feature_function import FeatureFunctionError, FeatureRequest
from numerai_bot.own_data.tables import OwnTables, table_key
from numerai_bot.round.inputs import ModelInputs, NumeraiInput, OwnInput
from numerai_bot.round.runner import RoundRunner
from numerai_bot.tournaments import CRYPTO, SIGNALS
from standins import synthetic_tournaments as provided
from standins.onnx_models import linear_model
from tests.unit.fakes import FakeNumerai, MemoryLedger

OWN_FEATURES = ("own_momentum", "own_volatility")
MODELS = {"own_s": "id-os", "own_x": "id-ox", "numerai_s": "id-ns"}
IN_TOURNAMENT = {"own_s": 11, "own_x": 12, "numerai_s": 11}
DATA_DATE = dt.date(2026, 1, 9)  # the synthetic live files' date column


class Sleeps:
    """A clock that jumps when the tables' wait sleeps (no real waiting in tests)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


class FolderFunction:
    """A feature function that writes a table where it is asked, or misbehaves."""

    def __init__(self, make_table, behaviour: str = "ok") -> None:
        self.make_table = make_table
        self.behaviour = behaviour
        self.requests: list[FeatureRequest] = []

    def compute(self, request: FeatureRequest, timeout: float):
        self.requests.append(request)
        if self.behaviour == "raises":
            raise FeatureFunctionError("the feature function raised ValueError; read its logs")
        universe = pq.read_table(request.universe)
        target = request.output if self.behaviour == "ok" else request.output + ".elsewhere"
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(self.make_table(universe), target)
        return {"output": target, "rows": universe.num_rows}


@pytest.fixture
def root(tmp_path: Path, small_data: Path) -> Path:
    folder = tmp_path / "numerai"
    shutil.copytree(small_data, folder / "v5.2")
    for shape, rows in ((provided.SIGNALS, 300), (provided.CRYPTO, 150)):
        provided.write_dataset(folder, shape, live_rows=rows, train_eras=2, ids_per_era=20)
    return folder


def own_table(ids, id_column: str = "numerai_ticker", seed: int = 0, **columns) -> pa.Table:
    """The user's table for ``ids``: two features and whatever ``columns`` add."""
    rng = np.random.default_rng(seed)
    data = {id_column: list(ids)}
    data.update({name: rng.normal(size=len(ids)) for name in OWN_FEATURES})
    data.update(columns)
    return pa.table(data)


def universe_ids(root: Path, tournament) -> list[str]:
    live = root / tournament.live_file(tournament.default_data_version)
    return pq.read_table(live).column(tournament.id_column).to_pylist()


class Bot:
    def __init__(self, tmp_path: Path, root: Path, function=None, **inputs: ModelInput) -> None:
        self.tmp_path, self.root = tmp_path, root
        self.store = LocalModelStore(tmp_path / "store")
        self.own = LocalModelStore(tmp_path / "own-data")
        self.clock = Sleeps()
        self.numerai = FakeNumerai(root / "v5.2", MODELS, tournaments=IN_TOURNAMENT)
        self.ledger = MemoryLedger()
        own_input = {
            "own_s": ModelInput("own", "momentum", wait_seconds=0),
            "own_x": ModelInput("own", "crypto_momentum", wait_seconds=0),
        }
        own_input.update(inputs)
        configs = [
            ModelConfig("own_s", "own_s.onnx", tournament=SIGNALS, input=own_input["own_s"]),
            ModelConfig("own_x", "own_x.onnx", tournament=CRYPTO, input=own_input["own_x"]),
            ModelConfig("numerai_s", "numerai_s.onnx", tournament=SIGNALS),
        ]
        self.store.write("models.json", render_models_config(configs))
        for name, tournament in (("own_s", "signals"), ("own_x", "crypto")):
            version = "v2.1" if tournament == "signals" else "v2.0"
            self.store.write(
                f"{name}.onnx",
                linear_model(
                    OWN_FEATURES,
                    data_version=version,
                    tournament=tournament,
                    input_source="own",
                    input_type=TensorProto.DOUBLE,
                ),
            )
        signals = [
            n
            for n in pq.read_schema(root / "signals/v2.1/live.parquet").names
            if n.startswith("feature_") and n not in provided.STRING_FEATURES
        ]
        self.store.write(
            "numerai_s.onnx",
            linear_model(signals, data_version="v2.1", tournament="signals", seed=3),
        )
        live = LiveDataCache(tmp_path / "live", self.numerai)
        self.tables = OwnTables(self.own, function, clock=self.clock, sleep=self.clock.sleep)
        self.runner = RoundRunner(
            self.numerai,
            self.store,
            self.ledger,
            live,
            ModelCache(self.store, threads=1),
            archive=SubmissionArchive(LocalModelStore(tmp_path / "submissions")),
            inputs=ModelInputs(
                {
                    "numerai": NumeraiInput(live),
                    "own": OwnInput(live, self.tables, tmp_path / "joined"),
                }
            ),
        )

    def drop(self, tournament, table: str, data: pa.Table, day: dt.date = DATA_DATE) -> None:
        sink = io.BytesIO()
        pq.write_table(data, sink)
        self.own.write(table_key(tournament, table, day), sink.getvalue())

    def run(self):
        return self.runner.run(WorkerRequest("webhook"))

    def body(self, model_id: str) -> list[list[str]]:
        (upload,) = [u for u in self.numerai.uploads if u["model_id"] == model_id]
        return list(csv.reader(io.StringIO(upload["body"].decode())))


def by_model(result) -> dict:
    return {o.model: o for o in result.outcomes}


def test_own_tables_dropped_by_the_users_job_are_joined_and_submitted(tmp_path, root):
    bot = Bot(tmp_path, root)
    signals_ids = universe_ids(root, SIGNALS)
    bot.drop(SIGNALS, "momentum", own_table(signals_ids[:250]))
    bot.drop(CRYPTO, "crypto_momentum", own_table(universe_ids(root, CRYPTO), "symbol"))
    result = bot.run()
    outcomes = by_model(result)
    assert {o.status for o in result.outcomes} == {"submitted"}, result.message
    assert outcomes["own_s"].input == "own" and outcomes["numerai_s"].input == "numerai"
    assert outcomes["own_s"].coverage == pytest.approx(250 / len(signals_ids), abs=1e-4)
    assert outcomes["own_x"].coverage == 1.0
    rows = bot.body("id-os")
    assert rows[0] == ["numerai_ticker", "signal"] and len(rows) - 1 == len(signals_ids)
    record = bot.ledger.get(700, "own_s", SIGNALS.id)
    assert record.input == "own" and record.coverage == outcomes["own_s"].coverage
    # below the default 0.9 coverage alert: the summary says so
    assert any("own_s" in a and "covers" in a for a in result.alerts)


def damage_column(path: Path, column: str) -> bytes:
    """Overwrite the start of ``column``'s data page (its other columns still read); the
    file's bytes before the damage, to put back."""
    good = path.read_bytes()
    meta = pq.ParquetFile(path).metadata.row_group(0)
    chunk = next(
        meta.column(i) for i in range(meta.num_columns) if meta.column(i).path_in_schema == column
    )
    damaged = bytearray(good)
    start = chunk.data_page_offset
    damaged[start : start + 16] = b"\xff" * 16
    path.write_bytes(bytes(damaged))
    return good


def test_a_universe_column_unreadable_after_loading_evicts_the_live_file(tmp_path, root):
    """The ids read, so the live file was cached; the universe's date column does not: the
    model fails naming the file, and a fixed file is downloaded afresh by a later run."""
    bot = Bot(tmp_path, root)
    now = [0.0]
    bot.runner.live_data.clock = lambda: now[0]
    bot.drop(SIGNALS, "momentum", own_table(universe_ids(root, SIGNALS)))
    bot.drop(CRYPTO, "crypto_momentum", own_table(universe_ids(root, CRYPTO), "symbol"))
    live = root / "signals/v2.1/live.parquet"
    good = damage_column(live, "date")
    first = by_model(bot.run())
    assert first["own_s"].status == "failed"
    assert "signals/v2.1/live.parquet" in first["own_s"].detail, first["own_s"].detail
    live.write_bytes(good)  # Numerai fixes the file
    now[0] += 60  # a later run in the same container
    second = by_model(bot.run())
    assert second["own_s"].status == "submitted", second["own_s"].detail


def test_a_table_not_there_yet_waits_then_leaves_it_to_the_next_check(tmp_path, root):
    bot = Bot(tmp_path, root, own_s=ModelInput("own", "momentum", wait_seconds=30))
    bot.drop(CRYPTO, "crypto_momentum", own_table(universe_ids(root, CRYPTO), "symbol"))
    bot.drop(SIGNALS, "momentum", own_table(universe_ids(root, SIGNALS)), DATA_DATE.replace(day=7))
    result = bot.run()
    waiting = by_model(result)["own_s"]
    assert waiting.status == "waiting" and not result.failed
    assert "not there yet" in waiting.detail and "2026-01-09" in waiting.detail
    assert "2026-01-07" in waiting.detail  # the newest table it found, and how old
    assert bot.clock.slept == pytest.approx(30.0)
    assert "1 waiting for own data" in result.message
    assert bot.ledger.get(700, "own_s", SIGNALS.id).status == "waiting"
    assert by_model(result)["own_x"].status == "submitted"


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        (lambda ids: own_table(ids + ids[:1]), "more than once"),
        (lambda ids: own_table(ids).drop_columns(["own_volatility"]), "lacks 1 of the model"),
        (
            lambda ids: own_table(ids).set_column(1, "own_momentum", pa.array(["x"] * len(ids))),
            "must be numeric",
        ),
        (lambda ids: own_table(ids[:99]), "covers 99 of the"),
        (lambda ids: own_table(ids, "isin"), "none of the id columns"),
        (lambda ids: own_table(ids, date=["2026-01-08"] * len(ids)), "holds data for 2026-01-08"),
    ],
    ids=["duplicate-ids", "missing-column", "mistyped-column", "too-few", "no-id", "stale"],
)
def test_a_bad_table_fails_its_model_alone_and_uploads_nothing_for_it(tmp_path, root, broken, says):
    bot = Bot(tmp_path, root)
    bot.drop(SIGNALS, "momentum", broken(universe_ids(root, SIGNALS)))
    bot.drop(CRYPTO, "crypto_momentum", own_table(universe_ids(root, CRYPTO), "symbol"))
    result = bot.run()
    outcomes = by_model(result)
    assert outcomes["own_s"].status == "failed" and says in outcomes["own_s"].detail
    assert outcomes["own_x"].status == "submitted"
    assert outcomes["numerai_s"].status == "submitted"
    assert "id-os" not in {u["model_id"] for u in bot.numerai.uploads}


def test_missing_drop_leaves_uncovered_ids_out_of_the_submission(tmp_path, root):
    bot = Bot(tmp_path, root, own_s=ModelInput("own", "momentum", missing="drop"))
    ids = universe_ids(root, SIGNALS)
    bot.drop(SIGNALS, "momentum", own_table([*ids[:150], "NOT IN UNIVERSE"]))
    bot.drop(CRYPTO, "crypto_momentum", own_table(universe_ids(root, CRYPTO), "symbol"))
    result = bot.run()
    assert by_model(result)["own_s"].status == "submitted", result.message
    assert sorted(r[0] for r in bot.body("id-os")[1:]) == sorted(ids[:150])


def test_the_feature_function_computes_a_table_once_for_the_models_sharing_it(tmp_path, root):
    function = FolderFunction(
        lambda universe: own_table(universe.column("symbol").to_pylist(), "symbol")
    )
    both = ModelInput("own", "crypto_momentum", feature_function=True, wait_seconds=0)
    bot = Bot(tmp_path, root, function, own_x=both)
    bot.drop(SIGNALS, "momentum", own_table(universe_ids(root, SIGNALS)))
    result = bot.run()
    assert by_model(result)["own_x"].status == "submitted", result.message
    (request,) = function.requests
    assert request.tournament == "crypto" and request.round_number == 900
    assert request.data_date == DATA_DATE and request.table == "crypto_momentum"
    assert request.output.endswith("crypto/crypto_momentum/2026-01-09.parquet")
    assert pq.read_table(request.universe).column("symbol").to_pylist() == universe_ids(
        root, CRYPTO
    )


@pytest.mark.parametrize(
    ("behaviour", "says"), [("raises", "raised ValueError"), ("wrong-key", "was asked to write")]
)
def test_a_failing_feature_function_fails_only_its_model(tmp_path, root, behaviour, says):
    function = FolderFunction(
        lambda universe: own_table(universe.column("symbol").to_pylist(), "symbol"), behaviour
    )
    both = ModelInput("own", "crypto_momentum", feature_function=True, wait_seconds=0)
    bot = Bot(tmp_path, root, function, own_x=both)
    bot.drop(SIGNALS, "momentum", own_table(universe_ids(root, SIGNALS)))
    result = bot.run()
    outcomes = by_model(result)
    assert outcomes["own_x"].status == "failed" and says in outcomes["own_x"].detail
    assert outcomes["own_s"].status == "submitted"


def test_a_model_exported_for_own_data_refuses_numerais_file(tmp_path, root):
    bot = Bot(tmp_path, root, own_s=ModelInput())  # models.json says numerai
    bot.drop(CRYPTO, "crypto_momentum", own_table(universe_ids(root, CRYPTO), "symbol"))
    result = bot.run()
    detail = by_model(result)["own_s"].detail
    assert "exported to read own data" in detail and "gives it numerai data" in detail


def test_models_json_input_round_trips_and_own_data_is_not_for_classic():
    configs = [
        ModelConfig(
            "s",
            "s.onnx",
            tournament=SIGNALS,
            input=ModelInput("own", "momentum", "bloomberg_ticker", "drop", 2, 0.5, 30, True),
        ),
        ModelConfig("c", "c.onnx"),
    ]
    parsed = parse_models_config(render_models_config(configs))
    assert sorted(parsed, key=lambda c: c.name) == sorted(configs, key=lambda c: c.name)
    _, broken = parse_models_entries('{"models": {"c": {"artifact": "c.onnx", "input": "own"}}}')
    assert "own data is for Signals and Crypto" in broken[0].error
    _, broken = parse_models_entries(
        '{"models": {"s": {"artifact": "s.onnx", "tournament": "signals", '
        '"input": {"source": "own", "missing": "zero"}}}}'
    )
    assert "'missing' must be one of nan, drop" in broken[0].error
    with pytest.raises(ConfigError):
        parse_models_config('{"models": {"s": {"artifact": "s.onnx", "input": 3}}}')


def test_crypto_v1_serving_only_the_universe_feeds_own_data_and_says_so_to_numerai_models(
    tmp_path, root
):
    """The new user's listing: crypto v1.0 has the universe and targets, no features."""
    folder = provided.write_universe(root, provided.CRYPTO_UNIVERSE, provided.CRYPTO, 900)
    universe = pq.read_table(folder / "live_universe.parquet")
    day = dt.date.fromisoformat(universe.column("date")[0].as_py())
    bot = Bot(tmp_path, root)
    bot.numerai.served = frozenset(
        {
            "signals/v2.1/live.parquet",
            "crypto/v1.0/live_universe.parquet",
            "crypto/v1.0/historical_targets.parquet",
        }
    )
    bot.drop(SIGNALS, "momentum", own_table(universe_ids(root, SIGNALS)))
    bot.drop(
        CRYPTO, "crypto_momentum", own_table(universe.column("symbol").to_pylist(), "symbol"), day
    )
    result = bot.run()
    outcomes = by_model(result)
    assert outcomes["own_x"].status == "submitted", outcomes["own_x"].detail
    assert outcomes["own_x"].coverage == 1.0
    assert len(bot.body("id-ox")) - 1 == universe.num_rows
    assert outcomes["own_s"].status == "submitted"
    # A model on Numerai's crypto v2.0 features: told what is served and what to do, never "none"
    bot.store.write(
        "models.json",
        render_models_config([ModelConfig("own_x", "numerai_x.onnx", tournament=CRYPTO)]),
    )
    crypto = [
        n
        for n in pq.read_schema(root / "crypto/v2.0/live.parquet").names
        if n.startswith("feature_")
    ]
    bot.store.write(
        "numerai_x.onnx", linear_model(crypto, data_version="v2.0", tournament="crypto")
    )
    bot.numerai.uploads.clear()
    detail = by_model(bot.runner.run(WorkerRequest("webhook", force=True)))["own_x"].detail
    assert "crypto v2.0 is not served" in detail and "v1.0, which has no features" in detail
    assert "bring your own data" in detail and "none" not in detail
