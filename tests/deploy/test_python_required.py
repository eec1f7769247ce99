"""The Python the project needs is stated once and checked before anything is installed:
CPython 3.12 (Lambda's runtime). A machine whose newest Python is 3.11 gets one clear line
from `make venv` (scripts/find_python.sh), not pip's "No matching distribution found"."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _python_311(folder: Path) -> Path:
    """A `python3` that runs this interpreter but says it is 3.11."""
    fake = folder / "python3"
    fake.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = "-c" ] && exec {sys.executable} -c '
        '"import sys; sys.version_info = (3, 11, 9, \'final\', 0); exec(sys.argv[1])" "$2"\n'
        f'exec {sys.executable} "$@"\n'
    )
    fake.chmod(0o755)
    return fake


def test_a_machine_with_only_python_311_is_told_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    _python_311(tmp_path / "bin")
    found = subprocess.run(
        ["/bin/bash", str(REPO / "scripts/find_python.sh")],
        env={"HOME": str(tmp_path), "PATH": str(tmp_path / "bin")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 1, found.stdout
    assert found.stdout == ""
    lines = found.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "needs CPython 3.12" in lines[0] and "found Python 3.11" in lines[0]
    assert "PYTHON_BOOT=" in lines[0]


def test_make_venv_stops_before_pip_without_python_312(tmp_path: Path) -> None:
    fake = _python_311(tmp_path)
    made = subprocess.run(
        ["make", "-C", str(REPO), "venv", f"VENV={tmp_path / 'venv'}", f"PYTHON_BOOT={fake}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode != 0
    assert "needs CPython 3.12" in made.stderr
    assert not (tmp_path / "venv").exists()


def test_pyproject_states_the_python_the_pins_need() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.12"
    assert "CPython 3.12" in (REPO / "README.md").read_text()
    assert "3.11" not in (REPO / "README.md").read_text()
