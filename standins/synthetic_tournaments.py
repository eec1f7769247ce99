"""Synthetic Signals and Crypto data, deterministic by seed.

Shaped like the files numerai-cli's example models read (https://github.com/numerai/numerai-cli,
``numerai/examples/signals-python3`` and ``crypto-python3``) and Numerai's data pages describe
(https://docs.numer.ai/numerai-signals/data, https://docs.numer.ai/numerai-crypto/data):
``signals/v2.1/`` keyed by ``numerai_ticker`` (``AAPL US``), float features with NaN plus
the string columns ``feature_country`` and ``feature_exchange_code``, target ``target``;
``crypto/v2.0/`` keyed by ``symbol`` (``BTC``), float features with NaN, target
``target_binned_return_20``. The universe (tickers, symbols) is fixed by the seed and
mostly stable from round to round, as on Numerai, so churn between two rounds' submissions
can be measured; each round's live file has new feature values.

Files per version: ``features.json``, ``train.parquet``, ``validation.parquet``,
``live.parquet`` (no target). ``date`` is the era column (weekly, ``YYYY-MM-DD``).
Sizes are data: ``dataclasses.replace(SIGNALS, live_rows=300, n_features=12)`` is a smaller
Signals.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

COUNTRIES = ("US", "JP", "GB", "DE", "FR", "CA", "AU", "HK", "KR", "CH")
EXCHANGES = {"US": ("XNYS", "XNAS"), "JP": ("XTKS",), "GB": ("XLON",), "DE": ("XETR",)}
OTHER_EXCHANGE = ("XOTC",)
STRING_FEATURES = ("feature_country", "feature_exchange_code")
NAN_RATE = 0.05
SIGNAL_FEATURES = 6
# Ids pandas would read back as missing values (read_csv's default NA strings): never drawn.
NA_TOKENS = frozenset({"NA", "NAN", "NULL", "NONE", "N/A", "NAT"})
LIVE_DROP_RATE = 0.01


@dataclass(frozen=True)
class TournamentData:
    """The shape of one tournament's data version."""

    tournament: str  # "signals" or "crypto"
    number: int  # Numerai's tournament id: 11, 12
    version: str  # "v2.1", "v2.0"
    id_column: str
    target: str
    live_rows: int
    n_features: int
    string_features: tuple[str, ...]
    id_suffixes: tuple[str, ...]  # ticker country codes ("AAPL US"); empty: bare symbols
    known_ids: tuple[str, ...]  # the first ids of every universe, for recognisable examples

    @property
    def folder(self) -> str:
        """The dataset prefix, e.g. ``signals/v2.1``."""
        return f"{self.tournament}/{self.version}"


