"""Lambda's Invoke API on 127.0.0.1: functions registered by name, every call recorded.

``POST /2015-03-31/functions/{name}/invocations`` as botocore sends it (point a client at
:attr:`LambdaEndpoint.url` with ``endpoint_url``, or code that builds its own client with the
standard ``AWS_ENDPOINT_URL_LAMBDA`` variable, :meth:`LambdaEndpoint.env`). It answers as Lambda
does: ``RequestResponse`` waits for the function, 200 with its JSON answer, or 200 with
``X-Amz-Function-Error: Unhandled`` and ``{"errorType", "errorMessage", "stackTrace"}`` when it
raised, crashed or ran past its timeout (``Sandbox.Timedout``); ``Event`` queues it (202) and
runs it in the background; ``DryRun`` answers 204. An unknown name is Lambda's 404
``ResourceNotFoundException``.

A function is a Python callable run in this process (:class:`InProcessFunction`, for our own
handlers) or a user's folder run in a Python process of its own (:class:`SubprocessFunction`):
the user's code, and the secret in its environment, never enter the caller's process, and what
it prints stays in its own logs (:attr:`Outcome.logs`), as in CloudWatch.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from standins.local_lambda import LocalContext

INVOKE_PREFIX = "/2015-03-31/functions/"
INVOKE_SUFFIX = "/invocations"
ACCOUNT = "123456789012"
REGION = "us-east-1"
MAX_REQUEST_BYTES = 6 * 1024 * 1024  # Lambda's limit for a synchronous request
LOG_TAIL_BYTES = 4096  # what X-Amz-Log-Type: Tail returns
MAX_LOG_CHARS = 256 * 1024  # what an invocation record keeps of a function's output
# What a subprocess function inherits from this process: nothing that could hold a secret.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT")


@dataclass(frozen=True)
class Outcome:
    """What one run of a function produced: its answer (or error document) and its logs."""

    payload: bytes
    error_type: str | None = None  # set when the function failed: X-Amz-Function-Error
    logs: str = ""

    @classmethod
    def answered(cls, value: Any, logs: str = "") -> Outcome:
        """A return value, serialised as Lambda's runtime does (MarshalError if it cannot)."""
        try:
            return cls(json.dumps(value).encode(), None, logs)
        except (TypeError, ValueError) as error:
            return cls.failed("Runtime.MarshalError", f"Unable to marshal response: {error}", logs)

    @classmethod
    def failed(
        cls, error_type: str, message: str, logs: str = "", trace: list[str] | None = None
    ) -> Outcome:
        """A failure, as the error document Lambda returns."""
        document = {"errorType": error_type, "errorMessage": message, "stackTrace": trace or []}
        return cls(json.dumps(document).encode(), error_type, logs)

    @classmethod
    def timed_out(cls, request_id: str, seconds: float, logs: str = "") -> Outcome:
        """Lambda stopped the function at its timeout."""
        note = f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds"
        return cls.failed("Sandbox.Timedout", note, f"{logs}{_now()} {note}\n")

    def answer(self) -> Any:
        """The payload as JSON (tests)."""
        return json.loads(self.payload)


class LocalFunction(Protocol):
    """Something the endpoint can run for one invocation."""

    def run(self, event: Any, function_name: str, request_id: str) -> Outcome:
        """Run once with ``event``; never raises (a failure is an :class:`Outcome`)."""
        ...


