"""The round's time arithmetic, as pure functions: when this run must stop, whether a model
may still start, and how much of the time left one model's prediction may take."""

from __future__ import annotations

import datetime as dt

# Do not start a model with less time than this left (download, predict, upload, retries).
MIN_SECONDS_PER_MODEL = 20.0
# Kept aside from the prediction budgets for the uploads that follow them.
UPLOAD_RESERVE_SECONDS = 15.0


def run_deadline(now: float, seconds_left: float, deadline: float | None) -> float:
    """The earlier of the round's close (``now + seconds_left``) and the run's own deadline
    (both ``clock()`` seconds)."""
    round_deadline = now + max(seconds_left, 0)
    return round_deadline if deadline is None else min(deadline, round_deadline)


def closed_for_submissions(tournament: str, number: int, seconds_left: float) -> str:
    """Why nothing is uploaded when the round takes no submission any more."""
    return (
        f"no {tournament} round is open: round {number} closed for "
        f"submissions {-seconds_left / 60:.0f} min ago, late ones included; nothing was "
        "uploaded (the next round's webhook or scheduled check submits)"
    )


def late_submission(tournament: str, number: int, staking_left: float) -> str:
    """What a submission after the staking close is worth: scored, not staked, and better
    than none (a Signals or Crypto week without one zeroes the stake)."""
    return (
        f"late: staking for {tournament} round {number} closed {-staking_left / 60:.0f} min "
        "ago; Numerai scores this submission but does not stake it (better than none)"
    )


def skipped_late(round_is_late: bool, submits_late: bool) -> str | None:
    """Why a model set to skip late rounds (``"late": "skip"``) is not submitted after the
    staking close, or None when it goes on."""
    if not round_is_late or submits_late:
        return None
    return (
        "late, and the model is set to skip late rounds: Numerai would score a submission "
        "after the staking close but not stake it, and a Signals or Crypto week without one "
        'zeroes the stake (set "late": "submit" in models.json to submit late)'
    )


def too_late_to_start(left: float | None) -> str | None:
    """Why a model must not start with ``left`` seconds to go, or None if it may."""
    if left is None or left >= MIN_SECONDS_PER_MODEL:
        return None
    return (
        f"not started: only {max(left, 0):.0f} s left before the round closes or "
        "this invocation times out"
    )


def prediction_budget(
    configured: float | None, left: float | None, remaining_models: int
) -> float | None:
    """A model's prediction time: its configured budget, else a fair share of what is left
    (recomputed for each model, so time a fast model leaves unused goes to the next)."""
    share = None
    if left is not None:
        share = max(left - UPLOAD_RESERVE_SECONDS, 1.0) / max(remaining_models, 1)
    if configured is None:
        return share
    if left is None:
        return configured
    return min(configured, max(left - UPLOAD_RESERVE_SECONDS, 1.0))


def data_date_before(open_time: dt.datetime | None, today: dt.date | None = None) -> dt.date:
    """The round's data date when the universe does not say: the day before it opened."""
    day = open_time.date() if open_time is not None else (today or dt.datetime.now(dt.UTC).date())
    return day - dt.timedelta(days=1)
