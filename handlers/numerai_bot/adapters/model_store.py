"""Where model artifacts and the models config live: an S3 bucket, or a local folder.

Each object has a version (S3 ETag/VersionId, or size+mtime locally) so that caches can
tell cheaply when a model was replaced.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from numerai_bot.adapters.aws_session import AwsSession, session_or_new
from numerai_bot.errors import ModelError, ObjectMissing
from numerai_bot.ports import StoredObject


class LocalModelStore:
    """A folder on disk, for local runs and tests."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ModelError(f"key {key!r} points outside the model store")
        return path

    def version(self, key: str) -> str:
        """Size and modification time, enough to see a replaced file."""
        try:
            stat = self._path(key).stat()
        except FileNotFoundError:
            raise ObjectMissing(f"{key!r} not found in {self.uri}") from None
        return f"{stat.st_size}-{stat.st_mtime_ns}"

    def read(self, key: str) -> StoredObject:
        """Read the file whole (models are a few MB)."""
        version = self.version(key)
        return StoredObject(key, self._path(key).read_bytes(), version)

    def write(self, key: str, data: bytes) -> str:
        """Write atomically so a running worker never reads half a file."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return self.version(key)

    def write_file(self, key: str, path: Path) -> str:
        """Copy the file in atomically (see :meth:`write`)."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
        return self.version(key)

    def delete(self, key: str) -> None:
        """Remove the file if it is there."""
        self._path(key).unlink(missing_ok=True)


class S3ModelStore:
    """A prefix of an S3 bucket (versioned in the deployed stack)."""

    def __init__(
        self, bucket: str, prefix: str = "", client: Any = None, aws: AwsSession | None = None
    ) -> None:
        # imported lazily: the local store must not need boto3
        from botocore.exceptions import BotoCoreError, ClientError

        # ClientError: S3 answered with an error; BotoCoreError: no answer (connection
        # refused, timeout, credentials), which must not escape as an untyped exception.
        self._errors: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        # Made on first use: a run that never touches this store (the churn archive of a
        # Classic-only account, own data nobody reads) pays nothing for a client (~50 ms).
        self._client = client
        self._aws = aws
        self._client_lock = threading.Lock()
        self.uri = f"s3://{bucket}/{self.prefix}"

    @property
    def client(self) -> Any:
        """The S3 client, made once (boto3's default session is not thread-safe)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = session_or_new(self._aws).client("s3")
        return self._client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def version(self, key: str) -> str:
        """ETag plus VersionId from a HEAD request."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self._errors as error:
            raise _s3_error(error, key, self.uri) from None
        return f"{head.get('ETag', '').strip(chr(34))}:{head.get('VersionId', '')}"

    def read(self, key: str) -> StoredObject:
        """GET the object whole."""
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            body = obj["Body"].read()
        except self._errors as error:
            raise _s3_error(error, key, self.uri) from None
        version = f"{obj.get('ETag', '').strip(chr(34))}:{obj.get('VersionId', '')}"
        return StoredObject(key, body, version)

    def write(self, key: str, data: bytes) -> str:
        """PUT the object; the bucket's versioning keeps the previous one."""
        try:
            put = self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except self._errors as error:
            raise _s3_error(error, key, self.uri, "write") from None
        return f"{put.get('ETag', '').strip(chr(34))}:{put.get('VersionId', '')}"

    def write_file(self, key: str, path: Path) -> str:
        """PUT the file, streamed from disk: botocore reads it in blocks for its checksum and
        for the request, so the file never sits in memory whole."""
        try:
            with open(path, "rb") as body:
                put = self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=body)
        except self._errors as error:
            raise _s3_error(error, key, self.uri, "write") from None
        return f"{put.get('ETag', '').strip(chr(34))}:{put.get('VersionId', '')}"

    def delete(self, key: str) -> None:
        """DELETE the object (a delete marker in a versioned bucket)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except self._errors as error:
            raise _s3_error(error, key, self.uri, "delete") from None


def _s3_error(error: Exception, key: str, uri: str, action: str = "read") -> ModelError:
    """A typed error for an S3 error answer, or for S3 not answering at all."""
    where = f"cannot {action} {key!r} {'from' if action == 'read' else 'to'} {uri}"
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return ModelError(f"{where}: S3 unreachable ({type(error).__name__})")
    code = str(response.get("Error", {}).get("Code", ""))
    if code in ("404", "NoSuchKey", "NotFound"):
        return ObjectMissing(f"{key!r} not found in {uri}")
    return ModelError(f"{where}: S3 error {code or 'unknown'}")


def open_model_store(
    uri: str, s3_client: Any = None, aws: AwsSession | None = None
) -> LocalModelStore | S3ModelStore:
    """``s3://bucket/prefix`` → :class:`S3ModelStore`; anything else is a local folder."""
    if uri.startswith("s3://"):
        parsed = urlparse(uri)
        return S3ModelStore(parsed.netloc, parsed.path, s3_client, aws)
    return LocalModelStore(uri)
