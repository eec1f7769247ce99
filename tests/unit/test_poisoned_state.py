"""State that must not poison later rounds: a live file whose ids are blank or placeholders
is refused and evicted (a fixed file is read afresh), and a corrupt file in the churn archive
is set aside and only costs that round's churn comparison."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.churn import SubmissionArchive, movement
from numerai_bot.errors import LiveDataError, ModelError, PredictionError
from numerai_bot.live_data import LiveDataCache
from numerai_bot.tournaments import SIGNALS


class Source:
    """Numerai's live file, as the test wants it this time."""

    def __init__(self) -> None:
        self.table: pa.Table | None = None
        self.downloads = 0

    def download_dataset(self, filename, dest: Path, round_number, tournament) -> Path:
        self.downloads += 1
        dest.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(self.table, dest)
        return dest


def live(ids: list) -> pa.Table:
    return pa.table({"numerai_ticker": ids, "feature_a": np.arange(len(ids), dtype=float)})


GOOD = [f"S{i} US" for i in range(200)]


@pytest.mark.parametrize("bad", ["", "nan", "None", " NaN "])
def test_blank_or_placeholder_ids_are_refused_and_a_fixed_file_is_read_afresh(tmp_path, bad):
    source, clock = Source(), [0.0]
    shared = LocalModelStore(tmp_path / "shared")
    cache = LiveDataCache(tmp_path / "live", source, shared, clock=lambda: clock[0])
    source.table = live([*GOOD[:-1], bad])
    with pytest.raises(LiveDataError, match="blank or a placeholder"):
        cache.get(700, "v2.1", SIGNALS)
    assert not list((tmp_path / "shared").rglob("*.parquet"))  # never shared with the shards
    source.table = live(GOOD)  # Numerai fixes the file
    clock[0] += 60  # a later run
    assert cache.get(700, "v2.1", SIGNALS).rows == len(GOOD) and source.downloads == 2


def classic_live(feature_a: list) -> pa.Table:
    rows = len(feature_a)
    return pa.table(
        {"id": [f"n{i}" for i in range(rows)], "feature_a": feature_a, "feature_b": [1] * rows}
    )


@pytest.mark.parametrize("bad", [[0, 1, 9], [True, False, True]])
def test_a_bad_feature_column_found_after_loading_is_not_served_again(tmp_path, bad):
    """The ids read fine, so the file was cached (and shared with the shards); a feature
    column read later for a model is bad. The shards and later runs must not get the file
    again; the run's models that do not need that column still predict."""
    source, clock = Source(), [0.0]
    shared = LocalModelStore(tmp_path / "shared")
    cache = LiveDataCache(tmp_path / "live", source, shared, clock=lambda: clock[0])
    source.table = classic_live(bad)
    cache.stage(500, "v5.2")  # handed to shards
    assert list((tmp_path / "shared").rglob("*.parquet"))
    with pytest.raises(LiveDataError, match="feature_a"):
        cache.get(500, "v5.2").features(("feature_a",))
    assert not list((tmp_path / "shared").rglob("*.parquet"))  # the shards download afresh
    other = cache.get(500, "v5.2").features(("feature_b",))  # another model of the run
    assert other.dense().ravel().tolist() == [1, 1, 1] and source.downloads == 1
    source.table = classic_live([0, 1, 2])  # Numerai fixes the file
    clock[0] += 60  # a later run in the same container
    fixed = cache.get(500, "v5.2").features(("feature_a",))
    assert fixed.dense().ravel().tolist() == [0, 1, 2] and source.downloads == 2


@pytest.mark.parametrize(
    "corrupt",
    [
        b"\xff\xfe\x00garbage",
        b"numerai_ticker,signal\nAAPL US,high\n",
        b"numerai_ticker,signal\nAAPL US,nan\n",
        b"numerai_ticker,signal\n",
        b"numerai_ticker,signal\nAAPL US\n",
    ],
)
def test_a_corrupt_archived_submission_is_set_aside_and_only_skips_the_comparison(
    tmp_path, corrupt
):
    archive = SubmissionArchive(LocalModelStore(tmp_path / "archive"))
    body = b"numerai_ticker,signal\n" + b"".join(f"{t},0.5\n".encode() for t in GOOD)
    archive.keep("signals", "m", 699, corrupt)
    moved = movement(archive, "signals", "m", 700, body)
    assert moved is not None and moved.churn is None and moved.turnover is None
    assert f"{tmp_path / 'archive'}/signals/m/699.csv is unreadable" in moved.unreadable
    assert (tmp_path / "archive/quarantine/signals/m/699.csv").read_bytes() == corrupt
    assert archive.previous("signals", "m", 700) is None  # no later round reads it again


class UnreachableArchive(LocalModelStore):
    """The archive's files cannot be read right now (S3 down, access denied)."""

    def read(self, key: str):
        if key.endswith(".csv"):
            raise ModelError(f"cannot read {key!r} from {self.uri}: S3 unreachable")
        return super().read(key)


def test_an_unreachable_archive_skips_the_advice_but_not_a_max_churn_limit(tmp_path):
    archive = SubmissionArchive(UnreachableArchive(tmp_path / "archive"))
    archive.keep("signals", "m", 699, b"numerai_ticker,signal\nAAPL US,0.5\n")
    body = b"numerai_ticker,signal\n" + b"".join(f"{t},0.5\n".encode() for t in GOOD)
    assert movement(archive, "signals", "m", 700, body) is None
    with pytest.raises(PredictionError, match=r"to check max_churn 0\.15: .*S3 unreachable"):
        movement(archive, "signals", "m", 700, body, max_churn=0.15)


class FullDisk(Source):
    """/tmp is full: every download fails writing its file."""

    def download_dataset(self, filename, dest: Path, round_number, tournament) -> Path:
        self.downloads += 1
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_tmp_is_one_clear_error_and_the_runs_other_models_do_not_download_again(tmp_path):
    source = FullDisk()
    cache = LiveDataCache(tmp_path / "live", source, clock=lambda: 0.0)
    for _ in range(3):  # three models of the run
        with pytest.raises(LiveDataError, match="WorkerEphemeralStorage"):
            cache.get(700, "v2.1", SIGNALS)
    assert source.downloads == 1
