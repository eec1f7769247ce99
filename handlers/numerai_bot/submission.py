"""Turn raw model output into a Numerai submission and check it before anything is uploaded.

The checks are numerai-tools 0.7.2's ``validate_submission_numerai`` / ``_signals`` /
``_crypto``, re-implemented because numerai-tools pulls scikit-learn and scipy into the Lambda
package, and driven by each tournament's :class:`SubmissionRules` (no per-tournament branches).
They run on the exact CSV bytes that will be uploaded, read the way ``pandas.read_csv``
reads them, in numerai-tools' order:

1. header: after dropping the rules' ``dropped_columns`` and the first ``date_columns`` one,
   exactly ``<id column>,<prediction column>`` from the accepted names;
2. no NaN id in any row (pandas' default NA strings: ``""``, ``NA``, ``nan``, ``None``...);
3. rows whose id is outside the live universe are dropped, not refused;
4. no duplicate among the remaining ids, and at least ``min_rows`` of them (every live id
   for Classic, where ``min_rows`` is the universe's size);
5. on those rows only: no NaN, values in [0, 1] (``np.isclose`` slack at both ends), and
   ``not np.isclose(0, std)`` with pandas' ``std`` (ddof=1) over the rows sorted by id.

A value pandas cannot read as a number anywhere in the file refuses it (numerai-tools then
fails on an object column). Rows with a wrong number of fields are refused as malformed.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter

import numpy as np

from numerai_bot.errors import PredictionError
from numerai_bot.tournaments import CLASSIC, Tournament

# pandas.read_csv's default NA strings (pandas._libs.parsers.STR_NA_VALUES): such an id or
# value is NaN to numerai-tools. Kept literal so the Lambda need not import pandas.
NA_TEXT = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing the mean of their ranks (pandas' ``rank()``)."""
    n = values.shape[0]
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # Start index of each run of equal values; ties get the mean of their 1-based ranks.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], n]
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def rank_to_unit(values: np.ndarray) -> np.ndarray:
    """Average-tie ranks mapped into (0, 1): ``(rank - 0.5) / n``, like ``rank(pct=True)``."""
    return (average_ranks(values) - 0.5) / values.shape[0]


def zero_spread(values: np.ndarray) -> bool:
    """numerai-tools' ``np.isclose(0, std)`` with pandas' ddof=1 (one value: NaN, not zero)."""
    if values.shape[0] < 2:
        return False
    return bool(np.isclose(0.0, np.std(values, ddof=1)))


def to_predictions(raw: np.ndarray, expected_rows: int, transform: str = "rank") -> np.ndarray:
    """Check the model's raw output, then apply the configured transform."""
    raw = checked_output(raw, expected_rows)
    if transform == "rank":
        return rank_to_unit(raw)
    if transform == "raw":
        if raw.min() < 0.0 or raw.max() > 1.0:
            raise PredictionError(
                f"raw predictions span [{raw.min():.4g}, {raw.max():.4g}], outside [0, 1]; "
                "use transform 'rank'"
            )
        return raw
    raise PredictionError(f"unknown transform {transform!r}")


def checked_output(raw: np.ndarray, expected_rows: int) -> np.ndarray:
    """The model's raw output as float64: one finite value per live row, with spread."""
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim != 1 or raw.shape[0] != expected_rows:
        raise PredictionError(f"model returned {raw.shape} values for {expected_rows} live rows")
    bad = int(np.count_nonzero(~np.isfinite(raw)))
    if bad:
        raise PredictionError(f"model returned {bad} NaN or infinite predictions")
    if zero_spread(raw):
        raise PredictionError(
            f"model returned (nearly) the same value for every row: standard deviation "
            f"{np.std(raw, ddof=1):.3g}, which Numerai counts as zero spread"
        )
    return raw


def build_csv(ids: np.ndarray, predictions: np.ndarray, tournament: Tournament = CLASSIC) -> bytes:
    """The CSV the tournament expects: ``<id column>,<prediction column>``, full precision."""
    if len(ids) != len(predictions):
        raise PredictionError(f"{len(predictions)} predictions for {len(ids)} ids")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # quotes an id only if it holds a comma
    writer.writerow((tournament.id_column, tournament.prediction_column))
    writer.writerows(
        (str(i), repr(float(p))) for i, p in zip(ids.tolist(), predictions.tolist(), strict=True)
    )
    return out.getvalue().encode()


def read_number(text: str) -> float | None:
    """One CSV field as pandas reads it: NA text is NaN, a float is itself, else None."""
    if text in NA_TEXT:
        return math.nan
    if "_" in text or not text.isascii():  # Python's float() takes "1_0" and "١"; pandas not
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) else value  # "NAN", "+nan": not pandas NA strings


