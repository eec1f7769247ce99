"""``ensemble``, ``validate``, ``publish`` and ``rollback``: from exported files to the bucket.

Why separate from :mod:`model_export.cli.convert`: these steps work on ``.onnx`` files (not on
native models) and on the model store; keeping them here keeps each CLI module to one stage.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from model_export import validate
from model_export.cli import own as cli_own
from model_export.cli.commands import COMMANDS
from model_export.cli.common import (
    CliError,
    add_threshold_options,
    parse_weights,
    say,
    thresholds_from,
)
from model_export.data import Table
from model_export.ensemble import ensemble_files
from model_export.export import save_model
from model_export.metadata import read_metadata, write_metadata
from model_export.parity import ParityError
from model_export.publish import publish, rollback
from model_export.validate import validate_file
from numerai_bot.adapters.model_store import open_model_store
from numerai_bot.errors import ConfigError
from numerai_bot.model_input import MISSING_POLICIES, SOURCES
from numerai_bot.models_config import TRANSFORMS
from numerai_bot.postprocess.spec import Neutralization, parse_postprocess
from numerai_bot.tournaments import TOURNAMENTS

SampleReader = Callable[[argparse.Namespace, Path, Sequence[str]], Table]
SYNTHETIC_ROWS = 5_000


def add_commands(commands: Any, read_sample: SampleReader) -> None:
    """Register the four subcommands; ``read_sample`` reads parity rows (from the main CLI)."""
    _add_ensemble(commands, read_sample)
    _add_validate(commands)
    _add_publish(commands)
    _add_rollback(commands)


# --- ensemble ----------------------------------------------------------------------------


def _add_ensemble(commands: Any, read_sample: SampleReader) -> None:
    sub = commands.add_parser(
        "ensemble",
        help=COMMANDS["ensemble"],
        description="Run several exported models side by side in one ONNX graph on the union "
        "of their feature lists and add their outputs with weights, in double. With "
        "--rank-before-average each member's output is first turned into percentile ranks "
        "over the rows of the call (exactly as pandas/numerai-tools rank). Parity: the graph "
        "against the same ensemble computed in NumPy from the members' outputs.",
    )
    sub.add_argument("members", type=Path, nargs="+", help="exported .onnx files")
    sub.add_argument(
        "--weights", help="comma-separated weights, one per file [equal, summing to 1]"
    )
    sub.add_argument(
        "--rank-before-average",
        action="store_true",
        help="rank each member's predictions (per call, i.e. per era) before the weighted sum",
    )
    sub.add_argument("-o", "--output", type=Path, required=True, help="the .onnx file to write")
    sub.add_argument("--name", default="", help="model name stored in the metadata")
    sub.add_argument(
        "--data",
        type=Path,
        help=f"parquet file with the features for the parity check [{SYNTHETIC_ROWS:,} "
        "synthetic rows of values 0-4 with some NaN]",
    )
    sub.add_argument(
        "--parity-rows", type=int, default=10_000, help="rows read from --data [%(default)s]"
    )
    sub.add_argument(
        "--input-type",
        choices=("float32", "float64"),
        help="element type of the input [float64 if a member takes it, else float32]",
    )
    add_threshold_options(sub.add_argument_group("parity tolerances"))
    sub.add_argument(
        "--allow-parity-failure", action="store_true", help="write the file even if parity fails"
    )
    sub.add_argument("--quiet", action="store_true", help="no progress output")
    sub.set_defaults(run=lambda args: run_ensemble(args, read_sample))


def run_ensemble(args: argparse.Namespace, read_sample: SampleReader) -> int:
    """Combine → parity against NumPy → write (refused when parity fails)."""
    weights = parse_weights(args.weights, len(args.members))
    for path in args.members:
        if not path.is_file():
            raise CliError(f"{path} does not exist")

    def rows_for(features: Sequence[str]) -> np.ndarray:
        if args.data is not None:
            return read_sample(args, args.data, features).matrix
        say(args, f"checking parity on {SYNTHETIC_ROWS:,} synthetic rows (no --data given)")
        return synthetic_rows(len(features))

    model, report = ensemble_files(
        args.members,
        weights,
        rows_for,
        rank_before_average=args.rank_before_average,
        model_name=args.name,
        input_type=args.input_type,
        thresholds=thresholds_from(args),
    )
    print(report.text())
    if not report.ok and not args.allow_parity_failure:
        raise ParityError(report)
    path = save_model(model, args.output)
    print(
        f"Wrote {path} ({model.ByteSize() / 1e6:.2f} MB, {len(args.members)} members, "
        f"weights {weights}, {len(read_metadata(path).features)} features"
        + (", ranked before averaging)" if args.rank_before_average else ")")
    )
    return 0


def synthetic_rows(width: int, rows: int = SYNTHETIC_ROWS, seed: int = 0) -> np.ndarray:
    """Numerai-like rows (integers 0-4 as float32, 1 % NaN) for checks without data."""
    rng = np.random.default_rng(seed)
    matrix = rng.integers(0, 5, size=(rows, width)).astype(np.float32)
    matrix[rng.random(matrix.shape) < 0.01] = np.nan
    return matrix


# --- validate ----------------------------------------------------------------------------


def _add_validate(commands: Any) -> None:
    sub = commands.add_parser(
        "validate",
        help=COMMANDS["validate"],
        description="Run the file era by era on validation data and score each era with "
        "numerai-tools: CORR (numerai_corr), MMC against the meta model, BMC against a "
        "benchmark model (Classic's meta_model.parquet and validation_benchmark_models.parquet "
        "beside --data), feature-neutral CORR and max feature exposure; report each one's "
        "mean, standard deviation, Sharpe and max drawdown, before and (--neutralize) after "
        "the model's own neutralization, and plot the cumulative scores. Warns when training "
        "eras recorded in the file overlap the validation eras. With --own-data: your own "
        "table joined to Numerai's targets of the file's data version by date and id, "
        "era = date.",
    )
    sub.add_argument("onnx_file", type=Path, help="exported .onnx file")
    rows = sub.add_mutually_exclusive_group(required=True)
    rows.add_argument("--data", type=Path, help="validation.parquet")
    cli_own.add_own_data(rows, "score the file on it, joined to Numerai's targets")
    own = sub.add_argument_group("own data (with --own-data)")
    cli_own.add_id_column(own)
    cli_own.add_target_options(own)
    sub.add_argument("--target", help="target column [the one recorded in the file]")
    numerai = sub.add_argument_group("Numerai's metrics (with --data)")
    numerai.add_argument(
        "--meta-model",
        type=Path,
        help=f"the meta model's predictions for MMC [{validate.META_MODEL_FILE} beside --data]",
    )
    numerai.add_argument(
        "--benchmarks",
        type=Path,
        help=f"benchmark models' predictions for BMC [{validate.BENCHMARK_FILE} beside --data]",
    )
    numerai.add_argument("--benchmark", help="the benchmark column for BMC [the file's first]")
    numerai.add_argument(
        "--neutralize",
        metavar="JSON",
        help="the model's neutralization as in models.json, e.g. "
        '\'{"proportion": 0.5, "against": "medium"}\': also score the predictions after it',
    )
    sub.add_argument("--era-step", type=int, default=1, help="score every Nth era [1]")
    sub.add_argument("--max-eras", type=int, help="only the last N eras")
    sub.add_argument(
        "--plot", type=Path, help="PNG to write [<onnx file without .onnx>.validation.png]"
    )
    sub.add_argument("--no-plot", action="store_true", help="do not draw the PNG")
    sub.add_argument(
        "--record",
        action="store_true",
        help="store the figures in the file's metadata (validation), rewriting the file",
    )
    sub.add_argument("--json", action="store_true", help="print the figures as JSON")
    sub.add_argument("--quiet", action="store_true", help="no progress output")
    sub.set_defaults(run=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    """Score, print, plot and optionally record."""
    if not args.onnx_file.is_file():
        raise CliError(f"{args.onnx_file} does not exist")
    plot = None if args.no_plot else (args.plot or args.onnx_file.with_suffix(".validation.png"))
    if args.own_data is not None:
        given = [
            o for o in ("meta_model", "benchmarks", "benchmark", "neutralize") if getattr(args, o)
        ]
        if given:
            raise CliError(
                f"--{given[0].replace('_', '-')} works with --data (Numerai's validation file); "
                "your own rows have no meta model or benchmark ids"
            )
        result = cli_own.validate_own(args, plot)
        data_name = args.own_data.name
    else:
        if read_metadata(args.onnx_file).input == "own":
            raise CliError(
                f"{args.onnx_file} reads your own data (its metadata says numerai.input own): "
                "validate it with --own-data FILE.parquet"
            )
        result = validate_file(
            args.onnx_file,
            args.data,
            target=args.target,
            era_step=args.era_step,
            max_eras=args.max_eras,
            plot=plot,
            progress=not args.quiet,
            references=validate.read_references(
                args.data,
                meta_model=args.meta_model,
                benchmark_models=args.benchmarks,
                benchmark=args.benchmark,
            ),
            neutralization=_neutralization(args.neutralize),
        )
        data_name = args.data.name
    figures = result.figures(data_name)
    if args.json:
        per_era = {
            variant: {
                name: dict(zip(result.eras, _json_floats(values), strict=True))
                for name, values in metrics.items()
            }
            for variant, metrics in result.per_era.items()
        }
        print(json.dumps({**figures, "per_era": per_era}, indent=2))
    else:
        print(result.text())
    if plot is not None:
        say(args, f"plot written to {plot}")
    if args.record:
        import onnx

        model = onnx.load(str(args.onnx_file))
        metadata = read_metadata(args.onnx_file)
        merged = {**metadata.validation, "numerai_corr": figures}
        write_metadata(model, type(metadata)(**{**metadata.__dict__, "validation": merged}))
        save_model(model, args.onnx_file)
        say(args, f"recorded the figures in {args.onnx_file}")
    return 0


def _neutralization(text: str | None) -> Neutralization | None:
    """``--neutralize``'s JSON, checked as models.json's ``neutralize`` value is."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise CliError(
            f"--neutralize is not JSON ({error}): e.g. '{{\"proportion\": 0.5}}'"
        ) from None
    try:
        return parse_postprocess("--neutralize", {"neutralize": value}, "rank").neutralization
    except ConfigError as error:
        raise CliError(str(error)) from None


