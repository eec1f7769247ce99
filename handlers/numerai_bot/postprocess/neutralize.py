"""Feature neutralization of one era's predictions, exactly as numerai-tools does it.

numerai-tools' ``scoring.neutralize`` is the oracle (tests compare against it); it is not
imported here because it pulls pandas, scikit-learn and scipy into the Lambda package. Its
arithmetic: an intercept column is appended to the exposures, the least-squares fit is
``np.linalg.lstsq(..., rcond=1e-6)``, and ``proportion`` times the fitted part is
subtracted. The fit here comes from the normal equations where the matrix is well
conditioned (the same projection, to ~1e-12, many times faster: see
:func:`normal_equation_coefficients`), else from that very ``lstsq`` call.

Missing values (NaN) are handled as Numerai's own scoring code does: numerai-tools refuses
NaN in ``neutralize``, and its metrics that neutralize (``neutral_correlation``) first drop
every row with a missing value (``filter_sort_index_many``). So the fit uses the complete
rows only, and on them the result is numerai-tools' on those rows. A submission needs every
row, so the fitted exposure is also taken out of the incomplete rows, with each missing
value read as its column's mean (a value that adds no exposure of its own).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# numerai_tools.scoring.neutralize's cut-off for small singular values.
RCOND = 1e-6
# The normal equations are trusted below this condition number of the least-squares matrix:
# there its projection is numerai-tools' (whose RCOND cuts nothing) to ~1e-12, and it costs a
# fraction of the SVD (benchmarks/neutralization.py). Above it, numerai-tools' lstsq runs.
NORMAL_EQUATIONS_MAX_CONDITION = 1e5
POWER_ITERATIONS = 100
# Columns whose missing values are filled at a time (bounds the NaN mask's memory).
FILL_COLUMNS = 256


@dataclass(frozen=True)
class Neutralizers:
    """The (rows x k+1) float64 least-squares matrix (missing values filled, numerai-tools'
    column of ones appended) and which rows had no missing value (the rows fitted)."""

    design: np.ndarray
    complete: np.ndarray  # bool, one per row

    @classmethod
    def from_design(cls, design: np.ndarray) -> Neutralizers:
        """``design`` with NaN in its exposure columns (the last one is the ones): filled in
        place, the complete rows noted."""
        complete = ~fill_missing_in_place(design[:, :-1])
        return cls(design, complete)


def design_matrix(exposures: np.ndarray) -> Neutralizers:
    """``exposures`` (rows x k, NaN for missing) as :class:`Neutralizers`: one float64 copy,
    not one per step."""
    rows, width = exposures.shape
    design = np.empty((rows, width + 1), dtype=np.float64)
    design[:, :width] = exposures
    design[:, width] = 1.0
    return Neutralizers.from_design(design)


def fill_missing_in_place(matrix: np.ndarray) -> np.ndarray:
    """Replace each NaN of ``matrix`` (float) by its column's mean (0 if the column is all
    NaN), a block of columns at a time; which rows had a NaN."""
    incomplete = np.zeros(matrix.shape[0], dtype=bool)
    for first in range(0, matrix.shape[1], FILL_COLUMNS):
        block = matrix[:, first : first + FILL_COLUMNS]
        missing = np.isnan(block)
        if not missing.any():
            continue
        incomplete |= missing.any(axis=1)
        counts = (~missing).sum(axis=0)
        sums = np.where(missing, 0.0, block).sum(axis=0)
        means = np.divide(sums, counts, out=np.zeros(block.shape[1]), where=counts > 0)
        rows, cols = np.nonzero(missing)
        block[rows, cols] = means[cols]
    return incomplete


def fill_missing(exposures: np.ndarray) -> np.ndarray:
    """``exposures`` as float64 with each NaN replaced by its column's mean (0 if all NaN)."""
    filled = np.array(exposures, dtype=np.float64, copy=True)
    fill_missing_in_place(filled)
    return filled


def neutralize(predictions: np.ndarray, exposures: np.ndarray, proportion: float) -> np.ndarray:
    """One era's predictions with ``proportion`` of their linear exposure to ``exposures`` removed.

    ``predictions``: shape (rows,) or (rows, k); ``exposures``: (rows, features), NaN allowed
    (see the module's docstring). Returns float64 of ``predictions``' shape. A prediction
    column with zero spread comes back all NaN, as in numerai-tools. On NaN-free input,
    ``numerai_tools.scoring.neutralize(df, neutralizers, proportion)`` gives the same numbers.
    """
    features = np.asarray(exposures)
    if features.ndim != 2:
        raise ValueError(f"exposures must be rows x columns, got shape {features.shape}")
    return neutralize_design(predictions, design_matrix(features), proportion)


