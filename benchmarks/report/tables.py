"""Plain-text tables and figures for the benchmark's report: aligned columns, ``-`` when a
figure was not measured."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str) -> str:
    """A plain-text table; the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [row[0].ljust(widths[0])]
        parts += [value.rjust(width) for value, width in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    rule = "-" * len(line(cells[0]))
    return "\n".join([title, rule, line(cells[0]), rule, *[line(r) for r in cells[1:]], ""])


def cell(value: Any) -> str:
    """One table cell: ``-`` for None, floats with two decimals."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def figure(value: float | None, spec: str) -> str:
    """``value`` formatted with ``spec``, or ``-`` when it was not measured."""
    return "-" if value is None else format(value, spec)
