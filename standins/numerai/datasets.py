"""The stand-in's data files: generate them once, rotate live data per round, serve them.

Files live under ``<data_root>/<version>/`` exactly as Numerai names them
(``v5.2/live.parquet`` ...). A small marker file ``.standin.json`` in each version folder
records the generation parameters and the round the live file belongs to, so a restart reuses
the data instead of regenerating it. A version folder holding data without the marker (for
example real Numerai files) is used as it is.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from standins import synthetic_data

MARKER = ".standin.json"
REQUIRED_FILES = ("features.json", "train.parquet", "validation.parquet", "live.parquet")


@dataclass(frozen=True)
class DataSizes:
    """How big the generated data is. Defaults are Numerai's live size; tests pass small ones."""

    live_rows: int = synthetic_data.LIVE_ROWS
    n_features: int = synthetic_data.FEATURE_SET_SIZES["all"]
    train_eras: int = 60
    validation_eras: int = 20
    rows_per_era: int = 100


class DataStore:
    """Owns the data folder: generation, per-round live files, file lookup and live ids."""

    def __init__(self, root: Path, versions: list[str], sizes: DataSizes, seed: int = 0) -> None:
        if not versions:
            raise ValueError("at least one data version is needed")
        self.root = Path(root)
        self.versions = list(versions)
        self.sizes = sizes
        self.seed = seed
        self._lock = threading.Lock()
        self._live_ids: dict[str, frozenset[str]] = {}
        self._round: int | None = None  # the round the live files belong to, once ensured

    # -- generation ---------------------------------------------------------------------------

    def ensure(self, round_number: int) -> None:
        """Make every version's files exist, with a live file for ``round_number``."""
        for version in self.versions:
            self._ensure_version(version, round_number)
        with self._lock:
            self._live_ids.clear()
            self._round = round_number

    def ready_for(self, round_number: int) -> None:
        """Files exist and live files belong to ``round_number`` (generate or rotate if not)."""
        if self._round is None:
            self.ensure(round_number)
        elif self._round != round_number:
            self.rotate_live(round_number)

    def rotate_live(self, round_number: int) -> None:
        """Write new live files (new ids) for a new round, as Numerai does every round."""
        for version in self.versions:
            version_dir = self.root / version
            synthetic_data.write_live(
                version_dir,
                self._universe(version_dir),
                round_number,
                self.sizes.live_rows,
                self.seed,
            )
            marker = self._read_marker(version_dir) or {}
            if marker:
                marker.update(live_round=round_number, live_rows=self.sizes.live_rows)
                self._write_marker(version_dir, marker)
        with self._lock:
            self._live_ids.clear()
            self._round = round_number

    def _ensure_version(self, version: str, round_number: int) -> None:
        version_dir = self.root / version
        complete = all((version_dir / name).exists() for name in REQUIRED_FILES)
        marker = self._read_marker(version_dir)
        wanted = self._generation_params()
        if complete and marker is None:
            return  # Foreign data (e.g. real Numerai files): use it untouched.
        if complete and marker is not None and marker.get("params") == wanted:
            if (marker.get("live_round"), marker.get("live_rows")) != (
                round_number,
                self.sizes.live_rows,
            ):
                synthetic_data.write_live(
                    version_dir,
                    self._universe(version_dir),
                    round_number,
                    self.sizes.live_rows,
                    self.seed,
                )
                marker.update(live_round=round_number, live_rows=self.sizes.live_rows)
                self._write_marker(version_dir, marker)
            return
        synthetic_data.write_dataset(
            self.root,
            version,
            seed=self.seed,
            round_number=round_number,
            live_rows=self.sizes.live_rows,
            n_features=self.sizes.n_features,
            train_eras=self.sizes.train_eras,
            validation_eras=self.sizes.validation_eras,
            rows_per_era=self.sizes.rows_per_era,
        )
        self._write_marker(
            version_dir,
            {"params": wanted, "live_round": round_number, "live_rows": self.sizes.live_rows},
        )

    def _generation_params(self) -> dict:
        params = asdict(self.sizes)
        params.pop("live_rows")  # Live rows only affect live files, rewritten cheaply.
        params["seed"] = self.seed
        return params

    @staticmethod
    def _universe(version_dir: Path) -> synthetic_data.Universe:
        """Rebuild the feature universe from ``features.json`` (live files need no signal)."""
        doc = json.loads((version_dir / "features.json").read_text())
        feature_sets = doc["feature_sets"]
        return synthetic_data.Universe(
            features=tuple(feature_sets["all"]),
            feature_sets=feature_sets,
            signal_columns=(),
            signal_weights=(),
        )

    @staticmethod
    def _read_marker(version_dir: Path) -> dict | None:
        try:
            return json.loads((version_dir / MARKER).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    @staticmethod
    def _write_marker(version_dir: Path, marker: dict) -> None:
        (version_dir / MARKER).write_text(json.dumps(marker, indent=2))

    # -- lookup -------------------------------------------------------------------------------

    def list_files(self) -> list[str]:
        """Every downloadable file as Numerai names it: ``<version>/<file>``, sorted."""
        names: list[str] = []
        for version in self.versions:
            version_dir = self.root / version
            if version_dir.is_dir():
                names.extend(
                    f"{version}/{path.name}"
                    for path in sorted(version_dir.iterdir())
                    if path.is_file() and not path.name.startswith(".")
                )
        return names

    def path_for(self, filename: str) -> Path | None:
        """The local path of a listed file, or None (also for anything outside the list)."""
        if filename not in self.list_files():
            return None
        return self.root / filename

    def live_ids(self, version: str | None = None) -> frozenset[str]:
        """The ``id`` column of a version's current live file (cached until the round turns)."""
        version = version or self.versions[0]
        with self._lock:
            cached = self._live_ids.get(version)
        if cached is not None:
            return cached
        table = pq.read_table(self.root / version / "live.parquet", columns=["id"])
        ids = frozenset(str(value) for value in table.column("id").to_pylist())
        with self._lock:
            self._live_ids[version] = ids
        return ids

    def live_id_sets(self) -> dict[str, frozenset[str]]:
        """Live ids per version (they normally agree, as Numerai's versions share ids)."""
        return {version: self.live_ids(version) for version in self.versions}


def with_unusable_ids(live: Path, placeholders: tuple[str, ...]) -> Path:
    """A copy of ``live`` whose first rows' ids are ``placeholders`` (blank, "nan", "None"
    ...), written beside it: what a live file Numerai built from a null id column holds."""
    variant = live.with_name(f".{live.stem}.unusable-ids.parquet")
    table = pq.read_table(live)
    ids = table.column("id").to_pylist()
    ids[: len(placeholders)] = list(placeholders)
    index = table.schema.get_field_index("id")
    # Written aside and moved in: concurrent downloads each see a whole file.
    fd, part = tempfile.mkstemp(dir=live.parent, suffix=".part")
    os.close(fd)
    pq.write_table(table.set_column(index, "id", pa.array(ids, pa.string())), part)
    os.replace(part, variant)
    return variant
