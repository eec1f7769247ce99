"""Lambda memory size and cost of a round, from measured seconds and peak RSS.

Prices: x86 on-demand, $0.0000166667 per GB-second and $0.20 per million requests (us-east-1).
The timings were taken on 2 cores, which Lambda gives at 3,538 MB (one vCPU per 1,769 MB).
A smaller memory size means fewer vCPUs and, for CPU-bound work, proportionally more seconds:
GB-seconds, and so the cost, stay about the same. The cost is therefore computed at 3,538 MB
with the measured seconds, and the memory the peak RSS needs is reported beside it.
"""

from __future__ import annotations

import math

PRICE_PER_GB_SECOND = 0.0000166667
PRICE_PER_REQUEST = 0.20 / 1_000_000
MB_PER_VCPU = 1769
MEASURED_MEMORY_MB = 2 * MB_PER_VCPU  # 2 vCPUs, like the machine the figures come from
HEADROOM = 1.10
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10_240


def implied_memory_mb(peak_rss_mib: float) -> int:
    """Peak RSS plus 10 % headroom, rounded up to 64 MB, within Lambda's 128-10,240 MB."""
    wanted = math.ceil(peak_rss_mib * HEADROOM / 64) * 64
    return max(MIN_MEMORY_MB, min(MAX_MEMORY_MB, wanted))


def vcpus(memory_mb: int) -> float:
    """vCPUs Lambda allocates at ``memory_mb``."""
    return memory_mb / MB_PER_VCPU


def invocation_cost(
    seconds: float, memory_mb: int = MEASURED_MEMORY_MB, requests: int = 1
) -> float:
    """Dollars for ``seconds`` of billed duration at ``memory_mb`` plus ``requests``."""
    return memory_mb / 1024 * seconds * PRICE_PER_GB_SECOND + requests * PRICE_PER_REQUEST
