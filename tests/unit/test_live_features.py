"""The live features as the worker holds them: int8, exact, and fed to models in batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from numerai_bot.errors import LiveDataError
from numerai_bot.inference import load_model
from numerai_bot.live_data import MISSING, LiveData
from standins.onnx_models import linear_model

ROWS = 2_500  # more than two batches
FEATURES = tuple(f"feature_{i:02d}" for i in range(12))


def write_live(path: Path, columns: dict[str, pa.Array]) -> LiveData:
    ids = pa.array([f"n{i:015x}" for i in range(ROWS)])
    pq.write_table(pa.table({"id": ids, **columns}), path)
    return LiveData(path, 1, "v5.2")


def int8_columns(seed: int = 0, null_share: float = 0.05) -> dict[str, pa.Array]:
    rng = np.random.default_rng(seed)
    columns = {}
    for name in FEATURES:
        values = rng.integers(0, 5, ROWS).astype(np.int8)
        mask = rng.random(ROWS) < null_share
        columns[name] = pa.array(values, pa.int8(), mask=mask)
    return columns


def reference(columns: dict[str, pa.Array], features: tuple[str, ...]) -> np.ndarray:
    """What the values mean: float32, NaN for nulls, in the model's column order."""
    return np.column_stack(
        [
            np.array(columns[f].to_pandas(), dtype=np.float32)  # nulls become NaN
            for f in features
        ]
    )


def test_live_features_are_held_as_int8_and_read_back_exactly(tmp_path: Path) -> None:
    columns = int8_columns()
    live = write_live(tmp_path / "live.parquet", columns)
    order = tuple(reversed(FEATURES))
    matrix = live.features(order)
    assert matrix.values.dtype == np.int8 and matrix.values.flags.c_contiguous
    assert matrix.has_missing and (matrix.values == MISSING).any()
    np.testing.assert_array_equal(matrix.dense(np.float32), reference(columns, order))
    np.testing.assert_array_equal(matrix.dense(np.float64), reference(columns, order))


def test_batched_predictions_equal_one_run_over_the_whole_matrix(tmp_path: Path) -> None:
    columns = int8_columns(seed=1)
    live = write_live(tmp_path / "live.parquet", columns)
    model = load_model("m.onnx", "1", linear_model(FEATURES, seed=3))
    matrix = live.features(FEATURES)
    batched = model.predict(matrix)  # three batches of rows
    whole = model.predict(reference(columns, FEATURES))
    assert batched.shape == (ROWS,)
    np.testing.assert_array_equal(batched, whole)


def test_float_columns_with_nan_are_compacted_and_fractional_ones_kept_exact(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(2)
    integral = rng.integers(0, 5, ROWS).astype(np.float64)
    integral[::7] = np.nan
    fractional = rng.integers(0, 17, ROWS) / 4.0  # 0, 0.25, ... 4 (an older data format)
    fractional[::11] = np.nan
    columns = {
        FEATURES[0]: pa.array(integral),
        FEATURES[1]: pa.array(fractional),
    }
    live = write_live(tmp_path / "live.parquet", columns)
    compact = live.features(FEATURES[:1])
    assert compact.values.dtype == np.int8
    np.testing.assert_array_equal(compact.dense(), integral.astype(np.float32)[:, None])
    mixed = live.features(FEATURES[:2])
    assert mixed.values.dtype == np.float32
    expected = np.column_stack([integral, fractional]).astype(np.float32)
    np.testing.assert_array_equal(mixed.dense(), expected)


def test_a_column_without_nulls_needs_no_missing_mask(tmp_path: Path) -> None:
    live = write_live(tmp_path / "live.parquet", int8_columns(null_share=0.0))
    matrix = live.features(FEATURES)
    assert not matrix.has_missing
    assert not np.isnan(matrix.dense()).any()


@pytest.mark.parametrize(
    ("values", "cause"),
    [
        (pa.array(np.full(ROWS, 5, dtype=np.int8)), r"outside \[0, 4\]"),
        (pa.array(np.full(ROWS, -1.0)), r"outside \[0, 4\]"),
        (pa.array(np.full(ROWS, 4.5)), r"outside \[0, 4\]"),
    ],
)
def test_values_outside_the_feature_range_are_refused_even_as_the_missing_marker(
    tmp_path: Path, values: pa.Array, cause: str
) -> None:
    columns = int8_columns()
    columns[FEATURES[0]] = values
    live = write_live(tmp_path / "live.parquet", columns)
    with pytest.raises(LiveDataError, match=cause):
        live.features(FEATURES)


def test_a_wide_model_reads_and_runs_in_slices_that_bound_memory(
    tmp_path: Path, monkeypatch
) -> None:
    import numerai_bot.live_data as live_data

    columns = int8_columns(seed=2)
    live = write_live(tmp_path / "live.parquet", columns)
    reads: list[int] = []
    read = pq.ParquetFile.read
    monkeypatch.setattr(
        pq.ParquetFile,
        "read",
        lambda self, columns: reads.append(len(columns)) or read(self, columns=columns),
    )
    monkeypatch.setattr(live_data, "COLUMNS_PER_READ", 5)
    monkeypatch.setattr(live_data, "BATCH_BYTES", 12 * 4 * 300)  # 300 rows of 12 float32
    matrix = live.features(FEATURES)
    assert reads == [5, 5, 2]  # 12 columns, 5 at a time
    np.testing.assert_array_equal(matrix.dense(np.float32), reference(columns, FEATURES))
    sizes = [block.shape[0] for _, block in matrix.batches(np.float32)]
    assert sizes[0] == 300 and sum(sizes) == ROWS  # 300 rows of float32 fit the budget
    doubles = {block.shape[0] for _, block in matrix.batches(np.float64)}  # 150 would fit:
    assert doubles == {live_data.MIN_BATCH_ROWS, ROWS % live_data.MIN_BATCH_ROWS}  # the floor


@pytest.mark.parametrize("seed", range(6))
def test_int8_columns_read_without_pyarrow_compute_equal_pyarrows_reading(seed: int) -> None:
    """Classic's int8 columns skip pyarrow.compute; chunks, offsets and nulls must come out
    exactly as pyarrow's own casts and fills give them."""
    from numerai_bot.live_data import _compact_column, _int8_column

    rng = np.random.default_rng(seed)
    pieces = []
    for _ in range(int(rng.integers(1, 4))):
        size = int(rng.integers(1, 300))
        values = rng.integers(0, 5, size).astype(np.int8)
        mask = rng.random(size) < rng.choice([0.0, 0.1, 0.9, 1.0])
        array = pa.array(values, pa.int8(), mask=mask)
        start = int(rng.integers(0, size))  # a slice: its validity bits start at an offset
        pieces.append(array.slice(start))
    column = pa.chunked_array(pieces, pa.int8())
    fast = _int8_column("feature_x", column)
    assert fast.dtype == np.int8
    np.testing.assert_array_equal(fast, _compact_column("feature_x", column))


@pytest.mark.parametrize("bad", [5, -3, 127])
def test_an_int8_column_out_of_range_is_refused_with_the_same_words(bad: int) -> None:
    from numerai_bot.live_data import _compact_column, _int8_column

    column = pa.chunked_array([pa.array([0, bad, None, 4], pa.int8())])
    with pytest.raises(LiveDataError) as fast:
        _int8_column("feature_x", column)
    with pytest.raises(LiveDataError) as reference_error:
        _compact_column("feature_x", column)
    assert str(fast.value) == str(reference_error.value)
    assert "outside [0, 4]" in str(fast.value)
