"""Our validator and numerai-tools give the same verdict on any submission, in every tournament.

numerai-tools is a development dependency only: the tests read the CSV bytes back with
``pandas.read_csv`` (what numerai-tools is given) and compare its verdict with ours.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from numerai_tools.submissions import (
    validate_submission_crypto,
    validate_submission_numerai,
    validate_submission_signals,
)
from pandas._libs.parsers import STR_NA_VALUES

from numerai_bot.errors import PredictionError
from numerai_bot.submission import (
    NA_TEXT,
    build_csv,
    rank_to_unit,
    read_number,
    to_predictions,
    validate_submission,
)
from numerai_bot.tournaments import CLASSIC, CRYPTO, SIGNALS, TOURNAMENTS, Tournament
from tests.conftest import examples

NUMERAI_TOOLS: dict[str, Callable[..., tuple]] = {
    "classic": validate_submission_numerai,
    "signals": validate_submission_signals,
    "crypto": validate_submission_crypto,
}
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")
logging.getLogger("numerai_tools.submissions").setLevel(logging.ERROR)  # data_type warning

ID_FORMAT = {"classic": "n{:015x}", "signals": "T{:05d} US", "crypto": "C{:05d}"}
EDGE_VALUES = [-1e-8, -1.00001e-8, -2e-8, -1e-9, -0.0, 0.0, 1.0, 1 + 1e-5, 1 + 1.001e-5]
EDGE_VALUES += [1 + 1.0011e-5, 1 + 2e-5, 1.5, -0.5, float("inf"), float("-inf")]
RULES = ["header", "keyed by", "NaN to Numerai", "more than once", "universe", "NaN value"]
RULES += ["live ids (", "not a number", "not in [0, 1]", "zero spread"]
BAD_TEXT = ["", "NA", "nan", "NaN", "None", "null", "abc", "inf", "1_0", "NAN", " 0.5", "0.5 "]


def universe_for(tournament: Tournament, live_ids: list[str]) -> pd.Series | pd.DataFrame:
    """The universe as numerai-tools takes it: Classic a Series, the others the live frame."""
    if tournament.rules.every_live_id:
        return pd.Series(live_ids)
    return pd.DataFrame({tournament.id_column: live_ids})


def numerai_tools_verdict(tournament: Tournament, body: bytes, live_ids: list[str]) -> int | None:
    """numerai-tools' answer on the bytes read back by pandas: rows kept, or None if refused."""
    submission = pd.read_csv(io.BytesIO(body))
    try:
        kept = NUMERAI_TOOLS[tournament.name](universe_for(tournament, live_ids), submission)
    except AssertionError:
        return None
    except KeyError:  # keyed by an id column the live universe does not have
        return None
    except TypeError:  # a value pandas could not read: the column is text, not numbers
        return None
    return len(kept[-2])


def our_verdict(tournament: Tournament, body: bytes, live_ids: list[str]) -> int | None:
    """Our validator's answer on the same bytes: rows counted, or None if refused."""
    try:
        rows = validate_submission(body, np.array(live_ids, dtype=object), tournament)
    except PredictionError as error:
        rule = next((r for r in RULES if r in str(error)), "other")
        event(f"refused: {rule}")  # --hypothesis-show-statistics: which rules were exercised
        return None
    event("accepted")
    return rows


