"""Lambda's Invoke over real HTTP: the feature function adapter and the worker hand-off.

The stand-in endpoint (standins/lambda_endpoint.py) runs the user's feature function in a
Python process of its own, with only its own environment (its vendor secret), as Lambda would;
botocore reaches it through ``AWS_ENDPOINT_URL_LAMBDA``, exactly as the deployed worker reaches
Lambda. What the function raises may hold that secret: it must stay in the function's own logs.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import textwrap
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from botocore.exceptions import ClientError

from numerai_bot.adapters.lambda_feature_function import LambdaFeatureFunction
from numerai_bot.adapters.lambda_invoker import LambdaInvoker
from numerai_bot.events import WorkerRequest
from numerai_bot.own_data.feature_function import (
    FeatureFunctionError,
    FeatureRequest,
    check_answer,
)
from standins.lambda_endpoint import LambdaEndpoint, SubprocessFunction

FEATURES = "numerai-bot-features"
WORKER_ALIAS = "arn:aws:lambda:us-east-1:123456789012:function:numerai-bot-worker:live"
VENDOR_SECRET = "vendor-key-5f3a9c1e77"  # the feature function's own secret
NUMERAI_SECRET = "numerai-secret-0b2d4e6f88"  # the worker's, which the function must not see

GOOD_APP = """
    import os
    import pandas as pd

    def handler(event, context):
        universe = pd.read_parquet(event["universe"])
        table = pd.DataFrame({
            "numerai_ticker": universe["numerai_ticker"],
            "momentum": range(len(universe)),
            "vendor_key_seen": os.environ.get("VENDOR_API_KEY") == "{VENDOR_SECRET}",
            "numerai_key_seen": "NUMERAI_SECRET_KEY" in os.environ,
        })
        table.to_parquet(event["output"], index=False)
        return {"output": event["output"], "rows": len(table), "pid": os.getpid()}
""".replace("{VENDOR_SECRET}", VENDOR_SECRET)


@pytest.fixture
def lambda_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaEndpoint]:
    """Lambda's API on a local port, as the worker's environment would reach it."""
    with LambdaEndpoint() as endpoint:
        for name, value in endpoint.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        # The worker's own secret, locally in its environment: the function must not get it.
        monkeypatch.setenv("NUMERAI_SECRET_KEY", NUMERAI_SECRET)
        yield endpoint


def _folder(root: Path, source: str) -> Path:
    """A user's feature function folder: app.py and its requirements."""
    folder = root / "features"
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(source))
    (folder / "requirements.txt").write_text("pandas\npyarrow\n")
    return folder


def _register(
    endpoint: LambdaEndpoint, root: Path, source: str, timeout: float = 30.0
) -> SubprocessFunction:
    function = SubprocessFunction(
        _folder(root, source), {"VENDOR_API_KEY": VENDOR_SECRET}, timeout=timeout
    )
    endpoint.register(FEATURES, function)
    return function


def _request(root: Path) -> FeatureRequest:
    """The round's request, with Numerai's universe staged where the worker puts it."""
    universe = root / "own-data" / "signals" / "_universe" / "2026-12-04.parquet"
    output = root / "own-data" / "signals" / "momentum" / "2026-12-04.parquet"
    universe.parent.mkdir(parents=True)
    output.parent.mkdir(parents=True)
    pd.DataFrame({"numerai_ticker": ["AAPL US", "MSFT US", "7203 JP"]}).to_parquet(universe)
    return FeatureRequest(
        "signals", 1234, dt.date(2026, 12, 4), "momentum", str(universe), str(output)
    )


def _everything_said(error: BaseException) -> str:
    """All an error could show: its text, repr and the traceback a log would print."""
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


# --- the feature function adapter ----------------------------------------------------------------


def test_a_good_feature_function_writes_the_table_and_answers_where(
    lambda_api: LambdaEndpoint, tmp_path: Path
) -> None:
    _register(lambda_api, tmp_path, GOOD_APP)
    request = _request(tmp_path)

    answer = LambdaFeatureFunction(FEATURES).compute(request, timeout=60)

    check_answer(request, answer)
    assert answer["rows"] == 3
    table = pd.read_parquet(request.output)
    assert list(table["numerai_ticker"]) == ["AAPL US", "MSFT US", "7203 JP"]
    # It ran elsewhere, with its own secret and without the worker's.
    assert answer["pid"] != os.getpid()
    assert table["vendor_key_seen"].all()
    assert not table["numerai_key_seen"].any()
    (call,) = lambda_api.invocations
    assert (call.function_name, call.invocation_type) == (FEATURES, "RequestResponse")
    assert call.event == request.to_event()
    assert call.log_type is None  # never asks for the log tail, which may hold the secret


