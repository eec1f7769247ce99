"""Play a season of rounds against the local stand-ins, with random faults, and count what
Numerai got: every recoverable model-round submitted, none twice, nothing invalid.

    PYTHONPATH=handlers:. python -m scripts.simulate_season --rounds 100 --models 4 --seed 1

Each round: the round opens on the Numerai stand-in, which calls every model's webhook (our
webhook over real HTTP, handing off to the worker on threads as Lambda's async invoke
would); then the fallback schedule runs the worker once, as EventBridge would later in the
round; then the round closes. Faults are drawn per round from a seeded RNG (see ``KINDS``)
and every kind is injected at least once. The counts come from the stand-in's own records
(ground truth), checked against the ledger. A model-round is "unrecoverable" only when
nothing the bot may do inside the window can submit it: its model file is corrupt (until it
is fixed a few rounds later), or the round opens with less time left than the bot needs.

The client uses the production retry policy (5 attempts, backoff 0.5-8 s with jitter) unless
``--fast-retries``; its timeout is shortened (``--timeout``, default 2 s instead of 30 s) so
that injected timeouts cost seconds, not minutes. Exit status 0 when the target is met.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import random
import socket
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from numerai_bot.config import WorkerSettings
from numerai_bot.events import WorkerRequest
from numerai_bot.ledger import DynamoLedger
from numerai_bot.model_store import open_model_store
from numerai_bot.retry import RetryPolicy
from numerai_bot.round_runner import MIN_SECONDS_PER_MODEL, RoundRunner
from numerai_bot.wiring import build_runner
from standins.local_bot import LocalBot
from standins.local_lambda import LocalContext, ThreadInvoker
from tests.onnx_models import linear_model

# Every fault kind, what it does, and whether the bot can still submit within the window.
KINDS: dict[str, tuple[str, bool]] = {
    "5xx-burst": ("Numerai answers 5xx to the next N calls (one operation or any)", True),
    "timeout": ("one Numerai operation answers after the client's timeout", True),
    "slow": ("every Numerai answer and PUT is slow, within the timeout", True),
    "put-reject": ("the presigned PUT is refused (403 or 5xx) N times", True),
    "put-drop": ("the PUT answers 200 but stores nothing, N times", True),
    "webhook-not-sent": ("Numerai never calls a model's webhook", True),
    "webhook-undelivered": ("Numerai's call to the webhook fails (unreachable)", True),
    "webhook-twice": ("Numerai calls a model's webhook twice, at once", True),
    "delivery-twice": ("Lambda delivers the worker's async event twice", True),
    "schedule-burst": ("a 5xx burst within the retries hits the schedule's run", True),
    "model-corrupt": ("a model file is corrupted in the bucket, fixed rounds later", False),
    "late-open": (f"the round opens with 10 s left (< {MIN_SECONDS_PER_MODEL:.0f} s)", False),
}
OPERATIONS = ("rounds", "account", "dataset", "submission_upload_auth", "create_submission")
CORRUPTIONS = ("truncated", "random-bytes", "nan-output", "constant-output")
FIRST_ROUND = 5000
LATE_WINDOW = dt.timedelta(seconds=10)
SCHEDULE_LATER = 30 * 60.0  # the schedule fires this long after the webhooks (sim clock)


@dataclass(frozen=True)
class Fault:
    """One injected fault: its kind, the models it targets and its knobs."""

    kind: str
    models: tuple[str, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def options(self) -> dict[str, Any]:
        """The knobs as a dict."""
        return dict(self.params)

    def label(self) -> str:
        """Short text for the per-round line."""
        bits = [*self.models, *(f"{k}={v}" for k, v in self.params)]
        return f"{self.kind}({', '.join(bits)})" if bits else self.kind


@dataclass
class SeasonConfig:
    """What to simulate and how."""

    rounds: int = 100
    models: int = 4
    seed: int = 1
    live_rows: int = 1000
    features: int = 100
    timeout: float = 2.0
    fast_retries: bool = False
    workdir: Path | None = None
    verbose: bool = True


@dataclass
class SeasonReport:
    """The season's counts, from the stand-in's records (ground truth) and the ledger."""

    config: SeasonConfig
    expected: int = 0
    on_time: int = 0
    by_schedule: int = 0
    late: int = 0
    missed: int = 0
    missed_unrecoverable: Counter = field(default_factory=Counter)
    duplicates: int = 0
    invalid: int = 0
    corrupt_uploads: int = 0
    ledger_disagreements: int = 0
    faults: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def missed_recoverable(self) -> int:
        """Model-rounds the bot should have submitted and did not."""
        return self.missed - sum(self.missed_unrecoverable.values())

    def meets_target(self) -> bool:
        """Every recoverable model-round submitted on time, nothing twice, nothing invalid."""
        return (
            self.missed_recoverable == 0
            and self.late == 0
            and self.duplicates == 0
            and self.invalid == 0
            and self.corrupt_uploads == 0
            and self.ledger_disagreements == 0
        )

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-friendly values (``--json``), with the target's verdict."""
        return {
            "rounds": self.config.rounds,
            "models": self.config.models,
            "seed": self.config.seed,
            "expected": self.expected,
            "on_time": self.on_time,
            "by_schedule": self.by_schedule,
            "late": self.late,
            "missed": self.missed,
            "missed_unrecoverable": dict(self.missed_unrecoverable),
            "missed_recoverable": self.missed_recoverable,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
            "corrupt_uploads": self.corrupt_uploads,
            "ledger_disagreements": self.ledger_disagreements,
            "faults": {kind: self.faults[kind] for kind in KINDS},
            "problems": self.problems,
            "seconds": round(self.seconds, 1),
            "target_met": self.meets_target(),
        }

    def table(self) -> str:
        """The printed summary."""
        c = self.config
        retry = (
            "fast (3 attempts, 0.01-0.05 s)"
            if c.fast_retries
            else "production (5 attempts, 0.5-8 s)"
        )
        rows = [
            ("model-rounds expected", self.expected),
            ("submitted on time", self.on_time),
            ("  by a webhook's run", self.on_time - self.by_schedule),
            ("  by the fallback schedule", self.by_schedule),
            ("late (after the round's close)", self.late),
            ("missed", self.missed),
            ("  unrecoverable", sum(self.missed_unrecoverable.values())),
            *((f"    {reason}", n) for reason, n in sorted(self.missed_unrecoverable.items())),
            ("  recoverable (target 0)", self.missed_recoverable),
            ("duplicates (target 0)", self.duplicates),
            ("invalid uploads (target 0)", self.invalid),
            ("uploads from a corrupt model (target 0)", self.corrupt_uploads),
            ("ledger disagreeing with Numerai (target 0)", self.ledger_disagreements),
        ]
        lines = [
            f"Season: {c.rounds} rounds x {c.models} models, seed {c.seed}; live data "
            f"{c.live_rows} rows x {c.features} features; retries {retry}; "
            f"client timeout {c.timeout:g} s",
            "",
            *(f"{name:<44}{value:>7}" for name, value in rows),
            "",
            "faults injected (times):",
            *(
                f"  {kind:<20}{self.faults[kind]:>5}  {KINDS[kind][0]}"
                f"{'' if KINDS[kind][1] else '  [unrecoverable]'}"
                for kind in KINDS
            ),
            "",
            f"target met: {'yes' if self.meets_target() else 'NO'}; "
            f"wall time {self.seconds:.0f} s ({self.seconds / max(c.rounds, 1):.1f} s per round)",
        ]
        if self.problems:
            lines += ["", "problems:", *(f"  {p}" for p in self.problems[:30])]
        return "\n".join(lines)


