"""AWS, locally: moto's server over real HTTP, and the stack's resources created in it.

boto3 reaches it through the standard ``AWS_ENDPOINT_URL`` variable: no patched clients.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


@dataclass(frozen=True)
class LocalStack:
    """Names of the resources the template would create."""

    endpoint_url: str
    bucket: str = "numerai-bot-models"
    table: str = "numerai-bot-ledger"
    keys_secret: str = "numerai-bot/numerai-api-keys"
    token_secret: str = "numerai-bot/webhook-token"
    topic_arn: str = ""
    alerts_queue_url: str = ""

    def env(self) -> dict[str, str]:
        """Environment for boto3 and our settings to use this stack."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "MODEL_STORE_URI": f"s3://{self.bucket}/models",
            "LEDGER_TABLE_NAME": self.table,
            "NUMERAI_SECRET_ID": self.keys_secret,
            "WEBHOOK_TOKEN_SECRET_ID": self.token_secret,
            "ALERT_TOPIC_ARN": self.topic_arn,
        }


class MotoServer:
    """moto's threaded server on a free loopback port, with DynamoDB writes made atomic."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._undo: Callable[[], None] | None = None

    def __enter__(self) -> str:
        self._undo = atomic_moto_dynamodb()
        self._server.start()
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
        if self._undo is not None:
            self._undo()


def atomic_moto_dynamodb() -> Callable[[], None]:
    """Make moto's DynamoDB writes atomic, as DynamoDB's are; returns the undo.

    moto checks a write's condition and then stores the item with no lock in between, so
    two concurrent conditional puts for one key can both succeed (measured: 208 of 300
    tries with 8 threads). powertools' idempotency relies on exactly that condition, and
    the season runs duplicate deliveries at the same moment, so without this the count of
    duplicates would measure moto, not the bot.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    names = ("put_item", "update_item", "delete_item", "transact_write_items")
    originals = {name: getattr(DynamoDBBackend, name) for name in names}

    def locked(method: Callable[..., Any]) -> Callable[..., Any]:
        def write(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)

        return write

    for name, method in originals.items():
        setattr(DynamoDBBackend, name, locked(method))

    def undo() -> None:
        for name, method in originals.items():
            setattr(DynamoDBBackend, name, method)

    return undo


def provision(endpoint_url: str, public_id: str, secret_key: str, token: str) -> LocalStack:
    """Create the bucket, ledger table, both secrets and the alert topic, as the template does.

    The topic gets an SQS subscription so that tests and the demo can read the alerts.
    """
    stack = LocalStack(endpoint_url)
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=REGION,
    )
    s3 = session.client("s3", endpoint_url=endpoint_url)
    s3.create_bucket(Bucket=stack.bucket)
    s3.put_bucket_versioning(Bucket=stack.bucket, VersioningConfiguration={"Status": "Enabled"})
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    dynamodb.create_table(
        TableName=stack.table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=stack.table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )
    secrets = session.client("secretsmanager", endpoint_url=endpoint_url)
    secrets.create_secret(
        Name=stack.keys_secret,
        SecretString=json.dumps({"public_id": public_id, "secret_key": secret_key}),
    )
    secrets.create_secret(Name=stack.token_secret, SecretString=token)
    sns = session.client("sns", endpoint_url=endpoint_url)
    topic_arn = sns.create_topic(Name="numerai-bot-alerts")["TopicArn"]
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    queue_url = sqs.create_queue(QueueName="numerai-bot-alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "false"},
    )
    return replace(stack, topic_arn=topic_arn, alerts_queue_url=queue_url)


def read_alerts(stack: LocalStack) -> list[dict[str, str]]:
    """Drain the alert inbox: ``[{"subject", "message"}]`` in arrival order."""
    sqs = boto3.client("sqs", endpoint_url=stack.endpoint_url, region_name=REGION)
    alerts: list[dict[str, str]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=stack.alerts_queue_url, MaxNumberOfMessages=10)
        messages = batch.get("Messages", [])
        if not messages:
            return alerts
        for message in messages:
            envelope = json.loads(message["Body"])
            alerts.append({"subject": envelope.get("Subject", ""), "message": envelope["Message"]})
            sqs.delete_message(
                QueueUrl=stack.alerts_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def apply_env(values: dict[str, str]) -> dict[str, str | None]:
    """Set variables in this process; return the previous values for :func:`restore_env`."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    return previous


def restore_env(previous: dict[str, str | None]) -> None:
    """Undo :func:`apply_env`."""
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
