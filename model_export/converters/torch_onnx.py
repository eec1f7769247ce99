"""PyTorch modules → ONNX (optional: torch is imported only here).

Why optional: torch is not in ``requirements-export.txt``; ``requirements-torch.txt`` has the
versions tested here (torch 2.14.1 with onnxscript 0.7.2). Nothing else in ``model_export``
imports torch, so the other converters work without it.

Two module kinds, each with the exporter that takes it on today's torch (seen on 2.14.1):

* a whole ``torch.nn.Module`` saved with ``torch.save(module)``: the ``torch.export``-based
  exporter (``dynamo=True``, torch's default since 2.9) with a dynamic batch dimension given
  as ``dynamic_shapes``; it needs onnxscript;
* TorchScript (``torch.jit.script``/``trace`` then ``torch.jit.save``): ``torch.export`` cannot
  trace a ScriptModule, so these go through the TorchScript-based exporter (``dynamo=False``,
  deprecated by torch but present in 2.14.1, and not needing onnxscript).

The module must map a float32 [N, F] tensor to [N] or [N, 1]. The graph is written with its
weights inside the one file the bot downloads, then conformed to the bot's signature
(``features`` in, ``prediction`` [N] float64 out). A float32 network cannot be reproduced bit
for bit by another runtime (kernels add in other orders: a few rows in thousands re-rank), so
the strict parity gate refuses it unless explicit tolerances are given
(``--max-rows-reranked`` …). Whatever torch raises while exporting becomes one line naming the
module kind, the torch version and the cause.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from model_export.converters.graph_edit import conform
from model_export.converters.lightgbm_onnx import UnsupportedModelError
from model_export.converters.tree_graph import InputType

TORCH_OPSET = 18
INSTALL_HINT = "pip install -r requirements-torch.txt (torch and onnxscript, docs/model_export.md)"


def import_torch() -> Any:
    """``torch``, or a clear error saying how to install it."""
    try:
        import torch
    except ModuleNotFoundError:
        raise UnsupportedModelError(
            f"PyTorch is not installed: {INSTALL_HINT} to export torch modules"
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


def module_kind(module: Any) -> str:
    """``"TorchScript"`` or ``"nn.Module"``: which exporter takes the module."""
    torch = import_torch()
    return "TorchScript" if isinstance(module, torch.jit.ScriptModule) else "nn.Module"


def _export_module(torch: Any, module: Any, example: Any, path: Path) -> None:
    """``torch.export``-based exporter, the batch dimension dynamic."""
    batch = torch.export.Dim("N")
    torch.onnx.export(
        module,
        (example,),
        str(path),
        input_names=["input"],
        output_names=["output"],
        opset_version=TORCH_OPSET,
        dynamo=True,
        dynamic_shapes=({0: batch},),
        external_data=False,
        verbose=False,
    )


def _export_torchscript(torch: Any, module: Any, example: Any, path: Path) -> None:
    """TorchScript-based exporter: the only one of torch 2.14 that takes a ScriptModule."""
    torch.onnx.export(
        module,
        (example,),
        str(path),
        input_names=["input"],
        output_names=["output"],
        opset_version=TORCH_OPSET,
        dynamo=False,
        dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
    )


EXPORTERS: dict[str, Callable[[Any, Any, Any, Path], None]] = {
    "nn.Module": _export_module,
    "TorchScript": _export_torchscript,
}


def torch_to_onnx(module: Any, n_features: int, *, input_type: InputType = "float32") -> Any:
    """Export ``module`` (eval mode, CPU) for [N, n_features] float32 input."""
    torch = import_torch()
    module = module.eval().to("cpu")
    kind = module_kind(module)
    example = torch.zeros((2, n_features), dtype=torch.float32)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "module.onnx"
        # torch's exporter logs a warning per torchvision operator it skips: not the user's
        quiet = logging.getLogger("torch.onnx._internal.exporter._registration")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            EXPORTERS[kind](torch, module, example, path)
        except ModuleNotFoundError as error:
            raise UnsupportedModelError(
                f"exporting a {kind} with torch {torch.__version__} needs {error.name}: "
                f"{INSTALL_HINT}"
            ) from None
        except Exception as error:  # torch raises many types; the user needs the cause
            raise UnsupportedModelError(
                f"torch {torch.__version__} could not export this {kind} to ONNX: {one_line(error)}"
            ) from None
        finally:
            quiet.setLevel(level)
        graph = onnx.load(str(path))
    return conform(graph, input_type)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def one_line(error: BaseException) -> str:
    """The innermost cause of ``error`` as one line (torch's exporter wraps errors in
    multi-line, colourised reports whose first line says only which step failed)."""
    while error.__cause__ is not None:
        error = error.__cause__
    lines = [line.strip() for line in _ANSI.sub("", str(error)).splitlines()]
    text = next((line for line in lines if line and not line.startswith("#")), "")
    text = text or next((line.lstrip("# ") for line in lines if line), type(error).__name__)
    return f"{type(error).__name__}: {text[:300]}"


def native_predict(module: Any, matrix: np.ndarray) -> np.ndarray:
    """The module's float32 output for ``matrix`` (no gradients), flattened to float64."""
    torch = import_torch()
    with torch.no_grad():
        output = module.eval()(torch.from_numpy(np.ascontiguousarray(matrix, np.float32)))
    return np.asarray(output.detach().cpu().numpy(), dtype=np.float64).ravel()
