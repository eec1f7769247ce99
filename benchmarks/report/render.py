"""The benchmark's text report: aligned tables, then one PASS/FAIL line per target."""

from __future__ import annotations

from typing import Any

from benchmarks.report import cost
from benchmarks.report.render_scaling import render_scaling
from benchmarks.report.tables import figure, table

PHASE_CASES = 3  # largest pairs whose time split is shown


def render(results: dict[str, Any], summary: dict[str, Any]) -> str:
    """The whole report."""
    meta = results["meta"]
    parts = [
        f"numerai-bot benchmark, {meta['date']}, commit {meta['commit'] or '?'}: "
        f"{meta['cpu_count']} CPUs ({meta['cpu']}), Python {meta['python']}, "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        f"core under test: {meta.get('handlers', 'handlers/')}; example model "
        f"({meta.get('input_type', 'float32')} input): "
        + "; ".join(
            f"{fs} {m['trees']:,} trees, ONNX {m['onnx_bytes'] / 1e6:.1f} MB"
            for fs, m in meta["models"].items()
        )
        + f"; suite {meta.get('seconds', 0):.0f} s",
        "",
        _pairs(summary["pairs"]),
        _against_whole_file(summary["pairs"]),
        _phases(summary["pairs"]),
        _cost(summary),
        _cold(results.get("cold_start", {})),
        _webhook(results.get("webhook", {})),
        _inference(results.get("inference", {})),
        _growth(summary["growth"]),
        _sharded(results.get("sharded") or {}),
        _targets(summary["targets"]),
        _previous(summary.get("previous", []), meta.get("previous")),
        render_scaling(results, summary["scaling"]) if "scaling" in summary else None,
        *(
            ["FAILED parts (see their logs):", *[f"  {e}" for e in results["errors"]], ""]
            if results.get("errors")
            else []
        ),
    ]
    return "\n".join(p for p in parts if p is not None)


def _pairs(rows: list[dict[str, Any]]) -> str:
    body = []
    for r in rows:
        o, b = r["ours"], r["baseline"] or {}
        body.append(
            [
                r["feature_set"],
                r["models"],
                f"{r['rows']:,}",
                figure(o["seconds"], ".1f"),
                figure(b.get("seconds"), ".1f"),
                figure(r.get("time_ratio"), ".2f"),
                figure(r.get("time_ratio_with_imports"), ".2f"),
                figure(r.get("cpu_ratio"), ".2f"),
                figure(o["peak_rss_mib"], ".0f"),
                figure(b.get("peak_rss_mib"), ".0f"),
                figure(r.get("rss_ratio"), ".2f"),
                f"{max(o.get('others_share', 0), b.get('others_share', 0)):.0%}",
                o["repeats"],
            ]
        )
    return table(
        [
            "features",
            "models",
            "rows",
            "ours s",
            "base s",
            "time ×",
            "+imports ×",
            "CPU ×",
            "ours MiB",
            "base MiB",
            "RSS ×",
            "noise",
            "runs",
        ],
        body,
        "1-2. Worker end to end vs the users' way: Numerai's current example in a loop, only "
        "the model's columns read (median of runs; × = ours / baseline; noise = CPU share "
        "other processes took)",
    )


def _phases(rows: list[dict[str, Any]]) -> str | None:
    cases = [r for r in rows if r["baseline"]]
    cases = sorted(cases, key=lambda r: (r["models"], r["feature_set"] == "all"))[-PHASE_CASES:]
    if not cases:
        return None
    labels = list(dict.fromkeys(label for r in cases for label in r["ours"]["phases"]))
    body = [
        [label, *[figure(r["ours"]["phases"].get(label), ".2f") for r in cases]] for label in labels
    ]
    base_labels = list(dict.fromkeys(label for r in cases for label in r["baseline"]["phases"]))
    body += [
        ["baseline: " + label, *[figure(r["baseline"]["phases"].get(label), ".2f") for r in cases]]
        for label in base_labels
    ]
    headers = ["cumulative seconds", *[f"{r['feature_set']} ×{r['models']}" for r in cases]]
    timing = table(headers, body, "Where the time goes (ours: wrapped core calls; uploads overlap)")
    return timing + "\n" + _memory_phases(cases)


def _memory_phases(cases: list[dict[str, Any]]) -> str:
    """Ours: RSS after imports, then how much each step raised the peak, then the peak."""
    growth = [r["ours"].get("phase_peak_growth_mib", {}) for r in cases]
    labels = [
        label
        for label in dict.fromkeys(label for g in growth for label in g)
        if any(g.get(label, 0.0) >= 0.5 for g in growth)
    ]
    body = [
        [
            "RSS after imports",
            *[figure(r["ours"].get("rss_after_imports_mib"), ".0f") for r in cases],
        ]
    ]
    body += [[label, *[figure(g.get(label), ".0f") for g in growth]] for label in labels]
    body.append(["peak RSS", *[figure(r["ours"].get("peak_rss_mib"), ".0f") for r in cases]])
    headers = ["MiB (ours)", *[f"{r['feature_set']} ×{r['models']}" for r in cases]]
    return table(
        headers, body, "Where the peak memory grows (ours: rise of the peak during each step)"
    )


