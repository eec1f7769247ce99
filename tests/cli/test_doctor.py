"""numerai-bot doctor against the stand-ins: a healthy deployment passes every check (exit 0),
and each item fails on its own when its part of the deployment is broken.

moto holds the stack's safety nets too (worker alias, async invoke config, dead-letter
queue, schedule, alarm subscription), created here as the template would; what Numerai
cannot be asked (a model's registered webhook) comes from the stand-in through the
doctor's probes, as a test's answer, never a pass by default.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import boto3
import pytest

from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.adapters.model_store import open_model_store
from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot.errors import NumeraiAuthError, NumeraiError
from numerai_bot.ledger import SUBMITTED
from numerai_bot_cli.commands import doctor as doctor_command
from numerai_bot_cli.doctor import aws as doctor_aws
from numerai_bot_cli.doctor.core import (
    Check,
    Finding,
    exit_code,
    failed,
    passed,
    render_text,
    run_checks,
    unverified,
)
from numerai_bot_cli.doctor.env import Probes
from numerai_bot_cli.doctor.webhooks import compare_webhook
from standins.local_lambda import LocalContext
from standins.numerai.resolvers import set_model_upload
from standins.onnx_models import linear_model
from tests.cli.conftest import BOT_MODELS, MODELS, WORKER_FUNCTION

ITEMS = ("keys/", "account/", "webhook/", "function-url/", "model-file/", "aws/", "ledger/")
# What `numerai-bot doctor` runs with: no registration reader (Numerai has no such query),
# real HTTP POSTs to the Function URL, real sleeps. Taken before any test replaces it.
PRODUCTION_PROBES = doctor_command.PROBES
BASE = "https://abc.lambda-url.us-east-1.on.aws/"
TOKEN = "T" * 43


# --- a deployed stack in moto --------------------------------------------------------------


def _create_safety_nets(topic_arn: str) -> dict[str, str]:
    """The worker alias, async invoke config, dead-letter queue, schedule and an alarm
    subscriber, as template.yaml declares them; their stack outputs."""
    iam, lam = boto3.client("iam"), boto3.client("lambda")
    sqs, scheduler = boto3.client("sqs"), boto3.client("scheduler")
    role = iam.create_role(RoleName="numerai-bot-doctor-test", AssumeRolePolicyDocument="{}")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("worker.py", "def handler(event, context):\n    return None\n")
    lam.create_function(
        FunctionName=WORKER_FUNCTION,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="worker.handler",
        Code={"ZipFile": code.getvalue()},
        Publish=True,
    )
    alias_arn = lam.create_alias(FunctionName=WORKER_FUNCTION, Name="live", FunctionVersion="1")[
        "AliasArn"
    ]
    queue_url = sqs.create_queue(QueueName="numerai-bot-dead-letters")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    lam.put_function_event_invoke_config(
        FunctionName=WORKER_FUNCTION,
        Qualifier="live",
        MaximumRetryAttempts=2,
        MaximumEventAgeInSeconds=3600,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    scheduler.create_schedule(
        Name="numerai-bot-fallback",
        ScheduleExpression="cron(0/15 11-16 ? * TUE-SAT *)",
        ScheduleExpressionTimezone="UTC",
        State="ENABLED",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": alias_arn,
            "RoleArn": role["Role"]["Arn"],
            "Input": '{"source": "schedule"}',
        },
    )
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="me@example.com")
    return {
        "WorkerAliasArn": alias_arn,
        "DeadLetterQueueUrl": queue_url,
        "DeadLetterQueueArn": queue_arn,
        "FallbackScheduleName": "numerai-bot-fallback",
        "AlertTopicArn": topic_arn,
    }


@pytest.fixture(scope="module")
def outputs(local_bot, workspace) -> Path:
    """stack-outputs.json plus the outputs of the safety nets, which now exist in moto."""
    base = json.loads((workspace / "stack-outputs.json").read_text())
    path = workspace / "doctor-outputs.json"
    path.write_text(json.dumps({**base, **_create_safety_nets(local_bot.stack.topic_arn)}))
    return path


@pytest.fixture(autouse=True)
def numerai_answers(local_bot, monkeypatch) -> None:
    """What Numerai holds as each model's webhook, from the stand-in (no query on Numerai)."""
    probes = Probes(registered_webhooks=lambda env: local_bot.standin.webhooks())
    monkeypatch.setattr(doctor_command, "PROBES", probes)


