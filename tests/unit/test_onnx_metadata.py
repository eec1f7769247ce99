"""A model's metadata read from its bytes equals what onnxruntime reads, so the worker can
read the model's live columns while the session is built; a file that is not a model is
refused in the same words as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from numerai_bot.adapters.model_store import LocalModelStore
from numerai_bot.errors import ModelError
from numerai_bot.inference import ModelCache, read_metadata
from numerai_bot.onnx_metadata import metadata_props
from standins.onnx_models import linear_model, slow_model

FEATURES = [f"feature_{i}" for i in range(30)]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(linear_model(FEATURES, seed=1), id="linear"),
        pytest.param(linear_model(FEATURES, seed=2, metadata=False), id="no-metadata"),
        pytest.param(slow_model(FEATURES), id="slow"),
    ],
)
def test_metadata_from_the_bytes_equals_onnxruntimes(data: bytes) -> None:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    assert metadata_props(data) == dict(session.get_modelmeta().custom_metadata_map)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(np.random.default_rng(3).bytes(4096), id="random-bytes"),
        pytest.param(linear_model(FEATURES)[:1000], id="truncated"),
        pytest.param(b"\x0b\x0c", id="group-wire-type"),
    ],
)
def test_a_file_that_is_not_a_model_is_refused_as_not_loadable(data: bytes) -> None:
    with pytest.raises(ModelError, match=r"^m\.onnx is not a loadable ONNX model: the file"):
        read_metadata("m.onnx", data)


def test_a_cached_session_gives_its_metadata_without_a_download(tmp_path: Path) -> None:
    store = LocalModelStore(tmp_path)
    store.write("m.onnx", linear_model(FEATURES))
    cache = ModelCache(store, threads=1)
    first = cache.get("m.onnx")
    again = cache.fetch("m.onnx")
    assert again.data is None and again.metadata == first.metadata
    assert cache.build(again) is first
