"""model_export's command line (``numerai-bot train/export/...``, or
``python -m model_export.cli``): :mod:`.commands` names the subcommands, :mod:`.program` parses
and runs them, :mod:`.convert` holds train/export/check/describe and :mod:`.release`
ensemble/validate/publish/rollback; :mod:`.common`, :mod:`.tournament` and :mod:`.own` (the
user's own data) are what both share."""
