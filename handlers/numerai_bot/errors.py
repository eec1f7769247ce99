"""Typed errors: each says what went wrong and what to do, and never carries a secret."""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class ConfigError(BotError):
    """Settings or model configuration are missing or invalid; fix them and redeploy."""


class KeysNotSet(ConfigError):
    """The Numerai keys secret holds no keys yet (a new stack before ``put-keys``): scheduled
    checks have nothing to do until then, which is not a failure."""


class NumeraiError(BotError):
    """Numerai's API refused or failed a call."""


class NumeraiUnavailable(NumeraiError):
    """A transient failure (5xx, timeout, connection error): worth retrying."""


class NumeraiNotReached(NumeraiUnavailable):
    """The request never reached Numerai's application (connection refused, connect
    timeout, HTTP 429): sending it again cannot do anything twice."""


class NumeraiAuthError(NumeraiError):
    """Numerai rejected the API keys: they are wrong, revoked or lack a scope."""


class RoundClosed(NumeraiError):
    """No round is open for submissions right now."""


class UploadError(NumeraiError):
    """The submission could not be uploaded (presigned PUT or create_submission failed)."""


class LiveDataError(BotError):
    """The round's live data could not be downloaded or is not what Numerai publishes."""


class ModelError(BotError):
    """A model's artifact cannot be used: missing, corrupt, without metadata, wrong shape."""


class ObjectMissing(ModelError):
    """The key does not exist in the store."""


class PredictionError(BotError):
    """A model produced predictions that must not be uploaded (NaN, constant, wrong length)."""


class ModelTimeout(PredictionError):
    """A model ran past its time budget and was stopped; the others go on."""


class AlreadyInProgress(BotError):
    """Another invocation holds this model's submission and has not finished: retry later.

    Not a success, and not this run's failure either: the model's outcome says another run
    holds it. If the holder dies mid-upload (Lambda timeout, out of memory), its own
    invocation fails and is retried, and the next scheduled check tries again.
    """


class LeaseLost(AlreadyInProgress):
    """This run can no longer prove it holds the model's lock (its lease renewals failed),
    so it stopped before sending anything: another run may hold the lock by now. Retry later.
    """


class SubmissionUnconfirmed(AlreadyInProgress):
    """A ``create`` reached Numerai but its answer was lost, and Numerai does not list the
    submission yet: it may still land. Not a failure and not a reason to upload again; the
    model stays pending and a later run reconciles with Numerai first.

    ``sent_at`` is when the create was sent (``time.monotonic()`` seconds), if this run sent it.
    """

    def __init__(self, message: str, sent_at: float | None = None) -> None:
        super().__init__(message)
        self.sent_at = sent_at


class OwnDataNotReady(BotError):
    """The user's own table for the round is not there yet. Not a failure while the round is
    open: the run waited a bounded time, and the next scheduled check tries again."""


class LedgerUnavailable(BotError):
    """The ledger table cannot be read or written (DynamoDB down, table missing, throttled).

    Without the ledger the bot cannot tell what was already submitted, so callers must not
    upload on a guess.
    """
