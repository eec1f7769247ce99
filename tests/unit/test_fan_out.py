"""Fan-out hands every shard to a worker even when staging the live file fails in a way
nobody planned for, and never quotes the presigned URL that failed."""

from __future__ import annotations

import datetime as dt
import logging

import requests

from numerai_bot.events import WorkerRequest
from numerai_bot.models_config import ModelConfig
from numerai_bot.ports import RoundInfo
from numerai_bot.round.fan_out import FanOut
from numerai_bot.tournaments import CLASSIC

URL = "https://bucket.s3.amazonaws.com/live.parquet?X-Amz-Signature=SIGNATUREabc&X-Amz-Security-Token=TOKENabc"


class BrokenLiveData:
    def stage(self, round_number, data_version, tournament):
        raise requests.exceptions.InvalidSchema(f"No connection adapters were found for {URL!r}")


class Recorder:
    def __init__(self) -> None:
        self.requests: list[WorkerRequest] = []

    def invoke(self, request: WorkerRequest) -> None:
        self.requests.append(request)


def test_an_unexpected_staging_error_still_starts_every_shard_without_the_url(caplog):
    invoker = Recorder()
    fan_out = FanOut(invoker, BrokenLiveData(), shard_size=1)  # type: ignore[arg-type]
    configs = [ModelConfig(n, f"{n}.onnx", data_version="v5.3") for n in ("a", "b", "c")]
    shards = fan_out.shards(configs)
    info = RoundInfo(500, dt.datetime.now(dt.UTC), None, None)
    with caplog.at_level(logging.ERROR):
        result = fan_out.hand_off(shards, {CLASSIC: info}, WorkerRequest("webhook"), {}, [])
    assert result.status == "fanned_out" and len(invoker.requests) == 3
    logged = " ".join(str(vars(r)) for r in caplog.records)
    assert "InvalidSchema" in logged and "SIGNATURE" not in logged and "TOKENabc" not in logged


class FailingForModel:
    """Starts every shard except the one holding ``model``, whose start raises with a URL."""

    def __init__(self, model: str) -> None:
        self.model, self.requests = model, []

    def invoke(self, request: WorkerRequest) -> None:
        if self.model in request.models:
            raise requests.exceptions.InvalidURL(f"Failed to parse: {URL}")
        self.requests.append(request)


def test_a_shard_that_cannot_start_fails_its_models_and_the_others_still_start(caplog):
    invoker = FailingForModel("b")
    fan_out = FanOut(invoker, BrokenLiveData(), shard_size=1)  # type: ignore[arg-type]
    configs = [ModelConfig(n, f"{n}.onnx", data_version="v5.3") for n in ("a", "b", "c")]
    info = RoundInfo(500, dt.datetime.now(dt.UTC), None, None)
    with caplog.at_level(logging.ERROR):
        result = fan_out.hand_off(
            fan_out.shards(configs), {CLASSIC: info}, WorkerRequest("schedule"), {}, []
        )
    assert sorted(m for r in invoker.requests for m in r.models) == ["a", "c"]
    (failed,) = result.failed
    assert failed.model == "b" and "could not start its shard: InvalidURL" in failed.detail
    assert "1 shards could not be started" in result.message
    logged = " ".join(str(vars(r)) for r in caplog.records)
    assert "SIGNATURE" not in logged and "TOKENabc" not in logged
