"""Signals' and Crypto's data files: generated on first use, live data rotated per round.

One :class:`ProvidedData` per tournament owns its data versions under ``<data_root>/``, written
by :mod:`standins.synthetic_tournaments`: the version with features (``signals/v2.1/``,
``crypto/v2.0/``: features.json, train, validation, live) and, for Crypto, the version
without (``crypto/v1.0/``: live_universe, historical_targets). ``TournamentSizes.versions``
picks the served ones (Crypto with ``versions=("v1.0",)`` is a new user's view: no v2.0 at
all). Files are generated the first time the tournament is asked for them, so a stand-in
used only for Classic never pays for them. A marker file per version folder records the
generation parameters and the live data's round, so a restart reuses the data; a folder
holding the files without a marker (real Numerai files) is used as it is.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow.parquet as pq

from standins import synthetic_tournaments
from standins.synthetic_tournaments import TournamentData, UniverseData

MARKER = ".standin.json"
FORMAT = 2  # the generated files' layout: a folder marked with another one is rewritten
REQUIRED_FILES = ("features.json", "train.parquet", "validation.parquet", "live.parquet")


@dataclass(frozen=True)
class TournamentSizes:
    """How big a Signals or Crypto tournament's data is and which data versions it serves.

    None keeps the tournament's real-ish default; empty ``versions`` serves every version it
    has (Crypto: ``("v2.0", "v1.0")``), ``("v1.0",)`` only Crypto's universe and targets.
    """

    live_rows: int | None = None
    n_features: int | None = None
    train_eras: int = 40
    validation_eras: int = 10
    ids_per_era: int = 200
    versions: tuple[str, ...] = ()


class ProvidedData:
    """One tournament's data versions: generation, live rotation, lookup and live ids."""

    def __init__(
        self, root: Path, shape: TournamentData, sizes: TournamentSizes, seed: int = 0
    ) -> None:
        changes = {"live_rows": sizes.live_rows, "n_features": sizes.n_features}
        self.shape = dataclasses.replace(
            shape, **{k: v for k, v in changes.items() if v is not None}
        )
        self.universe_data: UniverseData | None = synthetic_tournaments.UNIVERSES.get(
            shape.tournament
        )
        available = [shape.version] + ([self.universe_data.version] if self.universe_data else [])
        wanted = [str(v).strip() for v in sizes.versions] or available
        unknown = sorted(set(wanted) - set(available))
        if unknown:
            raise ValueError(
                f"{shape.tournament} serves data versions {', '.join(available)}, "
                f"not {', '.join(unknown)}"
            )
        self.served = tuple(v for v in available if v in wanted)  # features version first
        self.root = Path(root)
        self.sizes = sizes
        self.seed = seed
        self._lock = threading.RLock()
        self._live_round: int | None = None
        self._live_sets: dict[str, frozenset[str]] | None = None

    @property
    def folder(self) -> Path:
        """The version with features: ``<data_root>/signals/v2.1``."""
        return self.root / self.shape.folder

    @property
    def versions(self) -> list[str]:
        """The data versions served, as Numerai names their folder (``crypto/v2.0`` ...)."""
        return [f"{self.shape.tournament}/{version}" for version in self.served]

    @property
    def serves_features(self) -> bool:
        """Whether the version with features (and its ``live.parquet``) is served."""
        return self.shape.version in self.served

    @property
    def served_universe(self) -> UniverseData | None:
        """The version without features (Crypto v1.0) when it is served."""
        if self.universe_data is not None and self.universe_data.version in self.served:
            return self.universe_data
        return None

    # -- generation ---------------------------------------------------------------------------

    def ready_for(self, round_number: int) -> None:
        """Make the files exist, with the live data of ``round_number`` (cheap when they do)."""
        with self._lock:
            if self._live_round == round_number:
                return
            if self.serves_features:
                self._ready_features(round_number)
            if self.served_universe is not None:
                self._ready_universe(self.served_universe, round_number)
            self._live_round = round_number
            self._live_sets = None

    def _ready_features(self, round_number: int) -> None:
        complete = all((self.folder / name).exists() for name in REQUIRED_FILES)
        marker = _read_marker(self.folder)
        if complete and marker is None:
            return  # Foreign data (e.g. real Numerai files): use it untouched.
        if complete and marker is not None and marker.get("params") == self._params():
            if marker.get("live_round") != round_number:
                synthetic_tournaments.write_live(
                    self.root, self.shape, round_number, self.seed, self.shape.live_rows
                )
                marker["live_round"] = round_number
                _write_marker(self.folder, marker)
            return
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
        _write_marker(self.folder, {"params": self._params(), "live_round": round_number})

    def _ready_universe(self, layout: UniverseData, round_number: int) -> None:
        """Both files are the round's (history grows with the rounds), so rewrite them."""
        folder = self.root / layout.folder
        names = (layout.universe_file, layout.targets_file)
        complete = all((folder / name).exists() for name in names)
        marker = _read_marker(folder)
        if complete and marker is None:
            return  # Foreign data: use it untouched.
        current = {"params": self._params(), "live_round": round_number}
        if complete and marker == current:
            return
        synthetic_tournaments.write_universe(
            self.root,
            layout,
            self.shape,
            round_number,
            self.seed,
            eras=self.sizes.train_eras + self.sizes.validation_eras,
        )
        _write_marker(folder, current)

    def _params(self) -> dict:
        params = asdict(self.sizes)
        params.pop("versions")  # which versions are served does not change their files
        params.update(
            live_rows=self.shape.live_rows,
            n_features=self.shape.n_features,
            seed=self.seed,
            format=FORMAT,
        )
        return params

    # -- lookup -------------------------------------------------------------------------------

    def list_files(self) -> list[str]:
        """Every downloadable file as Numerai names it (``crypto/v2.0/<file>`` ...): each
        served version's files, sorted, the version with features first."""
        names: list[str] = []
        for version in self.versions:
            folder = self.root / version
            if folder.is_dir():
                names.extend(
                    f"{version}/{path.name}"
                    for path in sorted(folder.iterdir())
                    if path.is_file() and not path.name.startswith(".")
                )
        return names

    def path_for(self, filename: str) -> Path | None:
        """The local path of a listed file, or None (also for anything outside the list)."""
        if filename not in self.list_files():
            return None
        return self.root / filename

    def _live_files(self) -> list[Path]:
        """The served files naming this round's universe: ``live.parquet``, ``live_universe``."""
        files = [self.folder / "live.parquet"] if self.serves_features else []
        layout = self.served_universe
        if layout is not None:
            files.append(self.root / layout.folder / layout.universe_file)
        return files

    def live_id_sets(self) -> dict[str, frozenset[str]]:
        """Live ids per id column the live files carry (``numerai_ticker``, ``ticker``,
        ``composite_figi`` ... or ``symbol``), so a submission keyed by any of them is
        checked against that column's values; missing values are left out."""
        with self._lock:
            if self._live_sets is None:
                wanted = (self.shape.id_column, *self.shape.other_id_columns)
                sets: dict[str, set[str]] = {}
                for path in self._live_files():
                    present = set(pq.read_schema(path).names)
                    columns = [c for c in wanted if c in present]
                    table = pq.read_table(path, columns=columns)
                    for column in columns:
                        values = table.column(column).to_pylist()
                        sets.setdefault(column, set()).update(
                            str(v) for v in values if v is not None
                        )
                self._live_sets = {column: frozenset(ids) for column, ids in sets.items()}
            return self._live_sets

    def live_ids(self, version: str | None = None) -> frozenset[str]:
        """The id column (``numerai_ticker``, ``symbol``) of the current live data."""
        return self.live_id_sets().get(self.shape.id_column, frozenset())


def _read_marker(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MARKER).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _write_marker(folder: Path, marker: dict) -> None:
    (folder / MARKER).write_text(json.dumps(marker, indent=2))
