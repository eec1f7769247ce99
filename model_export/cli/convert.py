"""``train``, ``export``, ``check`` and ``describe``: from a native model (or Numerai's data)
to a checked ONNX file; the release steps that follow are in :mod:`model_export.cli.release`.

Each subcommand prints progress on stderr and its result on stdout; errors are raised for
:func:`model_export.cli.program.main` to turn into one line and an exit code.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from model_export.cli import own as cli_own
from model_export.cli import tournament as cli_tournament
from model_export.cli.commands import COMMANDS
from model_export.cli.common import (
    EXIT_ERROR,
    EXIT_PARITY,
    CliError,
    add_threshold_options,
    existing,
    parse_threads,
    say,
    thresholds_from,
)
from model_export.converters.libraries import KINDS, NativeModel, load, wrap
from model_export.converters.lightgbm_onnx import resolve_num_iteration
from model_export.data import (
    DataError,
    Table,
    download_files,
    locate_version_dir,
    read_sample,
    require_columns,
    version_from_path,
)
from model_export.describe import describe, render
from model_export.export import (
    ExportResult,
    export_model,
    graph_feature_order,
    native_predictions,
)
from model_export.features import (
    read_feature_list,
    read_feature_set,
)
from model_export.metadata import read_metadata
from model_export.native import native_predict
from model_export.own_data import (
    DATE,
    DEFAULT_TARGET,
    TARGET_SOURCES,
    newest_rows,
    rows_table,
    target_source,
    training_data,
)
from model_export.parity import LAMBDA_THREAD_COUNTS, check_parity
from model_export.scoring import era_sort_key
from model_export.string_features import (
    StringEncoding,
    full_matrix,
    sidecar_path,
    string_columns,
)
from model_export.tournament_data import (
    input_type as tournament_input_type,
)
from model_export.tournament_data import (
    read_dtype,
    resolve_tournament,
    spec,
)
from model_export.train import (
    EXAMPLE_PARAMS,
    TrainingData,
    every_nth_era,
    load_training_data,
    mean_era_spearman,
    train_booster,
)
from numerai_bot.tournaments import tournament

DEFAULT_PARITY_ROWS = 10_000


def add_commands(commands: Any) -> None:
    """Register train, export, check and describe."""
    _add_train(commands)
    _add_export(commands)
    _add_check(commands)
    _add_describe(commands)


# --- train -------------------------------------------------------------------------------


def _add_train(commands: Any) -> None:
    sub = commands.add_parser(
        "train",
        help=COMMANDS["train"],
        description="Train LGBMRegressor-equivalent parameters (Numerai's example model) on a "
        "feature set and target (Classic: every 4th era; Signals/Crypto: numerai-cli's "
        "examples, every row and every feature_* column), check parity on validation (Classic) "
        "or live (Signals/Crypto) rows and write the .onnx file. With --own-data (Signals, "
        "Crypto): on your own table's features joined to Numerai's targets by date and id, "
        "parity on the table's newest dates, a file that reads your own data.",
    )
    source = sub.add_argument_group("data")
    cli_tournament.add_tournament_option(
        source, default=None, detected="the --own-data table's id column"
    )
    source.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data"),
        help="folder with features.json/train.parquet/validation.parquet, or its parent "
        "holding <version>/ or signals/<version>/ (with --download: where to put the files) "
        "[%(default)s]",
    )
    source.add_argument(
        "--download",
        action="store_true",
        help="download the files with numerapi first (endpoint from NUMERAI_API_URL if set)",
    )
    source.add_argument(
        "--data-version",
        help="Numerai data version, e.g. v5.2 or v2.1 [from the folder name; with --download "
        "the newest Numerai serves; else the tournament's default]",
    )
    source.add_argument(
        "--feature-set",
        help="feature set of features.json [Classic: small; Signals/Crypto: every feature_* "
        "column of train.parquet]",
    )
    source.add_argument("--target", help="target column [target; Crypto: target_binned_return_20]")
    source.add_argument(
        "--era-step", type=int, help="train on every Nth era [Classic 4, Signals/Crypto 1]"
    )
    cli_tournament.add_string_options(source, train=True)
    own = sub.add_argument_group(
        "own data (Signals, Crypto; Numerai's targets from --data-dir / --download)"
    )
    cli_own.add_own_data(own, "train on its features joined to Numerai's targets")
    cli_own.add_id_column(own)
    own.add_argument(
        "--features",
        help="the table's feature columns, comma separated [every numeric column but the date "
        "and ids]",
    )
    own.add_argument(
        "--holdout-eras",
        type=int,
        default=0,
        help="leave the last N joined eras out of training, to validate on them [%(default)s]",
    )
    model = sub.add_argument_group("model (Numerai's example parameters by default)")
    for name, value in EXAMPLE_PARAMS.items():
        model.add_argument(
            "--" + name.replace("_", "-"), type=type(value), default=value, help="[%(default)s]"
        )
    model.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other LightGBM parameter, e.g. --param seed=1 (repeatable)",
    )
    _add_export_options(sub, parity_file=True)
    sub.add_argument(
        "--save-native", type=Path, help="also save the LightGBM model as text (for `check`)"
    )
    sub.set_defaults(run=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Download or locate data → train → parity on a validation/live sample → write the file."""
    if args.own_data is not None:
        return _run_train_own(args)
    own_options = {
        "--features": args.features,
        "--id-column": args.id_column,
        "--holdout-eras": args.holdout_eras,
    }
    stray = [flag for flag, value in own_options.items() if value]
    if stray:
        verb = "go" if len(stray) > 1 else "goes"
        raise CliError(f"{', '.join(stray)} {verb} with --own-data (your own table)")
    progress = not args.quiet
    chosen = tournament(args.tournament)
    plan = spec(chosen)
    target = args.target or plan.target
    era_step = args.era_step or plan.era_step
    feature_set = args.feature_set or plan.feature_set
    parity_file = args.parity_file or plan.parity_file
    args.input_type = args.input_type or tournament_input_type(chosen)
    if args.download:
        version = args.data_version or version_from_path(args.data_dir)
        if version is None:
            version = cli_tournament.data_version_to_download(args, chosen, "train.parquet")
        say(args, f"downloading {chosen.dataset(version, '')} files into {args.data_dir}")
        names = ["train.parquet", parity_file] + (["features.json"] if feature_set else [])
        version_dir = download_files(
            args.data_dir, version, list(dict.fromkeys(names)), tournament=chosen
        )
    else:
        marker = "features.json" if feature_set else plan.marker_file
        version_dir = locate_version_dir(args.data_dir, args.data_version, chosen, marker)
        version = args.data_version or version_from_path(version_dir) or chosen.default_data_version
    train_path = existing(version_dir / "train.parquet", "add --download or fetch train.parquet")
    if feature_set:
        features = read_feature_set(version_dir / "features.json", feature_set)
    else:
        features = cli_tournament.example_features(train_path)
    features, strings = cli_tournament.training_strings(
        args.string_features, features, string_columns(train_path, features)
    )
    parity_path = existing(
        version_dir / parity_file, "pass --parity-file with a file from this data version"
    )

    started = time.perf_counter()
    say(args, f"reading {len(features)} features + {target} of every {era_step}th era")
    data = load_training_data(
        train_path,
        features,
        target,
        era_step=era_step,
        era_column=plan.era_column,
        string_columns=strings,
        dtype=read_dtype(chosen),
        progress=progress,
    )
    say(args, f"read {len(data.target):,} rows in {time.perf_counter() - started:.1f} s")

    booster = _fit(args, data)
    train_eras = sorted({str(era) for era in data.eras}, key=era_sort_key)
    encoding = data.encoding
    del data

    sample = parity_sample(
        args,
        parity_path,
        features,
        extra=(plan.era_column, target),
        string_columns=strings,
        dtype=read_dtype(chosen),
    )
    validation = _validation_figures(
        booster, _native_matrix(sample, features, encoding), sample, parity_path.name, target,
        plan.era_column,
    )  # fmt: skip
    if train_eras:
        validation.update(train_eras=[train_eras[0], train_eras[-1]], train_era_step=era_step)
    result = _export(
        args, wrap(booster, "lightgbm"), sample, features, version, target, validation,
        tournament=chosen.name, encoding=encoding,
    )  # fmt: skip
    _print_result(result, validation)
    return 0


