"""The payout score ``status`` shows: the round's own multipliers from Numerai, never guessed.

Numerai pays ``payout_factor × (corr × corr_multiplier + mmc × mmc_multiplier)`` (before its
clip), with factor and multipliers set per round: in general, the factor times the sum of
multiplier × score over the round's payout scores. They come from the model's round
performance (``payoutMultipliers``, ``roundPayoutFactor``) or else from the round itself
(``roundScoreConfigs`` marked ``isPayout`` with their ``defaultMultiplier``, and its
``payoutFactor``). When Numerai gives neither, the payout is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PayoutRule:
    """One round's payout: its factor and a multiplier per score (by ``displayName``)."""

    factor: float
    multipliers: tuple[tuple[str, float], ...]


def rule_from_performance(performance: dict[str, Any] | None) -> PayoutRule | None:
    """The rule in a ``v2RoundModelPerformances`` row, if it carries one."""
    if not performance:
        return None
    pairs = [
        (str(m.get("displayName")), _float(m.get("multiplier")))
        for m in performance.get("payoutMultipliers") or []
        if isinstance(m, dict)
    ]
    return _rule(_float(performance.get("roundPayoutFactor")), pairs)


def rule_from_round(round_doc: dict[str, Any] | None) -> PayoutRule | None:
    """The rule in a ``rounds`` entry: its payout score configs and payout factor."""
    if not round_doc:
        return None
    pairs = [
        (str(c.get("displayName")), _float(c.get("defaultMultiplier")))
        for c in round_doc.get("roundScoreConfigs") or []
        if isinstance(c, dict) and c.get("isPayout")
    ]
    return _rule(_float(round_doc.get("payoutFactor")), pairs)


def payout_score(values: dict[str, float], rule: PayoutRule | None) -> float | None:
    """factor × Σ multiplier × score; None when the rule or one of its scores is missing."""
    if rule is None:
        return None
    terms = [(multiplier, values.get(name)) for name, multiplier in rule.multipliers]
    if any(value is None for _, value in terms):
        return None
    return round(rule.factor * sum(m * v for m, v in terms if v is not None), 6)


def _rule(factor: float | None, pairs: list[tuple[str, float | None]]) -> PayoutRule | None:
    if factor is None or not pairs or any(m is None for _, m in pairs):
        return None
    return PayoutRule(factor, tuple((name, m) for name, m in pairs if m is not None))


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
