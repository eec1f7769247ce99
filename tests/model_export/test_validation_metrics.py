"""validate's figures equal numerai-tools computed directly on the same rows.

The reference below is written the plain pandas way a participant would: read the files,
group by era, predict, call numerai_tools.scoring on id-indexed frames. It shares no code with
model_export's wiring (era grouping, id alignment, NaN handling, neutralization), so any
difference is a wiring bug. The largest difference per metric and tournament is printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from numerai_tools import scoring

from model_export.cli.program import main
from model_export.metadata import read_metadata
from model_export.validate import read_references, validate_file
from numerai_bot.postprocess.spec import Neutralization
from standins import synthetic_tournaments as synthetic
from standins.synthetic_data import write_dataset

pytestmark = pytest.mark.slow  # each trains a small model first (~10 s)

TOLERANCE = 1e-12
NEUTRALIZE = Neutralization(proportion=0.5, against="small")


@pytest.fixture(scope="module")
def classic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Classic data with its meta model and benchmark files, and a model trained on it."""
    root = tmp_path_factory.mktemp("classic")
    version = write_dataset(
        root, "v5.2", seed=3, live_rows=600, n_features=60, train_eras=30,
        validation_eras=6, rows_per_era=250,
    )  # fmt: skip
    onnx_path = root / "m.onnx"
    argv = [
        "train", "--data-dir", str(root), "--n-estimators", "20", "-o", str(onnx_path),
        "--quiet", "--parity-rows", "400",
    ]  # fmt: skip
    assert main(argv) == 0
    return {"dir": version, "onnx": onnx_path}


def _predict(onnx_path: Path, rows: pd.DataFrame) -> np.ndarray:
    meta = read_metadata(onnx_path)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    dtype = np.float64 if inputs[0].type == "tensor(double)" else np.float32
    numeric = [f for f in meta.features if f not in meta.string_features]
    feeds = {inputs[0].name: rows[numeric].astype(dtype).to_numpy()}
    if meta.string_features:
        strings = rows[list(meta.string_features)].astype(object).where(rows.notna(), "")
        feeds[inputs[1].name] = strings.to_numpy(dtype=object).astype(str)
    return np.asarray(session.run(None, feeds)[0], dtype=np.float64).ravel()


def _reference(
    onnx_path: Path,
    frame: pd.DataFrame,
    era_column: str,
    target: str,
    meta_model: pd.Series | None,
    benchmark: pd.Series | None,
    neutralize_against: list[str] | None,
) -> dict[str, pd.Series]:
    """Per-era figures by pandas and numerai-tools, nothing of model_export's wiring."""
    meta = read_metadata(onnx_path)
    numeric = [f for f in meta.features if f not in meta.string_features]
    figures: dict[str, dict[str, float]] = {m: {} for m in ("corr", "mmc", "bmc", "fnc", "fe")}
    for era, rows in frame.groupby(era_column):
        rows = rows[rows[target].notna()].sort_index()
        p = pd.Series(_predict(onnx_path, rows), index=rows.index, name="p")
        if neutralize_against is not None:
            against = rows[neutralize_against].astype("float64")
            p = _neutralized_as_numerai(p, against, NEUTRALIZE.proportion)
        p = p.rank(pct=True)
        y = rows[target].astype("float64")
        features = rows[numeric].astype("float64")
        features = features.fillna(features.mean())
        figures["corr"][era] = scoring.numerai_corr(p.to_frame(), y)["p"]
        if meta_model is not None:
            mm = meta_model.reindex(rows.index)
            figures["mmc"][era] = scoring.correlation_contribution(p.to_frame(), mm, y)["p"]
        if benchmark is not None:
            bm = benchmark.reindex(rows.index)
            figures["bmc"][era] = scoring.correlation_contribution(p.to_frame(), bm, y)["p"]
        figures["fnc"][era] = scoring.feature_neutral_corr(p.to_frame(), features, y)["p"]
        figures["fe"][era] = scoring.max_feature_correlation(p, features)[1]
    return {name: pd.Series(values, dtype="float64") for name, values in figures.items()}


def _neutralized_as_numerai(p: pd.Series, against: pd.DataFrame, proportion: float) -> pd.Series:
    """numerai-tools' ``neutralize`` on the rows without gaps (its scoring drops the others),
    its fit carried to the rows with gaps, each gap read as its column's mean."""
    complete = against.notna().all(axis=1).to_numpy()
    out = p.copy()
    out[complete] = scoring.neutralize(
        p[complete].to_frame(), against[complete], proportion=proportion
    )["p"]
    design = np.hstack([against.fillna(against.mean()).to_numpy(), np.ones((len(p), 1))])
    fit = np.linalg.lstsq(design[complete], p.to_numpy()[complete], rcond=1e-6)[0]
    out[~complete] = (p.to_numpy() - proportion * design @ fit)[~complete]
    return out


