"""`make demo` against another Numerai endpoint: the account's own models, the newest data
version, no validation file needed, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from standins.numerai import TournamentSizes
from standins.numerai.server import NumeraiStandin

pytestmark = pytest.mark.slow

KEYS = {"NUMERAI_PUBLIC_ID": "PUBLICID12345678", "NUMERAI_SECRET_KEY": "SECRETKEY1234567890"}


def run_demo(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """``python -m scripts.demo`` in its own process, as a user runs it: moto's state is
    per process, and this suite's own stack already holds the tables the demo creates."""
    base = {k: v for k, v in os.environ.items() if k not in KEYS and k != "NUMERAI_API_URL"}
    return subprocess.run(
        [sys.executable, "-m", "scripts.demo", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**base, "PYTHONPATH": os.pathsep.join(sys.path), **env},
    )


def elsewhere(folder: Path) -> NumeraiStandin:
    """A Numerai-compatible endpoint that is not the demo's own stand-in."""
    return NumeraiStandin(
        folder,
        ("v5.2", "v5.3"),
        public_id=KEYS["NUMERAI_PUBLIC_ID"],
        secret_key=KEYS["NUMERAI_SECRET_KEY"],
        models={
            "their_model": "9a1e0c2d-0001-4000-8000-0000000000e1",
            "their_sig": "9a1e0c2d-0002-4000-8000-0000000000e2",
        },
        model_tournaments={"their_sig": 11},
        tournament_sizes={11: TournamentSizes(live_rows=200, train_eras=4, ids_per_era=120)},
        live_rows=300,
        n_features=60,
        train_eras=8,
        validation_eras=2,
        rows_per_era=50,
    )


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory):
    """One endpoint for the tests that submit at most once per model and round."""
    standin = elsewhere(tmp_path_factory.mktemp("elsewhere"))
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def fresh_endpoint(tmp_path: Path):
    """An endpoint whose round holds no submission yet (another endpoint, not a new round:
    the demo cannot open rounds elsewhere, and Numerai keeps one submission per round)."""
    standin = elsewhere(tmp_path / "elsewhere")
    standin.start()
    yield standin
    standin.stop()


def test_the_demo_plays_the_accounts_own_models_on_the_newest_data(endpoint, tmp_path):
    done = run_demo(
        ["--trees", "10", "--workdir", str(tmp_path / "demo")], NUMERAI_API_URL=endpoint.url, **KEYS
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1500:]
    assert "2 of 2 models submitted" in done.stdout and "data v5.3" in done.stdout
    assert {s["model_name"] for s in endpoint.submissions()} >= {"their_model", "their_sig"}


def test_missing_keys_and_unknown_models_are_one_line_errors(endpoint, tmp_path: Path):
    done = run_demo(["--workdir", str(tmp_path / "a")], NUMERAI_API_URL=endpoint.url)
    assert done.returncode == 2
    assert "set NUMERAI_PUBLIC_ID and NUMERAI_SECRET_KEY" in done.stderr
    done = run_demo(
        ["--workdir", str(tmp_path / "b"), "--models", "nobody"],
        NUMERAI_API_URL=endpoint.url,
        **KEYS,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("error: model 'nobody' is not in the account")
    )


def test_wrong_keys_are_one_line_saying_which_keys_and_where_to_set_them(endpoint, tmp_path):
    wrong = {**KEYS, "NUMERAI_SECRET_KEY": "WRONGKEY1234567890"}
    done = run_demo(["--workdir", str(tmp_path / "demo")], NUMERAI_API_URL=endpoint.url, **wrong)
    assert done.returncode == 2
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {endpoint.url} refused the API key in NUMERAI_PUBLIC_ID")
    assert "NUMERAI_SECRET_KEY" in line and "API keys" in line
    assert "WRONGKEY" not in done.stderr


def test_the_webhook_is_registered_at_the_public_url_and_listens_where_asked(
    fresh_endpoint, tmp_path
):
    endpoint = fresh_endpoint
    port = free_port()
    done = run_demo(
        ["--trees", "10", "--workdir", str(tmp_path / "demo"), "--models", "their_model"],
        NUMERAI_API_URL=endpoint.url,
        DEMO_WEBHOOK_URL=f"http://localhost:{port}",  # as a tunnel's public name would be
        DEMO_WEBHOOK_BIND=f"127.0.0.1:{port}",
        **KEYS,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1500:]
    assert f"webhook at http://localhost:{port}/" in done.stdout
    assert endpoint.webhooks()["their_model"].startswith(f"http://localhost:{port}/")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
