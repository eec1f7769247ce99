"""A model's post-processing as declared in ``models.json``: neutralize, then rank, then blend.

In ``models.json``::

    "my_model": {"artifact": "my_model.onnx",
                 "neutralize": {"proportion": 0.5, "against": "medium"},
                 "blend": [{"benchmark": "v52_lgbm_ender20", "weight": 0.2},
                           {"model": "my_other_model", "weight": 0.1}]}

``against`` is ``"all"`` (every numeric feature of the live file), a feature set of the data
version's ``features.json`` (``"small"``, ``"medium"``, Signals' ``"factors"``...), or a
list of column names. ``blend`` mixes the model's ranked predictions with Numerai's benchmark
models' live predictions (``live_benchmark_models.parquet`` of the model's data version)
and with other configured models' final predictions, each ranked; the model keeps
``1 - sum(weights)``, and the mix is ranked again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from numerai_bot.errors import ConfigError

if TYPE_CHECKING:
    from numerai_bot.models_config import ModelConfig

ALL_FEATURES = "all"
BENCHMARK = "benchmark"
MODEL = "model"
BLEND_SOURCES = (BENCHMARK, MODEL)
NEUTRALIZE_KEYS = frozenset({"proportion", "against"})


@dataclass(frozen=True)
class Neutralization:
    """Remove ``proportion`` of the predictions' linear exposure to the ``against`` columns."""

    proportion: float
    against: str | tuple[str, ...]  # "all", a features.json set name, or column names

    @property
    def named_set(self) -> str | None:
        """The features.json set to read, if ``against`` names one (not "all", not a list)."""
        if isinstance(self.against, str) and self.against != ALL_FEATURES:
            return self.against
        return None


@dataclass(frozen=True)
class BlendPart:
    """Another set of ranked live predictions mixed in with ``weight``."""

    source: str  # "benchmark" (a column of live_benchmark_models.parquet) or "model"
    name: str
    weight: float
    # The configured model blended in (source "model"), resolved once models.json is read.
    model: ModelConfig | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PostProcess:
    """What happens to a model's raw predictions between predict and the checked file."""

    neutralization: Neutralization | None = None
    blend: tuple[BlendPart, ...] = ()

    @property
    def own_weight(self) -> float:
        """The weight the model's own ranked predictions keep in the blend."""
        return 1.0 - sum(part.weight for part in self.blend)

    @property
    def declared(self) -> bool:
        """Whether anything beyond the transform is declared."""
        return self.neutralization is not None or bool(self.blend)


NO_POSTPROCESS = PostProcess()


def parse_postprocess(model: str, entry: dict[str, Any], transform: str) -> PostProcess:
    """The entry's ``neutralize`` and ``blend`` keys, checked (``ConfigError`` names the fix)."""
    neutralization = _neutralization(model, entry.get("neutralize"))
    blend = _blend(model, entry.get("blend"))
    result = PostProcess(neutralization, blend)
    if result.declared and transform != "rank":
        raise ConfigError(
            f"model {model!r}: 'neutralize' and 'blend' work on ranks; set 'transform' to "
            f"'rank' (it is {transform!r})"
        )
    return result


def _neutralization(model: str, value: Any) -> Neutralization | None:
    if value is None:
        return None
    if not isinstance(value, dict) or "proportion" not in value:
        raise ConfigError(
            f"model {model!r}: 'neutralize' must be an object like "
            '{"proportion": 0.5, "against": "all"}'
        )
    unknown = set(value) - NEUTRALIZE_KEYS
    if unknown:
        raise ConfigError(
            f"model {model!r}: 'neutralize' has unknown keys {', '.join(sorted(map(str, unknown)))}"
        )
    proportion = value["proportion"]
    if (
        isinstance(proportion, bool)
        or not isinstance(proportion, int | float)
        or not 0 < proportion <= 1
    ):
        raise ConfigError(
            f"model {model!r}: 'neutralize.proportion' must be a number in (0, 1], "
            f"got {proportion!r}"
        )
    against = value.get("against", ALL_FEATURES)
    if isinstance(against, list):
        if not against or not all(isinstance(c, str) and c for c in against):
            raise ConfigError(
                f"model {model!r}: 'neutralize.against' as a list must name columns, "
                f"got {against!r}"
            )
        if len(set(against)) != len(against):
            raise ConfigError(f"model {model!r}: 'neutralize.against' lists a column twice")
        against = tuple(against)
    elif not isinstance(against, str) or not against.strip():
        raise ConfigError(
            f"model {model!r}: 'neutralize.against' must be \"all\", a feature set of "
            f'features.json (e.g. "medium") or a list of columns, got {against!r}'
        )
    return Neutralization(float(proportion), against)