def _run_train_own(args: argparse.Namespace) -> int:
    """The user's table → joined to Numerai's targets → train (holding out the last eras if
    asked) → parity on the table's newest dates → a file that reads own data."""
    if args.feature_set or args.parity_file:
        raise CliError(
            "--feature-set and --parity-file choose Numerai's data; with --own-data the features "
            "are your table's columns (--features) and parity runs on its newest dates"
        )
    chosen = cli_own.tournament_of(args)
    args.input_type = args.input_type or tournament_input_type(chosen)
    target = args.target or DEFAULT_TARGET
    features = cli_own.parse_features(args.features)
    own = cli_own.read_table(args, chosen, features, exclude=(target,))
    version, folder = cli_own.targets_dir(args, chosen, args.data_version)
    joined = cli_own.joined_rows(args, own, chosen, version, folder, target)
    eras = sorted(joined[DATE].unique())
    if args.holdout_eras < 0 or args.holdout_eras >= len(eras):
        raise CliError(
            f"--holdout-eras {args.holdout_eras}: the joined table has {len(eras)} eras; "
            "hold out fewer to leave some to train on"
        )
    kept = len(eras) - args.holdout_eras
    era_step = args.era_step or spec(chosen).era_step
    train_eras = every_nth_era(eras[:kept], era_step)
    data = training_data(joined[joined[DATE].isin(train_eras)], own.features, target)
    say(args, f"training on {len(data.target):,} rows of {len(train_eras)} eras")
    booster = _fit(args, data)
    del data

    sample = rows_table(newest_rows(own, args.parity_rows or None), own.features)
    say(args, f"parity rows: {sample.rows:,} of the newest dates of {own.path.name}")
    validation: dict[str, Any] = {"file": own.path.name, "rows": sample.rows}
    if args.holdout_eras:
        held = rows_table(joined[joined[DATE].isin(eras[kept:])], own.features, target)
        validation = _validation_figures(booster, held.matrix, held, own.path.name, target, DATE)
    validation.update(
        train_eras=[train_eras[0], train_eras[-1]],
        train_era_step=era_step,
        own_data={**own.summary(), "joined_rows": len(joined), "eras": len(eras)},
    )
    result = _export(
        args, wrap(booster, "lightgbm"), sample, own.features, version, target, validation,
        tournament=chosen.name, model_input="own",
    )  # fmt: skip
    _print_result(result, validation)
    return 0


