"""The feature function port over Lambda's synchronous Invoke (locally: standins.lambda_endpoint).

The user's function runs in a Lambda of its own, with a data vendor's secret the worker may not
read. Whatever it raises or answers may carry that secret, so an error raised here names only
what Lambda reports about the failure (the errorType, i.e. the exception's class name), a status
code, an AWS error code or a size: never the error message nor the payload's text. Nothing is
logged here, and botocore logs Invoke's streamed payload only as a stream object, even at DEBUG.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from numerai_bot.own_data.feature_function import FeatureFunctionError, FeatureRequest

# The contract's answer is a few bytes ({"output": ..., "rows": ...}); Lambda allows 6 MB.
MAX_ANSWER_BYTES = 1 << 20
CONNECT_TIMEOUT = 10.0
# What Lambda's errorType holds: a class name (ValueError) or Lambda's own (Sandbox.Timedout).
# Anything else is not repeated, in case a function put text of its own there.
_ERROR_TYPE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,99}")
# Lambda's answer when it stopped the function at its Timeout; only the number is read.
_TIMED_OUT = re.compile(r"Task timed out after ([0-9]{1,6}(?:\.[0-9]{1,3})?) seconds")
LAMBDA_TIMEOUT_TYPE = "Sandbox.Timedout"
LAMBDA_OUT_OF_MEMORY_TYPE = "Runtime.OutOfMemory"
_NOT_JSON = object()


class LambdaFeatureFunction:
    """:class:`~numerai_bot.own_data.feature_function.FeatureFunction` as a RequestResponse
    ``lambda:InvokeFunction``: the worker waits for the function and reads its JSON answer."""

    def __init__(self, function_name: str, client: Any = None) -> None:
        # imported lazily, like the other AWS adapters: the local wiring must not need boto3
        from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

        self.function_name = function_name
        # A client passed in keeps its own timeouts; otherwise one per timeout is built.
        self._client = client
        self._clients: dict[float, Any] = {}
        # boto3's default session is not safe to build clients from on several threads at once.
        self._clients_lock = threading.Lock()
        self._read_timeout: type[Exception] = ReadTimeoutError
        self._client_error: type[Exception] = ClientError
        self._no_answer: type[Exception] = BotoCoreError

    def compute(self, request: FeatureRequest, timeout: float) -> Any:
        """Invoke the function with the round's event and wait up to ``timeout`` seconds for
        its JSON answer; :class:`FeatureFunctionError` if it failed, timed out or answered
        something unusable."""
        if timeout <= 0:
            raise FeatureFunctionError(
                f"no time left in this run to invoke the feature function {self.function_name!r}"
            )
        client = self._client_for(timeout)
        event = json.dumps(request.to_event()).encode()
        try:
            response = client.invoke(
                FunctionName=self.function_name,
                InvocationType="RequestResponse",
                Payload=event,
            )
            raw = _read(response.get("Payload"), MAX_ANSWER_BYTES + 1)
        except self._read_timeout:
            raise self._timed_out(timeout, "the worker stopped waiting; it may still run") from None
        except self._client_error as error:
            raise self._refused(error) from None
        except self._no_answer as error:
            raise FeatureFunctionError(
                f"cannot reach Lambda to invoke the feature function {self.function_name!r} "
                f"({type(error).__name__})"
            ) from None
        return self._answer(response, raw, timeout)

    # -- answers ------------------------------------------------------------------------------

    def _answer(self, response: dict[str, Any], raw: bytes, timeout: float) -> Any:
        """The parsed answer of a call Lambda completed, or the error it stands for."""
        if response.get("FunctionError"):
            raise self._failed(raw, timeout)
        status = response.get("StatusCode")
        if status != 200:
            raise FeatureFunctionError(
                f"Lambda answered {status} to the synchronous invoke of the feature function "
                f"{self.function_name!r}, not 200"
            )
        if len(raw) > MAX_ANSWER_BYTES:
            raise FeatureFunctionError(
                f"the feature function {self.function_name!r} answered more than "
                f"{MAX_ANSWER_BYTES // 2**20} MiB: write the table to the event's 'output' and "
                'answer only {"output": "<where it wrote>", "rows": <n>}'
            )
        answer = _json(raw)
        if answer is _NOT_JSON:
            raise FeatureFunctionError(
                f"the feature function {self.function_name!r} answered {len(raw)} bytes that "
                'are not JSON; answer {"output": "<where it wrote>", "rows": <n>}'
            )
        return answer

    def _failed(self, raw: bytes, timeout: float) -> FeatureFunctionError:
        """The function raised, crashed or was stopped: named by its errorType alone."""
        error = _json(raw[:MAX_ANSWER_BYTES])
        error = error if isinstance(error, dict) else {}
        error_type = error.get("errorType")
        message = error.get("errorMessage")
        seconds = _TIMED_OUT.search(message) if isinstance(message, str) else None
        if error_type == LAMBDA_TIMEOUT_TYPE or seconds is not None:
            after = float(seconds.group(1)) if seconds is not None else timeout
            return self._timed_out(after, "Lambda stopped it at its Timeout")
        if not isinstance(error_type, str) or not _ERROR_TYPE.fullmatch(error_type):
            return FeatureFunctionError(
                f"the feature function {self.function_name!r} failed; {self._logs_hint()}"
            )
        if error_type == LAMBDA_OUT_OF_MEMORY_TYPE:
            return FeatureFunctionError(
                f"the feature function {self.function_name!r} ran out of memory "
                f"({error_type}): raise the stack's FeatureFunctionMemorySize; {self._logs_hint()}"
            )
        return FeatureFunctionError(
            f"the feature function {self.function_name!r} raised {error_type}; {self._logs_hint()}"
        )

    def _timed_out(self, seconds: float, how: str) -> FeatureFunctionError:
        return FeatureFunctionError(
            f"the feature function {self.function_name!r} timed out after {seconds:g} s ({how}); "
            f"{self._logs_hint()}"
        )

    def _refused(self, error: Exception) -> FeatureFunctionError:
        """Lambda refused the call itself: its error code says why."""
        response = getattr(error, "response", None)
        code = str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""
        name = self.function_name
        if code == "ResourceNotFoundException":
            return FeatureFunctionError(
                f"there is no Lambda function {name!r} to compute the table: deploy the stack "
                "with FeatureFunction=Enabled, or turn the model's feature_function off"
            )
        if code in ("AccessDeniedException", "AccessDenied"):
            return FeatureFunctionError(
                f"the worker may not invoke the feature function {name!r} ({code}): deploy the "
                "stack with FeatureFunction=Enabled, which grants it"
            )
        if code == "TooManyRequestsException":
            return FeatureFunctionError(
                f"Lambda throttled the feature function {name!r} ({code}): too many executions "
                "at once in the account; a later run retries"
            )
        return FeatureFunctionError(
            f"Lambda refused to invoke the feature function {name!r} ({code or 'unknown error'})"
        )

    def _logs_hint(self) -> str:
        short = self.function_name.split(":function:")[-1].split(":")[0]
        return f"read its logs (CloudWatch log group /aws/lambda/{short})"

    # -- clients ------------------------------------------------------------------------------

    def _client_for(self, timeout: float) -> Any:
        """The client passed in, or one that waits ``timeout`` seconds and never retries
        (a retry would run the user's function, and its vendor calls, a second time)."""
        if self._client is not None:
            return self._client
        key = round(timeout, 3)
        with self._clients_lock:
            if key not in self._clients:
                import boto3
                from botocore.config import Config

                config = Config(
                    read_timeout=key,
                    connect_timeout=min(CONNECT_TIMEOUT, key),
                    retries={"total_max_attempts": 1},
                    # AWS's advice for synchronous calls that run for minutes with no traffic
                    tcp_keepalive=True,
                )
                self._clients[key] = boto3.client("lambda", config=config)
            return self._clients[key]


def _read(payload: Any, limit: int) -> bytes:
    """Up to ``limit`` bytes of Invoke's streamed payload (bytes from a stubbed client)."""
    if payload is None:
        return b""
    if isinstance(payload, bytes | bytearray):
        return bytes(payload[:limit])
    try:
        return bytes(payload.read(limit))
    finally:
        close = getattr(payload, "close", None)
        if close is not None:
            close()


def _json(raw: bytes) -> Any:
    """The parsed JSON, or ``_NOT_JSON``; decoded outside any ``except`` block, so that no
    error raised afterwards carries the decoder's exception, which holds the whole text."""
    try:
        return json.loads(raw)
    except ValueError:
        pass
    return _NOT_JSON
