"""Many models, many workers: the live files staged once in the shared cache, then one
asynchronous worker per shard of models balanced by cost.

Nothing here stops the others: a live file that cannot be staged is downloaded again by each
shard (which reports it per model), and a shard that cannot be started fails its own models.
"""

from __future__ import annotations

import logging

from numerai_bot.errors import BotError
from numerai_bot.events import WorkerRequest
from numerai_bot.ledger import FAILED
from numerai_bot.live_data import LiveDataCache
from numerai_bot.models_config import ModelConfig
from numerai_bot.outcomes import ModelOutcome, RoundResult
from numerai_bot.ports import RoundInfo, WorkerInvoker
from numerai_bot.redact import redact
from numerai_bot.shards import balanced_shards
from numerai_bot.tournaments import Tournament

logger = logging.getLogger(__name__)


class FanOut:
    """Splits a run into shards when it has more models than one worker should take."""

    def __init__(
        self,
        invoker: WorkerInvoker,
        live_data: LiveDataCache,
        shard_size: int = 50,
        max_shards: int = 9,
    ) -> None:
        self.invoker = invoker
        self.live_data = live_data
        self.shard_size = max(1, shard_size)
        self.max_shards = max(1, max_shards)

    def shards(self, selected: list[ModelConfig]) -> list[list[ModelConfig]]:
        """The selected models in shards balanced by cost (one shard: run them here)."""
        return balanced_shards(selected, self.shard_size, self.max_shards)

    def hand_off(
        self,
        shards: list[list[ModelConfig]],
        open_rounds: dict[Tournament, RoundInfo],
        request: WorkerRequest,
        rounds: dict[str, int | None],
        outcomes: list[ModelOutcome],
    ) -> RoundResult:
        """Stage the live files in the shared cache, then one async worker per shard."""
        configs = [c for shard in shards for c in shard]
        for tournament, current in open_rounds.items():
            versions = {c.data_version for c in configs if c.tournament == tournament}
            for version in sorted(v for v in versions if v):
                try:
                    self.live_data.stage(current.number, version, tournament)
                except Exception as error:  # each shard downloads again and reports it
                    logger.error("could not stage live data", extra={"error": _why(error)})
        started = 0
        for shard in shards:
            try:
                self.invoker.invoke(
                    WorkerRequest(
                        "shard",
                        request.round_number,
                        request.trigger_id,
                        request.is_test,
                        tuple(c.name for c in shard),
                        request.force,
                    )
                )
            except Exception as error:  # this shard's models fail; the other shards go on
                reason = f"could not start its shard: {_why(error)}"
                logger.error("could not start a shard", extra={"error": reason})
                outcomes = outcomes + [
                    ModelOutcome(c.name, FAILED, reason, tournament=c.tournament.name)
                    for c in shard
                ]
                continue
            started += 1
        message = f"{len(configs)} models handed to {started} shards balanced by cost"
        if started < len(shards):
            message += f"; {len(shards) - started} shards could not be started"
        logger.info(message, extra={"rounds": rounds, "shards": started})
        first = next((n for n in rounds.values() if n is not None), None)
        return RoundResult(first, "fanned_out", message, outcomes, rounds)


def _why(error: Exception) -> str:
    """Our own errors say what to do; anything else by its class too. Redacted either way:
    a request error's text quotes the presigned URL it failed on."""
    text = redact(str(error))
    return text if isinstance(error, BotError) else f"{type(error).__name__}: {text}"