def _fit(args: argparse.Namespace, data: TrainingData) -> Any:
    """The example model (with the command's parameters) fitted on ``data``; saved as text
    (with its string vocabulary) when ``--save-native`` asks."""
    overrides = {name: getattr(args, name) for name in EXAMPLE_PARAMS}
    overrides.update(_parse_params(args.param))
    started = time.perf_counter()
    booster = train_booster(data, overrides, progress=not args.quiet)
    say(
        args,
        f"trained {booster.current_iteration()} trees in {time.perf_counter() - started:.1f} s",
    )
    if args.save_native:
        args.save_native.parent.mkdir(parents=True, exist_ok=True)
        booster.save_model(str(args.save_native))
        say(args, f"saved the native model to {args.save_native}")
        if data.encoding is not None:
            beside = data.encoding.save(sidecar_path(args.save_native))
            say(args, f"saved the string vocabulary to {beside}")
    return booster


# --- export ------------------------------------------------------------------------------


def _add_export(commands: Any) -> None:
    sub = commands.add_parser(
        "export",
        help=COMMANDS["export"],
        description="Export a model file: LightGBM text (booster.save_model) or pickle, "
        "XGBoost .json/.ubj or pickle, CatBoost .cbm, a pickled/joblib scikit-learn estimator "
        "or pipeline, or a PyTorch module (.pt, needs torch). The kind is detected from the "
        "extension or the pickled object; --kind overrides it. The feature order comes from "
        "the model's own names, a features.json feature set, or a feature list file. Parity "
        "is checked on rows of --data; the file is written only if no row changes rank "
        "(or within the tolerances given). With --own-data (Signals, Crypto), parity runs on "
        "your own table's newest dates and the file reads your own data.",
    )
    sub.add_argument("model", type=Path, help="the model file")
    sub.add_argument("--kind", choices=KINDS, help="model library [detected from the file]")
    _add_feature_options(sub)
    rows = sub.add_mutually_exclusive_group(required=True)
    rows.add_argument(
        "--data",
        type=Path,
        help="parquet file with the features (validation.parquet or live.parquet) for parity",
    )
    cli_own.add_own_data(rows, "parity on its newest dates; the file reads your own data")
    cli_own.add_id_column(sub)
    defaults = ", ".join(
        f"{name} {source.default_version(tournament(name))}"
        for name, source in TARGET_SOURCES.items()
    )
    sub.add_argument(
        "--data-version",
        help="Numerai data version [from the --data/--features-json folder; with --own-data: "
        f"the one whose targets it was trained on, {defaults}]",
    )
    cli_tournament.add_tournament_option(
        sub, default=None, detected="the --data file's (or --own-data table's) id column"
    )
    sub.add_argument(
        "--target", help="target it was trained on [target; Crypto: target_binned_return_20]"
    )
    sub.add_argument("--num-iteration", type=int, help="trees/rounds to export [best, else all]")
    cli_tournament.add_string_options(sub, train=False)
    _add_export_options(sub, parity_file=False)
    sub.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Load the model → resolve the feature order → parity on --data → write the file."""
    native = load(args.model, args.kind)
    say(args, f"loaded a {native.kind} model from {args.model}")
    native.refuse_unsupported(args.num_iteration)
    features = graph_feature_order(native, _given_features(args))
    if args.own_data is not None:
        return _run_export_own(args, native, features)
    if args.id_column:
        raise CliError("--id-column goes with --own-data (your own table)")
    chosen = resolve_tournament(args.tournament, args.data)
    args.input_type = args.input_type or tournament_input_type(chosen)
    version = (
        args.data_version
        or version_from_path(args.data)
        or (version_from_path(args.features_json) if args.features_json else None)
    )
    if not version:
        raise CliError(
            "cannot tell the data version from the paths: pass --data-version, e.g. v5.2"
        )
    strings = string_columns(args.data, features)
    encoding = cli_tournament.export_encoding(args, strings)
    sample = parity_sample(
        args, args.data, features, string_columns=strings, dtype=read_dtype(chosen)
    )
    result = _export(
        args, native, sample, features, version, args.target or spec(chosen).target, None,
        args.num_iteration, tournament=chosen.name, encoding=encoding,
    )  # fmt: skip
    _print_result(result, None)
    return 0


def _run_export_own(args: argparse.Namespace, native: NativeModel, features: list[str]) -> int:
    """Parity on the newest dates of the user's table → a file that reads own data."""
    chosen = cli_own.tournament_of(args)
    args.input_type = args.input_type or tournament_input_type(chosen)
    own = cli_own.read_table(args, chosen, features)
    version = args.data_version
    if not version:
        version = target_source(chosen).default_version(chosen)
        say(args, f"recording data version {version} (--data-version if you joined another)")
    sample = rows_table(newest_rows(own, args.parity_rows or None), features)
    result = _export(
        args, native, sample, features, version, args.target or DEFAULT_TARGET,
        {"own_data": own.summary()}, args.num_iteration, tournament=chosen.name,
        model_input="own",
    )  # fmt: skip
    _print_result(result, None)
    return 0


