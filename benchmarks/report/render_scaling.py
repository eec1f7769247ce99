"""The report's sections on scale: the heavy ensemble, the tournaments, session creation, the
Lambda package, the marginal cost per model, and the scaling targets."""

from __future__ import annotations

from typing import Any

from benchmarks.report.tables import figure, table


def render_scaling(results: dict[str, Any], scaling: dict[str, Any]) -> str:
    """Sections 8-11 and the scaling targets' PASS/FAIL lines."""
    parts = [
        _heavy(scaling["heavy"]),
        _tournaments(scaling["tournaments"]),
        _sessions(results.get("sessions") or {}),
        _package(results.get("package") or {}),
        _marginal(scaling.get("marginal")),
        _targets(scaling["targets"]),
    ]
    return "\n".join(p for p in parts if p)


def _heavy(heavy: dict[str, Any]) -> str | None:
    runs = heavy.get("runs") or []
    if not runs:
        return None
    body = [
        [
            f"{r['members']} x 2,000",
            f"{r['trees']:,}",
            f"{r['onnx_bytes'] / 1e6:.1f}",
            f"{r['cpus']}{' (pinned)' if r['pinned'] else ''}",
            figure(r.get("session_seconds"), ".2f"),
            figure(r.get("predict_seconds"), ".2f"),
            figure(r["import_seconds"] + r["seconds"], ".2f"),
            figure(r["peak_rss_mib"], ".0f"),
            f"{r['others_share']:.0%}",
        ]
        for r in runs
    ]
    text = table(
        [
            "ensemble",
            "trees",
            "ONNX MB",
            "CPUs",
            "session s",
            "predict s",
            "submitted s (+imports)",
            "peak MiB",
            "noise",
        ],
        body,
        f"8. Heavy ensemble: one model of K x 2,000 trees ({heavy['feature_set']} features, "
        "6,720 rows), predicted and submitted by the worker",
    )
    limits = heavy.get("largest_trees")
    if limits:
        fit, rss = heavy["time_fit"], heavy["rss_fit"]
        text += (
            f"growth on every CPU: {fit['slope'] * 1000:.3f} s and {rss['slope'] * 1000:.1f} MiB "
            f"per 1,000 trees ({len(heavy['points'])} points, "
            f"{'linear' if fit['linear'] and rss['linear'] else 'NOT linear'}); largest "
            "ensemble by each limit (extrapolated): "
            + "; ".join(f"{k}: {_trees(v)}" for k, v in limits.items())
            + "\n"
        )
    return text


def _trees(value: float | None) -> str:
    return "no limit (flat)" if value is None else f"{value:,.0f} trees"


def _tournaments(rows: list[dict[str, Any]]) -> str | None:
    if not any(r["tournament"] != "classic (medium)" for r in rows):
        return None
    body = [
        [
            r["tournament"],
            f"{r['rows']:,}",
            " → ".join(map(str, r["models"])),
            " → ".join(f"{s:.1f}" for s in r["seconds"]),
            " → ".join(f"{m:.0f}" for m in r["peak_rss_mib"]),
            figure(r["seconds_per_model"], ".3f"),
        ]
        for r in rows
    ]
    return table(
        ["tournament", "live rows", "models", "seconds (one worker)", "peak MiB", "s per model"],
        body,
        "9. Seconds per model and per tournament (2,000-tree example models; one worker, "
        "imports excluded; s per model = marginal between the two largest counts)",
    )


def _sessions(sessions: dict[str, Any]) -> str | None:
    files = {k: v for k, v in sessions.items() if isinstance(v, dict)}
    if not files:
        return None
    out = []
    for label, f in files.items():
        body = [
            [
                name,
                figure(v["seconds"] * 1000, ".0f"),
                figure(v["ratio"], ".2f"),
                figure(v["cpu_seconds"] * 1000, ".0f"),
                figure(v["cpu_ratio"], ".2f"),
                f"{v['profile_s']['loading'] * 1000:.0f} + "
                f"{v['profile_s']['initialisation'] * 1000:.0f}",
                "yes" if v["identical_predictions"] else "NO",
                "yes" if v["metadata_intact"] else "NO",
            ]
            for name, v in f["variants"].items()
        ]
        body += [[name, "refused", "", "", "", "", "", ""] for name in f.get("refused", {})]
        out.append(
            table(
                ["variant", "ms", "×", "CPU ms", "CPU ×", "load + init ms", "same", "metadata"],
                body,
                f"10. Session creation, {label} (ONNX {f['bytes'] / 1e6:.1f} MB, ORT format "
                f"{f['ort_bytes'] / 1e6:.1f} MB): median of {sessions.get('repeats', '?')} "
                "interleaved builds; load + init from onnxruntime's profiler, one build",
            )
        )
    return "\n".join(out)


def _package(package: dict[str, Any]) -> str | None:
    if "worker_bytes" not in package:
        return None
    return (
        f"11. Lambda packages (scripts/build_lambda.py, built {package.get('built_at') or '?'}"
        f" UTC): worker {package['worker_bytes'] / 1e6:.1f} MB unzipped, "
        f"{package['worker_under_limit_bytes'] / 1e6:.1f} MB under Lambda's "
        f"{package['limit_bytes']:,}-byte limit; webhook {package['webhook_bytes'] / 1e6:.1f} MB\n"
    )


def _marginal(marginal: dict[str, Any] | None) -> str | None:
    if not marginal:
        return None
    return (
        f"Marginal cost per medium model, {marginal['from_models']} → {marginal['to_models']} "
        f"models: {marginal['seconds_per_model']:.3f} s against "
        f"{marginal['onnxruntime_alone_seconds']:.3f} s for onnxruntime's predict alone "
        f"({marginal['ratio']:.2f}×)\n"
    )


NOISY = 0.25  # other processes took more than this share of the CPUs: say so


def _targets(checks: list[dict[str, Any]]) -> str:
    heading = "Targets at scale (noise = share of the CPUs other processes took while measured)"
    lines = [heading, "-" * len(heading)]
    for c in checks:
        value = "not measured" if c["value"] is None else f"{c['value']:.2f}{c['unit']}"
        sign = "≤" if c["at_most"] else "≥"
        noise = c.get("noise")
        note = ""
        if noise is not None:
            note = f"; noise {noise:.0%}" + (
                " — noisy, rerun on a quiet machine" if noise > NOISY else ""
            )
        lines.append(
            f"{c['verdict']:<5} {c['target']}: {value} (limit {sign} {c['limit']}{c['unit']}{note})"
        )
    return "\n".join(lines) + "\n"