def test_a_raising_function_is_named_by_its_error_type_and_its_secret_stays_in_its_logs(
    lambda_api: LambdaEndpoint,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    _register(
        lambda_api,
        tmp_path,
        """
        import os

        def handler(event, context):
            print("calling the vendor with", os.environ["VENDOR_API_KEY"])
            raise ValueError(f"vendor refused key {os.environ['VENDOR_API_KEY']}")
        """,
    )

    with pytest.raises(FeatureFunctionError) as caught:
        LambdaFeatureFunction(FEATURES).compute(_request(tmp_path), timeout=60)

    assert str(caught.value) == (
        f"the feature function '{FEATURES}' raised ValueError; read its logs "
        f"(CloudWatch log group /aws/lambda/{FEATURES})"
    )
    assert VENDOR_SECRET not in _everything_said(caught.value)
    assert VENDOR_SECRET not in caplog.text
    captured = capsys.readouterr()
    assert VENDOR_SECRET not in captured.out + captured.err
    # Not vacuous: the function did hold the secret, and its own logs (CloudWatch) show it.
    (call,) = lambda_api.invocations
    assert call.outcome is not None and call.outcome.error_type == "ValueError"
    assert VENDOR_SECRET in call.outcome.logs
    assert VENDOR_SECRET in call.outcome.payload.decode()


def test_a_missing_requirement_says_the_module_did_not_import(
    lambda_api: LambdaEndpoint, tmp_path: Path
) -> None:
    _register(lambda_api, tmp_path, "import vendor_sdk_not_installed\n\ndef handler(e, c): ...\n")
    with pytest.raises(FeatureFunctionError, match=r"raised Runtime\.ImportModuleError; read"):
        LambdaFeatureFunction(FEATURES).compute(_request(tmp_path), timeout=60)


def test_lambda_stopping_the_function_at_its_timeout_says_after_how_long(
    lambda_api: LambdaEndpoint, tmp_path: Path
) -> None:
    _register(
        lambda_api, tmp_path, "import time\n\ndef handler(e, c):\n    time.sleep(60)\n", timeout=1
    )
    with pytest.raises(FeatureFunctionError) as caught:
        LambdaFeatureFunction(FEATURES).compute(_request(tmp_path), timeout=60)
    assert "timed out after 1 s (Lambda stopped it at its Timeout)" in str(caught.value)
    (call,) = lambda_api.invocations
    assert call.outcome is not None and call.outcome.error_type == "Sandbox.Timedout"


def test_the_worker_stops_waiting_at_its_own_timeout_and_does_not_run_it_twice(
    lambda_api: LambdaEndpoint, tmp_path: Path
) -> None:
    _register(
        lambda_api, tmp_path, "import time\n\ndef handler(e, c):\n    time.sleep(60)\n", timeout=30
    )
    with pytest.raises(FeatureFunctionError) as caught:
        LambdaFeatureFunction(FEATURES).compute(_request(tmp_path), timeout=1.5)
    assert "timed out after 1.5 s (the worker stopped waiting; it may still run)" in str(
        caught.value
    )
    # botocore would retry a read timeout: a second run would call the vendor again.
    assert len(lambda_api.invocations) == 1


@pytest.mark.parametrize(
    ("returns", "complaint"),
    [
        ("[event['output']]", "it answered a list"),
        ("{'rows': 3}", "it answered a dict"),
        ("{'output': '/tmp/elsewhere.parquet', 'rows': 3}", "but was asked to write"),
        ("None", "it answered a NoneType"),
    ],
    ids=["a-list", "no-output", "another-place", "nothing"],
)
def test_a_wrong_answer_shape_is_refused(
    lambda_api: LambdaEndpoint, tmp_path: Path, returns: str, complaint: str
) -> None:
    _register(lambda_api, tmp_path, f"def handler(event, context):\n    return {returns}\n")
    request = _request(tmp_path)
    answer = LambdaFeatureFunction(FEATURES).compute(request, timeout=60)
    with pytest.raises(FeatureFunctionError, match=complaint):
        check_answer(request, answer)


def test_an_answer_over_one_mib_is_refused_without_repeating_it(
    lambda_api: LambdaEndpoint, tmp_path: Path
) -> None:
    _register(
        lambda_api,
        tmp_path,
        "import os\n\ndef handler(event, context):\n"
        "    return {'output': event['output'], 'rows': os.environ['VENDOR_API_KEY'] * 70000}\n",
    )
    with pytest.raises(FeatureFunctionError, match="answered more than 1 MiB") as caught:
        LambdaFeatureFunction(FEATURES).compute(_request(tmp_path), timeout=60)
    assert VENDOR_SECRET not in _everything_said(caught.value)


def test_an_answer_that_is_not_json_is_refused_without_repeating_it(tmp_path: Path) -> None:
    class NotJson:
        """A client whose function answered text (not possible from Python's runtime)."""

        def invoke(self, **_call: Any) -> dict[str, Any]:
            return {"StatusCode": 200, "Payload": f"key={VENDOR_SECRET}".encode()}

    function = LambdaFeatureFunction(FEATURES, client=NotJson())
    with pytest.raises(FeatureFunctionError, match="bytes that are not JSON") as caught:
        function.compute(_request(tmp_path), timeout=60)
    assert VENDOR_SECRET not in _everything_said(caught.value)
    assert caught.value.__context__ is None


@pytest.mark.parametrize(
    ("status", "code", "says"),
    [
        (None, None, "there is no Lambda function 'numerai-bot-features'"),
        (403, "AccessDeniedException", "may not invoke the feature function"),
        (429, "TooManyRequestsException", "Lambda throttled the feature function"),
        (500, "ServiceException", r"refused to invoke the feature function .* \(ServiceException"),
    ],
    ids=["not-deployed", "denied", "throttled", "lambda-failed"],
)
def test_lambda_refusing_the_call_is_a_typed_error(
    lambda_api: LambdaEndpoint, tmp_path: Path, status: int | None, code: str | None, says: str
) -> None:
    if status is not None:
        _register(lambda_api, tmp_path, GOOD_APP)
        lambda_api.answer_next(FEATURES, status, code)
    with pytest.raises(FeatureFunctionError, match=says):
        LambdaFeatureFunction(FEATURES).compute(_request(tmp_path), timeout=60)
    assert len(lambda_api.invocations) == 1  # no retry of a synchronous call


def test_lambda_unreachable_is_a_typed_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with LambdaEndpoint() as closed:
        url = closed.url
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with pytest.raises(FeatureFunctionError, match=r"cannot reach Lambda .* \(EndpointConnection"):
        LambdaFeatureFunction(FEATURES).compute(_request(tmp_path), timeout=5)


# --- the webhook's and the fan-out's hand-off to the worker ---------------------------------------


def test_lambda_invoker_queues_the_request_as_an_event_for_the_worker_alias(
    lambda_api: LambdaEndpoint,
) -> None:
    received: list[Any] = []
    lambda_api.register("numerai-bot-worker", lambda event, _context: received.append(event))
    request = WorkerRequest("webhook", 1234, "t-1", False)

    LambdaInvoker(WORKER_ALIAS).invoke(request)

    (call,) = lambda_api.wait(timeout=10)
    assert (call.function_name, call.qualifier) == ("numerai-bot-worker", "live")
    assert (call.invocation_type, call.status) == ("Event", 202)
    assert received == [request.to_event()]


def test_lambda_invoker_raises_when_lambda_does_not_accept_the_event(
    lambda_api: LambdaEndpoint,
) -> None:
    lambda_api.register("numerai-bot-worker", lambda event, _context: None)
    lambda_api.answer_next("numerai-bot-worker", 200)  # an answer, but not "queued"
    with pytest.raises(RuntimeError, match="worker invoke returned 200"):
        LambdaInvoker(WORKER_ALIAS).invoke(WorkerRequest("webhook", 1234, "t-1", False))


def test_lambda_invoker_raises_when_the_worker_is_not_there(lambda_api: LambdaEndpoint) -> None:
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        LambdaInvoker(WORKER_ALIAS).invoke(WorkerRequest("webhook", 1234, "t-1", False))
    assert [call.status for call in lambda_api.invocations] == [404]
