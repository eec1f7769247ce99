"""The round's live data: downloaded once per (tournament, round, data version), read with
pyarrow.

Only the columns some model needs are read, once, straight into NumPy (no pandas frame).
Classic features are integers 0-4, kept as int8 (1 byte per value, ``MISSING`` for a null):
exact and a quarter of float32's memory. Signals and Crypto ship float features (NaN for
missing), kept as float64 so no rounding can re-rank rows; their string features (e.g.
``feature_country``) are handed to the model as strings, which its graph encodes itself.
Models that share a feature list share one matrix; each model converts it to its input
type a batch of rows at a time (:meth:`FeatureMatrix.batches`), so no full-size float copy
is ever held.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from numerai_bot.allocator import release_free_memory
from numerai_bot.data_versions import LIVE_FILE
from numerai_bot.errors import BotError, LiveDataError, ModelError, ObjectMissing
from numerai_bot.ports import DatasetSource, ModelStore
from numerai_bot.tournaments import CLASSIC, Tournament

logger = logging.getLogger(__name__)
T = TypeVar("T")

ID_COLUMN = CLASSIC.id_column
# Ids that stand for no id at all (what NaN, None or an empty cell become as text).
BLANK_IDS = ("", "nan", "none", "null", "<na>", "nat")

FEATURE_MIN, FEATURE_MAX = 0, 4
# How a null feature value is stored in the int8 matrix (real values are 0-4).
MISSING = -1
# Matrices kept for models that share a feature list (18 MB each for 6,720 x 2,748 int8).
MAX_MATRICES = 4
# Rows converted to the model's input type and run at once: at most BATCH_ROWS, and no more
# than BATCH_BYTES of converted input. The float copy of a batch and onnxruntime's double
# copy of it take 12 bytes per value: 4.8 MB for 512 x 780 (medium), per predict lane,
# instead of 63 MB for the whole file; a wide model gets fewer rows (256 for all 2,748
# features: 8.4 MB with its double copy). onnxruntime runs no slower on these batches than
# on 1,024 rows (median of 5: 306 against 306 ms on 2 threads, 565 against 564 on one).
BATCH_ROWS = 512
BATCH_BYTES = 2 * 1024 * 1024
MIN_BATCH_ROWS = 256
# Feature columns decoded per pyarrow read (see LiveData.preload).
COLUMNS_PER_READ = 256
# How long a failed live download or a bad live file is not fetched again (one run's models).
FAILURE_MEMORY_SECONDS = 30.0


@dataclass(frozen=True)
class FeatureMatrix:
    """Rows x features in a model's feature order, compact: int8 with ``MISSING`` for nulls,
    or float32 with NaN when some column holds non-integer values."""

    values: np.ndarray
    has_missing: bool  # int8 values hold MISSING somewhere (float values carry NaN)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, features)."""
        return self.values.shape  # type: ignore[return-value]

    def batches(self, dtype: type, rows: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``(first row, block)`` pairs: blocks of ``rows`` rows (default: see BATCH_BYTES)
        in ``dtype``, NaN for nulls."""
        if rows is None:
            per_row = max(1, self.values.shape[1]) * np.dtype(dtype).itemsize
            rows = min(BATCH_ROWS, max(MIN_BATCH_ROWS, BATCH_BYTES // per_row))
        for start in range(0, self.values.shape[0], rows):
            yield start, self._convert(self.values[start : start + rows], dtype)

    def dense(self, dtype: type = np.float32) -> np.ndarray:
        """The whole matrix in ``dtype`` (tools and tests; the worker uses :meth:`batches`)."""
        return self._convert(self.values, dtype)

    def _convert(self, block: np.ndarray, dtype: type) -> np.ndarray:
        out = block.astype(dtype)  # a new C-contiguous array: safe to hand to onnxruntime
        if self.has_missing and block.dtype == np.int8:
            out[block == MISSING] = np.nan
        return out


class LiveData:
    """One round's live file: its ids, and feature matrices built on demand."""

    def __init__(
        self,
        path: Path,
        round_number: int,
        data_version: str,
        tournament: Tournament = CLASSIC,
        name: str | None = None,
        on_bad_file: Callable[[LiveDataError], None] | None = None,
    ) -> None:
        self.path = path
        # Told when a column read after loading shows the file is bad (the cache evicts it).
        self.on_bad_file = on_bad_file
        self.round_number = round_number
        self.data_version = data_version
        self.tournament = tournament
        name = name or tournament.live_file(data_version)
        self.name = name
        id_column = tournament.id_column
        try:
            with pq.ParquetFile(path) as file:
                self._schema = file.schema_arrow
                names = self._schema.names
                self.columns = frozenset(names)
                twice = sorted(n for n, count in Counter(names).items() if count > 1)
                if twice:
                    raise LiveDataError(f"{name} lists column(s) {', '.join(twice)} more than once")
                if id_column not in self.columns:
                    raise LiveDataError(f"{name} has no '{id_column}' column")
                ids = file.read(columns=[id_column]).column(id_column)
        except (pa.ArrowException, OSError) as error:
            raise LiveDataError(f"{name} of round {round_number} is unreadable: {error}") from None
        if ids.null_count:
            raise LiveDataError(f"{name} has {ids.null_count} rows without a '{id_column}' value")
        self.ids = np.array(ids.to_pylist(), dtype=object)  # not to_numpy: see _fixed_width
        if len(self.ids) == 0:
            raise LiveDataError(f"{name} has no rows")
        text = self.ids.astype(str)
        blank = np.isin(np.char.lower(np.char.strip(text)), BLANK_IDS)
        if blank.any():
            raise LiveDataError(
                f"{name} has {int(blank.sum())} rows whose '{id_column}' is blank or a "
                f"placeholder (e.g. {text[blank][0]!r}): not a file to submit against"
            )
        unique, counts = np.unique(text, return_counts=True)
        if len(unique) != len(self.ids):
            raise LiveDataError(
                f"{name} lists {id_column} {unique[counts > 1][0]!r} more than once"
            )
        self._columns: dict[str, np.ndarray] = {}
        self._matrices: dict[tuple[tuple[str, ...], type], np.ndarray] = {}
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()

    def read_with(self, read: Callable[[Path], T]) -> T:
        """``read(path)`` on this file, e.g. another column set (the own-data universe); a
        pyarrow or OS error is the file's fault: a :class:`LiveDataError` naming it, and the
        cache evicts the file (see ``on_bad_file``)."""
        try:
            with self._read_lock:
                return read(self.path)
        except (pa.ArrowException, OSError) as error:
            bad = LiveDataError(f"{self.name} of round {self.round_number} is unreadable: {error}")
            if self.on_bad_file is not None:
                self.on_bad_file(bad)
            raise bad from None

    @property
    def rows(self) -> int:
        """Number of live rows (one prediction each)."""
        return len(self.ids)

    def missing(self, features: Iterable[str]) -> list[str]:
        """Features the model needs that this live file does not have."""
        return [name for name in features if name not in self.columns]

    def preload(self, features: Iterable[str]) -> None:
        """Read every column any model needs in one pass over the file.

        The file is opened for the pass and closed after it, and the heap's freed pages go
        back to the OS: pyarrow's parsed footer of a 2,748-column file leaves about 10 MiB
        of small freed blocks that the predictions would otherwise find resident.
        """
        integer = self.tournament.integer_features
        # One reader at a time: pyarrow's ParquetFile is not safe to read from two threads
        # at once (it crashes the process), and no column is read twice.
        with self._read_lock:
            wanted = [
                f for f in dict.fromkeys(features) if f in self.columns and f not in self._columns
            ]
            if not wanted:
                return
            loaded: dict[str, np.ndarray] = {}
            try:
                try:
                    with pq.ParquetFile(self.path) as file:
                        # A few hundred columns per read: pyarrow's decoded table and its
                        # buffers are held for one slice at a time, not all 2,748 at once.
                        for first in range(0, len(wanted), COLUMNS_PER_READ):
                            names = wanted[first : first + COLUMNS_PER_READ]
                            table = file.read(columns=names)
                            loaded.update(
                                (name, _column(name, table.column(name), integer)) for name in names
                            )
                            del table  # the columns are copies; pyarrow's pool gets its buffers
                except (pa.ArrowException, OSError) as error:
                    raise LiveDataError(f"cannot read live features: {error}") from None
            except LiveDataError as error:  # unreadable, or a column of the wrong kind
                if self.on_bad_file is not None:
                    self.on_bad_file(error)
                raise
            release_free_memory()
            with self._lock:
                self._columns.update(loaded)

    def features(self, features: tuple[str, ...]) -> FeatureMatrix:
        """Rows × ``features`` in that order (compact; see :class:`FeatureMatrix`)."""
        with self._lock:
            cached = self._matrices.get(features)
        if cached is not None:
            return cached
        absent = self.missing(features)
        if absent:
            raise ModelError(
                f"{len(absent)} feature(s) not in {self.data_version} live data, e.g. {absent[0]}"
            )
        self.preload(features)
        columns = [self._columns[name] for name in features]
        strings = [name for name, c in zip(features, columns, strict=True) if c.dtype == object]
        if strings:
            raise ModelError(
                f"string feature(s) {', '.join(strings[:3])} must be fed to the model as "
                "strings: re-export it so its metadata lists them in numerai.string_features"
            )
        dtype = np.result_type(*[c.dtype for c in columns]) if columns else np.int8
        by_feature = np.empty((len(features), self.rows), dtype=dtype)
        for j, column in enumerate(columns):
            by_feature[j] = column
            if dtype != np.int8 and column.dtype == np.int8:  # float matrix: nulls as NaN
                by_feature[j][column == MISSING] = np.nan
        # Only an int8 matrix needs its nulls marked on conversion; float ones carry NaN.
        has_missing = dtype == np.int8 and bool((by_feature == MISSING).any())
        result = FeatureMatrix(np.ascontiguousarray(by_feature.T), has_missing)
        with self._lock:
            self._matrices[features] = result
            while len(self._matrices) > MAX_MATRICES:
                self._matrices.pop(next(iter(self._matrices)))
        return result

    def numeric_features(self) -> tuple[str, ...]:
        """Every numeric ``feature_*`` column of the file, in the file's order."""
        schema = self._schema
        return tuple(
            f.name
            for f in schema
            if f.name.startswith("feature_")
            and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))
        )

    def numbers(self, names: Iterable[str]) -> dict[str, np.ndarray]:
        """Columns read exactly as float64 (NaN for a null), not kept: e.g. benchmark
        predictions, which must not be compacted like Classic's features."""
        wanted = list(dict.fromkeys(names))
        absent = self.missing(wanted)
        if absent:
            raise ModelError(f"no column {', '.join(absent)} in {self.path.name}")
        try:
            with self._read_lock, pq.ParquetFile(self.path) as file:
                table = file.read(columns=wanted)
        except (pa.ArrowException, OSError) as error:
            raise LiveDataError(f"cannot read {self.path.name}: {error}") from None
        import pyarrow.compute as pc  # lazily: see _int8_column

        out = {}
        for name in wanted:
            column = table.column(name)
            if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
                raise LiveDataError(f"column {name} has type {column.type}, expected numbers")
            as_float = pc.fill_null(pc.cast(column, pa.float64()), np.nan)
            out[name] = np.array(as_float.to_numpy(), dtype=np.float64)
        return out

    def strings(self, features: tuple[str, ...]) -> np.ndarray:
        """Rows × ``features`` as Python strings ("" for a missing value): the input a
        graph that encodes its own string features takes."""
        absent = self.missing(features)
        if absent:
            raise ModelError(
                f"{len(absent)} feature(s) not in {self.data_version} live data, e.g. {absent[0]}"
            )
        self.preload(features)
        out = np.empty((self.rows, len(features)), dtype=object)
        for j, name in enumerate(features):
            column = self._columns[name]
            if column.dtype != object:
                raise ModelError(f"feature {name} is numeric in the live data, not a string")
            out[:, j] = column
        return out