# -- the plan -------------------------------------------------------------------------------
@dataclass
class SeasonPlan:
    """Faults per round, and when each model file is corrupted and fixed."""

    faults: list[list[Fault]]
    corrupt_at: dict[int, list[tuple[str, str]]]
    fixed_at: dict[int, list[str]]


def plan_season(rng: random.Random, rounds: int, models: list[str]) -> SeasonPlan:
    """Draw each round's faults; every kind appears at least once (when rounds allow)."""
    faults: list[list[Fault]] = [[] for _ in range(rounds)]
    corrupt_at: dict[int, list[tuple[str, str]]] = {}
    fixed_at: dict[int, list[str]] = {}
    busy: dict[str, int] = {}  # model -> round its file is fixed again

    def corrupt(index: int) -> None:
        free = [m for m in models if busy.get(m, -1) <= index]
        if not free:
            return
        model = rng.choice(free)
        until = index + rng.randint(1, 4)
        busy[model] = until
        corrupt_at.setdefault(index, []).append((model, rng.choice(CORRUPTIONS)))
        fixed_at.setdefault(until, []).append(model)

    kinds = [k for k in KINDS if k != "model-corrupt"]
    forced = {kind: rng.randrange(rounds) for kind in kinds}
    corrupt(rng.randrange(max(1, rounds - 2)))
    for index in range(rounds):
        for kind in kinds:
            if forced[kind] == index or rng.random() < PROBABILITY[kind]:
                faults[index].append(draw(rng, kind, models))
        if rng.random() < PROBABILITY["model-corrupt"]:
            corrupt(index)
    return SeasonPlan(faults, corrupt_at, fixed_at)


