"""Churn guard: how much a submission moved against the model's previous one.

Numerai sets a Signals submission's stake to 0 when its maximum churn against the model's
submissions of the previous week is 15 % or more, or its maximum turnover 25 % or more
("The Churn and Turnover Thresholds",
https://docs.numer.ai/numerai-signals/scoring#what-is-churn-and-turnover); Crypto's staking
page points to the same rule (https://docs.numer.ai/numerai-crypto/staking). No peer checks
this before uploading; we do, with the definitions of numerai-tools' ``signals.py``
(https://github.com/numerai/numerai-tools) re-implemented in NumPy (numerai-tools pulls scipy
and scikit-learn, too heavy for the Lambda; a differential test keeps the two equal):

- churn = 1 − Spearman correlation on the ids both submissions share;
- turnover = half the total absolute change of portfolio weights on the shared ids, where a
  submission's weights are its centred ranks scaled to a gross exposure of 1 (our reading of
  "weights" for a rank signal).

Every uploaded file is kept (``<tournament>/<model>/<round>.csv`` in the bucket's
``submissions/`` prefix), so the next round has something to compare with.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass

import numpy as np

from numerai_bot.errors import BotError, ObjectMissing
from numerai_bot.ports import ModelStore
from numerai_bot.submission import average_ranks

logger = logging.getLogger(__name__)

# numerai-tools' filter_sort_index refuses fewer than 80 % shared ids on either side.
MIN_SHARED_RATIO = 0.8


@dataclass(frozen=True)
class Movement:
    """Churn and turnover of a submission against an earlier one (None: not comparable)."""

    previous_round: int
    churn: float | None
    turnover: float | None
    shared: int


def parse_submission(body: bytes) -> dict[str, float]:
    """``{id: value}`` from a submission CSV (header row skipped)."""
    reader = csv.reader(io.StringIO(body.decode("utf-8")))
    next(reader, None)
    return {row[0]: float(row[1]) for row in reader if len(row) == 2}


def churn(previous: dict[str, float], current: dict[str, float]) -> float | None:
    """numerai-tools' ``signals.churn``: 1 − Spearman on shared ids; None if not comparable."""
    ids = _shared(previous, current)
    if ids is None:
        return None
    a = np.array([previous[i] for i in ids])
    b = np.array([current[i] for i in ids])
    if np.std(a) == 0 or np.std(b) == 0:
        return None
    return float(1.0 - np.corrcoef(average_ranks(a), average_ranks(b))[0, 1])


def weights(values: dict[str, float]) -> dict[str, float]:
    """A rank signal as portfolio weights: centred ranks scaled to gross exposure 1."""
    ids = list(values)
    ranks = average_ranks(np.array([values[i] for i in ids]))
    centred = ranks - ranks.mean()
    gross = np.abs(centred).sum()
    scaled = centred / gross if gross else centred
    return dict(zip(ids, scaled.tolist(), strict=True))


def turnover(previous: dict[str, float], current: dict[str, float]) -> float | None:
    """numerai-tools' ``signals.turnover`` on the two submissions' weights (shared ids)."""
    ids = _shared(previous, current)
    if ids is None:
        return None
    old, new = weights(previous), weights(current)
    return float(sum(abs(old[i] - new[i]) for i in ids) / 2.0)


def _shared(previous: dict[str, float], current: dict[str, float]) -> list[str] | None:
    ids = sorted(set(previous) & set(current))
    if len(ids) < 2 or min(len(ids) / len(previous), len(ids) / len(current)) < MIN_SHARED_RATIO:
        return None
    return ids


class SubmissionArchive:
    """Every uploaded submission, per tournament, model and round, in a store."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def previous(self, tournament: str, model: str, round_number: int) -> tuple[int, bytes] | None:
        """The model's last kept submission of an earlier round, if any."""
        rounds = [r for r in self._index(tournament, model) if r < round_number]
        for number in sorted(rounds, reverse=True):
            try:
                return number, self.store.read(_key(tournament, model, number)).data
            except ObjectMissing:
                continue
        return None

    def keep(self, tournament: str, model: str, round_number: int, body: bytes) -> None:
        """Store this round's file and remember the round (the index keeps the last few)."""
        self.store.write(_key(tournament, model, round_number), body)
        rounds = sorted({*self._index(tournament, model), round_number})[-8:]
        index = json.dumps({"rounds": rounds}).encode()
        self.store.write(f"{tournament}/{model}/index.json", index)

    def _index(self, tournament: str, model: str) -> list[int]:
        try:
            raw = self.store.read(f"{tournament}/{model}/index.json").data
        except ObjectMissing:
            return []
        try:
            return [int(r) for r in json.loads(raw)["rounds"]]
        except (ValueError, KeyError, TypeError):
            logger.warning("submission index unreadable; starting afresh", extra={"model": model})
            return []


def movement(
    archive: SubmissionArchive | None, tournament: str, model: str, round_number: int, body: bytes
) -> Movement | None:
    """Churn and turnover of ``body`` against the model's previous kept submission."""
    if archive is None:
        return None
    try:
        found = archive.previous(tournament, model, round_number)
    except BotError as error:  # the guard is advice; the submission goes on
        logger.warning("cannot read the previous submission", extra={"error": str(error)})
        return None
    if found is None:
        return None
    number, previous_body = found
    try:
        previous = parse_submission(previous_body)
    except (UnicodeDecodeError, ValueError, IndexError, csv.Error) as error:
        # A corrupt kept file must not stop this or any later round: the guard is advice.
        logger.warning(
            "previous submission unreadable; no churn comparison this round",
            extra={"file": _key(tournament, model, number), "error": type(error).__name__},
        )
        return None
    current = parse_submission(body)
    shared = len(set(previous) & set(current))
    return Movement(number, churn(previous, current), turnover(previous, current), shared)


def _key(tournament: str, model: str, round_number: int) -> str:
    return f"{tournament}/{model}/{round_number}.csv"
