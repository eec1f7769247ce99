"""Fan-out shards balanced by predicted cost, not by model count.

A 20,000-tree ensemble costs as much as fifty 400-tree models: shards formed by count would
leave one shard running long after the others. Each model's cost is what ``publish``
measured (``models.json`` ``"cost"``: seconds to predict 1,000 rows and to build its session)
times its tournament's typical live rows; models never measured count as a typical model.
The number of shards is what the models need at ``shard_size`` typical models each, capped
by how many the account can run at once (``max_shards``).
"""

from __future__ import annotations

import math
from typing import Any

from numerai_bot.models_config import ModelConfig
from numerai_bot.postprocess.cost import postprocess_seconds

# A typical published model (2,000 trees, medium features): ~0.45 s for 6,720 rows and
# ~0.1 s to fetch its file and build its session (docs/benchmarks.md).
DEFAULT_SECONDS_PER_1K_ROWS = 0.067
DEFAULT_SESSION_SECONDS = 0.11


def model_cost(config: ModelConfig) -> float:
    """Predicted seconds for one model in one round (measured at publish, else typical)."""
    cost: Any = config.extra.get("cost")
    per_1k = _positive(cost, "predict_seconds_per_1k_rows", DEFAULT_SECONDS_PER_1K_ROWS)
    session = _positive(cost, "session_seconds", DEFAULT_SESSION_SECONDS)
    own = session + per_1k * config.tournament.typical_live_rows / 1000
    return own + postprocess_seconds(config, model_cost)  # neutralization, blended models


def typical_cost() -> float:
    """The cost of a model never measured, on Classic's live file."""
    return DEFAULT_SESSION_SECONDS + DEFAULT_SECONDS_PER_1K_ROWS * 6.72


def balanced_shards(
    configs: list[ModelConfig], shard_size: int, max_shards: int
) -> list[list[ModelConfig]]:
    """Split ``configs`` into shards of about equal cost (longest first onto the lightest
    shard): as many as ``shard_size`` typical models per shard would need, at most
    ``max_shards``; each shard keeps the models' configured order."""
    if not configs:
        return []
    costs = [model_cost(c) for c in configs]
    target = max(shard_size, 1) * typical_cost()
    count = min(max(math.ceil(sum(costs) / target), 1), max(max_shards, 1), len(configs))
    loads = [0.0] * count
    members: list[list[int]] = [[] for _ in range(count)]
    for index in sorted(range(len(configs)), key=lambda i: -costs[i]):
        lightest = min(range(count), key=lambda s: loads[s])
        loads[lightest] += costs[index]
        members[lightest].append(index)
    return [[configs[i] for i in sorted(shard)] for shard in members if shard]


def _positive(cost: Any, key: str, default: float) -> float:
    value = cost.get(key) if isinstance(cost, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return default
    return float(value)