EXTRA_HEADERS = st.lists(st.sampled_from(["data_type", "date", "friday_date", "era"]), max_size=3)
ID_HEADERS = [c for t in TOURNAMENTS.values() for c in t.rules.id_columns] + ["ID", "tickers"]
VALUE_HEADERS = [c for t in TOURNAMENTS.values() for c in t.rules.prediction_columns] + ["target"]
SMALL_COUNTS = st.sampled_from([0, 0, 1, 2])
OUTSIDE_COUNTS = st.sampled_from([0, 0, 1, 5, 20])
RARE_COUNTS = st.sampled_from([0] * 10 + [1, 2])
RARELY = st.integers(0, 9).map(lambda n: n == 0)  # about one example in ten
# Standard deviations around numerai-tools' np.isclose(0, std) edge (std <= ~1.00001e-8).
SPREADS = st.sampled_from([0.0, 1e-12, 1e-9, 1e-8, 1.00001e-8, 1.0001e-8, 1.2e-8, 1e-7])
SPREADS |= st.floats(5e-9, 2e-8)
EDGES = st.sampled_from(EDGE_VALUES) | st.floats(-2e-8, 0) | st.floats(1, 1 + 2e-5)
KINDS = st.sampled_from(["uniform", "ranked", "near_constant", "near_constant"])
SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def submissions(draw: st.DrawFn, tournament: Tournament) -> tuple[bytes, list[str]]:
    """A random submission of the tournament (often valid, often broken in one way)."""
    rules, name = tournament.rules, tournament.name
    size = draw(st.integers(1, 12) if rules.every_live_id else st.integers(95, 140))
    live_ids = [ID_FORMAT[name].format(k) for k in range(size)]
    taken = draw(st.just(size) | st.integers(max(0, size - 40), size))
    outside, duplicated, nan_id = draw(OUTSIDE_COUNTS), draw(RARE_COUNTS), draw(RARELY)
    rng = np.random.default_rng(draw(SEEDS))

    ids = [live_ids[k] for k in rng.permutation(size)[:taken]]
    ids += [ID_FORMAT[name].format(size + 1000 + k) for k in range(outside)]
    ids += [ids[k] for k in rng.integers(len(ids), size=duplicated)] if ids else []
    ids += [sorted(NA_TEXT)[int(rng.integers(len(NA_TEXT)))]] if nan_id else []
    ids = [ids[k] for k in rng.permutation(len(ids))]

    kind = draw(KINDS)
    if kind == "uniform":
        values = rng.uniform(0, 1, len(ids))
    elif kind == "ranked":
        values = rank_to_unit(rng.normal(size=len(ids)))
    else:
        noise = rng.standard_normal(len(ids))
        noise /= noise.std(ddof=1) if len(ids) > 1 else 1.0
        values = draw(st.floats(0, 1)) + draw(SPREADS) * noise
    texts = [repr(v) for v in values.tolist()]
    for _ in range(draw(SMALL_COUNTS) if texts else 0):
        texts[int(rng.integers(len(texts)))] = repr(draw(EDGES))
    for _ in range(draw(RARE_COUNTS) if texts else 0):
        texts[int(rng.integers(len(texts)))] = draw(st.sampled_from(BAD_TEXT))

    id_column = draw(st.sampled_from(ID_HEADERS)) if draw(RARELY) else tournament.id_column
    value_column = tournament.prediction_column
    value_column = draw(st.sampled_from(VALUE_HEADERS)) if draw(RARELY) else value_column
    header = [id_column, value_column, *(draw(EXTRA_HEADERS) if draw(RARELY) else [])]
    if len(header) > 2 and draw(st.booleans()):
        header = [header[k] for k in rng.permutation(len(header))]
    columns = {id_column: ids, value_column: texts}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(
        [columns[c][r] if c in columns else "2026-11-27" for c in header] for r in range(len(ids))
    )
    return out.getvalue().encode(), live_ids


def same_verdict(tournament: Tournament, body: bytes, live_ids: list[str]) -> None:
    """Both accept with the same number of rows, or both refuse."""
    theirs = numerai_tools_verdict(tournament, body, live_ids)
    ours = our_verdict(tournament, body, live_ids)
    assert ours == theirs, body.decode()[:2000]


