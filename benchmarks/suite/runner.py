"""Run the whole suite: pairs (ours vs baseline), growth, inference, webhook, cold start.

Every timed side is a fresh subprocess (see :mod:`benchmarks.suite.launch`); this process only
serves the stand-ins, publishes models and opens a new round before each side runs, so no
ledger entry, idempotency record or cached live file carries over between runs.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.suite import cold_start
from benchmarks.suite.heavy_ensemble import heavy_ensemble
from benchmarks.suite.launch import REPO, BenchError, run_child
from benchmarks.suite.machine import Interference, wait_for_quiet
from benchmarks.suite.models import ModelFiles, ModelSpec, example_model
from benchmarks.suite.package import built_trees
from benchmarks.suite.previous import PreviousCore, extract_previous
from benchmarks.suite.stack import BenchStack
from benchmarks.suite.tournament_models import tournament_model
from numerai_bot.tournaments import Tournament, tournament
from standins.synthetic_data import LIVE_ROWS
from standins.synthetic_tournaments import SHAPES

# Each side of a pair: how its child runs (mode) and with what extra spec. "ours" and
# "previous" are the worker (today's and the previous release's handlers/); the baselines
# are the users' loop (benchmarks.measure.sides), reading the live file their own way.
OURS, PREVIOUS, BASELINE, WHOLE_FILE = "ours", "previous", "baseline", "whole-file baseline"
BASELINE_READS = {BASELINE: "model_columns", WHOLE_FILE: "whole_file"}


@dataclass(frozen=True)
class Plan:
    """What one run of the suite measures."""

    feature_sets: tuple[str, ...]
    model_counts: tuple[int, ...]  # pairs, ours vs baseline, per feature set
    growth_models: tuple[int, ...]  # more model counts, ours only, first feature set
    growth_rows: tuple[int, ...]  # more live sizes, first feature set
    growth_rows_models: int
    growth_rows_baseline: bool
    repeats: int  # of each pair
    cold_runs: int
    webhook_calls: int
    inference_repeats: int
    sharded: tuple[int, int] | None = None  # (models, shard size): fan-out, first feature set
    # Scale: one model of K x 2,000 trees (K = 1 is the pair's single model) ...
    heavy_feature_set: str = "medium"
    heavy_members: tuple[int, ...] = ()  # ... on every vCPU of the machine
    heavy_one_cpu: tuple[int, ...] = ()  # ... pinned to one core
    tournament_counts: tuple[int, ...] = ()  # Signals and Crypto models per run
    session_repeats: int = 0  # session-cost variants, builds each (0: not measured)
    package: bool = True  # build (once per content) and size the Lambda packages
    whole_file_baseline: bool = True  # the older whole-file baseline in every pair, labelled
    previous: bool = True  # the previous release's worker in every pair (today/previous)


QUICK = Plan(
    ("medium",),
    (1, 10),
    (),
    (),
    10,
    False,
    1,
    3,
    1000,
    3,
    heavy_members=(10,),
    heavy_one_cpu=(10,),
    tournament_counts=(1, 10),
)
# The scaling cases alone (~10 min on a quiet 2-core machine): pairs of 1, 10, 50 medium models,
# the heavy ensemble's growth, Signals and Crypto, sessions, package, cold start, webhook.
SCALING = Plan(
    ("medium",),
    (1, 10, 50),
    (),
    (),
    10,
    False,
    1,
    5,
    1000,
    5,
    heavy_feature_set="all",
    heavy_members=(5, 10, 20),
    heavy_one_cpu=(10,),
    tournament_counts=(1, 10, 50),
    session_repeats=15,
)
FULL = Plan(
    ("medium", "all"),
    (1, 10, 50),
    (200,),
    (20_160, 67_200),
    10,
    True,
    3,
    5,
    1000,
    5,
    (200, 50),
    heavy_feature_set="all",
    heavy_members=(5, 10, 20),
    heavy_one_cpu=(10,),
    tournament_counts=(1, 10, 50),
    session_repeats=15,
)


def run_suite(
    plan: Plan,
    workdir: Path | None = None,
    log: Callable[[str], None] = print,
    handlers: Path | None = None,
    input_type: str = "float32",
    previous_ref: str | None = None,
) -> dict:
    """Measure everything in ``plan``; the JSON-ready results (see docs/benchmarks.md).

    ``handlers`` benchmarks another copy of the core (default: the repository's);
    ``input_type`` is the ONNX input of the published models (the baseline is unchanged);
    ``previous_ref`` is the release to compare with (default: see :mod:`.previous`).
    """
    workdir = Path(workdir or tempfile.mkdtemp(prefix="numerai-bot-bench-"))
    log(f"work folder (child logs): {workdir}")
    previous: PreviousCore | None = None
    previous_note = "not compared (plan)"
    if plan.previous:
        found_previous = extract_previous(previous_ref, workdir / "previous")
        if isinstance(found_previous, str):
            previous_note = found_previous
        else:
            previous = found_previous
            previous_note = f"{previous.ref} ({previous.commit})" + (
                ", handlers/ unchanged since: the today/previous ratios show the noise"
                if previous.same_as_today
                else ""
            )
        log(f"previous release: {previous_note}")
    sets = dict.fromkeys((*plan.feature_sets, plan.heavy_feature_set))
    models = {fs: example_model(ModelSpec(fs, input_type=input_type), log=log) for fs in sets}
    heavy = {
        k: heavy_ensemble(models[plan.heavy_feature_set], k, log)
        for k in sorted({*plan.heavy_members, *plan.heavy_one_cpu})
    }
    tournament_files = {
        t: tournament_model(t, log=log)[0] for t in SHAPES if plan.tournament_counts
    }
    results: dict[str, Any] = {
        "meta": {
            **machine_info(plan, models),
            "handlers": str(handlers or REPO / "handlers"),
            "input_type": input_type,
            "workdir": str(workdir),
            "previous": previous_note,
            "previous_handlers": str(previous.handlers) if previous else None,
        },
        "runs": [],
    }
    most = max(
        (
            *plan.model_counts,
            *plan.growth_models,
            plan.growth_rows_models,
            plan.sharded[0] if plan.sharded else 0,
        )
    )
    errors: list[str] = results.setdefault("errors", [])

    def section(name: str, run: Callable[[], Any]) -> Any:
        """Run one part; a failure is recorded and the suite goes on with the next part."""
        try:
            return run()
        except BenchError as error:
            log(f"FAILED {name}: {error}")
            errors.append(f"{name}: {error}")
            return None

    with BenchStack(workdir / "stack", most, max(plan.tournament_counts, default=0)) as stack:
        suite = _Suite(stack, models, workdir, results["runs"], log, handlers)
        suite.previous = previous.handlers if previous else None
        sides = (
            OURS,
            BASELINE,
            *((WHOLE_FILE,) if plan.whole_file_baseline else ()),
            *((PREVIOUS,) if previous else ()),
        )
        for feature_set in plan.feature_sets:
            for count in plan.model_counts:
                section(
                    f"pair {feature_set} x{count}",
                    lambda fs=feature_set, n=count: suite.pair(fs, n, plan.repeats, sides),
                )
        main_set = plan.feature_sets[0]
        for count in plan.growth_models:
            section(f"ours {main_set} x{count}", lambda n=count: suite.side("ours", main_set, n))
        if plan.sharded:
            count, size = plan.sharded
            results["sharded"] = section(
                f"ours {main_set} x{count} in shards of {size}",
                lambda: suite.sharded(main_set, count, size),
            )
        for which in tournament_files:
            for count in plan.tournament_counts:
                section(
                    f"ours {which} x{count}",
                    lambda w=which, n=count: suite.tournament_side(
                        tournament(w), tournament_files[w], n
                    ),
                )
        results["heavy"] = []
        for cpus, members in [
            *[(None, k) for k in plan.heavy_members],
            *[(1, k) for k in plan.heavy_one_cpu],
        ]:
            found = section(
                f"heavy {members} x 2,000 trees on {cpus or 'every'} CPU",
                lambda k=members, c=cpus: suite.heavy(plan.heavy_feature_set, k, heavy[k], c),
            )
            if found:
                results["heavy"].append(found)
        log("inference alone: onnxruntime vs native LightGBM")
        stack.new_round(live_rows=LIVE_ROWS)
        results["inference"] = section(
            "inference alone",
            lambda: run_child(
                "inference",
                {
                    "live_path": str(stack.live_path),
                    "repeats": plan.inference_repeats,
                    "models": {
                        fs: {"onnx": str(m.onnx), "native": str(m.native)}
                        for fs, m in models.items()
                    },
                },
                {},
                workdir / "children",
                "inference",
                handlers=handlers,
            ),
        )
        log(f"webhook: {plan.webhook_calls} warm calls")

        def webhook(core: Path | None, name: str) -> dict:
            spec = {"token": stack.token, "calls": plan.webhook_calls}
            env = stack.webhook_env()
            return run_child("webhook", spec, env, workdir / "children", name, handlers=core)

        results["webhook"] = section("webhook latency", lambda: webhook(handlers, "webhook"))
        if previous:  # after today's, then today's again: the pair brackets the previous
            try:  # like the pairs: an old core that cannot run here is reported, not fatal
                results["webhook_previous"] = webhook(previous.handlers, "webhook-previous")
            except BenchError as error:
                log(f"previous release's webhook not measured: {error}")
            again = section("webhook latency, again", lambda: webhook(handlers, "webhook-2"))
            if results["webhook"] and again:
                results["webhook"]["p99_ms_all"] = [results["webhook"]["p99_ms"], again["p99_ms"]]
        for rows in plan.growth_rows:
            stack.new_round(live_rows=rows)  # writes the bigger live file for what follows
            if plan.growth_rows_baseline and rows == max(plan.growth_rows):
                section(  # the biggest file: a pair, every side in the same round, once
                    f"pair {main_set} x{plan.growth_rows_models} {rows} rows",  # (~1 min each)
                    lambda r=rows: suite.pair(main_set, plan.growth_rows_models, 1, sides, r),
                )
            else:
                section(
                    f"ours {main_set} x{plan.growth_rows_models} {rows} rows",
                    lambda r=rows: suite.side(OURS, main_set, plan.growth_rows_models, r),
                )
    if plan.session_repeats:
        log(f"session creation: variants, {plan.session_repeats} builds each")
        chosen = {"2,000 trees": models[plan.heavy_feature_set].onnx}
        if heavy:  # the 20,000-tree ensemble when measured, else the largest
            members = 10 if 10 in heavy else max(heavy)
            chosen[f"{members * 2:,}k trees"] = heavy[members]
        results["sessions"] = section(
            "session cost",
            lambda: run_child(
                "sessions",
                {"models": {k: str(v) for k, v in chosen.items()}, "repeats": plan.session_repeats},
                {},
                workdir / "children",
                "sessions",
                handlers=handlers,
            ),
        )
    trees: dict[str, Any] = {}
    if plan.package:
        found = section("package size", lambda: built_trees(log))
        if found:
            trees = found
            results["package"] = {k: str(v) if isinstance(v, Path) else v for k, v in found.items()}
    log(f"cold start: {plan.cold_runs} fresh interpreters per variant")
    wait_for_quiet()
    with Interference() as cpu:
        results["cold_start"] = section(
            "cold start",
            lambda: cold_start.measure(
                models[plan.feature_sets[0]].onnx,
                plan.cold_runs,
                trees,
                previous.handlers if previous else None,
            ),
        )
    if results["cold_start"]:
        results["cold_start"]["others_share"] = cpu.others_share
    if suite.previous_failures:
        results["meta"]["previous"] += f"; failed to run: {suite.previous_failures[0][:300]}"
    keys = ("inference", "webhook", "webhook_previous", "cold_start", "sharded", "sessions")
    for key in (*keys, "package"):
        if results.get(key) is None:
            results[key] = {}
    return results


class _Suite:
    """Runs sides against the stack and appends their figures to ``runs``."""

    def __init__(
        self,
        stack: BenchStack,
        models: dict[str, ModelFiles],
        workdir: Path,
        runs: list[dict],
        log: Callable[[str], None],
        handlers: Path | None = None,
    ) -> None:
        self.stack = stack
        self.models = models
        self.workdir = workdir
        self.runs = runs
        self.log = log
        self.handlers = handlers
        self.previous: Path | None = None  # the previous release's handlers/, if compared
        self.previous_failures: list[str] = []

    def pair(
        self,
        feature_set: str,
        count: int,
        repeats: int,
        sides: tuple[str, ...] = (OURS, BASELINE),
        rows: int = LIVE_ROWS,
    ) -> None:
        """Every side on the same round and live file, ``repeats`` times, rotating which
        side goes first (ours-baseline-…, baseline-…-ours, …) so that drifts cancel out."""
        for repeat in range(repeats):
            self.stack.new_round(live_rows=rows)
            shift = repeat % len(sides)
            for side in (*sides[shift:], *sides[:shift]):
                try:
                    self.side(side, feature_set, count, rows, new_round=False, repeat=repeat)
                except BenchError as error:
                    if side != PREVIOUS:
                        raise
                    # An old core that cannot run today's harness is reported, not a failure
                    # of today's: the report says why its ratios are missing.
                    self.log(f"previous release not measured: {error}")
                    self.previous_failures.append(str(error))

    def side(
        self,
        side: str,
        feature_set: str,
        count: int,
        rows: int = LIVE_ROWS,
        new_round: bool = True,
        repeat: int = 0,
    ) -> dict:
        """One measured run in a fresh subprocess; its figures, also kept in ``runs``."""
        if new_round:
            self.stack.new_round(live_rows=rows)
        files = self.models[feature_set]
        name = f"{side.replace(' ', '-')}-{feature_set}-{count}m-{rows}r-{repeat}"
        handlers = self.previous if side == PREVIOUS else self.handlers
        if side in (OURS, PREVIOUS):
            # Today's and the previous worker submit for models of their own (see BenchStack).
            prefix = "" if side == OURS else "previous-"
            names = self.stack.names if side == OURS else self.stack.previous_names
            uri = self.stack.publish(
                f"{prefix}{feature_set}-{count}", files.onnx_bytes, count, names=names
            )
            mode, spec, env = "ours", {}, self.stack.worker_env(uri, self._tmp())
        else:
            mode, env = "baseline", {}
            spec = {
                **self.stack.numerai_credentials(),
                "feature_set": feature_set,
                "models": self.stack.baseline_names[:count],
                "pickle": str(files.pickle),
                "read": BASELINE_READS[side],
            }
        figures = run_child(mode, spec, env, self.workdir / "children", name, handlers=handlers)
        if figures["submitted"] != count or figures["failed"]:
            raise BenchError(f"{name}: {figures['submitted']} of {count} submitted")
        entry = {
            "side": side,
            "feature_set": feature_set,
            "models": count,
            "rows": rows,
            "repeat": repeat,
        }
        entry.update(figures)
        self.runs.append(entry)
        self.log(
            f"{side:<8} {feature_set:<6} {count:>3} models {rows:>6} rows: "
            f"{figures['seconds']:6.2f} s ({figures['cpu_seconds']:5.1f} CPU s), peak RSS "
            f"{figures['peak_rss_mib']:5.0f} MiB; other processes took "
            f"{figures['others_share']:4.0%} of the CPUs"
        )
        return entry

    def tournament_side(self, which: Tournament, onnx: Path, count: int) -> dict:
        """``count`` copies of a Signals or Crypto model in one worker, in a new round of
        that tournament; kept in ``runs`` with the tournament as the feature set."""
        self.stack.new_round(which=which)
        rows = SHAPES[which.name].live_rows
        name = f"ours-{which.name}-{count}m"
        uri = self.stack.publish(f"{which.name}-{count}", onnx.read_bytes(), count, which)
        env = self.stack.worker_env(uri, self._tmp())
        figures = run_child(
            "ours", {}, env, self.workdir / "children", name, handlers=self.handlers
        )
        if figures["submitted"] != count or figures["failed"]:
            raise BenchError(f"{name}: {figures['submitted']} of {count} submitted")
        entry = {"side": "ours", "feature_set": which.name, "models": count, "rows": rows}
        entry.update(repeat=0, **figures)
        self.runs.append(entry)
        self.log(
            f"ours     {which.name:<7} {count:>3} models {rows:>6} rows: "
            f"{figures['seconds']:6.2f} s, peak RSS {figures['peak_rss_mib']:5.0f} MiB; other "
            f"processes took {figures['others_share']:4.0%} of the CPUs"
        )
        return entry

    def heavy(self, feature_set: str, members: int, onnx: Path, cpus: int | None) -> dict[str, Any]:
        """One model of ``members`` x 2,000 trees, predicted and submitted by the worker in a
        new round; ``cpus`` pins the worker to that many cores (None: every core)."""
        self.stack.new_round()
        uri = self.stack.publish(f"heavy-{feature_set}-x{members}", onnx.read_bytes(), 1)
        env = self.stack.worker_env(uri, self._tmp())
        spec: dict[str, Any] = {"cpus": list(range(cpus))} if cpus else {}
        name = f"heavy-{feature_set}-x{members}-{cpus or 'all'}cpu"
        figures = run_child(
            "ours", spec, env, self.workdir / "children", name, handlers=self.handlers
        )
        if figures["submitted"] != 1 or figures["failed"]:
            raise BenchError(f"{name}: the heavy model was not submitted")
        phases = figures.get("phases", {})
        entry = {
            "feature_set": feature_set,
            "members": members,
            "trees": members * self.models[feature_set].info["trees"],
            "onnx_bytes": onnx.stat().st_size,
            "cpus": cpus or os.cpu_count(),
            "pinned": bool(cpus),
            "session_seconds": phases.get("  of which session creation", {}).get("seconds"),
            "predict_seconds": phases.get("onnxruntime predict", {}).get("seconds"),
            **{k: v for k, v in figures.items() if k not in ("phases", "shard_events")},
        }
        self.log(
            f"heavy    {entry['trees']:,} trees on {entry['cpus']} CPU: "
            f"{figures['import_seconds'] + figures['seconds']:6.2f} s with imports, peak RSS "
            f"{figures['peak_rss_mib']:5.0f} MiB; other processes took "
            f"{figures['others_share']:4.0%} of the CPUs"
        )
        return entry

    def sharded(self, feature_set: str, count: int, shard_size: int) -> dict[str, Any]:
        """``count`` models through the fan-out: the first worker stages the live file and
        hands out shards of ``shard_size``; each shard then runs in its own fresh process
        with its own /tmp (a fresh Lambda container), one after the other so that each has
        the machine's 2 vCPUs, as each Lambda would. Lambda runs the shards at once, so its
        wall time is the dispatch plus the slowest shard (plus async-invoke latency)."""
        self.stack.new_round()
        files = self.models[feature_set]
        uri = self.stack.publish(f"{feature_set}-{count}", files.onnx_bytes, count)
        downloads_before = self._live_downloads()
        env = {**self.stack.worker_env(uri, self._tmp()), "SHARD_SIZE": str(shard_size)}
        name = f"sharded-{feature_set}-{count}m"
        dispatch = run_child(
            "ours",
            {"record_shards": True},
            env,
            self.workdir / "children",
            f"{name}-dispatch",
            handlers=self.handlers,
        )
        if dispatch["status"] != "fanned_out":
            raise BenchError(f"{name}: the first worker did not fan out ({dispatch['status']})")
        shards = []
        for i, event in enumerate(dispatch.pop("shard_events")):
            shard_env = {**env, "LIVE_DATA_DIR": str(self._tmp())}
            figures = run_child(
                "ours",
                {"event": event},
                shard_env,
                self.workdir / "children",
                f"{name}-shard{i}",
                handlers=self.handlers,
            )
            figures.pop("shard_events", None)
            shards.append({"models": len(event["models"]), **figures})
            self.log(
                f"shard {i}: {len(event['models'])} models in {figures['seconds']:.1f} s, "
                f"peak RSS {figures['peak_rss_mib']:.0f} MiB"
            )
        submitted = sum(s["submitted"] for s in shards)
        if submitted != count or any(s["failed"] for s in shards):
            raise BenchError(f"{name}: {submitted} of {count} submitted")
        slowest = max(s["import_seconds"] + s["seconds"] for s in shards)
        return {
            "feature_set": feature_set,
            "models": count,
            "shard_size": shard_size,
            "dispatch": dispatch,
            "shards": shards,
            "live_downloads_from_numerai": self._live_downloads() - downloads_before,
            "lambda_wall_seconds": dispatch["import_seconds"] + dispatch["seconds"] + slowest,
            "one_worker_here_seconds": sum(s["seconds"] for s in shards),
            "peak_rss_mib": max(s["peak_rss_mib"] for s in shards),
            "cpu_seconds": dispatch["cpu_seconds"] + sum(s["cpu_seconds"] for s in shards),
        }

    def _tmp(self) -> Path:
        """A fresh /tmp for one worker container."""
        return Path(tempfile.mkdtemp(prefix="tmp-", dir=self.workdir))

    def _live_downloads(self) -> int:
        """How many times Numerai's stand-in served a file (the live file, here)."""
        assert self.stack.standin is not None
        return int(self.stack.standin.calls().get("GET file", 0))


def machine_info(plan: Plan, models: dict[str, ModelFiles]) -> dict[str, Any]:
    """Where and on what the figures were taken."""
    import lightgbm
    import numerapi
    import onnxruntime
    import pandas
    import pyarrow

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "cpu_count": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "versions": {
            "onnxruntime": onnxruntime.__version__,
            "lightgbm": lightgbm.__version__,
            "pyarrow": pyarrow.__version__,
            "pandas": pandas.__version__,
            "numerapi": numerapi.__version__ if hasattr(numerapi, "__version__") else "",
        },
        "plan": asdict(plan),
        "models": {
            fs: {k: v for k, v in m.info.items() if k != "features"} for fs, m in models.items()
        },
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
