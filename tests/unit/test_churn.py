"""Churn and turnover equal numerai-tools' (``signals.churn``, ``signals.turnover``).

The oracle is numerai-tools end to end, from the raw predictions: ``signals.turnover`` takes
portfolio weights, which the oracle builds with numerai-tools' own ranking, centring and
normalising (``scoring.tie_kept_rank``, ``center``, ``weight_normalize``), never with the
bot's ``weights()``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from numerai_tools.scoring import center, tie_kept_rank, weight_normalize
from numerai_tools.signals import churn as tools_churn
from numerai_tools.signals import turnover as tools_turnover

from numerai_bot.churn import churn, turnover
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


def tools_weights(predictions: dict[str, float]) -> pd.Series:
    """A week's raw predictions as portfolio weights, by numerai-tools alone: tie-kept
    ranks (which want a sorted index), centred, scaled to a gross exposure of 1."""
    return weight_normalize(center(tie_kept_rank(pd.Series(predictions).sort_index())))


@settings(max_examples=examples(150), deadline=None)  # 1.5x: a differential against numerai_tools
@given(two_weeks())
def test_churn_matches_numerai_tools_on_raw_predictions(weeks):
    first, second = weeks
    ours = churn(first, second)
    theirs = tools_churn(pd.Series(first), pd.Series(second))
    assert ours is not None and np.isclose(ours, theirs, atol=1e-12)


@settings(max_examples=examples(150), deadline=None)  # 1.5x: a differential against numerai_tools
@given(two_weeks())
def test_turnover_matches_numerai_tools_on_raw_predictions(weeks):
    first, second = weeks
    moved = turnover(first, second)
    expected = tools_turnover(tools_weights(first), tools_weights(second))
    assert moved is not None and np.isclose(moved, expected, atol=1e-12)


def test_turnover_of_a_reversed_week_is_the_whole_book_and_of_a_copy_nothing():
    week = {f"T{i} US": float(i) for i in range(10)}
    reversed_week = {ticker: -value for ticker, value in week.items()}
    assert turnover(week, dict(week)) == 0.0
    # every long becomes a short of the same size: half of |w - (-w)| summed is gross 1
    assert np.isclose(turnover(week, reversed_week), 1.0)
    assert np.isclose(tools_turnover(tools_weights(week), tools_weights(reversed_week)), 1.0)


def test_a_reshuffled_submission_churns_and_a_copy_does_not():
    rng = np.random.default_rng(1)
    week = {f"T{i}": float(v) for i, v in enumerate(rng.random(200))}
    shuffled = dict(zip(week, rng.permutation(list(week.values())), strict=True))
    assert churn(week, dict(week)) == 0.0
    assert churn(week, shuffled) > 0.5
