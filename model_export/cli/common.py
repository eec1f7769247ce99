"""Pieces every model_export subcommand shares: errors, exit codes, options.

Why a module of its own: the subcommands live in two modules (:mod:`model_export.cli.convert` for
train/export/check/describe, :mod:`model_export.cli.release` for ensemble/validate/publish/
rollback) and both need these without importing each other.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from model_export.parity import ParityThresholds

EXIT_PARITY = 1
EXIT_ERROR = 2


class CliError(RuntimeError):
    """A usage problem found after parsing; the message says what to pass instead."""


def say(args: argparse.Namespace, message: str) -> None:
    """A progress line on stderr unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(f"[model_export] {message}", file=sys.stderr, flush=True)


def existing(path: Path, hint: str) -> Path:
    """``path`` if it is a file, else a :class:`CliError` with ``hint``."""
    if not path.is_file():
        raise CliError(f"{path} does not exist: {hint}")
    return path


def parse_threads(raw: str) -> tuple[int, ...]:
    """``"1,2,4"`` → (1, 2, 4); 0 means onnxruntime's default."""
    try:
        counts = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise CliError(f"--threads needs numbers like 1,2,4, got {raw!r}") from None
    if not counts or any(count < 0 for count in counts):
        raise CliError("--threads needs at least one count of 0 (default) or more")
    return counts


def add_threshold_options(group: Any) -> None:
    """Explicit parity tolerances (defaults: the strict limits for tree models)."""
    strict = ParityThresholds()
    group.add_argument(
        "--max-rows-reranked",
        type=int,
        default=strict.max_rows_reranked,
        help="rows allowed to change rank [%(default)s; float32 networks need more]",
    )
    group.add_argument(
        "--min-spearman",
        type=float,
        default=strict.min_spearman,
        help="lowest Spearman correlation accepted [%(default)r]",
    )
    group.add_argument(
        "--max-abs-diff",
        type=float,
        default=strict.max_abs_diff,
        help="largest absolute difference accepted [%(default)s]",
    )


def thresholds_from(args: argparse.Namespace) -> ParityThresholds:
    """The :class:`ParityThresholds` the options ask for."""
    return ParityThresholds(
        max_rows_reranked=args.max_rows_reranked,
        min_spearman=args.min_spearman,
        max_abs_diff=args.max_abs_diff,
    )


def parse_weights(raw: str | None, count: int) -> list[float]:
    """``"0.5,0.5"`` → [0.5, 0.5]; equal weights summing to 1 when not given."""
    if raw is None:
        return [1.0 / count] * count
    try:
        weights = [float(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise CliError(f"--weights needs numbers like 0.5,0.5, got {raw!r}") from None
    if len(weights) != count:
        raise CliError(f"{count} models but {len(weights)} weights in --weights")
    return weights
