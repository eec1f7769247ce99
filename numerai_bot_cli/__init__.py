"""``numerai-bot``: the operator's command line for the Numerai submission bot.

Never deployed: it runs on the operator's machine with the operator's AWS credentials. The
bot's core (``handlers/numerai_bot``) is not an installed package in a checkout, so importing
this package puts ``handlers/`` on ``sys.path`` when it is missing there.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _ensure_core_importable() -> None:
    """Make ``import numerai_bot`` work from a checkout without PYTHONPATH."""
    try:
        import numerai_bot  # noqa: F401
    except ImportError:
        handlers = REPO_ROOT / "handlers"
        if (handlers / "numerai_bot").is_dir():
            sys.path.insert(0, str(handlers))
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))


_ensure_core_importable()