def _columns(header: list[str], tournament: Tournament) -> tuple[int, int]:
    """Positions of the id and prediction columns, after numerai-tools' header rules."""
    rules = tournament.rules
    wanted = (
        f"{tournament.name} submissions need the header <id>,<prediction> with <id> one of "
        f"{', '.join(rules.id_columns)} and <prediction> one of "
        f"{', '.join(rules.prediction_columns)}"
    )
    if len(set(header)) != len(header):
        raise PredictionError(f"submission header {header!r} repeats a column; {wanted}")
    kept = [(i, name) for i, name in enumerate(header) if name not in rules.dropped_columns]
    dates = [k for k, (_, name) in enumerate(kept) if name in rules.date_columns]
    if dates:
        del kept[dates[0]]
    names = [name for _, name in kept]
    if (
        len(kept) != 2
        or names[0] not in rules.id_columns
        or names[1] not in rules.prediction_columns
    ):
        raise PredictionError(f"submission header is {','.join(header)!r}; {wanted}")
    if names[0] != tournament.id_column:
        raise PredictionError(
            f"submission is keyed by {names[0]!r} but this round's {tournament.name} universe "
            f"is keyed by {tournament.id_column!r}; write {tournament.id_column!r} ids"
        )
    return kept[0][0], kept[1][0]


def validate_submission(
    csv_bytes: bytes, live_ids: np.ndarray, tournament: Tournament = CLASSIC
) -> int:
    """numerai-tools' rules for the tournament on the exact bytes; the rows Numerai counts."""
    rules = tournament.rules
    try:
        text = csv_bytes.decode("utf-8-sig")  # pandas skips a byte-order mark too
    except UnicodeDecodeError as error:
        raise PredictionError(f"submission is not UTF-8 text: {error}") from None
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    if not rows:
        raise PredictionError("submission is empty: it needs a header and one row per id")
    id_at, value_at = _columns(rows[0], tournament)

    lines: list[tuple[int, str, str]] = []  # (line number, id, value text)
    for line_number, row in enumerate(rows[1:], start=2):
        if len(row) != len(rows[0]):
            raise PredictionError(
                f"submission line {line_number} has {len(row)} fields, the header {len(rows[0])}"
            )
        if row[id_at] in NA_TEXT:
            raise PredictionError(
                f"submission line {line_number} has no {rows[0][id_at]} ({row[id_at]!r} is "
                "NaN to Numerai)"
            )
        lines.append((line_number, row[id_at], row[value_at]))
    numbers = [read_number(value) for _, _, value in lines]
    unreadable = [line for line, number in zip(lines, numbers, strict=True) if number is None]

    universe = {str(i) for i in live_ids.tolist()}
    counted = [
        (row_id, number)
        for (_, row_id, _), number in zip(lines, numbers, strict=True)
        if row_id in universe
    ]
    ids = [row_id for row_id, _ in counted]
    if len(set(ids)) != len(ids):
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        raise PredictionError(
            f"submission lists {len(repeated)} id(s) more than once, e.g. {repeated[0]!r}; "
            "Numerai refuses duplicates among the live ids"
        )
    needed = len(live_ids) if rules.every_live_id else rules.min_rows
    if len(counted) < needed:
        dropped = len(lines) - len(counted)
        if rules.every_live_id:
            missing = len(universe - set(ids))
            raise PredictionError(
                f"submission lists {len(counted)} of this round's {len(live_ids)} "
                f"{tournament.name.capitalize()} live ids ({missing} missing, {dropped} "
                "unknown); Numerai needs every live id"
            )
        raise PredictionError(
            f"only {len(counted)} of the submission's {len(lines)} tickers ({rows[0][id_at]}) "
            f"are in this round's {tournament.name.capitalize()} universe ({dropped} outside "
            f"it are dropped); Numerai needs at least {needed}"
        )
    if not counted:
        raise PredictionError(
            f"nothing to submit: this round's {tournament.name} universe is empty"
        )

    # numerai-tools: NaN first, then range, then spread; an unreadable value anywhere makes
    # pandas read the column as text and the range check fail.
    nan_lines = [
        line
        for line, number in zip(lines, numbers, strict=True)
        if number is not None and math.isnan(number) and line[1] in universe
    ]
    if nan_lines:
        raise PredictionError(
            f"submission has {len(nan_lines)} NaN value(s) among the live ids (first on line "
            f"{nan_lines[0][0]}: {nan_lines[0][2]!r}); Numerai refuses NaN"
        )
    if unreadable:
        line_number, _, value = unreadable[0]
        raise PredictionError(
            f"submission line {line_number}: {value!r} is not a number "
            f"({len(unreadable)} such value(s)); Numerai needs numbers in [0, 1]"
        )
    counted.sort(key=lambda pair: pair[0])  # numerai-tools sorts by id before its std
    values = np.array([number for _, number in counted], dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    if not ((low >= 0.0 or np.isclose(low, 0)) and (high <= 1.0 or np.isclose(high, 1))):
        raise PredictionError(
            f"submission values span [{low!r}, {high!r}], not in [0, 1]; rank them into "
            "(0, 1) first"
        )
    if zero_spread(values):
        raise PredictionError(
            f"submission has zero spread: standard deviation {np.std(values, ddof=1):.3g} over "
            f"{len(values)} live ids, which Numerai counts as zero (np.isclose(0, std))"
        )
    return len(values)
