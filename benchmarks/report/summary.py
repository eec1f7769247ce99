"""From raw runs to the figures the report prints: medians, ratios, costs, growth, targets.

Kept apart from rendering so that the JSON carries the same numbers the table shows.
"""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks.report import cost
from benchmarks.report.fit import linear_fit
from benchmarks.report.scaling import summarize_scaling
from standins.synthetic_data import LIVE_ROWS

# Targets against the users' way (Numerai's current example, see benchmarks.measure.sides),
# on a 2-core machine: (models, rows, time ratio, peak RSS ratio).
RATIO_TARGETS = ((10, LIVE_ROWS, 0.85, 0.90), (1, LIVE_ROWS, 1.0, 1.0), (10, 67_200, 0.80, 0.90))
HEAVY_TREES, HEAVY_SECONDS = 20_000, 10.0  # end to end, imports included, every vCPU
BIG_CASE_SECONDS = 60.0
BIG_CASE_RSS_MIB = 2048.0
COLD_IMPORT_SECONDS = 1.5
WEBHOOK_P99_MS = 50.0
NUMERIC = (
    "seconds",
    "cpu_seconds",
    "import_seconds",
    "rss_after_imports_mib",
    "peak_rss_mib",
    "process_seconds",
    "others_share",
)


def medians(runs: list[dict[str, Any]]) -> dict[tuple[str, str, int, int], dict[str, Any]]:
    """Median figures per (side, feature set, models, rows), phases included."""
    groups: dict[tuple[str, str, int, int], list[dict[str, Any]]] = {}
    for run in runs:
        key = (run["side"], run["feature_set"], run["models"], run["rows"])
        groups.setdefault(key, []).append(run)
    out = {}
    for key, group in groups.items():
        merged: dict[str, Any] = {"repeats": len(group)}
        for name in NUMERIC:
            values = [r[name] for r in group if name in r]
            if values:
                merged[name] = statistics.median(values)
        merged["seconds_all"] = [round(r["seconds"], 2) for r in group]
        phases: dict[str, float] = {}
        for label in group[0].get("phases", {}):
            phases[label] = statistics.median(
                r["phases"][label]["seconds"] for r in group if label in r.get("phases", {})
            )
        merged["phases"] = phases
        merged["phase_peak_growth_mib"] = {
            label: statistics.median(
                r["phases"][label].get("peak_growth_mib", 0.0)
                for r in group
                if label in r.get("phases", {})
            )
            for label in phases
        }
        out[key] = merged
    return out


def pairs(table: dict, init_seconds: float | None) -> list[dict[str, Any]]:
    """Ours vs baseline for every case both sides ran, with ratios and costs."""
    rows = []
    for (side, feature_set, models, live_rows), ours in sorted(
        table.items(), key=lambda item: (item[0][3], item[0][1] != "medium", item[0][2])
    ):
        base = table.get(("baseline", feature_set, models, live_rows))
        if side != "ours":
            continue
        others = {
            name: table.get((side_name, feature_set, models, live_rows))
            for name, side_name in (("whole_file", "whole-file baseline"), ("previous", "previous"))
        }
        row: dict[str, Any] = {
            "feature_set": feature_set,
            "models": models,
            "rows": live_rows,
            "ours": ours,
            "baseline": base,
            **{f"{name}_ratios": _ratios(ours, other) for name, other in others.items() if other},
        }
        if base:
            row["time_ratio"] = ours["seconds"] / base["seconds"]
            row["cpu_ratio"] = ours["cpu_seconds"] / base["cpu_seconds"]
            row["rss_ratio"] = ours["peak_rss_mib"] / base["peak_rss_mib"]
            row["time_ratio_with_imports"] = (ours["seconds"] + ours["import_seconds"]) / (
                base["seconds"] + base["import_seconds"]
            )
        memory = cost.implied_memory_mb(ours["peak_rss_mib"])
        billed = ours["seconds"] + (init_seconds or 0.0)
        row["lambda"] = {
            "implied_memory_mb": memory,
            "vcpus_at_implied": round(cost.vcpus(memory), 2),
            "billed_seconds": billed,
            "cost_per_round": cost.invocation_cost(billed),
        }
        rows.append(row)
    one_model = {
        (r["feature_set"], r["rows"]): r["ours"]["seconds"] for r in rows if r["models"] == 1
    }
    for row in rows:
        single = one_model.get((row["feature_set"], row["rows"]))
        if single is not None:
            billed = row["models"] * (single + (init_seconds or 0.0))
            row["lambda"]["per_model_invocations_cost"] = cost.invocation_cost(
                billed, requests=row["models"]
            )
    return rows


def _ratios(ours: dict[str, Any], other: dict[str, Any]) -> dict[str, float]:
    """Ours / another side: time (and with imports), peak RSS, RSS after imports."""
    return {
        "time": ours["seconds"] / other["seconds"],
        "time_with_imports": (ours["seconds"] + ours["import_seconds"])
        / (other["seconds"] + other["import_seconds"]),
        "rss": ours["peak_rss_mib"] / other["peak_rss_mib"],
        "import": ours["import_seconds"] / other["import_seconds"],
    }


def growth(table: dict, feature_set: str, rows_models: int) -> dict[str, Any]:
    """Time and peak RSS against models (at 6,720 rows) and against rows (at ``rows_models``)."""
    out: dict[str, Any] = {"feature_set": feature_set}
    for side in ("ours", "baseline"):
        by_models = sorted(
            (m, f)
            for (s, fs, m, r), f in table.items()
            if s == side and fs == feature_set and r == LIVE_ROWS
        )
        by_rows = sorted(
            (r, f)
            for (s, fs, m, r), f in table.items()
            if s == side and fs == feature_set and m == rows_models
        )
        out[side] = {
            "models": _curve(by_models),
            "rows": _curve(by_rows),
        }
    return out


