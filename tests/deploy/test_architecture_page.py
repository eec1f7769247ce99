"""docs/architecture.md stays true: every deployed module is on it, and every module it
names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "architecture.md"
CORE = ROOT / "handlers" / "numerai_bot"


def named_on_page() -> set[str]:
    """Module paths the page names, relative to handlers/numerai_bot (or handlers/)."""
    text = PAGE.read_text()
    found = re.findall(r"(?<![\w/.])((?:[a-z_]+/)*[a-z_]+\.py)\b", text)
    names = {n.removeprefix("handlers/numerai_bot/").removeprefix("handlers/") for n in found}
    return {n for n in names if not n.startswith("tests/")}


def deployed_modules() -> set[str]:
    modules = {p.relative_to(CORE).as_posix() for p in CORE.rglob("*.py")}
    modules = {m for m in modules if not m.endswith("__init__.py")}
    return modules | {p.name for p in (ROOT / "handlers").glob("*.py")}


def test_every_deployed_module_is_on_the_architecture_page():
    missing = sorted(deployed_modules() - named_on_page() - {"adapters/__init__.py"})
    # a module in a subpackage may be named by its folder's table, e.g. `round/runner.py`
    assert not missing, f"docs/architecture.md does not name: {', '.join(missing)}"


def test_every_module_the_page_names_exists():
    names = {
        n.removeprefix("handlers/numerai_bot/").removeprefix("handlers/") for n in named_on_page()
    }
    stale = sorted(n for n in names if n not in deployed_modules())
    assert not stale, f"docs/architecture.md names modules that do not exist: {', '.join(stale)}"
