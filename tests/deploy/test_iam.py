"""Least privilege, read from the TRANSFORMED template (what CloudFormation really creates)."""

from __future__ import annotations

import pytest

from tests.deploy.sam_template import ACCOUNT, PARTITION, REGION, STACK, Evaluator, transform

WORKER_ALIAS = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{STACK}-worker:live"
FEATURES = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{STACK}-features"
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _log_group(name: str) -> str:
    return f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{STACK}-{name}:*"


@pytest.fixture(
    scope="module",
    params=[
        ("false", "Disabled"),
        ("true", "Disabled"),
        ("false", "Enabled"),
        ("true", "Enabled"),
    ],
    ids=["no-tracing", "tracing", "feature-function", "feature-function-tracing"],
)
def variant(request: pytest.FixtureRequest, cfn_template: dict) -> Evaluator:
    """The template with tracing off (default) and on, with and without the feature function:
    the switches that change IAM."""
    tracing, feature_function = request.param
    return Evaluator(cfn_template, {"EnableTracing": tracing, "FeatureFunction": feature_function})


def _roles(cfn: Evaluator) -> list[str]:
    """The roles these parameters create (the feature function's only when it is enabled)."""
    return [k for k, r in cfn.resources.items() if r["Type"] == "AWS::IAM::Role" and cfn.active(k)]


def test_each_function_has_its_own_declared_role(cfn: Evaluator) -> None:
    assert cfn.function_role("WebhookFunction") == "WebhookRole"
    assert cfn.function_role("WorkerFunction") == "WorkerRole"
    assert sorted(_roles(cfn)) == ["SchedulerRole", "WebhookRole", "WorkerRole"]


def test_no_managed_policies(cfn: Evaluator) -> None:
    # AWS managed policies (e.g. AWSLambdaBasicExecutionRole) grant on resource "*".
    for role in _roles(cfn):
        assert not cfn.properties(role).get("ManagedPolicyArns"), role
    kinds = {r["Type"] for r in cfn.resources.values()}
    assert "AWS::IAM::ManagedPolicy" not in kinds


def test_no_wildcard_actions_and_only_allow(variant: Evaluator) -> None:
    for role in _roles(variant):
        for statement in variant.role_statements(role):
            assert statement.effect == "Allow", statement
            for action in statement.actions:
                assert "*" not in action and "?" not in action, (role, action)
                assert action.count(":") == 1, (role, action)


def test_star_resource_only_where_aws_requires_it(variant: Evaluator) -> None:
    seen_star = False
    for role in _roles(variant):
        for statement in variant.role_statements(role):
            if "*" in statement.resources:
                # X-Ray's write actions have no resource-level permissions.
                assert statement.resources == ("*",), statement
                assert set(statement.actions) <= XRAY_ACTIONS, statement
                seen_star = True
    assert seen_star == variant.condition("TracingEnabled")


def test_webhook_may_only_read_its_token_and_start_the_worker(variant: Evaluator) -> None:
    expected = {
        ("logs:CreateLogStream", _log_group("webhook")),
        ("logs:PutLogEvents", _log_group("webhook")),
        ("secretsmanager:GetSecretValue", variant.physical_id("WebhookTokenSecret")),
        ("lambda:InvokeFunction", WORKER_ALIAS),
    }
    if variant.condition("TracingEnabled"):
        expected |= {(action, "*") for action in XRAY_ACTIONS}
    assert variant.grants("WebhookRole") == expected


def test_worker_may_only_touch_what_it_uses(variant: Evaluator) -> None:
    bucket = variant.attribute("ModelBucket", "Arn")
    table = variant.attribute("LedgerTable", "Arn")
    expected = {
        ("logs:CreateLogStream", _log_group("worker")),
        ("logs:PutLogEvents", _log_group("worker")),
        ("secretsmanager:GetSecretValue", variant.physical_id("NumeraiApiKeysSecret")),
        ("s3:GetObject", f"{bucket}/models/*"),
        ("s3:GetObject", f"{bucket}/live-cache/*"),
        ("s3:PutObject", f"{bucket}/live-cache/*"),
        ("s3:DeleteObject", f"{bucket}/live-cache/*"),
        ("s3:GetObject", f"{bucket}/submissions/*"),
        ("s3:PutObject", f"{bucket}/submissions/*"),
        ("s3:DeleteObject", f"{bucket}/submissions/*"),  # an unreadable kept file moved aside
        ("s3:GetObject", f"{bucket}/own-data/*"),
        ("s3:PutObject", f"{bucket}/own-data/*/_universe/*"),
        ("s3:ListBucket", bucket),
        ("dynamodb:GetItem", table),
        ("dynamodb:PutItem", table),
        ("dynamodb:UpdateItem", table),
        ("dynamodb:DeleteItem", table),
        ("lambda:InvokeFunction", WORKER_ALIAS),
        ("sns:Publish", variant.physical_id("AlertTopic")),
        ("sqs:SendMessage", variant.attribute("DeadLetterQueue", "Arn")),
    }
    if variant.condition("TracingEnabled"):
        expected |= {(action, "*") for action in XRAY_ACTIONS}
    if variant.condition("FeatureFunctionEnabled"):
        # Invoke only: not its secret (tests/deploy/test_feature_function.py).
        expected.add(("lambda:InvokeFunction", FEATURES))
    assert variant.grants("WorkerRole") == expected


