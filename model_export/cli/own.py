"""The CLI's own-data pieces: ``--own-data`` and its options, where Numerai's targets are, the
join of the user's table to them, and ``validate`` on it.

Why a module of its own: ``train``, ``export`` and ``validate`` each read the user's table and
(``train``, ``validate``) join it to the targets of one data version; doing that once here
keeps the subcommands linear and the choices (which tournament, which version, which id
column) the same in all three.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from model_export.cli.common import CliError, existing, say
from model_export.data import download_files, locate_version_dir, served_datasets, version_from_path
from model_export.metadata import read_metadata
from model_export.own_data import (
    DATE,
    OwnTable,
    join_targets,
    own_tournament,
    read_own_table,
    read_targets,
    rows_table,
    target_source,
)
from model_export.validate import ValidationResult, validate_table
from numerai_bot.data_versions import newest
from numerai_bot.tournaments import TOURNAMENTS, Tournament, tournament

OWN_DATA_HELP = (
    "your own historical table (Parquet, long form: one row per date and id, keyed by `date` "
    "and any id column Numerai accepts for the tournament, then your feature columns)"
)


def add_own_data(container: Any, purpose: str) -> None:
    """``--own-data FILE.parquet`` with what it is for in this command."""
    container.add_argument(
        "--own-data", type=Path, metavar="FILE.parquet", help=f"{OWN_DATA_HELP}: {purpose}"
    )


def add_id_column(container: Any) -> None:
    """``--id-column``: the table's id column, as the worker chooses it."""
    accepted = "; ".join(
        f"{t.name}: {', '.join(t.rules.id_columns)}" for t in TOURNAMENTS.values() if t.own_data
    )
    container.add_argument(
        "--id-column",
        help=f"the own table's id column ({accepted}) [the first of these present]",
    )


def add_target_options(container: Any) -> None:
    """Where Numerai's targets are (for ``validate``; ``train`` has these options already)."""
    container.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data"),
        help="folder with Numerai's targets for --own-data (signals/<version>/train.parquet "
        "and validation.parquet, crypto/<version>/historical_targets.parquet), or where "
        "--download puts them [%(default)s]",
    )
    container.add_argument(
        "--download", action="store_true", help="download the targets with numerapi first"
    )
    container.add_argument(
        "--data-version", help="data version of the targets [the one recorded in the file]"
    )


def parse_features(raw: str | None) -> list[str] | None:
    """``"a,b,c"`` → ["a", "b", "c"]; None when not given."""
    if raw is None:
        return None
    names = [part.strip() for part in raw.split(",") if part.strip()]
    if not names:
        raise CliError(f"--features needs column names like momentum_20,volatility_20, got {raw!r}")
    return names


def tournament_of(args: argparse.Namespace) -> Tournament:
    """``--tournament``, else the one whose id columns the own table has."""
    path = existing(args.own_data, "pass the Parquet file of your own table")
    return own_tournament(path, tournament(args.tournament) if args.tournament else None)


def read_table(
    args: argparse.Namespace,
    chosen: Tournament,
    features: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
) -> OwnTable:
    """The user's table, checked, with a line saying what was read."""
    own = read_own_table(
        args.own_data, chosen, features=features, id_column=args.id_column, exclude=exclude
    )
    eras = own.eras
    say(
        args,
        f"read {len(own.frame):,} rows of {own.path.name}: {len(eras)} dates ({eras[0]} … "
        f"{eras[-1]}), keyed by {own.key}, {len(own.features)} features "
        f"({', '.join(own.features[:4])}{' …' if len(own.features) > 4 else ''})",
    )
    return own


def targets_dir(
    args: argparse.Namespace, chosen: Tournament, version: str | None
) -> tuple[str, Path]:
    """(data version, its folder) holding the tournament's targets: downloaded with
    ``--download`` (``version``, else the newest Numerai serves them in), else found under
    ``--data-dir``."""
    source = target_source(chosen)
    if args.download:
        version = version or version_from_path(args.data_dir)
        if version is None:
            served = newest(chosen, served_datasets(chosen), source.files[0])
            version = served or source.default_version(chosen)
        say(args, f"downloading {', '.join(chosen.dataset(version, n) for n in source.files)}")
        return version, download_files(args.data_dir, version, source.files, tournament=chosen)
    folder = locate_version_dir(args.data_dir, version, chosen, marker=source.files[0])
    return version or version_from_path(folder) or source.default_version(chosen), folder


def joined_rows(
    args: argparse.Namespace,
    own: OwnTable,
    chosen: Tournament,
    version: str,
    folder: Path,
    target: str,
) -> pd.DataFrame:
    """The table's rows with Numerai's target of their era, with a line saying how many."""
    joined = join_targets(own, read_targets(folder, chosen, own.key, target), target)
    eras = joined[DATE].unique()
    say(
        args,
        f"joined {len(joined):,} of the {len(own.frame):,} rows to {chosen.name} {version} "
        f"{target} on date and {own.key}: {len(eras)} eras ({min(eras)} … {max(eras)})",
    )
    return joined


def validate_own(args: argparse.Namespace, plot: Path | None) -> ValidationResult:
    """``validate --own-data``: the file's features from the table, joined to the targets of
    the file's data version, scored era by era."""
    metadata = read_metadata(args.onnx_file)
    path = existing(args.own_data, "pass the Parquet file of your own table")
    chosen = own_tournament(path, tournament(metadata.tournament))
    target = args.target or metadata.target
    own = read_table(args, chosen, features=metadata.features)
    version, folder = targets_dir(args, chosen, args.data_version or metadata.data_version)
    joined = joined_rows(args, own, chosen, version, folder, target)
    return validate_table(
        args.onnx_file,
        rows_table(joined, metadata.features, target),
        target=target,
        era_column=DATE,
        era_step=args.era_step,
        max_eras=args.max_eras,
        plot=plot,
        progress=not args.quiet,
        name=own.path.name,
    )
