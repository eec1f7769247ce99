"""Neutralization matches numerai-tools' ``neutralize`` on Classic, Signals and Crypto eras."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numerai_tools.scoring import neutralize as numerai_neutralize

from numerai_bot.postprocess.neutralize import (
    design_matrix,
    fill_missing,
    neutralize,
    neutralize_design,
    normal_equation_coefficients,
)
from standins import synthetic_data, synthetic_tournaments

TOLERANCE = 1e-9


def _classic_era(features: int) -> np.ndarray:
    universe = synthetic_data.make_universe(seed=3, n_features=features)
    frame = synthetic_data.make_frame(
        universe, 1_200, np.random.default_rng(3), ["0001"], "live", False
    )
    return frame[list(universe.features)].astype("float64").to_numpy()


def _tournament_era(shape: synthetic_tournaments.TournamentData) -> np.ndarray:
    ids = synthetic_tournaments.universe(shape, 0)
    frame = synthetic_tournaments.make_frame(
        shape, ids, ["2026-01-02"], np.random.default_rng(5), 0, False
    )
    numeric = [c for c in synthetic_tournaments.feature_names(shape) if c.startswith("feature_")]
    numeric = [c for c in numeric if c not in shape.string_features]
    return frame[numeric].to_numpy(dtype=np.float64)


ERAS = {
    "classic": lambda: _classic_era(120),
    "signals": lambda: _tournament_era(synthetic_tournaments.SIGNALS),
    "crypto": lambda: _tournament_era(synthetic_tournaments.CRYPTO),
}


def numerai_tools_way(predictions: np.ndarray, exposures: np.ndarray, proportion: float):
    """What Numerai's code gives: on the complete rows, numerai-tools' ``neutralize`` of
    those rows (its scoring drops rows with a missing value); on the others, the same fit
    applied with each missing value read as its column's mean."""
    complete = ~np.isnan(exposures).any(axis=1)
    theirs = numerai_neutralize(
        pd.DataFrame({"p": predictions[complete]}), pd.DataFrame(exposures[complete]), proportion
    )["p"].to_numpy()
    design = np.hstack((fill_missing(exposures), np.ones((len(exposures), 1))))
    fit = np.linalg.lstsq(design[complete], predictions[complete], rcond=1e-6)[0]
    extended = predictions - proportion * design @ fit
    return complete, theirs, extended


@pytest.mark.parametrize("tournament", sorted(ERAS))
@pytest.mark.parametrize("proportion", [1.0, 0.5])
def test_live_era_is_neutralized_as_numerai_tools_does(tournament: str, proportion: float) -> None:
    exposures = ERAS[tournament]()
    assert np.isnan(exposures).any(), "the era should carry missing features, as Numerai's do"
    rng = np.random.default_rng(11)
    predictions = rng.random(len(exposures)) + 0.3 * np.nan_to_num(exposures[:, 0])
    ours = neutralize(predictions, exposures, proportion)
    complete, theirs, extended = numerai_tools_way(predictions, exposures, proportion)
    difference = float(np.max(np.abs(ours[complete] - theirs)))
    rest = float(np.max(np.abs(ours[~complete] - extended[~complete])))
    print(
        f"{tournament} p={proportion}: max |ours - numerai_tools| = {difference:.2e} on "
        f"{complete.sum()} complete rows, {rest:.2e} on {(~complete).sum()} with gaps"
    )
    assert difference < TOLERANCE and rest < TOLERANCE


def test_full_neutralization_leaves_no_exposure() -> None:
    exposures = ERAS["crypto"]()
    predictions = np.nan_to_num(exposures[:, :3]).sum(axis=1) + np.random.default_rng(1).random(
        len(exposures)
    )
    neutral = neutralize(predictions, exposures, 1.0)
    complete = ~np.isnan(exposures).any(axis=1)
    kept = exposures[complete]
    centred = kept - kept.mean(axis=0)
    assert np.max(np.abs(centred.T @ neutral[complete])) < 1e-8


