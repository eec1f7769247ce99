"""models.json's neutralize and blend keys: checked per model, with errors that say the fix."""

from __future__ import annotations

import json

from numerai_bot.models_config import parse_models_entries, render_models_config
from numerai_bot.postprocess.spec import Neutralization


def _parse(models: dict) -> tuple[dict, dict]:
    configs, broken = parse_models_entries(json.dumps({"models": models}))
    return {c.name: c for c in configs}, {b.name: b.error for b in broken}


def test_neutralized_and_blended_model_is_read_and_written_back() -> None:
    models = {
        "plain": {"artifact": "plain.onnx"},
        "neutral": {
            "artifact": "n.onnx",
            "neutralize": {"proportion": 0.5, "against": ["feature_a", "feature_b"]},
            "blend": [
                {"benchmark": "v52_lgbm_ender20", "weight": 0.2},
                {"model": "plain", "weight": 0.1},
            ],
        },
    }
    configs, broken = _parse(models)
    assert broken == {}
    post = configs["neutral"].postprocess
    assert post.neutralization == Neutralization(0.5, ("feature_a", "feature_b"))
    assert [p.name for p in post.blend] == ["v52_lgbm_ender20", "plain"]
    assert post.blend[1].model is not None and post.blend[1].model.artifact == "plain.onnx"
    assert abs(post.own_weight - 0.7) < 1e-12
    again = json.loads(render_models_config(list(configs.values())))["models"]["neutral"]
    assert again["neutralize"] == models["neutral"]["neutralize"]
    assert again["blend"] == models["neutral"]["blend"]


def test_bad_proportion_fails_only_that_model() -> None:
    configs, broken = _parse(
        {
            "ok": {"artifact": "a.onnx", "neutralize": {"proportion": 1, "against": "medium"}},
            "bad": {"artifact": "b.onnx", "neutralize": {"proportion": 1.5}},
        }
    )
    assert set(configs) == {"ok"}
    assert "'neutralize.proportion' must be a number in (0, 1]" in broken["bad"]


def test_neutralize_needs_rank() -> None:
    _, broken = _parse(
        {"raw": {"artifact": "r.onnx", "transform": "raw", "neutralize": {"proportion": 0.5}}}
    )
    assert "set 'transform' to 'rank'" in broken["raw"]


def test_blend_weights_must_leave_the_model_a_share() -> None:
    _, broken = _parse(
        {
            "m": {
                "artifact": "m.onnx",
                "blend": [{"benchmark": "a", "weight": 0.6}, {"benchmark": "b", "weight": 0.4}],
            }
        }
    )
    assert "add up to 1" in broken["m"]


def test_blend_of_an_unknown_model_fails_only_the_blend() -> None:
    configs, broken = _parse(
        {
            "a": {"artifact": "a.onnx", "blend": [{"model": "ghost", "weight": 0.3}]},
            "b": {"artifact": "b.onnx"},
        }
    )
    assert set(configs) == {"b"}
    assert "'ghost', which is not a usable model" in broken["a"]


def test_blends_in_a_circle_are_refused() -> None:
    configs, broken = _parse(
        {
            "a": {"artifact": "a.onnx", "blend": [{"model": "b", "weight": 0.3}]},
            "b": {"artifact": "b.onnx", "blend": [{"model": "a", "weight": 0.3}]},
            "c": {"artifact": "c.onnx"},
        }
    )
    assert set(configs) == {"c"}
    assert "circle" in broken["a"] and "circle" in broken["b"]


def test_blend_across_tournaments_is_refused() -> None:
    _, broken = _parse(
        {
            "a": {"artifact": "a.onnx", "blend": [{"model": "s", "weight": 0.3}]},
            "s": {"artifact": "s.onnx", "tournament": "signals"},
        }
    )
    assert "blends stay within classic" in broken["a"]
