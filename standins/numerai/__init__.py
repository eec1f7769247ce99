"""A local stand-in of Numerai's tournament GraphQL API, for tests and demos.

In-process: ``with NumeraiStandin(data_dir) as standin: ...``; as a process:
``python -m standins.numerai --port 8765 --data DIR``. Point numerapi at it with
``numerapi.base_api.API_TOURNAMENT_URL = standin.url``.
"""

from standins.numerai.client import StandinAdmin, StandinAdminError
from standins.numerai.server import (
    DEFAULT_MODELS,
    DEFAULT_PUBLIC_ID,
    DEFAULT_ROUND,
    DEFAULT_SECRET_KEY,
    NumeraiStandin,
    model_id_for,
)

__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_PUBLIC_ID",
    "DEFAULT_ROUND",
    "DEFAULT_SECRET_KEY",
    "NumeraiStandin",
    "StandinAdmin",
    "StandinAdminError",
    "model_id_for",
]