def test_missing_feature_takes_its_column_mean() -> None:
    exposures = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 6.0]])
    assert fill_missing(exposures).tolist() == [[1.0, 5.0], [3.0, 4.0], [2.0, 6.0]]


def test_numerai_tools_refuses_missing_features_so_they_are_filled_first() -> None:
    exposures = ERAS["signals"]()
    predictions = pd.DataFrame({"p": np.arange(len(exposures), dtype=float)})
    with pytest.raises(AssertionError, match="NaN"):
        numerai_neutralize(predictions, pd.DataFrame(exposures), 1.0)
    assert np.isfinite(neutralize(predictions["p"].to_numpy(), exposures, 1.0)).all()


def test_a_column_with_no_values_leaves_no_row_to_fit() -> None:
    exposures = ERAS["crypto"]().copy()
    exposures[:, 1] = np.nan
    with pytest.raises(ValueError, match="only 0 of 500 rows"):
        neutralize(np.arange(500.0), exposures, 1.0)


def test_too_few_complete_rows_to_fit_is_a_clear_error() -> None:
    exposures = np.random.default_rng(0).normal(size=(50, 10))
    exposures[5:, 3] = np.nan
    with pytest.raises(ValueError, match="only 5 of 50 rows have a value in every one"):
        neutralize(np.arange(50.0), exposures, 1.0)


def test_flat_predictions_come_back_missing_as_in_numerai_tools() -> None:
    exposures = ERAS["crypto"]()
    assert np.isnan(neutralize(np.full(len(exposures), 0.5), exposures, 1.0)).all()


def _difference(predictions: np.ndarray, exposures: np.ndarray) -> float:
    ours = neutralize(predictions, exposures, 1.0)
    complete, theirs, extended = numerai_tools_way(predictions, exposures, 1.0)
    return max(
        float(np.max(np.abs(ours[complete] - theirs))),
        float(np.max(np.abs(ours[~complete] - extended[~complete]), initial=0.0)),
    )


def test_a_well_conditioned_era_takes_the_fast_normal_equations() -> None:
    exposures = ERAS["classic"]()
    found = design_matrix(exposures)
    predictions = np.random.default_rng(2).random(len(exposures)).reshape(-1, 1)
    assert normal_equation_coefficients(found.design, predictions, found.complete) is not None


@pytest.mark.parametrize(
    "defect",
    ["duplicate column", "constant column", "nearly duplicate column"],
)
def test_rank_deficient_era_is_neutralized_as_numerai_tools_does(defect: str) -> None:
    exposures = ERAS["crypto"]().copy()
    rng = np.random.default_rng(4)
    if defect == "duplicate column":
        exposures[:, 1] = exposures[:, 0]
    elif defect == "constant column":
        exposures[:, 1] = 3.0
    else:  # within numerai-tools' rcond: it drops this direction, so must we
        filled = fill_missing(exposures)
        exposures[:, 1] = filled[:, 0] + 1e-9 * rng.normal(size=len(exposures))
    predictions = rng.random(len(exposures)) + np.nan_to_num(exposures[:, 1])
    found = design_matrix(exposures)
    column = predictions.reshape(-1, 1)
    assert normal_equation_coefficients(found.design, column, found.complete) is None
    difference = _difference(predictions, exposures)
    print(f"{defect}: max |ours - numerai_tools| = {difference:.2e}")
    assert difference < TOLERANCE


def test_a_prebuilt_matrix_without_gaps_is_fitted_on_every_row() -> None:
    exposures = fill_missing(ERAS["crypto"]())
    predictions = np.random.default_rng(6).random(len(exposures))
    design = np.hstack((exposures, np.ones((len(exposures), 1))))
    assert np.allclose(
        neutralize_design(predictions, design, 1.0), neutralize(predictions, exposures, 1.0)
    )