def _compare(result, reference: dict[str, pd.Series], variant: str, label: str) -> None:
    names = {"corr": "corr", "mmc": "mmc", "bmc": "bmc", "fnc": "fnc", "fe": "feature_exposure"}
    summaries = result.summaries()[variant]
    for short, name in names.items():
        expected = reference[short]
        ours = pd.Series(result.per_era[variant][name], index=result.eras).dropna()
        if expected.empty:
            assert ours.empty, f"{label} {name}: no reference, but figures"
            print(f"{label} {variant:11} {name:16} not available (no reference data)")
            continue
        assert list(ours.index) == [str(e) for e in expected.index], name
        per_era = float(np.max(np.abs(ours.to_numpy() - expected.to_numpy())))
        s = summaries[name]
        cumulative = expected.cumsum()
        drawdown = float((cumulative.expanding(min_periods=1).max() - cumulative).max())
        summary = max(
            abs(s.mean - expected.mean()),
            abs(s.sharpe - scoring.sharpe_ratio(expected)),
            abs(s.max_drawdown - drawdown),
        )
        print(f"{label} {variant:11} {name:16} max |diff| {per_era:.1e}, summary {summary:.1e}")
        assert per_era < TOLERANCE and summary < TOLERANCE, (label, variant, name)


def test_classic_figures_equal_numerai_tools(classic) -> None:
    folder = classic["dir"]
    meta = read_metadata(classic["onnx"])
    result = validate_file(
        classic["onnx"], folder / "validation.parquet", neutralization=NEUTRALIZE
    )
    frame = pd.read_parquet(folder / "validation.parquet")
    meta_model = pd.read_parquet(folder / "meta_model.parquet")["numerai_meta_model"]
    benchmarks = pd.read_parquet(folder / "validation_benchmark_models.parquet")
    assert result.references == {
        "meta model": "numerai_meta_model",
        "benchmark": benchmarks.columns[0],
    }
    benchmark = benchmarks[benchmarks.columns[0]]
    small = json.loads((folder / "features.json").read_text())["feature_sets"]["small"]
    plain = _reference(classic["onnx"], frame, "era", meta.target, meta_model, benchmark, None)
    _compare(result, plain, "model", "classic")
    neutral = _reference(classic["onnx"], frame, "era", meta.target, meta_model, benchmark, small)
    _compare(result, neutral, "neutralized", "classic")


def test_meta_model_for_only_some_eras_scores_mmc_there_only(classic, tmp_path) -> None:
    folder = classic["dir"]
    meta_model = pd.read_parquet(folder / "meta_model.parquet")
    eras = pd.read_parquet(folder / "validation.parquet", columns=["era"])["era"]
    later = meta_model[eras.reindex(meta_model.index) >= "0034"]  # the last 3 of 6 eras
    partial = tmp_path / "meta_model.parquet"
    later.to_parquet(partial)
    references = read_references(folder / "validation.parquet", meta_model=partial)
    result = validate_file(classic["onnx"], folder / "validation.parquet", references=references)
    mmc = result.per_era["model"]["mmc"]
    assert np.isnan(mmc[:3]).all() and np.isfinite(mmc[3:]).all()
    assert result.summaries()["model"]["mmc"].eras == 3


@pytest.fixture(
    scope="module", params=[synthetic.SIGNALS, synthetic.CRYPTO], ids=lambda t: t.tournament
)
def own_data_tournament(request, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Signals or Crypto data (no meta model or benchmark files: Numerai ships none for
    their validation data) and a model trained on it."""
    shape = request.param
    root = tmp_path_factory.mktemp(shape.tournament)
    synthetic.write_dataset(root, shape, ids_per_era=150, train_eras=10, validation_eras=4)
    onnx_path = root / "m.onnx"
    argv = [
        "train", "--tournament", shape.tournament, "--data-dir", str(root),
        "--n-estimators", "20", "-o", str(onnx_path), "--quiet", "--parity-rows", "300",
    ]  # fmt: skip
    assert main(argv) == 0
    return {"dir": root / shape.folder, "onnx": onnx_path, "shape": shape}


def test_signals_and_crypto_figures_equal_numerai_tools(own_data_tournament) -> None:
    folder, shape = own_data_tournament["dir"], own_data_tournament["shape"]
    onnx_path = own_data_tournament["onnx"]
    result = validate_file(onnx_path, folder / "validation.parquet")
    assert any("no MMC" in note for note in result.notes)
    assert any("no BMC" in note for note in result.notes)
    frame = pd.read_parquet(folder / "validation.parquet").set_index(shape.id_column)
    frame.index.name = "id"
    target = read_metadata(onnx_path).target
    reference = _reference(onnx_path, frame, "date", target, None, None, None)
    _compare(result, reference, "model", shape.tournament)


def test_the_cli_scores_before_and_after_the_models_neutralization(classic, capsys) -> None:
    argv = ["validate", str(classic["onnx"]), "--data", str(classic["dir"] / "validation.parquet")]
    value = '{"proportion": 0.5, "against": "small"}'
    assert main([*argv, "--no-plot", "--quiet", "--neutralize", value]) == 0
    out = capsys.readouterr().out
    assert "as submitted (ranked):" in out and "after the model's neutralization:" in out
    assert out.count("MMC (meta model)") == 2 and "benchmark v52_lgbm_" in out


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"proportion": 2}', "must be a number in (0, 1]"),
        ("{proportion: 0.5}", "--neutralize is not JSON"),
        ('{"proportion": 0.5, "against": "huge"}', "cannot read feature set 'huge'"),
    ],
)
def test_a_wrong_neutralize_value_is_one_clear_line(classic, value, message, capsys) -> None:
    argv = ["validate", str(classic["onnx"]), "--data", str(classic["dir"] / "validation.parquet")]
    assert main([*argv, "--no-plot", "--quiet", "--neutralize", value]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ") and message in line
