"""The local async invoker: a caller can wait for hand-offs that arrive in the background."""

from __future__ import annotations

import threading

from numerai_bot.events import WorkerRequest
from standins.local_lambda import ThreadInvoker


def test_waiting_for_late_hand_offs_then_joining_collects_every_run() -> None:
    # As in the demo: Numerai calls the webhooks in the background, so the hand-offs reach
    # the invoker after the caller has triggered them; joining at once would find none.
    invoker = ThreadInvoker(lambda event, _context: event["roundNumber"])
    requests = [WorkerRequest("webhook", 1100 + i, f"t{i}", True) for i in range(2)]
    timers = [
        threading.Timer(0.2 * (i + 1), invoker.invoke, args=(r,)) for i, r in enumerate(requests)
    ]
    for timer in timers:
        timer.start()
    assert invoker.wait_started(2, timeout=10) == 2
    assert sorted(invoker.wait(timeout=10)) == [1100, 1101]


def test_waiting_for_hand_offs_that_never_come_gives_up_at_the_timeout() -> None:
    invoker = ThreadInvoker(lambda event, _context: None)
    assert invoker.wait_started(1, timeout=0.1) == 0
