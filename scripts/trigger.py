"""`python -m scripts.trigger`: fire a model's webhook and wait until Numerai lists the submission.

A thin wrapper kept for old instructions: the same as `numerai-bot trigger` (see
`numerai-bot trigger --help`).
"""

from __future__ import annotations

import sys

from numerai_bot_cli.main import main

if __name__ == "__main__":
    sys.exit(main(["trigger", *sys.argv[1:]]))
