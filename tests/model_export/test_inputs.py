"""Model files, feature lists and data folders: what is accepted and the errors for the rest."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import lightgbm as lgb
import pytest

from model_export.data import DataError, locate_version_dir, read_sample, version_from_path
from model_export.features import (
    FeatureError,
    read_feature_list,
    read_feature_set,
    resolve_feature_order,
)
from model_export.native import ModelLoadError, load_native_model
from model_export.train import booster_params, every_nth_era


class FittedRegressor:
    """Stands in for a fitted ``LGBMRegressor`` (scikit-learn is not installed here)."""

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster_ = booster


def test_loads_text_pickled_booster_and_fitted_regressor(nan_booster, tmp_path) -> None:
    text = tmp_path / "model.txt"
    nan_booster.save_model(str(text))
    (tmp_path / "booster.pkl").write_bytes(pickle.dumps(nan_booster))
    (tmp_path / "regressor.pkl").write_bytes(pickle.dumps(FittedRegressor(nan_booster)))
    for name in ("model.txt", "booster.pkl", "regressor.pkl"):
        loaded = load_native_model(tmp_path / name)
        assert loaded.num_trees() == 50 and loaded.feature_name() == nan_booster.feature_name()


def test_rejects_other_files(tmp_path) -> None:
    (tmp_path / "dict.pkl").write_bytes(pickle.dumps({"not": "a model"}))
    (tmp_path / "junk.txt").write_text("hello")
    with pytest.raises(ModelLoadError, match="save_model"):
        load_native_model(tmp_path / "dict.pkl")
    with pytest.raises(ModelLoadError, match="neither"):
        load_native_model(tmp_path / "junk.txt")
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_native_model(tmp_path / "missing.txt")


def test_feature_sources(tmp_path, data_root) -> None:
    features_json = data_root / "v5.2" / "features.json"
    small = read_feature_set(features_json, "small")
    assert small == json.loads(features_json.read_text())["feature_sets"]["small"]
    with pytest.raises(FeatureError, match="available: all, medium, small"):
        read_feature_set(features_json, "huge")
    (tmp_path / "list.json").write_text(json.dumps(small))
    (tmp_path / "list.txt").write_text("\n".join(small) + "\n\n")
    assert read_feature_list(tmp_path / "list.json") == small
    assert read_feature_list(tmp_path / "list.txt") == small


def test_resolve_feature_order() -> None:
    assert resolve_feature_order(["b", "a"]) == ["b", "a"]
    assert resolve_feature_order(["b", "a"], ["a", "b"]) == ["a", "b"]
    assert resolve_feature_order(["Column_0", "Column_1"], ["x", "y"]) == ["x", "y"]
    with pytest.raises(FeatureError, match="reads 2 columns"):
        resolve_feature_order(["Column_0", "Column_1"], ["x"])
    with pytest.raises(FeatureError, match="more than once"):
        resolve_feature_order(["a", "b"], ["a", "a"])
    with pytest.raises(FeatureError, match="does not use"):
        resolve_feature_order(["a", "b"], ["a", "b", "c"])


def test_data_folders(tmp_path, data_root) -> None:
    assert locate_version_dir(data_root, None) == data_root / "v5.2"
    assert locate_version_dir(data_root / "v5.2", None) == data_root / "v5.2"
    assert version_from_path(data_root / "v5.2" / "live.parquet") == "v5.2"
    (tmp_path / "v5.1").mkdir()
    (tmp_path / "v5.1" / "features.json").write_text("{}")
    (tmp_path / "v5.3").mkdir()
    (tmp_path / "v5.3" / "features.json").write_text("{}")
    with pytest.raises(DataError, match="several data versions"):
        locate_version_dir(tmp_path, None)
    assert locate_version_dir(tmp_path, "v5.3") == tmp_path / "v5.3"


def test_read_sample_reads_requested_columns(data_root: Path) -> None:
    features = read_feature_set(data_root / "v5.2" / "features.json", "all")
    table = read_sample(
        data_root / "v5.2" / "validation.parquet", features, rows=500, other_columns=["era"]
    )
    assert table.matrix.shape == (500, len(features)) and table.matrix.dtype == "float32"
    assert set(table.columns) == {"era"}
    with pytest.raises(DataError, match="lacks 1"):
        read_sample(data_root / "v5.2" / "live.parquet", ["feature_nope"], rows=10)


def test_training_helpers() -> None:
    assert every_nth_era([f"{i:04d}" for i in range(10, 0, -1)], 4) == ["0001", "0005", "0009"]
    params, rounds = booster_params({"n_estimators": 7, "min_child_samples": 50})
    assert rounds == 7
    assert params["feature_fraction"] == 0.1 and params["min_data_in_leaf"] == 50
    assert params["max_depth"] == 5 and params["num_leaves"] == 31
