"""A round over real HTTP with post-processed models: the stand-in serves the benchmark
models' live predictions, a neutralized and a blended model are accepted, and a blend naming
a benchmark Numerai does not have fails only that model."""

from __future__ import annotations

from numerai_bot.postprocess.spec import NO_POSTPROCESS, BlendPart, Neutralization, PostProcess
from standins.local_lambda import LocalContext
from standins.onnx_models import linear_model
from tests.integration.conftest import accepted


def _run(bot):
    try:
        return bot.worker_handler({"source": "schedule"}, LocalContext("worker"))
    except Exception as error:
        return error


def _post(bot, feature_sets, posts: dict[str, PostProcess]) -> None:
    for seed, name in enumerate(("alpha", "beta", "gamma")):
        data = linear_model(feature_sets["medium"], seed=seed)
        bot.publish(name, data, postprocess=posts.get(name, NO_POSTPROCESS))


def test_neutralized_and_blended_models_are_accepted(bot, feature_sets):
    posts = {
        "beta": PostProcess(Neutralization(0.5, "small")),
        "gamma": PostProcess(
            blend=(
                BlendPart("benchmark", "v52_lgbm_ender20", 0.3),
                BlendPart("model", "beta", 0.2),
            )
        ),
    }
    _post(bot, feature_sets, posts)
    try:
        result = _run(bot)
        assert isinstance(result, dict) and result["status"] == "complete", result
        names = sorted(s["model_name"] for s in accepted(bot))
        assert names == ["alpha", "beta", "gamma"]
        assert {s["rows"] for s in accepted(bot)} == {len(bot.standin.live_ids())}
    finally:
        _post(bot, feature_sets, {})  # the package's other tests get plain models


def test_a_benchmark_numerai_does_not_serve_fails_only_its_model(bot, feature_sets):
    posts = {"gamma": PostProcess(blend=(BlendPart("benchmark", "v52_lgbm_nosuch", 0.3),))}
    _post(bot, feature_sets, posts)
    try:
        result = _run(bot)
        assert isinstance(result, Exception) and "v52_lgbm_nosuch" in str(result)
        assert sorted(s["model_name"] for s in accepted(bot)) == ["alpha", "beta"]
    finally:
        _post(bot, feature_sets, {})
