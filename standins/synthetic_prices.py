"""Synthetic daily prices for the Signals and Crypto universes, deterministic by seed.

A stand-in for a user's own data: ``close`` and ``volume`` per id and trading day in long
form (``date``, id column, ``close``, ``volume``), for models that compute their own features
and join them to Numerai's universe and targets. Each (id, day)'s noise is fixed by the seed,
the id and the date, so a feature at a date does not depend on the window asked for (the
price level does: it starts at the window's first day).

The relation with the stand-in's targets: given targets by date and id (Signals' train and
validation files, Crypto's ``historical_targets.parquet``), the :data:`WINDOW` trading days up
to each era's date drift with its target (a high target rises and moves calmly), so momentum
and volatility computed at an era's date carry a weak, real signal for that era's target, as
price features do for Numerai's. Without targets the prices are random walks.

    prices = standin_prices(data_root, "signals")  # live universe + ids with targets
    features = reference_features(prices, ["2029-10-05", "2029-11-02"])
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

WINDOW = 20  # trading days behind the reference features and each era's drift
MOMENTUM_EDGE = 0.5  # drift per era, in daily volatilities x sqrt(WINDOW), per unit of target
VOLATILITY_EDGE = 0.2  # log-volatility change per unit of target (high targets are calmer)
VOLUME_SPREAD = 0.5  # daily log-volume noise
EPOCH = dt.date(1970, 1, 1)  # days are counted from here: the noise of a day is fixed by it
NOISE, CONSTANTS, VOLUMES = 1, 2, 3  # random streams per id


@dataclass(frozen=True)
class Market:
    """How one tournament's prices move: ids, trading calendar, daily volatility, levels."""

    tournament: str  # "signals", "crypto"
    number: int  # Numerai's tournament id (11, 12): part of the seed
    id_column: str
    business_days: bool  # stocks trade Monday to Friday, coins every day
    volatility: tuple[float, float]  # daily, drawn per id uniformly in this range
    price: tuple[float, float]  # first close, drawn per id log-uniformly
    volume: tuple[float, float]  # typical daily volume, drawn per id log-uniformly


STOCKS = Market("signals", 11, "numerai_ticker", True, (0.01, 0.03), (5.0, 500.0), (2e5, 2e7))
COINS = Market("crypto", 12, "symbol", False, (0.03, 0.07), (0.05, 50_000.0), (1e6, 1e9))
MARKETS = {"signals": STOCKS, "crypto": COINS}
# Where a folder laid out like Numerai's dataset names keeps each tournament's targets and
# live universe, in order of preference: (target files, target column, live files).
TARGET_FILES = {
    "signals": ((("signals/v2.1/train.parquet", "signals/v2.1/validation.parquet"), "target"),),
    "crypto": (
        (("crypto/v1.0/historical_targets.parquet",), "target"),
        (
            ("crypto/v2.0/train.parquet", "crypto/v2.0/validation.parquet"),
            "target_binned_return_20",
        ),
    ),
}
LIVE_FILES = {
    "signals": ("signals/v2.1/live.parquet",),
    "crypto": ("crypto/v1.0/live_universe.parquet", "crypto/v2.0/live.parquet"),
}


def market(tournament: str | Market) -> Market:
    """The market of ``"signals"`` or ``"crypto"`` (a :class:`Market` is returned as is)."""
    if isinstance(tournament, Market):
        return tournament
    try:
        return MARKETS[str(tournament).strip().lower()]
    except KeyError:
        raise ValueError(f"no prices for {tournament!r}: use one of {sorted(MARKETS)}") from None


def as_date(value: str | int | dt.date | pd.Timestamp) -> dt.date:
    """A date from ``2029-11-02``, ``20291102``, a date or a timestamp."""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(str(value).strip()).date()


