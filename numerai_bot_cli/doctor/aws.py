"""Doctor check (f): the stack's safety nets exist and point at each other: the worker's
alias, its async invoke config (retries, maximum event age, on-failure destination = the
dead-letter queue), the dead-letter queue (and whether events are waiting in it), the
fallback schedule(s) targeting the alias, and someone subscribed to the alarm topic.

Names come from the stack's outputs (template.yaml's ``Outputs``); each part is a registered
probe, so one missing resource fails only its own line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from botocore.exceptions import ClientError

from numerai_bot_cli.aws import error_code
from numerai_bot_cli.doctor.core import Finding, check, failed, passed
from numerai_bot_cli.doctor.env import DoctorEnv
from numerai_bot_cli.errors import CliError

ALIAS = "live"  # template.yaml: Mappings Names.Worker.AliasName
DEPLOY = "redeploy the current template: `numerai-bot deploy`"
MISSING = (
    "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
)


@dataclass(frozen=True)
class Part:
    """One resource to look at: its line's name and the probe that returns the line."""

    name: str
    probe: Callable[[DoctorEnv], Finding]


PARTS: list[Part] = []


def part(name: str) -> Callable[[Callable[[DoctorEnv], Finding]], Callable[[DoctorEnv], Finding]]:
    """Register a probe of one resource under ``aws/<name>``."""

    def register(probe: Callable[[DoctorEnv], Finding]) -> Callable[[DoctorEnv], Finding]:
        PARTS.append(Part(f"aws/{name}", probe))
        return probe

    return register


@check(
    "f",
    "aws",
    "the worker alias, its async config, the dead-letter queue, the schedule and the alarm "
    "subscribers exist",
    DEPLOY,
)
def aws_check(env: DoctorEnv) -> Iterator[Finding]:
    """Each part on its own line; a resource AWS does not know is a ✗ naming it."""
    for item in PARTS:
        try:
            yield item.probe(env)
        except CliError as error:  # an output the stack lacks
            yield failed(item.name, error.message, error.hint or DEPLOY)
        except ClientError as error:
            if error_code(error) not in MISSING:
                raise
            message = error.response.get("Error", {}).get("Message", "") or error_code(error)
            yield failed(item.name, f"does not exist: {message}", DEPLOY)


def _alias(env: DoctorEnv) -> tuple[str, str]:
    """The worker's function name and alias name."""
    function = env.output("WorkerFunctionName")
    alias = (
        env.output("WorkerAliasArn").rsplit(":", 1)[-1]
        if env.has_output("WorkerAliasArn")
        else ALIAS
    )
    return function, alias


@part("worker-alias")
def worker_alias(env: DoctorEnv) -> Finding:
    """``lambda:GetAlias``: the alias the webhook and the schedule invoke."""
    function, alias = _alias(env)
    found = env.aws("lambda").get_alias(FunctionName=function, Name=alias)
    return passed(
        "aws/worker-alias", f"{function}:{alias} → version {found.get('FunctionVersion')}"
    )


@part("async-invoke")
def async_invoke(env: DoctorEnv) -> Finding:
    """``lambda:GetFunctionEventInvokeConfig`` on the alias: retries, age, on-failure."""
    function, alias = _alias(env)
    config = env.aws("lambda").get_function_event_invoke_config(
        FunctionName=function, Qualifier=alias
    )
    retries = config.get("MaximumRetryAttempts")
    age = config.get("MaximumEventAgeInSeconds")
    destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
        "Destination"
    )
    queue_arn = env.output("DeadLetterQueueArn")
    name = "aws/async-invoke"
    if retries is None or age is None:
        return failed(
            name, f"{function}:{alias} has no async invoke config (retries, maximum age)", DEPLOY
        )
    if destination != queue_arn:
        where = destination.rsplit(":", 1)[-1] if destination else "nowhere"
        return failed(
            name,
            f"failed events go to {where}, not the stack's dead-letter queue: a lost round "
            "leaves no trace",
            DEPLOY,
        )
    return passed(name, f"{retries} retries, events up to {age} s old, then the dead-letter queue")


@part("dead-letter-queue")
def dead_letter_queue(env: DoctorEnv) -> Finding:
    """``sqs:GetQueueAttributes``: the queue exists; events waiting in it are failed rounds."""
    url = env.output("DeadLetterQueueUrl")
    attributes = env.aws("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["QueueArn", "ApproximateNumberOfMessages"]
    )["Attributes"]
    waiting = int(attributes.get("ApproximateNumberOfMessages", 0))
    name = "aws/dead-letter-queue"
    if waiting:
        return failed(
            name,
            f"{waiting} worker event{'s' if waiting > 1 else ''} failed every retry and "
            f"wait{'' if waiting > 1 else 's'} in the queue",
            f"read them (`aws sqs receive-message --queue-url {url}`), fix the cause, then "
            "purge the queue",
        )
    return passed(name, f"{attributes.get('QueueArn', url).rsplit(':', 1)[-1]} exists and is empty")


@part("schedule")
def schedules(env: DoctorEnv) -> Finding:
    """``scheduler:GetSchedule``: enabled and aimed at the worker alias (weekend one too)."""
    names = [env.output("FallbackScheduleName")]
    if env.has_output("FallbackWeekendScheduleName"):
        names.append(env.output("FallbackWeekendScheduleName"))
    alias_arn = env.output("WorkerAliasArn") if env.has_output("WorkerAliasArn") else None
    seen = []
    for schedule_name in names:
        found = env.aws("scheduler").get_schedule(Name=schedule_name)
        target = (found.get("Target") or {}).get("Arn")
        if found.get("State") != "ENABLED":
            return failed(
                "aws/schedule",
                f"{schedule_name} is {found.get('State')}: no fallback if a webhook is lost",
                "redeploy with FallbackScheduleState=ENABLED",
            )
        if alias_arn and target != alias_arn:
            return failed(
                "aws/schedule", f"{schedule_name} starts {target}, not the worker alias", DEPLOY
            )
        seen.append(f"{schedule_name}: {found.get('ScheduleExpression')}")
    return passed("aws/schedule", "enabled, starts the worker alias; " + "; ".join(seen))


@part("alarm-subscriptions")
def alarm_subscriptions(env: DoctorEnv) -> Finding:
    """``sns:ListSubscriptionsByTopic``: someone receives the alarms (confirmed)."""
    topic = env.output("AlertTopicArn")
    listed = env.aws("sns").list_subscriptions_by_topic(TopicArn=topic).get("Subscriptions", [])
    confirmed = [s for s in listed if s.get("SubscriptionArn", "").startswith("arn:")]
    name = "aws/alarm-subscriptions"
    if confirmed:
        kinds = sorted({s.get("Protocol", "?") for s in confirmed})
        return passed(name, f"{len(confirmed)} confirmed subscriptions ({', '.join(kinds)})")
    if listed:
        return failed(
            name,
            "the subscription is not confirmed yet: nobody gets the alarms",
            "confirm the mail AWS sent",
        )
    return failed(
        name,
        "nobody is subscribed to the alarm topic: alarms go nowhere",
        "redeploy with AlertEmail=you@example.com (`numerai-bot deploy -- --parameter-overrides "
        "AlertEmail=…`) and confirm the mail",
    )
