"""model_export's command line: train, export, check, describe, ensemble, validate, publish and
roll back ONNX models for the bot.

Run as ``numerai-bot COMMAND`` or ``python -m model_export.cli COMMAND``; ``prog`` names the
one in use in help and usage lines. Each subcommand prints progress on stderr and its result
on stdout. Errors end with one line that says what went wrong and what to do next (exit 2); a
failed parity check exits 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from model_export.cli import convert, release
from model_export.cli.common import EXIT_ERROR, EXIT_PARITY, CliError
from model_export.converters.lightgbm_onnx import UnsupportedModelError
from model_export.data import DataError
from model_export.ensemble import EnsembleError
from model_export.features import FeatureError
from model_export.native import ModelLoadError
from model_export.parity import ParityError
from model_export.publish import PublishError
from numerai_bot.errors import BotError
from numerai_bot.model_metadata import MetadataError

PROG = "python -m model_export.cli"


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ParityError as error:
        print(str(error), file=sys.stderr)
        return EXIT_PARITY
    except (
        CliError,
        DataError,
        FeatureError,
        ModelLoadError,
        UnsupportedModelError,
        MetadataError,
        EnsembleError,
        PublishError,
        BotError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The argument parser with its subcommands, in the order of :data:`.commands.COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Export LightGBM, XGBoost, CatBoost, scikit-learn and PyTorch models to "
        "ONNX files the Numerai bot can run, with a ranking parity check against the native "
        "model and self-describing metadata; combine, validate, publish and roll back them.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    convert.add_commands(commands)
    release.add_commands(commands, convert.parity_sample)
    return parser
