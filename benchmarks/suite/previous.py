"""The previous release's worker, extracted beside today's so both run on the same machine.

Why: a slowdown is seen in the change that caused it only when each run compares today's
core with the one before it, side by side (the machine's speed drifts between runs and
other engineers share its CPUs). The previous release is the newest tag reachable from
HEAD, else ``HEAD~1`` (on main: the state before the last merge). Its ``handlers/`` is
extracted with ``git archive`` into a temporary folder and runs in this virtualenv with
today's benchmark code and stand-ins. When it cannot be had (no git, a shallow clone, no
parent commit) the reason is returned and printed, and the suite goes on without it.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.suite.launch import REPO


@dataclass(frozen=True)
class PreviousCore:
    """Where the previous release's ``handlers/`` was extracted, and which commit it is."""

    ref: str  # what was asked for: a tag, HEAD~1, or the user's --previous
    commit: str  # its short hash
    handlers: Path
    same_as_today: bool  # handlers/ unchanged since then: the ratios measure only noise


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


def previous_ref() -> str:
    """The newest tag reachable from HEAD's parent, else ``HEAD~1``."""
    try:
        return _git("describe", "--tags", "--abbrev=0", "HEAD~1")
    except (OSError, subprocess.SubprocessError):
        return "HEAD~1"


def extract_previous(ref: str | None = None, into: Path | None = None) -> PreviousCore | str:
    """``ref``'s ``handlers/`` in a folder of its own; or why it cannot be had (a sentence)."""
    ref = ref or previous_ref()
    try:
        commit = _git("rev-parse", "--short", f"{ref}^{{commit}}")
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "handlers"],
            cwd=REPO,
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout
        changed = _git("diff", "--name-only", commit, "--", "handlers")  # vs the work tree
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        return (
            f"previous release {ref!r} unavailable ({detail.strip() or error}); "
            "in a shallow clone, git fetch --unshallow"
        )
    folder = Path(into or tempfile.mkdtemp(prefix="previous-core-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return PreviousCore(ref, commit, folder / "handlers", same_as_today=not changed)
