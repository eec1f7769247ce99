"""Which columns a model reads, in which order: feature sets, feature list files, name checks.

Why: the exported graph takes a plain matrix, so the column order *is* the contract. The
worker selects columns by the ordered list stored in the file's metadata. Here that order is
decided once (from the model, ``features.json`` or a list file) and checked against the
model's own feature names, so a model can never be exported with its columns shuffled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# LightGBM's names for columns of a matrix trained without names.
_GENERIC_NAME = re.compile(r"Column_\d+")


class FeatureError(ValueError):
    """The feature list cannot be used with this model; the message says what to pass."""


def read_feature_set(features_json: Path, feature_set: str) -> list[str]:
    """The ordered feature names of one set (``small``, ``medium``, ``all``…) in features.json."""
    try:
        document = json.loads(Path(features_json).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise FeatureError(f"cannot read {features_json}: {error}") from None
    sets = document.get("feature_sets", {}) if isinstance(document, dict) else {}
    if feature_set not in sets:
        names = ", ".join(sorted(sets)) or "none"
        raise FeatureError(
            f"feature set {feature_set!r} is not in {features_json} (available: {names})"
        )
    return list(sets[feature_set])


def read_feature_list(path: Path) -> list[str]:
    """Feature names from a file: a JSON list, or one name per line (blank lines skipped)."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise FeatureError(f"cannot read feature list {path}: {error}") from None
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            names = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise FeatureError(f"{path} looks like JSON but is not valid: {error}") from None
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names or not all(isinstance(name, str) and name for name in names):
        raise FeatureError(f"{path} holds no feature names")
    return list(names)


def unnamed(count: int) -> list[str]:
    """Placeholder names for a model trained on a bare matrix (LightGBM's ``Column_N``).

    Converters of libraries that keep no names (XGBoost, scikit-learn, CatBoost on a NumPy
    array) use them, so :func:`resolve_feature_order` asks the user for the real list.
    """
    return [f"Column_{i}" for i in range(count)]


def has_generic_names(model_names: Sequence[str]) -> bool:
    """True when the model was trained on a bare matrix (names ``Column_0``, ``Column_1``…)."""
    return all(_GENERIC_NAME.fullmatch(name) for name in model_names)


def resolve_feature_order(
    model_names: Sequence[str], given: Sequence[str] | None = None
) -> list[str]:
    """The graph's input columns: ``given`` when it fits the model, else the model's own names.

    A model trained on a bare matrix has no real names: ``given`` is then taken position by
    position and must have the same length. A model with real names accepts ``given`` in any
    order as long as it holds exactly the model's names (the graph then reads that order).
    """
    model_names = list(model_names)
    if given is None:
        if has_generic_names(model_names):
            raise FeatureError(
                "the model has no feature names (it was trained on a bare matrix): pass the "
                "ordered feature list it was trained with (--features-json with --feature-set, "
                "or --feature-list)"
            )
        return model_names
    given = list(given)
    if len(set(given)) != len(given):
        raise FeatureError("the feature list names a column more than once")
    if has_generic_names(model_names):
        if len(given) != len(model_names):
            raise FeatureError(
                f"the model reads {len(model_names)} columns but the feature list has "
                f"{len(given)}: pass the list the model was trained with"
            )
        return given
    missing = [name for name in model_names if name not in set(given)]
    extra = [name for name in given if name not in set(model_names)]
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"{len(missing)} of the model's columns missing, e.g. {missing[:3]}")
        if extra:
            problems.append(f"{len(extra)} columns the model does not use, e.g. {extra[:3]}")
        raise FeatureError(
            f"the feature list does not match the model's features ({'; '.join(problems)}): "
            "pass the list or feature set the model was trained with"
        )
    return given


def model_columns(model_names: Sequence[str], graph_names: Sequence[str]) -> np.ndarray:
    """For each model feature, its column in the graph's input (to feed the native model)."""
    if has_generic_names(model_names):
        return np.arange(len(model_names))
    position = {name: i for i, name in enumerate(graph_names)}
    return np.array([position[name] for name in model_names], dtype=np.int64)
