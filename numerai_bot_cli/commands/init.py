"""``numerai-bot init``: write a commented ``numerai-bot.toml`` for the operator's models."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from numerai_bot.events import MODEL_NAME
from numerai_bot_cli.common import numerai_options, say
from numerai_bot_cli.config import DEFAULT_CONFIG, DEFAULT_STACK, MAX_STACK_NAME, render_config
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.numerai import api_url, env_keys, make_client, numerai_errors


def register(commands: Any) -> None:
    """Add the subcommand."""
    sub = commands.add_parser(
        "init",
        parents=[numerai_options()],
        help="write a commented numerai-bot.toml for your models",
        description="Write numerai-bot.toml: the stack's name and region and, for each Numerai "
        "model the bot submits, its ONNX file and output transform. Models come from "
        "--models, else from your Numerai account when NUMERAI_PUBLIC_ID/NUMERAI_SECRET_KEY "
        "are set, else the file has a commented example.",
    )
    sub.add_argument("--models", nargs="+", metavar="NAME", help="Numerai model names")
    sub.add_argument(
        "--stack", default=DEFAULT_STACK, metavar="NAME", help="stack name [%(default)s]"
    )
    sub.add_argument("--region", help="AWS region of the stack, e.g. us-east-1")
    sub.add_argument(
        "-o", "--output", type=Path, default=DEFAULT_CONFIG, help="file to write [%(default)s]"
    )
    sub.add_argument("--force", action="store_true", help="overwrite an existing file")
    sub.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the file; refuse to overwrite one without --force."""
    if args.output.exists() and not args.force:
        raise CliError(
            f"{args.output} already exists", "edit it, or pass --force to write a new one"
        )
    if not 0 < len(args.stack) <= MAX_STACK_NAME:
        raise CliError(f"stack name must be 1-{MAX_STACK_NAME} characters", "pass --stack NAME")
    models = args.models
    if models is None and (keys := env_keys()) is not None:
        url = api_url(args.api_url, None)
        with numerai_errors(url):
            models = sorted(make_client(*keys, url).model_ids())
        say(f"found {len(models)} models in your Numerai account")
    bad = [name for name in models or [] if not MODEL_NAME.fullmatch(name)]
    if bad:
        raise CliError(f"not Numerai model names: {', '.join(bad)}", "check the spelling")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_config(args.stack, args.region, models or []))
    print(f"wrote {args.output} ({len(models or [])} models)")
    say(
        "next: export each model to the artifact it names (`numerai-bot export --help`), "
        "then `numerai-bot deploy`"
    )
    return 0
