"""model_export's commands, handed over whole (``train``, ``export``, ``check``, ``describe``,
``ensemble``, ``validate``, ``rollback``), and ``publish`` (ONNX files to the stack's model
store, keeping the previous file for rollback).

``numerai-bot export ARGS`` is ``python -m model_export.cli export ARGS``, so both stay the same
tool with the same options; which commands there are comes from model_export's own registry
(:data:`model_export.cli.commands.COMMANDS`), read without importing the exporter.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_export.cli.commands import COMMANDS as MODEL_EXPORT_COMMANDS
from numerai_bot.postprocess.spec import PostProcess
from numerai_bot.tournaments import TOURNAMENTS, Tournament, tournament
from numerai_bot_cli.aws import aws_errors, session
from numerai_bot_cli.common import (
    build_context,
    config_options,
    progress,
    say,
    stack_options,
)
from numerai_bot_cli.errors import CliError

# numerai-bot's own publish (the stack's store, the config's models) takes the name; every
# other model_export command is handed to model_export as it is.
PASSTHROUGH: dict[str, str] = {
    name: f"{text} (model_export)"
    for name, text in MODEL_EXPORT_COMMANDS.items()
    if name != "publish"
}


def passthrough(argv: Sequence[str]) -> int:
    """Run model_export's command line with ``argv`` (its help, errors and exit codes)."""
    from model_export.cli.program import main as model_export_main

    return int(model_export_main(list(argv), prog="numerai-bot") or 0)


def _register_passthrough(commands: Any) -> None:
    """List model_export's commands in ``numerai-bot --help`` and in the choices a typo is
    shown (dispatch skips argparse: see :data:`PASSTHROUGH`)."""
    for name, text in PASSTHROUGH.items():
        commands.add_parser(name, help=text, add_help=False)


# --- publish -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishJob:
    """One file to publish for one model, in the tournament the operator expects (or None:
    the file's own)."""

    name: str
    path: Path
    transform: str
    tournament: Tournament | None = None
    postprocess: PostProcess | None = None  # the config's neutralize / blend (None: keep)


def register(commands: Any) -> None:
    """Add model_export's commands, then ``publish``."""
    _register_passthrough(commands)
    sub = commands.add_parser(
        "publish",
        parents=[config_options(), stack_options("ModelStoreUri")],
        help="upload ONNX models to the stack's model store and point models.json at them",
        description="Check each ONNX file (it must load and carry the bot's metadata, and be "
        "exported for the model's tournament), upload it with its SHA-256 and update "
        "models.json, for the models named (default: all in numerai-bot.toml, each with its "
        "artifact, transform, tournament, neutralize and blend; models that blend others in "
        "go last). The bucket is versioned: the previous file stays.",
    )
    sub.add_argument("models", nargs="*", metavar="MODEL", help="models to publish [all]")
    sub.add_argument(
        "--file", type=Path, help="the .onnx file (one MODEL only) [config's artifact]"
    )
    sub.add_argument("--transform", choices=("rank", "raw"), help="[config's, else rank]")
    sub.add_argument(
        "--tournament",
        choices=tuple(TOURNAMENTS),
        help="refuse a file exported for another tournament [config's, else the file's own]",
    )
    from model_export.cli.release import add_input_options

    add_input_options(sub.add_argument_group("input (models.json 'input'; docs/own-data.md)"))
    sub.set_defaults(run=run_publish)


def run_publish(args: argparse.Namespace) -> int:
    """Publish every chosen model; stop at the first failure, saying which."""
    from model_export.cli.release import input_setting
    from model_export.publish import publish
    from numerai_bot.adapters.model_store import open_model_store
    from numerai_bot.errors import BotError

    ctx = build_context(args)
    jobs = _jobs(args, ctx)
    store_uri = ctx.stack.output("ModelStoreUri")
    store = _open_store(store_uri, ctx.region, open_model_store)
    for job in progress(jobs, desc="publishing", unit="model"):
        try:
            data = job.path.read_bytes()
        except OSError as error:
            raise CliError(
                f"cannot read {job.path} for {job.name}: {error.strerror}",
                "export the model first (`numerai-bot export --help`) or fix its artifact path",
            ) from None
        expected = job.tournament.name if job.tournament else None
        with aws_errors(f"upload {job.name} to", store_uri):
            try:
                entry = publish(
                    store,
                    job.name,
                    data,
                    job.transform,
                    tournament=expected,
                    model_input=input_setting(args),
                    postprocess=job.postprocess,
                ).entry
            except BotError as error:
                raise CliError(
                    f"{job.name}: {job.path} was refused: {error}",
                    "re-export it with `numerai-bot export` (the file needs the bot's metadata "
                    "and the model's tournament)",
                ) from None
        print(
            f"published {job.path} as {entry.artifact} for {job.name} "
            f"({entry.tournament.name}, {len(data) / 1e6:.2f} MB)"
        )
    say(f"models.json in {store_uri} now lists them; the next round uses the new files")
    return 0


def _jobs(args: argparse.Namespace, ctx: Any) -> list[PublishJob]:
    asked = tournament(args.tournament) if args.tournament else None
    if args.file is not None:
        if len(args.models) != 1:
            raise CliError("--file needs exactly one MODEL", "e.g. publish my_model --file m.onnx")
        configured = ctx.config.models.get(args.models[0])
        transform = args.transform or (configured.transform if configured else "rank")
        chosen = asked or (configured.tournament if configured else None)
        post = configured.postprocess if configured else None
        return [PublishJob(args.models[0], args.file, transform, chosen, post)]
    jobs = []
    for name in ctx.model_names(args.models):
        entry = ctx.config.models.get(name)
        if entry is None:
            raise CliError(
                f"{name} is not in numerai-bot.toml, so its file is unknown",
                f"add [models.{name}] to the config, or pass --file",
            )
        transform = args.transform or entry.transform
        jobs.append(
            PublishJob(
                name, entry.artifact, transform, asked or entry.tournament, entry.postprocess
            )
        )
    # Models that blend others in go last: models.json must list what they blend first.
    return sorted(jobs, key=lambda job: bool(job.postprocess and job.postprocess.blend))


def _open_store(uri: str, region: str | None, opener: Any) -> Any:
    if not uri.startswith("s3://"):
        return opener(uri)
    with aws_errors("open the model store", uri):
        return opener(uri, session(region).client("s3"))
