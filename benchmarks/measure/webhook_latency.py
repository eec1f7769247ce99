"""The webhook handler's own latency, warm: Function URL event in → async invoke issued.

Run in a fresh subprocess by :mod:`benchmarks.measure.child`. The real ``webhook.create_handler``
with a recording invoker (Lambda's ``Invoke`` call itself is not measured: moto cannot run
Lambda without Docker); the token is read from moto's Secrets Manager on the first call and
cached by powertools afterwards, as in Lambda. The handler's JSON log line per call goes to
stdout, as in Lambda.

On its own, against any checkout's handlers (to compare two commits with the same code)::

    WEBHOOK_TOKEN=<16+ chars> WORKER_FUNCTION_ARN=arn:aws:lambda:us-east-1:1:function:w \
    PYTHONPATH=<checkout>/handlers:<checkout>:. python -m benchmarks.measure.webhook_latency \
    --calls 2000 --out figures.json

prints p50/p99 on stderr (stdout carries the handler's log lines) and writes every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from numerai_bot.events import WorkerRequest


class RecordingInvoker:
    """Stands in for ``LambdaInvoker``: remembers each request instead of invoking."""

    def __init__(self) -> None:
        self.requests: list[WorkerRequest] = []

    def invoke(self, request: WorkerRequest) -> None:
        """Record the hand-off."""
        self.requests.append(request)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0-1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(share * len(ordered)))) - 1]


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """First (cold) call, then ``calls`` warm calls: p50, p99, max, mean in milliseconds."""
    started = time.perf_counter()
    import webhook
    from standins.local_lambda import LocalContext, function_url_event

    import_seconds = time.perf_counter() - started
    invoker = RecordingInvoker()
    handler = webhook.create_handler(lambda _settings: invoker)
    body = json.dumps(
        {"roundNumber": 1200, "dataVersion": 5, "triggerId": "trig-1", "isTest": False}
    ).encode()
    event = function_url_event(
        "POST",
        f"/?token={spec['token']}&model=bench_000",
        {"content-type": "application/json", "host": "abc.lambda-url.us-east-1.on.aws"},
        body,
    )
    context = LocalContext("numerai-bot-webhook", 256, 10)
    started = time.perf_counter()
    first = handler(event, context)
    first_ms = (time.perf_counter() - started) * 1000
    if first["statusCode"] != 200:
        raise RuntimeError(f"webhook answered {first['statusCode']}: {first.get('body')}")
    for _ in range(20):  # warm-up
        handler(event, context)
    latencies = []
    for _ in range(int(spec["calls"])):
        started = time.perf_counter()
        answer = handler(event, context)
        latencies.append((time.perf_counter() - started) * 1000)
        if answer["statusCode"] != 200:
            raise RuntimeError(f"webhook answered {answer['statusCode']}")
    return {
        "calls": len(latencies),
        "import_seconds": import_seconds,
        "first_call_ms": first_ms,
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "mean_ms": statistics.fmean(latencies),
        "invocations_recorded": len(invoker.requests),
    }


def main(argv: list[str] | None = None) -> int:
    """Measure once in this process; the token comes from ``WEBHOOK_TOKEN``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="warm calls to time")
    parser.add_argument("--out", type=Path, help="write every figure here as JSON")
    args = parser.parse_args(argv)
    figures = measure({"token": os.environ["WEBHOOK_TOKEN"], "calls": args.calls})
    if args.out:
        args.out.write_text(json.dumps(figures))
    print(f"p50 {figures['p50_ms']:.3f} ms  p99 {figures['p99_ms']:.3f} ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
