"""What ``status`` asks Numerai, per model and tournament; display-only fields are optional.

A field this endpoint does not offer (a GraphQL error such as "Cannot query field
'submissionScores'"), or that fails, leaves its columns at ``-`` and is remembered so that
the table can say in one line which fields Numerai did not return. Such a field is not asked
again for the next models when the endpoint lacks it or does not answer.
"""

from __future__ import annotations

import re
from typing import Any

from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot.errors import NumeraiError, NumeraiUnavailable, RoundClosed
from numerai_bot.ports import RoundInfo
from numerai_bot.tournaments import Tournament
from numerai_bot_cli.status.data import NumeraiView, _float, _int  # one lenient reader
from numerai_bot_cli.status.payout import rule_from_performance, rule_from_round

SUBMISSIONS = """
query($modelId: String) {
  submissions(modelId: $modelId) {
    id triggerId insertedAt round { number tournament openTime }
  }
}
"""
SUBMISSIONS_PLAIN = """
query($modelId: String) { submissions(modelId: $modelId) { id round { number tournament } } }
"""
# numerapi 3.1.1's submission_scores text, with the model's tournament.
SCORES = """
query($modelId: ID! $tournament: Int) {
  submissionScores(modelId: $modelId tournament: $tournament) {
    roundNumber value displayName day resolved
  }
}
"""
PERFORMANCES = """
query($modelId: String! $tournament: Int!) {
  v2RoundModelPerformances(modelId: $modelId tournament: $tournament) {
    atRisk roundNumber roundPayoutFactor payoutMultipliers { displayName multiplier }
  }
}
"""
STAKE = """
query($model_name: String! $tournament: Int) {
  v3UserProfile(model_name: $model_name tournament: $tournament) { stakeValue }
}
"""
ROUND_RULES = """
query($tournament: Int $number: Int) {
  rounds(tournament: $tournament number: $number) {
    number payoutFactor roundScoreConfigs { displayName isPayout defaultMultiplier }
  }
}
"""
# What each optional field feeds, for the warning line.
COLUMNS = {
    "submissions": "NUMERAI, TRIGGER",
    "submission times": "SUBMITTED, +MIN",
    "submissionScores": "SCORED, CORR, MMC, PAYOUT",
    "v2RoundModelPerformances": "PAYOUT, STAKE",
    "v3UserProfile": "STAKE",
    "roundScoreConfigs": "PAYOUT",
    "rounds": "the open round",
    "listDatasets": "data version notices",
}
# A field whose columns another field fills: not worth a warning while that one answers.
FALLBACKS = {"v3UserProfile": "v2RoundModelPerformances"}
# graphql-core's words for a query this endpoint's schema does not have.
UNKNOWN_FIELD = re.compile(
    r"""cannot query field ["']?(\w+)["']?(?: on type ["']?(\w+)["']?)?""", re.IGNORECASE
)
SCHEMA_WORDS = ("cannot query field", "unknown argument", "unknown type")


