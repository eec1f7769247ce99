"""Deterministic fake scores and payouts for rounds a model submitted to.

Only resolved rounds get scores (one final, day-20 value per metric), derived from a hash of
(model id, round, metric): the same model and round always score the same, so an operator's
``status`` command can be tested against fixed numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from standins.numerai import clock
from standins.numerai.state import Round, SubmissionRecord

# displayName, version, low, high (value range)
METRICS = (
    ("v2_corr20", "v2", -0.05, 0.08),
    ("mmc", "v1", -0.03, 0.04),
    ("bmc", "v1", -0.03, 0.04),
)
FINAL_DAY = 20
STAKE_NMR = Decimal("10")
PAYOUT_CLIP = Decimal("0.05")


def unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def metric_value(model_id: str, round_number: int, metric: str, low: float, high: float) -> float:
    """The fake score of one metric, rounded like Numerai's (6 decimals)."""
    return round(low + (high - low) * unit(model_id, round_number, metric), 6)


def payout_nmr(model_id: str, round_number: int) -> Decimal:
    """Payout on a fixed stake: stake x clip(0.5 corr + 2 mmc, +-5 %), 4 decimals."""
    corr = Decimal(str(metric_value(model_id, round_number, *_metric("v2_corr20"))))
    mmc = Decimal(str(metric_value(model_id, round_number, *_metric("mmc"))))
    score = max(-PAYOUT_CLIP, min(PAYOUT_CLIP, Decimal("0.5") * corr + 2 * mmc))
    return (STAKE_NMR * score).quantize(Decimal("0.0001"))


def _metric(name: str) -> tuple[str, float, float]:
    for display, _version, low, high in METRICS:
        if display == name:
            return display, low, high
    raise KeyError(name)


def latest_per_round(
    submissions: list[SubmissionRecord], model_id: str
) -> dict[int, SubmissionRecord]:
    """The last accepted submission of a model in each round (the one Numerai scores)."""
    chosen: dict[int, SubmissionRecord] = {}
    for record in submissions:
        if record.model_id == model_id and record.status == "accepted":
            chosen[record.round_number] = record
    return chosen


def submission_scores(
    model_id: str,
    submissions: list[SubmissionRecord],
    rounds: dict[int, Round],
    moment: dt.datetime,
) -> list[dict[str, Any]]:
    """``submissionScores`` rows for every resolved round the model submitted to, newest first."""
    rows: list[dict[str, Any]] = []
    for number, record in sorted(latest_per_round(submissions, model_id).items(), reverse=True):
        rnd = rounds.get(number)
        if rnd is None or not rnd.is_resolved(moment):
            continue
        resolve = min(rnd.resolve_time, moment)
        for display, version, low, high in METRICS:
            rows.append(
                {
                    "roundId": rnd.id,
                    "submissionId": record.id,
                    "roundNumber": number,
                    "roundResolveTime": clock.iso(resolve),
                    "roundScoreTime": clock.iso(rnd.close_time + dt.timedelta(days=3)),
                    "roundCloseStakingTime": clock.iso(rnd.close_staking_time),
                    "value": metric_value(model_id, number, display, low, high),
                    "percentile": round(unit(model_id, number, display, "pct"), 4),
                    "displayName": display,
                    "version": version,
                    "date": clock.iso(resolve),
                    "day": FINAL_DAY,
                    "resolveDate": clock.iso(resolve),
                    "resolved": True,
                }
            )
    return rows


def filter_scores(
    rows: list[dict[str, Any]],
    *,
    display_name: str | None = None,
    version: str | None = None,
    day: int | None = None,
    resolved: bool | None = None,
    last_n_rounds: int | None = None,
    distinct_on_round: bool | None = None,
) -> list[dict[str, Any]]:
    """Apply ``submissionScores``' filter arguments."""
    out = [
        row
        for row in rows
        if (display_name is None or row["displayName"] == display_name)
        and (version is None or row["version"] == version)
        and (day is None or row["day"] == day)
        and (resolved is None or row["resolved"] == resolved)
    ]
    if last_n_rounds is not None:
        keep = sorted({row["roundNumber"] for row in out}, reverse=True)[:last_n_rounds]
        out = [row for row in out if row["roundNumber"] in keep]
    if distinct_on_round:
        seen: set[int] = set()
        distinct = []
        for row in out:
            if row["roundNumber"] not in seen:
                seen.add(row["roundNumber"])
                distinct.append(row)
        out = distinct
    return out


def round_performances(
    model_id: str,
    submissions: list[SubmissionRecord],
    rounds: dict[int, Round],
    moment: dt.datetime,
) -> list[dict[str, Any]]:
    """``v2RoundModelPerformances`` rows: every round submitted to, scores once resolved."""
    rows = []
    for number in sorted(latest_per_round(submissions, model_id), reverse=True):
        rnd = rounds.get(number)
        if rnd is None:
            continue
        resolved = rnd.is_resolved(moment)
        payout = str(payout_nmr(model_id, number))
        scores = []
        if resolved:
            for display, _version, low, high in METRICS:
                scores.append(
                    {
                        "date": clock.iso(min(rnd.resolve_time, moment)),
                        "day": FINAL_DAY,
                        "displayName": display,
                        "payoutPending": None,
                        "payoutSettled": payout if display == "v2_corr20" else None,
                        "percentile": round(unit(model_id, number, display, "pct"), 4),
                        "value": metric_value(model_id, number, display, low, high),
                    }
                )
        rows.append(
            {
                "atRisk": str(STAKE_NMR),
                "payoutMultipliers": [],
                "roundPayoutFactor": 1.0,
                "roundNumber": number,
                "roundOpenTime": clock.iso(rnd.open_time),
                "roundResolveTime": clock.iso(rnd.resolve_time),
                "roundResolved": resolved,
                "roundTarget": "target",
                "submissionScores": scores,
                "intraRoundSubmissionScores": [],
            }
        )
    return rows


def model_payouts(
    models: dict[str, str],
    submissions: list[SubmissionRecord],
    rounds: dict[int, Round],
    moment: dt.datetime,
) -> dict[str, list[dict[str, Any]]]:
    """``pendingModelPayouts``: settled payouts of resolved rounds, pending ones otherwise."""
    out: dict[str, list[dict[str, Any]]] = {"actual": [], "pending": []}
    for name, model_id in models.items():
        for number in sorted(latest_per_round(submissions, model_id), reverse=True):
            rnd = rounds.get(number)
            if rnd is None:
                continue
            amount = payout_nmr(model_id, number)
            out["actual" if rnd.is_resolved(moment) else "pending"].append(
                {
                    "roundId": rnd.id,
                    "roundNumber": number,
                    "roundResolveTime": clock.iso(rnd.resolve_time),
                    "modelId": model_id,
                    "modelName": name,
                    "modelDisplayName": name,
                    "payoutNmr": str(amount),
                    "payoutValue": str((amount * Decimal("8")).quantize(Decimal("0.01"))),
                    "currencySymbol": "$",
                }
            )
    return out
