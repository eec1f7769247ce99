"""The feature function in template.yaml: absent unless enabled, and walled off from the worker.

The user's code runs with its own role and its own secret (a data vendor's key). The boundaries
are checked on the TRANSFORMED template, with IAM's wildcards matched against real-looking ARNs
of what each role must not reach: the worker never gets the vendor's secret, the feature
function never gets the models, the submissions or Numerai's keys.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

from tests.deploy.sam_template import REPO, STACK, Evaluator, lint, transform
from tests.deploy.test_template import _problems

ENABLED = {"FeatureFunction": "Enabled"}
FEATURE_RESOURCES = (
    "FeatureFunctionLambda",
    "FeatureFunctionRole",
    "FeatureFunctionSecret",
    "FeatureFunctionLogGroup",
)
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
FEATURES_ARN = Evaluator.lambda_arn(f"{STACK}-features")


@pytest.fixture(scope="module", params=["false", "true"], ids=["no-tracing", "tracing"])
def enabled(request: pytest.FixtureRequest, cfn_template: dict) -> Evaluator:
    """The stack with the feature function, with tracing off and on (which adds X-Ray grants)."""
    return Evaluator(cfn_template, {**ENABLED, "EnableTracing": request.param})


def _reaches(grants: set[tuple[str, str]], target: str) -> set[tuple[str, str]]:
    """The grants that apply to the ARN ``target``: an action of its service, on a resource
    pattern that covers it (IAM's ``*`` and ``?``)."""
    service = target.split(":")[2]
    return {
        (action, pattern)
        for action, pattern in grants
        if action.split(":")[0] == service and fnmatchcase(target, pattern)
    }


def _roles(cfn: Evaluator) -> list[str]:
    return [k for k, r in cfn.resources.items() if r["Type"] == "AWS::IAM::Role" and cfn.active(k)]


# --- present only when enabled -----------------------------------------------------------------


@pytest.mark.parametrize(
    "parameters",
    [
        ENABLED,
        {
            **ENABLED,
            "Architecture": "arm64",
            "EnableTracing": "true",
            "FeatureFunctionTimeout": 900,
            "FeatureFunctionMemorySize": 10240,
            "ModelPrefix": "team/models",
            "AlertEmail": "ops@example.com",
        },
    ],
    ids=["enabled", "enabled-all-options"],
)
def test_with_the_feature_function_the_template_transforms_and_lints_clean(
    sam_template: dict, parameters: dict[str, Any]
) -> None:
    document = transform(sam_template, parameters)
    assert "Transform" not in document
    assert document["Resources"]["FeatureFunctionLambda"]["Type"] == "AWS::Lambda::Function"
    assert _problems(lint(document, regions=("us-east-1", "eu-west-1"))) == []


def test_a_stack_without_own_data_gets_no_feature_function(
    sam_template: dict, cfn: Evaluator
) -> None:
    parameter = sam_template["Parameters"]["FeatureFunction"]
    assert (parameter["Default"], parameter["AllowedValues"]) == (
        "Disabled",
        ["Enabled", "Disabled"],
    )
    for name in FEATURE_RESOURCES:
        assert cfn.resources[name]["Condition"] == "FeatureFunctionEnabled", name
        assert not cfn.active(name), name
    assert "FeatureFunctionRole" not in _roles(cfn)
    env = cfn.properties("WorkerFunction")["Environment"]["Variables"]
    assert "FEATURE_FUNCTION_NAME" not in env
    assert not {a for a, r in cfn.grants("WorkerRole") if r == FEATURES_ARN}
    for output in ("FeatureFunctionName", "FeatureFunctionSecretName"):
        assert cfn.template["Outputs"][output]["Condition"] == "FeatureFunctionEnabled"


def test_enabling_it_creates_the_function_its_role_secret_and_logs(enabled: Evaluator) -> None:
    assert all(enabled.active(name) for name in FEATURE_RESOURCES)
    assert enabled.function_role("FeatureFunctionLambda") == "FeatureFunctionRole"
    env = enabled.properties("WorkerFunction")["Environment"]["Variables"]
    assert env["FEATURE_FUNCTION_NAME"] == f"{STACK}-features"
    assert env["OWN_DATA_URI"] == f"s3://{enabled.physical_id('ModelBucket')}/own-data"


# --- the function itself ------------------------------------------------------------------------


def test_the_feature_function_is_built_from_features_with_the_projects_makefile(
    sam_template: dict,
) -> None:
    resource = sam_template["Resources"]["FeatureFunctionLambda"]
    props = resource["Properties"]
    # The Makefile stays in handlers/ (ContextPath); SAM copies features/ as the source.
    assert resource["Metadata"] == {"BuildMethod": "makefile", "ContextPath": "handlers"}
    assert props["CodeUri"].rstrip("/") == "features"
    assert (props["Handler"], props["Runtime"]) == ("app.handler", "python3.12")
    assert props["Architectures"] == [{"Ref": "Architecture"}]
    assert "build-FeatureFunctionLambda:" in (REPO / "handlers" / "Makefile").read_text()
    # SAM builds every function of the template, enabled or not: the folder must exist.
    assert (REPO / "features" / "app.py").is_file()
    assert (REPO / "features" / "requirements.txt").is_file()


def test_the_feature_function_has_internet_its_secret_and_its_own_settings(
    enabled: Evaluator, sam_template: dict
) -> None:
    props = enabled.properties("FeatureFunctionLambda")
    assert props["FunctionName"] == f"{STACK}-features"
    assert "VpcConfig" not in props  # no VPC: the vendor's API is on the internet
    assert props["Environment"]["Variables"] == {
        "FEATURE_SECRET_ID": enabled.physical_id("FeatureFunctionSecret"),
        "OWN_DATA_URI": f"s3://{enabled.physical_id('ModelBucket')}/own-data",
        "LOG_LEVEL": "INFO",
    }
    assert (props["MemorySize"], props["Timeout"]) == (1024, 300)
    assert props["Timeout"] < enabled.properties("WorkerFunction")["Timeout"]
    assert props["LoggingConfig"] == {"LogGroup": f"/aws/lambda/{STACK}-features"}
    log_group = enabled.properties("FeatureFunctionLogGroup")
    assert log_group["RetentionInDays"] == enabled.parameters["LogRetentionInDays"]
    tracing = "Active" if enabled.condition("TracingEnabled") else "PassThrough"
    assert props["TracingConfig"] == {"Mode": tracing}
    raw = sam_template["Resources"]["FeatureFunctionLambda"]["Properties"]
    assert raw["MemorySize"] == {"Ref": "FeatureFunctionMemorySize"}
    assert raw["Timeout"] == {"Ref": "FeatureFunctionTimeout"}
    assert sam_template["Parameters"]["FeatureFunctionTimeout"]["MaxValue"] == 900


def test_the_feature_secret_is_created_empty_for_the_vendors_key(enabled: Evaluator) -> None:
    secret = enabled.properties("FeatureFunctionSecret")
    assert secret["Name"] == f"{STACK}/feature-function"
    assert "SecretString" not in secret and "GenerateSecretString" not in secret
    output = enabled.value(enabled.template["Outputs"]["FeatureFunctionSecretName"]["Value"])
    assert enabled.physical_id("FeatureFunctionSecret").split(":secret:")[1].startswith(output)


# --- IAM boundaries -----------------------------------------------------------------------------


def test_the_feature_role_may_only_read_its_secret_and_read_and_write_own_data(
    enabled: Evaluator,
) -> None:
    bucket = enabled.attribute("ModelBucket", "Arn")
    log_group = enabled.attribute("FeatureFunctionLogGroup", "Arn")
    expected = {
        ("logs:CreateLogStream", log_group),
        ("logs:PutLogEvents", log_group),
        ("secretsmanager:GetSecretValue", enabled.physical_id("FeatureFunctionSecret")),
        ("s3:GetObject", f"{bucket}/own-data/*"),
        ("s3:PutObject", f"{bucket}/own-data/*"),
    }
    if enabled.condition("TracingEnabled"):
        expected |= {(action, "*") for action in XRAY_ACTIONS}
    assert enabled.grants("FeatureFunctionRole") == expected


def test_the_feature_role_cannot_reach_models_submissions_or_numerai_keys(
    enabled: Evaluator,
) -> None:
    bucket = enabled.attribute("ModelBucket", "Arn")
    off_limits = [
        f"{bucket}/models/alpha.onnx",
        f"{bucket}/live-cache/v5.2/live_1234.parquet",
        f"{bucket}/submissions/1234/alpha.csv",
        bucket,  # listing the bucket would show every model's name
        enabled.physical_id("NumeraiApiKeysSecret"),
        enabled.physical_id("WebhookTokenSecret"),
        enabled.attribute("LedgerTable", "Arn"),
        enabled.physical_id("WorkerFunctionAliaslive"),
    ]
    grants = enabled.grants("FeatureFunctionRole")
    for target in off_limits:
        assert _reaches(grants, target) == set(), target


def test_no_other_role_can_read_the_feature_secret(enabled: Evaluator) -> None:
    secret = enabled.physical_id("FeatureFunctionSecret")
    for role in _roles(enabled):
        if role == "FeatureFunctionRole":
            continue
        assert _reaches(enabled.grants(role), secret) == set(), role
    # Nor is it handed to the worker another way.
    env = enabled.properties("WorkerFunction")["Environment"]["Variables"]
    assert not [value for value in env.values() if "feature-function" in str(value)]


def test_the_worker_only_invokes_the_feature_function_and_stages_the_universe(
    enabled: Evaluator,
) -> None:
    bucket = enabled.attribute("ModelBucket", "Arn")
    worker = enabled.grants("WorkerRole")
    assert _reaches(worker, FEATURES_ARN) == {("lambda:InvokeFunction", FEATURES_ARN)}
    # It reads the user's tables and writes only the staged universe among them.
    table = f"{bucket}/own-data/signals/momentum/2026-12-04.parquet"
    universe = f"{bucket}/own-data/signals/_universe/2026-12-04.parquet"
    assert {action for action, _ in _reaches(worker, table)} == {"s3:GetObject"}
    assert {action for action, _ in _reaches(worker, universe)} == {"s3:GetObject", "s3:PutObject"}


def test_the_feature_role_trusts_only_lambda(enabled: Evaluator) -> None:
    (trust,) = enabled.properties("FeatureFunctionRole")["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }


def test_models_cannot_be_put_where_the_feature_function_writes(sam_template: dict) -> None:
    pattern = re.compile(sam_template["Parameters"]["ModelPrefix"]["AllowedPattern"])
    for refused in ("own-data", "own-data/models", "own-data/signals/x"):
        assert not pattern.fullmatch(refused), refused
    for accepted in ("models", "team/models", "own-datasets", "models/own-data"):
        assert pattern.fullmatch(accepted), accepted
