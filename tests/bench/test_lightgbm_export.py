"""Numerai-sized export measurement; run with ``make bench`` (``pytest -m bench -s``)."""

from __future__ import annotations

import pytest

from benchmarks.export.lightgbm_export import render, run


@pytest.mark.bench
def test_numerai_sized_export() -> None:
    figures = run()
    print()
    print(render(figures))
    assert figures["trees"] == 2000
    assert max(figures["rows_reranked_by_threads"]) == 0
