"""Run the stand-in as a process: ``python -m standins.numerai --port 8765 --data DIR``.

Prints the URL on one line (flushed) once it is serving, then serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from standins import synthetic_data
from standins.numerai.server import (
    DEFAULT_PUBLIC_ID,
    DEFAULT_ROUND,
    DEFAULT_SECRET_KEY,
    NumeraiStandin,
    model_id_for,
)


def parse_models(items: Sequence[str]) -> dict[str, str] | None:
    """``name=uuid`` or just ``name`` (a stable id is derived) -> {name: id}; none -> default."""
    if not items:
        return None
    models = {}
    for item in items:
        name, _, model_id = item.partition("=")
        models[name] = model_id or model_id_for(name)
    return models


def build_parser() -> argparse.ArgumentParser:
    """Command-line options; sizes default to Numerai's real live size."""
    parser = argparse.ArgumentParser(prog="python -m standins.numerai", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--data", required=True, help="data folder (generated if missing)")
    parser.add_argument("--versions", nargs="+", default=["v5.2"], metavar="VERSION")
    parser.add_argument("--public-id", default=DEFAULT_PUBLIC_ID)
    parser.add_argument("--secret-key", default=DEFAULT_SECRET_KEY)
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME[=UUID]",
        help="an account model (repeatable); default demo_model, demo_model_2",
    )
    parser.add_argument("--round", type=int, default=DEFAULT_ROUND, dest="round_number")
    parser.add_argument("--closed", action="store_true", help="start between rounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--live-rows", type=int, default=synthetic_data.LIVE_ROWS)
    parser.add_argument("--n-features", type=int, default=synthetic_data.FEATURE_SET_SIZES["all"])
    parser.add_argument("--train-eras", type=int, default=60)
    parser.add_argument("--validation-eras", type=int, default=20)
    parser.add_argument("--rows-per-era", type=int, default=100)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Start the stand-in, print its URL, serve until asked to stop."""
    args = build_parser().parse_args(argv)
    standin = NumeraiStandin(
        args.data,
        args.versions,
        host=args.host,
        port=args.port,
        public_id=args.public_id,
        secret_key=args.secret_key,
        models=parse_models(args.model),
        round_number=args.round_number,
        round_open=not args.closed,
        seed=args.seed,
        live_rows=args.live_rows,
        n_features=args.n_features,
        train_eras=args.train_eras,
        validation_eras=args.validation_eras,
        rows_per_era=args.rows_per_era,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with standin:
        print(standin.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
