"""``numerai-bot doctor``'s checks: :mod:`.core` registers them and reports their findings,
:mod:`.env` fetches what they share once; each other module holds the checks of one part of
a deployment (Numerai's side, the webhook, the model files, AWS's safety nets, the ledger)."""
