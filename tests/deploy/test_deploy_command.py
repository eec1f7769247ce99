"""`numerai-bot deploy` and SAM: the package is built for the CPU the stack runs, or refused.

A fake `sam` on PATH records each call with the ARCH it was given; its `build` either writes the
build record scripts/build_lambda.py would write, or (slow test) runs the real Makefile target.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tomllib
from pathlib import Path

import pytest

from numerai_bot_cli.commands import deploy
from numerai_bot_cli.main import main
from tests.deploy.sam_template import REPO

FAKE_BUILD = (
    'mkdir -p .aws-sam/build/WorkerFunction && case "${ARCH:-x86_64}" in '
    "arm64) machine=aarch64;; *) machine=x86_64;; esac && "
    'echo "{\\"arch\\": \\"$machine\\"}" > .aws-sam/build/WorkerFunction/.numerai-bot-build.json'
)
REAL_BUILD = (
    f'make --no-print-directory -C "{REPO / "handlers"}" build-WebhookFunction '
    f'ARTIFACTS_DIR="$PWD/.aws-sam/build/WebhookFunction" PYTHON="{sys.executable}" >/dev/null'
)


def _fake_sam(folder: Path, build: str) -> Path:
    """A `sam` that logs "ARGS | ARCH=..." and runs ``build`` for `sam build`."""
    sam = folder / "sam"
    sam.write_text(
        "#!/bin/sh\n"
        'echo "$* | ARCH=${ARCH:-}" >> "$FAKE_SAM_LOG"\n'
        f'if [ "$1" = build ]; then {build} || exit 9; fi\n'
        "exit 0\n"
    )
    sam.chmod(sam.stat().st_mode | stat.S_IXUSR)
    return sam


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with this repository's template and a config naming the stack."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "template.yaml").write_text((REPO / "template.yaml").read_text())
    (folder / "numerai-bot.toml").write_text('[stack]\nname = "my-bot"\nregion = "eu-west-1"\n')
    monkeypatch.chdir(folder)
    monkeypatch.setenv("FAKE_SAM_LOG", str(tmp_path / "sam.log"))
    monkeypatch.delenv("SAM_CLI", raising=False)
    monkeypatch.delenv("ARCH", raising=False)
    return folder


def _calls(project: Path) -> list[str]:
    log = project.parent / "sam.log"
    return log.read_text().splitlines() if log.exists() else []


def _samconfig(project: Path, architecture: str) -> None:
    (project / "samconfig.toml").write_text(
        "version = 0.1\n[default.deploy.parameters]\n"
        f'stack_name = "my-bot"\nparameter_overrides = "Architecture=\\"{architecture}\\" '
        'LogLevel=\\"INFO\\""\n'
    )


def test_the_build_follows_the_architecture_saved_in_samconfig(project: Path) -> None:
    _samconfig(project, "arm64")
    sam = _fake_sam(project.parent, FAKE_BUILD)
    assert main(["deploy", "--sam", str(sam)]) == 0
    assert _calls(project) == ["build | ARCH=arm64", "deploy | ARCH="]


def test_an_architecture_given_after_dashes_wins(project: Path) -> None:
    _samconfig(project, "x86_64")
    sam = _fake_sam(project.parent, FAKE_BUILD)
    extra = ["--parameter-overrides", "Architecture=arm64", "AlertEmail=me@example.com"]
    assert main(["deploy", "--sam", str(sam), "--", *extra]) == 0
    assert _calls(project)[0] == "build | ARCH=arm64"


def test_the_first_deploy_builds_for_the_templates_default(project: Path) -> None:
    sam = _fake_sam(project.parent, FAKE_BUILD)
    assert main(["deploy", "--sam", str(sam)]) == 0
    assert _calls(project) == [
        "build | ARCH=x86_64",
        "deploy --guided --stack-name my-bot --region eu-west-1 | ARCH=",
    ]


def test_deploy_refuses_a_package_built_for_another_cpu(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sam = _fake_sam(project.parent, FAKE_BUILD)
    assert main(["deploy", "--sam", str(sam)]) == 0  # builds x86_64, the default
    _samconfig(project, "arm64")
    assert main(["deploy", "--sam", str(sam), "--no-build"]) == 1
    err = capsys.readouterr().err
    assert "the stack runs arm64, but .aws-sam/build holds WorkerFunction for x86_64" in err
    assert "without --no-build" in err
    assert _calls(project)[-1].startswith("deploy --guided")  # no second deploy ran


def test_a_guided_deploy_that_switches_cpu_says_to_deploy_again(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The user answers arm64 at SAM's prompt after the x86_64 build: SAM saves it, we tell."""
    saves_arm64 = (
        "printf 'version = 0.1\\n[default.deploy.parameters]\\nparameter_overrides = \"%s\"\\n' "
        "Architecture=arm64 > samconfig.toml"
    )
    sam = _fake_sam(project.parent, FAKE_BUILD)
    sam.write_text(
        sam.read_text().replace(
            "exit 0\n", f'if [ "$2" = --guided ]; then {saves_arm64}; fi\nexit 0\n'
        )
    )
    assert main(["deploy", "--sam", str(sam)]) == 1
    err = capsys.readouterr().err
    assert "the stack now runs arm64, but the package was built for x86_64" in err


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["Architecture=arm64"], {"Architecture": "arm64"}),
        (['Architecture="arm64" LogLevel="INFO"'], {"Architecture": "arm64", "LogLevel": "INFO"}),
        (["ParameterKey=Architecture,ParameterValue=arm64"], {"Architecture": "arm64"}),
        ('AlertEmail="a b@example.com" Architecture=x86_64', {"AlertEmail": "a b@example.com"}),
    ],
)
def test_parameter_overrides_in_sams_forms(values: list[str] | str, expected: dict) -> None:
    assert deploy.parse_overrides(values).items() >= expected.items()


