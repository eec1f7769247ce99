"""``numerai-bot plan``: the worker's memory size, seconds and dollars for your own models.

From each published model's cost, measured by ``publish`` and stored in ``models.json``
(``"cost": {"trees", "predict_seconds_per_1k_rows", "session_seconds", "measured_on"}``), for
each Lambda memory size: the seconds of a round (Numerai calls each model's webhook, so each
model runs in its own invocation, as many at once as the account's concurrency allows), of
one run for every model (the fallback schedule, ``trigger`` without a model: one worker, or
shards balanced by cost as the worker forms them), and the cost per round and per month
(rounds Tuesday to Saturday plus the fallback schedule's 144 checks a week). A model without
a measured cost counts as a typical one and is named: republish it.

The model is simple and stated here, with figures from docs/benchmarks.md (2 vCPUs): a cold
worker imports in ~0.6 s, reads its keys and asks Numerai in ~0.6 s, reads a live file in
~0.2 s per tournament, and spends ~0.05 s per model beside its session and predict. Lambda
gives one vCPU per 1,769 MB; onnxruntime's predict runs on every vCPU (a second vCPU adds
~55 % speed, measured), the rest runs on one.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from numerai_bot.config import WEBHOOK_EXECUTIONS, shards_allowed
from numerai_bot.models_config import ModelConfig
from numerai_bot.postprocess.cost import postprocess_mib, postprocess_seconds
from numerai_bot.shards import (
    DEFAULT_SECONDS_PER_1K_ROWS,
    DEFAULT_SESSION_SECONDS,
    balanced_shards,
    model_cost,
)
from numerai_bot_cli.common import build_context, config_options, stack_options
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.table import render_table

MB_PER_VCPU = 1769
SIZES_MB = (1769, 3538, 5307, 7076, 8845, 10240)
MAX_VCPUS = 6
PRICES = {"x86_64": 0.0000166667, "arm64": 0.0000133334}  # $ per GB-second (us-east-1)
PRICE_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_TIMEOUT = 900.0
HEADROOM = 0.5  # an invocation should need at most half of the 900 s (retries, slow days)
ROUNDS_PER_MONTH = 5 * 52 / 12  # Tuesday to Saturday
CHECKS_PER_MONTH = 144 * 52 / 12  # the fallback schedule (docs/deploy.md)
CHECK_SECONDS = 1.0  # a check that finds nothing to do
AT_REST_PER_MONTH = 1.20  # secrets and alarms (README's cost table)
# The worker's own time, measured on 2 vCPUs (docs/benchmarks.md).
INIT_SECONDS = 0.6  # cold import + onnxruntime's first session (one CPU)
START_SECONDS = 0.6  # keys, clients, Numerai's round and models (network)
LIVE_SECONDS = 0.2  # download + open + read one tournament's live file
MODEL_OVERHEAD_SECONDS = 0.05  # per model: fetch, rank, CSV checks, ledger (one CPU)
SECOND_VCPU_GAIN = 0.55  # onnxruntime: 2 threads 1.55x faster than 1 on tree ensembles
BASE_RSS_MIB = 240  # the worker's peak with 2,000-tree models, one lane (flat in the models)
LANE_MIB = 10  # each further predict lane: its session and its batch (10 models: 249 vs 239)
# Peak growth per 1,000 trees of one model (its file's bytes and its session: 7.1 MiB
# measured from 2,000 to 40,000 trees); each predict lane holds one, the cache one more.
SESSION_MIB_PER_1K_TREES = 7.0
CACHED_SESSIONS = 1
WEBHOOK_GB_SECONDS = 0.25 * 0.2  # 256 MB for ~0.2 s (cold) per call
MEASURED_ON = re.compile(r"(\d+)\s*cpu")


@dataclass(frozen=True)
class ModelCost:
    """One model as the plan sees it: measured or typical."""

    name: str
    tournament: str
    rows: int
    trees: int | None
    session_seconds: float
    predict_seconds_per_1k_rows: float
    measured_on_cpus: int
    measured: bool
    # Post-processing (numerai_bot.postprocess.cost): neutralization, measured on 2 vCPUs,
    # and the models a blend predicts; and the peak memory the neutralization adds.
    postprocess_seconds: float = 0.0
    postprocess_mib: float = 0.0

    def seconds(self, vcpus: float) -> float:
        """Session + predict + post-processing + per-model overhead at ``vcpus`` (alone in
        its invocation)."""
        one = _one_cpu_factor(vcpus)
        predict = self.predict_seconds_per_1k_rows * self.rows / 1000
        scale = _speed(self.measured_on_cpus) / _speed(vcpus)
        post = self.postprocess_seconds * _speed(2) / _speed(vcpus)  # BLAS: every vCPU
        return (self.session_seconds + MODEL_OVERHEAD_SECONDS) * one + predict * scale + post

    def lane_seconds(self) -> float:
        """The same on one vCPU with one thread: a lane of a many-model invocation."""
        return self.seconds(1.0)


def lanes_at(vcpus: float) -> int:
    """Models a many-model invocation predicts at once (the worker: one per vCPU)."""
    return max(1, round(vcpus))


def many_models_seconds(costs: list[ModelCost], vcpus: float, lanes: int | None = None) -> float:
    """One invocation running ``costs``: its lanes share the vCPUs, one model each at a time
    (numerai_bot.round.lanes); a single model, or a single lane (``PREDICT_LANES=1``), gets
    every thread instead."""
    lanes = min(lanes or lanes_at(vcpus), len(costs))
    if lanes == 1:
        return sum(c.seconds(vcpus) for c in costs)
    return sum(c.lane_seconds() for c in costs) / min(lanes, max(vcpus, 1.0))


@dataclass
class SizePlan:
    """The figures of one memory size."""

    memory_mb: int
    vcpus: float
    round_seconds: float  # wall time of a round: one invocation per model's webhook
    slowest_invocation_seconds: float
    one_run_seconds: float  # one run for every model (dispatch + slowest shard)
    shards: int
    dollars_per_round: float
    dollars_per_month: float
    fits_memory: bool
    fits_time: bool
    notes: list[str] = field(default_factory=list)


def _speed(vcpus: float) -> float:
    """onnxruntime's predict speed at ``vcpus`` relative to one vCPU."""
    return vcpus if vcpus <= 1 else 1 + SECOND_VCPU_GAIN * (vcpus - 1)


