"""The DynamoDB ledger enforces the same rule as the memory one, as a conditional write: two
runs finishing in any order leave the truth (FAILED never over SUBMITTED, older never over
newer)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.ledger import FAILED, SUBMITTED, LedgerRecord


@pytest.fixture
def ledger(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        resource.create_table(
            TableName="ledger",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoLedger("ledger", resource)


def test_a_late_failure_never_replaces_a_submission(ledger):
    assert ledger.put(LedgerRecord(500, "alpha", SUBMITTED, submission_id="s1", started_at=100))
    assert not ledger.put(LedgerRecord(500, "alpha", FAILED, error="S3 timeout", started_at=200))
    assert ledger.get(500, "alpha").status == SUBMITTED


def test_an_older_attempt_never_replaces_a_newer_one(ledger):
    assert ledger.put(LedgerRecord(500, "beta", FAILED, error="new", started_at=60))
    assert not ledger.put(LedgerRecord(500, "beta", FAILED, error="old", started_at=50))
    assert ledger.get(500, "beta").error == "new"
    assert ledger.put(LedgerRecord(500, "beta", SUBMITTED, submission_id="s2", started_at=40))
    assert ledger.get(500, "beta").status == SUBMITTED  # a success always beats a failure


def test_tournaments_have_their_own_records(ledger):
    ledger.put(LedgerRecord(700, "sig", SUBMITTED, submission_id="s3", tournament=11))
    assert ledger.get(700, "sig") is None
    assert ledger.get(700, "sig", 11).submission_id == "s3"
