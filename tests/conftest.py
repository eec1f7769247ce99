"""Shared fixtures: small synthetic Numerai data (real layout, fewer rows and columns),
hypothesis profiles, and a reset of moto's process-wide state."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import settings

from standins.synthetic_data import write_dataset

SMALL = {
    "live_rows": 300,
    "n_features": 60,
    "train_eras": 12,
    "validation_eras": 4,
    "rows_per_era": 50,
}

# Hypothesis profiles, chosen by HYPOTHESIS_PROFILE: "dev" (the default, `make test`) tries a
# few examples per property; "ci" (`make test-all`, CI) tries hypothesis' usual 100 and
# prints the blob that replays a failure. The deadline is per example: 5x hypothesis' own,
# so a shared 2-core machine does not fail a property, yet a hung example still does.
CI_EXAMPLES = 100
DEADLINE = timedelta(seconds=1)
settings.register_profile("ci", max_examples=CI_EXAMPLES, deadline=DEADLINE, print_blob=True)
settings.register_profile("dev", max_examples=10, deadline=DEADLINE)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def examples(ci_count: int) -> int:
    """A property's example count: ``ci_count`` under the ci profile, scaled to the loaded one
    (for the properties that try more, or fewer, examples than the profile's default)."""
    return max(1, round(ci_count * settings.default.max_examples / CI_EXAMPLES))


def reset_moto() -> None:
    """Forget every resource in moto's backends, as ``POST /moto-api/reset`` does.

    moto keeps them per process, shared by every ``mock_aws`` and moto server in it: a
    stand-in stack starts from nothing whatever ran before it in this pytest process.
    """
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A v5.2 folder (features.json, live, train, validation) of small size."""
    root = tmp_path_factory.mktemp("numerai-data")
    return write_dataset(root, "v5.2", seed=7, round_number=1, **SMALL)


@pytest.fixture(scope="session")
def small_features(small_data: Path) -> dict[str, list[str]]:
    """The feature sets of ``small_data``."""
    return json.loads((small_data / "features.json").read_text())["feature_sets"]
