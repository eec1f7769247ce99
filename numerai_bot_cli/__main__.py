"""``python -m numerai_bot_cli``: the same as the ``numerai-bot`` command."""

from __future__ import annotations

import sys

from numerai_bot_cli.main import main

sys.exit(main())
