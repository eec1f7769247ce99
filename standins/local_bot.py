"""The whole bot, locally: moto (S3, DynamoDB, Secrets Manager), Numerai's stand-in, the
webhook served as a Function URL, and the worker run by a local async invoker.

The demo and the integration tests both use it, so what the demo shows is what is tested.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from aws_lambda_powertools.utilities import parameters

from model_export.publish import publish
from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot.config import WorkerSettings
from numerai_bot.postprocess.spec import PostProcess
from numerai_bot.wiring import build_runner
from standins.aws import LocalStack, MotoServer, apply_env, provision, restore_env
from standins.lambda_endpoint import LambdaEndpoint, SubprocessFunction
from standins.local_lambda import FunctionUrlServer, ThreadInvoker
from standins.numerai.server import NumeraiStandin

FEATURE_FUNCTION = "numerai-bot-features"  # the stack's feature function, by name


class LocalBot:
    """Context manager bringing up every stand-in and the two handlers wired to them."""

    def __init__(
        self,
        workdir: Path,
        models: dict[str, str] | None = None,
        numerai_api_url: str | None = None,
        feature_function: Path | None = None,
        feature_env: dict[str, str] | None = None,
        webhook_bind: tuple[str, int] = ("127.0.0.1", 0),
        webhook_public_url: str | None = None,
        **standin_options: Any,
    ) -> None:
        self.workdir = Path(workdir)
        # Where the webhook listens, and the address registered with Numerai when that is not
        # this machine's loopback (an endpoint elsewhere reaches it through a tunnel, say).
        self.webhook_bind = webhook_bind
        self.webhook_public_url = webhook_public_url
        self.models = models
        self.external_api_url = numerai_api_url
        self.standin_options = standin_options
        self.token = secrets.token_urlsafe(32)
        self.standin: NumeraiStandin | None = None
        self.stack: LocalStack | None = None
        self._moto = MotoServer()
        self._previous_env: dict[str, str | None] = {}
        self._server: FunctionUrlServer | None = None
        # The user's feature function (a folder with app.py), run as Lambda would: its own
        # process and environment, behind Lambda's Invoke API (the worker invokes it by name).
        self.feature_function = feature_function
        self.feature_env = dict(feature_env or {})
        self.lambda_api: LambdaEndpoint | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> LocalBot:
        parameters.clear_caches()
        endpoint = self._moto.__enter__()
        if self.external_api_url:
            api_url = self.external_api_url
            public_id = os.environ["NUMERAI_PUBLIC_ID"]
            secret_key = os.environ["NUMERAI_SECRET_KEY"]
        else:
            self.standin = NumeraiStandin(
                self.workdir / "numerai-data", models=self.models, **self.standin_options
            )
            self.standin.start()
            api_url, public_id, secret_key = (
                self.standin.url,
                self.standin.public_id,
                self.standin.secret_key,
            )
        self.stack = provision(endpoint, public_id, secret_key, self.token)
        functions: dict[str, str] = {}
        if self.feature_function is not None:
            self.lambda_api = LambdaEndpoint().__enter__()
            aws = {k: v for k, v in self.stack.env().items() if k.startswith("AWS_")}
            self.lambda_api.register(
                FEATURE_FUNCTION,
                SubprocessFunction(self.feature_function, {**aws, **self.feature_env}, timeout=300),
            )
            functions = {"FEATURE_FUNCTION_NAME": FEATURE_FUNCTION, **self.lambda_api.env()}
        self._previous_env = apply_env(
            {
                **self.stack.env(),
                **functions,
                "NUMERAI_API_URL": api_url,
                "LIVE_DATA_DIR": str(self.workdir / "live-cache"),
                "WORKER_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:worker",
                "POWERTOOLS_METRICS_NAMESPACE": "NumeraiBotLocal",
            }
        )
        self.numerai = NumeraiClient(public_id, secret_key, api_url=api_url)
        self.restart_handlers()
        return self

    def restart_handlers(self) -> None:
        """Fresh handlers, as after a cold start (the webhook server keeps its URL)."""
        import webhook
        import worker

        self.worker_handler = worker.create_handler(
            lambda: build_runner(WorkerSettings.from_env(), fanout=self.invoker)
        )
        self.invoker = ThreadInvoker(self.worker_handler)
        self.webhook_handler = webhook.create_handler(lambda _settings: self.invoker)
        if self._server is None:
            host, port = self.webhook_bind
            self._server = FunctionUrlServer(self._dispatch, port, host).__enter__()

    def _dispatch(self, event: dict, context: Any) -> dict:
        return self.webhook_handler(event, context)

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.__exit__()
        if self.standin is not None:
            self.standin.stop()
        if self.lambda_api is not None:
            self.lambda_api.__exit__()
        # moto keeps resources in process-wide backends that outlive its server, and the
        # handlers cache secrets per name for minutes: forget both, so that the next LocalBot
        # in this process can create the same stack afresh.
        if self.stack is not None:
            requests.post(f"{self.stack.endpoint_url}/moto-api/reset", timeout=10)
        parameters.clear_caches()
        restore_env(self._previous_env)
        self._moto.__exit__()

    # -- operator actions ------------------------------------------------------------------
    @property
    def webhook_base_url(self) -> str:
        """The Function URL, without the token (what the stack outputs): the public URL when
        one was given, else the address the server listens on."""
        assert self._server is not None
        return (self.webhook_public_url or self._server.url).rstrip("/") + "/"

    def webhook_url(self, model_name: str | None = None, token: str | None = None) -> str:
        """The URL to register for a model: token and model name in the query."""
        query = {"token": token or self.token}
        if model_name:
            query["model"] = model_name
        return f"{self.webhook_base_url}?{urlencode(query)}"

    def publish(
        self,
        model_name: str,
        onnx_bytes: bytes,
        transform: str = "rank",
        model_input: str | dict[str, Any] | None = None,
        postprocess: PostProcess | None = None,
    ) -> None:
        """Publish an ONNX file to the local bucket (with history); point ``model_name`` at it
        (``model_input``: the entry's ``input``, e.g. the model's own table; ``postprocess``:
        its neutralize and blend)."""
        from numerai_bot.adapters.model_store import open_model_store

        store = open_model_store(os.environ["MODEL_STORE_URI"])
        publish(
            store,
            model_name,
            onnx_bytes,
            transform,
            model_input=model_input,
            postprocess=postprocess,
        )

    def unpublish(self, model_name: str) -> None:
        """Take ``model_name`` out of models.json (its file stays): the bot stops running it."""
        from numerai_bot.adapters.model_store import open_model_store

        store = open_model_store(os.environ["MODEL_STORE_URI"])
        document = json.loads(store.read("models.json").data)
        document["models"].pop(model_name, None)
        store.write("models.json", json.dumps(document, indent=2).encode())

    def webhook_path_url(self, model_name: str) -> str:
        """The path-form URL ``<function url>/<token>/<model>`` that register-webhooks uses."""
        return f"{self.webhook_base_url}{self.token}/{model_name}"

    def register_webhooks(self, model_names: list[str]) -> None:
        """``setSubmissionWebhook`` for each model (any tournament), with its own URL."""
        account = self.numerai.account_models()
        for name in model_names:
            self.numerai.set_webhook(account[name].id, self.webhook_path_url(name))

    def trigger(self, model_name: str) -> str:
        """``triggerModelWebhook``: Numerai calls the model's webhook; returns the trigger id."""
        return self.numerai.trigger_webhook(self.numerai.account_models()[model_name].id)