def _dates(values: pd.Series) -> pd.Series:
    """A column of dates in any of :func:`as_date`'s forms, as timestamps."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize(None) if values.dt.tz is not None else values
    return pd.to_datetime(values.astype(str).str.strip())


def trading_days(end: str | dt.date, days: int, chosen: str | Market = STOCKS) -> pd.DatetimeIndex:
    """The last ``days`` trading days up to ``end`` (business days for stocks)."""
    stop = pd.Timestamp(as_date(end))
    if market(chosen).business_days:
        return pd.bdate_range(end=stop, periods=days)
    return pd.date_range(end=stop, periods=days, freq="D")


def _key(name: str) -> int:
    """A stable 64-bit number per id (Python's ``hash`` changes between runs)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")


def _stream(seed: int, chosen: Market, stream: int, name: str) -> np.random.PCG64:
    return np.random.PCG64(np.random.SeedSequence([seed, chosen.number, stream, _key(name)]))


def _normals(
    names: Sequence[str], ordinals: np.ndarray, seed: int, chosen: Market, stream: int
) -> np.ndarray:
    """Standard normals per (id, day), each fixed by seed, id and day (not by the window).

    Every day owns two uniforms of the id's stream (Box-Muller), so a window starts by
    advancing the stream to its first day instead of drawing every day since the epoch.
    """
    first, span = int(ordinals[0]), int(ordinals[-1] - ordinals[0]) + 1
    if first < 0:
        raise ValueError(f"prices start on {EPOCH.isoformat()} at the earliest")
    out = np.empty((len(names), len(ordinals)))
    for row, name in enumerate(names):
        bits = _stream(seed, chosen, stream, name)
        bits.advance(2 * first)
        u = np.random.Generator(bits).random(2 * span).reshape(span, 2)
        normal = np.sqrt(-2.0 * np.log1p(-u[:, 0])) * np.cos(2.0 * np.pi * u[:, 1])
        out[row] = normal[ordinals - first]
    return out


def _constants(names: Sequence[str], seed: int, chosen: Market) -> np.ndarray:
    """Per id: daily volatility, first close, typical volume (rows of a (n, 3) array)."""
    draws = np.array(
        [np.random.Generator(_stream(seed, chosen, CONSTANTS, n)).random(3) for n in names]
    ).reshape(len(names), 3)
    low, high = chosen.volatility
    volatility = low + (high - low) * draws[:, 0]
    return np.column_stack(
        [
            volatility,
            _log_uniform(chosen.price, draws[:, 1]),
            _log_uniform(chosen.volume, draws[:, 2]),
        ]
    )


def _log_uniform(bounds: tuple[float, float], draws: np.ndarray) -> np.ndarray:
    """Uniform draws in [0, 1) spread evenly in log space between ``bounds``."""
    low, high = bounds
    return np.exp(np.log(low) + np.log(high / low) * draws)


def _target_field(
    names: Sequence[str],
    calendar: pd.DatetimeIndex,
    targets: pd.DataFrame | None,
    id_column: str,
    target: str,
) -> np.ndarray:
    """Per (id, day): the sum of (target - 0.5) over the eras whose last :data:`WINDOW`
    trading days hold that day; 0 where no era with a target covers it."""
    field = np.zeros((len(names), len(calendar)))
    if targets is None or len(targets) == 0:
        return field
    missing = {"date", id_column, target} - set(targets.columns)
    if missing:
        raise ValueError(
            f"targets need the columns date, {id_column} and {target}; missing {sorted(missing)}"
        )
    row_of = {name: k for k, name in enumerate(names)}
    frame = pd.DataFrame(
        {
            "date": _dates(targets["date"]),
            "row": targets[id_column].astype(str).map(row_of),
            "value": pd.to_numeric(targets[target], errors="coerce") - 0.5,
        }
    ).dropna()
    for date, era in frame.groupby("date"):
        if date < calendar[0] or date > calendar[-1]:
            continue  # the era's window lies outside this calendar
        end = int(calendar.searchsorted(date, side="right")) - 1  # last trading day <= date
        rows, values = era["row"].to_numpy(int), era["value"].to_numpy()
        field[rows, max(0, end - WINDOW + 1) : end + 1] += values[:, None]
    return field


def price_history(
    ids: Iterable[str],
    end: str | dt.date,
    days: int = 200,
    *,
    tournament: str | Market = "signals",
    seed: int = 0,
    targets: pd.DataFrame | None = None,
    target: str = "target",
) -> pd.DataFrame:
    """Daily ``close`` and ``volume`` of ``ids`` over the ``days`` trading days up to ``end``.

    Long form, by date then id: ``date`` (``YYYY-MM-DD``, like the stand-in's files), the
    tournament's id column (``numerai_ticker``, ``symbol``), ``close``, ``volume``. With
    ``targets`` (``date``, id column, ``target``), each era's target tilts the days up to it.
    """
    chosen = market(tournament)
    names = list(dict.fromkeys(str(i) for i in ids))
    if days < 1 or not names:
        raise ValueError("a price history needs at least one id and one day")
    calendar = trading_days(end, days, chosen)
    ordinals = np.array([(d.date() - EPOCH).days for d in calendar])
    # Eras after the window still tilt its last days: extend the calendar to cover them.
    later = trading_days(calendar[-1] + pd.Timedelta(days=2 * WINDOW), days + 2 * WINDOW, chosen)
    extended = later[later >= calendar[0]]
    field = _target_field(names, extended, targets, chosen.id_column, target)[:, : len(calendar)]
    volatility, price, volume = _constants(names, seed, chosen).T
    noise = _normals(names, ordinals, seed, chosen, NOISE)
    daily = volatility[:, None] * (
        np.exp(-VOLATILITY_EDGE * field) * noise + MOMENTUM_EDGE * field / np.sqrt(WINDOW)
    )
    close = price[:, None] * np.exp(np.cumsum(daily, axis=1))
    traded = volume[:, None] * np.exp(
        VOLUME_SPREAD * _normals(names, ordinals, seed, chosen, VOLUMES)
    )
    return pd.DataFrame(
        {
            "date": np.repeat(calendar.strftime("%Y-%m-%d").to_numpy(dtype=object), len(names)),
            chosen.id_column: np.tile(np.array(names, dtype=object), len(calendar)),
            "close": close.T.ravel(),
            "volume": np.round(traded.T.ravel()).astype(np.int64),
        }
    )


def _id_column(prices: pd.DataFrame) -> str:
    others = [c for c in prices.columns if c not in ("date", "close", "volume")]
    if len(others) != 1:
        raise ValueError(f"prices need one id column beside date, close, volume; got {others}")
    return str(others[0])


def reference_features(
    prices: pd.DataFrame,
    dates: str | dt.date | Iterable[str | dt.date],
    window: int = WINDOW,
) -> pd.DataFrame:
    """``momentum_<window>`` (close / close ``window`` trading days earlier - 1) and
    ``volatility_<window>`` (standard deviation of the last ``window`` daily log returns) per
    id at each date, from the last trading day on or before it; NaN without enough history.

    Columns: ``date`` (as asked, ``YYYY-MM-DD``), the id column, the two features.
    """
    id_column = _id_column(prices)
    asked = [dates] if isinstance(dates, str | dt.date) else list(dates)
    wide = (
        prices.assign(date=_dates(prices["date"]))
        .pivot_table(index="date", columns=id_column, values="close", aggfunc="last")
        .sort_index()
    )
    momentum = wide / wide.shift(window) - 1.0
    volatility = np.log(wide).diff().rolling(window, min_periods=window).std()
    parts = []
    for value in asked:
        day = as_date(value)
        at = int(wide.index.searchsorted(pd.Timestamp(day), side="right")) - 1
        part = pd.DataFrame({id_column: wide.columns.astype(str)})
        part.insert(0, "date", day.isoformat())
        part[f"momentum_{window}"] = momentum.iloc[at].to_numpy() if at >= 0 else np.nan
        part[f"volatility_{window}"] = volatility.iloc[at].to_numpy() if at >= 0 else np.nan
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _read(path: Path, wanted: Sequence[str]) -> pd.DataFrame | None:
    """The wanted columns of a parquet file, or None when it or one of them is missing."""
    if not path.is_file():
        return None
    names = set(pq.read_schema(path).names)
    if not set(wanted) <= names:
        return None
    return pd.read_parquet(path, columns=list(wanted))


def standin_targets(folder: str | Path, tournament: str = "signals") -> pd.DataFrame:
    """Targets by date and id from a folder laid out like Numerai's dataset names (the
    stand-in's data root, or where numerapi saved them): ``date``, id column, ``target``.

    Signals: train and validation; Crypto: ``crypto/v1.0/historical_targets.parquet``, else
    v2.0's train and validation (their ``target_binned_return_20``, renamed ``target``).
    """
    chosen = market(tournament)
    for files, column in TARGET_FILES[chosen.tournament]:
        frames = [_read(Path(folder) / f, ["date", chosen.id_column, column]) for f in files]
        found = [f for f in frames if f is not None]
        if found:
            both = pd.concat(found, ignore_index=True).rename(columns={column: "target"})
            both["date"] = _dates(both["date"]).dt.strftime("%Y-%m-%d")
            return both.dropna(subset=["target"]).reset_index(drop=True)
    raise FileNotFoundError(f"no {chosen.tournament} targets under {folder}")


def standin_live(folder: str | Path, tournament: str = "signals") -> tuple[list[str], dt.date]:
    """The live universe's ids and its data date, from the folder's first live file."""
    chosen = market(tournament)
    for name in LIVE_FILES[chosen.tournament]:
        frame = _read(Path(folder) / name, [chosen.id_column, "date"])
        if frame is not None and len(frame):
            return frame[chosen.id_column].astype(str).tolist(), as_date(
                _dates(frame["date"]).max()
            )
    raise FileNotFoundError(f"no {chosen.tournament} live file under {folder}")


def standin_prices(
    folder: str | Path,
    tournament: str = "signals",
    *,
    days: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Prices of the live universe and every id with targets, up to the live data date.

    ``days`` defaults to enough history for :func:`reference_features` at the first era
    with targets; the targets tilt the prices (see the module's docstring).
    """
    chosen = market(tournament)
    targets = standin_targets(folder, chosen.tournament)
    live, end = standin_live(folder, chosen.tournament)
    if days is None:
        first = as_date(targets["date"].min())
        span = trading_days(end, (end - first).days + 1, chosen)
        days = int((span >= pd.Timestamp(first)).sum()) + WINDOW
    ids = live + sorted(set(targets[chosen.id_column].astype(str)) - set(live))
    return price_history(ids, end, days, tournament=chosen, seed=seed, targets=targets)
