"""Entry point of ``python -m model_export.cli`` (see :mod:`model_export.cli.program`)."""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import numerai_bot  # noqa: F401 - the metadata contract lives in handlers/
except ModuleNotFoundError:  # run from a checkout without PYTHONPATH=handlers
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "handlers"))

from model_export.cli.program import main

raise SystemExit(main())