def _json_floats(values: Any) -> list[float | None]:
    """Per-era values for JSON: NaN (no figure that era) as null."""
    return [float(v) if v == v else None for v in values]


# --- publish / rollback ------------------------------------------------------------------


def _add_store_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--model", required=True, help="the Numerai model name")
    sub.add_argument(
        "--store", required=True, help="s3://bucket/prefix or a local folder (the model store)"
    )


def _add_publish(commands: Any) -> None:
    sub = commands.add_parser(
        "publish",
        help=COMMANDS["publish"],
        description="Check the file loads with its metadata, archive the file it replaces "
        "(<model>.onnx.<timestamp>, listed in <model>.onnx.history.json), upload it with its "
        "SHA-256 and point models.json at it. The entry's input is the file's own "
        "(numerai.input: own data or Numerai's live file), keeping the model's current "
        "settings; a file exported for other data than the entry gives it is refused.",
    )
    sub.add_argument("onnx_file", type=Path, help="exported .onnx file")
    _add_store_options(sub)
    sub.add_argument("--transform", default="rank", choices=TRANSFORMS, help="[%(default)s]")
    sub.add_argument(
        "--tournament",
        choices=tuple(TOURNAMENTS),
        help="refuse the file unless its metadata names this tournament; models.json records "
        "the file's own tournament, and a file of another tournament than the model's "
        "existing entry is always refused",
    )
    sub.add_argument(
        "--allow-failed-parity",
        action="store_true",
        help="publish a file whose metadata records a failed parity check",
    )
    add_input_options(sub.add_argument_group("input (models.json 'input'; docs/own-data.md)"))
    sub.set_defaults(run=run_publish)


