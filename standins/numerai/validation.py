"""Check an uploaded Classic submission CSV the way Numerai does before accepting it.

The rules follow numerai-tools' ``validate_submission_numerai`` (headers, ids, values) and
its message prefixes (``invalid_submission_headers:`` ...), with one deliberate difference:
ids that are not in the current round's live data are an error here, where numerai-tools
only filters them out. A submission must name every live id exactly once and nothing else.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd

ID_COLUMN = "id"
# numerai-tools accepts "probability" as well as "prediction" for Classic.
PREDICTION_COLUMNS = ("prediction", "probability")
EXAMPLES = 3


class SubmissionInvalid(ValueError):
    """The CSV breaks a rule; the message is what the API reports to the user."""


def _examples(values: Iterable[str]) -> str:
    shown = sorted(values)[:EXAMPLES]
    return ", ".join(repr(v) for v in shown)


def read_csv(content: bytes) -> pd.DataFrame:
    """Parse the upload as text columns, keeping empty cells as empty strings."""
    try:
        return pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise SubmissionInvalid(f"invalid_submission_file: could not read CSV ({err})") from err


def check_headers(frame: pd.DataFrame) -> str:
    """Require exactly ``id`` then one prediction column; return the prediction column."""
    columns = list(frame.columns)
    allowed = [[ID_COLUMN, pred] for pred in PREDICTION_COLUMNS]
    if columns not in allowed:
        raise SubmissionInvalid(
            "invalid_submission_headers: headers must be exactly "
            f"{' or '.join(','.join(a) for a in allowed)}; got {','.join(columns) or '(none)'}"
        )
    return columns[1]


def check_ids(ids: pd.Series, live_ids: frozenset[str], round_number: int) -> None:
    """Every live id once, no duplicates, nothing else."""
    duplicated = ids[ids.duplicated(keep=False)]
    if len(duplicated):
        unique = set(duplicated)
        raise SubmissionInvalid(
            f"invalid_submission_ids: {len(unique)} ids appear more than once "
            f"(e.g. {_examples(unique)})"
        )
    submitted = set(ids)
    unknown = submitted - live_ids
    if unknown:
        raise SubmissionInvalid(
            f"invalid_submission_ids: {len(unknown)} ids are not in the live data of round "
            f"{round_number} (e.g. {_examples(unknown)}). Are you using the latest live data?"
        )
    missing = live_ids - submitted
    if missing:
        raise SubmissionInvalid(
            f"invalid_submission_ids: {len(missing)} of {len(live_ids)} live ids of round "
            f"{round_number} are missing (e.g. {_examples(missing)})"
        )


def check_values(ids: pd.Series, raw: pd.Series) -> None:
    """Numbers only, no NaN, all in [0, 1], not constant."""
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna()
    if bad.any():
        raise SubmissionInvalid(
            "invalid_submission_values: submission must not contain NaNs "
            f"(NaN or non-numeric predictions in {int(bad.sum())} rows, "
            f"e.g. ids {_examples(ids[bad])})"
        )
    out_of_range = (values < 0) | (values > 1)
    if out_of_range.any():
        raise SubmissionInvalid(
            "invalid_submission_values: values must be between 0 and 1 "
            f"({int(out_of_range.sum())} rows outside, min {values.min():g}, "
            f"max {values.max():g})"
        )
    if np.isclose(0.0, float(values.std())):
        raise SubmissionInvalid(
            "invalid_submission_values: submission must have non-zero standard deviation"
        )


def validate_submission(content: bytes, live_ids: frozenset[str], round_number: int) -> int:
    """Validate a Classic submission CSV; return its row count or raise SubmissionInvalid."""
    frame = read_csv(content)
    prediction_column = check_headers(frame)
    if frame.empty:
        raise SubmissionInvalid("invalid_submission_ids: submission has no rows")
    ids = frame[ID_COLUMN]
    check_ids(ids, live_ids, round_number)
    check_values(ids, frame[prediction_column])
    return len(frame)


def best_matching_ids(content: bytes, id_sets: dict[str, frozenset[str]]) -> frozenset[str]:
    """Pick the data version whose live ids overlap the upload most (versions normally agree)."""
    if len(id_sets) == 1:
        return next(iter(id_sets.values()))
    try:
        submitted = set(read_csv(content).get(ID_COLUMN, pd.Series(dtype=str)))
    except SubmissionInvalid:
        submitted = set()
    return max(id_sets.values(), key=lambda ids: len(ids & submitted))
