"""Numerai's three tournaments as data: where the live file is, what keys it, how to upload.

Classic (tournament 8), Signals (11) and Crypto (12) share one round schedule (Signals'
submission page defers to Classic's for "when to submit":
https://docs.numer.ai/numerai-signals/submissions) and one submission webhook per model.
Signals and Crypto ship Numerai-provided features: numerai-cli's example models train
LightGBM on every ``feature_*`` column of ``signals/v2.1/train.parquet`` (target ``target``)
and ``crypto/v2.0/train.parquet`` (``target_binned_return_20``) and predict on the
``live.parquet`` beside it (https://github.com/numerai/numerai-cli, ``numerai/examples/``).
A Signals or Crypto submission is an id column plus a value in (0, 1) for at least 100 ids
of the live universe (https://docs.numer.ai/numerai-signals/submissions,
https://docs.numer.ai/numerai-crypto/submissions). So the tournaments differ only in the
values below: the core receives a :class:`Tournament` with each model's config and never
branches on which one it is.

The tournament numbers are numerapi's (``NumerAPI``, ``SignalsAPI`` and ``CryptoAPI`` set
``tournament_id`` to 8, 11 and 12), and the upload texts are numerapi 3.1.1's own: Classic
and Crypto use the snake_case ``submission_upload_auth`` / ``create_submission`` with
``tournament``; Signals uses ``submissionUploadSignalsAuth`` / ``createSignalsSubmission``
(no tournament argument).
"""

from __future__ import annotations

from dataclasses import dataclass

from numerai_bot.errors import ConfigError

_CLASSIC_AUTH = """
query($filename: String! $tournament: Int! $modelId: String) {
  submission_upload_auth(filename: $filename tournament: $tournament modelId: $modelId) {
    filename url
  }
}
"""
_CLASSIC_CREATE = """
mutation($filename: String! $tournament: Int! $modelId: String $triggerId: String
         $dataDatestamp: Int) {
  create_submission(filename: $filename tournament: $tournament modelId: $modelId
                    triggerId: $triggerId source: "numerapi" dataDatestamp: $dataDatestamp) {
    id
  }
}
"""
_SIGNALS_AUTH = """
query($filename: String! $tournament: Int! $modelId: String) {
  submissionUploadSignalsAuth(filename: $filename tournament: $tournament modelId: $modelId) {
    filename url
  }
}
"""
_SIGNALS_CREATE = """
mutation($filename: String! $modelId: String $triggerId: String $dataDatestamp: Int) {
  createSignalsSubmission(filename: $filename modelId: $modelId triggerId: $triggerId
                          source: "numerapi" dataDatestamp: $dataDatestamp) {
    id firstEffectiveDate
  }
}
"""


@dataclass(frozen=True)
class UploadCalls:
    """The GraphQL texts of one tournament's upload (auth → PUT → create) and their fields."""

    auth_query: str
    auth_field: str
    create_mutation: str
    create_field: str
    create_takes_tournament: bool  # Signals' create mutation has no tournament argument


CLASSIC_UPLOAD = UploadCalls(
    _CLASSIC_AUTH, "submission_upload_auth", _CLASSIC_CREATE, "create_submission", True
)
SIGNALS_UPLOAD = UploadCalls(
    _SIGNALS_AUTH, "submissionUploadSignalsAuth", _SIGNALS_CREATE, "createSignalsSubmission", False
)


