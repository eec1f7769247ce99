"""Score an exported ONNX file on validation data, era by era, with Numerai's own metrics.

Why from the ONNX file and not the native model: this is what the bot will submit. Rows are
read a group of eras at a time (validation.parquet is ~4 GB; only the file's feature columns,
the era column (Signals/Crypto: ``date``) and the target are read), and the graph runs on one
era per call, as the bot runs it on one live era (an ensemble that ranks inside its graph needs
exactly that). String features are fed to the graph as strings, as the worker feeds them.
Rows already in memory (the user's own table joined to Numerai's targets) are scored the same
way by :func:`validate_table`.

Each era is scored by numerai-tools (:mod:`model_export.era_metrics`): CORR, MMC against the
meta model and BMC against a benchmark model (Classic ships both files beside validation.parquet;
Signals and Crypto ship neither), feature-neutral CORR and max feature exposure; then each
series is summarised (mean, std, Sharpe, max drawdown). The predictions are scored as the
worker submits them: ranked, and, when the model declares a neutralization (``--neutralize``,
models.json's value), a second time after the worker's own neutralize step.

Also warns when the model was trained on eras that overlap the validation eras (the ``train``
command records its training era range in the file's metadata), because the figures are then
optimistic.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from tqdm import tqdm

from model_export.data import DataError, Table, read_rows, require_columns, unique_eras
from model_export.era_metrics import LABELS, METRICS, RISKS, era_rows, score_era
from model_export.metadata import read_metadata
from model_export.parity import onnx_session
from model_export.scoring import Summary, era_sort_key, summarise
from model_export.tournament_data import spec
from numerai_bot.model_metadata import ModelMetadata
from numerai_bot.postprocess.neutralize import design_matrix
from numerai_bot.postprocess.spec import ALL_FEATURES, Neutralization
from numerai_bot.postprocess.steps import Neutralize, Rank
from numerai_bot.tournaments import tournament

ERAS_PER_READ = 25
# At most this many feature values read at a time (float32: ~400 MB): a model on every feature,
# or neutralized against every feature, reads ~2,750 columns of ~5,000 rows an era.
READ_VALUES = 100_000_000
META_MODEL_FILE = "meta_model.parquet"
META_MODEL_COLUMN = "numerai_meta_model"
BENCHMARK_FILE = "validation_benchmark_models.parquet"
FEATURES_FILE = "features.json"
MODEL = "model"  # the variant scored as the worker submits it without neutralization
NEUTRALIZED = "neutralized"  # after the model's own neutralize step


@dataclass(frozen=True)
class References:
    """Predictions the contribution metrics compare with, by id: Numerai's meta model (MMC)
    and one benchmark model (BMC); None where the data version ships none."""

    meta_model: pd.Series | None = None
    benchmark: pd.Series | None = None
    benchmark_name: str | None = None
    notes: tuple[str, ...] = ()

    def by_role(self) -> dict[str, pd.Series]:
        """The references present, under the names :func:`era_rows` takes."""
        found = {"meta_model": self.meta_model, "benchmark": self.benchmark}
        return {name: series for name, series in found.items() if series is not None}


def read_references(
    data_path: Path,
    *,
    meta_model: Path | None = None,
    benchmark_models: Path | None = None,
    benchmark: str | None = None,
) -> References:
    """The meta model and benchmark predictions: the given files, else those beside
    ``data_path`` (Numerai's names); a note for each one missing. ``benchmark`` is the column
    of the benchmark file [its first]."""
    folder = Path(data_path).parent
    notes: list[str] = []
    meta_path = meta_model or folder / META_MODEL_FILE
    meta = _column(meta_path, META_MODEL_COLUMN) if meta_path.is_file() else None
    if meta is None:
        notes.append(f"no MMC: no {META_MODEL_FILE} beside {Path(data_path).name} (--meta-model)")
    bench_path = benchmark_models or folder / BENCHMARK_FILE
    bench = None
    if bench_path.is_file():
        names = [n for n in pq.read_schema(bench_path).names if n not in {"id", "era"}]
        names = [n for n in names if not n.startswith("__index")]
        benchmark = benchmark or (names[0] if names else None)
        if benchmark not in names:
            raise DataError(
                f"{bench_path} has no benchmark column {benchmark!r}: pick one of "
                f"{', '.join(names)} (--benchmark)"
            )
        bench = _column(bench_path, benchmark)
    else:
        benchmark = None
        notes.append(f"no BMC: no {BENCHMARK_FILE} beside {Path(data_path).name} (--benchmarks)")
    return References(meta, bench, benchmark, tuple(notes))


def _column(path: Path, column: str) -> pd.Series:
    """One column of a Numerai predictions file, by id."""
    frame = pd.read_parquet(path, columns=[column])
    if frame.index.name != "id" and "id" in pq.read_schema(path).names:
        frame = pd.read_parquet(path, columns=["id", column]).set_index("id")
    if frame.index.name != "id":
        raise DataError(f"{path} has no id column: cannot align {column} to the rows")
    series = frame[column].astype("float64")
    series.index = series.index.astype(str)
    return series


@dataclass
class ValidationResult:
    """Per-era figures of each metric and variant, their summaries and any warnings."""

    eras: list[str]
    per_era: dict[str, dict[str, np.ndarray]]  # variant → metric → value per era (NaN: none)
    target: str
    rows: int
    references: dict[str, str] = field(default_factory=dict)  # what MMC/BMC compared with
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def scores(self) -> np.ndarray:
        """Per-era CORR of the predictions as submitted."""
        return self.per_era[MODEL]["corr"]

    @property
    def summary(self) -> Summary:
        """Summary of :attr:`scores`."""
        return summarise(self.scores)

    def summaries(self) -> dict[str, dict[str, Summary]]:
        """variant → metric → summary over the eras that have the metric."""
        return {
            variant: {
                name: summarise(values[np.isfinite(values)]) for name, values in metrics.items()
            }
            for variant, metrics in self.per_era.items()
        }

    def figures(self, file_name: str) -> dict[str, Any]:
        """What ``--record`` stores in the file's ``validation`` metadata."""
        figures: dict[str, Any] = {
            "file": file_name,
            "rows": self.rows,
            "target": self.target,
            **self.summary.as_dict(),
            "metrics": {
                variant: {name: s.as_dict(prefix="") for name, s in metrics.items() if s.eras}
                for variant, metrics in self.summaries().items()
            },
        }
        if self.references:
            figures["references"] = dict(self.references)
        if self.eras:
            figures["first_era"], figures["last_era"] = self.eras[0], self.eras[-1]
        if self.warnings:
            figures["warnings"] = list(self.warnings)
        return figures

    def text(self) -> str:
        """The summary table as printed by the CLI."""
        header = (
            f"Validation on {self.rows:,} rows, {len(self.eras)} eras"
            + (f" ({self.eras[0]} … {self.eras[-1]})" if self.eras else "")
            + f", target {self.target}"
            + "".join(f", {role} {name}" for role, name in self.references.items())
            + ":"
        )
        lines = [header]
        for variant, metrics in self.summaries().items():
            title = (
                "as submitted (ranked)" if variant == MODEL else "after the model's neutralization"
            )
            lines.append(f"  {title}:")
            lines.append(
                f"    {'':22} {'mean':>9} {'std':>8} {'Sharpe':>7} {'max drawdown':>12} {'eras':>5}"
            )
            for name, s in metrics.items():
                if not s.eras:
                    continue
                score = " " * 20 if name in RISKS else f"{s.sharpe:+7.3f} {s.max_drawdown:12.5f}"
                lines.append(
                    f"    {LABELS[name]:22} {s.mean:+9.5f} {s.std:8.5f} {score} {s.eras:5d}"
                )
        lines += [f"  ({note})" for note in self.notes]
        lines += [f"WARNING: {warning}" for warning in self.warnings]
        return "\n".join(lines)


def validate_file(
    onnx_path: Path,
    data_path: Path,
    *,
    target: str | None = None,
    era_step: int = 1,
    max_eras: int | None = None,
    plot: Path | None = None,
    progress: bool = False,
    references: References | None = None,
    neutralization: Neutralization | None = None,
) -> ValidationResult:
    """Predict every chosen era of ``data_path`` with the file and score it."""
    metadata = read_metadata(onnx_path)
    target = target or metadata.target
    features = list(metadata.features)
    chosen = tournament(metadata.tournament)
    era_column = spec(chosen).era_column  # "era", or Signals' "date"
    id_column = chosen.id_column
    strings = list(metadata.string_features)
    references = references if references is not None else read_references(data_path)
    against = _neutralizer_names(neutralization, data_path, features, strings)
    extra = [name for name in against if name not in features]
    require_columns(data_path, [*features, *extra, era_column, target, id_column])
    every_era = unique_eras(data_path, era_column)
    eras = chosen_eras(every_era, era_step, max_eras)
    rows_per_era = pq.ParquetFile(data_path).metadata.num_rows / max(len(every_era), 1)
    step = eras_per_read(rows_per_era, len(features) + len(extra))
    scored = _EraScores(onnx_path, metadata, references, neutralization, against)
    with tqdm(total=len(eras), desc="eras", unit="era", disable=not progress) as bar:
        for start in range(0, len(eras), step):
            group = eras[start : start + step]
            table = read_rows(
                data_path,
                [*features, *extra],
                other_columns=[era_column, target, id_column],
                eras=group,
                era_column=era_column,
                string_columns=strings,
                dtype=scored.dtype,
            )
            scored.add(table, era_column, target, group, bar.update, id_column)
    return scored.result(target, plot, onnx_path, str(data_path))


def eras_per_read(rows_per_era: float, columns: int) -> int:
    """How many eras to read at once: :data:`ERAS_PER_READ`, fewer when that many eras'
    columns would exceed :data:`READ_VALUES` values; at least one."""
    values_per_era = max(rows_per_era * columns, 1.0)
    return int(max(1, min(ERAS_PER_READ, READ_VALUES // values_per_era)))


def _neutralizer_names(
    neutralization: Neutralization | None,
    data_path: Path,
    features: Sequence[str],
    strings: Sequence[str],
) -> tuple[str, ...]:
    """The columns the model's neutralization is against, as the worker resolves them:
    every numeric feature of the file, a features.json set beside it, or the listed names."""
    if neutralization is None:
        return ()
    against = neutralization.against
    if isinstance(against, tuple):
        return against
    if against == ALL_FEATURES:
        names = [n for n in pq.read_schema(data_path).names if n.startswith("feature_")]
    else:
        path = Path(data_path).parent / FEATURES_FILE
        try:
            names = json.loads(path.read_text())["feature_sets"][against]
        except (OSError, ValueError, KeyError, TypeError):
            raise DataError(
                f"cannot read feature set {against!r} from {path}: put the data version's "
                "features.json beside the validation file, or list the columns"
            ) from None
    return tuple(n for n in names if n not in set(strings))


def validate_table(
    onnx_path: Path,
    table: Table,
    *,
    target: str | None = None,
    era_column: str = "date",
    era_step: int = 1,
    max_eras: int | None = None,
    plot: Path | None = None,
    progress: bool = False,
    name: str = "the rows given",
) -> ValidationResult:
    """:func:`validate_file` on rows already read (the user's own table joined to Numerai's
    targets): ``table.matrix`` holds the file's features in its order. Rows have no Numerai
    id here (their own data), so there is no meta model or benchmark to compare with."""
    metadata = read_metadata(onnx_path)
    target = target or metadata.target
    labels = np.asarray(table.columns[era_column]).astype(str)
    eras = chosen_eras(np.unique(labels).tolist(), era_step, max_eras)
    none = References(notes=("no MMC or BMC: Numerai ships no meta model for your own data",))
    scored = _EraScores(onnx_path, metadata, none, None, ())
    with tqdm(total=len(eras), desc="eras", unit="era", disable=not progress) as bar:
        scored.add(table, era_column, target, eras, bar.update, None)
    return scored.result(target, plot, onnx_path, name)


def chosen_eras(eras: Sequence[str], era_step: int, max_eras: int | None) -> list[str]:
    """Every ``era_step``-th era in order, then only the last ``max_eras`` of them."""
    chosen = sorted(eras, key=era_sort_key)[:: max(era_step, 1)]
    return chosen[-max_eras:] if max_eras else chosen


@dataclass(frozen=True)
class _ValidationEra:
    """One validation era's columns for the worker's neutralize step
    (:class:`numerai_bot.postprocess.steps.EraInputs`)."""

    columns: dict[str, np.ndarray]

    def neutralizers(self, against: str | tuple[str, ...]) -> np.ndarray:
        return design_matrix(np.column_stack(list(self.columns.values())))

    def benchmark(self, column: str) -> np.ndarray:
        raise NotImplementedError("validate scores neutralization, not blends")

    def model(self, config: Any) -> np.ndarray:
        raise NotImplementedError("validate scores neutralization, not blends")


class _EraScores:
    """Runs the file one era per call, as the worker runs one live era, and scores each era
    as it goes (only the per-era figures are kept, not the rows)."""

    def __init__(
        self,
        onnx_path: Path,
        metadata: ModelMetadata,
        references: References,
        neutralization: Neutralization | None,
        against: tuple[str, ...],
    ) -> None:
        self.session = onnx_session(str(onnx_path))
        self.metadata = metadata
        self.graph_input, *self.string_input = self.session.get_inputs()
        double = self.graph_input.type == "tensor(double)"
        self.dtype: type[np.floating] = np.float64 if double else np.float32
        self.references = references
        self.reference_series = references.by_role()
        self.variants: dict[str, tuple[Any, ...]] = {MODEL: (Rank(),)}
        if neutralization is not None:
            step = Neutralize(neutralization.proportion, against)
            self.variants[NEUTRALIZED] = (step, Rank())
        self.against = against
        strings = set(metadata.string_features)
        self.numeric = [n for n in metadata.features if n not in strings]
        self.eras: list[str] = []
        self.values: dict[str, dict[str, list[float]]] = {
            v: {m: [] for m in METRICS} for v in self.variants
        }
        self.rows = 0

    def add(
        self,
        table: Table,
        era_column: str,
        target: str,
        eras: Sequence[str],
        advance: Callable[[int], object],
        id_column: str | None,
    ) -> None:
        """Predict and score each of ``eras`` found in ``table``."""
        labels = np.asarray(table.columns[era_column]).astype(str)
        width = len(self.numeric)
        extra = {
            name: width + k
            for k, name in enumerate(a for a in self.against if a not in self.numeric)
        }
        for era in eras:
            rows = labels == era
            if not rows.any():
                continue
            matrix = table.matrix[rows]
            feeds = {self.graph_input.name: matrix[:, :width].astype(self.dtype, copy=False)}
            if self.string_input and table.strings is not None:
                feeds[self.string_input[0].name] = table.strings[rows]
            (output,) = self.session.run(None, feeds)[:1]
            predictions = np.asarray(output, dtype=np.float64).ravel()
            ids = (
                np.asarray(table.columns[id_column])[rows]
                if id_column
                else np.arange(int(rows.sum()))
            )
            targets = np.asarray(table.columns[target], dtype=np.float64)[rows]
            where = {n: j for j, n in enumerate(self.numeric)} | extra
            inputs = _ValidationEra({n: matrix[:, where[n]] for n in self.against})
            scored_any = False
            for variant, steps in self.variants.items():
                values = predictions
                for step in steps:
                    values = step.apply(values, inputs)
                era_data = era_rows(
                    era, ids, values, targets, matrix[:, :width], tuple(self.numeric),
                    self.reference_series,
                )  # fmt: skip
                if era_data is None:
                    break
                for name, value in score_era(era_data).items():
                    self.values[variant][name].append(value)
                scored_any = True
            if scored_any:
                self.eras.append(era)
                self.rows += int(rows.sum())
            advance(1)

    def result(
        self, target: str, plot: Path | None, onnx_path: Path, data_name: str
    ) -> ValidationResult:
        """The per-era figures, the overlap warnings, the plot."""
        if not self.eras:
            raise ValueError(f"no rows to validate in {data_name}")
        references = {}
        if self.references.meta_model is not None:
            references["meta model"] = META_MODEL_COLUMN
        if self.references.benchmark_name:
            references["benchmark"] = self.references.benchmark_name
        result = ValidationResult(
            eras=list(self.eras),
            per_era={
                variant: {name: np.asarray(v, dtype=np.float64) for name, v in metrics.items()}
                for variant, metrics in self.values.items()
            },
            target=target,
            rows=self.rows,
            references=references,
            notes=list(self.references.notes),
            warnings=overlap_warnings(self.metadata.validation.get("train_eras"), self.eras),
        )
        if plot is not None:
            title = self.metadata.model_name or Path(onnx_path).stem
            plot_cumulative(result, plot, title=title)
        return result


def overlap_warnings(train_eras: Any, validation_eras: Sequence[str]) -> list[str]:
    """A warning when validation eras fall inside the recorded training era range."""
    if not train_eras or not validation_eras:
        return []
    try:
        first, last = (era_sort_key(str(era)) for era in train_eras)
    except (TypeError, ValueError):
        return [f"cannot read the training era range {train_eras!r} in the metadata"]
    inside = [era for era in validation_eras if first <= era_sort_key(era) <= last]
    if not inside:
        return []
    return [
        f"{len(inside)} of {len(validation_eras)} validation eras ({inside[0]} … {inside[-1]}) "
        f"lie within the training eras {train_eras[0]} … {train_eras[-1]}: these figures are "
        "optimistic; validate on later eras (e.g. --max-eras) or retrain without them"
    ]


PLOTTED = ("corr", "mmc", "bmc", "fnc")  # cumulative sums worth drawing (not exposure)


def plot_cumulative(result: ValidationResult, path: Path, title: str = "") -> Path:
    """A PNG of the cumulative per-era CORR, MMC, BMC and feature-neutral CORR (solid: as
    submitted; dashed: after the model's neutralization), the CORR summary in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(10, 4.5), dpi=100)
    steps = np.arange(len(result.eras))
    colours = dict(zip(PLOTTED, ("#1f77b4", "#d62728", "#2ca02c", "#9467bd"), strict=True))
    for variant, metrics in result.per_era.items():
        style = "-" if variant == MODEL else "--"
        for name in PLOTTED:
            values = metrics[name]
            if not np.isfinite(values).any():
                continue
            label = LABELS[name] + ("" if variant == MODEL else ", neutralized")
            axis.plot(
                steps, np.cumsum(np.nan_to_num(values)), style, color=colours[name],
                linewidth=1.4, label=label,
            )  # fmt: skip
    axis.bar(steps, result.scores, color="#999999", alpha=0.4, width=1.0, label="CORR per era")
    axis.axhline(0.0, color="black", linewidth=0.6)
    ticks = np.linspace(0, len(steps) - 1, num=min(len(steps), 8), dtype=int) if len(steps) else []
    axis.set_xticks(ticks, [result.eras[i] for i in ticks])
    axis.set_xlabel("era")
    axis.set_ylabel("cumulative score")
    s = result.summary
    axis.set_title(
        f"{title}  CORR mean {s.mean:+.4f}  Sharpe {s.sharpe:+.2f}  max drawdown "
        f"{s.max_drawdown:.4f}  ({s.eras} eras, {result.target})"
    )
    axis.legend(loc="upper left", fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path