# --- check -------------------------------------------------------------------------------


def _add_check(commands: Any) -> None:
    sub = commands.add_parser(
        "check",
        help=COMMANDS["check"],
        description="Run the ONNX file (feature order from its metadata) and the native "
        "model (any kind `export` reads) on rows of --data and report max abs diff, Spearman "
        "and rows re-ranked for each onnxruntime thread count. Signals/Crypto files are read "
        "as float64, string features fed as strings to the file and as their codes to the "
        "native model. Exit 0 if parity holds, 1 if not.",
    )
    sub.add_argument("onnx_file", type=Path, help="exported .onnx file")
    sub.add_argument("model", type=Path, help="the native model file")
    sub.add_argument("--kind", choices=KINDS, help="model library [detected from the file]")
    sub.add_argument("--data", type=Path, required=True, help="parquet file with the features")
    sub.add_argument(
        "--rows",
        type=int,
        default=DEFAULT_PARITY_ROWS,
        help="rows to sample, 0 for all [%(default)s]",
    )
    sub.add_argument("--num-iteration", type=int, help="[as recorded in the file, else best/all]")
    sub.add_argument(
        "--string-vocabulary",
        type=Path,
        help="the native model's string vocabulary (JSON or train.parquet) [<model>.vocabulary"
        ".json beside the native model, else the one written in the .onnx file]",
    )
    sub.add_argument(
        "--threads",
        default=",".join(map(str, LAMBDA_THREAD_COUNTS)),
        help="onnxruntime thread counts to try, comma separated [%(default)s]",
    )
    add_threshold_options(sub.add_argument_group("parity tolerances"))
    sub.add_argument("--quiet", action="store_true", help="no progress output")
    sub.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Parity of an existing file against the native model; exit code 1 when it fails."""
    metadata = read_metadata(args.onnx_file)
    chosen = resolve_tournament(metadata.tournament, args.data)
    native = load(args.model, args.kind)
    features = list(metadata.features)
    graph_feature_order(native, features)  # same columns, any order
    iterations = native.iterations(args.num_iteration or metadata.parity.get("num_iteration"))
    strings = list(metadata.string_features)
    encoding = cli_tournament.check_encoding(args, args.onnx_file, strings)
    table = read_sample(
        args.data,
        features,
        rows=args.rows or None,
        string_columns=strings,
        dtype=read_dtype(chosen),
        progress=not args.quiet,
    )
    threads = parse_threads(args.threads)
    say(args, f"checking {table.rows:,} rows with onnxruntime threads {list(threads)}")
    report = check_parity(
        str(args.onnx_file),
        table.matrix,
        native_predictions(native, _native_matrix(table, features, encoding), features, iterations),
        thread_counts=threads,
        thresholds=thresholds_from(args),
        strings=table.strings,
    )
    print(report.text())
    return 0 if report.ok else EXIT_PARITY


# --- describe ----------------------------------------------------------------------------


def _add_describe(commands: Any) -> None:
    sub = commands.add_parser(
        "describe",
        help=COMMANDS["describe"],
        description="Print an exported file's signature, tree count and Numerai metadata "
        "(feature list, data version, parity figures) as the worker will read them.",
    )
    sub.add_argument("onnx_file", type=Path, help="exported .onnx file")
    sub.add_argument("--json", action="store_true", help="print everything as JSON")
    sub.add_argument("--features", action="store_true", help="list every feature name")
    sub.set_defaults(run=run_describe)


def run_describe(args: argparse.Namespace) -> int:
    """Print the summary (or JSON); exit 2 when the file's metadata is missing or invalid."""
    if not args.onnx_file.is_file():
        raise CliError(f"{args.onnx_file} does not exist")
    info = describe(args.onnx_file)
    print(json.dumps(info, indent=2) if args.json else render(info, all_features=args.features))
    return EXIT_ERROR if "metadata_error" in info else 0


