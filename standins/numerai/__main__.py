"""Run the stand-in as a process: ``python -m standins.numerai --port 8765 --data DIR``.

Prints the URL on one line (flushed) once it is serving, then serves until SIGINT/SIGTERM.
Signals and Crypto: ``--model sig@signals --tournament-round 11=700
--tournament-live-rows 11=300``; ``--tournament-versions 12=v1.0`` serves only Crypto's
universe and targets (a new user's view), ``12=v1.0,v2.0`` both (the default).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Mapping, Sequence

from standins import synthetic_data
from standins.numerai import tournaments
from standins.numerai.app import DEFAULT_PUBLIC_ID, DEFAULT_ROUND, DEFAULT_SECRET_KEY, model_id_for
from standins.numerai.provided_data import TournamentSizes
from standins.numerai.server import NumeraiStandin


def parse_models(items: Sequence[str]) -> dict[str, str] | None:
    """``name[=uuid][@tournament]`` (a stable id is derived) -> {name: id}; none -> default."""
    if not items:
        return None
    models = {}
    for item in items:
        name, _, model_id = item.split("@", 1)[0].partition("=")
        models[name] = model_id or model_id_for(name)
    return models


def parse_model_tournaments(items: Sequence[str]) -> dict[str, str]:
    """The ``@tournament`` part of ``--model`` items: {name: tournament}."""
    owners = {}
    for item in items:
        spec, at, tournament = item.partition("@")
        if at:
            owners[spec.partition("=")[0]] = tournament
    return owners


def parse_pairs(items: Sequence[str]) -> dict[int, int]:
    """``TOURNAMENT=N`` items (``11=700``) -> {11: 700}."""
    pairs = {}
    for item in items:
        tournament, _, value = item.partition("=")
        pairs[int(tournament)] = int(value)
    return pairs


def parse_versions(items: Sequence[str]) -> dict[int, tuple[str, ...]]:
    """``TOURNAMENT=VERSION[,VERSION]`` items (``12=v1.0``, ``crypto=v1.0``) -> {12: ("v1.0",)}."""
    versions = {}
    for item in items:
        tournament, _, value = item.partition("=")
        number = tournaments.spec_for(tournament.strip()).id
        versions[number] = tuple(v.strip() for v in value.split(",") if v.strip())
    return versions


def tournament_sizes(
    live_rows: Mapping[int, int], versions: Mapping[int, tuple[str, ...]]
) -> dict[int, TournamentSizes]:
    """Signals' and Crypto's sizes from the command line's live rows and versions."""
    return {
        number: TournamentSizes(live_rows=live_rows.get(number), versions=versions.get(number, ()))
        for number in sorted(set(live_rows) | set(versions))
    }


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
        metavar="NAME[=UUID][@TOURNAMENT]",
        help="an account model (repeatable; @11 or @signals for Signals, @12 or @crypto for "
        "Crypto, default Classic); default demo_model, demo_model_2",
    )
    parser.add_argument(
        "--tournament-round",
        action="append",
        default=[],
        metavar="TOURNAMENT=N",
        help="first round of Signals (11, default 700) or Crypto (12, default 300)",
    )
    parser.add_argument(
        "--tournament-live-rows",
        action="append",
        default=[],
        metavar="TOURNAMENT=N",
        help="live rows of Signals (11, default 5000) or Crypto (12, default 500)",
    )
    parser.add_argument(
        "--tournament-versions",
        action="append",
        default=[],
        metavar="TOURNAMENT=VERSION[,VERSION]",
        help="data versions served: Crypto (12) has v2.0 (features) and v1.0 (universe and "
        "targets only), both by default; 12=v1.0 is a new user's view",
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
        model_tournaments=parse_model_tournaments(args.model),
        tournament_rounds=parse_pairs(args.tournament_round),
        tournament_sizes=tournament_sizes(
            parse_pairs(args.tournament_live_rows), parse_versions(args.tournament_versions)
        ),
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
