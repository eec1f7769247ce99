"""LightGBM's split rule (missing types, zero band, infinities) vs the ONNX chains."""

from __future__ import annotations

import itertools
import math

import lightgbm as lgb
import numpy as np
import pytest

from model_export.converters.lightgbm_onnx import booster_to_onnx
from model_export.converters.lightgbm_splits import (
    K_ZERO_THRESHOLD,
    MODE_LEQ,
    chain_route,
    lightgbm_route,
    split_chain,
)
from model_export.parity import onnx_predictions

Z = K_ZERO_THRESHOLD
THRESHOLDS = [-math.inf, -2.5, -Z, -5e-36, 0.0, 5e-36, Z, 1.5000000000000002, math.inf]
MISSING = ["None", "Zero", "NaN"]
COMBOS = list(itertools.product(THRESHOLDS, [True, False], MISSING))
VALUES = [
    math.nan, -math.inf, -3.0, -2.5, -Z, -5e-36, -1e-40, -0.0, 0.0,
    1e-40, 5e-36, Z, 2e-35, 1.0, 1.5, 1.5000000000000002, 2.0, math.inf,
]  # fmt: skip


def test_kzero_is_lightgbm_threshold_value() -> None:
    assert Z == 1.0000000180025095e-35


@pytest.mark.parametrize(("threshold", "default_left", "missing"), COMBOS)
def test_chain_routes_like_lightgbm(threshold: float, default_left: bool, missing: str) -> None:
    chain = split_chain(threshold, default_left, missing)
    assert 1 <= len(chain.comparisons) <= 3
    for value in VALUES:
        expected = lightgbm_route(value, threshold, default_left, missing)
        assert chain_route(chain, value) == expected, value


def test_common_splits_take_one_node() -> None:
    for threshold in (Z, 0.5, 1.5000000000000002, 3.5):
        for default_left in (True, False):
            for missing in ("None", "NaN"):
                chain = split_chain(threshold, default_left, missing)
                (only,) = chain.comparisons
                assert only.mode == MODE_LEQ and only.threshold == threshold


def _model_text(combos: list[tuple[float, bool, str]]) -> str:
    """One one-split tree per combination; tree k adds 2**k when the row goes right."""
    n = len(combos)
    lines = [
        "tree", "version=v4", "num_class=1", "num_tree_per_iteration=1", "label_index=0",
        f"max_feature_idx={n - 1}", "objective=regression",
        "feature_names=" + " ".join(f"f{k}" for k in range(n)),
        "feature_infos=" + " ".join("[-10:10]" for _ in range(n)), "",
    ]  # fmt: skip
    for k, (threshold, default_left, missing) in enumerate(combos):
        decision = (2 if default_left else 0) | (MISSING.index(missing) << 2)
        lines += [
            f"Tree={k}", "num_leaves=2", "num_cat=0", f"split_feature={k}", "split_gain=1",
            f"threshold={threshold!r}", f"decision_type={decision}", "left_child=-1",
            "right_child=-2", f"leaf_value=0 {float(2**k)!r}", "leaf_weight=1 1",
            "leaf_count=1 1", "internal_value=0", "internal_weight=1", "internal_count=1",
            "is_linear=0", "shrinkage=1", "",
        ]  # fmt: skip
    lines += ["end of trees", "", "pandas_categorical:null", ""]
    return "\n".join(lines)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_handcrafted_model_matches_bit_for_bit(dtype: type) -> None:
    """Real LightGBM, the Python reference and onnxruntime agree on every edge value."""
    booster = lgb.Booster(model_str=_model_text(COMBOS))
    n = len(COMBOS)
    rng = np.random.default_rng(0)
    values = np.array(VALUES, dtype=dtype)
    matrix = np.vstack([np.tile(values[:, None], (1, n)), rng.choice(values, size=(300, n))])
    native = booster.predict(matrix)
    reference = np.array(
        [
            sum(
                2.0**k
                for k, combo in enumerate(COMBOS)
                if lightgbm_route(row[k], *combo) == "right"
            )
            for row in matrix
        ]
    )
    input_type = "float32" if dtype == np.float32 else "float64"
    model = booster_to_onnx(booster, input_type=input_type).SerializeToString()
    np.testing.assert_array_equal(native, reference)
    np.testing.assert_array_equal(onnx_predictions(model, matrix), native)
