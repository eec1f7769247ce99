"""Publish keeps the previous file; rollback restores it (local folder and S3)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from model_export.export import export_lightgbm
from model_export.publish import PublishError, publish, read_history, rollback
from numerai_bot.adapters.model_store import LocalModelStore, S3ModelStore
from numerai_bot.models_config import parse_models_config


@pytest.fixture(scope="module")
def versions(nan_booster, live_matrix, feature_names) -> list[bytes]:
    """Three different valid files (10, 20 and 30 trees)."""
    files = []
    for trees in (10, 20, 30):
        result = export_lightgbm(
            nan_booster, live_matrix[:500], data_version="v5.2", feature_names=feature_names,
            num_iteration=trees, thread_counts=(1,),
        )  # fmt: skip
        files.append(result.model.SerializeToString())
    return files


def _current(store, name: str = "my_model") -> bytes:
    return store.read(f"{name}.onnx").data


def _check_store(store, data: bytes, transform: str = "rank") -> None:
    assert _current(store) == data
    assert store.read("my_model.onnx.sha256").data.decode().strip() == (
        hashlib.sha256(data).hexdigest()
    )
    (entry,) = parse_models_config(store.read("models.json").data)
    assert (entry.name, entry.artifact, entry.transform) == ("my_model", "my_model.onnx", transform)


def test_publish_and_rollback_local(versions, tmp_path) -> None:
    store = LocalModelStore(tmp_path / "store")
    first = publish(store, "my_model", versions[0], "raw")
    assert first.archived is None and first.history == 0
    _check_store(store, versions[0], "raw")
    second = publish(store, "my_model", versions[1], now=datetime(2026, 11, 16, 12, tzinfo=UTC))
    assert second.archived == "my_model.onnx.20261116T120000000000Z"
    assert (tmp_path / "store" / second.archived).read_bytes() == versions[0]
    publish(store, "my_model", versions[2])
    _check_store(store, versions[2])
    assert [v["sha256"] for v in read_history(store, "my_model")] == [
        hashlib.sha256(v).hexdigest() for v in versions[:2]
    ]
    # Publishing the same bytes again archives nothing.
    assert publish(store, "my_model", versions[2]).archived is None

    back = rollback(store, "my_model")
    _check_store(store, versions[1])
    assert back.history == 1
    rollback(store, "my_model")
    _check_store(store, versions[0], "raw")  # the transform it was published with
    with pytest.raises(PublishError, match="nothing to roll back"):
        rollback(store, "my_model")


def test_rollback_refuses_a_tampered_archive(versions, tmp_path) -> None:
    store = LocalModelStore(tmp_path)
    publish(store, "my_model", versions[0])
    publish(store, "my_model", versions[1])
    (archived,) = read_history(store, "my_model")
    store.write(archived["key"], versions[2])
    with pytest.raises(PublishError, match="checksum"):
        rollback(store, "my_model")
    assert _current(store) == versions[1]


def test_publish_refuses_a_file_without_metadata(tmp_path) -> None:
    from numerai_bot.errors import BotError

    store = LocalModelStore(tmp_path)
    with pytest.raises(BotError):
        publish(store, "my_model", b"not an onnx file")
    assert not (tmp_path / "my_model.onnx").exists()


def test_publish_and_rollback_s3(versions) -> None:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="models")
        client.put_bucket_versioning(Bucket="models", VersioningConfiguration={"Status": "Enabled"})
        store = S3ModelStore("models", "prod", client)
        publish(store, "my_model", versions[0])
        publish(store, "my_model", versions[1])
        history = json.loads(store.read("my_model.onnx.history.json").data)
        assert history["versions"][0]["key"].startswith("my_model.onnx.")
        rollback(store, "my_model")
        _check_store(store, versions[0])
        listed = client.list_object_versions(Bucket="models", Prefix="prod/my_model.onnx")
        assert len([v for v in listed["Versions"] if v["Key"] == "prod/my_model.onnx"]) == 3


def test_publishing_a_new_file_keeps_the_models_late_setting(versions, tmp_path) -> None:
    store = LocalModelStore(tmp_path / "store")
    publish(store, "my_model", versions[0])
    entries = json.loads(store.read("models.json").data)
    entries["models"]["my_model"]["late"] = "skip"
    store.write("models.json", json.dumps(entries).encode())
    publish(store, "my_model", versions[1])
    assert json.loads(store.read("models.json").data)["models"]["my_model"]["late"] == "skip"
    (entry,) = parse_models_config(store.read("models.json").data)
    assert entry.submits_late is False
