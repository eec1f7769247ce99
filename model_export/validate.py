"""Score an exported ONNX file on validation data, era by era, the way Numerai scores it.

Why from the ONNX file and not the native model: this is what the bot will submit. Rows are
read a group of eras at a time (validation.parquet is ~4 GB; only the file's feature columns,
the era column (Signals/Crypto: ``date``) and the target are read), and the graph runs on one
era per call, as the bot runs it on one live era (an ensemble that ranks inside its graph needs
exactly that). String features are fed to the graph as strings, as the worker feeds them.

Also warns when the model was trained on eras that overlap the validation eras (the ``train``
command records its training era range in the file's metadata), because the figures are then
optimistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from model_export.data import read_rows, require_columns, unique_eras
from model_export.metadata import read_metadata
from model_export.parity import onnx_session
from model_export.scoring import Summary, era_sort_key, per_era_corr, summarise
from model_export.tournament_data import spec
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
    eras = sorted(unique_eras(data_path, era_column), key=era_sort_key)[:: max(era_step, 1)]
    if max_eras:
        eras = eras[-max_eras:]
    session = onnx_session(str(onnx_path))
    graph_input, *string_input = session.get_inputs()
    dtype = np.float64 if graph_input.type == "tensor(double)" else np.float32

    predictions, targets, era_labels = [], [], []
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
                dtype=dtype,
            )
            labels = np.asarray(table.columns[era_column]).astype(str)
            for era in group:
                rows = labels == era
                if not rows.any():
                    continue
                feeds = {graph_input.name: table.matrix[rows]}
                if string_input and table.strings is not None:
                    feeds[string_input[0].name] = table.strings[rows]
                (output,) = session.run(None, feeds)[:1]
                predictions.append(np.asarray(output, dtype=np.float64).ravel())
                targets.append(np.asarray(table.columns[target], dtype=np.float64)[rows])
                era_labels.append(labels[rows])
                bar.update(1)
    if not predictions:
        raise ValueError(f"no rows to validate in {data_path}")
    scores_eras, scores = per_era_corr(
        np.concatenate(predictions), np.concatenate(targets), np.concatenate(era_labels)
    )
    result = ValidationResult(
        eras=scores_eras,
        scores=scores,
        summary=summarise(scores),
        target=target,
        rows=int(sum(len(p) for p in predictions)),
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