def test_the_templates_architecture_default_is_read() -> None:
    assert deploy.template_default(REPO, "Architecture") == "x86_64"
    assert deploy.template_default(REPO, "FallbackCheckMinutes") == "15"
    assert deploy.template_default(REPO, "NoSuchParameter") is None


def test_unchanged_deploys_are_no_error_after_the_first(project: Path) -> None:
    _samconfig(project, "x86_64")
    deploy.allow_unchanged_deploys(project)
    deploy.allow_unchanged_deploys(project)  # once only
    text = (project / "samconfig.toml").read_text()
    assert text.count("fail_on_empty_changeset") == 1
    parameters = tomllib.loads(text)["default"]["deploy"]["parameters"]
    assert parameters["fail_on_empty_changeset"] is False
    assert parameters["stack_name"] == "my-bot"
    # An explicit choice stays.
    (project / "samconfig.toml").write_text(
        "version = 0.1\n[default.deploy.parameters]\nfail_on_empty_changeset = true\n"
    )
    deploy.allow_unchanged_deploys(project)
    assert "= true" in (project / "samconfig.toml").read_text()


def test_a_deploy_after_the_first_saves_the_setting(project: Path) -> None:
    (project / "samconfig.toml").write_text("version = 0.1\n")
    sam = _fake_sam(project.parent, FAKE_BUILD)
    assert main(["deploy", "--sam", str(sam)]) == 0
    config = tomllib.loads((project / "samconfig.toml").read_text())
    assert config["default"]["deploy"]["parameters"]["fail_on_empty_changeset"] is False


@pytest.mark.slow
@pytest.mark.parametrize(("architecture", "machine"), [("arm64", "aarch64"), ("x86_64", "x86_64")])
def test_the_real_build_follows_the_parameter(
    project: Path, architecture: str, machine: str
) -> None:
    """The Makefile target, as `sam build` runs it, with the ARCH the command passes."""
    _samconfig(project, architecture)
    sam = _fake_sam(project.parent, REAL_BUILD)
    env_arch = os.environ.get("ARCH")
    assert main(["deploy", "--sam", str(sam)]) == 0
    assert os.environ.get("ARCH") == env_arch  # only sam's environment got it
    record = project / ".aws-sam" / "build" / "WebhookFunction" / ".numerai-bot-build.json"
    assert json.loads(record.read_text())["arch"] == machine
