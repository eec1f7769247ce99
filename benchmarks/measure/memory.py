"""Memory and CPU figures of the current process, from the kernel (Linux), without psutil.

Peak RSS is ``VmHWM`` (the high-water mark of this process's own address space): what a
Lambda's memory size must cover. Not ``ru_maxrss``: Linux carries the pre-``exec`` address
space's peak into it, so a subprocess started (vfork + exec) by a big parent would report at
least the parent's RSS. ``VmRSS`` is the resident set now, used to show what imports cost.
"""

from __future__ import annotations

import resource
from pathlib import Path


def _status_mib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mib() -> float:
    """Peak RSS of this process so far, in MiB (``ru_maxrss`` where /proc is missing)."""
    peak = _status_mib("VmHWM")
    if peak is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak


def current_rss_mib() -> float:
    """Resident set now, in MiB (0 where /proc is missing)."""
    return _status_mib("VmRSS") or 0.0


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
