"""Webhook deliveries: POST Numerai's trigger JSON to a model's registered URL.

Numerai calls a model's webhook when a round opens (``isTest`` false) and when someone runs
``triggerModelWebhook`` (``isTest`` true). The body carries ``roundNumber``, ``dataVersion``,
``triggerId`` and ``isTest``; there is no signature. Each delivery runs in its own daemon
thread and its outcome (status, body or connection error) is recorded for tests to read.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid

from standins.numerai import clock
from standins.numerai.state import Delivery, TournamentState

DATA_VERSION = 5
BODY_LIMIT = 10_000
USER_AGENT = "numerai-standin-webhook/1"


def payload(
    round_number: int, trigger_id: str, is_test: bool, data_version: int = DATA_VERSION
) -> dict:
    """The JSON Numerai posts to a webhook."""
    return {
        "roundNumber": round_number,
        "dataVersion": data_version,
        "triggerId": trigger_id,
        "isTest": is_test,
    }


class WebhookSender:
    """Starts deliveries in background threads and records them in the shared state."""

    def __init__(self, state: TournamentState, timeout: float = 10.0) -> None:
        self.state = state
        self.timeout = timeout
        self._threads: list[threading.Thread] = []

    def trigger(
        self,
        model_id: str,
        round_number: int,
        is_test: bool,
        data_version: int = DATA_VERSION,
    ) -> str:
        """Deliver to ``model_id``'s webhook in the background; return the new trigger id.

        ``round_number`` and ``data_version`` are those of the model's own tournament.
        """
        trigger_id = str(uuid.uuid4())
        with self.state.lock:
            url = self.state.webhooks[model_id]
            delivery = Delivery(
                id=str(uuid.uuid4()),
                model_id=model_id,
                model_name=self.state.model_name(model_id) or "",
                url=url,
                payload=payload(round_number, trigger_id, is_test, data_version),
                started_at=clock.now(),
                tournament=self.state.tournament_of(model_id),
            )
            self.state.deliveries.append(delivery)
        thread = threading.Thread(
            target=self._deliver, args=(delivery,), name=f"webhook-{delivery.id}", daemon=True
        )
        self._threads.append(thread)
        thread.start()
        return trigger_id

    def _deliver(self, delivery: Delivery) -> None:
        request = urllib.request.Request(
            delivery.url,
            data=json.dumps(delivery.payload).encode(),
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
            method="POST",
        )
        started = time.monotonic()
        status: int | None = None
        body: str | None = None
        error: str | None = None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
                body = response.read(BODY_LIMIT).decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            status = err.code
            body = err.read(BODY_LIMIT).decode("utf-8", "replace")
        except (OSError, ValueError) as err:
            error = f"{type(err).__name__}: {err}"
        with self.state.lock:
            delivery.status = status
            delivery.body = body
            delivery.error = error
            delivery.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
            delivery.done = True
            self.state.deliveries_changed.notify_all()

    def wait(self, count: int, timeout: float) -> list[Delivery]:
        """Block until at least ``count`` deliveries are done (or ``timeout``); return them all."""
        deadline = time.monotonic() + timeout
        with self.state.lock:
            while sum(d.done for d in self.state.deliveries) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.state.deliveries_changed.wait(left)
            return list(self.state.deliveries)

    def join(self, timeout: float = 1.0) -> None:
        """Give running deliveries a moment to finish (used when the stand-in stops)."""
        for thread in self._threads:
            thread.join(timeout)
