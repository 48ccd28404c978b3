"""The runner: greedy dataflow over a compiled plan, in one trio nursery.

A finished step releases its successors at once; there are no rounds and no batch
barriers.  Writes are folded in plan order (see :mod:`._state`), so the final state is
the same whatever the timing.  A step whose guard does not hold, or whose required
inputs were never written, is skipped, and the skip flows downstream like a finish, so
every join is released exactly once.  Events are logged as cheap tuples and turned into
event objects only when someone looks (or at once, when an ``on_event`` callback is
given).
"""

from __future__ import annotations

import collections
import functools
import inspect
import math
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import trio

from . import events as ev
from ._control import guard_holds
from ._errors import (
    EventHandlerError,
    LoopLimitExceeded,
    ReducerError,
    StepFailed,
    StepOutputError,
)
from ._loop import run_loop
from ._retry import call_with_retries
from ._slots import Slots
from ._state import NOTHING, Fold

if TYPE_CHECKING:
    from ._plan import Plan, StepAction

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

EventLog = list[Any]
OnEvent = Callable[[ev.Event], object]


def _boxed(fn: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[Any]:
    """Call a sync step in its worker thread; the box keeps trio from judging the value."""
    return (fn(**kwargs),)


class Halt:
    """Shared by a run and its sub-workflow runs: once one fails, none starts a step."""

    __slots__ = ("halted",)

    def __init__(self) -> None:
        self.halted = False


class Run:
    """One execution of a plan: its state, counters and event log."""

    def __init__(
        self, plan: Plan, state: dict[str, Any], slots: Slots, on_event: OnEvent | None,
        scope: tuple[str, ...] = (), log: EventLog | None = None, halt: Halt | None = None,
        priority_offset: int = 0,
    ) -> None:
        graph = plan.graph
        self.plan = plan
        self.graph = graph
        self.names = plan.names
        self.state = state
        self.slots = slots
        self.on_event = on_event
        self.quiet = on_event is None  # no callback: events are logged as tuples
        self.scope = scope
        self.log: EventLog = [] if log is None else log
        self.failures: dict[str, BaseException] = {}
        self.callback_error: EventHandlerError | None = None
        self.stopped = False
        self.halt = Halt() if halt is None else halt
        self.nursery: trio.Nursery | None = None
        # Steps not yet finished or skipped.  The nursery stays open until there are
        # none: a step waiting for a slot held by another run is no task of ours.
        self.pending = len(plan.names)
        self.all_done = trio.Event()
        self.skip_queue: collections.deque[int] = collections.deque()
        self.draining = False
        # Sync steps run in worker threads.  Under a limit the slots already bound them,
        # and a thread abandoned by a timeout must not hold a place a retry needs; with
        # no limit, trio's default thread limiter keeps the thread count sane.
        self.thread_limiter = (
            trio.CapacityLimiter(math.inf) if slots.limit is not None else None
        )
        preds = graph.predecessors
        # Join.ALL waits for every upstream; Join.ANY for its non-tip upstreams and
        # one tip (the first to finish, or the last to be skipped).
        self.remaining = [
            len(p) - len(tips) + 1 if tips else len(p)
            for p, tips in zip(preds, graph.tips, strict=True)
        ]
        self.tips_left = [len(tips) for tips in graph.tips]
        self.tip_seen = bytearray(len(preds))
        self.finished = bytearray(len(preds))
        self.skipped = bytearray(len(preds))
        self.folds: dict[str, Fold] = {
            key: Fold(key, graph.writers[key], info, plan.names)
            for key, info in plan.folded.items()
        }
        # The per-step tables the hot path reads, bound once.
        self.successors = graph.successors
        self.params = plan.params
        self.is_async = plan.is_async
        self.tips = graph.tips
        # A sub-workflow's steps also have the outer path after it still to go.
        self.priority = (graph.priority if not priority_offset
                         else tuple(p + priority_offset for p in graph.priority))
        self.plain = plan.plain
        self.required = plan.required
        self.fns = tuple(a.fn for a in plan.actions)
        self.is_body = tuple(a.body is not None for a in plan.actions)
        self.joined = tuple(step.join is not None for step in graph.steps)
        #: The one key a step writes when nothing folds it: a plain assignment.
        self.simple_key = tuple(
            keys[0] if (len(keys) == 1 and not multi and a.writes_mapping is None
                        and keys[0] not in self.folds) else None
            for keys, multi, a in zip(plan.keys, plan.multi_key, plan.actions, strict=True)
        )

    # -- events ---------------------------------------------------------------------

    def emit(self, cls: type[ev.Event], *args: Any) -> None:
        """Log an event: as a flat tuple ``(cls, *fields)``, made into the event object
        only when read, unless a callback wants the object now."""
        if self.on_event is None:
            self.log.append((cls, *args))
        else:
            event = cls(*args)
            self.log.append(event)
            try:
                self.on_event(event)
            except Exception as error:
                self.stop_for_callback(event, error)

    def stop_for_callback(self, event: ev.Event, error: Exception) -> None:
        """``on_event`` raised: the run stops, and raises that (not a step's failure)."""
        if self.callback_error is None:
            self.callback_error = EventHandlerError(event, error)
            self.callback_error.__cause__ = error
        self.stop()

    def stop(self) -> None:
        """Start no more steps, here or in any run sharing this one's slots; cancel ours."""
        self.stopped = True
        self.halt.halted = True
        self.all_done.set()
        if self.nursery is not None:
            self.nursery.cancel_scope.cancel()

    # -- scheduling -----------------------------------------------------------------

    async def execute(self) -> None:
        """Run every step; raise :class:`StepFailed` if one fails."""
        graph = self.graph
        now = trio.current_time()
        self.emit(ev.WorkflowStarted, now, graph.name, tuple(self.state), self.scope)
        if self.callback_error is None:
            try:
                async with trio.open_nursery() as nursery:
                    self.nursery = nursery
                    roots = [p for p, preds in enumerate(graph.predecessors) if not preds]
                    self.release(roots, now)
                    if self.pending:
                        await self.all_done.wait()
            except BaseExceptionGroup as group:
                leaves = group.exceptions
                if len(leaves) == 1 and not isinstance(leaves[0], BaseExceptionGroup):
                    raise leaves[0] from None
                raise
        if self.callback_error is not None:
            raise self.callback_error
        if self.failures:
            self.raise_failure()
        end = trio.current_time()
        self.emit(ev.WorkflowFinished, end, graph.name, end - now, self.scope)
        if self.callback_error is not None:
            raise self.callback_error

    def raise_failure(self) -> None:
        """Raise the run's :class:`StepFailed` (a loop's own limit error as it is)."""
        first = next(iter(self.failures))
        cause = self.failures[first]
        self.emit(ev.WorkflowFailed, trio.current_time(), self.graph.name, first, cause,
                  self.scope)
        if isinstance(cause, EventHandlerError):  # raised in a sub-workflow's run
            raise cause
        if isinstance(cause, LoopLimitExceeded) and cause.origin == (self, self.graph.index[first]):
            cause.failures.update((k, v) for k, v in self.failures.items() if k != first)
            raise cause
        error = StepFailed(first, self.failures)
        raise error from cause

    def release(self, positions: list[int], now: float) -> None:
        """Steps whose upstreams are all done: decide each, by priority (which matters
        only when some may have to wait for a slot)."""
        if len(positions) > 1 and self.slots.limit is not None:
            priority = self.graph.priority
            positions.sort(key=lambda p: -priority[p])
        for position in positions:
            self.consider(position, now)

    def consider(self, position: int, now: float) -> None:
        """A step's upstreams are done: run it, or skip it (guard, missing input)."""
        if self.stopped:
            return
        if not self.plain[position]:
            guard = self.plan.actions[position].guard
            if guard is not None:
                try:
                    holds = guard_holds(guard, self.guard_view(position))
                except Exception as error:
                    self.fail(position, error, holds_slot=False)
                    return
                if not holds:
                    self.skip(position, now, "its when= guard does not hold")
                    return
        state = self.state
        for name in self.required[position]:
            if name not in state:
                self.skip(position, now, f"required input '{name}' was never written: "
                          "every step that writes it was skipped")
                return
        tips = self.tips[position]
        if tips and not any(self.finished[t] for t in tips):
            self.skip(position, now, "every branch of its Join.ANY was skipped")
            return
        if self.quiet:  # the hot path logs a tuple without a call (see emit)
            self.log.append((ev.StepReady, now, self.names[position], self.scope))
        else:
            self.emit(ev.StepReady, now, self.names[position], self.scope)
        if self.is_body[position]:
            self.start(position)  # its own steps take the slots
        else:
            self.slots.request(self.priority[position], self, position)

    def guard_view(self, position: int) -> Mapping[str, Any]:
        """What a step's guard reads: state, or for a ``Join.ANY`` step the same folds
        of the writes that have arrived that its parameters get."""
        guard = self.graph.steps[position].guard
        if not self.tips[position] or guard is None:
            return self.state
        arrived = {}
        for key in guard.reads:
            fold = self.folds.get(key)
            value = NOTHING if fold is None else fold.value_of_arrived()
            if value is not NOTHING:
                arrived[key] = value
        return collections.ChainMap(arrived, self.state)

    def start(self, position: int) -> bool:
        """Start a step in the slot it was given (the :class:`Slots` callback)."""
        if self.halt.halted or self.nursery is None:
            return False
        self.nursery.start_soon(self.run_step, position)
        return True

    def skip(self, position: int, now: float, reason: str) -> None:
        """A step will not run: it writes nothing, and its successors count it done."""
        self.skipped[position] = 1
        self.emit(ev.StepSkipped, now, self.names[position], reason, self.scope)
        for key in self.plan.keys[position]:
            self.resolve_unwritten(key, position)
        self.one_done()
        # A skip can release steps that are skipped in turn: a queue drained by the
        # outermost skip, not recursion, so a chain of thousands of skips takes no stack.
        self.skip_queue.append(position)
        if self.draining:
            return
        self.draining = True
        try:
            while self.skip_queue:
                self.upstream_done(self.skip_queue.popleft(), now)
        finally:
            self.draining = False

    def one_done(self) -> None:
        """A step finished or was skipped; when none is left, the run can end."""
        self.pending -= 1
        if not self.pending:
            self.all_done.set()

    def resolve_unwritten(self, key: str, position: int) -> None:
        """``position`` will not write ``key``: let its fold move past it."""
        fold = self.folds.get(key)
        if fold is not None and fold.resolve(position) and fold.has_value():
            self.state[key] = fold.value

    def upstream_done(self, position: int, now: float) -> None:
        """``position`` finished or was skipped: count it towards each successor's join."""
        successors = self.successors[position]
        if not successors:
            return
        finished = self.finished[position]
        all_tips, remaining = self.tips, self.remaining
        released: list[int] = []
        for succ in successors:
            tips = all_tips[succ]
            if tips and position in tips:
                self.tips_left[succ] -= 1
                if self.tip_seen[succ] or not (finished or self.tips_left[succ] == 0):
                    continue
                self.tip_seen[succ] = 1
            remaining[succ] -= 1
            if remaining[succ] == 0:
                if self.joined[succ]:
                    self.emit_join(succ, now)
                released.append(succ)
        if len(released) == 1:
            self.consider(released[0], now)
        elif released:
            self.release(released, now)

    def emit_join(self, position: int, now: float) -> None:
        """Say which upstreams had arrived when a fan-in step was released."""
        preds = self.graph.predecessors[position]
        names = self.names
        arrived = tuple(names[p] for p in preds if self.finished[p])
        skipped = tuple(names[p] for p in preds if self.skipped[p])
        pending = tuple(names[p] for p in preds if not (self.finished[p] or self.skipped[p]))
        self.emit(ev.JoinReleased, now, names[position], self.graph.joins[position],
                  arrived, pending, skipped, self.scope)

    # -- one step -------------------------------------------------------------------

    def bind(self, position: int) -> dict[str, Any]:
        """The keyword arguments of a step, read from state (or left to defaults)."""
        state = self.state
        if not self.tips[position]:
            return {name: state[name] for name in self.params[position] if name in state}
        kwargs: dict[str, Any] = {}
        for name in self.params[position]:
            if name in self.folds:
                value = self.folds[name].value_of_arrived()
                if value is not NOTHING:
                    kwargs[name] = value
            elif name in state:
                kwargs[name] = state[name]
        return kwargs

    async def run_step(self, position: int) -> None:
        """Run one step in its own task and report how it ended."""
        name = self.names[position]
        holds_slot = not self.is_body[position]
        try:
            kwargs = self.bind(position)
        except ReducerError as error:  # folding what a Join.ANY step reads
            self.fail(self.graph.index[error.step], error, holds_slot)
            return
        started = trio.current_time()
        if self.quiet:
            self.log.append((ev.StepStarted, started, name, self.slots.in_flight, self.scope))
        else:
            self.emit(ev.StepStarted, started, name, self.slots.in_flight, self.scope)
        try:
            if not self.plain[position]:
                value = await self.attempts(position, kwargs)
            elif self.is_async[position]:
                value = await self.fns[position](**kwargs)  # type: ignore[misc]
            else:
                value = await self.call(position, kwargs)
        except trio.Cancelled:
            self.cancelled(position, holds_slot)
            raise
        except BaseExceptionGroup as group:
            if group.split(trio.Cancelled)[1] is None:  # only cancellations, from a
                self.cancelled(position, holds_slot)  # sub-workflow or the step's nursery
                raise
            if not isinstance(group, Exception):  # a KeyboardInterrupt among them
                raise
            self.fail(position, group, holds_slot)  # the step's own nursery failed
            return
        except Exception as error:
            self.fail(position, error, holds_slot)
            return
        try:
            self.finish(position, value, started, holds_slot)
        except ReducerError as error:  # blame the step whose write could not be folded
            self.fail(self.graph.index[error.step], error, holds_slot)
        except Exception as error:  # a multi-key result without exactly its keys
            self.fail(position, error, holds_slot)

    def cancelled(self, position: int, holds_slot: bool) -> None:
        """The run (or one around it) is being cancelled while this step ran: start no
        other step anywhere, then give the slot back."""
        self.halt.halted = True
        self.emit(ev.StepCancelled, trio.current_time(), self.names[position], self.scope)
        if holds_slot:
            self.slots.release()

    async def call(self, position: int, kwargs: dict[str, Any]) -> Any:
        """One attempt: await the function, run it in a thread, or run the body."""
        action = self.plan.actions[position]
        if action.body is not None:
            return await self.run_body(position, action, kwargs)
        fn = action.fn
        assert fn is not None
        if self.plan.is_async[position]:
            return await fn(**kwargs)
        (value,) = await trio.to_thread.run_sync(
            functools.partial(_boxed, fn, kwargs), limiter=self.thread_limiter,
            abandon_on_cancel=action.timeout is not None,
        )
        if inspect.isawaitable(value):
            close = getattr(value, "close", None)
            if close is not None:
                close()  # never awaited: say so here, not in a RuntimeWarning
            raise TypeError(
                f"step '{self.names[position]}' is a plain def but returned an awaitable; "
                "make it 'async def' so that it runs in the event loop"
            )
        return value

    async def attempts(self, position: int, kwargs: dict[str, Any]) -> Any:
        """Call a step under its timeout, retrying as its ``Retry`` says."""
        action = self.plan.actions[position]
        return await call_with_retries(
            functools.partial(self.call, position, kwargs), step=self.names[position],
            retry=action.retry, timeout=action.timeout, emit=self.emit, scope=self.scope,
        )

    async def run_body(
        self, position: int, action: StepAction, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        """Run a sub-workflow (once, or as a loop) and return its final state."""
        body = action.body
        assert body is not None
        name = self.names[position]
        after = self.priority[position] - max(body.graph.priority, default=0)
        if action.repeat is None:
            return await self.run_pass(body, inputs, (*self.scope, name), after)

        async def one_pass(pass_inputs: dict[str, Any], iteration: int) -> dict[str, Any]:
            scope = (*self.scope, f"{name}#{iteration}")
            return await self.run_pass(body, pass_inputs, scope, after)

        try:
            return await run_loop(one_pass, step=name, repeat=action.repeat, inputs=inputs,
                                  emit=self.emit, scope=self.scope)
        except LoopLimitExceeded as error:
            if error.origin is None:  # this loop's own limit, not one inside its body
                error.origin = (self, position)
            raise

    async def run_pass(
        self, body: Plan, inputs: dict[str, Any], scope: tuple[str, ...], after: int
    ) -> dict[str, Any]:
        """Run one pass of a body in this run's limit, its events nested under ``scope``;
        ``after`` is the length of the outer path that follows it (for priorities)."""
        run = Run(body, dict(inputs), self.slots, self.on_event, scope, self.log, self.halt,
                  after)
        await run.execute()
        return run.state

    def finish(self, position: int, value: Any, started: float, holds_slot: bool) -> None:
        """Write a step's result, release its successors, then free its slot."""
        now = trio.current_time()
        name = self.names[position]
        key = self.simple_key[position]
        if key is not None:
            self.state[key] = value
            if self.quiet:
                self.log.append((ev.StateWritten, now, key, name, None, self.scope))
            else:
                self.emit(ev.StateWritten, now, key, name, None, self.scope)
        else:
            self.write_all(position, value, now)
        self.finished[position] = 1
        if self.quiet:
            self.log.append((ev.StepFinished, now, name, now - started, self.scope))
        else:
            self.emit(ev.StepFinished, now, name, now - started, self.scope)
        self.upstream_done(position, now)
        self.pending -= 1
        if not self.pending:
            self.all_done.set()
        if holds_slot:
            self.slots.release()

    def write_all(self, position: int, value: Any, now: float) -> None:
        """Write a result to its keys: several, folded, or copied from a sub-workflow."""
        plan = self.plan
        keys = plan.keys[position]
        mapping = plan.actions[position].writes_mapping
        if mapping is not None:
            for inner, outer in mapping:
                if inner in value:
                    self.write(outer, value[inner], position, now)
                else:
                    self.resolve_unwritten(outer, position)
        elif len(keys) == 1 and not plan.multi_key[position]:
            self.write(keys[0], value, position, now)
        else:
            if not isinstance(value, Mapping) or value.keys() != set(keys):
                raise StepOutputError(self.names[position], keys, value)
            for key in keys:
                self.write(key, value[key], position, now)

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

    def fail(self, position: int, error: BaseException, holds_slot: bool = True) -> None:
        """A step raised: remember it, stop starting steps and cancel the rest."""
        name = self.names[position]
        self.failures[name] = error
        self.emit(ev.StepError, trio.current_time(), name, error, self.scope)
        self.stop()
        if holds_slot:
            self.slots.release()
