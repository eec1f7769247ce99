"""The CLI against the local stand-ins: one LocalBot (moto + Numerai stand-in + handlers over
HTTP) for the whole package, a stack-outputs file and a numerai-bot.toml pointing at it.

Each test that submits opens a new round, so ledger and idempotency records never leak.
The bot lives as long as this package's tests: moto's resources are process-wide, so the
integration tests' bot (and ``mock_aws``) must not run while this one holds the stack's names.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from numerai_bot_cli.main import main
from standins.local_bot import LocalBot
from standins.onnx_models import linear_model
from tests.conftest import SMALL, reset_moto

MODELS = {
    "alpha": "0b2f6a52-0001-4000-8000-00000000c001",
    "beta": "0b2f6a52-0002-4000-8000-00000000c002",
    "hosted": "0b2f6a52-0003-4000-8000-00000000c003",  # gets a Model Upload in one test
}
BOT_MODELS = ("alpha", "beta")
WORKER_FUNCTION = "numerai-bot-worker"
_rounds = itertools.count(3000)


@pytest.fixture(scope="package")
def local_bot(tmp_path_factory: pytest.TempPathFactory):
    """moto, the Numerai stand-in and the two handlers, from an empty moto, for every CLI test."""
    workdir: Path = tmp_path_factory.mktemp("cli-bot")
    reset_moto()
    with LocalBot(workdir, models=MODELS, round_number=2999, **SMALL) as bot:
        yield bot


@pytest.fixture(scope="package")
def workspace(local_bot: LocalBot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the models' ONNX files, stack-outputs.json and numerai-bot.toml."""
    folder: Path = tmp_path_factory.mktemp("operator")
    features_file = local_bot.workdir / "numerai-data" / "v5.2" / "features.json"
    features = json.loads(features_file.read_text())["feature_sets"]["medium"]
    for seed, name in enumerate(BOT_MODELS):
        (folder / f"{name}.onnx").write_bytes(linear_model(features, seed=seed))
    (folder / "broken.onnx").write_bytes(linear_model(features, behaviour="nan"))
    outputs = {
        "WebhookBaseUrl": local_bot.webhook_base_url,
        "ModelStoreUri": f"s3://{local_bot.stack.bucket}/models",
        "LedgerTableName": local_bot.stack.table,
        "NumeraiApiKeysSecretName": local_bot.stack.keys_secret,
        "WebhookTokenSecretName": local_bot.stack.token_secret,
        "WorkerFunctionName": WORKER_FUNCTION,
    }
    (folder / "stack-outputs.json").write_text(json.dumps(outputs))
    assert main(["init", "--models", *BOT_MODELS, "-o", str(folder / "numerai-bot.toml")]) == 0
    config = folder / "numerai-bot.toml"
    config.write_text(
        config.read_text().replace(
            '# outputs_file = "stack-outputs.json"', 'outputs_file = "stack-outputs.json"'
        )
    )
    return folder


@pytest.fixture
def cli(workspace: Path) -> Callable[..., int]:
    """``cli("status", ...)``: run numerai-bot with the workspace's config."""

    def run(*argv: str) -> int:
        command, *rest = argv
        return main([command, "--config", str(workspace / "numerai-bot.toml"), *rest])

    return run


@pytest.fixture
def bot(local_bot: LocalBot, workspace: Path, cli) -> LocalBot:
    """A fresh open round, default knobs, the models published and their webhooks set."""
    local_bot.standin.reset_knobs()
    local_bot.standin.open_round(next(_rounds), trigger_webhooks=False)
    local_bot.restart_handlers()
    assert cli("publish") == 0
    assert cli("register-webhooks") == 0
    return local_bot


def open_round_minutes_ago(bot: LocalBot, minutes: float) -> int:
    """Open the next round as if it had opened ``minutes`` ago; return its number."""
    number = bot.standin.open_round(next(_rounds), trigger_webhooks=False)
    opened = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    bot.standin.set_round_times(open_time=opened.replace(microsecond=0))
    return number
