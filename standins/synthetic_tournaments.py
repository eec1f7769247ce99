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
``live.parquet`` (no target). ``date`` is the era column (weekly, ``YYYY-MM-DD``): the live
file's is the round's data date (:func:`data_date`), the eras of train and validation end
:data:`TARGET_LAG_WEEKS` before it (their targets need 20 days of future). Signals rows also
carry the other ids Numerai accepts in a submission, mapped one to one from the
``numerai_ticker`` (:func:`signals_ids`): ``ticker``, ``bloomberg_ticker``,
``composite_figi`` and ``sedol`` (missing for some stocks). Sizes are data:
``dataclasses.replace(SIGNALS, live_rows=300, n_features=12)`` is a smaller Signals.

Crypto also has a version without features (:data:`CRYPTO_UNIVERSE`, ``crypto/v1.0/``):
``live_universe.parquet`` (``symbol``, ``date``: the same symbols as v2.0's live file) and
``historical_targets.parquet`` (``symbol``, ``date``, ``target``,
``target_binned_return_20``), for models fed with their own data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
FACTOR_STEMS = ("beta", "size", "value", "mom")  # Signals' factors in features.json
NAN_RATE = 0.05
SIGNAL_FEATURES = 6
# Ids pandas would read back as missing values (read_csv's default NA strings): never drawn.
NA_TOKENS = frozenset({"NA", "NAN", "NULL", "NONE", "N/A", "NAT"})
LIVE_DROP_RATE = 0.01
FIRST_DATA_DATE = dt.date(2026, 1, 2)  # a Friday: the data date of round 0 (mod 500)
TARGET_LAG_WEEKS = 4  # the latest era with targets is this long before the live data
SIGNALS_ID_COLUMNS = ("ticker", "bloomberg_ticker", "composite_figi", "sedol")
# Yahoo-style ticker suffix per country: ``ticker`` is unique where bare stems are not.
YAHOO_SUFFIXES = {
    "US": "",
    "JP": ".T",
    "GB": ".L",
    "DE": ".DE",
    "FR": ".PA",
    "CA": ".TO",
    "AU": ".AX",
    "HK": ".HK",
    "KR": ".KS",
    "CH": ".SW",
}
# Characters of FIGI and SEDOL bodies: digits and consonants (both standards skip vowels).
ID_ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXYZ"
SEDOL_WEIGHTS = (1, 3, 1, 7, 3, 9)
SEDOL_MISSING_EVERY = 13  # one stock in 13 has no SEDOL, as some of Numerai's have none


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
    other_id_columns: tuple[str, ...] = ()  # ids mapped from the id column (Signals)

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
    other_id_columns=SIGNALS_ID_COLUMNS,
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


@dataclass(frozen=True)
class UniverseData:
    """A data version without features: the round's universe and past targets by date."""

    tournament: str  # "crypto"
    version: str  # "v1.0"
    id_column: str
    targets: tuple[str, ...]  # the first is the main target
    universe_file: str = "live_universe.parquet"
    targets_file: str = "historical_targets.parquet"

    @property
    def folder(self) -> str:
        """The dataset prefix, e.g. ``crypto/v1.0``."""
        return f"{self.tournament}/{self.version}"


CRYPTO_UNIVERSE = UniverseData(
    tournament="crypto",
    version="v1.0",
    id_column="symbol",
    targets=("target", "target_binned_return_20"),
)
UNIVERSES = {"crypto": CRYPTO_UNIVERSE}


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


def data_date(round_number: int) -> dt.date:
    """The day whose close made a round's live data (a Friday; the round opens after it)."""
    return FIRST_DATA_DATE + dt.timedelta(weeks=round_number % 500)


def era_dates(round_number: int, count: int) -> list[str]:
    """``count`` weekly eras with targets, the last :data:`TARGET_LAG_WEEKS` before the live."""
    last = data_date(round_number) - dt.timedelta(weeks=TARGET_LAG_WEEKS)
    return [(last - dt.timedelta(weeks=count - 1 - i)).isoformat() for i in range(count)]


def _encode(number: int, width: int) -> str:
    """``number`` in :data:`ID_ALPHABET`, left-padded to ``width`` characters."""
    digits = []
    for _ in range(width):
        number, rest = divmod(number, len(ID_ALPHABET))
        digits.append(ID_ALPHABET[rest])
    return "".join(reversed(digits))


def _char_value(char: str) -> int:
    """0-9 for digits, 10-35 for letters (A-Z), as FIGI's and SEDOL's check digits count."""
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def figi_check_digit(body: str) -> str:
    """The 12th character of a FIGI from its first 11 (the standard's modified Luhn)."""
    total = 0
    for position, char in enumerate(body, start=1):
        value = _char_value(char) * (2 if position % 2 == 0 else 1)
        total += sum(int(d) for d in str(value))
    return str((10 - total % 10) % 10)


def sedol_check_digit(body: str) -> str:
    """The 7th character of a SEDOL from its first 6 (weights 1, 3, 1, 7, 3, 9)."""
    total = sum(_char_value(c) * w for c, w in zip(body, SEDOL_WEIGHTS, strict=True))
    return str((10 - total % 10) % 10)


def _stock_number(ticker: str) -> int:
    """A number unique per ``numerai_ticker`` of this module's universes (stem and country);
    other tickers get a hash of theirs."""
    stem, _, country = ticker.partition(" ")
    if 1 <= len(stem) <= 4 and stem.isalpha() and stem.isupper() and country in COUNTRIES:
        value = 0
        for char in stem:
            value = value * 27 + ord(char) - ord("A") + 1
        return value * len(COUNTRIES) + COUNTRIES.index(country)
    digest = hashlib.sha256(ticker.encode()).digest()
    return 27**4 * len(COUNTRIES) + int.from_bytes(digest[:4], "big")


def signals_ids(ticker: str) -> dict[str, str | None]:
    """The other ids of one stock, from its ``numerai_ticker`` (``AAPL US``): ``ticker``
    (Yahoo style, ``AAPL``, ``TM.T``), ``bloomberg_ticker`` (``AAPL US``, Numerai's ticker
    format), ``composite_figi`` (``BBG`` + 8 + check digit) and ``sedol`` (6 + check digit,
    None for one stock in :data:`SEDOL_MISSING_EVERY`)."""
    stem, _, country = ticker.partition(" ")
    number = _stock_number(ticker)
    figi = "BBG" + _encode(number, 8)
    sedol = _encode(number, 6)
    return {
        "ticker": stem + YAHOO_SUFFIXES.get(country, f".{country}" if country else ""),
        "bloomberg_ticker": ticker,
        "composite_figi": figi + figi_check_digit(figi),
        "sedol": None if number % SEDOL_MISSING_EVERY == 0 else sedol + sedol_check_digit(sedol),
    }


def _add_other_ids(frame: pd.DataFrame, shape: TournamentData) -> None:
    """Insert the shape's other id columns right after its id column, mapped per stock."""
    if not shape.other_id_columns:
        return
    tickers = frame[shape.id_column].tolist()
    mapped = {ticker: signals_ids(ticker) for ticker in set(tickers)}
    position = frame.columns.get_loc(shape.id_column) + 1
    for offset, column in enumerate(shape.other_id_columns):
        values = np.array([mapped[t][column] for t in tickers], dtype=object)
        frame.insert(position + offset, column, values)


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
    _add_other_ids(frame, shape)
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
    ids = live_ids(shape, round_number, seed, rows)
    frame = make_frame(shape, ids, [data_date(round_number).isoformat()], rng, seed, False)
    _persist(frame, shape, ids, universe(shape, seed, rows or shape.live_rows), rng, seed)
    return _write_parquet(frame, folder / "live.parquet")


def _write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write through a temporary file, so readers never see half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(temporary, index=False)
    temporary.replace(path)
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
    numeric = [n for n in names if n not in shape.string_features]
    # Signals ships factor columns to neutralize against; here a few of the features.
    factors = [n for n in numeric if n.split("_")[1] in FACTOR_STEMS]
    sets = {"all": names, "factors": factors} if shape.tournament == "signals" else {"all": names}
    document = {"feature_sets": sets, "targets": [shape.target]}
    (folder / "features.json").write_text(json.dumps(document))
    ids = universe(shape, seed, max(ids_per_era, 1))[:ids_per_era]
    rng = np.random.default_rng([seed, 10_000])
    dates = era_dates(round_number, train_eras + validation_eras)
    train = make_frame(shape, ids, dates[:train_eras], rng, seed, True)
    train.to_parquet(folder / "train.parquet", index=False)
    validation = make_frame(shape, ids, dates[train_eras:], rng, seed, True)
    validation["data_type"] = "validation"
    validation.to_parquet(folder / "validation.parquet", index=False)
    write_live(root, shape, round_number, seed, live_rows)
    return folder


def historical_targets(
    layout: UniverseData, shape: TournamentData, dates: list[str], seed: int = 0
) -> pd.DataFrame:
    """Targets of the whole universe per era (``symbol``, ``date``, targets), binned 0-1.

    An era's values depend only on its date, so eras keep their targets as rounds advance.
    The second target is a noisier cousin of the first (correlated, as Numerai's are).
    """
    ids = universe(shape, seed)
    parts = []
    for date in dates:
        ordinal = dt.date.fromisoformat(date).toordinal()
        rng = np.random.default_rng([seed, shape.number, 99, ordinal])
        raw = rng.normal(size=(len(layout.targets), len(ids)))
        part = pd.DataFrame({layout.id_column: ids, "date": date})
        for k, name in enumerate(layout.targets):
            mixed = raw[0] if k == 0 else 0.7 * raw[0] + 0.7 * raw[k]
            part[name] = np.floor(mixed.argsort().argsort() / max(len(ids) - 1, 1) * 4.999) / 4
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def write_universe(
    root: Path,
    layout: UniverseData,
    shape: TournamentData,
    round_number: int,
    seed: int = 0,
    eras: int = 50,
) -> Path:
    """``crypto/v1.0/``: the round's ``live_universe.parquet`` (the ids of ``shape``'s live
    file, with the data date) and ``historical_targets.parquet`` (``eras`` weekly eras)."""
    folder = Path(root) / layout.folder
    folder.mkdir(parents=True, exist_ok=True)
    ids = live_ids(shape, round_number, seed)
    live = pd.DataFrame({layout.id_column: ids, "date": data_date(round_number).isoformat()})
    _write_parquet(live, folder / layout.universe_file)
    targets = historical_targets(layout, shape, era_dates(round_number, eras), seed)
    _write_parquet(targets, folder / layout.targets_file)
    return folder
