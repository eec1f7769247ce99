"""Exactly one submission per (tournament, round, model), across duplicate webhooks, Lambda's
duplicate async deliveries, the fallback schedule and concurrent shards: powertools
Idempotency on the ledger table, keyed on the tournament, the round and the model.

An IN_PROGRESS record is not a success: its holder may have been killed mid-upload. The
guard raises :class:`AlreadyInProgress` (retryable); the record expires with the Lambda that
wrote it (``register_context``), and the retry then asks Numerai what it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from numerai_bot.errors import AlreadyInProgress, BotError

IN_PROGRESS_MESSAGE = (
    "another invocation is submitting this model right now (or died doing it); "
    "retrying after its lock expires"
)
__all__ = ["AlreadyInProgress", "GuardUnavailable", "IdempotencyGuard", "NoGuard"]


class GuardUnavailable(BotError):
    """The guard's table cannot be reached: uploading now could submit twice."""


class SubmissionGuard(Protocol):
    """Runs ``action`` at most once per (round, model) among every concurrent invocation."""

    def run_once(
        self, round_number: int, model: str, action: Callable[[], dict], tournament: int = 8
    ) -> dict:
        """Run or return the stored result; :class:`AlreadyInProgress` if another holds it."""
        ...


class NoGuard:
    """No cross-invocation guard: for unit tests and single-process local runs."""

    def run_once(
        self, round_number: int, model: str, action: Callable[[], dict], tournament: int = 8
    ) -> dict:
        """Just run it."""
        return action()


class IdempotencyGuard:
    """powertools' ``idempotent_function`` over a DynamoDB persistence layer.

    A failed action raises, so powertools deletes the record and a later retry may try
    again; a success is stored and returned to every later caller without running.
    """

    def __init__(self, table_name: str, expires_after_seconds: int = 3 * 86_400) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
        )

        self.persistence = DynamoDBPersistenceLayer(table_name=table_name)
        self.config = IdempotencyConfig(
            event_key_jmespath="[tournament, round, model]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
        )

    def register_context(self, context: Any) -> None:
        """Let an INPROGRESS record expire with the Lambda that wrote it (e.g. a timeout)."""
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            self.config.register_lambda_context(context)

    def run_once(
        self, round_number: int, model: str, action: Callable[[], dict], tournament: int = 8
    ) -> dict:
        """Run ``action`` unless this (tournament, round, model) already ran or is running."""
        from aws_lambda_powertools.utilities.idempotency import idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
        )

        @idempotent_function(
            data_keyword_argument="key", persistence_store=self.persistence, config=self.config
        )
        def submit_model(key: dict) -> dict:
            return action()

        try:
            return submit_model(
                key={"tournament": tournament, "round": round_number, "model": model}
            )
        except IdempotencyAlreadyInProgressError:
            raise AlreadyInProgress(IN_PROGRESS_MESSAGE) from None
        except IdempotencyPersistenceLayerError as error:
            cause = type(error.__cause__).__name__ if error.__cause__ else "error"
            raise GuardUnavailable(
                f"the idempotency table is unreachable ({cause}); nothing was uploaded"
            ) from None