def _blend(model: str, value: Any) -> tuple[BlendPart, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise ConfigError(
            f"model {model!r}: 'blend' must be a list like "
            '[{"benchmark": "v52_lgbm_ender20", "weight": 0.2}]'
        )
    parts: list[BlendPart] = []
    for item in value:
        sources = [s for s in BLEND_SOURCES if isinstance(item, dict) and s in item]
        if len(sources) != 1 or set(item) - {sources[0], "weight"}:
            raise ConfigError(
                f'model {model!r}: each \'blend\' item is {{"benchmark": <column>, "weight": w}}'
                f' or {{"model": <configured model>, "weight": w}}, got {item!r}'
            )
        source = sources[0]
        name = item[source]
        weight = item.get("weight")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"model {model!r}: 'blend' {source} must be a name, got {name!r}")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or not 0 < weight < 1
        ):
            raise ConfigError(
                f"model {model!r}: 'blend' weight of {name!r} must be a number in (0, 1), "
                f"got {weight!r}"
            )
        if source == MODEL and name == model:
            raise ConfigError(f"model {model!r}: 'blend' names the model itself")
        parts.append(BlendPart(source, name, float(weight)))
    if len({(p.source, p.name) for p in parts}) != len(parts):
        raise ConfigError(f"model {model!r}: 'blend' names the same source twice")
    total = sum(p.weight for p in parts)
    if total >= 1:
        raise ConfigError(
            f"model {model!r}: 'blend' weights add up to {total:g}; they must stay below 1 "
            "(the model keeps the rest)"
        )
    return tuple(parts)


def render_postprocess(post: PostProcess) -> dict[str, Any]:
    """The ``models.json`` keys for ``post`` (none when nothing is declared)."""
    out: dict[str, Any] = {}
    if post.neutralization is not None:
        against = post.neutralization.against
        out["neutralize"] = {
            "proportion": post.neutralization.proportion,
            "against": list(against) if isinstance(against, tuple) else against,
        }
    if post.blend:
        out["blend"] = [{p.source: p.name, "weight": p.weight} for p in post.blend]
    return out


def resolve_blends(configs: list[ModelConfig]) -> tuple[list[ModelConfig], dict[str, str]]:
    """Each config with the models its blend names attached; the ones that cannot blend
    (an unknown or broken model, another tournament, a cycle) as ``{name: error}``."""
    import dataclasses

    by_name = {c.name: c for c in configs}
    resolved: dict[str, ModelConfig] = {}
    errors: dict[str, str] = {}

    def resolve(name: str, path: tuple[str, ...]) -> ModelConfig:
        if name in resolved:
            return resolved[name]
        if name in errors:
            raise ConfigError(errors[name])
        config = by_name[name]
        parts = []
        for part in config.postprocess.blend:
            if part.source != MODEL:
                parts.append(part)
                continue
            if part.name in path or part.name == name:
                cycle = " -> ".join((*path, name, part.name))
                raise ConfigError(f"model {name!r}: 'blend' goes round in a circle ({cycle})")
            other = by_name.get(part.name)
            if other is None:
                raise ConfigError(
                    f"model {name!r}: 'blend' names {part.name!r}, which is not a usable model "
                    "of models.json"
                )
            if other.tournament != config.tournament:
                raise ConfigError(
                    f"model {name!r}: 'blend' names {part.name!r}, a {other.tournament.name} "
                    f"model; blends stay within {config.tournament.name}"
                )
            try:
                attached = resolve(part.name, (*path, name))
            except ConfigError as error:
                raise ConfigError(
                    f"model {name!r}: 'blend' names {part.name!r}, which cannot run ({error})"
                ) from None
            parts.append(dataclasses.replace(part, model=attached))
        post = dataclasses.replace(config.postprocess, blend=tuple(parts))
        done = dataclasses.replace(config, postprocess=post)
        resolved[name] = done
        return done

    kept = []
    for config in configs:
        try:
            kept.append(resolve(config.name, ()))
        except ConfigError as error:
            errors[config.name] = str(error)
    return kept, errors