@pytest.fixture
def models_json(bot):
    """models.json holding exactly the bot's models; whatever a test writes is put back."""
    store = open_model_store(f"s3://{bot.stack.bucket}/models")
    document = json.loads(store.read("models.json").data)
    document["models"] = {k: v for k, v in document["models"].items() if k in BOT_MODELS}
    store.write("models.json", json.dumps(document).encode())
    yield store, document
    store.write("models.json", json.dumps(document).encode())


@pytest.fixture
def restore_keys(local_bot):
    """Put the stand-in's keys back after a test changed the secret."""
    yield
    keys = {"public_id": local_bot.standin.public_id, "secret_key": local_bot.standin.secret_key}
    boto3.client("secretsmanager").put_secret_value(
        SecretId=local_bot.stack.keys_secret, SecretString=json.dumps(keys)
    )


def submit(bot, name: str) -> None:
    """Numerai fires the model's webhook; wait until the stack has submitted it."""
    delivered = len(bot.standin.webhook_deliveries())
    bot.numerai.trigger_webhook(MODELS[name])
    bot.standin.wait_for_deliveries(delivered + 1, 30)
    bot.invoker.wait(timeout=60)


def run_doctor(cli, capsys, outputs: Path, *extra: str) -> tuple[int, dict[str, dict], str]:
    """``doctor --json``: exit code, findings by check, and everything printed."""
    code = cli("doctor", "--stack-outputs", str(outputs), "--json", *extra)
    captured = capsys.readouterr()
    # The in-process worker prints its metric lines to stdout too: take the doctor's list.
    lines = captured.out.splitlines()
    start = lines.index("[")
    document = "\n".join(lines[start : lines.index("]", start) + 1])
    findings = {f["check"]: f for f in json.loads(document)}
    return code, findings, captured.out + captured.err


def not_passing(findings: dict[str, dict]) -> dict[str, dict]:
    return {name: f for name, f in findings.items() if f["ok"] is not True}


# --- healthy ------------------------------------------------------------------------------


def test_a_healthy_deployment_passes_every_check_and_a_fired_test_call_submits(
    bot, models_json, cli, capsys, outputs
):
    submit(bot, "beta")
    code, findings, printed = run_doctor(
        cli, capsys, outputs, "--fire", "--timeout", "60", "--interval", "0.2"
    )
    assert code == 0, not_passing(findings)
    assert all(any(name.startswith(item) for name in findings) for item in ITEMS)
    fired = findings["function-url/fire"]["detail"]
    assert "test call for alpha" in fired and "the ledger recorded it" in fired
    record = DynamoLedger(bot.stack.table, boto3.resource("dynamodb")).get(
        bot.standin.current_round, "alpha"
    )
    assert record.status == SUBMITTED
    assert bot.token not in printed and bot.standin.secret_key not in printed

    assert cli("doctor", "--stack-outputs", str(outputs)) == 0
    text = capsys.readouterr().out
    assert "✗" not in text and "0 failed, 0 not yet or not verified: ready for the round" in text
    assert bot.token not in text


# --- one broken part per item ---------------------------------------------------------------


def test_wrong_keys_fail_the_keys_check_and_what_needs_them_is_not_checked(
    bot, models_json, cli, capsys, outputs, restore_keys
):
    wrong = {"public_id": "WRONGPUBLICID" + "0" * 19, "secret_key": "WRONGSECRET" + "9" * 53}
    boto3.client("secretsmanager").put_secret_value(
        SecretId=bot.stack.keys_secret, SecretString=json.dumps(wrong)
    )
    code, findings, printed = run_doctor(cli, capsys, outputs)
    assert code == 1
    assert findings["keys/account"]["ok"] is False
    assert "Numerai refused the stored keys" in findings["keys/account"]["detail"]
    assert "put-keys" in findings["keys/account"]["next_step"]
    assert findings["account"]["ok"] is None and "keys" in findings["account"]["detail"]
    assert findings["aws/worker-alias"]["ok"] is True  # the rest still ran
    assert wrong["secret_key"] not in printed