def _one_cpu_factor(vcpus: float) -> float:
    """Single-threaded work: slower below one vCPU, no faster above."""
    return 1 / min(vcpus, 1.0)


def vcpus_at(memory_mb: int) -> float:
    """Lambda's vCPUs at ``memory_mb``."""
    return min(memory_mb / MB_PER_VCPU, MAX_VCPUS)


def model_costs(configs: list[ModelConfig]) -> list[ModelCost]:
    """Each model's cost entry, or a typical model's when it was never measured."""
    out = []
    for config in configs:
        cost = config.extra.get("cost")
        measured = _valid(cost)
        cpus = 2
        if measured:
            found = MEASURED_ON.search(str(cost.get("measured_on", "")))
            cpus = int(found.group(1)) if found else 2
        out.append(
            ModelCost(
                config.name,
                config.tournament.name,
                config.tournament.typical_live_rows,
                int(cost["trees"]) if measured else None,
                float(cost["session_seconds"]) if measured else DEFAULT_SESSION_SECONDS,
                float(cost["predict_seconds_per_1k_rows"])
                if measured
                else DEFAULT_SECONDS_PER_1K_ROWS,
                max(cpus, 1),
                measured,
                postprocess_seconds(config, model_cost),
                postprocess_mib(config),
            )
        )
    return out


def _valid(cost: Any) -> bool:
    if not isinstance(cost, dict):
        return False
    numbers = [cost.get("session_seconds"), cost.get("predict_seconds_per_1k_rows")]
    return isinstance(cost.get("trees"), int) and all(
        isinstance(n, int | float) and not isinstance(n, bool) and n >= 0 for n in numbers
    )


def fixed_seconds(vcpus: float, tournaments: int, cold: bool = True) -> float:
    """An invocation's own time beside its models."""
    init = INIT_SECONDS * _one_cpu_factor(vcpus) if cold else 0.0
    return init + START_SECONDS + LIVE_SECONDS * tournaments


