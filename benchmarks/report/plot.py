"""Growth curves as a PNG (time and peak RSS against models and rows), if matplotlib exists.

matplotlib is not a project dependency: without it the plot is skipped and the report says so.
Several runs can be overlaid, e.g. the current core and a prototype::

    python -m benchmarks.report.plot current.json prototype.json -o docs/benchmarks-growth.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

AXES = [
    ("models", "seconds", "models (6,720 rows)", "seconds"),
    ("models", "peak_rss_mib", "models (6,720 rows)", "peak RSS, MiB"),
    ("rows", "seconds", "live rows (10 models)", "seconds"),
    ("rows", "peak_rss_mib", "live rows (10 models)", "peak RSS, MiB"),
]


def plot_growth(runs: list[tuple[str, dict[str, Any]]], path: Path) -> Path | None:
    """Write a 2×2 figure of ``(label, summary["growth"])`` runs to ``path``.

    The baseline is drawn once (from the first run). None when matplotlib is missing or no
    curve has two points.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    if all(len(g["ours"][axis]["x"]) < 2 for _, g in runs for axis, *_ in AXES):
        return None
    figure, grid = plt.subplots(2, 2, figsize=(10, 7))
    for ax, (axis, key, xlabel, ylabel) in zip(grid.flat, AXES, strict=True):
        lines = [(f"ours{f' ({label})' if label else ''}", g["ours"][axis]) for label, g in runs]
        lines.append(("baseline (numerapi + pandas + LightGBM)", runs[0][1]["baseline"][axis]))
        for (name, curve), style in zip(lines, ("o-", "^-", "v-", "D-", "s--"), strict=False):
            if curve["x"]:
                ax.plot(
                    curve["x"], curve[key], "s--" if name.startswith("base") else style, label=name
                )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)  # from zero, so that differences are not magnified
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    feature_set = runs[0][1]["feature_set"]
    figure.suptitle(f"numerai-bot worker growth ({feature_set} features, 2 cores)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def main(argv: list[str] | None = None) -> int:
    """Overlay the growth of several ``--json`` outputs of ``python -m benchmarks``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report.plot", description=__doc__)
    parser.add_argument("results", nargs="+", type=Path, help="JSON files of full runs")
    parser.add_argument("--label", action="append", default=[], help="one per file, in order")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    runs = []
    for i, path in enumerate(args.results):
        label = args.label[i] if i < len(args.label) else path.stem
        runs.append((label, json.loads(path.read_text())["summary"]["growth"]))
    written = plot_growth(runs, args.output)
    print(written or "nothing plotted (matplotlib missing or no growth data)")
    return 0 if written else 1


if __name__ == "__main__":
    raise SystemExit(main())
