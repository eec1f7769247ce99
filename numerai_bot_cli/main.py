"""``numerai-bot``: set up, run and watch the Numerai submission bot from one command.

Each subcommand lives in ``numerai_bot_cli/commands/`` with a ``register(commands)`` that
adds its parser and a ``run(args) -> int``. Errors the operator can act on are
:class:`CliError` (one message, one next step, exit 1); a traceback means a bug.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from numerai_bot_cli.commands import (
    deploy,
    doctor,
    init,
    keys,
    logs,
    models,
    plan,
    put_live,
    status,
    trigger,
    webhooks,
)
from numerai_bot_cli.errors import CliError

PROG = "numerai-bot"
EPILOG = """\
a first deployment, in order:
  numerai-bot init --models my_model      write numerai-bot.toml
  numerai-bot export ... -o my_model.onnx  (or train) an ONNX file per model
  numerai-bot deploy                       sam build + sam deploy --guided
  numerai-bot put-keys                     your Numerai API keys into the stack's secret
  numerai-bot publish                      the ONNX files into the stack's bucket
  numerai-bot register-webhooks            Numerai calls the stack when a round opens
  numerai-bot trigger my_model             a test round, end to end
then: numerai-bot status [--plot scores.png], numerai-bot logs --round N
own data (Signals, Crypto): numerai-bot put-live FILE --model NAME, or a feature function
  written by numerai-bot init --feature-function (docs/own-data.md)

`numerai-bot COMMAND --help` explains each command. AWS calls use your AWS credentials and
honour AWS_ENDPOINT_URL; Numerai calls honour NUMERAI_API_URL (both for local stand-ins).
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser with every command, model_export's included."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Operate the serverless Numerai submission bot: configure, export, deploy, "
        "store keys, publish models, register webhooks, test, and watch its rounds.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    init.register(commands)
    models.register(commands)
    deploy.register(commands)
    keys.register(commands)
    webhooks.register(commands)
    doctor.register(commands)
    trigger.register(commands)
    status.register(commands)
    logs.register(commands)
    plan.register(commands)
    put_live.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in models.PASSTHROUGH:
        return models.passthrough(argv)
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