PROBABILITY = {
    "5xx-burst": 0.25,
    "timeout": 0.08,
    "slow": 0.1,
    "put-reject": 0.15,
    "put-drop": 0.1,
    "webhook-not-sent": 0.1,
    "webhook-undelivered": 0.08,
    "webhook-twice": 0.12,
    "delivery-twice": 0.12,
    "schedule-burst": 0.15,
    "model-corrupt": 0.04,
    "late-open": 0.03,
}


def draw(rng: random.Random, kind: str, models: list[str]) -> Fault:
    """One fault of ``kind`` with random knobs."""
    if kind in ("5xx-burst", "schedule-burst"):
        return Fault(
            kind,
            params=(
                ("count", rng.randint(1, 8) if kind == "5xx-burst" else rng.randint(1, 2)),
                ("status", rng.choice((500, 502, 503, 504))),
                ("operation", rng.choice((None, *OPERATIONS))),
            ),
        )
    if kind == "timeout":
        return Fault(kind, params=(("operation", rng.choice(OPERATIONS)),))
    if kind == "slow":
        return Fault(
            kind,
            params=(("delay", round(rng.uniform(0.05, 0.4), 2)), ("put_delay", 1.0)),
        )
    if kind == "put-reject":
        return Fault(
            kind, params=(("status", rng.choice((403, 500, 503))), ("times", rng.randint(1, 3)))
        )
    if kind == "put-drop":
        return Fault(kind, params=(("times", rng.randint(1, 2)),))
    if kind in ("webhook-not-sent", "webhook-undelivered", "webhook-twice", "delivery-twice"):
        return Fault(kind, models=tuple(sorted(rng.sample(models, rng.randint(1, len(models))))))
    return Fault(kind)


# -- the bot under test ---------------------------------------------------------------------
class SimClock:
    """``time.monotonic`` plus an offset the simulation advances (the schedule runs later)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


class DuplicatingInvoker:
    """Lambda's async invoke, locally, delivering some models' events twice (as Lambda may)."""

    def __init__(self, inner: ThreadInvoker) -> None:
        self.inner = inner
        self.duplicate: set[str] = set()

    def invoke(self, request: WorkerRequest) -> None:
        """Start the worker; twice when the request names a model in ``duplicate``."""
        self.inner.invoke(request)
        if request.models and self.duplicate.intersection(request.models):
            self.inner.invoke(request)

    def wait(self, timeout: float = 600.0) -> list[Any]:
        """Join every run started so far."""
        return self.inner.wait(timeout)

    @property
    def threads(self) -> list:
        """Runs started so far."""
        return self.inner.threads


def install_handlers(bot: LocalBot, config: SeasonConfig, clock: SimClock) -> None:
    """Like ``LocalBot.restart_handlers``, with the season's timeout, retries and clock."""
    import webhook
    import worker

    retry = RetryPolicy(3, 0.01, 0.05) if config.fast_retries else RetryPolicy()

    def build() -> RoundRunner:
        runner = build_runner(WorkerSettings.from_env(), fanout=bot.invoker)
        runner.numerai.timeout = (config.timeout, config.timeout)
        runner.numerai.retry = retry
        runner.live_data.clock = clock
        return runner

    bot.worker_handler = worker.create_handler(build)
    bot.invoker = DuplicatingInvoker(ThreadInvoker(bot.worker_handler))
    bot.webhook_handler = webhook.create_handler(lambda _settings: bot.invoker)


