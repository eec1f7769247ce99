"""numerapi, imported with pandas and fsspec loaded only when a call needs them.

Why: numerapi imports pandas and fsspec at module level for calls the worker never makes
(DataFrame uploads, its own dataset download, parquet helpers). Imported eagerly they cost
the worker about 45 MiB of its peak RSS and a quarter of its cold import on a 2-core
x86_64 machine (docs/benchmarks.md), every round, for nothing. The standard library's
``importlib.util.LazyLoader`` defers them: each is a module object that loads the real
package on its first attribute access, so a caller that does use them (a test, the CLI)
gets the real thing. pandas needs one more step: numerapi evaluates ``pd.DataFrame | None``
in its signatures while it is imported, so while numerapi imports, ``pandas`` is a small
placeholder with an annotation-only ``DataFrame``; numerapi's modules are then pointed at
the lazy pandas. When pandas or numerapi is imported already, nothing is deferred.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

DEFERRED = ("pandas", "fsspec")


class _AnnotationOnlyDataFrame:
    """What ``pd.DataFrame`` is while numerapi's signatures are evaluated."""


def lazy_module(name: str) -> types.ModuleType:
    """``name`` registered in ``sys.modules`` but executed on first attribute access."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def import_numerapi() -> types.ModuleType:
    """The ``numerapi`` package, with :data:`DEFERRED` loaded on first use."""
    if "numerapi" in sys.modules or any(name in sys.modules for name in DEFERRED):
        return importlib.import_module("numerapi")
    # Placeholders while numerapi imports: the import system reads a module's ``__spec__``
    # when it is imported again, which would load a lazy module at once.
    placeholders = {name: types.ModuleType(name) for name in DEFERRED}
    placeholders["pandas"].DataFrame = _AnnotationOnlyDataFrame  # type: ignore[attr-defined]
    sys.modules.update(placeholders)
    try:
        numerapi = importlib.import_module("numerapi")
    finally:
        for name in DEFERRED:
            del sys.modules[name]
    lazy = {id(placeholders[name]): lazy_module(name) for name in DEFERRED}
    for name, module in list(sys.modules.items()):
        if name.startswith("numerapi"):
            for attribute, value in list(vars(module).items()):
                if id(value) in lazy:
                    setattr(module, attribute, lazy[id(value)])
    return numerapi
