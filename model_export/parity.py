"""Does the ONNX file rank rows like the native model? Figures, verdict and a readable report.

Why ranks: Numerai scores the rank order of the predictions, so a max-abs-diff alone can hide
what matters. A float32 export with a max diff of 2e-6 still moves about 2 % of the rows; a
tree model exported right moves none. The check therefore counts rows whose (tie-averaged)
rank changes, and tree models must have zero.

onnxruntime splits the trees across threads and adds the per-thread sums, so its last bit can
depend on the thread count. :func:`onnx_predictions` can run the file with several thread
counts (Lambda has 1 to 6 vCPUs) and :func:`worst_of` keeps the worst figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import onnxruntime as ort

from model_export import onnx_format as fmt
from numerai_bot.submission import average_ranks as worker_ranks

# Thread counts a Lambda function can get (one vCPU per 1,769 MB, up to 6 vCPUs).
LAMBDA_THREAD_COUNTS = (1, 2, 3, 4, 5, 6)


class ParityError(RuntimeError):
    """Export refused because the ONNX predictions do not match; carries the report."""

    def __init__(self, report: ParityReport) -> None:
        super().__init__(
            report.text()
            + "\nExport refused. Fix the model or converter; use --allow-parity-failure "
            "(allow_parity_failure=True) only if you accept these differences."
        )
        self.report = report


@dataclass(frozen=True)
class ParityThresholds:
    """Limits for ``ok``. Defaults fit tree models exported in double precision."""

    max_rows_reranked: int = 0
    min_spearman: float = 1.0 - 1e-12
    max_abs_diff: float = 1e-9


@dataclass(frozen=True)
class ParityReport:
    """Native vs ONNX predictions on the same rows."""

    rows: int
    max_abs_diff: float
    spearman: float
    rows_reranked: int
    nan_native: int = 0
    nan_onnx: int = 0
    thresholds: ParityThresholds = field(default_factory=ParityThresholds)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every figure is within its threshold and no prediction is NaN."""
        limits = self.thresholds
        return (
            self.rows > 0
            and self.nan_native == 0
            and self.nan_onnx == 0
            and self.rows_reranked <= limits.max_rows_reranked
            and self.spearman >= limits.min_spearman
            and self.max_abs_diff <= limits.max_abs_diff
        )

    def figures(self) -> dict[str, Any]:
        """The figures stored in the model's metadata (JSON-friendly)."""
        view: dict[str, Any] = {
            "rows": self.rows,
            "max_abs_diff": self.max_abs_diff,
            "spearman": self.spearman,
            "rows_reranked": self.rows_reranked,
            "ok": self.ok,
            "thresholds": asdict(self.thresholds),
        }
        if self.nan_native or self.nan_onnx:
            view.update(nan_native=self.nan_native, nan_onnx=self.nan_onnx)
        view.update(self.detail)
        return view

    def text(self) -> str:
        """A short human-readable verdict with each figure against its limit."""
        limits = self.thresholds

        def mark(good: bool) -> str:
            return "ok  " if good else "FAIL"

        lines = [
            f"Parity native vs ONNX on {self.rows:,} rows: {'PASSED' if self.ok else 'FAILED'}",
            f"  {mark(self.rows_reranked <= limits.max_rows_reranked)} rows re-ranked   "
            f"{self.rows_reranked:,} (limit {limits.max_rows_reranked:,})",
            f"  {mark(self.spearman >= limits.min_spearman)} Spearman          "
            f"{self.spearman:.15f} (limit >= {limits.min_spearman:.15f})",
            f"  {mark(self.max_abs_diff <= limits.max_abs_diff)} max abs diff      "
            f"{self.max_abs_diff:.3e} (limit {limits.max_abs_diff:.1e})",
        ]
        if self.nan_native or self.nan_onnx:
            lines.append(
                f"  FAIL NaN predictions native {self.nan_native:,}, ONNX {self.nan_onnx:,}"
            )
        if "threads" in self.detail:
            lines.append(f"  onnxruntime thread counts checked: {self.detail['threads']}")
        return "\n".join(lines)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..N with ties given their average rank, exactly as the worker ranks (any shape
    and dtype is flattened to float64 first)."""
    return worker_ranks(np.asarray(values, dtype=np.float64).ravel())


def compare_predictions(
    native: np.ndarray,
    onnx_out: np.ndarray,
    thresholds: ParityThresholds | None = None,
    detail: dict[str, Any] | None = None,
) -> ParityReport:
    """Figures for one pair of prediction vectors of the same rows."""
    native = np.asarray(native, dtype=np.float64).ravel()
    onnx_out = np.asarray(onnx_out, dtype=np.float64).ravel()
    if native.shape != onnx_out.shape:
        raise ValueError(f"native has {native.shape[0]} predictions, ONNX {onnx_out.shape[0]}")
    rows = native.shape[0]
    if rows == 0:
        return ParityReport(0, 0.0, 0.0, 0, thresholds=thresholds or ParityThresholds())
    diff = np.abs(native - onnx_out)
    rank_native = average_ranks(native)
    rank_onnx = average_ranks(onnx_out)
    return ParityReport(
        rows=rows,
        max_abs_diff=float(np.nanmax(diff)) if np.isfinite(diff).any() else float("inf"),
        spearman=_pearson(rank_native, rank_onnx),
        rows_reranked=int(np.count_nonzero(rank_native != rank_onnx)),
        nan_native=int(np.isnan(native).sum()),
        nan_onnx=int(np.isnan(onnx_out).sum()),
        thresholds=thresholds or ParityThresholds(),
        detail=dict(detail or {}),
    )


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if denominator == 0.0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float((a * b).sum() / denominator)


def worst_of(reports: Sequence[ParityReport], detail: dict[str, Any] | None = None) -> ParityReport:
    """One report holding the worst figure of each kind (several thread counts, same rows)."""
    if not reports:
        raise ValueError("no parity reports to combine")
    return ParityReport(
        rows=min(r.rows for r in reports),
        max_abs_diff=max(r.max_abs_diff for r in reports),
        spearman=min(r.spearman for r in reports),
        rows_reranked=max(r.rows_reranked for r in reports),
        nan_native=max(r.nan_native for r in reports),
        nan_onnx=max(r.nan_onnx for r in reports),
        thresholds=reports[0].thresholds,
        detail=dict(detail or {}),
    )


def onnx_session(model: bytes | str, threads: int = 0) -> ort.InferenceSession:
    """A CPU session; ``threads`` 0 keeps onnxruntime's default (one per physical core)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def onnx_predictions(
    model: bytes | str, matrix: np.ndarray, threads: int = 0, strings: np.ndarray | None = None
) -> np.ndarray:
    """Run the exported graph on ``matrix`` (cast to the graph's input type) → 1-D float64.

    A graph with string features takes ``strings`` ([N, k], "" for missing) as its second
    input, exactly as the worker feeds it.
    """
    session = onnx_session(model, threads)
    graph_input, *others = session.get_inputs()
    dtype = np.float64 if graph_input.type == "tensor(double)" else np.float32
    feeds = {graph_input.name: matrix.astype(dtype, copy=False)}
    if others:
        if strings is None:
            raise ValueError("the graph reads string features: pass their [N, k] matrix")
        feeds[others[0].name] = np.asarray(strings, dtype=object)
    (output,) = session.run([fmt.OUTPUT_NAME], feeds)
    return np.asarray(output, dtype=np.float64).ravel()


def check_parity(
    model: bytes | str,
    matrix: np.ndarray,
    native: np.ndarray | Callable[[np.ndarray], np.ndarray],
    *,
    thread_counts: Iterable[int] = LAMBDA_THREAD_COUNTS,
    thresholds: ParityThresholds | None = None,
    strings: np.ndarray | None = None,
) -> ParityReport:
    """Compare the ONNX file with native predictions for every thread count; keep the worst.

    ``strings``: the string features' [N, k] matrix for graphs that read them.
    """
    expected = native(matrix) if callable(native) else np.asarray(native)
    counts = tuple(thread_counts) or (0,)
    per_thread = [
        compare_predictions(expected, onnx_predictions(model, matrix, threads, strings), thresholds)
        for threads in counts
    ]
    return worst_of(
        per_thread,
        detail={
            "threads": list(counts),
            "rows_reranked_by_threads": [r.rows_reranked for r in per_thread],
        },
    )
