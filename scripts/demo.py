"""Play a round of each tournament locally, end to end, and print what Numerai accepted.

    make demo        # or: PYTHONPATH=handlers:. python -m scripts.demo

Starts moto (S3, DynamoDB, Secrets Manager) and the Numerai stand-in (Classic live data at
real size, 6,720 rows x 2,748 features; Signals and Crypto with their provided features),
trains one small LightGBM model per tournament on data downloaded with numerapi (the newest
data version Numerai lists), exports each to ONNX, publishes them, registers each model's
webhook with setSubmissionWebhook and fires the rounds with triggerModelWebhook: the
stand-in calls our webhook over HTTP, which hands off to the worker. Exits 1 if any model
was not submitted.

With NUMERAI_API_URL (and NUMERAI_PUBLIC_ID / NUMERAI_SECRET_KEY) it plays against that
endpoint instead, with the account's own models (or ``--models name[:tournament] ...``);
the endpoint must be able to reach this machine's webhook: on another machine, through the
public URL given with ``--webhook-url`` (a tunnel to ``--webhook-bind HOST:PORT``; also
DEMO_WEBHOOK_URL and DEMO_WEBHOOK_BIND, e.g. ``make demo DEMO_WEBHOOK_URL=…``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from model_export.cli.program import main as model_export
from numerai_bot.errors import BotError, ConfigError, NumeraiAuthError
from numerai_bot.postprocess.spec import BlendPart, Neutralization, PostProcess
from numerai_bot.tournaments import TOURNAMENTS, Tournament, tournament
from scripts.demo_endpoint import DEFAULT_BIND, keys_refused, webhook_address
from standins.local_bot import LocalBot
from standins.synthetic_data import benchmark_names

# The stand-in's demo account: one model per tournament on Numerai's data, and a Crypto model
# on the participant's own features, computed by a feature function when the round opens.
DEMO_MODELS = {
    "demo_classic": ("classic", "4d1a0b3c-0001-4000-8000-00000000d001"),
    "demo_signals": ("signals", "4d1a0b3c-0002-4000-8000-00000000d002"),
    "demo_crypto": ("crypto", "4d1a0b3c-0003-4000-8000-00000000d003"),
}
# Two Classic models post-processing the Classic model's predictions (docs/post-processing.md):
# one neutralized to the medium feature set, one blended with a benchmark model and with it.
NEUTRAL_MODEL = ("demo_neutral", "4d1a0b3c-0005-4000-8000-00000000d005")
BLEND_MODEL = ("demo_blend", "4d1a0b3c-0006-4000-8000-00000000d006")
OWN_MODEL = "demo_own_crypto"
OWN_MODEL_ID = "4d1a0b3c-0004-4000-8000-00000000d004"
OWN_TABLE = "demo_momentum"


def train(bot: LocalBot, workdir: Path, name: str, which: Tournament, trees: int) -> bytes:
    """Train and export one model with model_export, data downloaded from the endpoint."""
    output = workdir / f"{name}.onnx"
    args = [
        "train",
        "--tournament",
        which.name,
        "--download",
        "--data-dir",
        str(workdir / "training-data"),
        "--n-estimators",
        str(trees),
        "--name",
        name,
        "-o",
        str(output),
        "--quiet",
    ]
    env = {"NUMERAI_API_URL": bot.numerai.api_url}
    previous = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        if model_export(args) != 0:
            raise SystemExit(f"training {name} ({which.name}) failed")
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return output.read_bytes()


def own_data(bot: LocalBot, workdir: Path) -> tuple[Path, Path]:
    """The participant's side of bringing their own data: a price history (synthetic here; a
    data vendor in real life), their features computed from it for every era with targets
    (the training table), and the example feature function from `numerai-bot init`.

    Returns the training table and the price file the feature function reads."""
    from numerai_bot_cli.main import main as numerai_bot
    from standins.synthetic_prices import reference_features, standin_prices, standin_targets

    folder = workdir / "own"
    folder.mkdir(parents=True, exist_ok=True)
    data = workdir / "training-data"  # Numerai's universe and targets, as numerapi saves them
    crypto = tournament("crypto")
    for name in ("live_universe.parquet", "historical_targets.parquet"):
        dataset = crypto.dataset("v1.0", name)
        bot.numerai.download_dataset(dataset, data / dataset, None, crypto)
    prices = standin_prices(data, "crypto")
    prices_path = folder / "prices.parquet"
    prices.to_parquet(prices_path)
    eras = sorted(standin_targets(data, "crypto")["date"].astype(str).unique())
    history = reference_features(prices, eras).dropna()
    history_path = folder / "history.parquet"
    history.to_parquet(history_path, index=False)
    if numerai_bot(["init", "--feature-function", "--features-dir", str(workdir / "features")]):
        raise SystemExit("could not write the example feature function")
    return history_path, prices_path


def train_own(bot: LocalBot, workdir: Path, history: Path, trees: int) -> bytes:
    """Train on the participant's own table joined to Numerai's Crypto targets; export."""
    output = workdir / f"{OWN_MODEL}.onnx"
    args = ["train", "--own-data", str(history), "--download", "--data-dir"]
    args += [str(workdir / "training-data"), "--n-estimators", str(trees), "--name", OWN_MODEL]
    args += ["-o", str(output), "--quiet"]
    previous = os.environ.get("NUMERAI_API_URL")
    os.environ["NUMERAI_API_URL"] = bot.numerai.api_url
    try:
        if model_export(args) != 0:
            raise SystemExit(f"training {OWN_MODEL} on own data failed")
    finally:
        if previous is None:
            os.environ.pop("NUMERAI_API_URL", None)
        else:
            os.environ["NUMERAI_API_URL"] = previous
    return output.read_bytes()


def quiet_logs(path: Path) -> Path:
    """Send the handlers' JSON logs to a file and keep the servers' access logs off screen."""
    import logging

    import webhook
    import worker

    stream = path.open("a")
    for module in (worker, webhook):
        module.logger.registered_handler.setStream(stream)
    for name in ("werkzeug", "numerapi", "standins", "botocore", "boto3", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # powertools prints metrics (EMF) to stdout, where CloudWatch would pick them up; the
    # demo's screen is for the round's table.
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    return path


def parse_models(values: list[str] | None) -> dict[str, Tournament] | None:
    """``name[:tournament]`` arguments (tournament name or number, default Classic)."""
    if not values:
        return None
    chosen: dict[str, Tournament] = {}
    for value in values:
        name, _, which = value.partition(":")
        chosen[name] = tournament(which or None)
    return chosen


def external_models(bot: LocalBot, wanted: dict[str, Tournament] | None) -> dict[str, Tournament]:
    """The account's models (or the chosen ones, checked against the account)."""
    by_id = {t.id: t for t in TOURNAMENTS.values()}
    account = bot.numerai.account_models()
    if wanted is None:
        found = {n: by_id[m.tournament] for n, m in account.items() if m.tournament in by_id}
        if not found:
            raise ConfigError(f"the account at {bot.numerai.api_url} has no models")
        return found
    for name, which in wanted.items():
        model = account.get(name)
        if model is None:
            raise ConfigError(
                f"model {name!r} is not in the account at {bot.numerai.api_url}; its models: "
                f"{', '.join(sorted(account)) or 'none'}"
            )
        if model.tournament != which.id:
            raise ConfigError(
                f"model {name!r} is a tournament-{model.tournament} model, not {which.name}"
            )
    return wanted