SIGNALS = TournamentData(
    tournament="signals",
    number=11,
    version="v2.1",
    id_column="numerai_ticker",
    target="target",
    live_rows=5_000,
    n_features=48,
    string_features=STRING_FEATURES,
    id_suffixes=COUNTRIES,
    known_ids=("AAPL US", "MSFT US", "NVDA US", "TM JP", "VOD GB", "SAP DE"),
)
CRYPTO = TournamentData(
    tournament="crypto",
    number=12,
    version="v2.0",
    id_column="symbol",
    target="target_binned_return_20",
    live_rows=500,
    n_features=24,
    string_features=(),
    id_suffixes=(),
    known_ids=("BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "DOT", "LINK", "AVAX", "LTC"),
)
SHAPES = {"signals": SIGNALS, "crypto": CRYPTO}


def feature_names(shape: TournamentData, seed: int = 0) -> list[str]:
    """Numeric feature names (stable per seed) followed by the string features."""
    rng = np.random.default_rng([seed, 7])
    stems = ("rsi", "mom", "vol", "beta", "value", "size", "quality", "carry", "trend", "liq")
    names: list[str] = []
    while len(names) < shape.n_features:
        name = f"feature_{rng.choice(stems)}_{int(rng.integers(1, 260))}d"
        if name not in names:
            names.append(name)
    return names + list(shape.string_features)


def universe(shape: TournamentData, seed: int = 0, size: int | None = None) -> np.ndarray:
    """The tournament's ids, unique: tickers like ``ABCD US`` or symbols like ``BTC``.

    A smaller universe is a prefix of a larger one with the same seed.
    """
    rng = np.random.default_rng([seed, shape.number])
    size = size or shape.live_rows
    letters = np.array(list(string.ascii_uppercase))
    ids: list[str] = list(shape.known_ids[:size])
    seen: set[str] = set(ids)
    while len(ids) < size:
        stem = "".join(rng.choice(letters, size=int(rng.integers(3, 5))))
        name = f"{stem} {rng.choice(shape.id_suffixes)}" if shape.id_suffixes else stem
        if name not in seen and stem not in NA_TOKENS:
            seen.add(name)
            ids.append(name)
    return np.array(ids, dtype=object)


def _exchange_codes(countries: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """One exchange code per row, picked among its country's exchanges."""
    codes = []
    for country, draw in zip(countries, draws, strict=True):
        options = EXCHANGES.get(country, OTHER_EXCHANGE)
        codes.append(options[int(draw) % len(options)])
    return np.array(codes, dtype=object)


def make_frame(
    shape: TournamentData,
    ids: np.ndarray,
    dates: list[str],
    rng: np.random.Generator,
    seed: int,
    with_target: bool,
) -> pd.DataFrame:
    """One file: the id column, ``date``, ``data_type``, features (NaN, strings), target."""
    names = feature_names(shape, seed)
    numeric = [n for n in names if n not in shape.string_features]
    rows = len(ids) * len(dates)
    frame = pd.DataFrame(
        {
            shape.id_column: np.tile(ids, len(dates)),
            "date": np.repeat(np.array(dates, dtype=object), len(ids)),
        }
    )
    values = rng.normal(0.0, 1.0, size=(rows, len(numeric)))
    values[rng.random(values.shape) < NAN_RATE] = np.nan
    for j, name in enumerate(numeric):
        frame[name] = values[:, j]
    country = np.array([i.split(" ")[-1] for i in frame[shape.id_column]], dtype=object)
    if "feature_country" in shape.string_features:
        column = country.copy()
        column[rng.random(rows) < NAN_RATE] = None
        frame["feature_country"] = column
    if "feature_exchange_code" in shape.string_features:
        frame["feature_exchange_code"] = _exchange_codes(country, rng.integers(0, 2, size=rows))
    frame["data_type"] = "train" if with_target else "live"
    if with_target:
        weights = np.random.default_rng([seed, 3]).normal(0, 1, size=SIGNAL_FEATURES)
        signal = np.nan_to_num(values[:, :SIGNAL_FEATURES]) @ weights
        if "feature_country" in shape.string_features:
            signal = signal + (country == "US") * 0.5
        raw = signal + rng.normal(0, 2.0, size=rows)
        target = np.empty(rows)
        for date in dates:
            mask = (frame["date"] == date).to_numpy()
            ranks = raw[mask].argsort().argsort() / max(mask.sum() - 1, 1)
            target[mask] = np.floor(ranks * 4.999) / 4.0  # 0, 0.25, ... 1
        frame[shape.target] = target
    return frame


def _dates(start: dt.date, count: int) -> list[str]:
    return [(start + dt.timedelta(weeks=i)).isoformat() for i in range(count)]


def live_ids(
    shape: TournamentData, round_number: int, seed: int = 0, rows: int | None = None
) -> np.ndarray:
    """This round's universe: the fixed one with about 1 % of ids out, varying by round."""
    full = universe(shape, seed, rows or shape.live_rows)
    keep = np.random.default_rng([seed, round_number, 5]).random(len(full)) >= LIVE_DROP_RATE
    return full[keep]


# How much of a stock's feature values is new each week: a stock's features move slowly, so
# the same model's rankings of two consecutive rounds correlate (churn near 0, as on Numerai).
WEEKLY_DRIFT = 0.05


def _persist(
    frame: pd.DataFrame,
    shape: TournamentData,
    ids: np.ndarray,
    full: np.ndarray,
    rng: np.random.Generator,
    seed: int,
) -> None:
    """Give each id persistent live features: a fixed level per id plus a little weekly
    drift, missing values that stay missing, exchange codes fixed per id."""
    numeric = [n for n in feature_names(shape, seed) if n not in shape.string_features]
    where = {name: k for k, name in enumerate(full.tolist())}
    rows = np.array([where[i] for i in ids.tolist()])
    level = np.random.default_rng([seed, 77]).normal(size=(len(full), len(numeric)))[rows]
    values = np.sqrt(1 - WEEKLY_DRIFT**2) * level + WEEKLY_DRIFT * rng.normal(size=level.shape)
    missing = np.random.default_rng([seed, 79]).random((len(full), len(numeric))) < NAN_RATE
    values[missing[rows]] = np.nan
    for j, name in enumerate(numeric):
        frame[name] = values[:, j]
    if "feature_exchange_code" in shape.string_features:
        draws = np.random.default_rng([seed, 78]).integers(0, 2, size=len(full))[rows]
        country = np.array([i.split(" ")[-1] for i in ids.tolist()], dtype=object)
        frame["feature_exchange_code"] = _exchange_codes(country, draws)


def write_live(
    root: Path, shape: TournamentData, round_number: int, seed: int = 0, rows: int | None = None
) -> Path:
    """``<tournament>/<version>/live.parquet`` for one round (new feature values)."""
    folder = Path(root) / shape.folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, round_number, 13])
    today = dt.date(2026, 1, 2) + dt.timedelta(weeks=round_number % 500)
    ids = live_ids(shape, round_number, seed, rows)
    frame = make_frame(shape, ids, [today.isoformat()], rng, seed, False)
    _persist(frame, shape, ids, universe(shape, seed, rows or shape.live_rows), rng, seed)
    path = folder / "live.parquet"
    temporary = folder / ".live.parquet.tmp"
    frame.to_parquet(temporary, index=False)
    temporary.replace(path)  # readers never see half a file
    return path


def write_dataset(
    root: Path,
    shape: TournamentData,
    *,
    seed: int = 0,
    round_number: int = 1,
    live_rows: int | None = None,
    train_eras: int = 40,
    validation_eras: int = 10,
    ids_per_era: int = 200,
) -> Path:
    """Write a whole version (features.json, train, validation, live); its folder."""
    folder = Path(root) / shape.folder
    folder.mkdir(parents=True, exist_ok=True)
    names = feature_names(shape, seed)
    document = {"feature_sets": {"all": names}, "targets": [shape.target]}
    (folder / "features.json").write_text(json.dumps(document))
    ids = universe(shape, seed, max(ids_per_era, 1))[:ids_per_era]
    rng = np.random.default_rng([seed, 10_000])
    dates = _dates(dt.date(2020, 1, 3), train_eras + validation_eras)
    train = make_frame(shape, ids, dates[:train_eras], rng, seed, True)
    train.to_parquet(folder / "train.parquet", index=False)
    validation = make_frame(shape, ids, dates[train_eras:], rng, seed, True)
    validation["data_type"] = "validation"
    validation.to_parquet(folder / "validation.parquet", index=False)
    write_live(root, shape, round_number, seed, live_rows)
    return folder
