"""``numerai-bot deploy``: ``sam build`` then ``sam deploy`` (``--guided`` the first time).

The first deploy is guided (SAM asks for the stack name, region, parameters and the IAM
capability, and saves the answers to ``samconfig.toml``); later deploys repeat them. This
command runs SAM; it finds it, says how to install it, and explains its failures. It builds for
the architecture the stack will run (the template's ``Architecture`` parameter, as the deploy
will pass it), refuses to deploy a package built for another one, and makes an unchanged
deploy a success rather than SAM's "No changes to deploy" error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

from numerai_bot_cli import REPO_ROOT
from numerai_bot_cli.common import build_context, config_options, say
from numerai_bot_cli.errors import CliError

SAMCONFIG = "samconfig.toml"
# Where `sam build` leaves each function's tree, and the record scripts/build_lambda.py writes.
BUILD_DIR = Path(".aws-sam") / "build"
BUILD_RECORD = ".numerai-bot-build.json"
# The template's Architecture values and the names the build records (ELF machine names).
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}
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
    architecture = target_architecture(project, args.sam_args)
    if not args.no_build:
        env = None
        if architecture:
            say(f"building for {architecture} (the stack's Architecture parameter)")
            env = {**os.environ, "ARCH": architecture}
        _run([sam, "build"], project, "sam build", env=env)
    if architecture:
        check_build_matches(project, architecture)
    deploy = [sam, "deploy"]
    if guided:
        deploy.append("--guided")
        say(guided_note(architecture))
        if ctx.stack.name:
            deploy += ["--stack-name", ctx.stack.name]
        if ctx.stack.region:
            deploy += ["--region", ctx.stack.region]
    else:
        allow_unchanged_deploys(project)
    deploy += list(args.sam_args)
    _run(deploy, project, "sam deploy")
    if guided:
        allow_unchanged_deploys(project)
        chosen = target_architecture(project, args.sam_args)
        if architecture and chosen and chosen != architecture:
            raise CliError(
                f"the stack now runs {chosen}, but the package was built for {architecture}: "
                "the functions cannot start",
                "run `numerai-bot deploy` again: it builds for the Architecture saved in "
                "samconfig.toml",
            )
    print("deployed")
    say(
        "next: `numerai-bot put-keys`, `numerai-bot publish`, `numerai-bot register-webhooks`, "
        "then `numerai-bot trigger MODEL` to test one round end to end"
    )
    return 0


def guided_note(architecture: str | None) -> str:
    """What SAM's guided deploy asks, and that Enter is the right answer to each question."""
    note = (
        "first deploy: SAM asks for the stack name (at most 57 characters), region, parameters "
        "and a few yes/no questions; Enter keeps each default, which is right (its 'Allow SAM "
        "CLI IAM role creation' default is Y: the stack creates three roles); the answers go to "
        "samconfig.toml"
    )
    if architecture:
        note += f". Keep Architecture={architecture}: the package is built for it"
    return note


def _run(command: list[str], cwd: Path, step: str, env: dict[str, str] | None = None) -> None:
    say("$ sam " + " ".join(command[1:]))
    try:
        # The operator's own sam with fixed arguments plus theirs after `--`: no shell involved.
        completed = subprocess.run(command, cwd=cwd, check=False, env=env)  # noqa: S603  # nosec B603
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


# --- the architecture the stack runs, and the one the package was built for ----------------------


def parse_overrides(values: list[str] | str) -> dict[str, str]:
    """``Key=Value`` pairs of SAM's ``--parameter-overrides`` (also CloudFormation's form)."""
    tokens: list[str] = []
    for value in [values] if isinstance(values, str) else values:
        tokens += shlex.split(value)
    pairs: dict[str, str] = {}
    for token in tokens:
        match = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", token)
        if match:
            pairs[match.group(1)] = match.group(2)
        elif "=" in token:
            key, value = token.split("=", 1)
            pairs[key] = value
    return pairs


