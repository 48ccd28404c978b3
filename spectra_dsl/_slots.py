"""The concurrency limit: at most ``limit`` steps in flight, the rest waiting by priority.

A ``trio.CapacityLimiter`` hands out tokens first-come first-served; a workflow does
better by starting the waiting step with the longest remaining path first.  Slots are
taken and returned synchronously, inside the task that finishes, so a freed slot goes
to the next step without a scheduling round trip.

A step holds its slot over [start, finish): the task that finishes a step vacates its
slot before the steps it releases ask for theirs (so a chain has one step in flight),
then fills the free slots by priority.  While that task is ``handing_over``, the steps
it starts are queued in ``handover`` for it to run itself (see the runner).
"""

from __future__ import annotations

import heapq
from typing import Any, Protocol

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

    __slots__ = ("_count", "_waiting", "handing_over", "handover", "in_flight", "limit",
                 "peak")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.in_flight = 0
        self.peak = 0
        self._waiting: list[tuple[int, int, Starter, int]] = []
        self._count = 0
        #: True while a task that finished a step runs the steps it released itself.
        self.handing_over = False
        #: The steps started meanwhile, for that task: (run, position).
        self.handover: list[tuple[Any, int]] = []

    def request(self, priority: int, run: Starter, position: int) -> None:
        """Start the step now if a slot is free (and no step waits), else queue it by
        ``priority``."""
        if self.limit is None or (self.in_flight < self.limit and not self._waiting):
            self.in_flight += 1
            if self.in_flight > self.peak:
                self.peak = self.in_flight
            if not run.start(position):
                self.in_flight -= 1
        else:
            self._count += 1
            heapq.heappush(self._waiting, (-priority, self._count, run, position))
            self.fill()

    def _take(self, run: Starter, position: int) -> None:
        self.in_flight += 1
        if self.in_flight > self.peak:
            self.peak = self.in_flight
        if not run.start(position):
            self.in_flight -= 1

    def release(self) -> None:
        """A step finished: give its slot to the highest-priority waiting step."""
        self.in_flight -= 1
        self.fill()

    def vacate(self) -> None:
        """A step finished: free its slot, to be given out by the next :meth:`fill` (or
        request), once the steps it released have asked for theirs."""
        self.in_flight -= 1

    def fill(self) -> None:
        """Give the free slots to the highest-priority waiting steps."""
        while self._waiting and (self.limit is None or self.in_flight < self.limit):
            _, _, run, position = heapq.heappop(self._waiting)
            self._take(run, position)

    def statistics(self) -> SlotStatistics:
        """The limit, steps in flight, the most ever in flight and steps waiting."""
        return SlotStatistics(self.limit, self.in_flight, self.peak, len(self._waiting))
