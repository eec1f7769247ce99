"""Lambda's async invoke of the worker, locally, with each invocation in a process of its own.

    python -m standins.worker_process INVOCATION.json      # run one event, then exit

The child process takes its environment from the invocation (moto behind the AWS fault
proxy, the table, bucket and secret, the Numerai stand-in's URL, its own ``/tmp``), sends
its stdout and stderr to a log file, builds the worker handler as ``LocalBot`` does
(``worker.create_handler`` over ``build_runner``) and runs one event with a Lambda context.
Its exit status is Lambda's verdict: 0 success, 1 a function error (the handler raised,
printed as Lambda's runtime prints it), -9 killed.

Harness hooks, installed in the child only (the bot's code is unchanged):

- **kill points** (:data:`KILL_POINTS`): the child wraps ``NumeraiClient._put_once``, the
  GraphQL transport or ``DynamoLedger.put`` and SIGKILLs itself there for one model; a
  marker file created with ``O_EXCL`` makes each armed kill fire in one process only;
- **the season's clock**: powertools dates an IN_PROGRESS record's expiry by the wall clock
  plus the Lambda's remaining time. The season skips time (Lambda's retry delays, the
  fallback schedule's 15 minutes) instead of waiting it out, so the child's powertools clock
  runs ahead by the time skipped: a record expires in season time as it would in Lambda;
- **AWS timeouts**: botocore's default 60 s read timeout is shortened (as the season
  shortens Numerai's), so that an injected AWS timeout costs seconds;
- the run's ``RoundResult`` is saved to a file, so the season can say what each run did.

:class:`ProcessLambda` is the parent's side: ``invoke`` (the webhook's hand-off) starts a
process at once; a run that failed or was killed is retried like Lambda's async invoke (up
to 2 retries, 1 and 2 minutes later in season time). Processes come from a
:data:`LAUNCHERS` entry: ``spawn`` (a fresh interpreter each, as a cold Lambda) or
``forkserver`` (forked from a server that imported the worker once, like a snapshot: each
run is still its own process, killed alone; it only skips the 2 s of imports).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from numerai_bot.events import WorkerRequest

RETRY_DELAYS = (60.0, 120.0)  # Lambda's async retries: 1 min, then 2 min after the first
WAVE_SECONDS = 15.0  # retries due this close together start together (Lambda's are approximate)
WARM_FLAG = "NUMERAI_BOT_FORKSERVER_WARM"  # set while the fork server starts: warm botocore
AWS_SERVICES = ("s3", "dynamodb", "secretsmanager", "sns")
PRELOAD = ("worker", "numerai_bot.wiring", "standins.worker_process", "standins.local_lambda")
IDEMPOTENCY_CLOCK_MODULES = tuple(
    f"aws_lambda_powertools.utilities.idempotency.persistence.{name}"
    for name in ("base", "dynamodb", "datarecord")
)
KILLED = -signal.SIGKILL


@dataclass(frozen=True)
class KillSpec:
    """Kill the process at ``point`` while it handles ``model``; fire once (``marker``)."""

    point: str
    model: str
    model_id: str
    marker: str
    run: str = ""  # the run armed with it (written into the marker when it fires)


@dataclass
class Invocation:
    """One worker run: the event and everything the child needs (JSON-friendly)."""

    event: dict[str, Any]
    env: dict[str, str]
    log_path: str
    result_path: str
    lambda_timeout: float = 900.0
    clock_offset: float = 0.0  # seconds the season skipped: the child's powertools clock
    numerai_timeout: float = 2.0
    fast_retries: bool = False
    aws_timeout: float = 1.0
    kill: KillSpec | None = None
    guard_lease: float | None = None  # seconds; None: the guard's own lease

    def to_json(self) -> str:
        """The invocation as JSON (for ``python -m standins.worker_process FILE``)."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Invocation:
        """Read :meth:`to_json`'s output."""
        data = json.loads(text)
        kill = data.pop("kill", None)
        return cls(**data, kill=KillSpec(**kill) if kill else None)


# -- the child -------------------------------------------------------------------------------
_state = threading.local()  # the model an upload thread is uploading (for the PUT hooks)
_RESULT: dict[str, Any] = {}


