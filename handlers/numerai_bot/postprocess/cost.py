"""What a model's post-processing adds to its round: seconds and peak memory, for
``numerai-bot plan`` (and anyone sizing the worker).

Neutralization dominates: the worker builds the rows x (columns + 1) float64 least-squares
matrix, its Gram matrix (``2·rows·n²`` floating-point operations for n = columns + 1) and
the Gram matrix's inverse with a condition estimate (``~2·n³``), and holds those three
matrices. The rates and overhead below fit ``benchmarks/neutralization.py``'s figures
(docs/post-processing.md: all 2,748 features x 6,720 rows, 9.1 s and +403 MiB; x 67,200
rows, 46 s and +1,722 MiB; 2-core x86_64 VM shared with other work, CPython 3.12).
Ranking and blending cost under a millisecond per model; a blended model's own prediction
costs what that model costs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from numerai_bot.postprocess.spec import ALL_FEATURES, Neutralization

if TYPE_CHECKING:
    from numerai_bot.models_config import ModelConfig
    from numerai_bot.tournaments import Tournament

# Floating-point operations per second (2 cores): the Gram matrix, and its inverse.
GRAM_FLOPS_PER_SECOND = 2.5e10
INVERSE_FLOPS_PER_SECOND = 8e9
# Peak memory beside the three matrices (BLAS buffers, a batch of converted rows).
NEUTRALIZE_OVERHEAD_MIB = 150.0
# Columns of a feature set, where features.json is not at hand (Numerai's v5.x sizes);
# an unknown set counts as every feature.
TYPICAL_SET_COLUMNS = {"small": 42, "medium": 780, "quantum": 807, ALL_FEATURES: 2_748}
TYPICAL_ALL_COLUMNS = {"classic": 2_748, "signals": 48, "crypto": 24}


def neutralized_columns(neutralization: Neutralization, tournament: Tournament) -> int:
    """How many columns the model is neutralized against (typical sizes for named sets)."""
    against = neutralization.against
    if isinstance(against, tuple):
        return len(against)
    every = TYPICAL_ALL_COLUMNS.get(tournament.name, TYPICAL_SET_COLUMNS[ALL_FEATURES])
    if against == ALL_FEATURES or tournament.name != "classic":
        return every
    return TYPICAL_SET_COLUMNS.get(against, every)


def neutralize_seconds(rows: int, columns: int) -> float:
    """Seconds to neutralize one era of ``rows`` against ``columns`` columns."""
    n = columns + 1
    return 2.0 * rows * n * n / GRAM_FLOPS_PER_SECOND + 2.0 * n**3 / INVERSE_FLOPS_PER_SECOND


def neutralize_mib(rows: int, columns: int) -> float:
    """Peak memory the neutralization adds: the float64 matrix, its Gram matrix and inverse."""
    n = columns + 1
    return (rows * n + 2 * n * n) * 8 / 2**20 + NEUTRALIZE_OVERHEAD_MIB


def postprocess_seconds(
    config: ModelConfig, model_seconds: Callable[[ModelConfig], float]
) -> float:
    """Seconds the model's post-processing adds to its round on 2 vCPUs: its neutralization,
    and each blended model's whole cost (``model_seconds``), which the worker predicts
    again unless it has that model's predictions this round already."""
    post = config.postprocess
    seconds = 0.0
    if post.neutralization is not None:
        rows = config.tournament.typical_live_rows
        columns = neutralized_columns(post.neutralization, config.tournament)
        seconds += neutralize_seconds(rows, columns)
    return seconds + sum(model_seconds(p.model) for p in post.blend if p.model is not None)


def postprocess_mib(config: ModelConfig) -> float:
    """Peak memory the model's neutralization, or a blended model's, adds."""
    post = config.postprocess
    own = 0.0
    if post.neutralization is not None:
        rows = config.tournament.typical_live_rows
        own = neutralize_mib(rows, neutralized_columns(post.neutralization, config.tournament))
    return max([own, *(postprocess_mib(p.model) for p in post.blend if p.model is not None)])
