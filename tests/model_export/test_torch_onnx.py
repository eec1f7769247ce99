"""PyTorch → ONNX: a module saved with torch.save and TorchScript files, from the CLI.

torch is not in the main venv (the package index's Python 3.12 wheel is the ~6 GB CUDA
build): these tests are marked ``torch`` and run by ``make test-torch`` in a venv of their own
(requirements-torch.txt); elsewhere they are skipped, saying so.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from model_export.cli.program import main
from model_export.converters.libraries import load, wrap
from model_export.converters.lightgbm_onnx import UnsupportedModelError
from model_export.metadata import read_metadata
from model_export.parity import ParityError

torch = pytest.importorskip(
    "torch", reason="torch is not installed here: make test-torch runs these tests"
)
pytestmark = pytest.mark.torch

LOOSE = ["--max-rows-reranked", "100", "--min-spearman", "0.999999", "--max-abs-diff", "1e-4"]


class _FillMissing(torch.nn.Module):
    """Numerai's missing feature values become 2, the middle of 0-4."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nan_to_num(x, nan=2.0)


def _mlp(width: int) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        _FillMissing(), torch.nn.Linear(width, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)
    ).eval()


def _saved(kind: str, width: int, folder) -> str:
    """The MLP as a user saves it: the whole module, scripted or traced TorchScript."""
    module = _mlp(width)
    path = folder / f"{kind}.pt"
    if kind == "module":
        torch.save(module, path)
    elif kind == "script":
        torch.jit.save(torch.jit.script(module), path)
    else:
        torch.jit.save(torch.jit.trace(module, torch.zeros(2, width)), path)
    return str(path)


@pytest.mark.parametrize("kind", ["module", "script", "trace"])
def test_saved_network_exports_from_the_cli(kind, data_root, tmp_path, capsys) -> None:
    live = data_root / "v5.2" / "live.parquet"
    features = data_root / "v5.2" / "features.json"
    out = tmp_path / f"{kind}.onnx"
    argv = [
        "export", _saved(kind, 60, tmp_path), "--kind", "torch",
        "--features-json", str(features), "--feature-set", "all",
        "--data", str(live), "-o", str(out), "--quiet", *LOOSE,
    ]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    parity = read_metadata(out).parity
    assert parity["ok"] and parity["spearman"] > 0.999999 and parity["max_abs_diff"] < 1e-4
    assert not (tmp_path / f"{kind}.onnx.data").exists()


def test_strict_gate_refuses_float32_network_when_rows_move(live_matrix, feature_names) -> None:
    from model_export.export import export_model

    rows = np.nan_to_num(live_matrix, nan=2.0)
    try:
        result = export_model(
            wrap(_mlp(len(feature_names))), rows, data_version="v5.2", feature_names=feature_names
        )
    except ParityError as error:
        assert "Export refused" in str(error)
    else:  # a float32 network can happen to match exactly on these rows
        assert result.report.rows_reranked == 0


def test_missing_onnxscript_says_what_to_install(data_root, tmp_path) -> None:
    """A fresh process where onnxscript cannot be imported (as on a machine without it)."""
    argv = [
        "export", _saved("module", 60, tmp_path), "--kind", "torch",
        "--features-json", str(data_root / "v5.2" / "features.json"), "--feature-set", "all",
        "--data", str(data_root / "v5.2" / "live.parquet"), "-o", str(tmp_path / "m.onnx"),
        "--quiet", *LOOSE,
    ]  # fmt: skip
    script = (
        "import sys; sys.modules['onnxscript'] = None\n"
        "from model_export.cli.program import main\n"
        f"sys.exit(main({argv!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and len(errors) == 1, done.stderr[-2000:]
    assert "needs onnxscript" in errors[0] and "requirements-torch.txt" in errors[0]
    assert "Traceback" not in done.stderr


class _Lookup(torch.nn.Module):
    """A module for integer codes, not float features: no exporter can run it on floats."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(5, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embedding(x).sum(1)


def test_unexportable_module_is_one_clear_line(tmp_path) -> None:
    torch.save(_Lookup(), tmp_path / "lookup.pt")
    native = load(tmp_path / "lookup.pt", "torch")
    with pytest.raises(UnsupportedModelError) as error:
        native.to_onnx([f"f{i}" for i in range(8)], None)
    message = str(error.value)
    assert message.startswith(f"torch {torch.__version__} could not export this nn.Module")
    assert "\n" not in message and "\x1b" not in message