def answer_tokens(monkeypatch, tokens: list[dict] | None, refuse_upload_url: bool = False):
    """Numerai lists ``tokens`` as the account's API tokens (None: it does not say), and
    refuses the upload URL request as it refuses a key without the scope, if asked."""
    real_graphql = NumeraiClient.graphql

    def graphql(self, query, variables=None, **kwargs):
        if "apiTokens" in query:
            if tokens is None:
                raise NumeraiError("Cannot query field 'apiTokens' on type 'Account'")
            return {"data": {"account": {"apiTokens": tokens}}}
        if "submission_upload_auth" in query and refuse_upload_url:
            raise NumeraiAuthError("Invalid API key: insufficient permission (upload_submission)")
        return real_graphql(self, query, variables, **kwargs)

    monkeypatch.setattr(NumeraiClient, "graphql", graphql)


def test_a_key_without_the_upload_scope_fails_keys_upload(
    bot, models_json, cli, capsys, outputs, monkeypatch
):
    scopes = ["read_user_info", "read_submission_info"]
    answer_tokens(monkeypatch, [{"public_id": bot.standin.public_id, "scopes": scopes}])
    code, findings, _ = run_doctor(cli, capsys, outputs)
    assert code == 1
    assert findings["keys/upload"]["ok"] is False
    assert "lacks upload_submission" in findings["keys/upload"]["detail"]
    assert findings["keys/account"]["ok"] is True


@pytest.mark.parametrize("refused", [False, True])
def test_without_a_scope_list_the_upload_scope_is_inferred_from_an_upload_url_request(
    bot, models_json, cli, capsys, outputs, monkeypatch, refused
):
    answer_tokens(monkeypatch, None, refuse_upload_url=refused)
    _, findings, _ = run_doctor(cli, capsys, outputs)
    upload = findings["keys/upload"]
    if refused:
        assert upload["ok"] is False and "refused an upload URL for alpha" in upload["detail"]
    else:
        assert (
            upload["ok"] is True and "upload URL for alpha (nothing uploaded)" in upload["detail"]
        )


def test_a_model_missing_in_another_tournament_or_with_a_model_upload_fails_account(
    bot, models_json, cli, capsys, outputs
):
    store, document = models_json
    broken = json.loads(json.dumps(document))
    broken["models"]["ghost"] = dict(broken["models"]["alpha"])
    broken["models"]["alpha"]["tournament"] = "signals"
    store.write("models.json", json.dumps(broken).encode())
    set_model_upload(bot.standin.state, MODELS["beta"], "predict.pkl")
    try:
        code, findings, _ = run_doctor(cli, capsys, outputs)
    finally:
        set_model_upload(bot.standin.state, MODELS["beta"], None)
    assert code == 1
    ghost, alpha, beta = (findings[f"account/{n}"] for n in ("ghost", "alpha", "beta"))
    assert ghost["ok"] is False and "ghost is not a model of this account" in ghost["detail"]
    assert alpha["ok"] is False and "alpha is a classic model on Numerai" in alpha["detail"]
    assert '"tournament": "classic"' in alpha["next_step"]
    assert beta["ok"] is False and "Model Uploads (predict.pkl)" in beta["detail"]
    assert "remove the upload" in beta["next_step"]


def test_a_webhook_pointing_elsewhere_or_carrying_another_token_fails_and_no_token_is_shown(
    bot, models_json, cli, capsys, outputs
):
    elsewhere = "https://elsewhere.example/hooks/SOMEONE-ELSES-TOKEN/beta"
    bot.numerai.set_webhook(MODELS["beta"], elsewhere)
    stale = "stale-token-" + "s" * 24
    bot.numerai.set_webhook(MODELS["alpha"], bot.webhook_url("alpha", token=stale))
    code, findings, printed = run_doctor(cli, capsys, outputs)
    assert code == 1
    beta, alpha = findings["webhook/beta"], findings["webhook/alpha"]
    assert beta["ok"] is False and "points at https://elsewhere.example" in beta["detail"]
    assert beta["next_step"] == "numerai-bot register-webhooks beta"
    assert alpha["ok"] is False and "another token" in alpha["detail"]
    for secret in ("SOMEONE-ELSES-TOKEN", stale, bot.token):
        assert secret not in printed


def test_a_function_url_accepting_a_wrong_token_fails(
    bot, models_json, cli, capsys, outputs, monkeypatch
):
    probes = Probes(
        registered_webhooks=lambda env: bot.standin.webhooks(),
        http_post=lambda url, body, timeout: 200,  # a webhook whose token check is off
    )
    monkeypatch.setattr(doctor_command, "PROBES", probes)
    code, findings, _ = run_doctor(cli, capsys, outputs)
    assert code == 1
    finding = findings["function-url/wrong-token"]
    assert finding["ok"] is False and "accepted a wrong token" in finding["detail"]
    assert "numerai-bot deploy" in finding["next_step"]


