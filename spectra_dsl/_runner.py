"""The runner: greedy dataflow over a compiled plan, in one trio nursery.

A finished step releases its successors at once; there are no rounds and no batch
barriers.  Writes are folded in plan order (see :mod:`._state`), so the final state is
the same whatever the timing.  Events are logged as cheap tuples and turned into event
objects only when someone looks (or at once, when an ``on_event`` callback is given).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import trio

from . import events as ev
from ._errors import StepFailed, StepOutputError
from ._slots import Slots
from ._state import NOTHING, Fold

if TYPE_CHECKING:
    from ._plan import Plan

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

EventLog = list[Any]
OnEvent = Callable[[ev.Event], object]


class Run:
    """One execution of a plan: its state, counters and event log."""

    def __init__(
        self, plan: Plan, state: dict[str, Any], slots: Slots, on_event: OnEvent | None,
        scope: tuple[str, ...] = (),
    ) -> None:
        graph = plan.graph
        self.plan = plan
        self.graph = graph
        self.names = plan.names
        self.state = state
        self.slots = slots
        self.on_event = on_event
        self.scope = scope
        self.log: EventLog = []
        self.failures: dict[str, BaseException] = {}
        self.stopped = False
        self.nursery: trio.Nursery | None = None
        self.thread_limiter = (
            trio.CapacityLimiter(slots.limit) if slots.limit is not None else None
        )
        preds = graph.predecessors
        self.remaining = [
            len(p) - len(tips) + 1 if tips else len(p)
            for p, tips in zip(preds, graph.tips, strict=True)
        ]
        self.tip_seen = bytearray(len(preds))
        self.finished = bytearray(len(preds))
        self.folds: dict[str, Fold] = {
            key: Fold(graph.writers[key], info) for key, info in plan.folded.items()
        }

    # -- events ---------------------------------------------------------------------

    def emit(self, cls: type[ev.Event], *args: Any) -> None:
        """Log an event (as a tuple unless a callback wants the object now)."""
        if self.on_event is None:
            self.log.append((cls, args))
        else:
            event = cls(*args)
            self.log.append(event)
            self.on_event(event)

    # -- scheduling -----------------------------------------------------------------

    async def execute(self) -> None:
        """Run every step; raise :class:`StepFailed` if one fails."""
        graph = self.graph
        now = trio.current_time()
        self.emit(ev.WorkflowStarted, now, graph.name, tuple(self.state), self.scope)
        try:
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                roots = [p for p, preds in enumerate(graph.predecessors) if not preds]
                self.ready_all(roots, now)
        except BaseExceptionGroup as group:
            leaves = group.exceptions
            if len(leaves) == 1 and not isinstance(leaves[0], BaseExceptionGroup):
                raise leaves[0] from None
            raise
        if self.failures:
            first = next(iter(self.failures))
            error = StepFailed(first, self.failures)
            error.__cause__ = self.failures[first]
            self.emit(ev.WorkflowFailed, trio.current_time(), graph.name, first,
                      self.failures[first], self.scope)
            raise error
        end = trio.current_time()
        self.emit(ev.WorkflowFinished, end, graph.name, end - now, self.scope)

    def ready_all(self, positions: list[int], now: float) -> None:
        """Several steps became ready at once: offer them slots by priority."""
        if len(positions) > 1:
            priority = self.graph.priority
            positions.sort(key=lambda p: -priority[p])
        for position in positions:
            self.ready(position, now)

    def ready(self, position: int, now: float) -> None:
        """All inputs of ``position`` are there: start it or queue it for a slot."""
        self.emit(ev.StepReady, now, self.names[position], self.scope)
        self.slots.request(self.graph.priority[position], self, position)

    def start(self, position: int) -> bool:
        """Start a step in the slot it was given (the :class:`Slots` callback)."""
        if self.stopped or self.nursery is None:
            return False
        self.nursery.start_soon(self.run_step, position)
        return True

    def upstream_done(self, position: int, now: float) -> None:
        """``position`` finished: count it towards each successor's join."""
        graph = self.graph
        released: list[int] = []
        for succ in graph.successors[position]:
            tips = graph.tips[succ]
            if tips and position in tips:
                if self.tip_seen[succ]:
                    continue
                self.tip_seen[succ] = 1
            self.remaining[succ] -= 1
            if self.remaining[succ] == 0:
                if len(graph.predecessors[succ]) > 1:
                    self.emit_join(succ, now)
                released.append(succ)
        if released:
            self.ready_all(released, now)

    def emit_join(self, position: int, now: float) -> None:
        """Say which upstreams had arrived when a fan-in step was released."""
        preds = self.graph.predecessors[position]
        arrived = tuple(self.names[p] for p in preds if self.finished[p])
        pending = tuple(self.names[p] for p in preds if not self.finished[p])
        self.emit(ev.JoinReleased, now, self.names[position], self.graph.joins[position],
                  arrived, pending, self.scope)

    # -- one step -------------------------------------------------------------------

    def bind(self, position: int) -> dict[str, Any]:
        """The keyword arguments of a step, read from state (or left to defaults)."""
        state = self.state
        kwargs: dict[str, Any] = {}
        any_join = bool(self.graph.tips[position])
        for name in self.plan.params[position]:
            if any_join and name in self.folds:
                value = self.folds[name].value_of_arrived()
                if value is not NOTHING:
                    kwargs[name] = value
            elif name in state:
                kwargs[name] = state[name]
        return kwargs

    async def run_step(self, position: int) -> None:
        """Run one step in its own task and report how it ended."""
        name = self.names[position]
        fn = self.plan.functions[position]
        kwargs = self.bind(position)
        started = trio.current_time()
        self.emit(ev.StepStarted, started, name, self.slots.in_flight, self.scope)
        try:
            if self.plan.is_async[position]:
                value = await fn(**kwargs)
            else:
                call = functools.partial(fn, **kwargs) if kwargs else fn
                value = await trio.to_thread.run_sync(call, limiter=self.thread_limiter)
        except trio.Cancelled:
            self.emit(ev.StepCancelled, trio.current_time(), name, self.scope)
            self.slots.release()
            raise
        except Exception as error:
            self.fail(position, error)
            return
        try:
            self.finish(position, value, started)
        except StepOutputError as error:
            self.fail(position, error)

    def finish(self, position: int, value: Any, started: float) -> None:
        """Write a step's result, release its successors, then free its slot."""
        now = trio.current_time()
        name = self.names[position]
        keys = self.plan.keys[position]
        if len(keys) == 1 and not self.plan.multi_key[position]:
            self.write(keys[0], value, position, now)
        else:
            if not isinstance(value, Mapping) or value.keys() != set(keys):
                raise StepOutputError(name, keys, value)
            for key in keys:
                self.write(key, value[key], position, now)
        self.finished[position] = 1
        self.emit(ev.StepFinished, now, name, now - started, self.scope)
        self.upstream_done(position, now)
        self.slots.release()

    def write(self, key: str, value: Any, position: int, now: float) -> None:
        """Fold one write into state and log it."""
        fold = self.folds.get(key)
        if fold is None:
            self.state[key] = value
            self.emit(ev.StateWritten, now, key, self.names[position], None, self.scope)
            return
        if fold.resolve(position, value):
            self.state[key] = fold.value
        self.emit(ev.StateWritten, now, key, self.names[position], fold.reducer.name,
                  self.scope)

    def fail(self, position: int, error: BaseException) -> None:
        """A step raised: remember it, stop starting steps and cancel the rest."""
        name = self.names[position]
        self.failures[name] = error
        self.emit(ev.StepError, trio.current_time(), name, error, self.scope)
        if not self.stopped:
            self.stopped = True
            assert self.nursery is not None
            self.nursery.cancel_scope.cancel()
        self.slots.release()