@dataclass(frozen=True)
class SubmissionRules:
    """numerai-tools' ``validate_submission_*`` rules for one tournament.

    ``id_columns``: the id headers Numerai accepts (the first is the one we write);
    ``prediction_columns``: likewise for the value column; ``min_rows``: at least this many
    ids must be in the live universe (ids outside it are dropped by Numerai, not fatal);
    ``every_live_id``: the submission must list every live id exactly once (Classic);
    ``dropped_columns``: columns Numerai removes before checking the header (Signals'
    deprecated ``data_type``); ``date_columns``: of these, the first one present is removed
    too (Signals' optional ``friday_date`` / ``date``).
    """

    id_columns: tuple[str, ...]
    prediction_columns: tuple[str, ...]
    min_rows: int
    every_live_id: bool
    dropped_columns: tuple[str, ...] = ()
    date_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tournament:
    """One Numerai tournament as the bot needs it (see module docstring)."""

    name: str  # "classic", "signals", "crypto": what models.json and the CLI say
    id: int  # Numerai's tournament number: 8, 11, 12
    data_prefix: str  # "" for Classic ("v5.3/live.parquet"), "signals/" ...
    default_data_version: str  # what new models are trained on when list_datasets is silent
    id_column: str  # the live file's id column, also the submission's id header
    prediction_column: str  # the header of the uploaded value column
    rules: SubmissionRules
    upload: UploadCalls
    # Classic features are integers 0-4 (kept as int8); Signals and Crypto ship floats.
    integer_features: bool
    churn_gate: bool  # Numerai zeroes the stake above 15 % churn / 25 % turnover
    typical_live_rows: int = 6_720  # for cost estimates (shards, plan): ~rows per round
    own_data: bool = False  # models may read the user's own table (bring your own data)

    def live_file(self, data_version: str) -> str:
        """The dataset name of the live file, e.g. ``signals/v2.1/live.parquet``."""
        return f"{self.data_prefix}{data_version}/live.parquet"

    def dataset(self, data_version: str, filename: str) -> str:
        """Any file of a data version, e.g. ``crypto/v2.0/train.parquet``."""
        return f"{self.data_prefix}{data_version}/{filename}"

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Tournament({self.name})"


CLASSIC = Tournament(
    name="classic",
    id=8,
    data_prefix="",
    default_data_version="v5.3",
    id_column="id",
    prediction_column="prediction",
    rules=SubmissionRules(("id",), ("prediction", "probability"), 1, every_live_id=True),
    upload=CLASSIC_UPLOAD,
    integer_features=True,
    churn_gate=False,
)
SIGNALS = Tournament(
    name="signals",
    id=11,
    data_prefix="signals/",
    default_data_version="v2.1",
    id_column="numerai_ticker",
    prediction_column="signal",
    rules=SubmissionRules(
        ("numerai_ticker", "ticker", "sedol", "bloomberg_ticker", "composite_figi"),
        ("signal", "prediction"),
        100,
        every_live_id=False,
        dropped_columns=("data_type",),
        date_columns=("friday_date", "date"),
    ),
    upload=SIGNALS_UPLOAD,
    integer_features=False,
    churn_gate=True,
    typical_live_rows=5_000,
    own_data=True,
)
CRYPTO = Tournament(
    name="crypto",
    id=12,
    data_prefix="crypto/",
    default_data_version="v2.0",
    id_column="symbol",
    prediction_column="signal",
    rules=SubmissionRules(("symbol",), ("signal", "prediction"), 100, every_live_id=False),
    upload=CLASSIC_UPLOAD,
    integer_features=False,
    churn_gate=True,
    typical_live_rows=500,
    own_data=True,
)

TOURNAMENTS: dict[str, Tournament] = {t.name: t for t in (CLASSIC, SIGNALS, CRYPTO)}
BY_ID: dict[int, Tournament] = {t.id: t for t in TOURNAMENTS.values()}


def tournament(value: str | int | None) -> Tournament:
    """The tournament named (``"signals"``) or numbered (``11``, ``"11"``); None is Classic."""
    if value is None or value == "":
        return CLASSIC
    if isinstance(value, bool):
        raise ConfigError(f"tournament must be one of {', '.join(TOURNAMENTS)}, got {value!r}")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        found = BY_ID.get(int(value))
    elif isinstance(value, str):
        found = TOURNAMENTS.get(value.strip().lower())
    else:
        found = None
    if found is None:
        raise ConfigError(
            f"unknown tournament {value!r}: use one of {', '.join(TOURNAMENTS)} "
            f"({', '.join(str(t.id) for t in TOURNAMENTS.values())})"
        )
    return found
