"""The stand-ins every measured side talks to, served by the benchmark's parent process.

Why in the parent: each side runs in its own subprocess so that its peak RSS is its own;
the servers (moto for S3, DynamoDB and Secrets Manager; the Numerai GraphQL stand-in with
full-size live data) must not count towards it. Both sides pay the same loopback costs.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import boto3

from numerai_bot.adapters.model_store import S3ModelStore
from numerai_bot.inference import load_model
from numerai_bot.models_config import CONFIG_KEY, ModelConfig, render_models_config
from numerai_bot.tournaments import CLASSIC, Tournament, tournament
from standins.aws import REGION, LocalStack, MotoServer, provision
from standins.numerai.app import model_id_for
from standins.numerai.server import NumeraiStandin

DATA_VERSION = "v5.2"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def distinct_copy(onnx_bytes: bytes, name: str) -> bytes:
    """``onnx_bytes`` plus one metadata entry ``bench_copy = name``: same trees, same cost,
    different bytes.

    Why: the core shares one session between files with identical bytes, which real
    accounts (different models) never have; N identical files would measure one model.
    Appending a ``metadata_props`` entry (ModelProto field 14) to the serialised message is
    valid protobuf: repeated fields may be appended.
    """
    key, value = b"bench_copy", name.encode()
    entry = b"\x0a" + _varint(len(key)) + key + b"\x12" + _varint(len(value)) + value
    return onnx_bytes + b"\x72" + _varint(len(entry)) + entry


def model_names(count: int, which: Tournament = CLASSIC) -> list[str]:
    """``bench_000`` … (Classic), ``bench_signals_000`` … : the account's model names."""
    infix = "" if which == CLASSIC else f"{which.name}_"
    return [f"bench_{infix}{i:03d}" for i in range(count)]


class BenchStack:
    """moto + Numerai stand-in, with one model-store prefix per case and a round per run."""

    def __init__(self, workdir: Path, max_models: int, tournament_models: int = 0) -> None:
        self.workdir = Path(workdir)
        self.names = model_names(max_models)
        # The baseline submits for models of its own: in a pair both sides share a round, and
        # our worker rightly skips a model Numerai already holds a submission for.
        self.baseline_names = [f"bench_base_{i:03d}" for i in range(max_models)]
        # The previous release's worker too, so that it submits in the same round.
        self.previous_names = [f"bench_prev_{i:03d}" for i in range(max_models)]
        self.tournament_names = {
            t: model_names(tournament_models, tournament(t)) for t in ("signals", "crypto")
        }
        self.token = "bench-webhook-token-" + "x" * 24
        self._moto = MotoServer()
        self.standin: NumeraiStandin | None = None
        self.stack: LocalStack | None = None
        self._s3: Any = None
        self._published: dict[str, str] = {}

    def __enter__(self) -> BenchStack:
        for name in ("werkzeug", "numerapi", "standins"):  # servers' access logs off screen
            logging.getLogger(name).setLevel(logging.WARNING)
        endpoint = self._moto.__enter__()
        owners = {n: t for t, names in self.tournament_names.items() for n in names}
        self.standin = NumeraiStandin(
            self.workdir / "numerai-data",
            (DATA_VERSION,),
            models={
                name: model_id_for(name)
                for name in [*self.names, *self.baseline_names, *self.previous_names, *owners]
            },
            model_tournaments=owners,
        ).start()
        self.stack = provision(
            endpoint, self.standin.public_id, self.standin.secret_key, self.token
        )
        env = self.stack.env()  # moto's dummy keys
        self._s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.standin is not None:
            self.standin.stop()
        self._moto.__exit__()

    # -- set-up (not timed) ----------------------------------------------------------------
    def publish(
        self,
        prefix: str,
        onnx_bytes: bytes,
        count: int,
        which: Tournament = CLASSIC,
        names: list[str] | None = None,
    ) -> str:
        """The same trees under ``count`` model names of ``which`` tournament in
        ``s3://bucket/<prefix>``, each file with its own bytes (see :func:`distinct_copy`);
        ``names`` overrides the tournament's bench names."""
        assert self.stack is not None
        if prefix in self._published:
            return self._published[prefix]
        version = load_model("bench.onnx", "1", onnx_bytes, threads=1).metadata.data_version
        store = S3ModelStore(self.stack.bucket, prefix, self._s3)
        if names is None:
            names = self.names if which == CLASSIC else self.tournament_names[which.name]
        configs = []
        for name in names[:count]:
            store.write(f"{name}.onnx", distinct_copy(onnx_bytes, name))
            configs.append(ModelConfig(name, f"{name}.onnx", "rank", version, which))
        store.write(CONFIG_KEY, render_models_config(configs))
        self._published[prefix] = store.uri
        return store.uri

    def new_round(self, live_rows: int | None = None, which: Tournament = CLASSIC) -> int:
        """Open ``which`` tournament's next round (fresh live values, so no ledger entry or
        cached file carries over); ``live_rows`` changes the size of this and later Classic
        live files."""
        assert self.standin is not None
        if live_rows is not None and live_rows != self.standin.data.sizes.live_rows:
            self.standin.data.sizes = dataclasses.replace(
                self.standin.data.sizes, live_rows=live_rows
            )
        return self.standin.open_round(trigger_webhooks=False, tournament=which.name)

    @property
    def live_path(self) -> Path:
        """The current round's live file as the stand-in serves it."""
        assert self.standin is not None
        return self.standin.data.root / DATA_VERSION / "live.parquet"

    # -- what the children get -------------------------------------------------------------
    def aws_env(self) -> dict[str, str]:
        """boto3 and our settings pointed at moto (AWS_ENDPOINT_URL, table, secrets …)."""
        assert self.stack is not None
        return self.stack.env()

    def worker_env(self, store_uri: str, live_dir: Path) -> dict[str, str]:
        """The worker's Lambda environment for one run: no fan-out, a fresh /tmp."""
        assert self.standin is not None
        return {
            **self.aws_env(),
            "NUMERAI_API_URL": self.standin.url,
            "MODEL_STORE_URI": store_uri,
            "LIVE_DATA_DIR": str(live_dir),
            "SHARD_SIZE": "1000",  # one worker for every model: the case measures one worker
            "POWERTOOLS_SERVICE_NAME": "numerai-bot-worker",
            "POWERTOOLS_METRICS_NAMESPACE": "NumeraiBotBench",
            "AWS_LAMBDA_FUNCTION_NAME": "numerai-bot-worker",
        }

    def webhook_env(self) -> dict[str, str]:
        """The webhook's Lambda environment (token from the moto secret)."""
        return {
            **self.aws_env(),
            "WORKER_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:worker",
            "POWERTOOLS_SERVICE_NAME": "numerai-bot-webhook",
            "AWS_LAMBDA_FUNCTION_NAME": "numerai-bot-webhook",
        }

    def numerai_credentials(self) -> dict[str, str]:
        """What a user's script needs: the endpoint and the API keys."""
        assert self.standin is not None
        return {
            "api_url": self.standin.url,
            "public_id": self.standin.public_id,
            "secret_key": self.standin.secret_key,
            "data_version": DATA_VERSION,
        }
