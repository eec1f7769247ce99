"""Plain-text tables: aligned columns, numbers right-aligned, ``-`` for unknown values."""

from __future__ import annotations

import math
from collections.abc import Sequence


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """Columns as wide as their widest cell, two spaces apart; ``right`` = right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def number(value: float | int | None, fmt: str = "{:+.4f}") -> str:
    """``fmt`` applied, or ``-`` for None."""
    return "-" if value is None else fmt.format(value)


def percent(share: float | None) -> str:
    """``83 %`` (rounded down, so that a share short of 1 never shows 100 %), or ``-``."""
    return "-" if share is None else f"{math.floor(share * 100 + 1e-9)} %"