def die(spec: KillSpec) -> None:
    """SIGKILL this process, as Lambda kills a worker, unless another one fired ``spec``."""
    try:
        fd = os.open(spec.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as marker:
        json.dump({"point": spec.point, "model": spec.model, "run": spec.run}, marker)
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_at_put(after: bool) -> Callable[[KillSpec], None]:
    def install(spec: KillSpec) -> None:
        from numerai_bot.adapters.numerai_client import NumeraiClient

        upload, put = NumeraiClient.upload_submission, NumeraiClient._put_once

        def upload_submission(self: Any, model_id: str, *args: Any, **kwargs: Any) -> Any:
            _state.model_id = model_id
            try:
                return upload(self, model_id, *args, **kwargs)
            finally:
                _state.model_id = None

        def put_once(self: Any, url: str, body: bytes) -> None:
            mine = getattr(_state, "model_id", None) == spec.model_id
            if mine and not after:
                die(spec)
            put(self, url, body)
            if mine and after:  # stored at Numerai; create_submission never sent
                die(spec)

        NumeraiClient.upload_submission = upload_submission  # type: ignore[method-assign]
        NumeraiClient._put_once = put_once  # type: ignore[method-assign]

    return install


def _kill_after_create(spec: KillSpec) -> None:
    from numerai_bot.adapters.numerai_client import NumeraiClient

    send = NumeraiClient._graphql_once

    def graphql_once(self: Any, query: str, variables: Any, authorization: bool, *rest: Any) -> Any:
        payload = send(self, query, variables, authorization, *rest)
        creates = query.lstrip().startswith("mutation") and "filename" in (variables or {})
        if creates and (variables or {}).get("modelId") == spec.model_id:
            data = payload.get("data") or {}
            if any(isinstance(v, dict) and v.get("id") for v in data.values()):
                die(spec)  # Numerai recorded it; the bot never learns the id
        return payload

    NumeraiClient._graphql_once = graphql_once  # type: ignore[method-assign]


def _kill_before_ledger(spec: KillSpec) -> None:
    from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
    from numerai_bot.ledger import SUBMITTED

    put = DynamoLedger.put

    def ledger_put(self: Any, record: Any) -> bool:
        if record.model_name == spec.model and record.status == SUBMITTED:
            die(spec)  # submitted, guard's record completed, ledger not written
        return put(self, record)

    DynamoLedger.put = ledger_put  # type: ignore[method-assign]


# Where a worker can be killed, and how the child arranges it (a point is data, not an if).
KILL_POINTS: dict[str, tuple[str, Callable[[KillSpec], None]]] = {
    "before-put": ("upload authorised, before the presigned PUT", _kill_at_put(after=False)),
    "after-put": ("the PUT stored the file, create_submission not sent", _kill_at_put(True)),
    "after-create-sent": (
        "create_submission reached Numerai; the answer is never read",
        _kill_after_create,
    ),
    "before-ledger-write": ("submitted, before the ledger's SUBMITTED write", _kill_before_ledger),
}


def shift_idempotency_clock(offset: float) -> None:
    """Run powertools' idempotency on the season's clock (``offset`` seconds ahead)."""
    if not offset:
        return
    shift = dt.timedelta(seconds=offset)

    class SeasonDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return dt.datetime.now(tz) + shift

    shim = types.ModuleType("datetime")
    shim.__dict__.update(vars(dt))
    shim.datetime = SeasonDatetime  # type: ignore[attr-defined]
    for name in IDEMPOTENCY_CLOCK_MODULES:
        module = importlib.import_module(name)
        if not hasattr(module, "dt"):
            raise RuntimeError(f"{name} no longer reads the clock as 'dt': update this hook")
        module.dt = shim  # type: ignore[attr-defined]


def shorten_aws_timeouts(seconds: float) -> None:
    """botocore's default connect and read timeouts (60 s) for every client made after."""
    from botocore.config import Config

    Config.OPTION_DEFAULTS["connect_timeout"] = seconds
    Config.OPTION_DEFAULTS["read_timeout"] = seconds


def keep_results() -> None:
    """Remember each run's RoundResult (the handler raises before returning a failed one)."""
    from numerai_bot.round.runner import RoundRunner

    run = RoundRunner.run

    def observed(
        self: Any, request: Any, deadline: float | None = None, invocation: Any = None
    ) -> Any:
        result = run(self, request, deadline, invocation)
        _RESULT["result"] = result.to_dict()
        return result

    RoundRunner.run = observed  # type: ignore[method-assign]


def _redirect_output(path: str) -> None:
    fd = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _build(invocation: Invocation) -> Any:
    from numerai_bot.adapters.numerai_client import SettlePolling
    from numerai_bot.config import WorkerSettings
    from numerai_bot.retry import RetryPolicy
    from numerai_bot.wiring import build_runner

    runner = build_runner(WorkerSettings.from_env())
    timeout = invocation.numerai_timeout
    runner.numerai.timeout = (timeout, timeout)
    runner.numerai.create_timeout = (timeout, timeout)  # shortened like every other call
    runner.numerai.settle = SettlePolling(every=timeout / 4, within=2 * timeout)
    runner.numerai.retry = RetryPolicy(3, 0.01, 0.05) if invocation.fast_retries else RetryPolicy()
    if invocation.guard_lease is not None:
        runner.guard.lease_seconds = invocation.guard_lease
        runner.guard.safety_margin = invocation.guard_lease / 4
    return runner


def run_invocation(invocation: Invocation) -> int:
    """In the child: set up, run the event once; Lambda's verdict as an exit status."""
    _redirect_output(invocation.log_path)
    os.environ.clear()
    os.environ.update(invocation.env)
    shorten_aws_timeouts(invocation.aws_timeout)
    shift_idempotency_clock(invocation.clock_offset)
    keep_results()
    if invocation.kill is not None:
        KILL_POINTS[invocation.kill.point][1](invocation.kill)
    # Lambda kills a run at its timeout, whatever it is doing.
    watchdog = threading.Timer(invocation.lambda_timeout, os.kill, (os.getpid(), signal.SIGKILL))
    watchdog.daemon = True
    watchdog.start()
    import worker
    from standins.local_lambda import LocalContext

    handler = worker.create_handler(lambda: _build(invocation))
    context = LocalContext("worker", timeout_seconds=invocation.lambda_timeout)
    answer: dict[str, Any] = {}
    code = 0
    try:
        answer["returned"] = handler(invocation.event, context)
    except Exception as error:  # a function error: Lambda logs it and retries the event
        code = 1
        answer["error"] = f"{type(error).__name__}: {error}"
        lines = traceback.format_exception(error)
        print(
            json.dumps(
                {"errorMessage": str(error), "errorType": type(error).__name__, "trace": lines}
            ),
            file=sys.stderr,
        )
    answer.update(_RESULT)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    answer["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 3)
    Path(invocation.result_path).write_text(json.dumps(answer, default=str))
    return code


def child_main(invocation: Invocation) -> None:
    """Process entry (forkserver): run, flush, exit with the verdict (no interpreter teardown)."""
    code = 1
    try:
        code = run_invocation(invocation)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(argv: list[str] | None = None) -> None:
    """``python -m standins.worker_process INVOCATION.json``."""
    args = sys.argv[1:] if argv is None else argv
    child_main(Invocation.from_json(Path(args[0]).read_text()))


# -- launching processes ---------------------------------------------------------------------
def warm_botocore() -> None:
    """Load the AWS service models the worker's clients read once, in the fork server, as
    its imports are: every botocore session of a child (boto3's default one, powertools'
    own for secrets and idempotency) shares this data loader, JSON already parsed. No
    client is made, so no endpoint, region or credentials are resolved here."""
    import boto3
    import botocore.session

    boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    assert session is not None
    core = session._session
    loader = core.get_component("data_loader")
    loader.load_data("partitions")
    loader.load_data("_retry")
    loader.load_data("sdk-default-configuration")
    for name in AWS_SERVICES:
        core.get_service_model(name)
        loader.load_service_model(name, "endpoint-rule-set-1")
    loader.load_service_model("dynamodb", "resources-1")
    botocore.session.create_loader = lambda search_path_string=None: loader  # type: ignore[assignment]


class Launcher(Protocol):
    """Runs one invocation in a new process and returns its exit status."""

    def run(self, invocation: Invocation, timeout: float) -> int: ...


class SpawnLauncher:
    """A fresh interpreter per run: ``python -m standins.worker_process FILE``."""

    def run(self, invocation: Invocation, timeout: float) -> int:
        """Start it, wait for it (killing it at ``timeout``); its exit status."""
        spec = Path(invocation.result_path).with_suffix(".invocation.json")
        spec.write_text(invocation.to_json())
        with open(invocation.log_path, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "standins.worker_process", str(spec)],
                env=invocation.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


class ForkServerLauncher:
    """Processes forked from a server that imported the worker once (``PRELOAD``)."""

    def __init__(self) -> None:
        from multiprocessing import forkserver

        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(list(PRELOAD))
        _without_main_module()
        os.environ[WARM_FLAG] = "1"  # the server imports this module and warms botocore
        try:
            forkserver.ensure_running()
        finally:
            os.environ.pop(WARM_FLAG, None)

    def run(self, invocation: Invocation, timeout: float) -> int:
        """Fork it, wait for it (killing it at ``timeout``); its exit status."""
        process = self.context.Process(target=child_main, args=(invocation,), daemon=False)
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
        return int(process.exitcode if process.exitcode is not None else KILLED)


def _without_main_module() -> None:
    """Children need only ``child_main``: never re-import the parent's ``__main__`` in them
    (multiprocessing would import the season's script, moto and all, in every run)."""
    from multiprocessing import spawn

    if getattr(spawn.get_preparation_data, "without_main", False):
        return
    prepare = spawn.get_preparation_data

    def preparation_data(name: str) -> dict[str, Any]:
        data = prepare(name)
        data.pop("init_main_from_name", None)
        data.pop("init_main_from_path", None)
        return data

    preparation_data.without_main = True  # type: ignore[attr-defined]
    spawn.get_preparation_data = preparation_data


LAUNCHERS: dict[str, Callable[[], Launcher]] = {
    "spawn": SpawnLauncher,
    "forkserver": ForkServerLauncher,
}


# -- Lambda's async invoke -------------------------------------------------------------------
class SeasonClock:
    """Seconds since the round opened: real time plus the time the season skipped."""

    def __init__(self) -> None:
        self.skipped = 0.0  # over the whole season: how far the children's clocks run ahead
        self._opened = time.monotonic()
        self._round_skipped = 0.0

    def open_round(self) -> None:
        """A round opens now: its time starts at 0."""
        self._opened = time.monotonic()
        self._round_skipped = 0.0

    def now(self) -> float:
        """Seconds since the round opened, in season time."""
        return time.monotonic() - self._opened + self._round_skipped

    def advance_to(self, moment: float) -> None:
        """Skip ahead to ``moment`` (seconds after the open); never back."""
        gap = moment - self.now()
        if gap > 0:
            self.skipped += gap
            self._round_skipped += gap


@dataclass
class Run:
    """One invocation's record: what ran, when (season time) and how it ended."""

    id: str
    round: int
    origin: str  # webhook, check+15 ...
    attempt: int  # 0, then Lambda's retries 1 and 2
    event: dict[str, Any]
    started: float
    log_path: str
    kill: KillSpec | None = None
    ended: float | None = None
    exit_code: int | None = None
    fired: str | None = None  # the kill point this process died at
    result: dict[str, Any] | None = None
    error: str | None = None
    cpu_seconds: float | None = None  # the process's own, when it lived to report it

    @property
    def label(self) -> str:
        """``webhook``, ``webhook retry 1`` ..."""
        return self.origin + (f" retry {self.attempt}" if self.attempt else "")

    def outcome(self, model: str) -> str:
        """What this run did for ``model``: killed, or its outcome's status (or why none)."""
        if self.fired is not None and self.kill is not None and self.kill.model == model:
            return f"killed {self.fired}"
        if self.exit_code == KILLED:
            return "killed"
        for outcome in (self.result or {}).get("outcomes", []):
            if outcome.get("model") == model:
                detail = str(outcome.get("detail", ""))
                if outcome["status"] == "skipped" and "found at Numerai" in detail:
                    return "found at Numerai"
                if outcome["status"] == "skipped" and "another invocation" in detail:
                    return "skipped (guard's stored result)"
                return str(outcome["status"])
        if self.result is None:
            return "crashed" if self.exit_code else "no result"
        return "not selected"


@dataclass
class LambdaSettings:
    """What every invocation of a season shares."""

    env: dict[str, str]
    workdir: Path
    lambda_timeout: float = 900.0
    numerai_timeout: float = 2.0
    fast_retries: bool = False
    aws_timeout: float = 1.0
    wait_timeout: float = 600.0  # real seconds a process may take before the season kills it
    guard_lease: float | None = None  # a shorter guard lease, so that renewals happen at all


class ProcessLambda:
    """``InvocationType=Event`` for the worker: a process per run, Lambda's retries."""

    def __init__(
        self,
        launcher: Launcher,
        settings: LambdaSettings,
        clock: SeasonClock,
        arm: Callable[[dict[str, Any], str], KillSpec | None] | None = None,
    ) -> None:
        self.launcher = launcher
        self.settings = settings
        self.clock = clock
        self.arm = arm
        self.round = 0
        self.origin = "webhook"  # what an invoke() (the webhook's hand-off) is labelled
        self.duplicate: set[str] = set()  # models whose events Lambda delivers twice
        self.runs: list[Run] = []
        self._pending: list[tuple[float, dict[str, Any], str, int]] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        for folder in ("logs", "results", "tmp", "kills"):
            (settings.workdir / folder).mkdir(parents=True, exist_ok=True)

    # -- the hand-off ----------------------------------------------------------------------
    def invoke(self, request: WorkerRequest) -> None:
        """The webhook's async invoke: start a run now (twice for a duplicated delivery)."""
        event = json.loads(json.dumps(request.to_event()))
        self.start(event, self.origin)
        if request.models and self.duplicate.intersection(request.models):
            self.start(event, self.origin)

    def start(self, event: dict[str, Any], origin: str, attempt: int = 0) -> Run:
        """Start one run on a background thread (its process) and return its record."""
        run = Run(
            id=uuid.uuid4().hex[:12],
            round=self.round,
            origin=origin,
            attempt=attempt,
            event=event,
            started=self.clock.now(),
            log_path="",
        )
        kill = self.arm(event, origin) if self.arm is not None else None
        run.kill = dataclasses.replace(kill, run=run.id) if kill is not None else None
        run.log_path = str(
            self.settings.workdir / "logs" / f"r{run.round}-{origin}-{attempt}-{run.id}.log"
        )
        thread = threading.Thread(target=self._run, args=(run,), daemon=True)
        with self._lock:
            self.runs.append(run)
            self._threads.append(thread)
        thread.start()
        return run

    def _run(self, run: Run) -> None:
        s = self.settings
        tmp = s.workdir / "tmp" / run.id
        result_path = s.workdir / "results" / f"{run.id}.json"
        invocation = Invocation(
            event=run.event,
            env={**s.env, "LIVE_DATA_DIR": str(tmp)},
            log_path=run.log_path,
            result_path=str(result_path),
            lambda_timeout=s.lambda_timeout,
            clock_offset=self.clock.skipped,
            numerai_timeout=s.numerai_timeout,
            fast_retries=s.fast_retries,
            aws_timeout=s.aws_timeout,
            kill=run.kill,
            guard_lease=s.guard_lease,
        )
        code = self.launcher.run(invocation, s.wait_timeout)
        shutil.rmtree(tmp, ignore_errors=True)
        run.exit_code = code
        run.ended = self.clock.now()
        if result_path.exists():
            answer = json.loads(result_path.read_text())
            run.result, run.error = answer.get("result"), answer.get("error")
            run.cpu_seconds = answer.get("cpu_seconds")
        if code == KILLED and run.kill is not None and _fired_by(run.kill, code):
            run.fired = run.kill.point
        if code != 0 and run.attempt < len(RETRY_DELAYS):
            with self._lock:
                due = run.ended + RETRY_DELAYS[run.attempt]
                self._pending.append((due, run.event, run.origin, run.attempt + 1))

    # -- time ------------------------------------------------------------------------------
    def wait(self) -> None:
        """Join every run started so far (and the retries they queue are not started)."""
        while True:
            with self._lock:
                alive = [t for t in self._threads if t.is_alive()]
                self._threads = alive
            if not alive:
                return
            alive[0].join()

    def run_until(self, moment: float) -> None:
        """Play Lambda's retries due before ``moment`` (season time), in waves: retries due
        within ``WAVE_SECONDS`` of each other start together, none before it is due."""
        while True:
            self.wait()
            with self._lock:
                due = sorted((p for p in self._pending if p[0] < moment), key=lambda p: p[0])
                if not due:
                    return
                wave = [p for p in due if p[0] <= due[0][0] + WAVE_SECONDS]
                for item in wave:
                    self._pending.remove(item)
            self.clock.advance_to(wave[-1][0])
            for _, event, origin, attempt in wave:
                self.start(event, origin, attempt)

    def drop_pending(self) -> int:
        """Forget retries not played (the round closed); how many there were."""
        with self._lock:
            count = len(self._pending)
            self._pending.clear()
        return count

    def runs_of(self, round_number: int) -> list[Run]:
        """Every run of a round, in start order."""
        with self._lock:
            return [r for r in self.runs if r.round == round_number]


def _fired_by(spec: KillSpec, code: int) -> bool:
    """Whether the process that died with ``code`` is the one that fired ``spec``."""
    try:
        fired = json.loads(Path(spec.marker).read_text())
    except (OSError, ValueError):
        return False
    return code == KILLED and fired.get("run") == spec.run


if os.environ.get(WARM_FLAG):  # imported by the fork server's preload
    warm_botocore()

if __name__ == "__main__":
    main()
