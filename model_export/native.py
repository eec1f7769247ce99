"""Load a native LightGBM model and predict with it, as the reference for parity checks.

Why separate: loading accepts several forms (Booster text file, a pickled Booster or
LGBMRegressor) and the native prediction must read the graph's column order, which may differ
from the order the model was trained with.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import lightgbm as lgb
import numpy as np

from model_export.features import model_columns


class ModelLoadError(ValueError):
    """The file is not a LightGBM model this tool can read; the message says what is accepted."""


def load_native_model(path: Path) -> lgb.Booster:
    """Read a Booster from a LightGBM text model (``booster.save_model``) or a pickle.

    Pickles may hold a ``lightgbm.Booster`` or a fitted ``LGBMRegressor`` (its ``booster_``).
    Unpickling runs code from the file: only load files you made or trust.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"model file {path} does not exist")
    with path.open("rb") as handle:
        head = handle.read(2)
    if head[:1] == b"\x80":  # pickle protocol 2+ header
        with path.open("rb") as handle:
            try:
                obj = pickle.load(handle)  # noqa: S301 - the user's own model file
            except Exception as error:  # any unpickling failure: say what was expected
                raise ModelLoadError(f"cannot unpickle {path}: {error}") from None
        booster = obj if isinstance(obj, lgb.Booster) else getattr(obj, "booster_", None)
        if not isinstance(booster, lgb.Booster):
            raise ModelLoadError(
                f"{path} holds a {type(obj).__name__}, not a lightgbm Booster or a fitted "
                "LGBMRegressor: save the model with booster.save_model('model.txt')"
            )
        return booster
    try:
        return lgb.Booster(model_file=str(path))
    except lgb.basic.LightGBMError as error:
        raise ModelLoadError(
            f"{path} is neither a LightGBM text model nor a pickle ({error}); save the "
            "model with booster.save_model('model.txt') or pickle the Booster/LGBMRegressor"
        ) from None


def native_predict(
    booster: lgb.Booster,
    matrix: np.ndarray,
    graph_names: Sequence[str],
    num_iteration: int,
    num_threads: int = 0,
) -> np.ndarray:
    """``booster.predict`` on a matrix whose columns follow ``graph_names`` (float64 output)."""
    columns = model_columns(booster.feature_name(), graph_names)
    ordered = (
        matrix[:, columns] if not np.array_equal(columns, np.arange(matrix.shape[1])) else (matrix)
    )
    return np.asarray(
        booster.predict(ordered, num_iteration=num_iteration, num_threads=num_threads),
        dtype=np.float64,
    )
