"""Hand a request to the worker: Lambda's async invoke (locally: standins.local_lambda)."""

from __future__ import annotations

import json
from typing import Any

from numerai_bot.adapters.aws_session import AwsSession, session_or_new
from numerai_bot.events import WorkerRequest


class LambdaInvoker:
    """``lambda:InvokeFunction`` with ``InvocationType=Event``: queued, retried by Lambda."""

    def __init__(
        self, function_arn: str, client: Any = None, aws: AwsSession | None = None
    ) -> None:
        if client is None:
            client = session_or_new(aws).client("lambda")
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
