"""Ensembles: members side by side on a union input, weighted sum and in-graph rank exact."""

from __future__ import annotations

import numpy as np
import onnx
import pandas as pd
import pytest

from model_export.converters.libraries import wrap
from model_export.ensemble import (
    EnsembleError,
    Member,
    build_ensemble,
    ensemble_files,
    percentile_ranks,
    reference_predictions,
)
from model_export.export import export_model
from model_export.metadata import read_metadata
from model_export.parity import onnx_predictions

xgb = pytest.importorskip("xgboost")
linear = pytest.importorskip("sklearn.linear_model")


@pytest.fixture(scope="module")
def members(nan_booster, nan_training, feature_names, live_matrix, tmp_path_factory):
    """Three exported files reading different (overlapping) feature lists."""
    folder = tmp_path_factory.mktemp("members")
    matrix, target = nan_training
    xgb_names = feature_names[20:]
    ridge_names = feature_names[::3]
    booster = xgb.XGBRegressor(n_estimators=20, max_depth=3, n_jobs=1)
    booster.fit(pd.DataFrame(matrix[:, 20:], columns=xgb_names), target)
    ridge = linear.Ridge().fit(
        pd.DataFrame(np.nan_to_num(matrix[:, ::3], nan=2.0), columns=ridge_names), target
    )
    paths = []
    for name, model, columns in (
        ("lgb", nan_booster, slice(None)),
        ("xgb", booster, slice(20, None)),
        ("ridge", ridge, slice(None, None, 3)),
    ):
        rows = live_matrix[:, columns]
        result = export_model(
            wrap(model), np.nan_to_num(rows, nan=2.0) if name == "ridge" else rows,
            data_version="v5.2", model_name=name, target="target_ender_20",
            output=folder / f"{name}.onnx", thread_counts=(1,),
        )  # fmt: skip
        paths.append(result.path)
    return paths


def _rows(live_matrix: np.ndarray, feature_names, features) -> np.ndarray:
    position = {name: i for i, name in enumerate(feature_names)}
    return np.nan_to_num(live_matrix[:, [position[name] for name in features]], nan=2.0)


@pytest.mark.parametrize("rank", [False, True])
def test_ensemble_matches_numpy(members, live_matrix, feature_names, tmp_path, rank) -> None:
    model, report = ensemble_files(
        members,
        [0.5, 0.3, 0.2],
        lambda features: _rows(live_matrix, feature_names, features),
        rank_before_average=rank,
        model_name="blend",
        thread_counts=(1, 2, 4),
    )
    assert report.ok and report.rows_reranked == 0, report.text()
    assert report.max_abs_diff <= (0.0 if rank else 1e-13)  # thread sums differ by ulps
    path = tmp_path / "blend.onnx"
    onnx.save(model, str(path))
    meta = read_metadata(path)
    assert meta.source == "ensemble" and meta.model_name == "blend"
    assert meta.features == tuple(feature_names)  # the union, first member's order first
    assert meta.target == "target_ender_20" and meta.data_version == "v5.2"
    info = meta.validation["ensemble"]
    assert info["rank_before_average"] is rank
    assert [m["weight"] for m in info["members"]] == [0.5, 0.3, 0.2]
    assert [m["source"] for m in info["members"]] == ["lightgbm", "xgboost", "sklearn"]
    assert {"lightgbm", "scikit-learn", "onnxruntime"} <= set(meta.libraries)


def test_rank_inside_the_graph_is_exact_with_ties(members, feature_names) -> None:
    """Many ties (few distinct rows): ranks equal pandas' average ranks bit for bit."""
    rng = np.random.default_rng(3)
    distinct = rng.integers(0, 5, size=(90, len(feature_names))).astype(np.float32)
    rows = distinct[rng.integers(0, 90, size=997)]
    loaded = [
        Member.from_file(path, weight)
        for path, weight in zip(members, (1.0, 0.0, 0.0), strict=True)
    ]
    model, features = build_ensemble(loaded, rank_before_average=True)
    out = onnx_predictions(model.SerializeToString(), rows)
    lgb_out = onnx_predictions(loaded[0].model.SerializeToString(), rows)
    assert len(np.unique(lgb_out)) < 100  # ties indeed
    expected = (pd.Series(lgb_out).rank(method="average").to_numpy() - 0.5) / len(rows)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(out, percentile_ranks(lgb_out))
    np.testing.assert_array_equal(
        out, reference_predictions(loaded, features, rows, rank_before_average=True)
    )


def test_mean_of_ranks_differs_from_rank_of_mean(members, live_matrix, feature_names) -> None:
    loaded = [Member.from_file(path, 0.5) for path in members[:2]]
    plain, features = build_ensemble(loaded)
    ranked, _ = build_ensemble(loaded, rank_before_average=True)
    rows = _rows(live_matrix, feature_names, features)
    a = onnx_predictions(plain.SerializeToString(), rows)
    b = onnx_predictions(ranked.SerializeToString(), rows)
    assert not np.array_equal(np.argsort(a), np.argsort(b))


def test_members_must_share_a_data_version(members, tmp_path) -> None:
    first = Member.from_file(members[0], 0.5)
    other = Member(first.model, type(first.metadata)(first.metadata.features, "v5.3"), 0.5)
    with pytest.raises(EnsembleError, match="different data versions"):
        build_ensemble([first, other])
    with pytest.raises(EnsembleError, match="at least two"):
        build_ensemble([first])


def test_tree_members_read_the_union_input_without_copying_it(members) -> None:
    """Tree members read the union input (or one shared Cast of it) with renumbered feature
    ids; only the linear member still Gathers its columns (per-member copies cost ~20 % of
    the predict)."""
    model, _ = build_ensemble([Member.from_file(path, 1.0) for path in members])
    readers = sorted(n.op_type for n in model.graph.node if "features" in n.input)
    assert readers == ["Cast", "Gather", "TreeEnsemble"]  # shared Cast, ridge, xgb's float trees
    trees = [n for n in model.graph.node if n.op_type == "TreeEnsemble"]
    assert {n.input[0] for n in trees} == {"features", "features_as_double"}
