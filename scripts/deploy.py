"""`python -m scripts.deploy`: build and deploy the stack with AWS SAM (guided the first time).

A thin wrapper kept for old instructions: the same as `numerai-bot deploy` (see
`numerai-bot deploy --help`).
"""

from __future__ import annotations

import sys

from numerai_bot_cli.main import main

if __name__ == "__main__":
    sys.exit(main(["deploy", *sys.argv[1:]]))
