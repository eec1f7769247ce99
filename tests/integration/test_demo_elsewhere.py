"""`make demo` against another Numerai endpoint: the account's own models, the newest data
version, no validation file needed, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import demo
from standins.numerai import TournamentSizes
from standins.numerai.server import NumeraiStandin

KEYS = {"NUMERAI_PUBLIC_ID": "PUBLICID12345678", "NUMERAI_SECRET_KEY": "SECRETKEY1234567890"}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory):
    """A Numerai-compatible endpoint that is not the demo's own stand-in."""
    standin = NumeraiStandin(
        tmp_path_factory.mktemp("elsewhere"),
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
    standin.start()
    yield standin
    standin.stop()


def test_the_demo_plays_the_accounts_own_models_on_the_newest_data(
    endpoint, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("NUMERAI_API_URL", endpoint.url)
    for key, value in KEYS.items():
        monkeypatch.setenv(key, value)
    assert demo.main(["--trees", "10", "--workdir", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 models submitted" in out and "data v5.3" in out
    assert {s["model_name"] for s in endpoint.submissions()} >= {"their_model", "their_sig"}


def test_missing_keys_and_unknown_models_are_one_line_errors(
    endpoint, tmp_path: Path, monkeypatch, capsys
):
    monkeypatch.setenv("NUMERAI_API_URL", endpoint.url)
    monkeypatch.delenv("NUMERAI_PUBLIC_ID", raising=False)
    assert demo.main(["--workdir", str(tmp_path / "a")]) == 2
    assert "set NUMERAI_PUBLIC_ID and NUMERAI_SECRET_KEY" in capsys.readouterr().err
    for key, value in KEYS.items():
        monkeypatch.setenv(key, value)
    assert demo.main(["--workdir", str(tmp_path / "b"), "--models", "nobody"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: model 'nobody' is not in the account")
