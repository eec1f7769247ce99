"""What Numerai serves, read once for the worker, the CLI and the exporter: leniently, so an
odd dataset name is skipped or ordered, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model_export.cli.tournament import data_version_to_download
from numerai_bot.data_versions import (
    check_served,
    is_version,
    newest,
    older_than_newest,
    served_versions,
    version_key,
)
from numerai_bot.errors import ModelError
from numerai_bot.tournaments import CLASSIC, CRYPTO, SIGNALS
from numerai_bot_cli.doctor import model_files
from numerai_bot_cli.status.version_notices import version_notices

ODD = [
    "v5.3-beta/live.parquet",
    "v5.3-beta/train.parquet",
    "v5/live.parquet",
    "vintage/live.parquet",
    "latest/live.parquet",
    "v5.2/LIVE.parquet",
    "README.txt",
    "",
    "/",
    "v/live.parquet",
    "v5.x/live.parquet",
    "signals/",
    "signals/v2.1-rc1/live.parquet",
    "signals/live.parquet",
]


def test_versions_order_as_numbers_then_release_after_its_suffixed_names() -> None:
    ordered = ["v4", "v5.2", "v5.3-beta", "v5.3", "v5.9", "v5.10", "v10"]
    assert sorted(reversed(ordered), key=version_key) == ordered
    assert is_version("v5.3-beta") and is_version("v5") and not is_version("vintage")


def test_served_versions_of_each_tournament() -> None:
    served = ["v5.2/live.parquet", "v5.3/live.parquet", "signals/v2.1/live.parquet", "v5.3/x"]
    assert served_versions(CLASSIC, served) == ["v5.2", "v5.3"]
    assert served_versions(SIGNALS, served) == ["v2.1"]
    assert served_versions(CRYPTO, served) == []


def test_newest_version_with_a_training_file_per_tournament() -> None:
    names = [
        "v5.2/train.parquet",
        "v5.10/train.parquet",
        "signals/v2.0/train.parquet",
        "signals/v2.10/train.parquet",
        "signals/v3.0/live.parquet",  # no train.parquet there: not a training version
        "crypto/v2.0/train.parquet",
    ]
    assert newest(SIGNALS, names, "train.parquet") == "v2.10"
    assert newest(CRYPTO, names, "train.parquet") == "v2.0"
    assert newest(CLASSIC, names, "train.parquet") == "v5.10"
    assert newest(SIGNALS, [], "train.parquet") is None


def test_odd_dataset_names_are_read_leniently_by_every_reader() -> None:
    served = ["v5.2/live.parquet", "v5.2/train.parquet", *ODD]
    assert served_versions(CLASSIC, served) == ["v5.x", "v5", "v5.2", "v5.3-beta"]
    assert served_versions(SIGNALS, served) == ["v2.1-rc1"]
    assert newest(CLASSIC, served, "train.parquet") == "v5.3-beta"
    # the doctor and the status notices read the list as the worker reads it
    assert model_files.served_versions is served_versions
    notices = version_notices(CLASSIC, {"a": "v5.2", "b": "v5.3-beta", "c": "odd"}, served)
    assert any("newer than v5.2 of a" in line for line in notices)
    assert not any(" of b" in line for line in notices)
    check_served(CLASSIC, "v5.3-beta", frozenset(served))
    with pytest.raises(ModelError, match=r"newest: v5\.3-beta"):
        check_served(CLASSIC, "v5.1", frozenset(served))


def test_the_exporter_downloads_the_newest_odd_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    import model_export.cli.tournament as cli_tournament

    monkeypatch.setattr(cli_tournament, "served_datasets", lambda _t: ["v5.2/train.parquet", *ODD])
    args = argparse.Namespace(data_version=None, quiet=True)
    assert data_version_to_download(args, CLASSIC, "train.parquet") == "v5.3-beta"


@given(st.lists(st.text(max_size=30), max_size=20))
def test_no_name_makes_a_reader_fail(names: list[str]) -> None:
    for tournament in (CLASSIC, SIGNALS, CRYPTO):
        versions = served_versions(tournament, names)
        assert versions == sorted(versions, key=version_key)
        older_than_newest(tournament, {"m": "v5.2", "n": "junk", "o": ""}, names)
        version_notices(tournament, {"m": "v5.2", "n": "junk"}, names)