def _curve(points: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "x": [x for x, _ in points],
        "seconds": [f["seconds"] for _, f in points],
        "peak_rss_mib": [f["peak_rss_mib"] for _, f in points],
        "time_fit": linear_fit((x, f["seconds"]) for x, f in points) if len(points) > 1 else {},
        "rss_fit": linear_fit((x, f["peak_rss_mib"]) for x, f in points) if len(points) > 1 else {},
    }


def init_seconds(cold: dict[str, Any]) -> tuple[float | None, str]:
    """A cold start's import + first session: the built package if measured, else the venv."""
    for key, label in (("built_worker", "built package"), ("venv_worker", "source tree + venv")):
        if key in cold:
            return cold[key]["import_seconds"] + cold[key].get("session_seconds", 0.0), label
    return None, "not measured"


def targets(results: dict[str, Any], pair_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target against the users' way with the measured value and PASS/FAIL (or n/a when
    not run)."""
    found = {(r["feature_set"], r["models"], r["rows"]): r for r in pair_rows}
    checks: list[dict[str, Any]] = []
    for models, rows, time_limit, rss_limit in RATIO_TARGETS:
        row = found.get(("medium", models, rows))
        case = f"{models} model{'s' if models > 1 else ''}, medium, {rows:,} rows"
        for what, key, limit in (
            ("time", "time_ratio", time_limit),
            ("peak RSS", "rss_ratio", rss_limit),
        ):
            checks.append(
                _check(
                    f"{case}: worker {what} ≤ {limit:.2f}× baseline",
                    row.get(key) if row else None,
                    limit,
                    "×",
                )
            )
    heavy = [h for h in results.get("heavy", []) if h["trees"] == HEAVY_TREES and not h["pinned"]]
    checks.append(
        _check(
            f"{HEAVY_TREES:,}-tree ensemble on every vCPU: end to end with imports < "
            f"{HEAVY_SECONDS:.0f} s",
            heavy[0]["import_seconds"] + heavy[0]["seconds"] if heavy else None,
            HEAVY_SECONDS,
            " s",
        )
    )
    big = found.get(("all", 50, LIVE_ROWS))
    checks.append(
        _check(
            "50 models, all features: end to end < 60 s",
            big["ours"]["seconds"] if big else None,
            BIG_CASE_SECONDS,
            " s",
        )
    )
    checks.append(
        _check(
            "50 models, all features: peak RSS < 2 GB",
            big["ours"]["peak_rss_mib"] if big else None,
            BIG_CASE_RSS_MIB,
            " MiB",
        )
    )
    cold = results.get("cold_start", {})
    which = "built package" if "built_worker" in cold else "venv (no built package found)"
    value = (cold.get("built_worker") or cold.get("venv_worker") or {}).get("import_seconds")
    checks.append(_check(f"cold import of the worker, {which} ≤ 1.5 s", value, 1.5, " s"))
    webhook = results.get("webhook", {})
    checks.append(_check("webhook warm p99 < 50 ms", webhook.get("p99_ms"), WEBHOOK_P99_MS, " ms"))
    return checks


def _check(name: str, value: float | None, limit: float, unit: str) -> dict[str, Any]:
    if value is None:
        return {"target": name, "value": None, "limit": limit, "verdict": "n/a", "unit": unit}
    verdict = "PASS" if value <= limit else "FAIL"
    return {"target": name, "value": value, "limit": limit, "verdict": verdict, "unit": unit}


def previous_ratios(results: dict[str, Any], pair_rows: list[dict[str, Any]]) -> list[dict]:
    """Today / the previous release: the worker's time and peak RSS per pair, its cold
    import and the webhook's warm p99 (empty when the previous release was not run)."""
    out: list[dict[str, Any]] = []
    for row in pair_rows:
        ratios = row.get("previous_ratios")
        if ratios:
            case = f"{row['feature_set']} ×{row['models']}, {row['rows']:,} rows"
            out.append({"what": f"worker time, {case}", "ratio": ratios["time"]})
            out.append({"what": f"worker peak RSS, {case}", "ratio": ratios["rss"]})
    cold = results.get("cold_start", {})
    if "previous_venv_worker" in cold and "venv_worker" in cold:
        out.append(
            {
                "what": "cold import of the worker (venv)",
                "ratio": cold["venv_worker"]["import_seconds"]
                / cold["previous_venv_worker"]["import_seconds"],
            }
        )
    today, before = results.get("webhook") or {}, results.get("webhook_previous") or {}
    if today.get("p99_ms") and before.get("p99_ms"):
        out.append({"what": "webhook warm p99", "ratio": today["p99_ms"] / before["p99_ms"]})
    return out


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Everything the report shows, derived from ``results``."""
    table = medians(results["runs"])
    init, init_label = init_seconds(results.get("cold_start", {}))
    pair_rows = pairs(table, init)
    plan = results["meta"]["plan"]
    return {
        "pairs": pair_rows,
        "init_seconds": init,
        "init_from": init_label,
        "growth": growth(table, plan["feature_sets"][0], plan["growth_rows_models"]),
        "targets": targets(results, pair_rows),
        "previous": previous_ratios(results, pair_rows),
        "scaling": summarize_scaling(results, table, pair_rows),
    }
