"""Ways to hand a request to the worker: Lambda's async invoke, or a thread for local runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from numerai_bot.events import WorkerRequest


class LambdaInvoker:
    """``lambda:InvokeFunction`` with ``InvocationType=Event``: queued, retried by Lambda."""

    def __init__(self, function_arn: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("lambda")
        self.function_arn = function_arn
        self.client = client

    def invoke(self, request: WorkerRequest) -> None:
        """Queue the request; raise if Lambda did not accept it (status 202)."""
        response = self.client.invoke(
            FunctionName=self.function_arn,
            InvocationType="Event",
            Payload=json.dumps(request.to_event()).encode(),
        )
        if response.get("StatusCode") != 202:
            raise RuntimeError(f"worker invoke returned {response.get('StatusCode')}")


class ThreadInvoker:
    """Runs the worker handler in a background thread, as Lambda would run it elsewhere.

    The event is serialised to JSON and back, so the worker sees exactly what Lambda
    would deliver. Used by the local demo and the tests.
    """

    def __init__(self, handler: Callable[[dict, Any], Any]) -> None:
        self.handler = handler
        self.threads: list[threading.Thread] = []
        self.results: list[Any] = []

    def invoke(self, request: WorkerRequest) -> None:
        """Start the worker on a copy of the event and return at once."""
        event = json.loads(json.dumps(request.to_event()))
        thread = threading.Thread(target=self._run, args=(event,), daemon=True)
        self.threads.append(thread)
        thread.start()

    def _run(self, event: dict) -> None:
        try:
            self.results.append(self.handler(event, None))
        except Exception as error:  # Lambda would record it; keep it for the caller to see
            self.results.append(error)

    def wait(self, timeout: float = 300.0) -> list[Any]:
        """Join every started run; their results or exceptions, in completion order."""
        for thread in list(self.threads):
            thread.join(timeout)
        return self.results
