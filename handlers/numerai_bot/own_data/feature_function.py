"""What the worker asks the user's feature function, and what it accepts back.

The function is the user's Python in a Lambda of its own (its own role, secret and internet
access); the worker only invokes it through the :class:`FeatureFunction` port and reads the
table it wrote. Its answer is read leniently (a JSON object with ``output``), but the key it
names must be exactly the one it was asked to write: anything else fails that model alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from numerai_bot.errors import BotError


class FeatureFunctionError(BotError):
    """The feature function failed, timed out or answered something unusable."""


@dataclass(frozen=True)
class FeatureRequest:
    """The round's request to the feature function (the event it receives)."""

    tournament: str
    round_number: int
    data_date: dt.date
    table: str
    universe: str  # where Numerai's universe for the round was staged (URI or path)
    output: str  # where the table must be written (URI or path)

    def to_event(self) -> dict[str, Any]:
        """The JSON event of the documented contract (docs/own-data.md)."""
        return {
            "tournament": self.tournament,
            "round": self.round_number,
            "data_date": self.data_date.isoformat(),
            "table": self.table,
            "universe": self.universe,
            "output": self.output,
        }


class FeatureFunction(Protocol):
    """Runs the user's feature function and returns its JSON answer."""

    def compute(self, request: FeatureRequest, timeout: float) -> Any:
        """The function's answer; :class:`FeatureFunctionError` if it failed or timed out."""
        ...


def check_answer(request: FeatureRequest, answer: Any) -> None:
    """Refuse an answer that names another place than the one asked for."""
    written = answer.get("output") if isinstance(answer, dict) else None
    if written is None:
        raise FeatureFunctionError(
            'the feature function must answer {"output": "<where it wrote the table>"}, '
            f"it answered a {type(answer).__name__}"
        )
    if str(written) != request.output:
        raise FeatureFunctionError(
            f"the feature function wrote {str(written)[:200]!r}, but was asked to write "
            f"{request.output!r}: write the table to the event's 'output'"
        )