def webhook_round(costs: list[ModelCost], vcpus: float, slots: int) -> tuple[float, float, float]:
    """(wall seconds, billed worker seconds, slowest invocation): one invocation per model,
    ``slots`` at once, longest first onto the first free slot; a slot's first is cold."""
    loads = [0.0] * max(1, min(slots, len(costs)))
    billed = slowest = 0.0
    for cost in sorted(costs, key=lambda c: -c.seconds(vcpus)):
        slot = min(range(len(loads)), key=lambda s: loads[s])
        seconds = fixed_seconds(vcpus, 1, cold=loads[slot] == 0.0) + cost.seconds(vcpus)
        loads[slot] += seconds
        billed += seconds
        slowest = max(slowest, seconds)
    return max(loads), billed, slowest


def one_run(
    configs: list[ModelConfig], costs: list[ModelCost], vcpus: float, shard_size: int, slots: int
) -> tuple[float, float, int, float]:
    """(wall seconds, billed seconds, shards, slowest invocation) of one run for every model,
    with the worker's own cost-balanced shards (``numerai_bot.shards``)."""
    by_name = {c.name: c for c in costs}
    tournaments = len({c.tournament for c in costs})
    shards = balanced_shards(configs, shard_size, shards_allowed(slots))
    if len(shards) <= 1:
        seconds = fixed_seconds(vcpus, tournaments) + many_models_seconds(costs, vcpus)
        return seconds, seconds, 1, seconds
    dispatch = fixed_seconds(vcpus, tournaments)
    times = [
        fixed_seconds(vcpus, len({by_name[c.name].tournament for c in shard}))
        + many_models_seconds([by_name[c.name] for c in shard], vcpus)
        for shard in shards
    ]
    return dispatch + max(times), dispatch + sum(times), len(shards), max(times)


def plan_size(
    configs: list[ModelConfig],
    costs: list[ModelCost],
    memory_mb: int,
    concurrency: int,
    shard_size: int,
    price: float,
) -> SizePlan:
    """Seconds and dollars at one memory size."""
    vcpus = vcpus_at(memory_mb)
    gb = memory_mb / 1024
    wall, billed, slowest = webhook_round(costs, vcpus, concurrency)
    run_wall, _run_billed, shards, run_slowest = one_run(
        configs, costs, vcpus, shard_size, concurrency
    )
    per_round = billed * gb * price + len(costs) * (
        WEBHOOK_GB_SECONDS * price + 2 * PRICE_PER_REQUEST
    )
    checks = CHECKS_PER_MONTH * (CHECK_SECONDS * gb * price + PRICE_PER_REQUEST)
    peak = peak_rss_mib(costs, vcpus)
    plan = SizePlan(
        memory_mb,
        round(vcpus, 2),
        wall,
        max(slowest, run_slowest),
        run_wall,
        shards,
        per_round,
        ROUNDS_PER_MONTH * per_round + checks,
        fits_memory=peak * 1.1 <= memory_mb,
        fits_time=max(slowest, run_slowest) <= LAMBDA_TIMEOUT * HEADROOM,
    )
    if max(slowest, run_slowest) > LAMBDA_TIMEOUT:
        plan.notes.append("an invocation would pass Lambda's 900 s limit")
    return plan


def peak_rss_mib(costs: list[ModelCost], vcpus: float, lanes: int | None = None) -> float:
    """The worker's expected peak: its base (one lane) plus each further lane's, and a model
    of the largest size in each lane and one cached."""
    trees = max((c.trees or 2000 for c in costs), default=2000)
    lanes = min(lanes or lanes_at(vcpus), max(len(costs), 1))
    held = lanes + CACHED_SESSIONS
    post = sorted((c.postprocess_mib for c in costs), reverse=True)[:lanes]  # one per lane
    return (
        BASE_RSS_MIB
        + (lanes - 1) * LANE_MIB
        + held * SESSION_MIB_PER_1K_TREES * max(trees - 2000, 0) / 1000
        + sum(post)
    )


