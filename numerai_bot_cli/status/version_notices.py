"""The ``status`` notices about data versions: models trained on an older version than the
newest Numerai serves, and models whose version Numerai no longer serves.

What Numerai serves is read by :mod:`numerai_bot.data_versions`, as the worker reads it; a
model's version is the ``data_version`` of its ``models.json`` entry (from the ONNX file's
metadata at publish time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from numerai_bot.data_versions import older_than_newest, served_versions, version_key
from numerai_bot.tournaments import Tournament


def version_notices(
    tournament: Tournament, models: Mapping[str, str], served: Iterable[str]
) -> list[str]:
    """A line per older data version in use: newer one served, or the old one retired.

    ``models``: model name -> its data version ("" when unknown, then it is skipped).
    """
    served = tuple(served)
    versions = served_versions(tournament, served)
    if not versions:
        return []
    newest = versions[-1]
    older: dict[str, list[str]] = {}
    for name, version in sorted(older_than_newest(tournament, models, served).items()):
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
