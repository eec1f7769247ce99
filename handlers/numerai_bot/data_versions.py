"""Which data versions Numerai serves (``list_datasets``): the source of truth for what is
current and what is retired, so a retired version fails one model clearly, not a round."""

from __future__ import annotations

import re

from numerai_bot.errors import ModelError
from numerai_bot.tournaments import Tournament


def version_key(text: str) -> tuple[int, ...]:
    """``"v5.10"`` sorts after ``"v5.9"``."""
    return tuple(int(x) for x in re.findall(r"\d+", text))


def served_versions(tournament: Tournament, served: frozenset[str]) -> list[str]:
    """The tournament's versions with a live file among ``served``, oldest first."""
    prefix = tournament.data_prefix
    found = {
        name[len(prefix) :].split("/")[0]
        for name in served
        if name.startswith(prefix) and name.endswith("/live.parquet")
    }
    return sorted((v for v in found if v.startswith("v")), key=version_key)


def newest(tournament: Tournament, served: frozenset[str]) -> str | None:
    """The newest version served for the tournament, if any."""
    versions = served_versions(tournament, served)
    return versions[-1] if versions else None


def check_served(tournament: Tournament, data_version: str, served: frozenset[str] | None) -> None:
    """Fail a model whose data version Numerai no longer serves, naming the newest one."""
    if not served or tournament.live_file(data_version) in served:
        return
    latest = newest(tournament, served) or "none"
    raise ModelError(
        f"data version {data_version} is no longer served by Numerai for {tournament.name} "
        f"(newest: {latest}): retrain or re-export the model on {latest} and publish it"
    )


def older_than_newest(
    tournament: Tournament, versions: dict[str, str], served: frozenset[str]
) -> dict[str, str]:
    """``{model: its version}`` for models on an older version than the newest served."""
    latest = newest(tournament, served)
    if latest is None:
        return {}
    return {
        model: version
        for model, version in versions.items()
        if version and version_key(version) < version_key(latest)
    }
