"""`python -m scripts.put_keys`: the Numerai API keys into the stack's secret, never echoed.

A thin wrapper kept for old instructions: the same as `numerai-bot put-keys` (see
`numerai-bot put-keys --help`).
"""

from __future__ import annotations

import sys

from numerai_bot_cli.main import main

if __name__ == "__main__":
    sys.exit(main(["put-keys", *sys.argv[1:]]))
