"""What every subcommand shares: the option groups (one style everywhere) and the context
built from them (config file, stack outputs, region, Numerai endpoint and keys)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot_cli.config import Config, load_config
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.numerai import api_url, env_keys, make_client, stored_keys
from numerai_bot_cli.stack import FLAGS, Stack

OVERRIDE_HELP = {
    "WebhookBaseUrl": "the webhook's Function URL without token [stack output WebhookBaseUrl]",
    "ModelStoreUri": "s3://bucket/prefix or a folder holding models.json [output ModelStoreUri]",
    "LedgerTableName": "the DynamoDB ledger table [stack output LedgerTableName]",
    "NumeraiApiKeysSecretName": "secret holding the Numerai keys [NumeraiApiKeysSecretName]",
    "WebhookTokenSecretName": "secret holding the webhook token [WebhookTokenSecretName]",
    "WorkerFunctionName": "the worker function's name [stack output WorkerFunctionName]",
}


def config_options() -> argparse.ArgumentParser:
    """``--config``: every subcommand has it."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the numerai-bot.toml to read [./numerai-bot.toml when present]",
    )
    return parent


def stack_options(*outputs: str) -> argparse.ArgumentParser:
    """Where the stack is, and flags replacing the named stack ``outputs``."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group(
        "stack (flags win over --stack-outputs, which wins over CloudFormation)"
    )
    group.add_argument("--stack", metavar="NAME", help="CloudFormation stack [config's name]")
    group.add_argument("--region", help="AWS region [config's, else AWS_REGION/profile]")
    group.add_argument(
        "--stack-outputs",
        type=Path,
        metavar="FILE",
        help="JSON file of the stack's outputs instead of CloudFormation (local stand-ins)",
    )
    for key in outputs:
        flag = FLAGS[key]
        group.add_argument(flag, dest=_dest(key), metavar="VALUE", help=OVERRIDE_HELP[key])
    return parent


def numerai_options() -> argparse.ArgumentParser:
    """``--api-url``: which Numerai endpoint to talk to."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--api-url",
        metavar="URL",
        help="Numerai's GraphQL endpoint [NUMERAI_API_URL, else config, else Numerai's]",
    )
    return parent


def _dest(output_key: str) -> str:
    return "override_" + output_key


@dataclass
class Context:
    """The operator's settings for one command, resolved from flags, config and env."""

    args: argparse.Namespace
    config: Config
    stack: Stack

    @property
    def region(self) -> str | None:
        """``--region``, else the config's, else boto3 decides."""
        return self.stack.region

    @property
    def api_url(self) -> str:
        """The Numerai endpoint."""
        return api_url(getattr(self.args, "api_url", None), self.config.api_url)

    def numerai(self, keys: tuple[str, str] | None = None) -> NumeraiClient:
        """A Numerai client with ``keys``, else env keys, else the keys stored in the stack."""
        if keys is None:
            keys = env_keys() or stored_keys(
                self.stack.output("NumeraiApiKeysSecretName"), self.region
            )
        return make_client(keys[0], keys[1], self.api_url)

    def public_numerai(self) -> NumeraiClient:
        """A Numerai client without keys, for public queries (rounds, scores)."""
        return make_client(None, None, self.api_url)

    def model_names(self, given: list[str] | None) -> list[str]:
        """The models named on the command line, else those in numerai-bot.toml."""
        if given:
            return list(dict.fromkeys(given))
        if self.config.models:
            return list(self.config.models)
        raise CliError(
            "no models named",
            "name them on the command line, or list them in numerai-bot.toml "
            "(`numerai-bot init --models NAME ...`)",
        )


def build_context(args: argparse.Namespace) -> Context:
    """Read the config and set up the (lazy) stack lookup for ``args``."""
    config = load_config(getattr(args, "config", None))
    overrides = {
        key: value
        for key in FLAGS
        if (value := getattr(args, _dest(key), None)) is not None and value != ""
    }
    outputs_file = getattr(args, "stack_outputs", None) or config.outputs_file
    stack = Stack(
        name=getattr(args, "stack", None) or config.stack_name,
        region=getattr(args, "region", None) or config.region,
        outputs_file=outputs_file,
        overrides=overrides,
    )
    return Context(args, config, stack)


def progress(iterable: Any = None, **options: Any) -> Any:
    """A tqdm progress bar on stderr, hidden when stderr is not a terminal."""
    from tqdm import tqdm

    options.setdefault("disable", not sys.stderr.isatty() or bool(os.environ.get("NO_PROGRESS")))
    options.setdefault("leave", False)
    return tqdm(iterable, file=sys.stderr, **options)


def say(message: str) -> None:
    """Progress notes go to stderr, so stdout stays the command's result."""
    print(message, file=sys.stderr, flush=True)
