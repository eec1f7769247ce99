"""One boto3 session for all of a worker's (or the webhook's) AWS adapters.

Why one: every boto3 ``Session`` loads and parses the endpoint rules and each service's
model again. The default session, powertools' Secrets Manager provider and powertools'
idempotency layer each made their own, so a worker paid for three: 0.23 s of CPU and 34 MiB
where one session costs 0.12 s and 18 MiB (the same clients, one process, the 2-core VM of
docs/benchmarks.md). Clients are made on demand, so a run pays only for what it touches.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)


class AwsSession:
    """Makes every AWS client of one container from one boto3 session (thread-safe)."""

    def __init__(self, session: Any = None) -> None:
        self._session = session  # made on first use: boto3's import is ~0.15 s
        self._lock = threading.Lock()  # a boto3 Session is not thread-safe

    def _boto3(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session()
        return self._session

    def client(self, service: str, config: Any = None) -> Any:
        """A new client of ``service`` (each adapter keeps its own: hooks stay its own)."""
        with self._lock:
            return self._boto3().client(service, config=config)

    def prepare(self, services: Iterable[str]) -> None:
        """Import boto3 and load these services' models now, e.g. in Lambda's init phase
        (AWS's advice for SDK clients: the work then happens once per container, before
        the event, where Lambda's proactive initialisation and SnapStart take it off the
        round's clock). A client made later from this session costs ~5 ms instead of
        35-75 ms. Only a warm-up: if it fails, the run makes its clients and reports why."""
        for service in services:
            try:
                self.client(service)
            except Exception as error:  # e.g. no region outside Lambda: the run will say
                logger.debug("AWS warm-up skipped", extra={"error": type(error).__name__})
                return

    def resource(self, service: str) -> Any:
        """A new boto3 resource of ``service`` (the ledger's DynamoDB table API)."""
        with self._lock:
            return self._boto3().resource(service)


def session_or_new(aws: AwsSession | None) -> AwsSession:
    """``aws``, or a session of the caller's own (an adapter built on its own)."""
    return aws if aws is not None else AwsSession()
