"""Round summaries for the user: an SNS topic (e-mail, chat) so that failures are never silent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from numerai_bot.round_runner import RoundResult

SUBJECT_LIMIT = 100  # SNS subjects are limited to 100 characters


class Notifier(Protocol):
    """Where round summaries go."""

    def notify(self, result: RoundResult) -> None:
        """Publish a short summary of ``result``."""
        ...


def summary(result: RoundResult) -> tuple[str, str]:
    """Subject and body: all submitted, or which models failed and why."""
    round_label = f"round {result.round_number}" if result.round_number else "no open round"
    if result.failed or result.status == "failed":
        subject = (
            f"Numerai bot: {len(result.failed) or 'all'} model(s) NOT submitted, {round_label}"
        )
    else:
        subject = f"Numerai bot: {round_label}, all models submitted"
    lines = [result.message, ""]
    for outcome in result.outcomes:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        lines.append(f"- {outcome.model}: {outcome.status}{detail}")
    return subject[:SUBJECT_LIMIT], "\n".join(lines).strip() + "\n"


class SnsNotifier:
    """Publishes summaries to an SNS topic."""

    def __init__(self, topic_arn: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("sns")
        self.topic_arn = topic_arn
        self.client = client

    def notify(self, result: RoundResult) -> None:
        """One SNS message per call."""
        subject, body = summary(result)
        self.client.publish(TopicArn=self.topic_arn, Subject=subject, Message=body)