def test_a_model_file_without_metadata_or_on_a_retired_data_version_fails_model_file(
    bot, models_json, workspace, cli, capsys, outputs, local_bot
):
    store, document = models_json
    features_file = local_bot.workdir / "numerai-data" / "v5.2" / "features.json"
    features = json.loads(features_file.read_text())["feature_sets"]["medium"]
    store.write("no-metadata.onnx", linear_model(features, metadata=False))
    store.write("retired.onnx", linear_model(features, data_version="v4.0"))
    broken = json.loads(json.dumps(document))
    broken["models"]["alpha"]["artifact"] = "no-metadata.onnx"
    broken["models"]["beta"]["artifact"] = "retired.onnx"
    store.write("models.json", json.dumps(broken).encode())
    code, findings, _ = run_doctor(cli, capsys, outputs)
    assert code == 1
    alpha, beta = findings["model-file/alpha"], findings["model-file/beta"]
    assert alpha["ok"] is False and "metadata" in alpha["detail"]
    assert "numerai-bot export" in alpha["next_step"] and "publish alpha" in alpha["next_step"]
    assert beta["ok"] is False and "v4.0" in beta["detail"] and "no longer serves" in beta["detail"]
    assert "v5.2" in beta["detail"] and "retrain on" in beta["next_step"]


def test_a_missing_dead_letter_queue_schedule_or_alias_fails_aws(local_bot, cli, capsys, outputs):
    broken = json.loads(outputs.read_text())
    broken["DeadLetterQueueUrl"] = broken["DeadLetterQueueUrl"].rsplit("/", 1)[0] + "/gone"
    broken["FallbackScheduleName"] = "numerai-bot-gone"
    broken["WorkerAliasArn"] = broken["WorkerAliasArn"].rsplit(":", 1)[0] + ":gone"
    path = outputs.with_name("doctor-broken-outputs.json")
    path.write_text(json.dumps(broken))
    code, findings, _ = run_doctor(cli, capsys, path)
    assert code == 1
    for part in ("dead-letter-queue", "schedule", "worker-alias"):
        finding = findings[f"aws/{part}"]
        assert finding["ok"] is False and "does not exist" in finding["detail"], finding
        assert "numerai-bot deploy" in finding["next_step"]
    assert findings["aws/alarm-subscriptions"]["ok"] is True


def test_a_model_not_yet_submitted_in_the_open_round_is_not_yet_and_nothing_is_broken(
    bot, models_json, cli, capsys, outputs, monkeypatch
):
    submit(bot, "beta")
    monkeypatch.setattr(doctor_command, "PROBES", PRODUCTION_PROBES)  # as against Numerai
    code, findings, _ = run_doctor(cli, capsys, outputs)
    assert code == 0, not_passing(findings)
    round_number = bot.standin.current_round
    alpha, beta = findings["ledger/alpha"], findings["ledger/beta"]
    assert alpha["ok"] is None
    assert f"round {round_number} (open): not submitted yet" in alpha["detail"]
    assert "numerai-bot trigger alpha" in alpha["next_step"]
    assert beta["ok"] is True
    assert findings["webhook/beta"]["ok"] is True
    assert "Numerai called this stack's webhook" in findings["webhook/beta"]["detail"]
    assert findings["webhook/alpha"]["ok"] is None
    assert "--fire alpha" in findings["webhook/alpha"]["next_step"]


# --- the production path: no registration reader ------------------------------------------


def test_without_a_reader_numerai_s_call_vouches_for_a_webhook_and_a_run_by_hand_does_not(
    bot, models_json, cli, capsys, outputs, monkeypatch
):
    monkeypatch.setattr(doctor_command, "PROBES", PRODUCTION_PROBES)
    assert PRODUCTION_PROBES.registered_webhooks is None
    submit(bot, "beta")  # Numerai called beta's webhook over HTTP; the stack submitted it
    by_hand = {"source": "manual", "models": ["alpha"], "triggerId": "operator-run-1"}
    bot.worker_handler(by_hand, LocalContext("worker"))  # alpha submitted, not via its webhook
    code, findings, printed = run_doctor(cli, capsys, outputs)
    beta, alpha = findings["webhook/beta"], findings["webhook/alpha"]
    assert beta["ok"] is True and "Numerai called this stack's webhook for beta" in beta["detail"]
    assert alpha["ok"] is None and "no webhook call for alpha" in alpha["detail"]
    assert "--fire alpha" in alpha["next_step"]
    assert findings["ledger/alpha"]["ok"] is True  # submitted all the same
    # the wrong-token probe went over HTTP to the local Function URL, and got its 403s
    assert findings["function-url/wrong-token"]["ok"] is True
    assert code == 0, not_passing(findings)  # not verified is not broken
    assert bot.token not in printed