# --- shared pieces -----------------------------------------------------------------------


def _add_feature_options(sub: argparse.ArgumentParser) -> None:
    group = sub.add_argument_group("feature order (default: the model's own feature names)")
    group.add_argument("--features-json", type=Path, help="Numerai's features.json")
    group.add_argument("--feature-set", help="feature set in --features-json, e.g. medium")
    group.add_argument(
        "--feature-list", type=Path, help="file with the ordered names (JSON list or one a line)"
    )


def _add_export_options(sub: argparse.ArgumentParser, *, parity_file: bool) -> None:
    group = sub.add_argument_group("output and parity")
    group.add_argument("-o", "--output", type=Path, required=True, help="the .onnx file to write")
    group.add_argument("--name", default="", help="model name stored in the metadata")
    if parity_file:
        group.add_argument(
            "--parity-file",
            help="file of the data version whose rows check parity [Classic: validation.parquet; "
            "Signals/Crypto: live.parquet]",
        )
    group.add_argument(
        "--parity-rows",
        type=int,
        default=DEFAULT_PARITY_ROWS,
        help="rows sampled for the parity check, 0 for all [%(default)s]",
    )
    group.add_argument(
        "--input-type",
        choices=("float32", "float64"),
        help="element type of the graph input 'features' [Classic float32 (int8 features); "
        "Signals/Crypto float64]",
    )
    group.add_argument(
        "--precision",
        help="arithmetic of tree graphs: LightGBM double|float32, XGBoost native|double "
        "[the one that reproduces the library: double, XGBoost's native float32 order]",
    )
    add_threshold_options(group)
    group.add_argument(
        "--allow-parity-failure",
        action="store_true",
        help="write the file even if rows change rank (recorded in its metadata)",
    )
    group.add_argument("--quiet", action="store_true", help="no progress output")


