"""Synthetic Numerai-shaped data, deterministic by seed.

Same files, columns, dtypes and sizes as Numerai's Classic v5.x data (``features.json``
with its feature sets, ``train``/``validation``/``live.parquet``; each row an ``id`` unique
per era, an ``era``, features and targets: https://docs.numer.ai/numerai-tournament/data).
As in those files: features are int8 values 0-4 with a few nulls, ids look like
``n0005e01cd27dd7b`` and change every round, eras are strings, targets lie in
{0, 0.25, 0.5, 0.75, 1}, here with a learnable signal. Live data is real size by default
(6,720 rows x 2,748 features, the v5.x live file's shape); training data is small for tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

LIVE_ROWS = 6_720
FEATURE_SET_SIZES = {"small": 42, "medium": 780, "all": 2_748}
TARGETS = ("target", "target_ender_20", "target_jasper_20", "target_cyrusd_20")
# Share of each target bin, as in Numerai's targets (most rows in the middle).
TARGET_BINS = (0.0, 0.25, 0.5, 0.75, 1.0)
TARGET_BIN_SHARES = (0.05, 0.20, 0.50, 0.20, 0.05)
# Features with a few nulls, as in the real data (where missing is usually 2, sometimes NaN).
NULL_FEATURE_COUNT = 5
NULL_RATE = 0.01
SIGNAL_FEATURES = 12

_SYLLABLES = (
    "ab ac ad al an ar as at ba be bo ca ce co da de di do el en er es fa fe fi "
    "ga ge go ha he ho il in is ka ke ko la le lo ma me mo na ne no ol on or pa "
    "pe po ra re ro sa se so ta te to ul un ur va ve vo wa we za ze"
).split()


@dataclass(frozen=True)
class Universe:
    """The fixed part of a data version: feature names, sets and the hidden signal."""

    features: tuple[str, ...]
    feature_sets: dict[str, list[str]]
    signal_columns: tuple[int, ...]
    signal_weights: tuple[float, ...]

    def features_json(self) -> dict:
        """The ``features.json`` document: feature sets and targets."""
        return {"feature_sets": self.feature_sets, "targets": list(TARGETS)}


def make_universe(seed: int = 0, n_features: int = FEATURE_SET_SIZES["all"]) -> Universe:
    """Feature names and nested feature sets (small ⊂ medium ⊂ all) for one data version."""
    rng = np.random.default_rng(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n_features:
        words = ["".join(rng.choice(_SYLLABLES, size=rng.integers(2, 4))) for _ in range(3)]
        name = "feature_" + "_".join(words)
        if name not in seen:
            seen.add(name)
            names.append(name)
    order = rng.permutation(n_features)
    small_n = min(FEATURE_SET_SIZES["small"], n_features)
    medium_n = min(FEATURE_SET_SIZES["medium"], n_features)
    medium = [names[i] for i in sorted(order[:medium_n])]
    small = [names[i] for i in sorted(order[:small_n])]
    # The signal lives in the small set so that every feature set can learn it.
    signal = tuple(int(i) for i in sorted(order[: min(SIGNAL_FEATURES, small_n)]))
    weights = tuple(float(w) for w in rng.normal(0, 1, size=len(signal)))
    return Universe(
        features=tuple(names),
        feature_sets={"small": small, "medium": medium, "all": list(names)},
        signal_columns=signal,
        signal_weights=weights,
    )


def make_ids(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Unique ids like ``n0005e01cd27dd7b`` (``n`` + 15 hex digits)."""
    ids: set[str] = set()
    while len(ids) < rows:
        draws = rng.integers(0, 16**15, size=rows - len(ids), dtype=np.int64)
        ids.update(f"n{int(x):015x}" for x in draws)
    return np.array(sorted(ids), dtype=object)


def make_frame(
    universe: Universe,
    rows: int,
    rng: np.random.Generator,
    eras: list[str],
    data_type: str,
    with_targets: bool,
) -> pd.DataFrame:
    """One data file as Numerai ships it: ``id`` index, era, data_type, features, targets."""
    n_features = len(universe.features)
    matrix = rng.integers(0, 5, size=(rows, n_features), dtype=np.int8)
    era_of_row = np.array(eras, dtype=object)[np.sort(rng.integers(0, len(eras), size=rows))]
    columns: dict[str, object] = {"era": era_of_row, "data_type": np.full(rows, data_type)}
    null_features = set(range(n_features - NULL_FEATURE_COUNT, n_features))
    for j, name in enumerate(universe.features):
        if j in null_features:
            mask = rng.random(rows) < NULL_RATE
            columns[name] = pd.arrays.IntegerArray(matrix[:, j].copy(), mask)
        else:
            columns[name] = matrix[:, j]
    frame = pd.DataFrame(columns, index=pd.Index(make_ids(rng, rows), name="id"))
    for target in TARGETS:
        if with_targets:
            frame[target] = _targets(universe, matrix, era_of_row, rng)
        else:
            frame[target] = np.full(rows, np.nan, dtype=np.float32)
    return frame


