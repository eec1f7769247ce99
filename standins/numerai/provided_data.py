"""Signals' and Crypto's data files: generated on first use, live file rotated per round.

One :class:`ProvidedData` per tournament owns ``<data_root>/<tournament>/<version>/``
(``signals/v2.1/live.parquet`` ...), written by :mod:`standins.synthetic_tournaments`. Files
are generated the first time the tournament is asked for them, so a stand-in used only for
Classic never pays for them. A marker file records the generation parameters and the live
file's round, so a restart reuses the data; a folder holding the files without a marker (real
Numerai files) is used as it is.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow.parquet as pq

from standins import synthetic_tournaments
from standins.synthetic_tournaments import TournamentData

MARKER = ".standin.json"
REQUIRED_FILES = ("features.json", "train.parquet", "validation.parquet", "live.parquet")


@dataclass(frozen=True)
class TournamentSizes:
    """How big a Signals or Crypto version is; None keeps the tournament's real-ish default."""

    live_rows: int | None = None
    n_features: int | None = None
    train_eras: int = 40
    validation_eras: int = 10
    ids_per_era: int = 200


class ProvidedData:
    """One tournament's data version: generation, live rotation, lookup and live ids."""

    def __init__(
        self, root: Path, shape: TournamentData, sizes: TournamentSizes, seed: int = 0
    ) -> None:
        changes = {"live_rows": sizes.live_rows, "n_features": sizes.n_features}
        self.shape = dataclasses.replace(
            shape, **{k: v for k, v in changes.items() if v is not None}
        )
        self.root = Path(root)
        self.sizes = sizes
        self.seed = seed
        self._lock = threading.RLock()
        self._live_round: int | None = None
        self._live_ids: frozenset[str] | None = None

    @property
    def folder(self) -> Path:
        """``<data_root>/signals/v2.1``."""
        return self.root / self.shape.folder

    @property
    def versions(self) -> list[str]:
        """The data versions served (one), as Numerai names their folder."""
        return [self.shape.folder]

    # -- generation ---------------------------------------------------------------------------

    def ready_for(self, round_number: int) -> None:
        """Make the files exist, with the live file of ``round_number`` (cheap when they do)."""
        with self._lock:
            if self._live_round == round_number:
                return
            complete = all((self.folder / name).exists() for name in REQUIRED_FILES)
            marker = self._read_marker()
            if complete and marker is None:
                pass  # Foreign data (e.g. real Numerai files): use it untouched.
            elif complete and marker is not None and marker.get("params") == self._params():
                if marker.get("live_round") != round_number:
                    self._write_live(round_number, marker)
            else:
                synthetic_tournaments.write_dataset(
                    self.root,
                    self.shape,
                    seed=self.seed,
                    round_number=round_number,
                    live_rows=self.shape.live_rows,
                    train_eras=self.sizes.train_eras,
                    validation_eras=self.sizes.validation_eras,
                    ids_per_era=self.sizes.ids_per_era,
                )
                self._write_marker({"params": self._params(), "live_round": round_number})
            self._live_round = round_number
            self._live_ids = None

    def _write_live(self, round_number: int, marker: dict) -> None:
        synthetic_tournaments.write_live(
            self.root, self.shape, round_number, self.seed, self.shape.live_rows
        )
        marker["live_round"] = round_number
        self._write_marker(marker)

    def _params(self) -> dict:
        params = asdict(self.sizes)
        params.update(
            live_rows=self.shape.live_rows, n_features=self.shape.n_features, seed=self.seed
        )
        return params

    def _read_marker(self) -> dict | None:
        try:
            return json.loads((self.folder / MARKER).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def _write_marker(self, marker: dict) -> None:
        (self.folder / MARKER).write_text(json.dumps(marker, indent=2))

    # -- lookup -------------------------------------------------------------------------------

    def list_files(self) -> list[str]:
        """Every downloadable file as Numerai names it: ``signals/v2.1/<file>``, sorted."""
        if not self.folder.is_dir():
            return []
        return [
            f"{self.shape.folder}/{path.name}"
            for path in sorted(self.folder.iterdir())
            if path.is_file() and not path.name.startswith(".")
        ]

    def path_for(self, filename: str) -> Path | None:
        """The local path of a listed file, or None (also for anything outside the list)."""
        if filename not in self.list_files():
            return None
        return self.root / filename

    def live_ids(self, version: str | None = None) -> frozenset[str]:
        """The id column (``numerai_ticker``, ``symbol``) of the current live file."""
        with self._lock:
            if self._live_ids is None:
                table = pq.read_table(self.folder / "live.parquet", columns=[self.shape.id_column])
                column = table.column(self.shape.id_column).to_pylist()
                self._live_ids = frozenset(str(value) for value in column)
            return self._live_ids

    def live_id_sets(self) -> dict[str, frozenset[str]]:
        """Live ids per data version (one version)."""
        return {self.shape.folder: self.live_ids()}
