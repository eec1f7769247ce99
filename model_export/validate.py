"""Score an exported ONNX file on validation data, era by era, the way Numerai scores it.

Why from the ONNX file and not the native model: this is what the bot will submit. Rows are
read a group of eras at a time (validation.parquet is ~4 GB; only the file's feature columns,
the era column (Signals/Crypto: ``date``) and the target are read), and the graph runs on one
era per call, as the bot runs it on one live era (an ensemble that ranks inside its graph needs
exactly that). String features are fed to the graph as strings, as the worker feeds them.
Rows already in memory (the user's own table joined to Numerai's targets) are scored the same
way by :func:`validate_table`.

Also warns when the model was trained on eras that overlap the validation eras (the ``train``
command records its training era range in the file's metadata), because the figures are then
optimistic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from model_export.data import Table, read_rows, require_columns, unique_eras
from model_export.metadata import read_metadata
from model_export.parity import onnx_session
from model_export.scoring import Summary, era_sort_key, per_era_corr, summarise
from model_export.tournament_data import spec
from numerai_bot.model_metadata import ModelMetadata
from numerai_bot.tournaments import tournament

ERAS_PER_READ = 25


@dataclass
class ValidationResult:
    """Per-era scores, their summary and any warnings."""

    eras: list[str]
    scores: np.ndarray
    summary: Summary
    target: str
    rows: int
    warnings: list[str] = field(default_factory=list)

    def figures(self, file_name: str) -> dict[str, Any]:
        """What ``--record`` stores in the file's ``validation`` metadata."""
        figures: dict[str, Any] = {
            "file": file_name,
            "rows": self.rows,
            "target": self.target,
            **self.summary.as_dict(),
        }
        if self.eras:
            figures["first_era"], figures["last_era"] = self.eras[0], self.eras[-1]
        if self.warnings:
            figures["warnings"] = list(self.warnings)
        return figures

    def text(self) -> str:
        """The summary as printed by the CLI."""
        s = self.summary
        lines = [
            f"Validation on {self.rows:,} rows, {s.eras} eras"
            + (f" ({self.eras[0]} … {self.eras[-1]})" if self.eras else "")
            + f", target {self.target}:",
            f"  numerai_corr mean   {s.mean:+.5f}",
            f"  std                 {s.std:.5f}",
            f"  Sharpe              {s.sharpe:+.3f}",
            f"  max drawdown        {s.max_drawdown:.5f}",
        ]
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
) -> ValidationResult:
    """Predict every chosen era of ``data_path`` with the file and score it."""
    metadata = read_metadata(onnx_path)
    target = target or metadata.target
    features = list(metadata.features)
    era_column = spec(tournament(metadata.tournament)).era_column  # "era", or Signals' "date"
    strings = list(metadata.string_features)
    require_columns(data_path, [*features, era_column, target])
    eras = chosen_eras(unique_eras(data_path, era_column), era_step, max_eras)
    scored = _EraScores(onnx_path)
    with tqdm(total=len(eras), desc="eras", unit="era", disable=not progress) as bar:
        for start in range(0, len(eras), ERAS_PER_READ):
            group = eras[start : start + ERAS_PER_READ]
            table = read_rows(
                data_path,
                features,
                other_columns=[era_column, target],
                eras=group,
                era_column=era_column,
                string_columns=strings,
                dtype=scored.dtype,
            )
            scored.add(table, era_column, target, group, bar.update)
    return scored.result(metadata, target, plot, onnx_path, str(data_path))


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
    targets): ``table.matrix`` holds the file's features in its order."""
    metadata = read_metadata(onnx_path)
    target = target or metadata.target
    labels = np.asarray(table.columns[era_column]).astype(str)
    eras = chosen_eras(np.unique(labels).tolist(), era_step, max_eras)
    scored = _EraScores(onnx_path)
    with tqdm(total=len(eras), desc="eras", unit="era", disable=not progress) as bar:
        scored.add(table, era_column, target, eras, bar.update)
    return scored.result(metadata, target, plot, onnx_path, name)


def chosen_eras(eras: Sequence[str], era_step: int, max_eras: int | None) -> list[str]:
    """Every ``era_step``-th era in order, then only the last ``max_eras`` of them."""
    chosen = sorted(eras, key=era_sort_key)[:: max(era_step, 1)]
    return chosen[-max_eras:] if max_eras else chosen


class _EraScores:
    """Runs the file one era per call, as the worker runs one live era, and gathers the
    predictions and targets to score."""

    def __init__(self, onnx_path: Path) -> None:
        self.session = onnx_session(str(onnx_path))
        self.graph_input, *self.string_input = self.session.get_inputs()
        double = self.graph_input.type == "tensor(double)"
        self.dtype: type[np.floating] = np.float64 if double else np.float32
        self.predictions: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []

    def add(
        self,
        table: Table,
        era_column: str,
        target: str,
        eras: Sequence[str],
        advance: Callable[[int], object],
    ) -> None:
        """Predict each of ``eras`` found in ``table``."""
        labels = np.asarray(table.columns[era_column]).astype(str)
        for era in eras:
            rows = labels == era
            if not rows.any():
                continue
            feeds = {self.graph_input.name: table.matrix[rows].astype(self.dtype, copy=False)}
            if self.string_input and table.strings is not None:
                feeds[self.string_input[0].name] = table.strings[rows]
            (output,) = self.session.run(None, feeds)[:1]
            self.predictions.append(np.asarray(output, dtype=np.float64).ravel())
            self.targets.append(np.asarray(table.columns[target], dtype=np.float64)[rows])
            self.labels.append(labels[rows])
            advance(1)

    def result(
        self,
        metadata: ModelMetadata,
        target: str,
        plot: Path | None,
        onnx_path: Path,
        data_name: str,
    ) -> ValidationResult:
        """Per-era Numerai correlation, its summary, the overlap warnings, the plot."""
        if not self.predictions:
            raise ValueError(f"no rows to validate in {data_name}")
        scores_eras, scores = per_era_corr(
            np.concatenate(self.predictions),
            np.concatenate(self.targets),
            np.concatenate(self.labels),
        )
        result = ValidationResult(
            eras=scores_eras,
            scores=scores,
            summary=summarise(scores),
            target=target,
            rows=int(sum(len(p) for p in self.predictions)),
            warnings=overlap_warnings(metadata.validation.get("train_eras"), scores_eras),
        )
        if plot is not None:
            plot_cumulative(result, plot, title=metadata.model_name or Path(onnx_path).stem)
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


def plot_cumulative(result: ValidationResult, path: Path, title: str = "") -> Path:
    """A PNG of the cumulative Numerai correlation per era, with the summary in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(10, 4.5), dpi=100)
    steps = np.arange(len(result.scores))
    axis.plot(steps, np.cumsum(result.scores), color="#1f77b4", linewidth=1.6)
    axis.bar(steps, result.scores, color="#999999", alpha=0.5, width=1.0, label="per era")
    axis.axhline(0.0, color="black", linewidth=0.6)
    ticks = np.linspace(0, len(steps) - 1, num=min(len(steps), 8), dtype=int) if len(steps) else []
    axis.set_xticks(ticks, [result.eras[i] for i in ticks])
    axis.set_xlabel("era")
    axis.set_ylabel("cumulative numerai_corr")
    s = result.summary
    axis.set_title(
        f"{title}  mean {s.mean:+.4f}  Sharpe {s.sharpe:+.2f}  max drawdown {s.max_drawdown:.4f}"
        f"  ({s.eras} eras, {result.target})"
    )
    axis.legend(loc="upper left")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path