class InProcessFunction:
    """A ``handler(event, context)`` of ours run on a thread of this process, with a timeout."""

    def __init__(
        self, handler: Callable[[Any, Any], Any], timeout: float = 900.0, memory_mb: int = 128
    ) -> None:
        self.handler = handler
        self.timeout = timeout
        self.memory_mb = memory_mb

    def run(self, event: Any, function_name: str, request_id: str) -> Outcome:
        """The handler's answer, its exception as Lambda reports it, or a timeout."""
        box: list[Outcome] = []
        context = LocalContext(function_name, self.memory_mb, self.timeout, request_id)

        def call() -> None:
            try:
                box.append(Outcome.answered(self.handler(event, context)))
            except Exception as error:
                trace = traceback.format_tb(error.__traceback__)
                box.append(Outcome.failed(type(error).__name__, str(error), trace=trace))

        thread = threading.Thread(target=call, name=f"lambda-{function_name}", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if not box:  # still running: Lambda would freeze it; the thread is left to finish
            return Outcome.timed_out(request_id, self.timeout)
        return box[0]


# Runs in the function's own process: imports the user's module from its folder (the working
# directory, first on sys.path, as Lambda's /var/task) and writes the outcome to a file, so that
# whatever the code prints stays in its logs and cannot be taken for its answer.
_BOOTSTRAP = r"""
import importlib, json, os, sys, time, traceback

result_path, module_name, handler_name = sys.argv[1:4]
deadline = time.monotonic() + float(os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"])


class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = "$LATEST"
    memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    aws_request_id = os.environ["_STANDIN_REQUEST_ID"]
    invoked_function_arn = os.environ["_STANDIN_FUNCTION_ARN"]
    log_group_name = "/aws/lambda/" + function_name

    def get_remaining_time_in_millis(self):
        return max(0, int((deadline - time.monotonic()) * 1000))


def finish(record):
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(record, handle)


def failure(error_type, message, error=None):
    trace = traceback.format_tb(error.__traceback__) if error is not None else []
    print(f"[ERROR] {error_type}: {message}", file=sys.stderr)
    if error is not None:
        traceback.print_exception(error, file=sys.stderr)
    return {"errorType": error_type, "errorMessage": message, "stackTrace": trace}


event = json.loads(sys.stdin.read() or "null")
sys.path.insert(0, os.getcwd())
try:
    module = importlib.import_module(module_name)
except Exception as error:
    message = f"Unable to import module {module_name!r}: {error}"
    finish(failure("Runtime.ImportModuleError", message))
    sys.exit(0)
handler = getattr(module, handler_name, None)
if not callable(handler):
    message = f"Handler {handler_name!r} missing on module {module_name!r}"
    finish(failure("Runtime.HandlerNotFound", message))
    sys.exit(0)
try:
    value = handler(event, Context())
except Exception as error:
    finish(failure(type(error).__name__, str(error), error))
    sys.exit(0)
try:
    finish({"answer": json.dumps(value)})
except (TypeError, ValueError) as error:
    finish(failure("Runtime.MarshalError", f"Unable to marshal response: {error}"))
"""


class SubprocessFunction:
    """A user's folder (``app.py`` with ``handler(event, context)``) run in its own process.

    ``env`` is the function's whole environment beyond a few harmless variables of this
    process (``PATH``, ``HOME``, locale, temp folder) and Lambda's own (function name, memory,
    timeout): its secret, its AWS endpoint and credentials. The worker's environment, and its
    Numerai keys, are not passed on. Past ``timeout`` the process group is killed and the
    answer is Lambda's ``Sandbox.Timedout``.
    """

    def __init__(
        self,
        folder: Path | str,
        env: Mapping[str, str] | None = None,
        *,
        timeout: float = 60.0,
        memory_mb: int = 1024,
        handler: str = "app.handler",
        python: str = sys.executable,
    ) -> None:
        self.folder = Path(folder).resolve()
        self.env = dict(env or {})
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.module, _, self.handler_name = handler.rpartition(".")
        self.python = python
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def environment(self, function_name: str, request_id: str) -> dict[str, str]:
        """What the function's process sees."""
        inherited = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
        lambda_env = {
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.timeout),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
            "LAMBDA_TASK_ROOT": str(self.folder),
            "PYTHONUNBUFFERED": "1",
            "_STANDIN_REQUEST_ID": request_id,
            "_STANDIN_FUNCTION_ARN": function_arn(function_name),
        }
        return {**inherited, **lambda_env, **self.env}

    def run(self, event: Any, function_name: str, request_id: str) -> Outcome:
        """Start the process, feed it the event, wait up to the timeout, read the outcome."""
        with tempfile.TemporaryDirectory(prefix="lambda-standin-") as scratch:
            result = Path(scratch) / "outcome.json"
            command = [self.python, "-c", _BOOTSTRAP, str(result), self.module, self.handler_name]
            process = subprocess.Popen(
                command,
                cwd=self.folder,
                env=self.environment(function_name, request_id),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a timeout stops its children too
            )
            with self._lock:
                self._running.add(process)
            try:
                output, _ = process.communicate(json.dumps(event).encode(), timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                output, _ = process.communicate()
                return Outcome.timed_out(request_id, self.timeout, _text(output))
            finally:
                with self._lock:
                    self._running.discard(process)
            logs = _text(output)
            record = _read_record(result)
        if record is None:
            note = f"RequestId: {request_id} Error: Runtime exited with error: exit status"
            return Outcome.failed("Runtime.ExitError", f"{note} {process.returncode}", logs)
        if "answer" in record:
            return Outcome(str(record["answer"]).encode(), None, logs)
        return Outcome.failed(
            str(record.get("errorType")),
            str(record.get("errorMessage")),
            logs,
            list(record.get("stackTrace") or []),
        )

    def stop(self) -> None:
        """Kill the runs still going (the endpoint stops them when it closes)."""
        with self._lock:
            running = list(self._running)
        for process in running:
            _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the function's process and whatever it started (its own session, by its id)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _text(output: bytes | None) -> str:
    text = (output or b"").decode("utf-8", "replace")
    return text[-MAX_LOG_CHARS:]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def function_arn(name: str, qualifier: str | None = None) -> str:
    """The ARN Lambda would give a function of this endpoint's made-up account."""
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


@dataclass
class Invocation:
    """One Invoke call as it arrived, and what came of it (``outcome`` None until it ran)."""

    function_name: str
    qualifier: str | None
    invocation_type: str
    log_type: str | None
    event: Any
    request_id: str
    status: int = 0
    outcome: Outcome | None = None
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None


class Call(NamedTuple):
    """What one Invoke asked for, without how it went: a test compares calls whole."""

    function_name: str
    qualifier: str | None
    invocation_type: str
    payload: Any


@dataclass(frozen=True)
class _Forced:
    status: int
    error_code: str | None


class LambdaEndpoint:
    """Lambda's Invoke on a free loopback port; a context manager (see the module docstring).

    ``register("name", function)`` makes ``name`` (and any qualifier of it, ``name:live``)
    invocable; ``function`` is a :class:`LocalFunction` or a plain ``handler(event, context)``.
    """

    def __init__(self, port: int = 0) -> None:
        self._functions: dict[str, LocalFunction] = {}
        self._forced: dict[str, deque[_Forced]] = defaultdict(deque)
        self._invocations: list[Invocation] = []
        self._background: list[threading.Thread] = []
        self._lock = threading.Lock()
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall on keep-alive answers

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = owner._handle(self.path, dict(self.headers), body)
                self.send_response(status)
                headers.setdefault("Content-Type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                # The client may have given up waiting (its read timeout), as it may with Lambda.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Silent: nothing about a call leaves the records."""

        self._server = _QuietServer(("127.0.0.1", port), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- set-up -------------------------------------------------------------------------------

    def register(self, name: str, function: LocalFunction | Callable[[Any, Any], Any]) -> None:
        """Make ``name`` invocable (a callable is run in this process)."""
        if not hasattr(function, "run"):
            function = InProcessFunction(function)  # type: ignore[arg-type]
        with self._lock:
            self._functions[name] = function  # type: ignore[assignment]

    def answer_next(self, name: str, status: int, error_code: str | None = None) -> None:
        """Answer the next call of ``name`` with ``status`` (and AWS error ``error_code``)
        without running it: a throttle, a denial, or a broken answer such as 200 to an Event."""
        with self._lock:
            self._forced[name].append(_Forced(status, error_code))

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """The variable that sends boto3's Lambda clients (and only those) here."""
        return {"AWS_ENDPOINT_URL_LAMBDA": self.url}

    # -- records ------------------------------------------------------------------------------

    @property
    def invocations(self) -> list[Invocation]:
        """Every call so far, in arrival order."""
        with self._lock:
            return list(self._invocations)

    @property
    def calls(self) -> list[Call]:
        """Every call so far as (function name, qualifier, invocation type, payload)."""
        return [
            Call(call.function_name, call.qualifier, call.invocation_type, call.event)
            for call in self.invocations
        ]

    def clear(self) -> None:
        """Forget the calls and unused forced answers, so a shared endpoint starts a test empty."""
        with self._lock:
            self._invocations.clear()
            self._forced.clear()

    def wait(self, timeout: float = 60.0) -> list[Invocation]:
        """Join the queued (Event) runs started so far; every call's record."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._background)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return self.invocations

    # -- the API ------------------------------------------------------------------------------

    def _handle(
        self, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        if not (parts.path.startswith(INVOKE_PREFIX) and parts.path.endswith(INVOKE_SUFFIX)):
            return _aws_error(404, "UnknownOperationException", f"no operation at {parts.path}")
        lowered = {key.lower(): value for key, value in headers.items()}
        name, qualifier = _split_name(unquote(parts.path[len(INVOKE_PREFIX) : -len(INVOKE_SUFFIX)]))
        qualifier = parse_qs(parts.query).get("Qualifier", [qualifier])[0]
        invocation_type = lowered.get("x-amz-invocation-type") or "RequestResponse"
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            return _aws_error(400, "InvalidParameterValueException", "bad InvocationType")
        if len(body) > MAX_REQUEST_BYTES:
            return _aws_error(413, "RequestTooLargeException", "Request must be smaller than 6 MB")
        try:
            event = json.loads(body or b"null")
        except ValueError:
            return _aws_error(400, "InvalidRequestContentException", "Could not parse payload")
        record = Invocation(
            name,
            qualifier,
            invocation_type,
            lowered.get("x-amz-log-type"),
            event,
            str(uuid.uuid4()),
        )
        with self._lock:
            self._invocations.append(record)
            function = self._functions.get(f"{name}:{qualifier}") or self._functions.get(name)
            forced = self._forced[name].popleft() if self._forced.get(name) else None
        if forced is not None:
            record.status = forced.status
            if forced.error_code:
                return _aws_error(forced.status, forced.error_code, "forced by the stand-in")
            return forced.status, {}, b"" if invocation_type == "Event" else b"null"
        if function is None:
            record.status = 404
            message = f"Function not found: {function_arn(name, qualifier)}"
            return _aws_error(404, "ResourceNotFoundException", message)
        if invocation_type == "DryRun":
            record.status = 204
            return 204, {}, b""
        if invocation_type == "Event":
            record.status = 202
            thread = threading.Thread(target=self._run, args=(function, record), daemon=True)
            with self._lock:
                self._background.append(thread)
            thread.start()
            return 202, {}, b""
        outcome = self._run(function, record)
        record.status = 200
        answer_headers = {"X-Amz-Executed-Version": qualifier or "$LATEST"}
        if outcome.error_type is not None:
            answer_headers["X-Amz-Function-Error"] = "Unhandled"
        if record.log_type == "Tail":
            tail = outcome.logs.encode()[-LOG_TAIL_BYTES:]
            answer_headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        return 200, answer_headers, outcome.payload

    def _run(self, function: LocalFunction, record: Invocation) -> Outcome:
        outcome = function.run(record.event, record.function_name, record.request_id)
        record.outcome = outcome
        record.seconds = time.monotonic() - record.started
        return outcome

    # -- life ---------------------------------------------------------------------------------

    def __enter__(self) -> LambdaEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            functions = list(self._functions.values())
        for function in functions:
            stop = getattr(function, "stop", None)
            if stop is not None:
                stop()


class _QuietServer(ThreadingHTTPServer):
    """Writes nothing to stderr when a client hangs up on a call still running."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _split_name(text: str) -> tuple[str, str | None]:
    """``name``, ``name:qualifier``, or a (partial) ARN → (name, qualifier)."""
    if ":function:" in text:
        text = text.split(":function:", 1)[1]
    name, _, qualifier = text.partition(":")
    return name, qualifier or None


def _aws_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """An error answer botocore parses as AWS's own (rest-json: code in x-amzn-ErrorType)."""
    body = json.dumps({"Type": "User", "message": message}).encode()
    return status, {"X-Amzn-ErrorType": code}, body
