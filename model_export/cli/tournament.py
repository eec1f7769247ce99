"""The CLI's tournament pieces: ``--tournament``, data versions served, string-feature choices.

Why apart from :mod:`model_export.cli.convert`: train, export and check each resolve the same few
things per tournament (which data version, which columns are strings, which vocabulary);
doing it once here keeps the subcommands linear and the rules in one place.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import onnx
import pyarrow.parquet as pq

from model_export.cli.common import say
from model_export.data import served_datasets
from model_export.string_features import (
    StringEncoding,
    encoding_from_graph,
    refusal,
    sidecar_path,
)
from model_export.tournament_data import TOURNAMENT_NAMES
from numerai_bot.data_versions import newest
from numerai_bot.tournaments import Tournament

STRING_CHOICES = ("encode", "drop", "refuse")


def add_tournament_option(
    sub: Any,
    *,
    default: str | None,
    detected: str = "the --data file's id column",
) -> None:
    """``--tournament {classic,signals,crypto}`` (without a default: found from ``detected``)."""
    detected = "" if default else f" [from {detected}, else classic]"
    sub.add_argument(
        "--tournament",
        choices=TOURNAMENT_NAMES,
        default=default,
        help="Numerai tournament the model is for" + (" [%(default)s]" if default else detected),
    )


def add_string_options(sub: argparse.ArgumentParser, *, train: bool) -> None:
    """``--string-features`` (and ``--string-vocabulary`` for export/check)."""
    choices = STRING_CHOICES if train else ("encode", "refuse")
    sub.add_argument(
        "--string-features",
        choices=choices,
        default="encode",
        help="string columns (Signals' feature_country, feature_exchange_code): encode them "
        "inside the graph (a fixed vocabulary, sorted distinct training values → 0, 1, 2…, "
        "missing/unseen → NaN)"
        + (", drop them (numerai-cli's example model)" if train else "")
        + ", or refuse with an error naming them [%(default)s]"
        + (
            ""
            if train
            else "; dropping them is train's choice: a model trained without them "
            "exports without them"
        ),
    )
    if not train:
        sub.add_argument(
            "--string-vocabulary",
            type=Path,
            help="the vocabulary the model's string columns were encoded with: JSON "
            '{"column": ["value of code 0", …]} (train --save-native writes one), or the '
            "train.parquet whose sorted distinct values were the codes",
        )


def data_version_to_download(args: argparse.Namespace, chosen: Tournament, needed: str) -> str:
    """``--data-version``, else the newest version Numerai serves ``needed`` in, else the
    tournament's default."""
    if args.data_version:
        return args.data_version
    latest = newest(chosen, served_datasets(chosen), needed)
    if latest is None:
        say(args, f"Numerai lists no {chosen.name} versions: using {chosen.default_data_version}")
    return latest or chosen.default_data_version


def example_features(train_path: Path) -> list[str]:
    """Every ``feature_*`` column of the file: numerai-cli's Signals/Crypto feature list."""
    return [name for name in pq.read_schema(train_path).names if name.startswith("feature_")]


def training_strings(
    mode: str, features: list[str], strings: list[str]
) -> tuple[list[str], list[str]]:
    """(features, string features) to train on, after ``--string-features``."""
    if not strings or mode == "encode":
        return features, strings
    if mode == "drop":
        return [name for name in features if name not in set(strings)], []
    raise refusal(strings, "--string-features refuse asks not to train on")


def export_encoding(args: argparse.Namespace, strings: Sequence[str]) -> StringEncoding | None:
    """The vocabulary for the model's string columns, or the refusal naming them."""
    if not strings:
        return None
    if args.string_features == "refuse":
        raise refusal(strings, "--string-features refuse asks not to export")
    if args.string_vocabulary is None:
        raise refusal(strings, "cannot be encoded without the vocabulary they were trained with")
    say(args, f"encoding {', '.join(strings)} with the vocabulary of {args.string_vocabulary}")
    return StringEncoding.load(args.string_vocabulary, strings)


def check_encoding(
    args: argparse.Namespace, onnx_file: Path, strings: Sequence[str]
) -> StringEncoding | None:
    """For ``check``: ``--string-vocabulary``, else the native model's sidecar file, else the
    vocabulary written in the graph (then only the trees are compared, not the encoding)."""
    if not strings:
        return None
    if args.string_vocabulary is not None:
        return StringEncoding.load(args.string_vocabulary, strings)
    beside = sidecar_path(args.model)
    if beside.is_file():
        say(args, f"string vocabulary from {beside}")
        return StringEncoding.load(beside, strings)
    found = encoding_from_graph(onnx.load(str(onnx_file)))
    if found is None:
        raise refusal(strings, f"{onnx_file} does not encode (no LabelEncoder found)")
    say(args, f"string vocabulary read from {onnx_file}'s own graph")
    return found.restricted(strings)
