"""PyTorch modules → ONNX with ``torch.onnx.export`` (optional: torch is imported only here).

Why optional: torch is not in ``requirements-export.txt``; for Python 3.12 ``pip install
torch`` fetches the multi-GB CUDA build (use the CPU wheel index if you need it). Nothing
else in ``model_export`` imports torch, so the other converters work without it.

The module must map a float32 [N, F] tensor to [N] or [N, 1]. The graph is exported with
``external_data=False`` (weights inside the one file the bot downloads) and a dynamic batch
size, then conformed to the bot's signature (``features`` in, ``prediction`` [N] float64
out). A float32 network cannot be reproduced bit for bit by another runtime (kernels add in
other orders: measured 14 of 6,000 rows re-ranked, Spearman 1 − 2e-10), so the strict parity
gate refuses it unless explicit tolerances are given (``--max-rows-reranked`` …).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from model_export.converters.graph_edit import conform
from model_export.converters.lightgbm_onnx import UnsupportedModelError
from model_export.converters.tree_graph import InputType

TORCH_OPSET = 18


def import_torch() -> Any:
    """``torch``, or a clear error saying how to install it."""
    try:
        import torch
    except ModuleNotFoundError:
        raise UnsupportedModelError(
            "PyTorch is not installed: pip install torch (CPU build: --index-url "
            "https://download.pytorch.org/whl/cpu) to export torch modules"
        ) from None
    return torch


def is_torch_model(obj: Any) -> bool:
    """A ``torch.nn.Module`` (checked without importing torch when it is not loaded)."""
    return any(
        cls.__module__.startswith("torch.nn") and cls.__name__ == "Module"
        for cls in type(obj).__mro__
    )


def load_module(path: Path) -> Any:
    """A whole pickled module (``torch.save(module)``) or TorchScript (``torch.jit.save``).

    Unpickling runs code from the file: only load files you made or trust.
    """
    torch = import_torch()
    try:
        return torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError):
        pass
    module = torch.load(str(path), map_location="cpu", weights_only=False)  # the user's own file
    if not is_torch_model(module):
        raise UnsupportedModelError(
            f"{path} holds a {type(module).__name__}, not a torch.nn.Module: save the whole "
            "module (torch.save(model)) or a TorchScript file, not only its state_dict"
        )
    return module


def torch_to_onnx(module: Any, n_features: int, *, input_type: InputType = "float32") -> Any:
    """Export ``module`` (eval mode, CPU) for [N, n_features] float32 input."""
    torch = import_torch()
    module = module.eval().to("cpu")
    example = torch.zeros((2, n_features), dtype=torch.float32)
    buffer = io.BytesIO()
    kwargs: dict[str, Any] = {
        "input_names": ["input"],
        "output_names": ["output"],
        "opset_version": TORCH_OPSET,
        "dynamic_axes": {"input": {0: "N"}, "output": {0: "N"}},
    }
    try:
        torch.onnx.export(module, (example,), buffer, external_data=False, **kwargs)
    except TypeError:  # older torch without external_data (weights are inline there anyway)
        torch.onnx.export(module, (example,), buffer, **kwargs)
    return conform(onnx.load_from_string(buffer.getvalue()), input_type)


def native_predict(module: Any, matrix: np.ndarray) -> np.ndarray:
    """The module's float32 output for ``matrix`` (no gradients), flattened to float64."""
    torch = import_torch()
    with torch.no_grad():
        output = module.eval()(torch.from_numpy(np.ascontiguousarray(matrix, np.float32)))
    return np.asarray(output.detach().cpu().numpy(), dtype=np.float64).ravel()