def _column(name: str, column: pa.ChunkedArray, integer_features: bool) -> np.ndarray:
    """A live column as the model will see it: strings as Python strings ("" for null);
    Classic's integer features compacted (see :func:`_compact_column`); other tournaments'
    numbers as float64 with NaN for missing, exactly as shipped."""
    if integer_features and column.type == pa.int8():
        return _int8_column(name, column)  # Classic's usual column: no pyarrow.compute
    import pyarrow.compute as pc  # lazily: see _int8_column

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return np.array(["" if v is None else v for v in column.to_pylist()], dtype=object)
    if pa.types.is_dictionary(column.type):
        return _column(name, pc.cast(column, pa.string()), integer_features)
    if integer_features:
        return _compact_column(name, column)
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise LiveDataError(f"live column {name} has type {column.type}, expected numbers")
    return _fixed_width(_filled(pc.cast(column, pa.float64()), np.float64("nan")))


def _compact_column(name: str, column: pa.ChunkedArray) -> np.ndarray:
    """A checked live column as int8 (nulls as ``MISSING``), or float32 when it holds
    non-integer values (kept exact, nulls as NaN)."""
    import pyarrow.compute as pc  # lazily: see _int8_column

    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise LiveDataError(f"live column {name} has type {column.type}, expected int8")
    if pa.types.is_floating(column.type):  # NaN is a missing value, like a null
        column = pc.if_else(pc.is_nan(column), pa.nulls(1, column.type)[0], column)
    present = column.length() - column.null_count
    if present:
        low, high = pc.min_max(column).values()
        _check_range(name, low.as_py(), high.as_py())
    fractional = (
        pa.types.is_floating(column.type)
        and present
        and pc.any(pc.not_equal(pc.floor(column), column)).as_py()
    )
    if fractional:
        return _fixed_width(_filled(pc.cast(column, pa.float32()), np.float32("nan")))
    return _fixed_width(_filled(pc.cast(column, pa.int8()), np.int8(MISSING)))


