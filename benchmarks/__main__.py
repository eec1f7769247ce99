"""``python -m benchmarks [--quick | --scaling] [--json out.json] [--plot docs/x.png]``.

Prints the report (tables, then PASS/FAIL per target) and writes the raw runs plus the
summary as JSON. Exits 0 even when a target fails: the figures are the output. A part that
crashes (or a side that does not submit every model) is listed at the end and the command
exits 1, after reporting everything else.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from benchmarks.report.plot import plot_growth
from benchmarks.report.render import render
from benchmarks.report.summary import summarize
from benchmarks.suite.launch import REPO, BenchError
from benchmarks.suite.runner import FULL, QUICK, SCALING, run_suite

DEFAULT_PLOT = REPO / "docs" / "benchmarks-growth.png"


def main(argv: list[str] | None = None) -> int:
    """Run the suite and report; 0 when every part ran, 1 when one failed (still reported)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--quick", action="store_true", help="1 and 10 models of each tournament, heavy (CI)"
    )
    which.add_argument(
        "--scaling",
        action="store_true",
        help="the scaling cases only (heavy ensemble, tournaments, sessions; ~10 min): no growth",
    )
    parser.add_argument("--json", type=Path, help="write the figures here [<workdir>/results.json]")
    parser.add_argument("--repeats", type=int, help="runs of each pair (quick 1, full 3)")
    parser.add_argument("--workdir", type=Path, help="keep child logs here [a temp folder]")
    parser.add_argument(
        "--handlers",
        type=Path,
        help="benchmark this copy of handlers/ instead (e.g. a prototype of a core change)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        help=f"growth PNG (full runs; default {DEFAULT_PLOT.relative_to(REPO)}), needs matplotlib",
    )
    parser.add_argument(
        "--previous",
        metavar="REF",
        help="the release to compare with, a git ref [the newest tag, else HEAD~1]",
    )
    parser.add_argument(
        "--input-type",
        choices=("float32", "float64"),
        default="float32",
        help="ONNX input of the published models (model_export --input-type) [%(default)s]",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else SCALING if args.scaling else FULL
    if args.repeats:
        plan = dataclasses.replace(plan, repeats=args.repeats)
    started = time.perf_counter()
    try:  # a failing part is recorded in results["errors"]; this catches set-up failures
        results = run_suite(
            plan,
            args.workdir,
            log=lambda line: print(line, flush=True),
            handlers=args.handlers.resolve() if args.handlers else None,
            input_type=args.input_type,
            previous_ref=args.previous,
        )
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    summary = summarize(results)
    print()
    print(render(results, summary))
    plot = args.plot or (None if args.quick or args.scaling else DEFAULT_PLOT)
    if plot is not None:
        written = plot_growth([("", summary["growth"])], plot)
        print(f"growth plot: {written or 'skipped (matplotlib missing or no growth data)'}")
    out = args.json or Path(results["meta"]["workdir"]) / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"results": results, "summary": summary}, indent=1))
    print(f"figures: {out}; suite took {results['meta']['seconds']:.0f} s")
    for error in results["errors"]:
        print(f"FAILED {error}", file=sys.stderr)
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
