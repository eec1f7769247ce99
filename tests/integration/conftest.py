"""One local bot (moto + Numerai stand-in + handlers over HTTP) for the integration tests.

Each test opens a new round, so ledgers and idempotency records never leak between tests.
The bot lives as long as this package's tests: moto's resources are process-wide, so the
CLI tests' bot (and ``mock_aws``) must not run while this one holds the stack's names.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from standins.local_bot import LocalBot
from standins.onnx_models import linear_model
from tests.conftest import SMALL, reset_moto

MODELS = {
    "alpha": "0b2f6a52-0001-4000-8000-000000000001",
    "beta": "0b2f6a52-0002-4000-8000-000000000002",
    "gamma": "0b2f6a52-0003-4000-8000-000000000003",
}
_rounds = itertools.count(2000)


@pytest.fixture(scope="package")
def local_bot(tmp_path_factory: pytest.TempPathFactory):
    """moto, the Numerai stand-in and the two handlers, from an empty moto, for this package."""
    workdir: Path = tmp_path_factory.mktemp("local-bot")
    reset_moto()
    with LocalBot(workdir, models=MODELS, round_number=1999, **SMALL) as bot:
        yield bot


@pytest.fixture(scope="package")
def feature_sets(local_bot: LocalBot) -> dict[str, list[str]]:
    """The feature sets of the stand-in's v5.2 data."""
    path = local_bot.workdir / "numerai-data" / "v5.2" / "features.json"
    return json.loads(path.read_text())["feature_sets"]


@pytest.fixture
def bot(local_bot: LocalBot, feature_sets):
    """The local bot with a fresh round open, default knobs, fresh (cold) handlers."""
    local_bot.standin.reset_knobs()
    local_bot.standin.open_round(next(_rounds), trigger_webhooks=False)
    local_bot.restart_handlers()
    for seed, name in enumerate(MODELS):
        local_bot.publish(name, linear_model(feature_sets["medium"], seed=seed))
    return local_bot


def accepted(bot: LocalBot, model: str | None = None) -> list:
    """Submissions the stand-in accepted this round."""
    number = bot.standin.current_round
    return [
        s
        for s in bot.standin.submissions(model)
        if s["status"] == "accepted" and s["round"] == number
    ]
