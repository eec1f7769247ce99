"""Offline helpers for template.yaml: SAM transform, cfn-lint, and a small intrinsic evaluator.

The evaluator turns the transformed template's ``Ref``/``Fn::GetAtt``/``Fn::Sub``/... into the
strings CloudFormation would produce for a fixed account, region and stack name, so that tests
can assert on real-looking ARNs (``arn:aws:lambda:...:function:numerai-bot-worker:live``) instead
of on the shape of intrinsic functions.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = "aws"
STACK = "numerai-bot"


def read_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The SAM template as a dict, with CloudFormation's short-form tags understood."""
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(path.read_text())


class _NoManagedPolicies:
    """The translator asks for AWS managed policy ARNs only when a template names them."""

    def load(self) -> dict[str, str]:
        return {}


def transform(
    template: Mapping[str, Any] | None = None, parameters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Expand the SAM template into plain CloudFormation, as the service would (no credentials).

    Local ``CodeUri`` folders become S3 URIs first, as ``sam package`` would make them.
    """
    from samtranslator.translator.transform import transform as sam_transform

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    document = copy.deepcopy(dict(template if template is not None else read_template()))
    for resource in document.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            code = resource["Properties"].get("CodeUri")
            if isinstance(code, str) and not code.startswith("s3://"):
                resource["Properties"]["CodeUri"] = f"s3://artifacts/{code.strip('/')}.zip"
    return sam_transform(document, dict(parameters or {}), _NoManagedPolicies())


def lint(document: Mapping[str, Any], regions: tuple[str, ...] = (REGION,)) -> list[Any]:
    """cfn-lint matches (errors, warnings, informational) for a CloudFormation document."""
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint

    return cfn_lint(
        json.dumps(document, default=str),
        config=ManualArgs(regions=list(regions), include_checks=["I"]),
    )


@dataclass(frozen=True)
class Statement:
    """One IAM statement after evaluation: each (action, resource) pair it allows or denies."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: Any
    source: str


class Evaluator:
    """Evaluate intrinsic functions of a (transformed) template for fixed pseudo parameters."""

    def __init__(
        self, template: Mapping[str, Any], parameters: Mapping[str, Any] | None = None
    ) -> None:
        self.template = template
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.parameters: dict[str, Any] = {
            name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()
        }
        self.parameters.update(parameters or {})
        self.pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": PARTITION,
            "AWS::StackName": STACK,
            "AWS::URLSuffix": "amazonaws.com",
        }

    # -- conditions -------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        """The value of a named condition."""
        return bool(self.value(self.template["Conditions"][name]))

    def active(self, logical_id: str) -> bool:
        """Whether a resource exists for these parameters (its Condition, if any, holds)."""
        name = self.resources[logical_id].get("Condition")
        return name is None or self.condition(name)

    # -- values -----------------------------------------------------------------------------
    def value(self, node: Any) -> Any:
        """Evaluate ``node``; ``AWS::NoValue`` becomes None and is dropped from lists and maps
        (an environment variable or a property set to it does not exist)."""
        if isinstance(node, list):
            items = [self.value(item) for item in node]
            return [item for item in items if item is not None]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            key, arg = next(iter(node.items()))
            handler = getattr(self, "_" + key.replace("::", "_").replace("Fn_", "fn_"), None)
            if key in ("Ref", "Condition") or key.startswith("Fn::"):
                if handler is None:
                    raise NotImplementedError(key)
                return handler(arg)
        values = {key: self.value(item) for key, item in node.items()}
        return {key: item for key, item in values.items() if item is not None}

    def _Ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return None
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.physical_id(name)

    def _Condition(self, name: str) -> bool:
        return self.condition(name)

    def _fn_GetAtt(self, arg: Any) -> str:
        logical, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        return self.attribute(logical, self.value(attribute))

    def _fn_Sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        values = {key: self.value(item) for key, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return self.attribute(logical, attribute)
            return str(self._Ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _fn_If(self, arg: list[Any]) -> Any:
        name, if_true, if_false = arg
        return self.value(if_true if self.condition(name) else if_false)

    def _fn_Equals(self, arg: list[Any]) -> bool:
        left, right = (self.value(item) for item in arg)
        return str(left) == str(right)

    def _fn_Not(self, arg: list[Any]) -> bool:
        return not self.value(arg[0])

    def _fn_And(self, arg: list[Any]) -> bool:
        return all(self.value(item) for item in arg)

    def _fn_Or(self, arg: list[Any]) -> bool:
        return any(self.value(item) for item in arg)

    def _fn_FindInMap(self, arg: list[Any]) -> Any:
        mapping, top, second = (self.value(item) for item in arg)
        return self.template["Mappings"][mapping][top][second]

    def _fn_Join(self, arg: list[Any]) -> str:
        separator, items = arg
        return separator.join(str(item) for item in self.value(items))

    def _fn_Select(self, arg: list[Any]) -> Any:
        index, items = arg
        return self.value(items)[int(self.value(index))]

    def _fn_Split(self, arg: list[Any]) -> list[str]:
        separator, text = arg
        return str(self.value(text)).split(separator)

    # -- resources --------------------------------------------------------------------------
    def properties(self, logical_id: str) -> dict[str, Any]:
        """A resource's properties, evaluated."""
        return self.value(self.resources[logical_id].get("Properties", {}))

    def physical_id(self, logical_id: str) -> str:
        """What ``Ref`` returns for a resource, with made-up but well-formed names."""
        resource = self.resources[logical_id]
        kind = resource["Type"]
        props = resource.get("Properties", {})
        if kind == "AWS::Lambda::Function":
            return self.value(props.get("FunctionName")) or f"{STACK}-{logical_id}"
        if kind == "AWS::Lambda::Alias":
            function = self.value(props["FunctionName"])
            return self.lambda_arn(f"{function}:{self.value(props['Name'])}")
        if kind == "AWS::SecretsManager::Secret":
            name = self.value(props.get("Name")) or f"{logical_id}-x"
            return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf"
        if kind == "AWS::SNS::Topic":
            return f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{STACK}-{logical_id}"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{STACK}-{logical_id}"
        if kind == "AWS::Logs::LogGroup":
            return self.value(props.get("LogGroupName")) or f"{STACK}-{logical_id}"
        return f"{STACK}-{logical_id}".lower()

    def attribute(self, logical_id: str, attribute: str) -> str:
        """What ``Fn::GetAtt`` returns, for the attributes this template uses."""
        kind = self.resources[logical_id]["Type"]
        ref = self.physical_id(logical_id)
        arns = {
            "AWS::S3::Bucket": f"arn:{PARTITION}:s3:::{ref}",
            "AWS::DynamoDB::Table": f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{ref}",
            "AWS::SQS::Queue": f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{STACK}-{logical_id}",
            "AWS::Logs::LogGroup": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{ref}:*",
            "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{ref}",
            "AWS::Lambda::Function": self.lambda_arn(ref),
        }
        if attribute == "Arn" and kind in arns:
            return arns[kind]
        if kind == "AWS::SQS::Queue" and attribute == "QueueName":
            return f"{STACK}-{logical_id}"
        return f"{logical_id}.{attribute}"

    @staticmethod
    def lambda_arn(function: str) -> str:
        """A function (or ``function:qualifier``) ARN."""
        return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{function}"

    # -- IAM --------------------------------------------------------------------------------
    def role_statements(self, role_id: str) -> list[Statement]:
        """Every statement that applies to a role: inline policies and attached policies."""
        statements: list[Statement] = []
        role = self.resources[role_id]
        # Evaluated first: an inline policy may be an `Fn::If` (the X-Ray one, under tracing).
        for policy in self.value(role["Properties"].get("Policies", [])):
            source = f"{role_id}/inline/{policy['PolicyName']}"
            statements += self._statements(policy["PolicyDocument"], source)
        for logical_id, resource in self.resources.items():
            if resource["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                continue
            if not self.active(logical_id):
                continue
            props = resource["Properties"]
            roles = self.value(props.get("Roles", []))
            if self.physical_id(role_id) in roles:
                statements += self._statements(props["PolicyDocument"], logical_id)
        return statements

    def _statements(self, document: Any, source: str) -> list[Statement]:
        raw = self.value(document)["Statement"]
        out = []
        for item in raw if isinstance(raw, list) else [raw]:
            unsupported = {"NotAction", "NotResource", "NotPrincipal"} & set(item)
            if unsupported:
                raise AssertionError(f"{source}: {sorted(unsupported)} is not allowed")
            actions = item["Action"] if isinstance(item["Action"], list) else [item["Action"]]
            resources = (
                item["Resource"] if isinstance(item["Resource"], list) else [item["Resource"]]
            )
            out.append(
                Statement(
                    item["Effect"], tuple(actions), tuple(resources), item.get("Condition"), source
                )
            )
        return out

    def grants(self, role_id: str) -> set[tuple[str, str]]:
        """Every (action, resource) pair a role is allowed."""
        return {
            (action, resource)
            for statement in self.role_statements(role_id)
            if statement.effect == "Allow"
            for action in statement.actions
            for resource in statement.resources
        }

    def function_role(self, function_id: str) -> str:
        """The logical id of the role a function runs with."""
        role = self.resources[function_id]["Properties"]["Role"]
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            target = role["Fn::GetAtt"]
            return target.split(".")[0] if isinstance(target, str) else target[0]
        raise AssertionError(f"{function_id} does not use a role declared in the template")


def build_feature_function_as_sam(
    folder: Path, artifacts: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """What ``sam build`` does for the feature function: the Makefile of its ContextPath
    (handlers/) run in a scratch copy of its CodeUri, ``ARTIFACTS_DIR`` set."""
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "--makefile",
            str(REPO / "handlers" / "Makefile"),
            "build-FeatureFunctionLambda",
            f"PYTHON={sys.executable}",
        ],
        cwd=folder,
        env={**os.environ, "ARTIFACTS_DIR": str(artifacts)},
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