def lane_choice(
    configs: list[ModelConfig],
    costs: list[ModelCost],
    chosen: SizePlan,
    shard_size: int,
    price: float,
) -> dict[str, Any]:
    """What ``PREDICT_LANES=1`` (one model predicting at a time) changes at the chosen size:
    the peak, a run for every model and its cost. A round by webhooks runs one model per
    invocation, which gets every thread either way."""
    vcpus, gb = chosen.vcpus, chosen.memory_mb / 1024
    lanes = min(lanes_at(vcpus), len(costs))
    one_lane, default = (
        sum(
            fixed_seconds(vcpus, len({c.tournament for c in shard}))
            + many_models_seconds(shard, vcpus, n)
            for shard in _cost_shards(configs, costs, shard_size)
        )
        for n in (1, None)
    )
    return {
        "lanes_by_default": lanes,
        "peak_rss_mib": peak_rss_mib(costs, vcpus),
        "one_lane_peak_rss_mib": peak_rss_mib(costs, vcpus, 1),
        "run_seconds": default,
        "one_lane_run_seconds": one_lane,
        "run_dollars": default * gb * price,
        "one_lane_run_dollars": one_lane * gb * price,
    }


def _cost_shards(
    configs: list[ModelConfig], costs: list[ModelCost], shard_size: int
) -> list[list[ModelCost]]:
    """The models of each invocation of a run for every model (one worker, or its shards)."""
    by_name = {c.name: c for c in costs}
    shards = balanced_shards(configs, shard_size, len(configs)) if len(configs) > shard_size else []
    return [[by_name[c.name] for c in shard] for shard in shards] or [costs]


def recommend(sizes: list[SizePlan], target_seconds: float) -> SizePlan:
    """The cheapest size that holds the peak, keeps every invocation under half of 900 s and
    a round under ``target_seconds``; else the fastest that fits in memory."""
    good = [s for s in sizes if s.fits_memory and s.fits_time and s.round_seconds <= target_seconds]
    if good:
        return min(good, key=lambda s: (round(s.dollars_per_month, 6), s.memory_mb))
    fitting = [s for s in sizes if s.fits_memory] or sizes
    return min(fitting, key=lambda s: (s.round_seconds, s.memory_mb))


def build_plan(
    configs: list[ModelConfig],
    concurrency: int = 10,
    shard_size: int = 50,
    arch: str = "x86_64",
    target_seconds: float = 300.0,
    broken: list[str] | None = None,
) -> dict[str, Any]:
    """Everything ``plan`` prints, JSON-ready."""
    if not configs:
        raise CliError(
            "no usable model in models.json", "publish a model first (numerai-bot publish)"
        )
    costs = model_costs(configs)
    price = PRICES[arch]
    sizes = [plan_size(configs, costs, mb, concurrency, shard_size, price) for mb in SIZES_MB]
    chosen = recommend(sizes, target_seconds)
    unmeasured = [c.name for c in costs if not c.measured]
    return {
        "models": [{**asdict(c), "seconds_at_recommended": c.seconds(chosen.vcpus)} for c in costs],
        "not_measured": unmeasured,
        "broken": broken or [],
        "concurrency": concurrency,
        "concurrent_shards_allowed": shards_allowed(concurrency),
        "shard_size": shard_size,
        "arch": arch,
        "price_per_gb_second": price,
        "target_round_seconds": target_seconds,
        "peak_rss_mib": peak_rss_mib(costs, chosen.vcpus),
        "one_lane": lane_choice(configs, costs, chosen, shard_size, price),
        "sizes": [asdict(s) for s in sizes],
        "recommended": asdict(chosen),
        "fan_out": chosen.shards > 1,
        "rounds_per_month": ROUNDS_PER_MONTH,
        "checks_per_month": CHECKS_PER_MONTH,
        "at_rest_per_month": AT_REST_PER_MONTH,
    }


# --- the command ---------------------------------------------------------------------------


def register(commands: Any) -> None:
    """Add ``plan``."""
    sub = commands.add_parser(
        "plan",
        parents=[config_options(), stack_options("ModelStoreUri")],
        help="recommended worker memory, seconds and cost per round and month for your models",
        description="Read models.json from the stack's model store (or --store) and, from each "
        "model's cost measured when it was published, print the recommended worker memory size "
        "(WorkerMemorySize), the expected seconds of a round, whether a run for every model fans "
        "out, how many shards may run at once and the cost per round and per month.",
    )
    sub.add_argument(
        "--concurrency",
        type=int,
        default=10,
        help="the account's Lambda concurrent executions (new accounts: 10) [%(default)s]",
    )
    sub.add_argument(
        "--shard-size",
        type=int,
        default=50,
        help="the worker's SHARD_SIZE (WorkerShardSize) [%(default)s]",
    )
    sub.add_argument("--arch", choices=tuple(PRICES), default="x86_64", help="[%(default)s]")
    sub.add_argument(
        "--target-seconds",
        type=float,
        default=300.0,
        help="a round should take at most this long (wall) [%(default)s]",
    )
    sub.add_argument("--json", action="store_true", help="print the plan as JSON")
    sub.set_defaults(run=run_plan)


