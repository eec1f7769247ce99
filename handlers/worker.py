"""Lambda entry point of the worker: parse the event, run the round, shape the answer.

Raises when a model failed, so that Lambda's async retries (which submit only what is
still missing) and the on-failure queue and alarms see it. What is not a failure does not
raise: a stack whose keys are not stored yet (one notice), a model another run holds (that
run's own invocation is retried if it dies). Whatever does escape carries no secret.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

from numerai_bot.adapters.aws_session import AwsSession
from numerai_bot.allocator import return_large_buffers_to_os
from numerai_bot.config import WorkerSettings
from numerai_bot.errors import KeysNotSet
from numerai_bot.events import PayloadError, parse_worker_event
from numerai_bot.redact import install_redaction, redact, without_secrets
from numerai_bot.round.runner import RoundRunner
from numerai_bot.wiring import WORKER_SERVICES, build_runner

logger = Logger(service="numerai-bot-worker")
copy_config_to_registered_loggers(source_logger=logger, include={"numerai_bot"})
install_redaction(logger)  # no presigned URL, token or key in any log line
metrics = Metrics(namespace="NumeraiBot", service="numerai-bot-worker")
return_large_buffers_to_os()  # memory flat across models (see numerai_bot.allocator)


class RoundIncomplete(Exception):
    """Some models were not submitted; the message lists them and why."""


def _deadline(context: Any) -> float | None:
    """The Lambda's timeout as a ``time.monotonic()`` instant, keeping 10 s to report."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.monotonic() + remaining() / 1000 - 10.0


def create_handler(
    runner_factory: Callable[[], RoundRunner],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A worker handler whose core is built once per container by ``runner_factory``."""
    built: list[RoundRunner] = []

    @metrics.log_metrics
    @logger.inject_lambda_context(log_event=False, clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Submit the open round for the requested (or all) models."""
        try:
            return run(event, context)
        except Exception as error:  # Lambda's runtime prints the message as it is
            raise without_secrets(error) from None

    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            request = parse_worker_event(event)
        except PayloadError as error:
            logger.error("rejected worker event", extra={"error": str(error)})
            return {"status": "rejected", "message": str(error)}
        # Thread-safe keys: one invocation per container in Lambda, but local runs share it.
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(source=request.source, trigger_id=request.trigger_id)
        if not built:
            try:
                built.append(runner_factory())
            except KeysNotSet as error:  # a new stack before put-keys: nothing to do yet
                logger.warning("keys not stored yet", extra={"next_step": str(error)})
                return {"status": "keys_not_set", "message": str(error)}
        runner = built[0]
        result = runner.run(request, deadline=_deadline(context), invocation=context)
        metrics.add_metric("ModelsSubmitted", MetricUnit.Count, len(result.submitted))
        metrics.add_metric("ModelsMissingSubmission", MetricUnit.Count, len(result.failed))
        # What the stack's alarm watches: a round closed with a configured model missing.
        metrics.add_metric("ModelsMissingAtClose", MetricUnit.Count, result.missing_at_close)
        metrics.add_metric("ModelsHeldByAnotherRun", MetricUnit.Count, len(result.pending))
        # A model another run holds is that run's to finish: not an error here. If that run
        # dies, its own invocation fails and is retried, and the schedule checks again.
        if result.status == "failed" or result.failed:
            failures = "; ".join(f"{o.model}: {o.detail}" for o in result.failed)
            raise RoundIncomplete(redact(f"{result.message}. {failures}".rstrip(". ")))
        return result.to_dict()

    return handler


AWS = AwsSession()
AWS.prepare(WORKER_SERVICES)  # in Lambda's init phase (see AwsSession.prepare)
handler = create_handler(lambda: build_runner(WorkerSettings.from_env(), aws=AWS))
