"""The deployed stack's names (bucket, table, secrets, webhook URL, worker), from wherever
the operator has them: explicit flags, a JSON file of outputs, or CloudFormation.

CloudFormation is asked only when a flag or the file does not already answer, so local
runs against moto never need a CloudFormation stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from numerai_bot_cli.aws import aws_errors, error_code, session
from numerai_bot_cli.errors import CliError

# Output keys of template.yaml, with the flag that replaces each.
FLAGS = {
    "WebhookBaseUrl": "--webhook-url",
    "ModelStoreUri": "--store",
    "LedgerTableName": "--table",
    "NumeraiApiKeysSecretName": "--keys-secret",
    "WebhookTokenSecretName": "--token-secret",
    "WorkerFunctionName": "--worker-function",
}


@dataclass
class Stack:
    """Looks up the stack's outputs lazily; ``overrides`` (from flags) win."""

    name: str | None
    region: str | None
    outputs_file: Path | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    _outputs: dict[str, str] | None = None

    def output(self, key: str) -> str:
        """One output's value; a :class:`CliError` naming the flag to pass when missing."""
        if self.overrides.get(key):
            return self.overrides[key]
        outputs = self.outputs()
        if outputs.get(key):
            return outputs[key]
        source = (
            str(self.outputs_file) if self.outputs_file else f"stack {self.name or '(unnamed)'}"
        )
        flag = FLAGS.get(key, "")
        raise CliError(
            f"{source} has no output {key}",
            f"pass {flag} or deploy the stack (`numerai-bot deploy`)"
            if flag
            else "deploy the current template (`numerai-bot deploy`)",
        )

    def outputs(self) -> dict[str, str]:
        """Every output, read once from the file or CloudFormation."""
        if self._outputs is None:
            if self.outputs_file is not None:
                self._outputs = read_outputs_file(self.outputs_file)
            else:
                self._outputs = describe_stack(self.name, self.region)
        return self._outputs


def read_outputs_file(path: Path) -> dict[str, str]:
    """``{"Key": "value"}``, or ``aws cloudformation describe-stacks`` output, or its Outputs."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise CliError(
            f"stack outputs file {path} does not exist",
            "write it with `aws cloudformation describe-stacks --stack-name <stack> > FILE`, "
            "or leave out --stack-outputs to ask CloudFormation",
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CliError(f"{path} is not JSON: {error}", "fix or regenerate the file") from None
    return _flatten(document, path)


def _flatten(document: Any, path: Path) -> dict[str, str]:
    if isinstance(document, dict) and "Stacks" in document:
        stacks = document["Stacks"] or [{}]
        document = stacks[0].get("Outputs", [])
    if isinstance(document, list):
        return {
            str(o["OutputKey"]): str(o["OutputValue"])
            for o in document
            if isinstance(o, dict) and "OutputKey" in o and "OutputValue" in o
        }
    if isinstance(document, dict):
        return {str(k): str(v) for k, v in document.items() if isinstance(v, str | int)}
    raise CliError(f"{path} holds no stack outputs", 'write {"LedgerTableName": "...", ...}')


def describe_stack(name: str | None, region: str | None) -> dict[str, str]:
    """The outputs of CloudFormation stack ``name``."""
    if not name:
        raise CliError(
            "no stack name",
            "pass --stack NAME, set [stack] name in numerai-bot.toml (`numerai-bot init`), "
            "or pass --stack-outputs FILE",
        )
    from botocore.exceptions import ClientError

    with aws_errors("read the outputs of stack", name):
        client = session(region).client("cloudformation")
        try:
            stacks = client.describe_stacks(StackName=name)["Stacks"]
        except ClientError as error:
            if error_code(error) == "ValidationError" and "does not exist" in str(error):
                raise CliError(
                    f"stack {name} does not exist in region {client.meta.region_name}",
                    "deploy it with `numerai-bot deploy`, or pass the right --stack/--region",
                ) from None
            raise
    outputs = stacks[0].get("Outputs", []) if stacks else []
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}
