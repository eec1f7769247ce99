"""Which data versions Numerai serves for a tournament, and the models trained on older ones.

``listDatasets`` names files like ``v5.3/live.parquet`` (Classic) or
``signals/v2.1/live.parquet``; a model's version is the ``data_version`` of its
``models.json`` entry (from the ONNX file's metadata at publish time).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from numerai_bot.tournaments import Tournament

VERSION = re.compile(r"v\d+(?:\.\d+)*")


def version_key(version: str) -> tuple[int, ...]:
    """``v5.10`` sorts after ``v5.9``."""
    return tuple(int(part) for part in re.findall(r"\d+", version))


def served_versions(tournament: Tournament, served: Iterable[str]) -> list[str]:
    """The tournament's data versions among ``served`` file names, oldest first."""
    found = set()
    for name in served:
        if not name.startswith(tournament.data_prefix):
            continue
        head, slash, _rest = name[len(tournament.data_prefix) :].partition("/")
        if slash and VERSION.fullmatch(head):
            found.add(head)
    return sorted(found, key=version_key)


def version_notices(
    tournament: Tournament, models: Mapping[str, str], served: Iterable[str]
) -> list[str]:
    """A line per older data version in use: newer one served, or the old one retired.

    ``models``: model name -> its data version ("" when unknown, then it is skipped).
    """
    versions = served_versions(tournament, served)
    if not versions:
        return []
    newest = versions[-1]
    older: dict[str, list[str]] = {}
    for name, version in sorted(models.items()):
        if version and VERSION.fullmatch(version) and version_key(version) < version_key(newest):
            older.setdefault(version, []).append(name)
    notices = []
    for version, names in sorted(older.items(), key=lambda item: version_key(item[0])):
        who = ", ".join(names)
        if version in versions:
            notices.append(
                f"{tournament.name}: Numerai serves data {newest}, newer than {version} of "
                f"{who}: retrain on {newest} (`numerai-bot train --tournament "
                f"{tournament.name} --data-version {newest} ...`), then publish"
            )
        else:
            notices.append(
                f"{tournament.name}: Numerai no longer serves data {version} of {who}: these "
                f"models fail until retrained on {newest} and published"
            )
    return notices
