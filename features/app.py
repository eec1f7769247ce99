"""Your feature function: computes your own features for the round (docs/own-data.md).

Deployed as a Lambda of its own only with the stack parameter FeatureFunction=Enabled, with its
own role (read and write under the bucket's own-data/, nothing else), its own secret (your data
vendor's key: fill the secret the stack output FeatureFunctionSecretName names) and internet
access. The worker invokes ``handler`` when a round opens with:

    {"tournament": "signals", "round": 1234, "data_date": "2026-12-04", "table": "momentum",
     "universe": "s3://<bucket>/own-data/signals/_universe/2026-12-04.parquet",
     "output": "s3://<bucket>/own-data/signals/momentum/2026-12-04.parquet"}

(locally, plain file paths), and expects the table written to ``output`` as Parquet, one row
per id of the universe with your model's features, and the answer
``{"output": "<where it wrote>", "rows": <n>}``. Never put the secret in an error or an answer.
"""

from __future__ import annotations

import io
import os
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Replace with your own code; ``example`` shows the contract end to end."""
    raise NotImplementedError(
        "features/app.py is still the skeleton: write your feature function (docs/own-data.md)"
    )


def example(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A table with one feature per ticker of the universe (needs pandas and pyarrow)."""
    import pandas as pd

    universe = pd.read_parquet(io.BytesIO(read_bytes(event["universe"])))
    _vendor_key = vendor_secret()  # call your vendor's API with it
    table = pd.DataFrame({"numerai_ticker": universe["numerai_ticker"], "my_feature": 0.5})
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    write_bytes(event["output"], buffer.getvalue())
    return {"output": event["output"], "rows": len(table)}


def vendor_secret() -> str:
    """This function's own secret (the stack's FeatureFunctionSecret); empty locally."""
    secret_id = os.environ.get("FEATURE_SECRET_ID")
    if not secret_id:
        return os.environ.get("VENDOR_API_KEY", "")
    import boto3

    return boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]


def read_bytes(where: str) -> bytes:
    """An ``s3://bucket/key`` object or a local file."""
    if where.startswith("s3://"):
        import boto3

        bucket, key = where[5:].split("/", 1)
        return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with open(where, "rb") as handle:
        return handle.read()


def write_bytes(where: str, data: bytes) -> None:
    """Write an ``s3://bucket/key`` object or a local file."""
    if where.startswith("s3://"):
        import boto3

        bucket, key = where[5:].split("/", 1)
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
        return
    os.makedirs(os.path.dirname(where) or ".", exist_ok=True)
    with open(where, "wb") as handle:
        handle.write(data)
