"""Doctor check (e): every model file models.json names loads in onnxruntime exactly as the
worker loads it (:func:`numerai_bot.inference.load_model`: metadata, inputs, width), fits the
entry's tournament, and its data version's live file is still served by Numerai."""

from __future__ import annotations

from collections.abc import Iterator

from numerai_bot.data_versions import served_versions
from numerai_bot.errors import ModelError, ObjectMissing
from numerai_bot.inference import load_model
from numerai_bot.models_config import ModelConfig
from numerai_bot_cli.doctor.core import Finding, check, failed, passed
from numerai_bot_cli.doctor.env import DoctorEnv


@check(
    "e",
    "model-file",
    "every model file in the bucket loads, carries its metadata, and its data is served",
    "re-export the model (`numerai-bot export`/`train`) and `numerai-bot publish` it",
)
def model_files_check(env: DoctorEnv) -> Iterator[Finding]:
    """One line per models.json entry, broken entries included."""
    configs, broken = env.models()
    for entry in broken:
        yield failed(
            f"model-file/{entry.name}",
            entry.error,
            f"fix the entry in models.json, or republish it: `numerai-bot publish {entry.name}`",
        )
    for config in configs:
        yield _file_finding(env, config)


def _file_finding(env: DoctorEnv, config: ModelConfig) -> Finding:
    name = f"model-file/{config.name}"
    store = env.store()
    republish = f"`numerai-bot publish {config.name}`"
    try:
        stored = store.read(config.artifact)
    except ObjectMissing:
        return failed(name, f"{config.artifact} is not in {store.uri}", republish)
    try:
        loaded = load_model(config.artifact, stored.version, stored.data, threads=1)
    except ModelError as error:
        return failed(
            name,
            str(error),
            "re-export it with `numerai-bot export` or `train` (they write the metadata the "
            f"worker needs), then {republish}",
        )
    metadata = loaded.metadata
    if metadata.tournament != config.tournament.name:
        return failed(
            name,
            f"{config.artifact} was trained for {metadata.tournament}; models.json runs it in "
            f"{config.tournament}",
            f"publish a {config.tournament} model for {config.name}, or fix the entry's tournament",
        )
    live = config.tournament.live_file(metadata.data_version)
    served = env.served(config.tournament)
    if live not in served:
        versions = served_versions(config.tournament, served)
        return failed(
            name,
            f"{config.artifact} was trained on {metadata.data_version}, whose live file Numerai "
            f"no longer serves (served: {', '.join(versions) or 'none'})",
            f"retrain on {versions[-1] if versions else 'the current version'} "
            f"(`numerai-bot train --help`), then {republish}",
        )
    return passed(
        name,
        f"{config.artifact} loads: {len(metadata.features)} features, data "
        f"{metadata.data_version} (served)",
    )