def route_logs(path: Path) -> TextIO:
    """The handlers' JSON logs to a file; servers' access logs off the screen.

    numerapi's ``basicConfig`` gives the root logger a stderr handler, which the handlers'
    loggers would also feed (Lambda's runtime owns the root logger; locally nobody does).
    """
    import webhook
    import worker

    stream = path.open("a")
    for module in (worker, webhook):
        module.logger.registered_handler.setStream(stream)
        logging.getLogger(module.logger.name).propagate = False
    for name in ("werkzeug", "numerapi", "standins", "botocore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return stream


def restore_logs() -> None:
    """Handlers' logs back to stdout, as they were."""
    import webhook
    import worker

    for module in (worker, webhook):
        module.logger.registered_handler.setStream(sys.stdout)
        logging.getLogger(module.logger.name).propagate = True


def closed_port_url() -> str:
    """A loopback URL nothing listens on: a webhook call there fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def corrupted(kind: str, good: bytes, features: list[str]) -> bytes:
    """A broken model file of the given kind (loadable or not, all must never be uploaded)."""
    if kind == "truncated":
        return good[: len(good) // 2]
    if kind == "random-bytes":
        return random.Random(len(good)).randbytes(2048)  # noqa: S311 - test data
    if kind == "nan-output":
        return linear_model(features, behaviour="nan")
    return linear_model(features, behaviour="constant")


# -- one season ------------------------------------------------------------------------------
class Season:
    """Runs the plan on a local bot and keeps what the report needs."""

    def __init__(self, bot: LocalBot, config: SeasonConfig, models: dict[str, str]) -> None:
        self.bot = bot
        self.config = config
        self.models = models
        self.standin = bot.standin
        assert self.standin is not None
        self.clock = SimClock()
        self.store = open_model_store(bot.stack.env()["MODEL_STORE_URI"])
        feature_sets = json.loads((self.standin.data.root / "v5.2" / "features.json").read_text())[
            "feature_sets"
        ]
        self.features = {
            name: feature_sets["small" if i % 2 == 0 else "medium"] for i, name in enumerate(models)
        }
        self.good = {
            name: linear_model(self.features[name], seed=i) for i, name in enumerate(models)
        }
        self.corrupt: set[str] = set()
        self.corruptions = 0
        self.deliveries = 0
        self.closes: dict[int, dt.datetime] = {}
        self.unrecoverable: dict[tuple[int, str], str] = {}
        self.round_faults: dict[int, list[Fault]] = {}

    def setup(self) -> None:
        """Publish the models and register each one's webhook."""
        install_handlers(self.bot, self.config, self.clock)
        for name, data in self.good.items():
            self.bot.publish(name, data)
        for name, model_id in self.models.items():
            self.standin.tournament.set_webhook(model_id, self.bot.webhook_url(name))

    def play(self, number: int, faults: list[Fault], corrupt: list, fixed: list[str]) -> None:
        """One round: model files, webhook phase with faults, the schedule, the close."""
        standin, tournament = self.standin, self.standin.tournament
        for name in fixed:
            self.bot.publish(name, self.good[name])
            self.corrupt.discard(name)
        for name, how in corrupt:
            self.store.write(f"{name}.onnx", corrupted(how, self.good[name], self.features[name]))
            self.corrupt.add(name)
            self.corruptions += 1
        self.round_faults[number] = faults
        by_kind: dict[str, list[Fault]] = {}
        for fault in faults:
            by_kind.setdefault(fault.kind, []).append(fault)
        late = "late-open" in by_kind
        for name in self.models:
            if name in self.corrupt:
                self.unrecoverable[(number, name)] = "model file corrupt"
            elif late:
                self.unrecoverable[(number, name)] = "round opened nearly closed"

        # The webhook phase, with the round's faults.
        standin.reset_knobs()
        self._apply_knobs(by_kind)
        not_sent = {m for f in by_kind.get("webhook-not-sent", []) for m in f.models}
        undelivered = {m for f in by_kind.get("webhook-undelivered", []) for m in f.models}
        twice = [m for f in by_kind.get("webhook-twice", []) for m in f.models]
        self.bot.invoker.duplicate = {
            m for f in by_kind.get("delivery-twice", []) for m in f.models
        }
        dead = closed_port_url()
        for name in not_sent:
            tournament.set_webhook(self.models[name], None)
        for name in undelivered - not_sent:
            tournament.set_webhook(self.models[name], dead)
        standin.open_round(number, window=LATE_WINDOW if late else None)
        self.deliveries += len(self.models) - len(not_sent)
        for name in twice:
            if name not in not_sent:
                tournament.trigger_webhook(self.models[name])
                self.deliveries += 1
        standin.wait_for_deliveries(self.deliveries, timeout=120)
        self.bot.invoker.wait()
        for name in not_sent | undelivered:
            tournament.set_webhook(self.models[name], self.bot.webhook_url(name))
        self.bot.invoker.duplicate = set()

        # Later in the round: the outage is over, the fallback schedule fires.
        standin.reset_knobs()
        self.clock.offset += SCHEDULE_LATER
        for fault in by_kind.get("schedule-burst", []):
            o = fault.options
            standin.fail_next(o["count"], status=o["status"], operation=o["operation"])
        try:
            self.bot.worker_handler({"source": "schedule"}, LocalContext("worker"))
        except Exception as error:  # the worker raises when a model failed: expected here
            del error
        self.bot.invoker.wait()
        standin.reset_knobs()
        self._close()

    def _apply_knobs(self, by_kind: dict[str, list[Fault]]) -> None:
        standin = self.standin
        for fault in by_kind.get("5xx-burst", []):
            o = fault.options
            standin.fail_next(o["count"], status=o["status"], operation=o["operation"])
        for fault in by_kind.get("timeout", []):
            standin.set_delay(self.config.timeout + 1.0, operation=fault.options["operation"])
        for fault in by_kind.get("slow", []):
            standin.set_delay(fault.options["delay"])
            standin.set_put_behaviour("slow", delay=fault.options["put_delay"])
        for fault in by_kind.get("put-reject", []):
            o = fault.options
            standin.set_put_behaviour("reject", status=o["status"], times=o["times"])
        for fault in by_kind.get("put-drop", []):
            standin.set_put_behaviour("drop", times=fault.options["times"])

    def _close(self) -> None:
        """Close the round now (or keep its earlier close), and remember when it closed."""
        round_view = self.standin.state_summary()["round"]
        close = min(_parse(round_view["closeTime"]), dt.datetime.now(dt.UTC))
        self.standin.set_round_times(close_staking_time=close, close_time=close)
        self.closes[int(round_view["number"])] = close

    def report(self, seconds: float) -> SeasonReport:
        """Count from the stand-in's records and compare with the ledger."""
        report = SeasonReport(self.config, seconds=seconds)
        for faults in self.round_faults.values():
            report.faults.update(f.kind for f in faults)
        report.faults["model-corrupt"] = self.corruptions
        records = self.standin.submissions()
        ledger = DynamoLedger(self.bot.stack.table)
        report.invalid = sum(r["status"] == "rejected" for r in records)
        for r in records:
            if r["status"] == "rejected":
                report.problems.append(f"round {r['round']} {r['model_name']}: {r['reason']}")
        for number, close in sorted(self.closes.items()):
            for name in self.models:
                report.expected += 1
                got = [
                    r
                    for r in records
                    if r["round"] == number
                    and r["model_name"] == name
                    and r["status"] == "accepted"
                ]
                why = self.unrecoverable.get((number, name))
                faults = ", ".join(f.label() for f in self.round_faults[number]) or "none"
                if not got:
                    report.missed += 1
                    if why:
                        report.missed_unrecoverable[why] += 1
                    else:
                        report.problems.append(f"round {number} {name} missed; faults: {faults}")
                elif _parse(got[0]["inserted_at"]) >= close:
                    report.late += 1
                else:
                    report.on_time += 1
                    report.by_schedule += got[0]["trigger_id"] is None  # webhooks carry one
                if len(got) > 1:
                    report.duplicates += len(got) - 1
                    report.problems.append(f"round {number} {name} submitted {len(got)} times")
                if got and why == "model file corrupt":
                    report.corrupt_uploads += 1
                stored = ledger.get(number, name)
                says_submitted = stored is not None and stored.status == "submitted"
                if bool(got) != says_submitted or (
                    got and stored is not None and stored.submission_id != got[-1]["id"]
                ):
                    report.ledger_disagreements += 1
                    report.problems.append(
                        f"round {number} {name}: ledger says "
                        f"{stored.status if stored else 'nothing'}, Numerai has "
                        f"{len(got)} submission(s); faults: {faults}"
                    )
        return report


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def simulate(config: SeasonConfig, progress: Callable[[str], None] | None = print) -> SeasonReport:
    """Run a whole season on fresh local stand-ins; the report."""
    from aws_lambda_powertools.utilities import parameters

    started = time.monotonic()
    rng = random.Random(config.seed)  # noqa: S311 - a reproducible simulation, not crypto
    names = [f"sim_model_{i + 1}" for i in range(config.models)]
    models = {n: str(uuid.uuid5(uuid.NAMESPACE_URL, f"season:{n}")) for n in names}
    plan = plan_season(rng, config.rounds, names)
    with tempfile.TemporaryDirectory(prefix="season-") as tmp:
        workdir = config.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        parameters.clear_caches()  # secrets of another local bot in this process
        stream = route_logs(workdir / "handlers.log")
        try:
            # Lambda prints metrics (EMF) to stdout: into the log file with the rest.
            with (
                contextlib.redirect_stdout(stream),
                LocalBot(
                    workdir,
                    models=models,
                    round_number=FIRST_ROUND - 1,
                    live_rows=config.live_rows,
                    n_features=config.features,
                    train_eras=4,
                    validation_eras=2,
                    rows_per_era=20,
                ) as bot,
            ):
                season = Season(bot, config, models)
                season.setup()
                for index in range(config.rounds):
                    number = FIRST_ROUND + index
                    round_started = time.monotonic()
                    season.play(
                        number,
                        plan.faults[index],
                        plan.corrupt_at.get(index, []),
                        plan.fixed_at.get(index, []),
                    )
                    if progress is not None and config.verbose:
                        progress(_round_line(season, number, time.monotonic() - round_started))
                report = season.report(time.monotonic() - started)
        finally:
            restore_logs()
            stream.close()
            parameters.clear_caches()
    return report


def _round_line(season: Season, number: int, seconds: float) -> str:
    got = {
        r["model_name"]
        for r in season.standin.submissions()
        if r["round"] == number and r["status"] == "accepted"
    }
    faults = ", ".join(f.label() for f in season.round_faults[number]) or "-"
    corrupt = ",".join(sorted(season.corrupt)) or "-"
    return (
        f"round {number}: {len(got)}/{len(season.models)} submitted  {seconds:5.1f} s  "
        f"corrupt: {corrupt}  faults: {faults}"
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print the per-round lines and the season's table."""
    # Each worker run flushes metrics; a run that submitted nothing warns about it.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--live-rows", type=int, default=1000, help="live rows per round")
    parser.add_argument("--features", type=int, default=100, help="features in the data")
    parser.add_argument("--timeout", type=float, default=2.0, help="client timeout, seconds")
    parser.add_argument(
        "--fast-retries", action="store_true", help="retry with ~0 s backoff (default: production)"
    )
    parser.add_argument("--workdir", type=Path, help="keep data and handler logs here")
    parser.add_argument("--quiet", action="store_true", help="only the final table")
    parser.add_argument("--json", type=Path, help="also write the counts to this JSON file")
    args = parser.parse_args(argv)
    config = SeasonConfig(
        rounds=args.rounds,
        models=args.models,
        seed=args.seed,
        live_rows=args.live_rows,
        features=args.features,
        timeout=args.timeout,
        fast_retries=args.fast_retries,
        workdir=args.workdir,
        verbose=not args.quiet,
    )
    out = sys.stdout
    report = simulate(config, progress=lambda line: print(line, file=out, flush=True))
    print()
    print(report.table())
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0 if report.meets_target() else 1


if __name__ == "__main__":
    sys.exit(main())