def _int8_column(name: str, column: pa.ChunkedArray) -> np.ndarray:
    """Classic's usual column, int8 with nulls, checked and copied with NumPy alone (nulls
    as ``MISSING``). Why not pyarrow.compute, as for the other types: a Classic round then
    never imports it, which keeps 13.7 MiB off the worker's resident memory (measured on
    import), and converts 780 columns in 17 ms instead of 29 (medians of 5)."""
    values: list[np.ndarray] = []
    valid: list[np.ndarray] = []
    for chunk in column.chunks:
        count, offset = len(chunk), chunk.offset
        values.append(np.frombuffer(chunk.buffers()[1], np.int8, count, offset).copy())
        bitmap = chunk.buffers()[0]
        if chunk.null_count and bitmap is not None:
            bits = np.unpackbits(
                np.frombuffer(bitmap, np.uint8), count=offset + count, bitorder="little"
            )
            valid.append(bits[offset:].astype(bool))
        else:
            valid.append(np.ones(count, dtype=bool))
    if not values:
        return np.empty(0, dtype=np.int8)
    out, present = np.concatenate(values), np.concatenate(valid)
    if present.any():
        given = out[present]
        _check_range(name, int(given.min()), int(given.max()))
    out[~present] = MISSING
    return out


def _check_range(name: str, low: float, high: float) -> None:
    """Refuse a Classic feature column with values outside Numerai's 0-4 bins."""
    if low < FEATURE_MIN or high > FEATURE_MAX:
        raise LiveDataError(
            f"live column {name} has values in [{low}, {high}], outside "
            f"[{FEATURE_MIN}, {FEATURE_MAX}]"
        )