def run_plan(args: argparse.Namespace) -> int:
    """Read the models and print the plan."""
    from numerai_bot.adapters.model_store import open_model_store
    from numerai_bot.errors import BotError
    from numerai_bot.models_config import load_models_entries
    from numerai_bot_cli.aws import aws_errors, session

    if args.concurrency < 1 or args.shard_size < 1:
        raise CliError("--concurrency and --shard-size must be at least 1")
    ctx = build_context(args)
    uri = ctx.stack.output("ModelStoreUri")
    try:
        if uri.startswith("s3://"):
            with aws_errors("read models.json from", uri):
                configs, broken = load_models_entries(
                    open_model_store(uri, session(ctx.region).client("s3"))
                )
        else:
            configs, broken = load_models_entries(open_model_store(uri))
    except BotError as error:
        raise CliError(str(error), "publish a model first (numerai-bot publish)") from None
    plan = build_plan(
        configs,
        args.concurrency,
        args.shard_size,
        args.arch,
        args.target_seconds,
        [f"{b.name}: {b.error}" for b in broken],
    )
    plan["store"] = uri
    print(json.dumps(plan, indent=2) if args.json else render(plan))
    return 0


SIZE_HEADERS = [
    "memory MB",
    "vCPUs",
    "round s",
    "slowest call s",
    "one run for all s",
    "shards",
    "$ per round",
    "$ per month",
    "",
]
MODEL_HEADERS = [
    "model",
    "tournament",
    "trees",
    "measured on",
    "session s",
    "predict s/1k rows",
    "live rows",
]


def render(plan: dict[str, Any]) -> str:
    """The plan as tables."""
    chosen = plan["recommended"]
    headers = [*MODEL_HEADERS, f"s at {chosen['memory_mb']:,} MB"]
    lines = [
        f"{len(plan['models'])} models in {plan.get('store', 'models.json')}; account "
        f"concurrency {plan['concurrency']}, SHARD_SIZE {plan['shard_size']}, {plan['arch']}",
        "",
        render_table(headers, [_model_row(m) for m in plan["models"]], right={2, 4, 5, 6, 7}),
        *[
            f"{m['name']}: post-processing (neutralize, blended models) adds "
            f"{m['postprocess_seconds']:.1f} s on 2 vCPUs and {m['postprocess_mib']:.0f} MiB"
            for m in plan["models"]
            if m["postprocess_seconds"] > 0
        ],
        "",
        render_table(
            SIZE_HEADERS, [_size_row(s, chosen) for s in plan["sizes"]], right=set(range(8))
        ),
        "",
        *_aligned(_summary_rows(plan)),
    ]
    for name in plan["broken"]:
        lines.append(f"broken entry, left out: {name}")
    return "\n".join(lines)


def _aligned(rows: list[list[str]]) -> list[str]:
    """``key   value`` lines, the values in one column."""
    width = max(len(key) for key, _ in rows)
    return [f"{key.ljust(width)}  {value}" for key, value in rows]


def _model_row(m: dict[str, Any]) -> list[str]:
    if not m["measured"]:
        return [
            m["name"], m["tournament"], "-", "not measured, republish", "-", "-",
            f"{m['rows']:,}", f"{m['seconds_at_recommended']:.2f} (typical)",
        ]  # fmt: skip
    return [
        m["name"],
        m["tournament"],
        f"{m['trees']:,}",
        f"{m['measured_on_cpus']} CPU",
        f"{m['session_seconds']:.3f}",
        f"{m['predict_seconds_per_1k_rows']:.4f}",
        f"{m['rows']:,}",
        f"{m['seconds_at_recommended']:.2f}",
    ]