def test_worker_cannot_read_the_webhook_token_nor_the_webhook_the_keys(cfn: Evaluator) -> None:
    worker = {resource for _action, resource in cfn.grants("WorkerRole")}
    webhook = {resource for _action, resource in cfn.grants("WebhookRole")}
    assert cfn.physical_id("WebhookTokenSecret") not in worker
    assert cfn.physical_id("NumeraiApiKeysSecret") not in webhook


def test_worker_cannot_write_models(cfn: Evaluator) -> None:
    bucket = cfn.attribute("ModelBucket", "Arn")
    writes = {
        resource
        for action, resource in cfn.grants("WorkerRole")
        if action in ("s3:PutObject", "s3:DeleteObject")
    }
    assert writes == {
        f"{bucket}/live-cache/*",
        f"{bucket}/submissions/*",
        f"{bucket}/own-data/*/_universe/*",  # the staged universe, not the user's tables
    }


def test_model_prefix_parameter_scopes_the_read(sam_template: dict) -> None:
    cfn = Evaluator(transform(sam_template, {"ModelPrefix": "team/models"}), {})
    # The evaluator takes parameter values separately from the transform.
    cfn.parameters["ModelPrefix"] = "team/models"
    bucket = cfn.attribute("ModelBucket", "Arn")
    reads = {r for a, r in cfn.grants("WorkerRole") if a == "s3:GetObject"}
    assert reads == {
        f"{bucket}/team/models/*",
        f"{bucket}/live-cache/*",
        f"{bucket}/submissions/*",
        f"{bucket}/own-data/*",
    }
    env = cfn.properties("WorkerFunction")["Environment"]["Variables"]
    assert env["MODEL_STORE_URI"].endswith("/team/models")


def test_scheduler_role_only_starts_the_worker(cfn: Evaluator) -> None:
    assert cfn.grants("SchedulerRole") == {("lambda:InvokeFunction", WORKER_ALIAS)}
    (trust,) = cfn.properties("SchedulerRole")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


@pytest.mark.parametrize("role", ["WebhookRole", "WorkerRole", "FeatureFunctionRole"])
def test_function_roles_trust_only_lambda(cfn: Evaluator, role: str) -> None:
    (trust,) = cfn.properties(role)["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }


@pytest.mark.parametrize("role", ["WebhookRole", "WorkerRole", "FeatureFunctionRole"])
def test_xray_permissions_are_inline_in_each_function_role_under_tracing(
    cfn_template: dict, role: str
) -> None:
    """Lambda checks the role when it turns active tracing on: the role itself must carry them."""
    policies = cfn_template["Resources"][role]["Properties"]["Policies"]
    conditional = [p["Fn::If"] for p in policies if isinstance(p, dict) and "Fn::If" in p]
    assert len(conditional) == 1, policies
    condition, policy, otherwise = conditional[0]
    assert condition == "TracingEnabled"
    assert otherwise == {"Ref": "AWS::NoValue"}
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert set(statement["Action"]) == XRAY_ACTIONS
    assert statement["Resource"] == "*"
    on = Evaluator(cfn_template, {"EnableTracing": "true", "FeatureFunction": "Enabled"})
    off = Evaluator(cfn_template, {"EnableTracing": "false", "FeatureFunction": "Enabled"})
    xray = {(action, "*") for action in XRAY_ACTIONS}
    assert xray <= on.grants(role)
    assert not xray & off.grants(role)


@pytest.mark.parametrize("tracing", ["true", "false"])
def test_no_policy_resource_a_function_could_race(cfn_template: dict, tracing: str) -> None:
    """A policy resource attached to a function's role must be one the function DependsOn."""
    cfn = Evaluator(cfn_template, {"EnableTracing": tracing, "FeatureFunction": "Enabled"})
    for function in ("WebhookFunction", "WorkerFunction", "FeatureFunctionLambda"):
        role = cfn.physical_id(cfn.function_role(function))
        depends = cfn.resources[function].get("DependsOn", [])
        depends = [depends] if isinstance(depends, str) else depends
        for logical_id, resource in cfn.resources.items():
            if resource["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                continue
            if not cfn.active(logical_id):
                continue
            roles = cfn.value(resource["Properties"].get("Roles", []))
            assert role not in roles or logical_id in depends, (function, logical_id)


def test_functions_trace_exactly_when_their_roles_may(cfn_template: dict) -> None:
    for tracing, mode in (("true", "Active"), ("false", "PassThrough")):
        cfn = Evaluator(cfn_template, {"EnableTracing": tracing, "FeatureFunction": "Enabled"})
        for function in ("WebhookFunction", "WorkerFunction", "FeatureFunctionLambda"):
            assert cfn.properties(function)["TracingConfig"] == {"Mode": mode}
