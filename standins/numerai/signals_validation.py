"""Check a Signals or Crypto submission CSV against the live universe, as Numerai does.

A line-by-line port of numerai-tools 0.7.2's ``validate_submission_signals`` and
``validate_submission_crypto`` (same rules, same order, same message prefixes), done in
pandas so the stand-in does not import scikit-learn and scipy on its first submission; the
stand-in's tests compare its verdicts with numerai-tools'. Each message keeps numerai-tools'
text and adds what was found (counts, examples, the round).

Rules: one id column and one prediction column (Signals also drops ``data_type`` and one
date column); no missing ids; ids outside the live universe are dropped; no duplicates among
the rest; at least 100 of them; values without NaN, in [0, 1], with non-zero spread. Ids
are checked against the live file's column of the same name (``composite_figi`` values for a
``composite_figi`` header), as numerai-tools checks them against its universe's; an accepted
id column the live file lacks is checked against all its live ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from standins.numerai.validation import SubmissionInvalid, read_csv

EXAMPLES = 3
MIN_IDS = 100


@dataclass(frozen=True)
class UniverseRules:
    """numerai-tools' constants for one tournament."""

    id_columns: tuple[str, ...]
    prediction_columns: tuple[str, ...]
    min_ids: int
    dropped_columns: tuple[str, ...]  # removed before the header check (``data_type``)
    date_columns: tuple[str, ...]  # the first one present is removed before the header check


SIGNALS_RULES = UniverseRules(
    id_columns=("ticker", "sedol", "bloomberg_ticker", "composite_figi", "numerai_ticker"),
    prediction_columns=("prediction", "signal"),
    min_ids=MIN_IDS,
    dropped_columns=("data_type",),
    date_columns=("friday_date", "date"),
)
CRYPTO_RULES = UniverseRules(
    id_columns=("symbol",),
    prediction_columns=("prediction", "signal"),
    min_ids=MIN_IDS,
    dropped_columns=(),
    date_columns=(),
)


def _examples(values: pd.Series) -> str:
    shown = sorted({str(v) for v in values})[:EXAMPLES]
    return ", ".join(repr(v) for v in shown)


def parse(content: bytes, rules: UniverseRules) -> pd.DataFrame:
    """The CSV as pandas reads it: empty cells missing, prediction columns numeric."""
    frame = read_csv(content)
    for column in frame.columns:
        if column in rules.prediction_columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
        else:
            frame[column] = frame[column].mask(frame[column] == "")
    return frame


def check_headers(frame: pd.DataFrame, rules: UniverseRules) -> tuple[pd.DataFrame, str, str]:
    """Drop ignored columns, then require exactly one id and one prediction column."""
    frame = frame.drop(columns=list(rules.dropped_columns), errors="ignore")
    for column in frame.columns:
        if column in rules.date_columns:
            frame = frame.drop(columns=[column])
            break
    columns = list(frame.columns)
    if not (
        len(columns) == 2
        and columns[0] in rules.id_columns
        and columns[1] in rules.prediction_columns
    ):
        raise SubmissionInvalid(
            "invalid_submission_headers: headers must be one of"
            f" {list(rules.id_columns)} and one of {list(rules.prediction_columns)}"
            f" (got {','.join(map(str, columns)) or 'no columns'})"
        )
    return frame, columns[0], columns[1]


def check_ids(
    frame: pd.DataFrame,
    id_column: str,
    live_ids: frozenset[str],
    min_ids: int,
    round_number: int,
) -> pd.DataFrame:
    """No missing ids; keep the live ones; no duplicates among them; at least ``min_ids``."""
    missing = frame[id_column].isna()
    if missing.any():
        raise SubmissionInvalid(
            "invalid_submission_ids: Submission must not contain NaNs in the "
            f"{id_column} column. ({int(missing.sum())} rows have no {id_column})"
        )
    ids = frame[id_column].astype(str)
    # Filter after assigning: a column assigned to an empty frame would bring its rows back.
    live = frame.assign(**{id_column: ids})[ids.isin(live_ids)]
    duplicated = live[id_column][live[id_column].duplicated(keep=False)]
    if len(duplicated):
        raise SubmissionInvalid(
            f"invalid_submission_ids: Duplicates detected in {id_column} for live period. "
            f"({duplicated.nunique()} ids appear more than once, e.g. {_examples(duplicated)})"
        )
    if len(live) < min_ids:
        raise SubmissionInvalid(
            "invalid_submission_ids: Not enough stocks submitted. Are you using the latest "
            f"live ids or live universe? ({len(live)} of {len(frame)} submitted ids are in "
            f"round {round_number}'s live universe of {len(live_ids)}; at least {min_ids} "
            "are required)"
        )
    return live


def check_values(live: pd.DataFrame, prediction_column: str) -> None:
    """numerai-tools' ``validate_values`` on the rows in the universe."""
    preds = live[prediction_column]
    missing = preds.isna()
    if missing.any():
        raise SubmissionInvalid(
            "invalid_submission_values: submission must not contain NaNs "
            f"({int(missing.sum())} values are missing or not numbers)"
        )
    low_ok = bool(np.isclose(preds.min(), 0))
    high_ok = bool(np.isclose(preds.max(), 1))
    in_range = (
        preds.between(0, 1).all()
        or (low_ok and preds.le(1).all())
        or (preds.ge(0).all() and high_ok)
        or (low_ok and high_ok)
    )
    if not in_range:
        raise SubmissionInvalid(
            "invalid_submission_values: values must be between 0 and 1 exclusive "
            f"(min {preds.min():g}, max {preds.max():g})"
        )
    if np.isclose(0, preds.std()):
        raise SubmissionInvalid(
            "invalid_submission_values: submission must have non-zero standard deviation"
        )


def validate(
    content: bytes, rules: UniverseRules, live_ids: frozenset[str], round_number: int
) -> int:
    """Validate one submission whose every id column means ``live_ids``; rows in the universe."""
    id_sets = dict.fromkeys(rules.id_columns, live_ids)
    return validate_by_column(content, rules, id_sets, round_number)


def validate_by_column(
    content: bytes, rules: UniverseRules, id_sets: dict[str, frozenset[str]], round_number: int
) -> int:
    """Validate against the live ids of the submission's id column (all of them if unknown)."""
    frame, id_column, prediction_column = check_headers(parse(content, rules), rules)
    live_ids = id_sets.get(id_column)
    if live_ids is None:
        live_ids = frozenset().union(*id_sets.values())
    live = check_ids(frame, id_column, live_ids, rules.min_ids, round_number)
    check_values(live, prediction_column)
    return len(live)


def validator(rules: UniverseRules) -> Callable[[bytes, dict[str, frozenset[str]], int], int]:
    """A tournament validator: (CSV, live ids per id column, round) -> rows accepted."""

    def run(content: bytes, id_sets: dict[str, frozenset[str]], round_number: int) -> int:
        return validate_by_column(content, rules, id_sets, round_number)

    return run