def cli_overrides(sam_args: list[str]) -> dict[str, str] | None:
    """The ``--parameter-overrides`` given after ``--``, or None when there are none."""
    for index, arg in enumerate(sam_args):
        if arg.startswith("--parameter-overrides="):
            return parse_overrides(arg.split("=", 1)[1])
        if arg == "--parameter-overrides":
            values = []
            for value in sam_args[index + 1 :]:
                if value.startswith("--"):
                    break
                values.append(value)
            return parse_overrides(values)
    return None


def read_samconfig(project: Path) -> dict[str, Any]:
    """``samconfig.toml``, or an empty dict when it is missing or unreadable."""
    path = project / SAMCONFIG
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _deploy_section(config: dict[str, Any]) -> dict[str, Any]:
    section = config.get("default", {}).get("deploy", {}).get("parameters", {})
    return section if isinstance(section, dict) else {}


def template_default(project: Path, parameter: str) -> str | None:
    """A parameter's ``Default`` in template.yaml (read as text: it has CloudFormation tags)."""
    try:
        text = (project / "template.yaml").read_text()
    except OSError:
        return None
    block = re.search(rf"^  {parameter}:\n((?:    .*\n|\s*\n)+)", text, re.MULTILINE)
    if block is None:
        return None
    default = re.search(r"^    Default:\s*[\"']?([^\"'\s#]+)", block.group(1), re.MULTILINE)
    return default.group(1) if default else None


def target_architecture(project: Path, sam_args: list[str]) -> str | None:
    """The Architecture the deploy passes: ``--parameter-overrides``, samconfig, the default."""
    for overrides in (
        cli_overrides(sam_args),
        parse_overrides(_deploy_section(read_samconfig(project)).get("parameter_overrides", [])),
    ):
        if overrides and "Architecture" in overrides:
            return overrides["Architecture"]
    return template_default(project, "Architecture")


def built_architectures(project: Path) -> dict[str, str]:
    """Each function in ``.aws-sam/build`` with the architecture its build record names."""
    found: dict[str, str] = {}
    for record in sorted((project / BUILD_DIR).glob(f"*/{BUILD_RECORD}")):
        try:
            found[record.parent.name] = str(json.loads(record.read_text())["arch"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def check_build_matches(project: Path, architecture: str) -> None:
    """Refuse to deploy a package built for another CPU than the stack's functions run on."""
    expected = ARCHITECTURES.get(architecture)
    if expected is None:
        raise CliError(
            f"unknown Architecture {architecture!r}",
            "use x86_64 or arm64 (template.yaml's Architecture parameter)",
        )
    wrong = {name: arch for name, arch in built_architectures(project).items() if arch != expected}
    if wrong:
        built = ", ".join(f"{name} for {arch}" for name, arch in wrong.items())
        raise CliError(
            f"the stack runs {architecture}, but .aws-sam/build holds {built}: its libraries "
            "would not load",
            f"run `numerai-bot deploy` without --no-build (it builds for {architecture}), or "
            f"`ARCH={architecture} sam build` first",
        )


# --- unchanged deploys ---------------------------------------------------------------------------


def allow_unchanged_deploys(project: Path) -> None:
    """Save ``fail_on_empty_changeset = false`` in samconfig.toml unless it says otherwise.

    Builds are reproducible, so deploying unchanged code changes nothing; SAM would report that
    as an error ("No changes to deploy") and exit 1. Guided deploys do not save this setting.
    """
    path = project / SAMCONFIG
    if not path.is_file():
        return
    config = read_samconfig(project)
    if not config or "fail_on_empty_changeset" in _deploy_section(config):
        return
    text = path.read_text()
    header = "[default.deploy.parameters]"
    line = "fail_on_empty_changeset = false"
    if header in text:
        text = text.replace(header, f"{header}\n{line}", 1)
    else:
        text = text.rstrip("\n") + f"\n\n{header}\n{line}\n"
    path.write_text(text)
    say(f"{SAMCONFIG}: {line} (an unchanged deploy is not an error)")
