"""What runs inside each measured process (``python -m benchmarks.measure.child``): the worker
and the users' way, inference alone, session creation, the webhook, cold starts."""
