"""The concurrency limit: at most ``limit`` steps in flight, the rest waiting by priority.

A ``trio.CapacityLimiter`` hands out tokens first-come first-served; a workflow does
better by starting the waiting step with the longest remaining path first.  Slots are
taken and returned synchronously, inside the task that finishes, so a freed slot goes
to the next step without a scheduling round trip.
"""

from __future__ import annotations

import heapq
from typing import Protocol

import attrs


class Starter(Protocol):
    """A run that can start one of its steps in a slot it has been given."""

    def start(self, position: int) -> bool:
        """Start step ``position``; False if the run no longer starts steps."""
        ...


@attrs.frozen
class SlotStatistics:
    """A snapshot of a :class:`Slots`: its limit, steps in flight, the peak and queue."""

    limit: int | None
    in_flight: int
    peak: int
    waiting: int


class Slots:
    """Hands out up to ``limit`` slots (``None``: no limit), one per running step."""

    __slots__ = ("_count", "_waiting", "in_flight", "limit", "peak")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.in_flight = 0
        self.peak = 0
        self._waiting: list[tuple[int, int, Starter, int]] = []
        self._count = 0

    def request(self, priority: int, run: Starter, position: int) -> None:
        """Start the step now if a slot is free, else queue it by ``priority``."""
        if self.limit is None or self.in_flight < self.limit:
            self.in_flight += 1
            if self.in_flight > self.peak:
                self.peak = self.in_flight
            if not run.start(position):
                self.in_flight -= 1
        else:
            self._count += 1
            heapq.heappush(self._waiting, (-priority, self._count, run, position))

    def _take(self, run: Starter, position: int) -> None:
        self.in_flight += 1
        if self.in_flight > self.peak:
            self.peak = self.in_flight
        if not run.start(position):
            self.in_flight -= 1

    def release(self) -> None:
        """A step finished: give its slot to the highest-priority waiting step."""
        self.in_flight -= 1
        while self._waiting and (self.limit is None or self.in_flight < self.limit):
            _, _, run, position = heapq.heappop(self._waiting)
            self._take(run, position)

    def statistics(self) -> SlotStatistics:
        """The limit, steps in flight, the most ever in flight and steps waiting."""
        return SlotStatistics(self.limit, self.in_flight, self.peak, len(self._waiting))
