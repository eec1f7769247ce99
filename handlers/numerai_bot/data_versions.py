"""Which data versions Numerai serves (``list_datasets``): the source of truth for what is
current and what is retired, so a retired version fails one model clearly, not a round.

The one reader of Numerai's dataset names, for the worker, the operator's CLI and the
exporter alike. ``list_datasets`` names files like ``v5.3/live.parquet`` (Classic) or
``signals/v2.1/live.parquet``; the folder is the version. Read leniently: any folder that is
``v`` and a number (``v5``, ``v5.10``, ``v5.3-beta``) is a version, anything else is skipped,
and no name makes this fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from numerai_bot.errors import ModelError
from numerai_bot.tournaments import Tournament

LIVE_FILE = "live.parquet"
UNIVERSE_FILE = "live_universe.parquet"  # a version with no features (Crypto v1.0)
_VERSION = re.compile(r"v(\d+(?:\.\d+)*)(.*)", re.DOTALL)  # numbers, then any suffix


def is_version(text: str) -> bool:
    """Whether ``text`` names a data version: ``v`` then a number, with any suffix."""
    return _VERSION.fullmatch(text) is not None


def version_key(text: str) -> tuple[tuple[int, ...], bool, str]:
    """Sort key: numbers first (``v5.10`` after ``v5.9``), a plain release after the same
    numbers with a suffix (``v5.3`` after ``v5.3-beta``), then the text, so that any text
    sorts, and always the same way."""
    found = _VERSION.fullmatch(text)
    if found is None:
        return ((), False, text)
    numbers, suffix = found.groups()
    return (tuple(int(part) for part in numbers.split(".")), not suffix, text)


def served_versions(
    tournament: Tournament, served: Iterable[str], filename: str = "live.parquet"
) -> list[str]:
    """The tournament's versions with ``filename`` among the ``served`` names, oldest first."""
    prefix = tournament.data_prefix
    found = set()
    for name in served:
        if not name.startswith(prefix):
            continue
        version, _, rest = name[len(prefix) :].partition("/")
        if rest == filename and is_version(version):
            found.add(version)
    return sorted(found, key=version_key)


def newest(
    tournament: Tournament, served: Iterable[str], filename: str = "live.parquet"
) -> str | None:
    """The newest version served for the tournament (with ``filename``), if any."""
    versions = served_versions(tournament, served, filename)
    return versions[-1] if versions else None


def check_served(tournament: Tournament, data_version: str, served: frozenset[str] | None) -> None:
    """Fail a model whose data version Numerai no longer serves, naming the newest one."""
    if not served or tournament.live_file(data_version) in served:
        return
    latest = newest(tournament, served)
    if latest is not None:
        raise ModelError(
            f"data version {data_version} is no longer served by Numerai for {tournament.name} "
            f"(newest: {latest}): retrain or re-export the model on {latest} and publish it"
        )
    universes = served_versions(tournament, served, UNIVERSE_FILE)
    if universes:
        raise ModelError(
            f"{tournament.name} {data_version} is not served: Numerai serves {tournament.name} "
            f"{universes[-1]}, which has no features, only the universe and targets; bring your "
            "own data for this model (docs/own-data.md)"
        )
    raise ModelError(
        f"{tournament.name} {data_version} is not served, and Numerai lists no live file for "
        f"{tournament.name} right now; run `numerai-bot doctor` again later"
    )


def older_than_newest(
    tournament: Tournament, versions: Mapping[str, str], served: Iterable[str]
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
