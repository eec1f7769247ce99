"""glibc gives large freed buffers back once the worker fixed its mmap threshold."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import sys
import numpy as np
from numerai_bot.allocator import return_large_buffers_to_os

def rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

if sys.argv[1] == "fixed":
    assert return_large_buffers_to_os()
big = np.ones(40 * 2**20, dtype=np.uint8)  # mmapped; freeing it raises glibc's threshold
del big
before = rss_mib()
for _ in range(5):  # 20 MB blocks, like a batch's float copies
    block = np.ones(20 * 2**20, dtype=np.uint8)
    del block
print(rss_mib() - before)
"""


def retained_mib(mode: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    return float(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_freed_batch_buffers_are_returned_to_the_os_not_kept_resident() -> None:
    assert retained_mib("default") >= 15  # glibc's adaptive threshold keeps the 20 MB
    assert retained_mib("fixed") < 5
