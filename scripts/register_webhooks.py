"""`python -m scripts.register_webhooks`: register the stack's webhook with your models.

A thin wrapper kept for old instructions: the same as `numerai-bot register-webhooks` (see
`numerai-bot register-webhooks --help`).
"""

from __future__ import annotations

import sys

from numerai_bot_cli.main import main

if __name__ == "__main__":
    sys.exit(main(["register-webhooks", *sys.argv[1:]]))
