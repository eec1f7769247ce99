"""``python -m scripts.bench``: how fast and how lean the worker is, against what users run today.

Each measured side runs in a fresh subprocess (so its peak RSS is its own) against stand-ins
served by the parent process: moto for S3/DynamoDB/Secrets Manager and the Numerai GraphQL
stand-in with full-size live data. See docs/benchmarks.md for what each case measures.
"""
