"""Numerai's three tournaments as the stand-in serves them: one small value each.

Everything that differs between Classic (8), Signals (11) and Crypto (12) is here: the
round numbers the stand-in starts at, which upload calls a tournament's models use, the
webhook's ``dataVersion``, the data shape (Signals and Crypto; Classic keeps its own
:class:`~standins.numerai.datasets.DataStore`) and the submission rules. The service reads
these values and never branches on a tournament's number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from standins import synthetic_tournaments
from standins.numerai import signals_validation, validation
from standins.synthetic_tournaments import TournamentData

CLASSIC_ID = 8
SIGNALS_ID = 11
CRYPTO_ID = 12

# Validator: (CSV bytes, live id sets, round number) -> rows accepted. The sets are per data
# version for Classic and per id column for Signals and Crypto (``DataSource.live_id_sets``).
Validator = Callable[[bytes, dict[str, frozenset[str]], int], int]


class UnknownTournament(ValueError):
    """A tournament number (or name) the stand-in does not serve."""


@dataclass(frozen=True)
class UploadCalls:
    """The GraphQL root fields of one upload: auth (→ PUT) then create."""

    auth: str
    create: str


CLASSIC_CALLS = UploadCalls("submission_upload_auth", "create_submission")
SIGNALS_CALLS = UploadCalls("submissionUploadSignalsAuth", "createSignalsSubmission")


@dataclass(frozen=True)
class TournamentSpec:
    """One tournament: its id, first round, upload calls, webhook data version, data, rules."""

    id: int
    name: str
    default_round: int
    calls: UploadCalls
    webhook_data_version: int
    validate: Validator
    shape: TournamentData | None  # None: Classic's versioned DataStore


def _validate_classic(content: bytes, id_sets: dict[str, frozenset[str]], round_number: int) -> int:
    """Classic: every live id of the best-matching data version, once."""
    live_ids = validation.best_matching_ids(content, id_sets)
    return validation.validate_submission(content, live_ids, round_number)


CLASSIC = TournamentSpec(
    id=CLASSIC_ID,
    name="Classic",
    default_round=1100,
    calls=CLASSIC_CALLS,
    webhook_data_version=5,
    validate=_validate_classic,
    shape=None,
)
SIGNALS = TournamentSpec(
    id=SIGNALS_ID,
    name="Signals",
    default_round=700,
    calls=SIGNALS_CALLS,
    webhook_data_version=2,
    validate=signals_validation.validator(signals_validation.SIGNALS_RULES),
    shape=synthetic_tournaments.SIGNALS,
)
CRYPTO = TournamentSpec(
    id=CRYPTO_ID,
    name="Crypto",
    default_round=300,
    calls=CLASSIC_CALLS,
    webhook_data_version=2,
    validate=signals_validation.validator(signals_validation.CRYPTO_RULES),
    shape=synthetic_tournaments.CRYPTO,
)
SPECS: dict[int, TournamentSpec] = {spec.id: spec for spec in (CLASSIC, SIGNALS, CRYPTO)}


def spec_for(tournament: int | str | None) -> TournamentSpec:
    """The tournament numbered (``11``, ``"11"``) or named (``"signals"``); None is Classic."""
    if tournament is None:
        return CLASSIC
    if isinstance(tournament, str) and not tournament.strip().isdigit():
        by_name = {spec.name.lower(): spec for spec in SPECS.values()}
        found = by_name.get(tournament.strip().lower())
    else:
        found = SPECS.get(int(tournament))
    if found is None:
        served = ", ".join(f"{s.name} is {s.id}" for s in SPECS.values())
        raise UnknownTournament(
            f"Tournament {tournament} is not served by this stand-in ({served})"
        )
    return found
