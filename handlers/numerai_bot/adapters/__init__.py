"""Adapters: the core's ports implemented over AWS services (boto3 imported lazily)."""