class NumeraiReader:
    """Numerai's answers for ``status``, with the optional fields that failed in ``missing``."""

    def __init__(self, client: NumeraiClient) -> None:
        self.client = client
        self.missing: dict[str, str] = {}  # logical field -> the name Numerai's error gave
        self._skip: set[str] = set()
        self._rules: dict[tuple[int, int], dict[str, Any] | None] = {}

    def optional(
        self, field: str, query: str, variables: dict[str, Any], authorization: bool = False
    ) -> dict[str, Any] | None:
        """The ``data`` of one query, or None (and ``field`` noted as missing)."""
        if field in self._skip:
            return None
        try:
            return self.client.graphql(query, variables, authorization=authorization)["data"]
        except NumeraiError as error:
            self.missing.setdefault(field, _named(error) or field)
            schema = any(words in str(error).lower() for words in SCHEMA_WORDS)
            if schema or isinstance(error, NumeraiUnavailable):
                self._skip.add(field)  # the endpoint lacks it, or is down: do not ask again
            return None

    def warning(self) -> str | None:
        """One line naming every field Numerai did not return, or None."""
        shown = [
            f"{name} ({COLUMNS.get(field, field)})"
            for field, name in self.missing.items()
            if not (field in FALLBACKS and FALLBACKS[field] not in self.missing)
        ]
        if not shown:
            return None
        return f"warning: Numerai did not return {', '.join(shown)}: shown as -"

    # -- per tournament --------------------------------------------------------------------
    def open_round(self, tournament: Tournament) -> tuple[RoundInfo | None, bool]:
        """The tournament's open round (None between rounds), and whether Numerai said."""
        try:
            return self.client.current_round(tournament), True
        except RoundClosed:
            return None, True
        except NumeraiError:
            self.missing.setdefault("rounds", "rounds")
            return None, False

    def served(self, tournament: Tournament) -> frozenset[str] | None:
        """The dataset files Numerai serves for the tournament, or None."""
        try:
            return self.client.served_datasets(tournament)
        except NumeraiError:
            self.missing.setdefault("listDatasets", "listDatasets")
            return None

    def round_rule(self, tournament: Tournament, number: int) -> dict[str, Any] | None:
        """The round's payout factor and score configs (asked once per round)."""
        key = (tournament.id, number)
        if key not in self._rules:
            data = self.optional(
                "roundScoreConfigs", ROUND_RULES, {"tournament": tournament.id, "number": number}
            )
            rounds = (data or {}).get("rounds") or []
            self._rules[key] = next(
                (r for r in rounds if isinstance(r, dict) and _int(r.get("number")) == number),
                None,
            )
        return self._rules[key]

    # -- per model -------------------------------------------------------------------------
    def view(self, name: str, model_id: str | None, tournament: Tournament) -> NumeraiView:
        """Everything Numerai says about one model in its tournament."""
        view = NumeraiView(model_id)
        if model_id is None:
            return view
        view.submissions = self._submissions(model_id, tournament)
        scores = self.optional(
            "submissionScores", SCORES, {"modelId": model_id, "tournament": tournament.id}
        )
        view.scores = _rows(scores, "submissionScores")
        performances = self.optional(
            "v2RoundModelPerformances",
            PERFORMANCES,
            {"modelId": model_id, "tournament": tournament.id},
        )
        view.performances = _rows(performances, "v2RoundModelPerformances") or []
        stake = self.optional(
            "v3UserProfile", STAKE, {"model_name": name, "tournament": tournament.id}
        )
        profile = (stake or {}).get("v3UserProfile") or {}
        view.stake = _float(profile.get("stakeValue")) if isinstance(profile, dict) else None
        view.round_rules = self._rules_for(view, tournament)
        return view

    def _submissions(self, model_id: str, tournament: Tournament) -> list[dict[str, Any]] | None:
        data = self.optional("submission times", SUBMISSIONS, {"modelId": model_id}, True)
        if data is None:
            data = self.optional("submissions", SUBMISSIONS_PLAIN, {"modelId": model_id}, True)
        listed = _rows(data, "submissions")
        if listed is None:
            return None
        return [s for s in listed if _in_tournament(s, tournament)]

    def _rules_for(self, view: NumeraiView, tournament: Tournament) -> dict[int, Any]:
        """Payout rules of the scored rounds whose performance row carries none."""
        by_round = {_int(p.get("roundNumber")): p for p in view.performances}
        scored = {_int(row.get("roundNumber")) for row in view.scores or [] if row.get("resolved")}
        rules = {}
        for number in sorted(n for n in scored if n is not None):
            rule = rule_from_performance(by_round.get(number)) or rule_from_round(
                self.round_rule(tournament, number)
            )
            if rule is not None:
                rules[number] = rule
        return rules


def _named(error: NumeraiError) -> str | None:
    """``submissionScores`` or ``Round.openTime`` from "Cannot query field ... on type ..."."""
    match = UNKNOWN_FIELD.search(str(error))
    if match is None:
        return None
    field, owner = match.group(1), match.group(2)
    return f"{owner}.{field}" if owner and owner != "Query" else field


def _rows(data: dict[str, Any] | None, field: str) -> list[dict[str, Any]] | None:
    if data is None:
        return None
    rows = data.get(field)
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _in_tournament(submission: dict[str, Any], tournament: Tournament) -> bool:
    """Listed in this tournament (a missing ``round.tournament`` counts: the list is the
    model's own, and a model is in one tournament)."""
    rnd = submission.get("round")
    listed = rnd.get("tournament") if isinstance(rnd, dict) else None
    return listed is None or str(listed) == str(tournament.id)