def add_input_options(group: Any) -> None:
    """``--input`` and the own-data options of ``publish`` (every front end's)."""
    group.add_argument(
        "--input",
        choices=SOURCES,
        help="what the worker feeds the model: Numerai's live file or your own table; must be "
        "what the file was exported for [the model's current input, else the file's]",
    )
    group.add_argument(
        "--table", help="own data: the table's name in the bucket [the model's name]"
    )
    group.add_argument(
        "--id-column", help="own data: the table's id column [the first accepted one present]"
    )
    group.add_argument(
        "--missing",
        choices=MISSING_POLICIES,
        help="own data: universe ids the table lacks are fed as NaN or left out [nan]",
    )
    group.add_argument(
        "--feature-function",
        action="store_true",
        help="own data: the stack's feature function computes the table",
    )


def input_setting(args: argparse.Namespace) -> str | dict[str, Any] | None:
    """The ``input`` the publish options ask for, as in models.json (None: not asked); any
    own-data option means own data."""
    own = {
        "table": args.table,
        "id_column": args.id_column,
        "missing": args.missing,
        "feature_function": args.feature_function or None,
    }
    own = {key: value for key, value in own.items() if value is not None}
    if not own:
        return args.input
    return {"source": args.input or "own", **own}


def run_publish(args: argparse.Namespace) -> int:
    """Publish with history; refuses files exported with a failed parity check."""
    if not args.onnx_file.is_file():
        raise CliError(f"{args.onnx_file} does not exist")
    metadata = read_metadata(args.onnx_file)
    if metadata.parity.get("ok") is False and not args.allow_failed_parity:
        raise CliError(
            f"{args.onnx_file} was exported although parity failed "
            f"({metadata.parity.get('rows_reranked')} rows re-ranked): pass "
            "--allow-failed-parity to publish it anyway"
        )
    store = open_model_store(args.store)
    done = publish(
        store,
        args.model,
        args.onnx_file.read_bytes(),
        args.transform,
        tournament=args.tournament,
        model_input=input_setting(args),
    )
    read = done.entry.input
    print(
        f"Published {args.onnx_file} as {done.entry.artifact} for {args.model} in {store.uri} "
        f"(sha256 {done.sha256[:16]}…, transform {done.entry.transform}, "
        f"{done.entry.tournament.name} data {done.entry.data_version}, input "
        + (f"own table {read.table!r})" if read.own else "Numerai's live file)")
    )
    if done.archived:
        print(f"Previous file kept as {done.archived}; `rollback` restores it")
    return 0


def _add_rollback(commands: Any) -> None:
    sub = commands.add_parser(
        "rollback",
        help=COMMANDS["rollback"],
        description="Publish the newest archived version again (after checking its SHA-256) "
        "and drop it from the history; repeat to go further back.",
    )
    _add_store_options(sub)
    sub.set_defaults(run=run_rollback)


def run_rollback(args: argparse.Namespace) -> int:
    """Roll back one version."""
    store = open_model_store(args.store)
    done = rollback(store, args.model)
    print(
        f"Rolled {args.model} back in {store.uri}: {done.entry.artifact} is now sha256 "
        f"{done.sha256[:16]}… ({done.history} older version(s) left)"
    )
    return 0
