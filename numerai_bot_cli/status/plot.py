"""``status --plot``: each model's cumulative score per round, and submission latency; one
column of panels per tournament (round numbers differ between tournaments).

matplotlib is imported here only (it is slow to import and only the plot needs it), with
the file-only Agg backend so it works without a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from numerai_bot_cli.errors import CliError
from numerai_bot_cli.status.data import ModelStatus

METRIC_LABELS = {"payout": "payout score", "corr": "CORR", "mmc": "MMC"}


def write_plot(statuses: Sequence[ModelStatus], path: Path, metric: str = "payout") -> Path:
    """Two panels per tournament, one line per model: cumulative ``metric`` and minutes
    after round open."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CliError(
            "matplotlib is not installed", "pip install -r requirements-dev.txt"
        ) from None
    groups: dict[str, list[ModelStatus]] = {}
    for status in statuses:
        groups.setdefault(status.tournament, []).append(status)
    groups = groups or {"classic": []}
    figure, axes = plt.subplots(
        2, len(groups), figsize=(10 * len(groups), 7.5), sharex="col", squeeze=False
    )
    for column, (name, group) in enumerate(groups.items()):
        _draw(axes[0][column], axes[1][column], group, metric, name)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _draw(
    scores_axis: Any, latency_axis: Any, statuses: list[ModelStatus], metric: str, name: str
) -> None:
    """One tournament's two panels."""
    label = METRIC_LABELS[metric]
    for status in statuses:
        scored = [p for p in status.history if getattr(p, metric) is not None]
        if scored:
            total = 0.0
            cumulative = []
            for point in scored:
                total += getattr(point, metric)
                cumulative.append(total)
            scores_axis.plot(
                [p.round for p in scored], cumulative, marker="o", markersize=3, label=status.name
            )
        timed = [p for p in status.history if p.minutes_after_open is not None]
        if timed:
            latency_axis.plot(
                [p.round for p in timed],
                [p.minutes_after_open for p in timed],
                marker="o",
                markersize=3,
                label=status.name,
            )
    failed = [(s.name, p.round) for s in statuses for p in s.history if p.failed]
    if failed:
        latency_axis.scatter(
            [number for _, number in failed],
            [0] * len(failed),
            marker="x",
            color="red",
            zorder=3,
            label="not submitted",
        )
    scores_axis.axhline(0, color="grey", linewidth=0.8)
    scores_axis.set_ylabel(f"cumulative {label}")
    scores_axis.set_title(f"{name}: cumulative {label} per resolved round")
    latency_axis.set_ylabel("minutes after the round opened")
    latency_axis.set_xlabel(f"{name} round")
    latency_axis.set_title(f"{name}: submission latency (Numerai's insertedAt − round openTime)")
    top = max(latency_axis.get_ylim()[1], 1.0)
    latency_axis.set_ylim(-0.04 * top, top)  # room for the "not submitted" marks at 0
    for axis in (scores_axis, latency_axis):
        axis.grid(True, alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(loc="best", fontsize="small")
        axis.xaxis.get_major_locator().set_params(integer=True)
