"""What a model's post-processing adds to its round: seconds and peak memory, for
``numerai-bot plan`` (and anyone sizing the worker).

Neutralization dominates: the worker builds the rows x (columns + 1) float64 least-squares
matrix, its Gram matrix and inverse (``neutralize.normal_equation_coefficients``), about
``2·rows·n² + 2·n³`` floating-point operations for n = columns + 1. The rate below is
measured by ``benchmarks/neutralization.py`` (all 2,748 features x 6,720 rows: 10.7 s on a
2-core x86_64 VM shared with other work, CPython 3.12, numpy 2.5, OpenBLAS on both cores).
Ranking and blending cost under a millisecond per model; a blended model's own prediction
costs what that model costs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from numerai_bot.postprocess.spec import ALL_FEATURES, Neutralization

if TYPE_CHECKING:
    from numerai_bot.tournaments import Tournament

# Floating-point operations per second of the Gram matrix and its inverse (2 cores).
NEUTRALIZE_FLOPS_PER_SECOND = 1.4e10
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
    return (2.0 * rows * n * n + 2.0 * n**3) / NEUTRALIZE_FLOPS_PER_SECOND


def neutralize_mib(rows: int, columns: int) -> float:
    """Peak memory the neutralization adds: the float64 matrix, its Gram matrix and inverse."""
    n = columns + 1
    return (rows * n + 2 * n * n) * 8 / 2**20
