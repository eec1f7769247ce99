"""Feature neutralization of one era's predictions, exactly as numerai-tools does it.

numerai-tools' ``scoring.neutralize`` is the oracle (tests compare against it); it is not
imported here because it pulls pandas, scikit-learn and scipy into the Lambda package. Its
arithmetic: an intercept column is appended to the exposures, the least-squares fit is
``np.linalg.lstsq(..., rcond=1e-6)``, and ``proportion`` times the fitted part is
subtracted. The fit here comes from the normal equations where the matrix is well
conditioned (the same projection, to ~1e-12, many times faster: see
:func:`normal_equation_coefficients`), else from that very ``lstsq`` call.

numerai-tools refuses NaN exposures (it asserts). Numerai's data marks missing values with
the middle value (2 of 0..4) and only sometimes with NaN, so a NaN here takes its column's
mean over the era: a value that neither adds nor removes exposure to that column.
"""

from __future__ import annotations

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


def design_matrix(exposures: np.ndarray) -> np.ndarray:
    """``exposures`` (rows x k, NaN for missing) as the (rows x k+1) float64 least-squares
    matrix: NaN filled (see :func:`fill_missing_in_place`) and numerai-tools' column of ones
    appended. One copy of the exposures, not one per step."""
    rows, width = exposures.shape
    design = np.empty((rows, width + 1), dtype=np.float64)
    design[:, :width] = exposures
    design[:, width] = 1.0
    fill_missing_in_place(design[:, :width])
    return design


def fill_missing_in_place(matrix: np.ndarray) -> None:
    """Replace each NaN of ``matrix`` (float) by its column's mean (0 if the column is all
    NaN), a block of columns at a time."""
    for first in range(0, matrix.shape[1], FILL_COLUMNS):
        block = matrix[:, first : first + FILL_COLUMNS]
        missing = np.isnan(block)
        if not missing.any():
            continue
        counts = (~missing).sum(axis=0)
        sums = np.where(missing, 0.0, block).sum(axis=0)
        means = np.divide(sums, counts, out=np.zeros(block.shape[1]), where=counts > 0)
        rows, cols = np.nonzero(missing)
        block[rows, cols] = means[cols]


def fill_missing(exposures: np.ndarray) -> np.ndarray:
    """``exposures`` as float64 with each NaN replaced by its column's mean (0 if all NaN)."""
    filled = np.array(exposures, dtype=np.float64, copy=True)
    fill_missing_in_place(filled)
    return filled


def neutralize(predictions: np.ndarray, exposures: np.ndarray, proportion: float) -> np.ndarray:
    """One era's predictions with ``proportion`` of their linear exposure to ``exposures`` removed.

    ``predictions``: shape (rows,) or (rows, k); ``exposures``: (rows, features), NaN allowed
    (filled with the column mean, see the module's docstring). Returns float64 of
    ``predictions``' shape. A prediction column with zero spread comes back all NaN, as in
    numerai-tools. ``numerai_tools.scoring.neutralize(df, neutralizers, proportion)`` gives
    the same numbers on NaN-free input.
    """
    features = np.asarray(exposures)
    if features.ndim != 2:
        raise ValueError(f"exposures must be rows x columns, got shape {features.shape}")
    return neutralize_design(predictions, design_matrix(features), proportion)


def neutralize_design(predictions: np.ndarray, design: np.ndarray, proportion: float) -> np.ndarray:
    """:func:`neutralize` with the least-squares matrix already built (:func:`design_matrix`)."""
    values = np.asarray(predictions, dtype=np.float64)
    single = values.ndim == 1
    matrix = values.reshape(-1, 1) if single else values
    if np.isnan(matrix).any():
        raise ValueError("predictions contain NaN: neutralization needs a value for every row")
    if design.shape[0] != matrix.shape[0]:
        raise ValueError(
            f"exposures must have one row per prediction ({matrix.shape[0]}), got {design.shape[0]}"
        )
    if matrix.shape[0] > 1:
        flat = np.std(matrix, axis=0, ddof=1) == 0
        if flat.any():
            matrix = matrix.copy()
            matrix[:, flat] = np.nan
    coefficients = normal_equation_coefficients(design, matrix)
    if coefficients is None:  # ill-conditioned or rank-deficient: numerai-tools' own solver
        coefficients = np.linalg.lstsq(design, matrix, rcond=RCOND)[0]
    neutral = matrix - proportion * design.dot(coefficients)
    return neutral[:, 0] if single else neutral


def normal_equation_coefficients(design: np.ndarray, matrix: np.ndarray) -> np.ndarray | None:
    """The least-squares coefficients from the normal equations, or None where they cannot be
    trusted to give numerai-tools' projection (a singular or ill-conditioned matrix).

    Why not always ``lstsq``: its SVD of a 6,720 x 2,749 matrix takes tens of seconds; the
    Gram matrix and its inverse take a few (benchmarks/neutralization.py). The condition
    number is estimated by power iteration on the Gram matrix and its inverse, with a
    tenfold margin below numerai-tools' ``RCOND`` cut; one step of iterative refinement
    then brings the fit to the SVD's accuracy.
    """
    gram = design.T @ design
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
    coefficients = inverse @ (design.T @ matrix)
    residual = matrix - design @ coefficients
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