def postprocessed(classic_file: bytes) -> dict[str, PostProcess]:
    """The demo's post-processed models, built on the Classic model's file."""
    from numerai_bot.inference import load_model

    version = load_model("demo.onnx", "1", classic_file, threads=1).metadata.data_version
    return {
        NEUTRAL_MODEL[0]: PostProcess(Neutralization(0.5, "medium")),
        BLEND_MODEL[0]: PostProcess(
            blend=(
                BlendPart("benchmark", benchmark_names(version)[0], 0.3),
                BlendPart("model", NEUTRAL_MODEL[0], 0.2),
            )
        ),
    }


def describe(post: PostProcess) -> str:
    """``neutralized 0.5 to medium`` / ``blended with ...`` for the demo's log."""
    if post.neutralization is not None:
        n = post.neutralization
        return f"neutralized {n.proportion:g} to the {n.against!s} feature set, then ranked"
    parts = ", ".join(f"{p.name} ({p.weight:g})" for p in post.blend)
    return f"ranked and blended with {parts}"


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 when every model was submitted and accepted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path(".demo"))
    parser.add_argument("--trees", type=int, default=300, help="trees per demo model")
    parser.add_argument(
        "--models",
        nargs="+",
        metavar="NAME[:TOURNAMENT]",
        help="with NUMERAI_API_URL: which of the account's models to play (default: all)",
    )
    parser.add_argument(
        "--webhook-url",
        default=os.environ.get("DEMO_WEBHOOK_URL"),
        help="with NUMERAI_API_URL on another machine: the public URL reaching this webhook",
    )
    parser.add_argument(
        "--webhook-bind",
        default=os.environ.get("DEMO_WEBHOOK_BIND", DEFAULT_BIND),
        metavar="HOST:PORT",
        help=f"where the webhook listens (default {DEFAULT_BIND}: any free loopback port)",
    )
    args = parser.parse_args(argv)
    external = os.environ.get("NUMERAI_API_URL")
    if external and not (
        os.environ.get("NUMERAI_PUBLIC_ID") and os.environ.get("NUMERAI_SECRET_KEY")
    ):
        print(
            f"error: set NUMERAI_PUBLIC_ID and NUMERAI_SECRET_KEY to play against {external}",
            file=sys.stderr,
        )
        return 2
    try:
        wanted = parse_models(args.models)
        address = webhook_address(external, args.webhook_url, args.webhook_bind)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    started = time.monotonic()
    standin_models = {n: m for n, (_, m) in DEMO_MODELS.items()} | {OWN_MODEL: OWN_MODEL_ID}
    standin_models |= dict([NEUTRAL_MODEL, BLEND_MODEL])
    owners = {n: tournament(t).id for n, (t, _) in DEMO_MODELS.items() if t != "classic"}
    owners[OWN_MODEL] = tournament("crypto").id
    options: dict = {"webhook_bind": address.bind, "webhook_public_url": address.public_url}
    if not external:  # the participant's feature function, run as Lambda runs it
        prices = (args.workdir / "own" / "prices.parquet").resolve()
        options |= {
            "model_tournaments": owners,
            "feature_function": args.workdir / "features",
            "feature_env": {"PRICES_URI": str(prices)},
        }
    try:
        with LocalBot(args.workdir, standin_models, external, **options) as bot:
            log_file = quiet_logs(args.workdir / "bot.log")
            print(f"Numerai API: {bot.numerai.api_url}   AWS (moto): {bot.stack.endpoint_url}")
            print(f"the bot's structured logs go to {log_file}")
            if external:
                models = external_models(bot, wanted)
            else:
                models = {n: tournament(t) for n, (t, _) in DEMO_MODELS.items()}
            trained_files = {}
            for name, which in models.items():
                print(f"training {name} for {which.name} …", flush=True)
                trained_files[name] = train(bot, args.workdir, name, which, args.trees)
                bot.publish(name, trained_files[name])
            if not external:
                for name, post in postprocessed(trained_files["demo_classic"]).items():
                    print(f"publishing {name}: demo_classic's file, {describe(post)}")
                    bot.publish(name, trained_files["demo_classic"], postprocess=post)
                    models[name] = tournament("classic")
                print(f"training {OWN_MODEL} for crypto on its own features …", flush=True)
                history, _ = own_data(bot, args.workdir)
                own_input = {"source": "own", "table": OWN_TABLE, "feature_function": True}
                trained = train_own(bot, args.workdir, history, args.trees)
                bot.publish(OWN_MODEL, trained, model_input=own_input)
                models[OWN_MODEL] = tournament("crypto")
            print(f"published to s3://{bot.stack.bucket}/models; webhook at {bot.webhook_base_url}")
            bot.register_webhooks(list(models))
            triggers = {name: bot.trigger(name) for name in models}
            rounds = {
                which.name: bot.numerai.current_round(which).number
                for which in set(models.values())
            }
            print(f"rounds open: {rounds}; triggered {len(triggers)} webhooks")
            bot.invoker.wait_started(len(triggers))  # Numerai calls the webhooks in the background
            results = bot.invoker.wait(timeout=600)
            return report(bot, models, triggers, results, time.monotonic() - started)
    except NumeraiAuthError as error:
        print(
            f"error: {keys_refused(str(external or 'the stand-in'), str(error))}", file=sys.stderr
        )
        return 2
    except (BotError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def report(
    bot: LocalBot,
    models: dict[str, Tournament],
    triggers: dict[str, str],
    results: list,
    seconds: float,
) -> int:
    """Print Numerai's record of each round's submissions; 1 if any model is missing."""
    account = bot.numerai.account_models()
    print("\nSubmissions recorded by Numerai:")
    print(
        f"{'model':<17}{'tournament':<11}{'input':<8}{'coverage':>9}{'round':>7}{'rows':>7}  "
        f"{'trigger id':<38}{'status':<10}worker s"
    )
    outcomes = {o["model"]: o for r in results if isinstance(r, dict) for o in r["outcomes"]}
    timings = {name: o["seconds"] for name, o in outcomes.items()}
    failures = 0
    for name, trigger_id in triggers.items():
        which = models[name]
        round_number = bot.numerai.current_round(which).number
        found = [
            s
            for s in numerai_submissions(bot, account[name].id, which)
            if s["round"] == round_number
        ]
        outcome = outcomes.get(name, {})
        source = outcome.get("input", "-")
        coverage = "-" if outcome.get("coverage") is None else f"{outcome['coverage']:.0%}"
        lead = f"{name:<17}{which.name:<11}{source:<8}{coverage:>9}"
        if not found:
            failures += 1
            print(f"{lead}{round_number:>7}{'-':>7}  {trigger_id:<38}{'MISSING':<10}")
            if outcome.get("detail"):
                print(f"  {outcome['detail']}")
            continue
        last = found[-1]
        ok = last["status"] == "accepted" and last["trigger_id"] == trigger_id
        failures += not ok
        print(
            f"{lead}{last['round']:>7}{last['rows'] or '-':>7}  "
            f"{last['trigger_id'] or '-':<38}{last['status']:<10}"
            f"{timings.get(name, float('nan')):.2f}"
        )
    for result in results:
        if isinstance(result, Exception):
            print(f"worker error: {result}", file=sys.stderr)
    submitted = len(triggers) - failures
    print(f"\n{submitted} of {len(triggers)} models submitted; demo took {seconds:.1f} s")
    return 1 if failures else 0


def numerai_submissions(bot: LocalBot, model_id: str, which: Tournament) -> list[dict]:
    """The stand-in's full record (rows, status), or Numerai's own list elsewhere."""
    if bot.standin is not None:
        return bot.standin.submissions(bot.standin.state.model_name(model_id))
    return [
        {
            "round": (s.get("round") or {}).get("number"),
            "rows": None,
            "trigger_id": s.get("triggerId"),
            "status": "accepted",
        }
        for s in bot.numerai.submissions(model_id)
        if (s.get("round") or {}).get("tournament") in (None, which.id)
    ]


if __name__ == "__main__":
    sys.exit(main())