def _cost(summary: dict[str, Any]) -> str:
    body = []
    for r in summary["pairs"]:
        lam = r["lambda"]
        body.append(
            [
                r["feature_set"],
                r["models"],
                f"{r['rows']:,}",
                figure(r["ours"]["peak_rss_mib"], ".0f"),
                lam["implied_memory_mb"],
                figure(lam["vcpus_at_implied"], ".2f"),
                figure(lam["billed_seconds"], ".1f"),
                f"${lam['cost_per_round']:.6f}",
                f"${lam['per_model_invocations_cost']:.6f}"
                if "per_model_invocations_cost" in lam
                else "-",
            ]
        )
    init = summary["init_seconds"]
    return table(
        [
            "features",
            "models",
            "rows",
            "peak MiB",
            "Lambda MB",
            "vCPUs",
            "billed s",
            "$/round, 1 call",
            "$/round, 1 call/model",
        ],
        body,
        f"4. Peak RSS, implied Lambda memory (peak + 10 %, 64 MB steps) and cost per round at "
        f"{cost.MEASURED_MEMORY_MB} MB (2 vCPUs, as measured), ${cost.PRICE_PER_GB_SECOND}/GB-s "
        f"+ $0.20/M requests; billed s adds the init phase ({figure(init, '.2f')} s, "
        f"{summary['init_from']}); '1 call/model' = one worker per model, as per-model webhooks do",
    )


def _cold(cold: dict[str, Any]) -> str | None:
    if not cold:
        return None
    labels = {
        "built_worker": "worker, built package, isolated 3.12",
        "built_webhook": "webhook, built package",
        "venv_worker": "worker, source tree + venv",
        "previous_venv_worker": "worker, previous release, venv",
        "venv_webhook": "webhook, source tree + venv",
    }
    body = [
        [
            label,
            figure(cold[key]["import_seconds"], ".2f"),
            figure(cold[key].get("session_seconds"), ".3f"),
            figure(cold[key]["process_seconds"], ".2f"),
            cold[key]["runs"],
        ]
        for key, label in labels.items()
        if key in cold
    ]
    note = ""
    if "built_worker" not in cold:
        note = " — no built package (a build failed, or no CPython 3.12): venv figures only"
    elif cold["built_worker"].get("built_at"):
        note = f" — package built {cold['built_worker']['built_at']} UTC"
    return table(
        ["fresh interpreter", "import s", "1st session s", "process s", "runs"],
        body,
        "3a. Cold start (median; warm disk cache, so a lower bound of Lambda's init)" + note,
    )


def _webhook(hook: dict[str, Any]) -> str | None:
    if not hook:
        return None
    return table(
        ["calls", "first call ms", "p50 ms", "p99 ms", "max ms", "hand-offs recorded"],
        [
            [
                hook["calls"],
                figure(hook["first_call_ms"], ".1f"),
                figure(hook["p50_ms"], ".3f"),
                figure(hook["p99_ms"], ".3f"),
                figure(hook["max_ms"], ".2f"),
                hook["invocations_recorded"],
            ]
        ],
        "3b. Webhook handler, warm: event in → async invoke issued (recording invoker)",
    )


def _inference(inference: dict[str, Any]) -> str | None:
    sets = [k for k, v in inference.items() if isinstance(v, dict)]
    if not sets:
        return None
    rows = [
        ("onnxruntime, worker's way (ms): int8 matrix, batches", "ort_s", 1000),
        ("onnxruntime, whole matrix in one run", "ort_whole_matrix_s", 1000),
        ("onnxruntime, 1 thread", "ort_1thread_s", 1000),
        ("onnxruntime, graph optimisation off", "ort_no_graph_opt_s", 1000),
        ("LightGBM native, all threads", "native_s", 1000),
        ("LightGBM native, 1 thread", "native_1thread_s", 1000),
        ("LightGBM native on the pandas frame", "native_pandas_s", 1000),
        ("session creation", "session_create_s", 1000),
        ("LightGBM model load (text)", "native_load_s", 1000),
        ("live: open + ids (pyarrow)", "live_open_s", 1000),
        ("live: read model's columns (pyarrow)", "read_columns_s", 1000),
        ("live: int8 matrix", "matrix_s", 1000),
        ("live: pandas.read_parquet, whole file", "read_pandas_whole_file_s", 1000),
        ("rows re-ranked, onnxruntime vs native", "rows_reranked", 1),
    ]
    body = []
    for label, key, scale in rows:
        body.append(
            [
                label,
                *[
                    figure(inference[s][key] * scale, ".0f" if scale > 1 else "d")
                    if key in inference[s]
                    else "-"
                    for s in sets
                ],
            ]
        )
    first = inference[sets[0]]
    title = (
        f"5. Inference alone, ms (median of {inference['repeats']} after a warm-up; "
        f"{first['rows']:,} rows; worker's options: {first['threads']} intra-op threads, "
        f"{first['graph_optimization'].rsplit('.', 1)[-1]})"
    )
    return table(["", *[f"{s} ({inference[s]['features']})" for s in sets]], body, title)


