"""All settings, read once from the environment and validated at start-up with clear errors."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from numerai_bot.errors import ConfigError

# Concurrent executions left free for the webhook's Function URL calls (and the workers they
# start) while a fan-out runs: with none free, Numerai's webhook calls get HTTP 429. A new
# account has 10 executions for every function together.
WEBHOOK_EXECUTIONS = 3
NEW_ACCOUNT_CONCURRENCY = 10


def shards_allowed(concurrency: int) -> int:
    """How many shards one fan-out may start at once: the account's concurrent executions,
    less the worker that fans out and the webhook's room (at least one)."""
    return max(1, concurrency - 1 - WEBHOOK_EXECUTIONS)


NUMERAI_API_URL = "https://api-tournament.numer.ai"
CLASSIC_TOURNAMENT = 8
DEFAULT_MAX_BODY_BYTES = 4096


@dataclass(frozen=True)
class WorkerSettings:
    """What the worker needs to submit a round."""

    numerai_api_url: str
    model_store_uri: str
    ledger_table_name: str
    numerai_secret_id: str | None
    live_data_dir: str
    tournament: int
    worker_function_arn: str | None
    alert_topic_arn: str | None
    shard_size: int = 50
    max_shards: int = shards_allowed(NEW_ACCOUNT_CONCURRENCY)
    predict_lanes: int | None = None  # models predicting at once (None: one per vCPU)
    own_data_override: str | None = None  # OWN_DATA_URI, when not beside the model store
    feature_function_name: str | None = None  # the stack's feature function, if deployed

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerSettings:
        """Read and validate; raise :class:`ConfigError` naming every problem at once."""
        env = os.environ if env is None else env
        problems: list[str] = []
        api_url = _url(env, "NUMERAI_API_URL", NUMERAI_API_URL, problems)
        store = env.get("MODEL_STORE_URI", "").strip()
        if not store:
            problems.append("MODEL_STORE_URI is not set (s3://bucket/prefix or a local folder)")
        elif store.startswith("s3://") and not urlparse(store).netloc:
            problems.append(f"MODEL_STORE_URI {store!r} has no bucket name")
        table = env.get("LEDGER_TABLE_NAME", "").strip()
        if not table:
            problems.append("LEDGER_TABLE_NAME is not set (the DynamoDB ledger table)")
        secret_id = env.get("NUMERAI_SECRET_ID", "").strip() or None
        has_env_keys = bool(env.get("NUMERAI_PUBLIC_ID")) and bool(env.get("NUMERAI_SECRET_KEY"))
        if not secret_id and not has_env_keys:
            problems.append(
                "no Numerai API keys: set NUMERAI_SECRET_ID (a Secrets Manager secret with "
                "public_id and secret_key) or, for local runs only, NUMERAI_PUBLIC_ID and "
                "NUMERAI_SECRET_KEY"
            )
        tournament = _int(env, "NUMERAI_TOURNAMENT", CLASSIC_TOURNAMENT, problems)
        shard_size = _int(env, "SHARD_SIZE", 50, problems)
        if shard_size < 1:
            problems.append("SHARD_SIZE must be at least 1")
        max_shards = _int(env, "MAX_SHARDS", shards_allowed(NEW_ACCOUNT_CONCURRENCY), problems)
        if max_shards < 1:
            problems.append("MAX_SHARDS must be at least 1")
        # 1 when memory is what the stack is short of: one session and one batch in flight
        # instead of one per vCPU (docs/benchmarks.md: its memory and its time).
        lanes = _int(env, "PREDICT_LANES", 0, problems)  # 0 or unset: one per vCPU
        if problems:
            raise ConfigError("invalid worker settings: " + "; ".join(problems))
        return cls(
            numerai_api_url=api_url,
            model_store_uri=store,
            ledger_table_name=table,
            numerai_secret_id=secret_id,
            # /tmp is Lambda's only writable disk.
            live_data_dir=env.get("LIVE_DATA_DIR", "/tmp/numerai-live"),  # noqa: S108  # nosec B108
            tournament=tournament,
            worker_function_arn=env.get("WORKER_FUNCTION_ARN") or None,
            alert_topic_arn=env.get("ALERT_TOPIC_ARN") or None,
            shard_size=shard_size,
            max_shards=max_shards,
            predict_lanes=lanes or None,
            own_data_override=env.get("OWN_DATA_URI", "").strip() or None,
            feature_function_name=env.get("FEATURE_FUNCTION_NAME", "").strip() or None,
        )

    @property
    def own_data_uri(self) -> str:
        """Where the users' own tables are: ``OWN_DATA_URI``, else the model bucket's
        ``own-data/``, or an ``_own-data`` folder beside a local model store."""
        if self.own_data_override:
            return self.own_data_override
        if not self.model_store_uri.startswith("s3://"):
            return os.path.join(self.model_store_uri, "_own-data")
        bucket = urlparse(self.model_store_uri).netloc
        return f"s3://{bucket}/own-data"

    @property
    def live_cache_uri(self) -> str | None:
        """Where shards share the round's live file: the model bucket's ``live-cache/``."""
        if not self.model_store_uri.startswith("s3://"):
            return None
        bucket = urlparse(self.model_store_uri).netloc
        return f"s3://{bucket}/live-cache"

    @property
    def submissions_uri(self) -> str:
        """Where every uploaded file is kept for the churn guard: the bucket's
        ``submissions/``, or a ``submissions`` folder beside a local model store."""
        if not self.model_store_uri.startswith("s3://"):
            return os.path.join(self.model_store_uri, "_submissions")
        bucket = urlparse(self.model_store_uri).netloc
        return f"s3://{bucket}/submissions"


@dataclass(frozen=True)
class WebhookSettings:
    """What the webhook needs: where the token lives, whom to hand off to, the body limit."""

    worker_function_arn: str
    token_secret_id: str | None
    max_body_bytes: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookSettings:
        """Read and validate; raise :class:`ConfigError` naming every problem at once."""
        env = os.environ if env is None else env
        problems: list[str] = []
        worker = env.get("WORKER_FUNCTION_ARN", "").strip()
        if not worker:
            problems.append("WORKER_FUNCTION_ARN is not set (the worker to invoke)")
        secret_id = env.get("WEBHOOK_TOKEN_SECRET_ID", "").strip() or None
        if not secret_id and not env.get("WEBHOOK_TOKEN"):
            problems.append(
                "WEBHOOK_TOKEN_SECRET_ID is not set (or WEBHOOK_TOKEN for local runs only)"
            )
        max_body = _int(env, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, problems)
        if problems:
            raise ConfigError("invalid webhook settings: " + "; ".join(problems))
        return cls(worker_function_arn=worker, token_secret_id=secret_id, max_body_bytes=max_body)


def _url(env: Mapping[str, str], name: str, default: str, problems: list[str]) -> str:
    value = env.get(name, "").strip() or default
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        problems.append(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _int(env: Mapping[str, str], name: str, default: int, problems: list[str]) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]+", raw):
        problems.append(f"{name} must be a positive integer, got {raw!r}")
        return default
    return int(raw)