def _targets(
    universe: Universe, matrix: np.ndarray, eras: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Targets binned per era from a linear signal plus noise: learnable but not trivial."""
    x = matrix[:, list(universe.signal_columns)].astype(np.float64) - 2.0
    raw = x @ np.asarray(universe.signal_weights) + rng.normal(0, 4.0, size=len(matrix))
    out = np.empty(len(matrix), dtype=np.float32)
    cuts = np.cumsum(TARGET_BIN_SHARES)[:-1]
    for era in np.unique(eras):
        rows = np.flatnonzero(eras == era)
        ranks = raw[rows].argsort().argsort() / max(len(rows) - 1, 1)
        out[rows] = np.asarray(TARGET_BINS, dtype=np.float32)[np.searchsorted(cuts, ranks)]
    return out


def write_live(
    version_dir: Path, universe: Universe, round_number: int, rows: int = LIVE_ROWS, seed: int = 0
) -> Path:
    """Write ``live.parquet`` and ``live_example_preds.parquet`` for one round (new ids)."""
    rng = np.random.default_rng([seed, round_number])
    live = make_frame(universe, rows, rng, ["X"], "live", with_targets=False)
    version_dir.mkdir(parents=True, exist_ok=True)
    path = version_dir / "live.parquet"
    live.to_parquet(path)
    example = pd.DataFrame({"prediction": rng.random(rows)}, index=pd.Index(live.index, name="id"))
    example.to_parquet(version_dir / "live_example_preds.parquet")
    benchmark_models(live, version_dir.name, [seed, round_number, 21]).to_parquet(
        version_dir / "live_benchmark_models.parquet"
    )
    return path


def benchmark_names(version: str) -> list[str]:
    """Benchmark model columns like Numerai's (``v52_lgbm_ender20`` for v5.2)."""
    stem = "v" + version.lstrip("v").replace(".", "")
    return [f"{stem}_lgbm_{t.removeprefix('target_').replace('_', '')}" for t in TARGETS[1:]]


def benchmark_models(frame: pd.DataFrame, version: str, seed: object) -> pd.DataFrame:
    """Benchmark models' predictions for ``frame``'s rows (``id`` index, one column each):
    a noisy linear read of the first features, ranked into (0, 1) per era."""
    rng = np.random.default_rng(seed)  # its own stream: the live file stays as it was
    features = [c for c in frame.columns if c.startswith("feature_")][:SIGNAL_FEATURES]
    x = frame[features].astype("float64").fillna(2.0).to_numpy() - 2.0
    out = pd.DataFrame(index=pd.Index(frame.index, name="id"))
    for name in benchmark_names(version):
        raw = x @ rng.normal(0, 1, size=len(features)) + rng.normal(0, 2.0, size=len(frame))
        out[name] = pd.Series(raw, index=frame.index).groupby(frame["era"]).rank(pct=True)
    return out


def write_dataset(
    root: Path,
    version: str = "v5.2",
    *,
    seed: int = 0,
    round_number: int = 1,
    live_rows: int = LIVE_ROWS,
    n_features: int = FEATURE_SET_SIZES["all"],
    train_eras: int = 60,
    validation_eras: int = 20,
    rows_per_era: int = 100,
) -> Path:
    """Write a whole data version under ``root/version`` and return that folder."""
    universe = make_universe(seed, n_features)
    version_dir = root / version
    version_dir.mkdir(parents=True, exist_ok=True)
    (version_dir / "features.json").write_text(json.dumps(universe.features_json()))
    rng = np.random.default_rng([seed, 10_000])
    train_names = [f"{i:04d}" for i in range(1, train_eras + 1)]
    valid_names = [f"{i:04d}" for i in range(train_eras + 1, train_eras + validation_eras + 1)]
    make_frame(
        universe, train_eras * rows_per_era, rng, train_names, "train", with_targets=True
    ).to_parquet(version_dir / "train.parquet")
    make_frame(
        universe, validation_eras * rows_per_era, rng, valid_names, "validation", with_targets=True
    ).to_parquet(version_dir / "validation.parquet")
    validation = pd.read_parquet(
        version_dir / "validation.parquet", columns=["era", *universe.features[:SIGNAL_FEATURES]]
    )
    benchmarks = benchmark_models(validation, version, [seed, 22])
    benchmarks.to_parquet(version_dir / "validation_benchmark_models.parquet")
    meta = pd.DataFrame(
        {"numerai_meta_model": benchmarks.mean(axis=1).groupby(validation["era"]).rank(pct=True)}
    )
    meta.to_parquet(version_dir / "meta_model.parquet")
    write_live(version_dir, universe, round_number, live_rows, seed)
    return version_dir
