"""What the post-processing steps read for one model's live era: neutralizer columns from the
live file the model predicted on (only those columns), feature sets from the data version's
``features.json``, benchmark models' predictions from its ``live_benchmark_models.parquet``,
and other configured models' predictions; everything aligned to the live rows by id."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from numerai_bot.errors import BotError, LiveDataError, ModelError
from numerai_bot.live_data import LiveData, LiveDataCache
from numerai_bot.models_config import ModelConfig
from numerai_bot.postprocess.neutralize import Neutralizers
from numerai_bot.postprocess.spec import ALL_FEATURES
from numerai_bot.tournaments import Tournament

FEATURES_FILE = "features.json"
BENCHMARK_FILE = "live_benchmark_models.parquet"


class VersionFiles:
    """A data version's ``features.json`` and benchmark predictions, fetched once per round
    beside its live file (the live cache's folder and download source)."""

    def __init__(self, live_data: LiveDataCache) -> None:
        self.live_data = live_data
        self._feature_sets: dict[tuple[str, int, str], dict[str, list[str]]] = {}
        self._lock = threading.Lock()

    def feature_set(
        self,
        tournament: Tournament,
        round_number: int,
        version: str,
        name: str,
        served: frozenset[str] | None,
    ) -> tuple[str, ...]:
        """The columns of feature set ``name`` in the version's features.json."""
        sets = self._sets(tournament, round_number, version, served)
        found = sets.get(name)
        if not isinstance(found, list) or not all(isinstance(c, str) for c in found):
            raise ModelError(
                f"{tournament.dataset(version, FEATURES_FILE)} has no feature set {name!r} "
                f"(it has {', '.join(sorted(sets)) or 'none'}): fix 'neutralize.against'"
            )
        return tuple(found)

    def benchmarks(
        self,
        tournament: Tournament,
        round_number: int,
        version: str,
        served: frozenset[str] | None,
    ) -> LiveData:
        """The round's benchmark-model predictions of ``version`` (downloaded once)."""
        name = tournament.dataset(version, BENCHMARK_FILE)
        if served and name not in served:
            raise ModelError(
                f"Numerai serves no {name} (the benchmark models' live predictions): "
                "remove the benchmark from 'blend'"
            )
        try:
            return self.live_data.get(round_number, version, tournament, BENCHMARK_FILE)
        except LiveDataError as error:
            raise ModelError(f"cannot blend with benchmark models: {error}") from None

    def _sets(
        self,
        tournament: Tournament,
        round_number: int,
        version: str,
        served: frozenset[str] | None,
    ) -> dict[str, list[str]]:
        key = (tournament.name, round_number, version)
        with self._lock:
            found = self._feature_sets.get(key)
        if found is not None:
            return found
        name = tournament.dataset(version, FEATURES_FILE)
        if served and name not in served:
            raise ModelError(
                f"Numerai serves no {name}, so its feature sets are unknown: neutralize "
                'against "all" or a list of columns'
            )
        path = Path(self.live_data.root) / tournament.name / str(round_number) / version
        path = path / FEATURES_FILE
        try:
            if not path.exists():
                self.live_data.source.download_dataset(name, path, round_number, tournament)
            document = json.loads(path.read_text())
            sets = document["feature_sets"]
            if not isinstance(sets, dict):
                raise TypeError("feature_sets is not an object")
        except BotError as error:
            raise ModelError(f"cannot read {name}: {error}") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            path.unlink(missing_ok=True)
            raise ModelError(f"{name} is unreadable: {error}") from None
        with self._lock:
            self._feature_sets = {k: v for k, v in self._feature_sets.items() if k[1] == key[1]}
            self._feature_sets[key] = sets
        return sets


class LiveEra:
    """The era inputs (:class:`numerai_bot.postprocess.steps.EraInputs`) of one model."""

    def __init__(
        self,
        live: LiveData,
        files: VersionFiles,
        served: frozenset[str] | None,
        predictions_of: Callable[[ModelConfig], tuple[np.ndarray, np.ndarray]],
    ) -> None:
        self.live = live
        self.files = files
        self.served = served
        self.predictions_of = predictions_of  # a model's (ids, final predictions)

    def neutralizers(self, against: str | tuple[str, ...]) -> Neutralizers:
        """The least-squares matrix of the ``against`` columns of the live file (read once,
        only those columns), built a batch of rows at a time: no other full-size copy."""
        live = self.live
        if isinstance(against, tuple):
            names = against
        elif against == ALL_FEATURES:
            names = live.numeric_features()
        else:
            listed = self.files.feature_set(
                live.tournament, live.round_number, live.data_version, against, self.served
            )
            numeric = set(live.numeric_features())
            absent = [n for n in listed if n not in live.columns]
            if absent:
                raise ModelError(
                    f"feature set {against!r} lists {len(absent)} column(s) not in the live "
                    f"file, e.g. {absent[0]}"
                )
            names = tuple(n for n in listed if n in numeric)  # string columns cannot count
        if not names:
            raise ModelError(f"no numeric columns to neutralize against in {against!r}")
        matrix = live.features(tuple(names))
        rows, width = matrix.shape
        design = np.empty((rows, width + 1), dtype=np.float64)
        for first, block in matrix.batches(np.float64):
            design[first : first + len(block), :width] = block
        design[:, width] = 1.0
        return Neutralizers.from_design(design)

    def benchmark(self, column: str) -> np.ndarray:
        """Benchmark model ``column``'s live predictions, one per live row."""
        live = self.live
        file = self.files.benchmarks(
            live.tournament, live.round_number, live.data_version, self.served
        )
        if column not in file.columns:
            offered = sorted(c for c in file.columns if c != live.tournament.id_column)
            raise ModelError(
                f"{BENCHMARK_FILE} of {live.data_version} has no benchmark model {column!r} "
                f"(it has {', '.join(offered[:8]) or 'none'}): fix 'blend'"
            )
        values = file.numbers([column])[column]
        return aligned(file.ids, values, live.ids, f"benchmark model {column}")

    def model(self, config: ModelConfig) -> np.ndarray:
        """Model ``config``'s final predictions for this round, one per live row."""
        ids, values = self.predictions_of(config)
        return aligned(ids, values, self.live.ids, f"model {config.name}")


def aligned(ids: np.ndarray, values: np.ndarray, live_ids: np.ndarray, what: str) -> np.ndarray:
    """``values`` (one per ``ids``) reordered to ``live_ids``; a live id without a finite
    value is a clear error naming ``what``."""
    position = {key: k for k, key in enumerate(ids.tolist())}
    index = np.fromiter(
        (position.get(key, -1) for key in live_ids.tolist()), dtype=np.int64, count=len(live_ids)
    )
    absent = index < 0
    if absent.any():
        example = live_ids[absent][0]
        raise ModelError(
            f"{int(absent.sum())} of {len(live_ids)} live ids have no prediction from {what} "
            f"(e.g. {example!r}): not blended"
        )
    out = np.asarray(values, dtype=np.float64)[index]
    bad = ~np.isfinite(out)
    if bad.any():
        raise ModelError(
            f"{what} has {int(bad.sum())} missing predictions for live ids "
            f"(e.g. {live_ids[bad][0]!r}): not blended"
        )
    return out