# Why the two helpers below, not ``to_numpy``, ``fill_null`` or ``pa.scalar``: those go
# through pyarrow's pandas layer, which imports pandas (about 45 MiB resident and a quarter
# of a second here) even for a column of int8, and the worker needs no pandas at all.


def _filled(column: pa.ChunkedArray, value: np.generic) -> pa.ChunkedArray:
    """``column`` with its nulls replaced by ``value``, a NumPy scalar of the column's type."""
    import pyarrow.compute as pc  # lazily: see _int8_column

    values = np.array([value])
    fill = pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), 1, [None, pa.py_buffer(values)])
    return pc.coalesce(column, fill[0])


def _fixed_width(column: pa.ChunkedArray) -> np.ndarray:
    """A null-free numeric column as a NumPy array of its own (not a view of the table),
    copied from its value buffers."""
    dtype = np.dtype(column.type.to_pandas_dtype())
    size = dtype.itemsize
    parts = [
        np.frombuffer(chunk.buffers()[1], dtype=dtype, count=len(chunk), offset=chunk.offset * size)
        for chunk in column.chunks
    ]
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


class LiveDataCache:
    """Live files on local disk (``/tmp`` in Lambda), one download per tournament, round and
    version.

    With a ``shared`` store (the bucket's ``live-cache/`` prefix), a worker handing models
    to shards publishes the file there (:meth:`stage`) and every shard reads it from the
    bucket instead of downloading it from Numerai again. Only then: a run predicting its own
    models has nobody to share with, and the upload (75 MB at 67,200 rows) cost one model
    0.05 s and its CPU. :meth:`prefetch` loads a file beside the session builds;
    :meth:`settle` waits for those loads before the invocation returns.
    """

    def __init__(
        self,
        root: str | Path,
        source: DatasetSource,
        shared: ModelStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = Path(root)
        self.source = source
        self.shared = shared
        self._loaded: dict[tuple[str, int, str], LiveData] = {}
        self._failed: dict[tuple[str, int, str], tuple[float, BotError]] = {}
        # Files found bad after loading (a column): kept for the run's other models, which may
        # not need that column, and downloaded afresh by a later run (clock() when found).
        self._stale: dict[tuple[str, int, str], float] = {}
        self.clock = clock
        self._lock = threading.Lock()
        self._staged: set[tuple[str, int, str]] = set()  # in the shared cache already
        self._loading: dict[tuple[str, int, str], threading.Thread] = {}  # prefetches

    def get(
        self,
        round_number: int,
        data_version: str,
        tournament: Tournament = CLASSIC,
        filename: str = LIVE_FILE,
        from_shared: bool = False,
    ) -> LiveData:
        """The round's live data for ``data_version``, downloading it at most once.

        ``filename`` is the file of the version to read: its live file, or the universe
        (``live_universe.parquet``) where that is what the version serves. ``from_shared``:
        look in the shared cache first (a shard's run, whose hand-off staged the file; any
        other run would only meet a miss there, 10-60 ms before every download).

        A bad file found in either cache is evicted from both, so the next try downloads it
        afresh (Numerai may have fixed it). A failed download or a bad file is remembered
        for ``FAILURE_MEMORY_SECONDS``: the run's other models get the same error at once
        instead of repeating the download and its retries, and a later run (Lambda's async
        retry, the schedule) tries afresh. A file whose column turns out bad after loading
        leaves the shared cache at once and this container's for the next run (``_evict``).
        """
        key = _file_key(tournament, round_number, data_version, filename)
        version = key[2]
        with self._lock:
            if key in self._loaded and not self._expired(key):
                return self._loaded[key]
            failed = self._failed.get(key)
            if failed is not None and self.clock() - failed[0] < FAILURE_MEMORY_SECONDS:
                raise type(failed[1])(str(failed[1]))
            path = self.root / tournament.name / str(round_number) / data_version / filename
            try:
                if not path.exists():
                    self._forget_other_rounds(tournament, round_number)
                    try:
                        if not self._fetch(tournament, round_number, version, path, from_shared):
                            self._staged.add(key)  # it came from the shared cache
                    except OSError as error:  # /tmp full or unwritable: say so, once
                        raise LiveDataError(_disk_error(error, path)) from None
                name = tournament.dataset(data_version, filename)

                def bad_file(error: LiveDataError) -> None:
                    self._evict(key, live, tournament, round_number, version, error)

                live = LiveData(path, round_number, data_version, tournament, name, bad_file)
            except BotError as error:
                path.unlink(missing_ok=True)  # never reuse a bad file on the next try
                if isinstance(error, LiveDataError):
                    self._evict_shared(tournament, round_number, version)
                self._failed[key] = (self.clock(), error)
                raise
            self._failed.pop(key, None)
            self._loaded[key] = live
            return live

    def _evict(
        self,
        key: tuple[str, int, str],
        live: LiveData,
        tournament: Tournament,
        round_number: int,
        version: str,
        error: LiveDataError,
    ) -> None:
        """A cached file found bad after loading (a column ``error`` names): out of the
        shared cache at once, so no shard reads it again; this run's other models keep it
        (the columns they need may be fine), and a later run downloads it afresh (see
        :meth:`_expired`). A file already replaced by a newer download is left alone."""
        with self._lock:
            if self._loaded.get(key) is not live:
                return
            self._stale.setdefault(key, self.clock())
        logger.warning("live file found bad after loading", extra={"error": str(error)})
        self._evict_shared(tournament, round_number, version)

    def _expired(self, key: tuple[str, int, str]) -> bool:
        """Drop a stale file (see :meth:`_evict`) once this run is over: True if dropped."""
        found = self._stale.get(key)
        if found is None or self.clock() - found < FAILURE_MEMORY_SECONDS:
            return False
        del self._stale[key]
        self._loaded.pop(key).path.unlink(missing_ok=True)
        return True

    def _fetch(
        self, tournament: Tournament, round_number: int, version: str, path: Path, from_shared: bool
    ) -> bool:
        """From the shared cache if asked and it has the file, else from Numerai; True if
        downloaded."""
        if from_shared and self.shared is not None:
            try:
                stored = self.shared.read(_shared_key(tournament, round_number, version))
            except ObjectMissing:
                pass
            except BotError as error:
                logger.warning("shared live cache unreadable", extra={"error": str(error)})
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(stored.data)
                return False
        self.source.download_dataset(_dataset(tournament, version), path, round_number, tournament)
        return True

    def stage(self, round_number: int, data_version: str, tournament: Tournament = CLASSIC) -> None:
        """Load the round's live file (as :meth:`get`: checked first, so a bad download
        never poisons the round for the shards) and publish it to the shared cache, once,
        streamed from disk."""
        live = self.get(round_number, data_version, tournament, from_shared=True)
        key = _file_key(tournament, round_number, data_version, LIVE_FILE)
        with self._lock:
            if self.shared is None or key in self._staged:
                return
        try:
            self.shared.write_file(_shared_key(tournament, round_number, key[2]), live.path)
        except Exception as error:  # each shard downloads it itself; the round goes on
            logger.warning("could not share live data", extra={"error": type(error).__name__})
            return
        with self._lock:
            self._staged.add(key)

    def prefetch(
        self,
        round_number: int,
        data_version: str,
        tournament: Tournament = CLASSIC,
        filename: str = LIVE_FILE,
        from_shared: bool = False,
    ) -> None:
        """Start :meth:`get` on a thread of its own, so that the download and the file's
        opening run beside the first session builds (onnxruntime builds without the GIL).
        A model's own ``get`` waits for it on the cache's lock and meets its error, if any."""
        key = _file_key(tournament, round_number, data_version, filename)
        with self._lock:
            if key in self._loaded or key in self._failed or key in self._loading:
                return
            thread = threading.Thread(
                target=self._get_quietly,
                args=(round_number, data_version, tournament, filename, from_shared),
                name="live-prefetch",
            )
            self._loading[key] = thread
        thread.start()

    def _get_quietly(
        self,
        round_number: int,
        data_version: str,
        tournament: Tournament,
        filename: str,
        from_shared: bool,
    ) -> None:
        # The model's own get() meets the same error (remembered, or met again) and reports it.
        with contextlib.suppress(Exception):
            self.get(round_number, data_version, tournament, filename, from_shared)

    def settle(self) -> None:
        """Wait for the loads :meth:`prefetch` started (none outlives the invocation)."""
        while True:
            with self._lock:
                if not self._loading:
                    return
                _, thread = self._loading.popitem()
            thread.join()

    def _evict_shared(self, tournament: Tournament, round_number: int, version: str) -> None:
        """Drop a bad file from the bucket's cache so no worker reads it again."""
        if self.shared is None:
            return
        self._staged.discard((tournament.name, round_number, version))
        try:
            self.shared.delete(_shared_key(tournament, round_number, version))
        except Exception as error:  # the local copy is gone already; say the bucket's stays
            logger.warning(
                "could not evict bad live data from the shared cache",
                extra={"error": type(error).__name__},
            )

    def _forget_other_rounds(self, tournament: Tournament, round_number: int) -> None:
        """Free /tmp and memory from the tournament's earlier rounds before a new one."""
        mine = tournament.name

        def keep(k: tuple[str, int, str]) -> bool:
            return k[0] != mine or k[1] == round_number

        self._loaded = {k: v for k, v in self._loaded.items() if keep(k)}
        self._failed = {k: v for k, v in self._failed.items() if keep(k)}
        self._stale = {k: v for k, v in self._stale.items() if keep(k)}
        self._staged = {k for k in self._staged if keep(k)}
        folder = self.root / mine
        if folder.exists():
            for child in folder.iterdir():
                if child.is_dir() and child.name != str(round_number):
                    shutil.rmtree(child, ignore_errors=True)


def _file_key(
    tournament: Tournament, round_number: int, data_version: str, filename: str
) -> tuple[str, int, str]:
    """The cache's key of a file: (tournament, round, version), where version is the data
    version for its live file and ``<version>/<file>`` for another file of it."""
    version = data_version if filename == LIVE_FILE else f"{data_version}/{filename}"
    return tournament.name, round_number, version


def _shared_key(tournament: Tournament, round_number: int, version: str) -> str:
    """``version`` is a data version (its live file) or ``<version>/<file>``."""
    if "/" in version:
        return f"{tournament.name}/{round_number}/{version}"
    return f"{tournament.name}/{round_number}/{version}/{LIVE_FILE}"


def _dataset(tournament: Tournament, version: str) -> str:
    """Numerai's name of the file ``version`` stands for (see :func:`_shared_key`)."""
    data_version, _, filename = version.partition("/")
    return tournament.dataset(data_version, filename or LIVE_FILE)


def _disk_error(error: OSError, path: Path) -> str:
    """Why a live file could not be written to local disk, and what to change."""
    if error.errno == errno.ENOSPC:
        return (
            f"no space left on {path.anchor}{path.parts[1] if len(path.parts) > 1 else ''} for "
            "the round's live file: raise the stack's WorkerEphemeralStorage"
        )
    return f"cannot write the round's live file to {path.parent}: {error.strerror or error}"