# Differentials against numerai_tools: 2x the profile, so that every refusal rule is met.
DIFFERENTIAL = settings(
    max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@DIFFERENTIAL
@given(submissions(CLASSIC))
def test_any_classic_submission_gets_numerai_tools_verdict(case):
    same_verdict(CLASSIC, *case)


@DIFFERENTIAL
@given(submissions(SIGNALS))
def test_any_signals_submission_gets_numerai_tools_verdict(case):
    same_verdict(SIGNALS, *case)


@DIFFERENTIAL
@given(submissions(CRYPTO))
def test_any_crypto_submission_gets_numerai_tools_verdict(case):
    same_verdict(CRYPTO, *case)


@settings(max_examples=examples(200), deadline=None)  # a differential against pandas
@given(st.text(alphabet="0123456789.eE+-_ \tinfatyINFATYNLlu#/<>", max_size=10))
def test_any_value_text_is_a_number_exactly_when_pandas_reads_one(text):
    column = pd.read_csv(io.StringIO(f'a,b\nx,"{text}"\ny,0.5\n'))["b"]
    ours = read_number(text)
    if column.dtype.kind != "f":
        assert ours is None
    elif np.isnan(column[0]):
        assert ours is not None and np.isnan(ours)
    else:
        assert ours == column[0]


def test_nan_ids_and_values_are_pandas_default_na_strings():
    assert set(STR_NA_VALUES) == NA_TEXT


def tickers(n: int, start: int = 0) -> list[str]:
    return [f"T{k:05d} US" for k in range(start, start + n)]


def signals_csv(rows: list[tuple[str, float | str]]) -> bytes:
    """A Signals CSV; float values written in full (repr), text values as given."""
    lines = (f"{i},{v if isinstance(v, str) else repr(float(v))}\n" for i, v in rows)
    return ("numerai_ticker,signal\n" + "".join(lines)).encode()


def ranked(ids: list[str]) -> list[tuple[str, float | str]]:
    """Each id with a distinct value in (0, 1)."""
    return list(zip(ids, rank_to_unit(np.arange(float(len(ids)))).tolist(), strict=True))


def test_signals_submission_with_99_valid_tickers_is_refused():
    live = tickers(150)
    body = signals_csv(ranked(live[:99]))
    with pytest.raises(PredictionError, match=r"only 99 of .* Signals universe.* at least 100"):
        validate_submission(body, np.array(live, dtype=object), SIGNALS)
    assert numerai_tools_verdict(SIGNALS, body, live) is None


def test_out_of_universe_tickers_are_dropped_not_fatal():
    live = tickers(150)
    outside = [(t, "nan") for t in tickers(15, start=9000)]  # their values are not checked
    body = signals_csv(ranked(live[:120]) + outside)
    assert validate_submission(body, np.array(live, dtype=object), SIGNALS) == 120
    assert numerai_tools_verdict(SIGNALS, body, live) == 120


def test_near_constant_classic_predictions_are_refused_like_numerai_tools():
    ids = [f"n{i:015x}" for i in range(10)]
    body = build_csv(np.array(ids, dtype=object), 0.5 + np.arange(10) * 1e-12)
    with pytest.raises(PredictionError, match="zero spread"):
        validate_submission(body, np.array(ids, dtype=object))
    assert numerai_tools_verdict(CLASSIC, body, ids) is None


def test_near_constant_model_output_is_refused_before_ranking():
    with pytest.raises(PredictionError, match="same value"):
        to_predictions(0.3 + np.arange(50) * 1e-12, 50)


@pytest.mark.parametrize(
    ("tournament", "header"),
    [(CLASSIC, b"id,prediction"), (SIGNALS, b"numerai_ticker,signal"), (CRYPTO, b"symbol,signal")],
)
def test_each_tournament_gets_its_own_header_and_passes_its_rules(tournament, header):
    ids = [ID_FORMAT[tournament.name].format(k) for k in range(130)]
    body = build_csv(np.array(ids, dtype=object), rank_to_unit(np.arange(130.0)), tournament)
    assert body.splitlines()[0] == header
    assert validate_submission(body, np.array(ids, dtype=object), tournament) == 130
    assert numerai_tools_verdict(tournament, body, ids) == 130


def test_classic_probability_header_and_unknown_ids_are_accepted_like_numerai_tools():
    body = b"id,probability\nn1,0.25\nn2,0.75\nn9,7\n"
    assert validate_submission(body, np.array(["n1", "n2"], dtype=object)) == 2
    assert numerai_tools_verdict(CLASSIC, body, ["n1", "n2"]) == 2


def test_values_a_hair_outside_zero_one_pass_like_numerai_tools():
    live = tickers(100)
    values = [-1e-8, *rank_to_unit(np.arange(98.0)).tolist(), 1 + 1e-5]
    body = signals_csv(list(zip(live, values, strict=True)))
    assert validate_submission(body, np.array(live, dtype=object), SIGNALS) == 100
    assert numerai_tools_verdict(SIGNALS, body, live) == 100


def test_signals_date_and_data_type_columns_are_ignored_like_numerai_tools():
    live = tickers(100)
    rows = "".join(
        f"2026-11-27,{t},{v!r},live\n"
        for t, v in zip(live, rank_to_unit(np.arange(100.0)).tolist(), strict=True)
    )
    body = f"friday_date,numerai_ticker,signal,data_type\n{rows}".encode()
    assert validate_submission(body, np.array(live, dtype=object), SIGNALS) == 100
    assert numerai_tools_verdict(SIGNALS, body, live) == 100


def test_signals_submission_keyed_by_another_id_column_says_which_one_we_know():
    live = tickers(100)
    body = signals_csv([(t, "0.5") for t in live]).replace(b"numerai_ticker", b"ticker", 1)
    with pytest.raises(PredictionError, match="write 'numerai_ticker' ids"):
        validate_submission(body, np.array(live, dtype=object), SIGNALS)


def test_a_nan_id_anywhere_is_refused_even_outside_the_universe():
    live = tickers(100)
    body = signals_csv(ranked(live))
    body += b"NA,0.5\n"
    with pytest.raises(PredictionError, match="NaN to Numerai"):
        validate_submission(body, np.array(live, dtype=object), SIGNALS)
    assert numerai_tools_verdict(SIGNALS, body, live) is None


def test_duplicate_tickers_outside_the_universe_are_dropped_not_refused():
    live = tickers(100)
    body = signals_csv(ranked(live))
    body += b"Z99999 US,0.5\nZ99999 US,0.6\n"
    assert validate_submission(body, np.array(live, dtype=object), SIGNALS) == 100
    assert numerai_tools_verdict(SIGNALS, body, live) == 100


def test_an_unreadable_value_even_outside_the_universe_is_refused_like_numerai_tools():
    live = tickers(100)
    body = signals_csv(ranked(live))
    body += b"Z99999 US,high\n"
    with pytest.raises(PredictionError, match="'high' is not a number"):
        validate_submission(body, np.array(live, dtype=object), SIGNALS)
    assert numerai_tools_verdict(SIGNALS, body, live) is None