def test_without_a_reader_a_webhook_numerai_sends_elsewhere_fails_the_fired_test_call(
    bot, models_json, cli, capsys, outputs, monkeypatch
):
    monkeypatch.setattr(doctor_command, "PROBES", PRODUCTION_PROBES)
    elsewhere = "http://127.0.0.1:9/SOMEONE-ELSES-TOKEN/alpha"  # nothing listens there
    bot.numerai.set_webhook(MODELS["alpha"], elsewhere)
    code, findings, printed = run_doctor(
        cli, capsys, outputs, "--fire", "alpha", "--timeout", "3", "--interval", "0.2"
    )
    assert code == 1
    assert findings["webhook/alpha"]["ok"] is None  # the ledger has seen no call: unknown
    fired = findings["function-url/fire"]
    assert fired["ok"] is False and "no submission listed after 3 s" in fired["detail"]
    assert "numerai-bot logs --trigger" in fired["next_step"]
    assert "SOMEONE-ELSES-TOKEN" not in printed and bot.token not in printed


# --- the pieces ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "ok", "words"),
    [
        (f"{BASE}{TOKEN}/alpha", True, "path form"),
        (f"{BASE}?token={TOKEN}&model=alpha", True, "query form"),
        (f"{BASE}{TOKEN}", True, "no model"),
        (f"{BASE}{TOKEN}/beta", False, "for model beta"),
        (f"{BASE}?token=old&model=alpha", False, "another token"),
        (f"https://elsewhere.example/{TOKEN}/alpha", False, "points at https://elsewhere"),
        (None, False, "no webhook registered"),
    ],
)
def test_a_registered_url_is_compared_by_host_token_and_model(url, ok, words):
    finding = compare_webhook("alpha", url, BASE, TOKEN)
    assert finding.ok is ok and words in finding.detail
    assert TOKEN not in finding.detail + finding.next_step


def test_one_checks_crash_does_not_hide_the_others_and_the_exit_code_says_the_worst():
    def crash(env):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    checks = [
        Check("a", "first", "crashes", "", crash),
        Check("b", "second", "passes", "", lambda env: [passed("second", "fine")]),
    ]
    findings = run_checks(None, checks)
    assert [f.check for f in findings] == ["first", "second"]
    assert findings[0].ok is False and "RuntimeError: boom" in findings[0].detail
    assert exit_code([passed("x", "")]) == 0
    assert exit_code([passed("x", ""), unverified("y", "")]) == 0  # ? is not broken
    assert exit_code([unverified("y", ""), failed("z", "", "do it")]) == 1
    text = render_text([Finding("z", False, "broken", "fix it")])
    assert "✗ z  broken" in text and "next: fix it" in text and "1 failed" in text


class _StubSns:
    def __init__(self, subscriptions: list[dict]) -> None:
        self.subscriptions = subscriptions

    def list_subscriptions_by_topic(self, TopicArn: str) -> dict:
        return {"Subscriptions": self.subscriptions}


class _StubEnv:
    """Just enough of DoctorEnv for one AWS part, for what moto cannot show."""

    def __init__(self, subscriptions: list[dict]) -> None:
        self.sns = _StubSns(subscriptions)

    def output(self, key: str) -> str:
        return "arn:aws:sns:us-east-1:123456789012:alerts"

    def aws(self, service: str) -> _StubSns:
        return self.sns


def test_an_unconfirmed_mail_subscription_means_nobody_gets_the_alarms():
    """moto confirms e-mail subscriptions at once; SNS lists them as PendingConfirmation."""
    pending = [{"SubscriptionArn": "PendingConfirmation", "Protocol": "email"}]
    finding = doctor_aws.alarm_subscriptions(_StubEnv(pending))
    assert finding.ok is False and "not confirmed" in finding.detail
    assert "confirm the mail" in finding.next_step
    assert doctor_aws.alarm_subscriptions(_StubEnv([])).next_step.startswith("redeploy with")
