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
``submissions/`` prefix), so the next round has something to compare with. The comparison is
advice: a kept file that cannot be read is moved aside (``quarantine/<tournament>/<model>/
<round>.csv``, bytes unchanged), named in the model's alert, and the upload goes on; only a
model with a hard limit (``max_churn``) is refused, with the file's name and how to clear it.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from dataclasses import dataclass

import numpy as np

from numerai_bot.errors import BotError, ObjectMissing, PredictionError
from numerai_bot.ports import ModelStore
from numerai_bot.submission import average_ranks

logger = logging.getLogger(__name__)

# numerai-tools' filter_sort_index refuses fewer than 80 % shared ids on either side.
MIN_SHARED_RATIO = 0.8
# Where an unreadable kept file is moved, inside the archive's store.
QUARANTINE = "quarantine"


@dataclass(frozen=True)
class Movement:
    """Churn and turnover of a submission against an earlier one (None: not comparable)."""

    previous_round: int
    churn: float | None
    turnover: float | None
    shared: int
    unreadable: str = ""  # the previous file could not be read: which, why, where it went


class UnreadableSubmission(ValueError):
    """A kept submission file is not a readable ``id,value`` CSV."""


def parse_submission(body: bytes) -> dict[str, float]:
    """``{id: value}`` from a submission CSV (header row skipped); :class:`UnreadableSubmission`
    names the first problem (what we uploaded always had rows of an id and a finite value)."""
    try:
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))[1:]
    except (UnicodeDecodeError, csv.Error) as error:
        raise UnreadableSubmission(f"not UTF-8 CSV ({type(error).__name__})") from None
    if not rows:
        raise UnreadableSubmission("no rows after the header")
    values: dict[str, float] = {}
    for line, row in enumerate(rows, start=2):
        try:
            if len(row) != 2:
                raise ValueError
            value = float(row[1])
        except ValueError:
            raise UnreadableSubmission(f"line {line} is not 'id,value'") from None
        if not math.isfinite(value):
            raise UnreadableSubmission(f"line {line} holds {row[1]!r}, not a finite number")
        values[row[0]] = value
    return values


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

    def location(self, key: str) -> str:
        """Where ``key`` is, in words a user can act on (the store's URI and the key)."""
        return f"{self.store.uri.rstrip('/')}/{key}"

    def set_aside(self, key: str, body: bytes) -> str:
        """Move an unreadable kept file to the quarantine prefix, bytes unchanged, so no later
        round reads it again; the location it went to."""
        moved = f"{QUARANTINE}/{key}"
        self.store.write(moved, body)
        self.store.delete(key)
        return self.location(moved)

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
    archive: SubmissionArchive | None,
    tournament: str,
    model: str,
    round_number: int,
    body: bytes,
    max_churn: float | None = None,
) -> Movement | None:
    """Churn and turnover of ``body`` against the model's previous kept submission.

    Advice never blocks: when the previous file cannot be read or parsed the comparison is
    skipped (an unreadable file is set aside and named in ``Movement.unreadable``). With a
    ``max_churn`` limit the churn must be known, so :class:`PredictionError` says instead
    which file stands in the way and how to clear it.
    """
    if archive is None:
        return None
    try:
        found = archive.previous(tournament, model, round_number)
    except BotError as error:
        if max_churn is not None:
            raise PredictionError(
                f"cannot read the previous submission to check max_churn {max_churn}: {error}; "
                "not uploaded (the next run tries again)"
            ) from None
        logger.warning("cannot read the previous submission", extra={"error": str(error)})
        return None
    if found is None:
        return None
    number, previous_body = found
    key = _key(tournament, model, number)
    try:
        previous = parse_submission(previous_body)
    except UnreadableSubmission as error:
        if max_churn is not None:
            raise PredictionError(
                _unreadable_with_limit(archive, key, str(error), max_churn)
            ) from None
        return Movement(number, None, None, 0, _set_aside(archive, key, previous_body, error))
    current = parse_submission(body)
    shared = len(set(previous) & set(current))
    return Movement(number, churn(previous, current), turnover(previous, current), shared)


def _unreadable_with_limit(archive: SubmissionArchive, key: str, why: str, limit: float) -> str:
    """The error of a model with ``max_churn`` whose previous kept file cannot be read."""
    where = archive.location(key)
    return (
        f"the previous submission kept at {where} is unreadable ({why}), so max_churn {limit} "
        f"cannot be checked: not uploaded. To clear it, replace that file with the one you "
        f"submitted for that round, or move it to {archive.location(f'{QUARANTINE}/{key}')} "
        "(churn is then checked against the model's earlier kept submission, if any), or "
        "remove max_churn from the model's models.json entry"
    )


def _set_aside(
    archive: SubmissionArchive, key: str, body: bytes, error: UnreadableSubmission
) -> str:
    """Quarantine an unreadable kept file; the words the model's alert carries."""
    where = archive.location(key)
    try:
        moved = archive.set_aside(key, body)
    except Exception as failure:  # the round goes on; the alert says the file is still there
        logger.warning(
            "unreadable kept submission could not be moved aside",
            extra={"file": where, "error": type(failure).__name__},
        )
        told = f"could not be moved aside ({type(failure).__name__}): delete or replace it"
    else:
        told = f"moved to {moved}"
    logger.warning(
        "previous submission unreadable; no churn comparison this round",
        extra={"file": where, "error": str(error)},
    )
    return f"no churn comparison: the previous submission {where} is unreadable ({error}); {told}"


def _key(tournament: str, model: str, round_number: int) -> str:
    return f"{tournament}/{model}/{round_number}.csv"
