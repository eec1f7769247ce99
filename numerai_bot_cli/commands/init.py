"""``numerai-bot init``: write a commented ``numerai-bot.toml`` for the operator's models, or
(``--feature-function``) a working feature function in ``features/`` to start from.

Each model is in one Numerai tournament: ``--models my_model signals:my_sig crypto:my_coin``
(a bare name is Classic); with keys in the environment, the account says. The feature
function's files are package data (``numerai_bot_cli/templates/feature_function/``).
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path
from typing import Any

from numerai_bot.errors import ConfigError
from numerai_bot.events import MODEL_NAME
from numerai_bot.tournaments import CLASSIC, TOURNAMENTS, Tournament, tournament
from numerai_bot_cli.common import numerai_options, say
from numerai_bot_cli.config import DEFAULT_CONFIG, DEFAULT_STACK, MAX_STACK_NAME, render_config
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.numerai import api_url, env_keys, make_client, numerai_errors

ModelSpec = tuple[str, Tournament]
TEMPLATE = ("templates", "feature_function")  # inside the numerai_bot_cli package
# What the checkout's features/ skeleton says until the user writes a feature function.
SKELETON_MARK = "features/app.py is still the skeleton"
FEATURE_FILES = ("app.py", "requirements.txt")


def register(commands: Any) -> None:
    """Add the subcommand."""
    sub = commands.add_parser(
        "init",
        parents=[numerai_options()],
        help="write a commented numerai-bot.toml for your models",
        description="Write numerai-bot.toml: the stack's name and region and, for each Numerai "
        "model the bot submits, its ONNX file, output transform and tournament. Models come "
        "from --models, else from your Numerai account (every tournament) when "
        "NUMERAI_PUBLIC_ID/NUMERAI_SECRET_KEY are set, else the file has a commented example.",
    )
    sub.add_argument(
        "--models",
        nargs="+",
        metavar="[TOURNAMENT:]NAME",
        help="Numerai model names; prefix a Signals or Crypto model with its tournament, "
        f"e.g. my_model signals:my_sig crypto:my_coin ({', '.join(TOURNAMENTS)}; "
        "a bare name is classic)",
    )
    sub.add_argument(
        "--stack", default=DEFAULT_STACK, metavar="NAME", help="stack name [%(default)s]"
    )
    sub.add_argument("--region", help="AWS region of the stack, e.g. us-east-1")
    sub.add_argument(
        "-o", "--output", type=Path, default=DEFAULT_CONFIG, help="file to write [%(default)s]"
    )
    sub.add_argument("--force", action="store_true", help="overwrite existing files")
    sub.add_argument(
        "--feature-function",
        action="store_true",
        help="instead of numerai-bot.toml, write a working feature function (app.py, "
        "requirements.txt) to --features-dir: your own features for Signals or Crypto, "
        "computed by a Lambda of the stack (docs/own-data.md)",
    )
    sub.add_argument(
        "--features-dir",
        type=Path,
        default=Path("features"),
        metavar="DIR",
        help="where --feature-function writes [%(default)s]",
    )
    sub.set_defaults(run=run)


def parse_model(text: str) -> ModelSpec:
    """``signals:my_sig`` → (``my_sig``, Signals); ``my_model`` → (``my_model``, Classic)."""
    prefix, colon, name = text.rpartition(":")
    if not colon:
        return text, CLASSIC
    try:
        return name, tournament(prefix)
    except ConfigError:
        raise CliError(
            f"{text!r}: unknown tournament {prefix!r}",
            f"write TOURNAMENT:NAME with one of {', '.join(TOURNAMENTS)}, e.g. signals:{name}",
        ) from None


def account_specs(keys: tuple[str, str], url: str) -> list[ModelSpec]:
    """The account's models of every tournament the bot serves, by tournament then name."""
    with numerai_errors(url):
        found = make_client(*keys, url).account_models()
    specs = []
    for name, model in found.items():
        try:
            specs.append((name, tournament(model.tournament)))
        except ConfigError:
            say(f"skipped {name}: tournament {model.tournament} is not one the bot serves")
    order = list(TOURNAMENTS.values())
    return sorted(specs, key=lambda spec: (order.index(spec[1]), spec[0]))


def run(args: argparse.Namespace) -> int:
    """Write the file; refuse to overwrite one without --force."""
    if args.feature_function:
        return scaffold_feature_function(args.features_dir, args.force)
    if args.output.exists() and not args.force:
        raise CliError(
            f"{args.output} already exists", "edit it, or pass --force to write a new one"
        )
    if not 0 < len(args.stack) <= MAX_STACK_NAME:
        raise CliError(f"stack name must be 1-{MAX_STACK_NAME} characters", "pass --stack NAME")
    specs = [parse_model(text) for text in args.models] if args.models is not None else None
    if specs is None and (keys := env_keys()) is not None:
        specs = account_specs(keys, api_url(args.api_url, None))
        say(f"found {len(specs)} models in your Numerai account")
    specs = specs or []
    bad = [name for name, _ in specs if not MODEL_NAME.fullmatch(name)]
    if bad:
        raise CliError(f"not Numerai model names: {', '.join(bad)}", "check the spelling")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_config(args.stack, args.region, specs))
    print(f"wrote {args.output} ({_counted(specs)})")
    say(
        "next: export each model to the artifact it names (`numerai-bot export --help`), "
        "then `numerai-bot deploy`"
    )
    return 0


def _counted(specs: list[ModelSpec]) -> str:
    """``3 models: 2 classic, 1 signals``."""
    if not specs:
        return "0 models"
    per = {t.name: sum(1 for _, chosen in specs if chosen == t) for t in TOURNAMENTS.values()}
    parts = ", ".join(f"{count} {name}" for name, count in per.items() if count)
    return f"{len(specs)} models: {parts}"


def _yours(path: Path) -> bool:
    """Whether ``path`` holds something of the user's (the checkout's untouched skeleton, which
    lets ``sam build`` run before there is a feature function, is not)."""
    if not path.exists():
        return False
    text = path.read_text(errors="replace")
    if path.name == "requirements.txt":
        return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())
    return SKELETON_MARK not in text


def scaffold_feature_function(folder: Path, force: bool = False) -> int:
    """Copy the feature function's template into ``folder``; refuse to overwrite without
    ``force``."""
    template = resources.files("numerai_bot_cli").joinpath(*TEMPLATE)
    existing = [folder / name for name in FEATURE_FILES if _yours(folder / name)]
    if existing and not force:
        raise CliError(
            f"{', '.join(map(str, existing))} already exist{'s' if len(existing) == 1 else ''}",
            "edit them, or pass --force to write the example again",
        )
    folder.mkdir(parents=True, exist_ok=True)
    for name in FEATURE_FILES:
        (folder / name).write_bytes(template.joinpath(name).read_bytes())
    print(f"wrote {folder / 'app.py'} and {folder / 'requirements.txt'} (a feature function)")
    say(
        f"next: try it on a price file (PRICES_URI, see {folder / 'app.py'}), replace the "
        'example with your features, set "feature_function": true in the model\'s models.json '
        "input, then `numerai-bot deploy`"
    )
    return 0
