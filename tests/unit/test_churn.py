"""Churn and turnover equal numerai-tools' (``signals.churn``, ``signals.turnover``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from numerai_tools.signals import churn as tools_churn
from numerai_tools.signals import turnover as tools_turnover

from numerai_bot.churn import churn, turnover, weights
from tests.conftest import examples


@st.composite
def two_weeks(draw):
    """Two submissions over mostly the same tickers, with ties and a few ids in or out."""
    n = draw(st.integers(20, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    ids = [f"T{i} US" for i in range(n + 5)]
    first = dict(zip(ids[:n], np.round(rng.random(n), draw(st.integers(1, 6))), strict=True))
    second_ids = ids[3 : n + 3]
    mix = draw(st.floats(0, 1))
    base = np.array([first.get(i, rng.random()) for i in second_ids])
    second = dict(zip(second_ids, (1 - mix) * base + mix * rng.random(n), strict=True))
    return first, second


@settings(max_examples=examples(150), deadline=None)  # 1.5x: a differential against numerai_tools
@given(two_weeks())
def test_churn_and_turnover_equal_numerai_tools(weeks):
    first, second = weeks
    ours = churn(first, second)
    theirs = tools_churn(pd.Series(first), pd.Series(second))
    assert ours is not None and np.isclose(ours, theirs, atol=1e-12)
    moved = turnover(first, second)
    expected = tools_turnover(pd.Series(weights(first)), pd.Series(weights(second)))
    assert moved is not None and np.isclose(moved, expected, atol=1e-12)


def test_a_reshuffled_submission_churns_and_a_copy_does_not():
    rng = np.random.default_rng(1)
    week = {f"T{i}": float(v) for i, v in enumerate(rng.random(200))}
    shuffled = dict(zip(week, rng.permutation(list(week.values())), strict=True))
    assert churn(week, dict(week)) == 0.0
    assert churn(week, shuffled) > 0.5
