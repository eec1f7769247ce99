"""Model kind detection from files and objects."""

from __future__ import annotations

import pickle

import pytest

from model_export.converters.libraries import detect_file_kind, load, wrap
from model_export.native import ModelLoadError


def test_kinds_from_extension_and_content(nan_booster, tmp_path) -> None:
    text = tmp_path / "model.bin"
    nan_booster.save_model(str(text))
    assert detect_file_kind(text) == "lightgbm"  # from the content
    assert load(text).kind == "lightgbm"
    (tmp_path / "x.pkl").write_bytes(pickle.dumps(nan_booster))
    assert detect_file_kind(tmp_path / "x.pkl") == "pickle"
    assert load(tmp_path / "x.pkl").feature_names == nan_booster.feature_name()
    (tmp_path / "other.json").write_text('{"something": 1}')
    with pytest.raises(ModelLoadError, match="neither an XGBoost nor a CatBoost"):
        load(tmp_path / "other.json")
    (tmp_path / "junk.dat").write_bytes(b"\x00\x01junk")
    with pytest.raises(ModelLoadError, match="--kind"):
        load(tmp_path / "junk.dat")


def test_unknown_objects_are_refused() -> None:
    with pytest.raises(ModelLoadError, match="which library"):
        wrap({"not": "a model"})
    with pytest.raises(ModelLoadError, match="unknown model kind"):
        wrap(object(), "keras")


def test_pipeline_ending_in_lightgbm_is_refused(nan_training) -> None:
    lightgbm = pytest.importorskip("lightgbm")
    pipeline = pytest.importorskip("sklearn.pipeline")
    matrix, target = nan_training
    model = pipeline.make_pipeline(lightgbm.LGBMRegressor(n_estimators=2, verbose=-1))
    model.fit(matrix[:300], target[:300])
    with pytest.raises(ModelLoadError, match="export the final model alone"):
        wrap(model)
