"""Predict lanes with uploads behind them, knowing nothing of Numerai or models.

Items run through two stages: a CPU-bound ``front`` on ``lanes`` threads (one per vCPU),
and an I/O-bound ``back`` on a pool behind it, so that while one item uploads the next one
predicts. onnxruntime's tree kernel gains only 1.5x from a second thread while two models
at once gain 2x, hence one lane per vCPU with one intra-op thread each. Results come back in
the items' order, on the caller's thread (where the ledger is written).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from math import ceil
from typing import Generic, TypeVar

BEHIND_CONCURRENCY = 8  # uploads are network-bound

Item = TypeVar("Item")
Front = TypeVar("Front")
Back = TypeVar("Back")


@dataclass(frozen=True)
class LaneTurn:
    """What an item's front stage knows of its lane: how many items the lane may still run
    (a fair share of the time left) and the intra-op threads it may use."""

    turns_left: int
    threads: int


@dataclass(frozen=True)
class Finished(Generic[Item, Back]):
    """One item's result: ``value()`` is its back stage's value, or raises whichever stage
    failed."""

    item: Item
    _future: Future

    def value(self) -> Back:
        """The back stage's value; raises the front's or the back's exception."""
        handed: Future = self._future.result()
        return handed.result()


def lane_count(wanted: int | None, items: int) -> int:
    """Lanes for ``items``: one per vCPU (or ``wanted``), never more than the items."""
    return max(1, min(max(1, wanted or os.cpu_count() or 1), items))


def run_in_lanes(
    items: Sequence[Item],
    lanes: int,
    front: Callable[[Item, LaneTurn], Front],
    back: Callable[[Item, Front], Back],
    behind: int = BEHIND_CONCURRENCY,
) -> Iterator[Finished[Item, Back]]:
    """Each item's ``back(item, front(item, turn))``, yielded in the items' order.

    A lone item gets every thread; with several, each lane gets ``cpus // lanes``.
    """
    lanes = max(1, min(lanes, len(items)))
    threads = max(1, (os.cpu_count() or 1) // lanes)
    with (
        ThreadPoolExecutor(behind, thread_name_prefix="upload") as pool,
        ThreadPoolExecutor(lanes, thread_name_prefix="predict") as predictors,
    ):

        def hand_off(item: Item, turn: LaneTurn) -> Future:
            return pool.submit(back, item, front(item, turn))

        handed = [
            predictors.submit(hand_off, item, LaneTurn(ceil((len(items) - i) / lanes), threads))
            for i, item in enumerate(items)
        ]
        for item, future in zip(items, handed, strict=True):
            yield Finished(item, future)
