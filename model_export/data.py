"""Find Numerai data files (local folder or numerapi download) and read only the needed columns.

Why: train.parquet is ~7.7 GB and validation ~4 GB with 2,700+ feature columns; a model needs a
few hundred columns, every 4th era, and a parity check needs a few thousand rows. Everything
here reads columns (and row groups) selectively with pyarrow and builds float matrices
directly (int8 or float features, nulls become NaN), never a full pandas frame of the file.
String features (Signals) are kept apart as an [N, k] object matrix, a missing value as "".
Signals and Crypto files live under their tournament's prefix (``signals/v2.1/…``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from model_export.string_features import strings_matrix
from numerai_bot.data_versions import is_version
from numerai_bot.tournaments import CLASSIC, Tournament

ENV_API_URL = "NUMERAI_API_URL"


class DataError(RuntimeError):
    """A data file is missing or unreadable; the message says what to pass or download."""


@dataclass(frozen=True)
class Table:
    """Rows read from a parquet file: the feature matrix plus the other requested columns."""

    matrix: np.ndarray  # [rows, numeric features] float32 (or float64), NaN for nulls
    columns: dict[str, np.ndarray]  # era, target… as NumPy arrays
    strings: np.ndarray | None = None  # [rows, string features] object, "" for nulls
    string_names: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        """Number of rows read."""
        return int(self.matrix.shape[0])


def version_from_path(path: Path) -> str | None:
    """``v5.2`` when a file or folder sits in (or is) a folder named like a data version."""
    for part in (Path(path).name, *[parent.name for parent in Path(path).parents]):
        if is_version(part):
            return part
    return None


def locate_version_dir(
    data_dir: Path,
    data_version: str | None,
    tournament: Tournament = CLASSIC,
    marker: str = "features.json",
) -> Path:
    """The folder holding ``marker``: ``data_dir``, ``data_dir/<prefix><version>``,
    ``data_dir/<version>``, or the one version folder inside ``data_dir`` (or
    ``data_dir/<prefix>``) when no version is given."""
    data_dir = Path(data_dir)
    prefixed = data_dir / tournament.data_prefix if tournament.data_prefix else data_dir
    candidates = [prefixed / data_version, data_dir / data_version] if data_version else []
    candidates.append(data_dir)
    for candidate in candidates:
        if (candidate / marker).is_file():
            return candidate
    found = sorted(
        child
        for parent in dict.fromkeys([prefixed, data_dir])
        for child in (parent.iterdir() if parent.is_dir() and not data_version else [])
        if is_version(child.name) and (child / marker).is_file()
    )
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(child.name for child in found)
        raise DataError(f"{data_dir} holds several data versions ({names}): pass --data-version")
    raise DataError(
        f"no {marker} in {data_dir}"
        + (f" or {prefixed / data_version}" if data_version else "")
        + ": point --data-dir at the folder with Numerai's files, or add --download"
    )


def numerai_api(tournament: Tournament = CLASSIC, api_url: str | None = None) -> Any:
    """A numerapi client asking about ``tournament`` (its ``tournament_id``).

    ``api_url`` (default: the ``NUMERAI_API_URL`` environment variable) points numerapi at
    another GraphQL endpoint, e.g. the local Numerai stand-in used by the demo.
    """
    import numerapi  # imported here: only the download path needs it
    from numerapi import base_api

    url = api_url or os.environ.get(ENV_API_URL)
    if url:
        base_api.API_TOURNAMENT_URL = url  # read by numerapi at call time
    api = numerapi.NumerAPI()
    api.tournament_id = tournament.id  # what list_datasets / download_dataset send
    return api


def served_datasets(tournament: Tournament = CLASSIC, api_url: str | None = None) -> list[str]:
    """``list_datasets`` for ``tournament``; empty when Numerai cannot be asked."""
    try:
        return list(numerai_api(tournament, api_url).list_datasets())
    except Exception:  # offline, an endpoint without listDatasets…: fall back to defaults
        return []


def download_files(
    dest_root: Path,
    data_version: str,
    names: Sequence[str],
    api_url: str | None = None,
    tournament: Tournament = CLASSIC,
) -> Path:
    """Download ``names`` of one data version with numerapi into
    ``dest_root/<prefix><version>/`` (``data/v5.2``, ``data/signals/v2.1``).

    numerapi skips files already downloaded with the same size.
    """
    api = numerai_api(tournament, api_url)
    version_dir = Path(dest_root) / tournament.dataset(data_version, "")
    version_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = version_dir / name
        dataset = tournament.dataset(data_version, name)
        try:
            api.download_dataset(dataset, dest_path=str(target))
        except Exception as error:  # numerapi raises many kinds; report which file failed
            raise DataError(
                f"downloading {dataset} failed ({type(error).__name__}: {error}); "
                f"check the network / {ENV_API_URL}, or pass a local --data-dir"
            ) from error
        if not target.is_file():
            raise DataError(f"numerapi did not write {target}: is {dataset} listed by the API?")
    return version_dir


def require_columns(path: Path, columns: Sequence[str]) -> None:
    """Raise :class:`DataError` naming the columns ``path`` lacks (checked on the schema only)."""
    try:
        names = set(pq.read_schema(path).names)
    except (OSError, pa.ArrowInvalid) as error:
        raise DataError(f"cannot read {path}: {error}") from None
    missing = [name for name in columns if name not in names]
    if missing:
        raise DataError(
            f"{path} lacks {len(missing)} of the requested columns (e.g. {missing[:3]}): "
            "is it the data version the model or feature set belongs to?"
        )


def unique_eras(path: Path, era_column: str = "era") -> list[str]:
    """The sorted distinct values of the era column (read alone)."""
    require_columns(path, [era_column])
    eras = pq.read_table(path, columns=[era_column]).column(era_column).to_pylist()
    return sorted({str(era) for era in eras})


def read_rows(
    path: Path,
    features: Sequence[str],
    *,
    other_columns: Sequence[str] = (),
    eras: Sequence[str] | None = None,
    era_column: str = "era",
    string_columns: Sequence[str] = (),
    dtype: type[np.floating] = np.float32,
    progress: bool = False,
) -> Table:
    """Read ``features`` (numeric ones as one matrix, ``string_columns`` apart) and
    ``other_columns`` for all rows or some eras."""
    columns = list(dict.fromkeys([*features, *other_columns]))
    require_columns(path, columns)
    filters = None
    if eras is not None:
        kind = pq.read_schema(path).field(era_column).type
        values = [_era_value(era, kind) for era in eras]
        filters = [(era_column, "in", values)]
    table = pq.read_table(path, columns=columns, filters=filters)
    return _to_table(table, features, other_columns, string_columns, dtype, progress)


def read_sample(
    path: Path,
    features: Sequence[str],
    *,
    rows: int | None,
    other_columns: Sequence[str] = (),
    string_columns: Sequence[str] = (),
    seed: int = 0,
    dtype: type[np.floating] = np.float32,
    progress: bool = False,
) -> Table:
    """About ``rows`` random rows, reading only as many row groups as needed (all if None)."""
    columns = list(dict.fromkeys([*features, *other_columns]))
    require_columns(path, columns)
    parquet = pq.ParquetFile(path)
    rng = np.random.default_rng(seed)
    groups = list(range(parquet.num_row_groups))
    if rows is not None:
        chosen, total = [], 0
        for group in rng.permutation(groups):
            chosen.append(int(group))
            total += parquet.metadata.row_group(int(group)).num_rows
            if total >= rows:
                break
        groups = sorted(chosen)
    table = parquet.read_row_groups(groups, columns=columns)
    if rows is not None and table.num_rows > rows:
        keep = np.sort(rng.choice(table.num_rows, size=rows, replace=False))
        table = table.take(pa.array(keep))
    return _to_table(table, features, other_columns, string_columns, dtype, progress)


def _era_value(era: str, kind: pa.DataType) -> object:
    """An era label as the column stores it (``date`` columns may be dates or strings)."""
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return pa.scalar(era).cast(kind)
    if pa.types.is_integer(kind):
        return int(era)
    return era


def _to_table(
    table: pa.Table,
    features: Sequence[str],
    other_columns: Sequence[str],
    string_columns: Sequence[str],
    dtype: type[np.floating],
    progress: bool,
) -> Table:
    """Fill a float matrix column by column (nulls → NaN) without a pandas detour; string
    columns go to an object matrix ("" for nulls)."""
    strings = [name for name in features if name in set(string_columns)]
    numeric = [name for name in features if name not in set(strings)]
    matrix = np.empty((table.num_rows, len(numeric)), dtype=dtype)
    arrow_type = pa.float32() if dtype == np.float32 else pa.float64()
    for j, name in enumerate(
        tqdm(numeric, desc="columns", unit="col", disable=not progress, leave=False)
    ):
        column = table.column(name).cast(arrow_type)
        matrix[:, j] = column.to_numpy()  # float with nulls → NaN
    others = {name: table.column(name).to_numpy() for name in other_columns}
    if not strings:
        return Table(matrix=matrix, columns=others)
    return Table(matrix, others, strings_matrix(table, strings), tuple(strings))
