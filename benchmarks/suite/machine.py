"""Is anything else using the CPUs? Machine-wide CPU time from /proc/stat (Linux).

Why: on a shared 2-core machine another process (a test run, a build) can double a timing.
Each measured run records how much CPU time the rest of the machine used meanwhile, so a
disturbed figure is visible in the report instead of silently skewing a ratio; before a run,
:func:`wait_for_quiet` gives a busy machine a little time to calm down.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def busy_cpu_seconds() -> float:
    """CPU seconds all CPUs spent not idle since boot (0 where /proc/stat is missing)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    guest = sum(values[8:10]) if len(values) > 9 else 0  # already counted in user/nice
    return (sum(values) - idle - guest) / TICK


def own_cpu_seconds() -> tuple[float, float]:
    """(this process, its waited-for children): user + system CPU seconds."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def wait_for_quiet(limit: float = 0.3, timeout: float = 20.0, window: float = 1.0) -> float:
    """Wait (up to ``timeout`` s) until other processes use under ``limit`` of the CPUs.

    Returns the busy share of the last window (this process excluded).
    """
    cpus = os.cpu_count() or 1
    deadline = time.monotonic() + timeout
    while True:
        machine, (mine, _kids) = busy_cpu_seconds(), own_cpu_seconds()
        time.sleep(window)
        machine2, (mine2, _kids2) = busy_cpu_seconds(), own_cpu_seconds()
        share = max(0.0, (machine2 - machine) - (mine2 - mine)) / (window * cpus)
        if share < limit or time.monotonic() >= deadline:
            return share


class Interference:
    """CPU seconds used by processes other than this one and its children, over a span."""

    def __enter__(self) -> Interference:
        self._machine = busy_cpu_seconds()
        self._mine, self._kids = own_cpu_seconds()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        mine, kids = own_cpu_seconds()
        self.wall = time.perf_counter() - self._started
        self.parent_cpu = mine - self._mine
        self.child_cpu = kids - self._kids
        self.others_cpu = max(
            0.0, busy_cpu_seconds() - self._machine - self.parent_cpu - self.child_cpu
        )

    @property
    def others_share(self) -> float:
        """Share of the machine's CPU capacity that other processes took meanwhile."""
        return self.others_cpu / max(self.wall * (os.cpu_count() or 1), 1e-9)
