"""Play a whole round locally, end to end, and print what Numerai's stand-in accepted.

    make demo        # or: PYTHONPATH=handlers:. python -m scripts.demo

Starts moto (S3, DynamoDB, Secrets Manager) and the Numerai stand-in (real-size live data,
6,720 rows x 2,748 features), trains two small LightGBM models on synthetic data
downloaded with numerapi, exports them to ONNX, publishes them, registers each model's
webhook with setSubmissionWebhook and fires the round with triggerModelWebhook: the
stand-in calls our webhook over HTTP, which hands off to the worker. Exits 1 if any model
was not submitted. With NUMERAI_API_URL (and NUMERAI_PUBLIC_ID / NUMERAI_SECRET_KEY) it
plays against that endpoint instead; it must be able to reach this machine's webhook.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from model_export.cli import main as model_export
from standins.local_bot import LocalBot

MODELS = {
    "demo_small": ("small", "4d1a0b3c-0001-4000-8000-00000000d001"),
    "demo_medium": ("medium", "4d1a0b3c-0002-4000-8000-00000000d002"),
}


def train(bot: LocalBot, workdir: Path, name: str, feature_set: str, trees: int) -> bytes:
    """Train and export one model with model_export, data downloaded from the endpoint."""
    output = workdir / f"{name}.onnx"
    args = [
        "train",
        "--download",
        "--data-dir",
        str(workdir / "training-data"),
        "--data-version",
        "v5.2",
        "--feature-set",
        feature_set,
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
            raise SystemExit(f"training {name} failed")
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
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


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 when every model was submitted and accepted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path(".demo"))
    parser.add_argument("--trees", type=int, default=300, help="trees per demo model")
    args = parser.parse_args(argv)
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    started = time.monotonic()
    external = os.environ.get("NUMERAI_API_URL")
    with LocalBot(args.workdir, {n: m for n, (_, m) in MODELS.items()}, external) as bot:
        log_file = quiet_logs(args.workdir / "bot.log")
        print(f"Numerai API: {bot.numerai.api_url}   AWS (moto): {bot.stack.endpoint_url}")
        print(f"the bot's structured logs go to {log_file}")
        for name, (feature_set, _) in MODELS.items():
            print(f"training {name} on the {feature_set} feature set …", flush=True)
            bot.publish(name, train(bot, args.workdir, name, feature_set, args.trees))
        print(f"published to s3://{bot.stack.bucket}/models; webhook at {bot.webhook_base_url}")
        bot.register_webhooks(list(MODELS))
        triggers = {name: bot.trigger(name) for name in MODELS}
        print(f"round {bot.numerai.current_round().number}: triggered {len(triggers)} webhooks")
        bot.invoker.wait_started(len(triggers))  # Numerai calls the webhooks in the background
        results = bot.invoker.wait(timeout=600)
        return report(bot, triggers, results, time.monotonic() - started)


def report(bot: LocalBot, triggers: dict[str, str], results: list, seconds: float) -> int:
    """Print Numerai's record of the round's submissions; 1 if any model is missing."""
    round_number = bot.numerai.current_round().number
    ids = bot.numerai.model_ids()
    print(f"\nSubmissions recorded by Numerai for round {round_number}:")
    print(f"{'model':<14}{'round':>7}{'rows':>7}  {'trigger id':<38}{'status':<10}worker s")
    timings = {
        o["model"]: o["seconds"] for r in results if isinstance(r, dict) for o in r["outcomes"]
    }
    failures = 0
    for name, trigger_id in triggers.items():
        found = [s for s in numerai_submissions(bot, ids[name]) if s["round"] == round_number]
        if not found:
            failures += 1
            print(f"{name:<14}{round_number:>7}{'-':>7}  {trigger_id:<38}{'MISSING':<10}")
            continue
        last = found[-1]
        ok = last["status"] == "accepted" and last["trigger_id"] == trigger_id
        failures += not ok
        print(
            f"{name:<14}{last['round']:>7}{last['rows'] or 0:>7}  {last['trigger_id'] or '-':<38}"
            f"{last['status']:<10}{timings.get(name, float('nan')):.2f}"
        )
    for result in results:
        if isinstance(result, Exception):
            print(f"worker error: {result}", file=sys.stderr)
    submitted = len(triggers) - failures
    print(f"\n{submitted} of {len(triggers)} models submitted; demo took {seconds:.1f} s")
    return 1 if failures else 0


def numerai_submissions(bot: LocalBot, model_id: str) -> list[dict]:
    """The stand-in's full record (rows, status), or Numerai's own list elsewhere."""
    if bot.standin is not None:
        return bot.standin.submissions(bot.standin.state.model_name(model_id))
    return [
        {
            "round": s["round"]["number"],
            "rows": None,
            "trigger_id": s.get("triggerId"),
            "status": "accepted",
        }
        for s in bot.numerai.submissions(model_id)
    ]


if __name__ == "__main__":
    sys.exit(main())