def _export(
    args: argparse.Namespace,
    native: NativeModel,
    sample: Table,
    features: Sequence[str],
    version: str,
    target: str,
    validation: dict[str, Any] | None,
    num_iteration: int | None = None,
    *,
    tournament: str = "classic",
    encoding: StringEncoding | None = None,
    model_input: str = "numerai",
) -> ExportResult:
    say(args, f"exporting and checking parity on {sample.rows:,} rows")
    return export_model(
        native,
        sample.matrix,
        tournament=tournament,
        model_input=model_input,
        strings=sample.strings,
        string_encoding=encoding,
        data_version=version,
        feature_names=features,
        num_iteration=num_iteration,
        target=target,
        model_name=args.name,
        validation=validation,
        input_type=args.input_type,
        precision=args.precision,
        thresholds=thresholds_from(args),
        allow_parity_failure=args.allow_parity_failure,
        output=args.output,
    )


def parity_sample(
    args: argparse.Namespace,
    path: Path,
    features: Sequence[str],
    extra: Sequence[str] = (),
    *,
    string_columns: Sequence[str] = (),
    dtype: type[np.floating] = np.float32,
) -> Table:
    """Rows of ``path`` for the parity check (with era/target when the file has them)."""
    available = []
    for column in extra:
        try:
            require_columns(path, [column])
            available.append(column)
        except DataError:
            continue
    rows = args.parity_rows or None
    say(args, f"reading {'all' if rows is None else f'{rows:,}'} rows of {path.name}")
    return read_sample(
        path,
        features,
        rows=rows,
        other_columns=available,
        string_columns=string_columns,
        dtype=dtype,
        progress=not args.quiet,
    )


def _native_matrix(
    table: Table, features: Sequence[str], encoding: StringEncoding | None
) -> np.ndarray:
    """What the native model reads: the numeric columns with the string codes put back."""
    if table.strings is None or encoding is None:
        return table.matrix
    codes = encoding.encode(table.strings, table.string_names)
    return full_matrix(table.matrix, codes, features, table.string_names)


def _validation_figures(
    booster: Any,
    matrix: np.ndarray,
    sample: Table,
    file_name: str,
    target: str,
    era_column: str = "era",
) -> dict[str, Any]:
    """Mean per-era Spearman of the native model on the parity sample, if it has targets."""
    figures: dict[str, Any] = {"file": file_name, "rows": sample.rows}
    if era_column not in sample.columns or target not in sample.columns:
        return figures
    eras = np.asarray(sample.columns[era_column]).astype(str).astype(object)
    labels = np.asarray(sample.columns[target], dtype=np.float64)
    if np.isnan(labels).all():
        return figures
    names = booster.feature_name()
    predictions = native_predict(booster, matrix, names, resolve_num_iteration(booster, None))
    figures.update(
        eras=len(np.unique(eras)),
        mean_era_spearman=round(mean_era_spearman(predictions, labels, eras), 6),
    )
    return figures


def _print_result(result: ExportResult, validation: dict[str, Any] | None) -> None:
    print(result.report.text())
    if validation and "mean_era_spearman" in validation:
        print(
            f"Validation: mean era Spearman {validation['mean_era_spearman']:.4f} on "
            f"{validation['rows']:,} rows ({validation['eras']} eras) of {validation['file']}"
        )
    if not result.report.ok:
        print("WARNING: parity failed; written anyway because of --allow-parity-failure")
    trees = f"{result.num_iteration} trees, " if result.num_iteration is not None else ""
    print(
        f"Wrote {result.path} ({result.size_bytes / 1e6:.2f} MB, {result.metadata.source}, "
        f"{trees}{len(result.metadata.features)} features, data {result.metadata.data_version})"
    )


def _given_features(args: argparse.Namespace) -> list[str] | None:
    if args.feature_list and (args.features_json or args.feature_set):
        raise CliError("pass either --feature-list or --features-json/--feature-set, not both")
    if args.feature_list:
        return read_feature_list(args.feature_list)
    if args.features_json or args.feature_set:
        if not (args.features_json and args.feature_set):
            raise CliError("--features-json and --feature-set go together (e.g. medium)")
        return read_feature_set(args.features_json, args.feature_set)
    return None


def _parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"--param needs KEY=VALUE, got {pair!r}")
        params[key.strip().replace("-", "_")] = _parse_value(raw.strip())
    return params


def _parse_value(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    return raw
