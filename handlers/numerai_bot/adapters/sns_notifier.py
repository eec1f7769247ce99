"""Round summaries for the user: an SNS topic (e-mail, chat) so that failures are never silent."""

from __future__ import annotations

from typing import Any

from numerai_bot.adapters.aws_session import AwsSession, session_or_new
from numerai_bot.outcomes import RoundResult

SUBJECT_LIMIT = 100  # SNS subjects are limited to 100 characters


def summary(result: RoundResult) -> tuple[str, str]:
    """Subject and body that say what happened: "round closed", "nothing missing",
    "2 submitted", "1 failed", churn alerts."""
    rounds = ", ".join(f"{t} {n}" for t, n in result.rounds.items() if n is not None)
    where = f"round {rounds}" if rounds else "no round open"
    failed, submitted = len(result.failed), len(result.submitted)
    parts = []
    if failed or result.status == "failed":
        parts.append(f"{failed or 'all'} model(s) NOT submitted")
    if submitted:
        parts.append(f"{submitted} submitted")
    if result.alerts:
        parts.append(f"churn alert for {len(result.alerts)}")
    if not parts:
        parts.append("round closed" if result.status == "closed" else "nothing missing")
    subject = f"Numerai bot: {', '.join(parts)} ({where})"
    lines = [result.message, ""]
    lines += [f"! {alert}" for alert in result.alerts]
    for outcome in result.outcomes:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        lines.append(f"- {outcome.model} [{outcome.tournament}]: {outcome.status}{detail}")
    return subject[:SUBJECT_LIMIT], "\n".join(lines).strip() + "\n"


class SnsNotifier:
    """Publishes summaries to an SNS topic."""

    def __init__(self, topic_arn: str, client: Any = None, aws: AwsSession | None = None) -> None:
        self.topic_arn = topic_arn
        self._client = client
        self._aws = aws

    @property
    def client(self) -> Any:
        """The SNS client, made on the first alert (most runs send none)."""
        if self._client is None:
            self._client = session_or_new(self._aws).client("sns")
        return self._client

    def notify(self, result: RoundResult) -> None:
        """One SNS message per call."""
        subject, body = summary(result)
        self.client.publish(TopicArn=self.topic_arn, Subject=subject, Message=body)