def _sharded(run: dict[str, Any]) -> str | None:
    if not run:
        return None
    dispatch = run["dispatch"]
    body = [
        [
            "first worker: stage live file, hand out shards",
            "-",
            figure(dispatch["import_seconds"] + dispatch["seconds"], ".1f"),
            figure(dispatch["peak_rss_mib"], ".0f"),
        ]
    ]
    for i, shard in enumerate(run["shards"]):
        body.append(
            [
                f"shard {i} (fresh process, own /tmp)",
                shard["models"],
                figure(shard["import_seconds"] + shard["seconds"], ".1f"),
                figure(shard["peak_rss_mib"], ".0f"),
            ]
        )
    title = (
        f"7. Fan-out: {run['models']} {run['feature_set']} models in shards of "
        f"{run['shard_size']} (each shard alone on the 2 vCPUs, as each Lambda has its own)"
    )
    table_text = table(["invocation", "models", "s incl. import", "peak MiB"], body, title)
    return table_text + (
        f"Lambda wall time (shards run at once): {run['lambda_wall_seconds']:.1f} s; "
        f"all shards one after the other here: {run['one_worker_here_seconds']:.1f} s; "
        f"largest Lambda needed: {run['peak_rss_mib']:.0f} MiB; "
        f"live file downloads from Numerai: {run['live_downloads_from_numerai']}\n"
    )


def _growth(growth: dict[str, Any]) -> str:
    body = []
    for side in ("ours", "baseline"):
        for axis, per in (("models", "model"), ("rows", "1k rows")):
            curve = growth[side][axis]
            if len(curve["x"]) < 2:
                continue
            scale = 1000 if axis == "rows" else 1
            for key, fit_key, unit in (
                ("seconds", "time_fit", "s"),
                ("peak_rss_mib", "rss_fit", "MiB"),
            ):
                fit = curve[fit_key]
                spec = ".1f" if unit == "s" else ".0f"
                body.append(
                    [
                        f"{side}: {'time' if unit == 's' else 'peak RSS'} vs {axis}",
                        " → ".join(f"{x:,}" for x in curve["x"]),
                        " → ".join(format(v, spec) for v in curve[key]) + f" {unit}",
                        " / ".join(f"{v * scale:.3g}" for v in fit["segment_slopes"])
                        + f" {unit} per {per}",
                        "linear"
                        if fit["linear"]
                        else f"NOT linear (misses {fit['worst_relative_miss']:.0%})",
                    ]
                )
    if not body:
        return "6. Growth: not measured (full run only)\n"
    return table(
        ["curve", "points", "values", "marginal cost, per segment", "straight line?"],
        body,
        f"6. Growth ({growth['feature_set']} features; linear = a straight line misses no point "
        "by more than 10 % of the largest value)",
    )


def _against_whole_file(rows: list[dict[str, Any]]) -> str | None:
    """The same runs against the older, whole-file baseline: what earlier reports compared."""
    body = [
        [
            r["feature_set"],
            r["models"],
            f"{r['rows']:,}",
            figure(r["whole_file_ratios"]["time"], ".2f"),
            figure(r["whole_file_ratios"]["time_with_imports"], ".2f"),
            figure(r["whole_file_ratios"]["rss"], ".2f"),
            figure(r.get("time_ratio"), ".2f"),
            figure(r.get("rss_ratio"), ".2f"),
        ]
        for r in rows
        if "whole_file_ratios" in r
    ]
    if not body:
        return None
    return table(
        [
            "features",
            "models",
            "rows",
            "time ×",
            "+imports ×",
            "RSS ×",
            "fair time ×",
            "fair RSS ×",
        ],
        body,
        "1b. The same runs against the whole-file baseline (pd.read_parquet of every column, "
        "then the model's: older example scripts), beside the fair one",
    )


def _previous(ratios: list[dict[str, Any]], note: str | None) -> str | None:
    """Today / the previous release, measured in the same run."""
    heading = f"Today / previous release ({note or 'not compared'}); above 1 is slower or bigger"
    lines = [heading, "-" * len(heading)]
    lines += [f"{r['ratio']:5.2f}×  {r['what']}" for r in ratios]
    return "\n".join(lines) + "\n"


def _targets(checks: list[dict[str, Any]]) -> str:
    heading = "Targets against the users' way (Numerai's current example)"
    lines = [heading, "-" * len(heading)]
    for c in checks:
        value = "not measured" if c["value"] is None else f"{c['value']:.2f}{c['unit']}"
        lines.append(f"{c['verdict']:<5} {c['target']}: {value} (limit {c['limit']}{c['unit']})")
    return "\n".join(lines) + "\n"
