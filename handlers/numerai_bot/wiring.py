"""Build the real adapters from settings (once per warm container)."""

from __future__ import annotations

from pathlib import Path

from numerai_bot.adapters.aws_session import AwsSession
from numerai_bot.adapters.dynamodb_guard import IdempotencyGuard
from numerai_bot.adapters.dynamodb_ledger import DynamoLedger
from numerai_bot.adapters.lambda_invoker import LambdaInvoker
from numerai_bot.adapters.model_store import open_model_store
from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot.adapters.secrets_manager import numerai_keys
from numerai_bot.adapters.sns_notifier import SnsNotifier
from numerai_bot.churn import SubmissionArchive
from numerai_bot.config import WorkerSettings
from numerai_bot.inference import ModelCache
from numerai_bot.live_data import LiveDataCache
from numerai_bot.model_input import NUMERAI, OWN
from numerai_bot.own_data.feature_function import FeatureFunction
from numerai_bot.own_data.tables import OwnTables
from numerai_bot.ports import WorkerInvoker
from numerai_bot.round.inputs import ModelInputs, NumeraiInput, OwnInput
from numerai_bot.round.runner import RoundRunner

# What every run touches: the keys, models.json and the models, the ledger and the guard.
WORKER_SERVICES = ("secretsmanager", "s3", "dynamodb")


def build_runner(
    settings: WorkerSettings,
    fanout: WorkerInvoker | None = None,
    aws: AwsSession | None = None,
) -> RoundRunner:
    """The worker's core with Numerai, S3 (or a folder), DynamoDB, SNS and /tmp behind it,
    every AWS client from one session, ``aws`` or a new one (see :mod:`.adapters.aws_session`).

    ``fanout`` runs shards; by default the worker invokes itself (WORKER_FUNCTION_ARN).
    """
    aws = aws or AwsSession()
    public_id, secret_key = numerai_keys(settings.numerai_secret_id, aws)
    numerai = NumeraiClient(
        public_id, secret_key, api_url=settings.numerai_api_url, tournament=settings.tournament
    )
    store = open_model_store(settings.model_store_uri, aws=aws)
    shared = open_model_store(settings.live_cache_uri, aws=aws) if settings.live_cache_uri else None
    if fanout is None and settings.worker_function_arn:
        fanout = LambdaInvoker(settings.worker_function_arn, aws=aws)
    live_data = LiveDataCache(settings.live_data_dir, numerai, shared)
    tables = OwnTables(
        open_model_store(settings.own_data_uri, aws=aws), _feature_function(settings)
    )
    inputs = ModelInputs(
        {
            NUMERAI: NumeraiInput(live_data),
            OWN: OwnInput(live_data, tables, Path(settings.live_data_dir) / "own"),
        }
    )
    return RoundRunner(
        numerai=numerai,
        store=store,
        ledger=DynamoLedger(settings.ledger_table_name, aws=aws),
        live_data=live_data,
        inputs=inputs,
        models=ModelCache(store),
        guard=IdempotencyGuard(settings.ledger_table_name, aws=aws),
        fanout=fanout,
        shard_size=settings.shard_size,
        max_shards=settings.max_shards,
        lanes=settings.predict_lanes,
        notifier=SnsNotifier(settings.alert_topic_arn, aws=aws)
        if settings.alert_topic_arn
        else None,
        refresh_credentials=lambda: numerai.use_keys(
            *numerai_keys(settings.numerai_secret_id, aws)
        ),
        archive=SubmissionArchive(open_model_store(settings.submissions_uri, aws=aws)),
    )


def _feature_function(settings: WorkerSettings) -> FeatureFunction | None:
    """The stack's feature function, invoked through Lambda (None: the stack has none)."""
    if not settings.feature_function_name:
        return None
    from numerai_bot.adapters.lambda_feature_function import LambdaFeatureFunction

    return LambdaFeatureFunction(settings.feature_function_name)
