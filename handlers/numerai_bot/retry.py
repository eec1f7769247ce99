"""Retry transient failures with exponential backoff and full jitter, bounded by a deadline.

A small helper instead of a library: urllib3's Retry covers HTTP status codes only, and we
also retry typed errors (:class:`NumeraiUnavailable`) and must stop at the round's close.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from numerai_bot.errors import NumeraiUnavailable

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, backoff shape, and an absolute deadline (monotonic)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    deadline: float | None = None

    def with_deadline(self, deadline: float | None) -> RetryPolicy:
        """The same policy, stopping at ``deadline`` (``time.monotonic()`` seconds)."""
        return RetryPolicy(self.attempts, self.base_delay, self.max_delay, deadline)


def call_with_retry(
    operation: Callable[[], T],
    policy: RetryPolicy,
    retry_on: tuple[type[BaseException], ...] = (NumeraiUnavailable,),
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``operation``; on a ``retry_on`` error wait and try again while time allows."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return operation()
        except retry_on:
            if attempt >= policy.attempts:
                raise
            delay = random.uniform(0, min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)))  # noqa: S311 - jitter, not crypto
            if policy.deadline is not None and time.monotonic() + delay >= policy.deadline:
                raise
            sleep(delay)
