"""``numerai-bot doctor``: prove a deployment before a round, one ✓ / ✗ line per fact.

The checks live in ``numerai_bot_cli/doctor/``, each registered with what it proves and
the next step when it fails (:mod:`numerai_bot_cli.doctor.core`); this module only parses
the options, runs them all and prints. Exit 1 when any line is ✗ (broken), else 0: ✓, !
(passes with a warning) and ? (not yet, e.g. a new stack before its first round, or not
verified) are not broken.
"""

from __future__ import annotations

import argparse
from typing import Any

from numerai_bot_cli.common import (
    build_context,
    config_options,
    numerai_options,
    say,
    stack_options,
)
from numerai_bot_cli.doctor import aws, ledger, model_files, numerai, own_data, webhooks
from numerai_bot_cli.doctor.core import CHECKS, exit_code, render_json, render_text, run_checks
from numerai_bot_cli.doctor.env import DoctorEnv, Probes

# The check modules register themselves on import; named here so the import is not unused.
CHECK_MODULES = (numerai, webhooks, model_files, aws, ledger, own_data)
# What the checks ask the outside world; tests replace it (see doctor.env.Probes).
PROBES = Probes()


def register(commands: Any) -> None:
    """Add the subcommand."""
    listing = "\n".join(
        f"  {c.item}. {c.name}: {c.what}" for c in sorted(CHECKS.values(), key=lambda c: c.item)
    )
    sub = commands.add_parser(
        "doctor",
        parents=[
            config_options(),
            stack_options(
                "WebhookBaseUrl",
                "ModelStoreUri",
                "LedgerTableName",
                "NumeraiApiKeysSecretName",
                "WebhookTokenSecretName",
                "WorkerFunctionName",
            ),
            numerai_options(),
        ],
        help="check a deployment end to end before a round (keys, models, webhooks, AWS, "
        "ledger, own data)",
        description="Check the deployed stack and the Numerai account, each fact a ✓ or ✗ line "
        "with the next step (? when not yet or not verified): \n" + listing + "\nExit 0 when "
        "nothing is broken, 1 when something is (✗). Nothing is changed, except "
        "that --fire sends one test call through the stack (a real submission of that model).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument(
        "--fire",
        nargs="?",
        const="",
        metavar="MODEL",
        help="also fire a test call (triggerModelWebhook) and wait for its submission; MODEL "
        "[the first still missing this round]",
    )
    sub.add_argument(
        "--timeout", type=float, default=300, help="seconds --fire waits [%(default)s]"
    )
    sub.add_argument(
        "--interval", type=float, default=5, help="seconds between --fire's checks [%(default)s]"
    )
    sub.add_argument(
        "--json", action="store_true", help="print [{check, ok, detail, next_step, warning}]"
    )
    sub.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run every check, print the lines, return 0 / 1 / 2."""
    env = DoctorEnv(build_context(args), PROBES, args.fire, args.timeout, args.interval)
    findings = run_checks(env)
    print(render_json(findings) if args.json else render_text(findings))
    if args.fire is None and not args.json:
        say("`numerai-bot doctor --fire` also sends a test call through the stack")
    return exit_code(findings)
