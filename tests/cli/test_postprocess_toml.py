"""numerai-bot.toml's neutralize and blend reach publish; mistakes name the model and key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from numerai_bot.postprocess.spec import Neutralization
from numerai_bot_cli.config import parse_config, render_config
from numerai_bot_cli.errors import CliError

TOML = """
[models.plain]
artifact = "plain.onnx"

[models.neutral]
artifact = "neutral.onnx"
neutralize = { proportion = 0.5, against = "medium" }
blend = [{ benchmark = "v53_lgbm_ender20", weight = 0.2 }, { model = "plain", weight = 0.1 }]
"""


def test_neutralize_and_blend_are_read_for_publish(tmp_path: Path) -> None:
    config = parse_config(tomllib.loads(TOML), tmp_path / "numerai-bot.toml")
    assert config.models["plain"].postprocess is None  # publish keeps models.json's
    post = config.models["neutral"].postprocess
    assert post is not None and post.neutralization == Neutralization(0.5, "medium")
    assert [(p.source, p.name, p.weight) for p in post.blend] == [
        ("benchmark", "v53_lgbm_ender20", 0.2),
        ("model", "plain", 0.1),
    ]


def test_a_bad_proportion_names_the_model_and_the_key(tmp_path: Path) -> None:
    bad = TOML.replace("proportion = 0.5", "proportion = 2")
    with pytest.raises(CliError, match=r"\[models.neutral\].*neutralize.proportion"):
        parse_config(tomllib.loads(bad), tmp_path / "numerai-bot.toml")


def test_the_commented_template_still_parses() -> None:
    text = render_config("numerai-bot", None, ["my_model"])
    assert "neutralize" in text and "blend" in text
    tomllib.loads(text)
