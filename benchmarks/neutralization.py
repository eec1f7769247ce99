"""Cost of neutralizing one live era, the worker's way: time and peak memory.

``PYTHONPATH=handlers:. .venv/bin/python -m benchmarks.neutralization [--rows 6720 67200]
[--features 2748] [--repeats 3] [--oracle]``

Each case runs in a fresh process: it builds the live matrix the worker holds
(``LiveData.features``: int8 values 0-4, five features with 1 % missing, as in the
stand-in's data) and raw predictions, then measures what the ``neutralize`` step adds
(:meth:`numerai_bot.postprocess.live_era.LiveEra.neutralizers`' least-squares matrix, then
``neutralize_design``): median wall seconds of ``repeats`` runs,
and the growth of the process' peak RSS over the inputs. ``--oracle`` also times
numerai-tools' ``neutralize`` on the era's complete rows (pandas frames, as Numerai's
scoring drops rows with a missing value) and prints the largest difference there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

GAPPY_FEATURES = 5  # standins.synthetic_data.NULL_FEATURE_COUNT
MISSING_SHARE = 0.01  # standins.synthetic_data.NULL_RATE


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(rows: int, features: int, repeats: int, oracle: bool) -> dict:
    """One case in this process (run by :func:`main` in a child)."""
    from numerai_bot.live_data import MISSING, FeatureMatrix
    from numerai_bot.postprocess.neutralize import Neutralizers, neutralize_design

    rng = np.random.default_rng(0)
    values = np.empty((rows, features), dtype=np.int8)
    for first in range(0, rows, 1024):  # in blocks: no full-size temporary inflates the peak
        block = rng.integers(0, 5, size=(min(1024, rows - first), features), dtype=np.int8)
        gaps = block[:, -GAPPY_FEATURES:]  # a few features with gaps, as in the stand-in's data
        gaps[rng.random(gaps.shape) < MISSING_SHARE] = MISSING
        values[first : first + len(block)] = block
    matrix = FeatureMatrix(values, True)
    predictions = values[:, :20].astype(np.float64) @ rng.normal(size=20) + rng.normal(size=rows)
    before = _peak_mib()

    def run() -> np.ndarray:
        # LiveEra.neutralizers, on the matrix it would get from LiveData.features
        design = np.empty((rows, features + 1), dtype=np.float64)
        for first, block in matrix.batches(np.float64):
            design[first : first + len(block), :features] = block
        design[:, features] = 1.0
        return neutralize_design(predictions, Neutralizers.from_design(design), 1.0)

    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        ours = run()
        timings.append(time.perf_counter() - started)
    result = {
        "rows": rows,
        "features": features,
        "seconds": statistics.median(timings),
        "inputs_mib": before,
        "added_peak_mib": _peak_mib() - before,
    }
    if oracle:
        import pandas as pd
        from numerai_tools.scoring import neutralize

        # Numerai's scoring drops the rows with a missing value; ours agree on the others.
        exposures = matrix.dense(np.float64)
        complete = ~np.isnan(exposures).any(axis=1)
        frame = pd.DataFrame(exposures[complete])
        started = time.perf_counter()
        theirs = neutralize(pd.DataFrame({"p": predictions[complete]}), frame, 1.0)["p"]
        result["oracle_seconds"] = time.perf_counter() - started
        difference = np.abs(ours[complete] - theirs.to_numpy())
        result["max_abs_difference"] = float(np.max(difference))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.neutralization")
    parser.add_argument("--rows", type=int, nargs="+", default=[6_720, 67_200])
    parser.add_argument("--features", type=int, default=2_748)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--oracle", action="store_true", help="also time numerai-tools")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        case = json.loads(args.child)
        print(json.dumps(measure(**case)))
        return 0
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python "
        f"{platform.python_version()}, numpy {np.__version__}"
    )
    for rows in args.rows:
        case = {
            "rows": rows,
            "features": args.features,
            "repeats": args.repeats,
            "oracle": args.oracle,
        }
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.neutralization", "--child", json.dumps(case)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        line = (
            f"{r['rows']:>7,} rows x {r['features']:,} features: {r['seconds']:.2f} s "
            f"(median of {args.repeats}), peak RSS +{r['added_peak_mib']:,.0f} MiB over "
            f"the inputs ({r['inputs_mib']:,.0f} MiB)"
        )
        if "oracle_seconds" in r:
            line += (
                f"; numerai-tools {r['oracle_seconds']:.2f} s, max |difference| "
                f"{r['max_abs_difference']:.1e}"
            )
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
