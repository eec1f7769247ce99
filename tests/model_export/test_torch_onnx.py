"""PyTorch → ONNX (optional extra): runs only where torch is installed.

torch is not in requirements-export.txt (its Python 3.12 wheel pulls the multi-GB CUDA
build), so on CI this module is skipped; the converter imports torch lazily.
"""

from __future__ import annotations

import numpy as np
import pytest

from model_export.converters.libraries import wrap
from model_export.export import export_model
from model_export.parity import ParityError, ParityThresholds

torch = pytest.importorskip("torch")


def _mlp(width: int) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(width, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)
    ).eval()


def test_mlp_exports_within_float32_tolerances(live_matrix, feature_names, tmp_path) -> None:
    rows = np.nan_to_num(live_matrix, nan=2.0)
    native = wrap(_mlp(len(feature_names)))
    assert native.kind == "torch" and len(native.feature_names) == len(feature_names)
    loose = ParityThresholds(max_rows_reranked=len(rows), min_spearman=0.999999, max_abs_diff=1e-4)
    result = export_model(
        native, rows, data_version="v5.2", feature_names=feature_names, thresholds=loose,
        output=tmp_path / "mlp.onnx",
    )  # fmt: skip
    assert result.report.ok and result.report.spearman > 0.999999
    assert result.path.stat().st_size > 0 and not (tmp_path / "mlp.onnx.data").exists()


def test_strict_gate_refuses_float32_network_when_rows_move(live_matrix, feature_names) -> None:
    rows = np.nan_to_num(live_matrix, nan=2.0)
    try:
        result = export_model(
            wrap(_mlp(len(feature_names))), rows, data_version="v5.2", feature_names=feature_names
        )
    except ParityError as error:
        assert "Export refused" in str(error)
    else:  # a float32 network can happen to match exactly on these rows
        assert result.report.rows_reranked == 0
