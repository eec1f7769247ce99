"""How the worker scales, from the raw runs: the marginal cost per model against onnxruntime
alone, the heavy ensemble and its growth in trees, Signals and Crypto against Classic, and the
limits that must not move (cold import, webhook latency, package size).

The targets are data (:data:`TARGETS`): a name, a limit, a direction and where the value
comes from; each is PASS, FAIL or n/a (not measured in this run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.report import cost
from benchmarks.report.fit import linear_fit
from standins.synthetic_data import LIVE_ROWS

LAMBDA_SECONDS = 900.0
LAMBDA_MAX_MB = 10_240
PROTOBUF_MAX_BYTES = 2**31 - 1  # an ONNX file is one protobuf message
HEAVY_MEMBERS = 10  # 10 x 2,000 = 20,000 trees


Figure = Callable[[dict[str, Any]], float | None]


@dataclass(frozen=True)
class Target:
    """One target: ``value(figures)`` against ``limit`` (``at_most`` or at least), with the
    share of the CPUs other processes took while it was measured (``noise``)."""

    name: str
    limit: float
    unit: str
    value: Figure
    at_most: bool = True
    noise: Figure = lambda _figures: None

    def check(self, figures: dict[str, Any]) -> dict[str, Any]:
        """PASS/FAIL/n/a with the measured value and its noise."""
        value = self.value(figures)
        verdict = "n/a"
        if value is not None:
            ok = value <= self.limit if self.at_most else value >= self.limit
            verdict = "PASS" if ok else "FAIL"
        return {
            "target": self.name,
            "value": value,
            "limit": self.limit,
            "unit": self.unit,
            "verdict": verdict,
            "at_most": self.at_most,
            "noise": self.noise(figures),
        }


def marginal_cost(table: dict, inference: dict[str, Any]) -> dict[str, Any] | None:
    """Seconds per extra medium model between the two largest pairs, against onnxruntime's
    predict alone on the same matrix (section 5, the worker's way)."""
    points = sorted(
        (m, f["seconds"])
        for (side, fs, m, rows), f in table.items()
        if side == "ours" and fs == "medium" and rows == LIVE_ROWS
    )
    alone = (inference.get("medium") or {}).get("ort_s")
    if len(points) < 2 or alone is None:
        return None
    (m1, s1), (m2, s2) = points[-2], points[-1]
    per_model = (s2 - s1) / (m2 - m1)
    return {
        "from_models": m1,
        "to_models": m2,
        "seconds_per_model": per_model,
        "onnxruntime_alone_seconds": alone,
        "ratio": per_model / alone,
    }


def heavy_figures(results: dict[str, Any], table: dict) -> dict[str, Any]:
    """The heavy runs, and the growth on every CPU with the largest ensemble that fits."""
    runs = results.get("heavy") or []
    feature_set = runs[0]["feature_set"] if runs else None
    points = [
        (r["trees"], r["import_seconds"] + r["seconds"], r["peak_rss_mib"], r["onnx_bytes"])
        for r in runs
        if not r["pinned"]
    ]
    single = table.get(("ours", feature_set, 1, LIVE_ROWS))
    models = results["meta"].get("models", {})
    if single and feature_set in models:
        info = models[feature_set]
        seconds = single["import_seconds"] + single["seconds"]
        points.append((info["trees"], seconds, single["peak_rss_mib"], info["onnx_bytes"]))
    points.sort()
    out: dict[str, Any] = {"feature_set": feature_set, "runs": runs, "points": points}
    if len(points) >= 2:
        time_fit = linear_fit((t, s) for t, s, _, _ in points)
        rss_fit = linear_fit((t, m) for t, _, m, _ in points)
        bytes_per_tree = max(b / t for t, _, _, b in points)
        limits = {
            "900 s (15 min) on the measured CPUs": _reach(time_fit, LAMBDA_SECONDS),
            "10,240 MB (peak + 10 %)": _reach(rss_fit, LAMBDA_MAX_MB / cost.HEADROOM),
            "2 GB ONNX file (protobuf)": PROTOBUF_MAX_BYTES / bytes_per_tree,
        }
        out.update(time_fit=time_fit, rss_fit=rss_fit, largest_trees=limits)
    return out


def _reach(fit: dict[str, Any], ceiling: float) -> float | None:
    """Trees at which the fitted line reaches ``ceiling`` (None when it does not grow)."""
    if fit.get("slope", 0) <= 0:
        return None
    return (ceiling - fit["intercept"]) / fit["slope"]


def tournaments(table: dict) -> list[dict[str, Any]]:
    """Per tournament: seconds for each model count, and the marginal seconds per model."""
    out = []
    for which in ("medium", "signals", "crypto"):
        points = sorted(
            (m, f)
            for (side, fs, m, rows), f in table.items()
            if side == "ours" and fs == which and (fs != "medium" or rows == LIVE_ROWS)
        )
        if not points:
            continue
        rows = next(r for (s, fs, _, r) in table if s == "ours" and fs == which)
        marginal = None
        if len(points) >= 2:
            (m1, f1), (m2, f2) = points[-2], points[-1]
            marginal = (f2["seconds"] - f1["seconds"]) / (m2 - m1)
        out.append(
            {
                "tournament": "classic (medium)" if which == "medium" else which,
                "rows": rows,
                "models": [m for m, _ in points],
                "seconds": [f["seconds"] for _, f in points],
                "peak_rss_mib": [f["peak_rss_mib"] for _, f in points],
                "seconds_per_model": marginal,
            }
        )
    return out


def _heavy_seconds(pinned: bool) -> Figure:
    def value(figures: dict[str, Any]) -> float | None:
        for run in figures["heavy"]["runs"]:
            if run["members"] == HEAVY_MEMBERS and run["pinned"] == pinned:
                return run["import_seconds"] + run["seconds"]
        return None

    return value


def _per_model(name: str) -> Figure:
    def value(figures: dict[str, Any]) -> float | None:
        by_name = {t["tournament"]: t for t in figures["tournaments"]}
        mine = (by_name.get(name) or {}).get("seconds_per_model")
        classic = (by_name.get("classic (medium)") or {}).get("seconds_per_model")
        return None if mine is None or not classic else mine / classic

    return value


def _pair(key: str) -> Figure:
    def value(figures: dict[str, Any]) -> float | None:
        for row in figures["pairs"]:
            if (row["feature_set"], row["models"], row["rows"]) == ("medium", 10, LIVE_ROWS):
                return row.get(key)
        return None

    return value


def _pair_noise(figures: dict[str, Any]) -> float | None:
    for row in figures["pairs"]:
        if (row["feature_set"], row["models"], row["rows"]) == ("medium", 10, LIVE_ROWS):
            sides = [row["ours"], row.get("baseline") or {}]
            return max(side.get("others_share", 0.0) for side in sides)
    return None


def _medium_noise(figures: dict[str, Any]) -> float | None:
    shares = [
        row["ours"].get("others_share", 0.0)
        for row in figures["pairs"]
        if row["feature_set"] == "medium" and row["rows"] == LIVE_ROWS
    ]
    return max(shares, default=None)


def _heavy_noise(pinned: bool) -> Figure:
    def noise(figures: dict[str, Any]) -> float | None:
        for run in figures["heavy"]["runs"]:
            if run["members"] == HEAVY_MEMBERS and run["pinned"] == pinned:
                return run["others_share"]
        return None

    return noise


def _tournament_noise(name: str) -> Figure:
    def noise(figures: dict[str, Any]) -> float | None:
        shares = [
            row["ours"].get("others_share", 0.0)
            for row in figures["pairs"]
            if row["feature_set"] in (name, "medium") and row["models"] > 0
        ]
        return max(shares, default=None)

    return noise


def _cold(figures: dict[str, Any]) -> float | None:
    cold = figures["cold_start"]
    return (cold.get("built_worker") or cold.get("venv_worker") or {}).get("import_seconds")


def _package(figures: dict[str, Any]) -> float | None:
    under = figures["package"].get("worker_under_limit_bytes")
    return None if under is None else under / 1e6


TARGETS = (
    Target(
        "per-model marginal cost ≤ 1.1× onnxruntime alone (medium)",
        1.1,
        "×",
        lambda f: (f["marginal"] or {}).get("ratio"),
        noise=_medium_noise,
    ),
    Target(
        "10 medium models: time with imports ≤ 0.75× baseline",
        0.75,
        "×",
        _pair("time_ratio_with_imports"),
        noise=_pair_noise,
    ),
    Target(
        "10 medium models: peak RSS ≤ 0.85× baseline",
        0.85,
        "×",
        _pair("rss_ratio"),
    ),
    Target(
        "heavy 20,000 trees, every CPU (2 here): submitted < 10 s",
        10.0,
        " s",
        _heavy_seconds(False),
        noise=_heavy_noise(False),
    ),
    Target(
        "heavy 20,000 trees, pinned to 1 CPU: submitted < 20 s",
        20.0,
        " s",
        _heavy_seconds(True),
        noise=_heavy_noise(True),
    ),
    Target(
        "Signals: seconds per model ≤ Classic's (medium)",
        1.0,
        "×",
        _per_model("signals"),
        noise=_tournament_noise("signals"),
    ),
    Target(
        "Crypto: seconds per model ≤ Classic's (medium)",
        1.0,
        "×",
        _per_model("crypto"),
        noise=_tournament_noise("crypto"),
    ),
    Target(
        "cold import of the worker (built package) ≤ 0.8 s (0.52 s)",
        0.8,
        " s",
        _cold,
        noise=lambda f: f["cold_start"].get("others_share"),
    ),
    Target(
        "webhook warm p99 ≤ 1 ms (0.19 ms)",
        1.0,
        " ms",
        lambda f: f["webhook"].get("p99_ms"),
        noise=lambda f: f["webhook"].get("others_share"),
    ),
    Target(
        "worker package ≥ 30 MB under Lambda's 262 MB limit (42 MB)",
        30.0,
        " MB",
        _package,
        at_most=False,
    ),
)


def summarize_scaling(results: dict[str, Any], table: dict, pairs: list[dict]) -> dict[str, Any]:
    """Everything the scaling sections of the report and their targets need."""
    figures = {
        "pairs": pairs,
        "marginal": marginal_cost(table, results.get("inference") or {}),
        "heavy": heavy_figures(results, table),
        "tournaments": tournaments(table),
        "cold_start": results.get("cold_start") or {},
        "webhook": results.get("webhook") or {},
        "package": results.get("package") or {},
    }
    checks = [target.check(figures) for target in TARGETS]
    figures.pop("pairs")
    for key in ("cold_start", "webhook", "package"):
        figures.pop(key)
    return {**figures, "targets": checks}