def neutralize_design(
    predictions: np.ndarray, neutralizers: Neutralizers | np.ndarray, proportion: float
) -> np.ndarray:
    """:func:`neutralize` with the least-squares matrix already built: :class:`Neutralizers`,
    or a plain matrix without gaps (every row fitted), its last column the ones."""
    values = np.asarray(predictions, dtype=np.float64)
    single = values.ndim == 1
    matrix = values.reshape(-1, 1) if single else values
    if isinstance(neutralizers, np.ndarray):
        neutralizers = Neutralizers(neutralizers, np.ones(neutralizers.shape[0], dtype=bool))
    design, complete = neutralizers.design, neutralizers.complete
    if np.isnan(matrix).any():
        raise ValueError("predictions contain NaN: neutralization needs a value for every row")
    if design.shape[0] != matrix.shape[0]:
        raise ValueError(
            f"exposures must have one row per prediction ({matrix.shape[0]}), got {design.shape[0]}"
        )
    fitted = int(complete.sum())
    if fitted <= design.shape[1] and not complete.all():
        raise ValueError(
            f"only {fitted} of {len(complete)} rows have a value in every one of the "
            f"{design.shape[1] - 1} columns to neutralize against: too few to fit; "
            "neutralize against fewer columns or columns without gaps"
        )
    flat = np.std(matrix[complete], axis=0, ddof=1) == 0
    if flat.any():
        matrix = matrix.copy()
        matrix[:, flat] = np.nan
    coefficients = normal_equation_coefficients(design, matrix, complete)
    if coefficients is None:  # ill-conditioned or rank-deficient: numerai-tools' own solver
        everything = bool(complete.all())
        rows = design if everything else design[complete]
        target = matrix if everything else matrix[complete]
        coefficients = np.linalg.lstsq(rows, target, rcond=RCOND)[0]
    neutral = matrix - proportion * design.dot(coefficients)
    return neutral[:, 0] if single else neutral


def normal_equation_coefficients(
    design: np.ndarray, matrix: np.ndarray, complete: np.ndarray | None = None
) -> np.ndarray | None:
    """The least-squares coefficients over the ``complete`` rows (default: all) from the
    normal equations, or None where they cannot be trusted to give numerai-tools' projection
    (a singular or ill-conditioned matrix).

    Why not always ``lstsq``: its SVD of a 6,720 x 2,749 matrix takes tens of seconds; the
    Gram matrix and its inverse take a few (benchmarks/neutralization.py). The condition
    number is estimated by power iteration on the Gram matrix and its inverse, with a
    tenfold margin below numerai-tools' ``RCOND`` cut; one step of iterative refinement
    then brings the fit to the SVD's accuracy. The incomplete rows (few) are taken out of
    the Gram matrix rather than the complete ones copied out of the design.
    """
    left_out = np.flatnonzero(~complete) if complete is not None else np.empty(0, dtype=int)
    gram = design.T @ design
    rhs = design.T @ matrix
    if len(left_out):
        rows = design[left_out]
        gram -= rows.T @ rows
        rhs -= rows.T @ matrix[left_out]
    try:
        inverse = np.linalg.inv(gram)
    except np.linalg.LinAlgError:
        return None
    if not np.isfinite(inverse).all():
        return None
    # A numerically singular Gram matrix gives an "inverse" that is not positive definite.
    squared = _largest_eigenvalue(gram) * abs(_largest_eigenvalue(inverse))
    if not np.isfinite(squared) or squared > NORMAL_EQUATIONS_MAX_CONDITION**2:
        return None
    coefficients = inverse @ rhs
    residual = matrix - design @ coefficients
    residual[left_out] = 0.0  # the fit is over the complete rows only
    return coefficients + inverse @ (design.T @ residual)


def _largest_eigenvalue(symmetric: np.ndarray) -> float:
    """The eigenvalue of largest magnitude of a symmetric matrix (power iteration)."""
    vector = np.random.default_rng(0).normal(size=symmetric.shape[0])
    value = 0.0
    for _ in range(POWER_ITERATIONS):
        vector /= np.linalg.norm(vector)
        product = symmetric @ vector
        value = float(vector @ product)
        vector = product
    return value
