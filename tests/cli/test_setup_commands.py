"""init, --help, deploy (with a fake sam), publish, and where stack outputs come from."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from numerai_bot.adapters.model_store import open_model_store
from numerai_bot.models_config import load_models_config
from numerai_bot.tournaments import CLASSIC, CRYPTO, SIGNALS
from numerai_bot_cli.commands.models import PASSTHROUGH
from numerai_bot_cli.config import load_config
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.main import build_parser, main
from numerai_bot_cli.stack import read_outputs_file

COMMANDS = [
    "init",
    "publish",
    "deploy",
    "put-keys",
    "register-webhooks",
    "trigger",
    "status",
    "logs",
    "doctor",
    "plan",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert f"usage: numerai-bot {command}" in capsys.readouterr().out


MODEL_EXPORT = ["train", "export", "check", "describe", "ensemble", "validate", "rollback"]


def test_own_commands_are_never_handed_to_model_export():
    assert set(PASSTHROUGH) == set(MODEL_EXPORT)
    assert not set(COMMANDS) & set(PASSTHROUGH)


def test_top_level_help_lists_every_command_and_model_export_ones(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in [*COMMANDS, *MODEL_EXPORT]:
        assert f"    {command}" in out


def test_a_typo_lists_every_command(capsys):
    with pytest.raises(SystemExit) as done:
        main(["ensembel"])
    assert done.value.code == 2
    choices = re.findall(r"[\w-]+", capsys.readouterr().err.split("choose from", 1)[1])
    assert set(choices) >= {*COMMANDS, *MODEL_EXPORT}


@pytest.mark.parametrize("command", ["export", "check", "ensemble", "rollback"])
def test_model_export_commands_are_handed_over_under_numerai_bots_name(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert f"usage: numerai-bot {command}" in capsys.readouterr().out


def test_model_export_errors_keep_its_exit_code(tmp_path, capsys):
    assert main(["describe", str(tmp_path / "missing.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_missing_subcommand_is_a_usage_error():
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([])
    assert done.value.code == 2


# --- init --------------------------------------------------------------------------------


def test_init_writes_a_commented_config_that_loads(tmp_path, capsys):
    path = tmp_path / "numerai-bot.toml"
    assert (
        main(["init", "--models", "m_one", "m-two", "--region", "eu-west-1", "-o", str(path)]) == 0
    )
    text = path.read_text()
    assert text.count("\n#") > 10  # explained, line by line
    config = load_config(path)
    assert config.stack_name == "numerai-bot" and config.region == "eu-west-1"
    assert list(config.models) == ["m_one", "m-two"]
    assert config.models["m_one"].artifact == tmp_path / "m_one.onnx"
    assert config.models["m-two"].transform == "rank"
    assert config.models["m-two"].tournament == CLASSIC
    assert "wrote" in capsys.readouterr().out


def test_init_names_each_models_tournament(tmp_path, capsys):
    path = tmp_path / "numerai-bot.toml"
    argv = ["init", "--models", "my_model", "signals:my_sig", "crypto:my_coin", "-o", str(path)]
    assert main(argv) == 0
    assert "3 models: 1 classic, 1 signals, 1 crypto" in capsys.readouterr().out
    models = load_config(path).models
    assert [(m.name, m.tournament) for m in models.values()] == [
        ("my_model", CLASSIC),
        ("my_sig", SIGNALS),
        ("my_coin", CRYPTO),
    ]
    assert main(["init", "--models", "golf:m", "-o", str(path), "--force"]) == 1
    assert "TOURNAMENT:NAME" in capsys.readouterr().err


def test_a_config_without_tournaments_still_loads_and_a_wrong_one_is_named(tmp_path, capsys):
    path = tmp_path / "numerai-bot.toml"
    path.write_text('[models.old]\nartifact = "old.onnx"\n')
    assert load_config(path).models["old"].tournament is None  # the file's own decides
    path.write_text('[models.m]\nartifact = "m.onnx"\ntournament = "tennis"\n')
    with pytest.raises(CliError, match="tournament 'tennis' is not one of classic"):
        load_config(path)


def test_init_refuses_to_overwrite_without_force(tmp_path, capsys):
    path = tmp_path / "numerai-bot.toml"
    path.write_text("# mine\n")
    assert main(["init", "-o", str(path)]) == 1
    assert "--force" in capsys.readouterr().err and path.read_text() == "# mine\n"
    assert main(["init", "-o", str(path), "--force"]) == 0
    assert load_config(path).models == {}  # only the commented example


def test_init_lists_the_accounts_models_when_keys_are_set(local_bot, tmp_path, monkeypatch):
    monkeypatch.setenv("NUMERAI_PUBLIC_ID", local_bot.standin.public_id)
    monkeypatch.setenv("NUMERAI_SECRET_KEY", local_bot.standin.secret_key)
    path = tmp_path / "numerai-bot.toml"
    assert main(["init", "-o", str(path)]) == 0
    # Every model of the account: ours, and those other CLI modules added to the stand-in.
    assert sorted(load_config(path).models) == sorted(local_bot.standin.models)
    assert {"alpha", "beta", "hosted"} <= set(local_bot.standin.models)


def test_config_problems_are_named_together(tmp_path, capsys):
    path = tmp_path / "numerai-bot.toml"
    path.write_text(
        '[stack]\nname = "s"\ncolour = "red"\n'
        '[models.good]\nartifact = "g.onnx"\n'
        '[models.bad]\nartifact = "b.onnx"\ntransform = "sigmoid"\n'
        "[models.worse]\n"
    )
    assert main(["status", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "colour" in err and "sigmoid" in err and "worse" in err and "next:" in err


# --- deploy with a fake sam ------------------------------------------------------------


@pytest.fixture
def fake_sam(tmp_path, monkeypatch) -> Path:
    """A `sam` on PATH that records its arguments and exits with $FAKE_SAM_EXIT."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sam = bin_dir / "sam"
    sam.write_text(
        "#!/bin/sh\n"
        'echo "$*" >> "$FAKE_SAM_LOG"\n'
        'case "$1" in deploy) exit "${FAKE_SAM_EXIT:-0}";; esac\n'
        "exit 0\n"
    )
    sam.chmod(sam.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SAM_LOG", str(tmp_path / "sam.log"))
    monkeypatch.delenv("SAM_CLI", raising=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "template.yaml").write_text("Resources: {}\n")
    (project / "numerai-bot.toml").write_text('[stack]\nname = "my-bot"\nregion = "eu-west-1"\n')
    monkeypatch.chdir(project)
    return tmp_path / "sam.log"


def test_first_deploy_is_guided_with_the_configs_stack(fake_sam, capsys):
    assert main(["deploy"]) == 0
    calls = fake_sam.read_text().splitlines()
    assert calls == ["build", "deploy --guided --stack-name my-bot --region eu-west-1"]
    assert "put-keys" in capsys.readouterr().err  # the next step


def test_later_deploys_repeat_samconfig(fake_sam):
    Path("samconfig.toml").write_text("version = 0.1\n")
    assert main(["deploy", "--", "--parameter-overrides", "AlertEmail=me@example.com"]) == 0
    calls = fake_sam.read_text().splitlines()
    assert calls == ["build", "deploy --parameter-overrides AlertEmail=me@example.com"]


def test_a_failing_deploy_says_what_to_check(fake_sam, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_SAM_EXIT", "3")
    assert main(["deploy", "--no-build"]) == 1
    err = capsys.readouterr().err
    assert "sam deploy failed (exit code 3)" in err and "credentials" in err
    assert fake_sam.read_text().splitlines() == [
        "deploy --guided --stack-name my-bot --region eu-west-1"
    ]


def test_deploy_without_sam_says_how_to_install_it(fake_sam, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["deploy", "--project-dir", "."]) == 1
    err = capsys.readouterr().err
    assert "SAM CLI" in err and "requirements-deploy.txt" in err


# --- publish -----------------------------------------------------------------------------


def test_publish_uploads_every_configured_model(local_bot, workspace, cli, capsys):
    assert cli("publish") == 0
    out = capsys.readouterr().out
    assert "published" in out and "alpha" in out and "beta" in out
    store = open_model_store(f"s3://{local_bot.stack.bucket}/models")
    names = {c.name for c in load_models_config(store)}
    assert {"alpha", "beta"} <= names
    assert store.read("alpha.onnx.sha256").data.strip()


def test_publish_refuses_a_file_of_another_tournament(workspace, cli, capsys):
    assert cli("publish", "alpha", "--tournament", "signals") == 1
    err = capsys.readouterr().err
    assert "alpha" in err and "refused" in err and "signals" in err


def test_publish_refuses_a_file_without_metadata(workspace, cli, capsys):
    (workspace / "junk.onnx").write_bytes(b"not onnx")
    assert cli("publish", "alpha", "--file", str(workspace / "junk.onnx")) == 1
    assert "refused" in capsys.readouterr().err


def test_publish_refuses_to_feed_a_numerai_data_file_the_users_own_table(workspace, cli, capsys):
    assert cli("publish", "alpha", "--input", "own", "--table", "momentum") == 1
    err = capsys.readouterr().err
    assert "alpha" in err and "refused" in err and "numerai.input numerai" in err


# --- stack outputs -----------------------------------------------------------------------


def test_stack_outputs_file_may_be_describe_stacks_output(tmp_path):
    path = tmp_path / "out.json"
    path.write_text(
        json.dumps(
            {"Stacks": [{"Outputs": [{"OutputKey": "LedgerTableName", "OutputValue": "t"}]}]}
        )
    )
    assert read_outputs_file(path) == {"LedgerTableName": "t"}


def test_outputs_come_from_cloudformation_when_no_file(local_bot, tmp_path, capsys):
    # moto's CloudFormation hosts a plain template with outputs: enough to test the lookup.
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "LedgerTableName": {"Value": local_bot.stack.table},
            "NumeraiApiKeysSecretName": {"Value": local_bot.stack.keys_secret},
        },
    }
    boto3.client("cloudformation").create_stack(
        StackName="cli-test", TemplateBody=json.dumps(template)
    )
    config = tmp_path / "numerai-bot.toml"
    config.write_text('[stack]\nname = "cli-test"\n[models.alpha]\nartifact = "a.onnx"\n')
    assert main(["status", "--config", str(config), "--json"]) in (0, 1)
    assert '"model": "alpha"' in capsys.readouterr().out


def test_a_missing_stack_says_to_deploy(local_bot, capsys):
    assert main(["status", "--stack", "no-such-stack"]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "numerai-bot deploy" in err


# --- entry points --------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "argv",
    [
        [str(REPO / "bin" / "numerai-bot"), "--help"],
        [sys.executable, "-m", "scripts.put_keys", "--help"],
    ],
    ids=["bin/numerai-bot", "scripts.put_keys"],
)
def test_entry_points_run_without_pythonpath(argv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHON"] = sys.executable
    cwd = REPO if "scripts.put_keys" in argv else tmp_path
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: numerai-bot" in done.stdout
