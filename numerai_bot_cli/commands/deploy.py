"""``numerai-bot deploy``: ``sam build`` then ``sam deploy`` (``--guided`` the first time).

The first deploy is guided (SAM asks for the stack name, region, parameters and the IAM
capability, and saves the answers to ``samconfig.toml``); later deploys repeat them. This
command only runs SAM; it finds it, says how to install it, and explains its failures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from numerai_bot_cli import REPO_ROOT
from numerai_bot_cli.common import build_context, config_options, say
from numerai_bot_cli.errors import CliError

SAMCONFIG = "samconfig.toml"
INSTALL_HINT = (
    "install the AWS SAM CLI in its own environment: python3 -m venv .venv-sam && "
    ".venv-sam/bin/pip install -r requirements-deploy.txt (or pass --sam PATH)"
)


def register(commands: Any) -> None:
    """Add the subcommand."""
    sub = commands.add_parser(
        "deploy",
        parents=[config_options()],
        help="build and deploy the stack with AWS SAM (guided the first time)",
        description="Run `sam build` (no Docker needed) and `sam deploy`. Without a "
        "samconfig.toml, or with --guided, the deploy is guided: SAM asks for the stack name "
        "(default: the config's), region, parameters and CAPABILITY_IAM, and saves the "
        "answers, so later deploys need no questions. Arguments after `--` go to "
        "`sam deploy`, e.g. `-- --parameter-overrides AlertEmail=me@example.com`.",
    )
    sub.add_argument("--guided", action="store_true", help="ask SAM's questions again")
    sub.add_argument("--no-build", action="store_true", help="deploy the last `sam build`")
    sub.add_argument("--sam", metavar="PATH", help="the sam executable [.venv-sam/bin/sam, PATH]")
    sub.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="folder with template.yaml [the current folder if it has one, else this checkout]",
    )
    sub.add_argument("sam_args", nargs="*", metavar="-- SAM_DEPLOY_ARGS", help=argparse.SUPPRESS)
    sub.set_defaults(run=run)


def find_sam(given: str | None, project: Path) -> str:
    """``--sam``, ``SAM_CLI``, the project's ``.venv-sam/bin/sam``, or ``sam`` on PATH."""
    for candidate in (given, os.environ.get("SAM_CLI")):
        if candidate:
            found = shutil.which(candidate)
            if not found:
                raise CliError(f"{candidate} is not an executable", INSTALL_HINT)
            return found
    local = project / ".venv-sam" / "bin" / "sam"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which("sam")
    if not found:
        raise CliError("the AWS SAM CLI (`sam`) is not installed or not on PATH", INSTALL_HINT)
    return found


def project_dir(given: Path | None) -> Path:
    """Where template.yaml is."""
    for candidate in (given, Path.cwd(), REPO_ROOT):
        if candidate is not None and (candidate / "template.yaml").is_file():
            return candidate.resolve()
    raise CliError(
        "no template.yaml here or in this checkout",
        "run from the project folder or pass --project-dir",
    )


def run(args: argparse.Namespace) -> int:
    """Build, then deploy; a failing step stops with what to check."""
    ctx = build_context(args)
    project = project_dir(args.project_dir)
    sam = find_sam(args.sam, project)
    guided = args.guided or not (project / SAMCONFIG).is_file()
    if not args.no_build:
        _run([sam, "build"], project, "sam build")
    deploy = [sam, "deploy"]
    if guided:
        deploy.append("--guided")
        say(
            "first deploy: SAM asks for the stack name (at most 57 characters), region, "
            "parameters and to allow IAM role creation (answer y); answers go to samconfig.toml"
        )
        if ctx.stack.name:
            deploy += ["--stack-name", ctx.stack.name]
        if ctx.stack.region:
            deploy += ["--region", ctx.stack.region]
    deploy += list(args.sam_args)
    _run(deploy, project, "sam deploy")
    print("deployed")
    say(
        "next: `numerai-bot put-keys`, `numerai-bot publish`, `numerai-bot register-webhooks`, "
        "then `numerai-bot trigger MODEL` to test one round end to end"
    )
    return 0


def _run(command: list[str], cwd: Path, step: str) -> None:
    say("$ sam " + " ".join(command[1:]))
    try:
        # The operator's own sam with fixed arguments plus theirs after `--`: no shell involved.
        completed = subprocess.run(command, cwd=cwd, check=False)  # noqa: S603  # nosec B603
    except OSError as error:
        raise CliError(f"cannot run {command[0]}: {error.strerror}", INSTALL_HINT) from None
    if completed.returncode != 0:
        hint = (
            "read SAM's output above; a build needs pip and python3 (no Docker), see docs/deploy.md"
            if step == "sam build"
            else "read SAM's output above; check your AWS credentials (`aws sts "
            "get-caller-identity`), the region, and 'scheduled for deletion' secrets "
            "(docs/deploy.md, Troubleshooting)"
        )
        raise CliError(f"{step} failed (exit code {completed.returncode})", hint)