def _size_row(s: dict[str, Any], chosen: dict[str, Any]) -> list[str]:
    mark = "recommended" if s["memory_mb"] == chosen["memory_mb"] else ""
    if not s["fits_memory"]:
        mark = "too small for the peak"
    elif s["notes"]:
        mark = "; ".join(s["notes"])
    return [
        f"{s['memory_mb']:,}",
        f"{s['vcpus']:.2f}",
        f"{s['round_seconds']:.1f}",
        f"{s['slowest_invocation_seconds']:.1f}",
        f"{s['one_run_seconds']:.1f}",
        str(s["shards"]),
        f"${s['dollars_per_round']:.5f}",
        f"${s['dollars_per_month']:.4f}",
        mark,
    ]


def _one_lane_text(lane: dict[str, Any]) -> str:
    """What PREDICT_LANES=1 would change (memory against time and money)."""
    if lane["lanes_by_default"] <= 1:
        return "the worker predicts one model at a time already (one vCPU or one model)"
    return (
        f"PREDICT_LANES=1 lowers the peak to about {lane['one_lane_peak_rss_mib']:.0f} MiB "
        f"(from {lane['peak_rss_mib']:.0f}; {lane['lanes_by_default']} lanes by default) and "
        f"makes a run for every model {lane['one_lane_run_seconds']:.1f} s instead of "
        f"{lane['run_seconds']:.1f} s (${lane['one_lane_run_dollars']:.5f} instead of "
        f"${lane['run_dollars']:.5f} per run); rounds by webhook are unchanged"
    )


def _summary_rows(plan: dict[str, Any]) -> list[list[str]]:
    s = plan["recommended"]
    models = len(plan["models"])
    why = (
        f"the cheapest size whose round takes at most {plan['target_round_seconds']:.0f} s and "
        "whose every invocation needs at most half of Lambda's 900 s"
    )
    if s["round_seconds"] > plan["target_round_seconds"] or not s["fits_time"]:
        why = "no size meets the time target: the fastest that fits (see the notes)"
    fan_out = (
        f"yes: {s['shards']} shards balanced by cost, {s['one_run_seconds']:.1f} s"
        if s["shards"] > 1
        else f"no: one worker, {s['one_run_seconds']:.1f} s"
    )
    if s["slowest_invocation_seconds"] > LAMBDA_TIMEOUT:
        fan_out += " — over the 900 s limit: lower WorkerShardSize or raise memory"
    per_month = s["dollars_per_month"]
    rows = [
        ["recommended worker memory", f"{s['memory_mb']:,} MB (WorkerMemorySize), "
         f"{s['vcpus']:.2f} vCPUs: {why}"],
        ["expected seconds per round", f"{s['round_seconds']:.1f} s wall: {models} invocations, "
         f"one per model's webhook, {min(models, plan['concurrency'])} at once "
         f"(concurrency {plan['concurrency']})"],
        ["one run for every model", f"{fan_out} (fallback schedule, trigger without a model; "
         f"SHARD_SIZE {plan['shard_size']})"],
        ["concurrent shards allowed", f"{plan['concurrent_shards_allowed']} (concurrency "
         f"{plan['concurrency']} minus the worker that fans out and {WEBHOOK_EXECUTIONS} kept for "
         "the webhook): set WorkerMaxShards to it"],
        ["peak memory", f"about {plan['peak_rss_mib']:.0f} MiB per worker"],
        ["one model at a time", _one_lane_text(plan["one_lane"])],
        ["cost per round", f"${s['dollars_per_round']:.5f} ({models} worker and {models} "
         f"webhook invocations, ${plan['price_per_gb_second']:.10f}".rstrip("0")
         + "/GB-s, $0.20/M requests)"],
        ["cost per month", f"${per_month:.4f}: {plan['rounds_per_month']:.1f} rounds "
         f"(Tue-Sat) + {plan['checks_per_month']:.0f} fallback checks of ~1 s; plus about "
         f"${plan['at_rest_per_month']:.2f} at rest (secrets, alarms)"],
    ]  # fmt: skip
    if plan["not_measured"]:
        rows.append(
            [
                "not measured",
                f"{', '.join(plan['not_measured'])}: republish (numerai-bot publish) to measure; "
                "counted as a typical 2,000-tree model",
            ]
        )
    return rows
