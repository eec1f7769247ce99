"""A local stand-in of Numerai's tournament GraphQL API, for tests and demos.

In-process: ``with NumeraiStandin(data_dir) as standin: ...``; as a process:
``python -m standins.numerai --port 8765 --data DIR``. Point numerapi at it with
``numerapi.base_api.API_TOURNAMENT_URL = standin.url``. Classic (8), Signals (11) and
Crypto (12) are served side by side; ``standin.create_model("sig", tournament=11)`` adds a
Signals model and ``standin.open_round(tournament=11)`` opens Signals' next round.
"""

from standins.numerai.app import (
    DEFAULT_MODELS,
    DEFAULT_PUBLIC_ID,
    DEFAULT_ROUND,
    DEFAULT_SECRET_KEY,
    DEFAULT_TOURNAMENT_ROUNDS,
    model_id_for,
)
from standins.numerai.client import StandinAdmin, StandinAdminError
from standins.numerai.provided_data import TournamentSizes
from standins.numerai.server import NumeraiStandin

__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_PUBLIC_ID",
    "DEFAULT_ROUND",
    "DEFAULT_SECRET_KEY",
    "DEFAULT_TOURNAMENT_ROUNDS",
    "NumeraiStandin",
    "StandinAdmin",
    "StandinAdminError",
    "TournamentSizes",
    "model_id_for",
]
