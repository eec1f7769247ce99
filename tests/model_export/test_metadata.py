"""Metadata written by the exporter reads back through onnxruntime with the worker's contract."""

from __future__ import annotations

import json
from datetime import datetime

import onnx
import onnxruntime as ort

from model_export.converters.lightgbm_onnx import booster_to_onnx
from model_export.export import export_lightgbm, save_model
from model_export.metadata import build_metadata, read_metadata, write_metadata
from numerai_bot.model_metadata import KEY_FEATURES, ModelMetadata


def test_round_trip_through_onnxruntime(nan_booster, live_matrix, feature_names, tmp_path):
    path = tmp_path / "model.onnx"
    export_lightgbm(
        nan_booster,
        live_matrix,
        data_version="v5.2",
        feature_names=feature_names,
        target="target_ender_20",
        model_name="example",
        validation={"file": "validation.parquet", "rows": 3000},
        output=path,
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    props = session.get_modelmeta().custom_metadata_map
    assert json.loads(props[KEY_FEATURES]) == feature_names
    meta = ModelMetadata.from_props(props)
    assert meta.features == tuple(feature_names)
    assert (meta.data_version, meta.target, meta.model_name) == (
        "v5.2",
        "target_ender_20",
        "example",
    )
    assert meta.source == "lightgbm"
    assert datetime.fromisoformat(meta.created_at).utcoffset().total_seconds() == 0
    assert {"lightgbm", "onnx", "onnxruntime", "numpy", "python"} <= set(meta.libraries)
    assert meta.parity["rows_reranked"] == 0 and meta.parity["ok"] is True
    assert meta.parity["rows"] == len(live_matrix)
    assert meta.validation == {"file": "validation.parquet", "rows": 3000}
    assert read_metadata(path) == meta


def test_write_keeps_unrelated_properties(nan_booster, feature_names, tmp_path) -> None:
    model = booster_to_onnx(nan_booster, feature_names=feature_names)
    onnx.helper.set_model_props(model, {"owner": "me"})
    write_metadata(model, build_metadata(feature_names, "v5.2"))
    write_metadata(model, build_metadata(feature_names, "v5.3"))  # rewrite, no duplicates
    path = save_model(model, tmp_path / "m.onnx")
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props["owner"] == "me" and props["numerai.data_version"] == "v5.3"
    assert len(props) == len(onnx.load(str(path)).metadata_props)
