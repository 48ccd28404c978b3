"""The runner: greedy dataflow over a compiled plan, in one trio nursery.

A finished step releases its successors at once; there are no rounds and no batch
barriers.  What is ready is decided by the trio-free core in :mod:`._schedule`; this
module keeps what needs trio: the nursery, the slots, the step calls and the failures.
Writes are folded in plan order (see :mod:`._state`), so the final state is the same
whatever the timing.  A step whose guard does not hold, or whose required inputs were
never written, is skipped, and the skip flows downstream like a finish, so every join
is released exactly once.

A plain sub-workflow step is begun in the instant it is released: its own first steps
ask for slots together with the outer steps released at that instant, by priority, so
a sub-workflow on the critical path is never served after its lower-priority siblings.
"""

from __future__ import annotations

import contextvars
import functools
import math
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import trio

from . import events as ev
from ._call import invoke
from ._control import guard_holds
from ._emit import Emitter, EventLog, OnEvent
from ._errors import EventHandlerError, LoopLimitExceeded, ReducerError, StepFailed
from ._executor_bind import EXECUTORS, Remote, executors_wanted, open_executors
from ._inline import drain, run_handed_over
from ._map import MappedStep, mapped_lists, pipelined, start_pipelined
from ._schedule import Schedule
from ._slots import Slots
from ._state import Fold
from ._values import bind, guard_view, write_result

if TYPE_CHECKING:
    from ._plan import Plan

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

#: How many sub-workflows deep steps are begun in the instant they are released; deeper
#: ones begin in a task of their own (each level begun at once takes a few stack frames).
MAX_DEPTH_BEGUN_AT_ONCE = 48

#: A slot request: (priority, run, position).
Request = tuple[int, "Run", int]


class Halt:
    """Shared by a run and its sub-workflow runs: once one fails, none starts a step.
    ``context`` is the context the run started in: each step run inline gets a copy.
    ``remote``: each step function bound to an executor, and its session (set when the
    top run opens its executors; None while it has none)."""

    __slots__ = ("context", "halted", "remote")

    def __init__(self) -> None:
        self.halted = False
        self.remote: Remote | None = None
        self.context = contextvars.copy_context()


class Run:
    """One execution of a plan: its state, schedule, slots, event log and failures."""

    __slots__ = ("all_done", "callback_error", "depth", "early", "emit", "ended", "failures",
                 "folds", "halt", "items", "maps", "names", "now", "nursery", "on_end",
                 "plan", "priority", "schedule", "slots", "started", "state", "stopped",
                 "thread_limiter")

    def __init__(
        self, plan: Plan, state: dict[str, Any], slots: Slots, on_event: OnEvent | None,
        scope: tuple[str, ...] = (), log: EventLog | None = None, halt: Halt | None = None,
        priority_offset: int = 0, on_end: Callable[[Run], None] | None = None,
        depth: int = 0,
    ) -> None:
        self.plan = plan
        #: Reads the run's clock: trio.current_time(), with one call less.
        self.now = trio.lowlevel.current_clock().current_time
        #: How many sub-workflows begun at once this run is nested in.
        self.depth = depth
        #: Called in the instant the last step finishes (a sub-workflow's outer step).
        self.on_end = on_end
        self.ended = False
        self.names = plan.names
        self.state = state
        self.slots = slots
        self.emit = Emitter([] if log is None else log, scope, on_event, self.callback_failed)
        self.schedule = Schedule(plan.schedule)
        self.failures: dict[str, BaseException] = {}
        #: The element each failed mapped step failed on.
        self.items: dict[str, int] = {}
        #: The mapped steps making their calls (None until the first one begins).
        self.maps: dict[int, MappedStep] | None = None
        self.callback_error: EventHandlerError | None = None
        self.stopped = False
        self.halt = Halt() if halt is None else halt
        self.nursery: trio.Nursery | None = None
        #: Tasks to start once the nursery is open (steps given a slot before it was).
        self.early: list[functools.partial[Coroutine[Any, Any, None]]] = []
        self.all_done = trio.Event()
        self.started = 0.0
        # Sync steps run in worker threads.  Under a limit the slots already bound them,
        # and a thread abandoned by a timeout must not hold a place a retry needs; with
        # no limit, trio's default thread limiter keeps the thread count sane.
        self.thread_limiter = (
            trio.CapacityLimiter(math.inf) if slots.limit is not None else None
        )
        self.folds: dict[str, Fold] = {
            key: Fold(key, plan.graph.writers[key], info, plan.names)
            for key, info in plan.folded.items()
        }
        # A sub-workflow's steps also have the outer path after it still to go.
        priority = plan.graph.priority
        self.priority = (priority if not priority_offset
                         else tuple(p + priority_offset for p in priority))

    # -- the run as a whole ---------------------------------------------------------

    async def execute(self) -> None:
        """Run every step; raise :class:`StepFailed` if one fails.  The top run first
        opens the executors its steps name, for its whole length (``executor=``)."""
        if self.halt.remote is None and executors_wanted():
            async with open_executors(self.plan, EXECUTORS.get()) as remote:
                self.halt.remote = remote
                self.submit(self.begin(self.now()))
                await self.complete()
            return
        self.submit(self.begin(self.now()))
        await self.complete()

    def begin(self, now: float) -> list[Request]:
        """Start the run: log it, decide its first steps, return their slot requests."""
        self.started = now
        self.emit.workflow_started(time=now, workflow=self.plan.graph.name,
                                   inputs=tuple(self.state))
        if self.callback_error is not None:
            return []
        return self.collect(self.schedule.roots(), now)

    async def complete(self) -> dict[str, Any]:
        """Run the steps begun until none is left; raise the run's failure, or return
        the final state."""
        if self.schedule.pending and self.callback_error is None:
            try:
                async with trio.open_nursery() as nursery:
                    self.nursery = nursery
                    for task in self.early:
                        nursery.start_soon(task)
                    self.early.clear()
                    if self.stopped:
                        nursery.cancel_scope.cancel()
                    elif self.schedule.pending:
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
        self.end()
        if self.callback_error is not None:
            raise self.callback_error
        return self.state

    def end(self) -> None:
        """Every step finished or was skipped: log it (once) and tell ``on_end``."""
        self.all_done.set()
        if self.ended or self.stopped:
            return
        self.ended = True
        end = self.now()
        self.emit.workflow_finished(time=end, workflow=self.plan.graph.name,
                                    duration=end - self.started)
        if self.on_end is not None and self.callback_error is None:
            self.on_end(self)

    def raise_failure(self) -> None:
        """Raise the run's :class:`StepFailed` (a loop's own limit error as it is)."""
        first = next(iter(self.failures))
        cause = self.failures[first]
        self.emit.workflow_failed(time=self.now(), workflow=self.plan.graph.name,
                                  step=first, error=cause)
        error: BaseException
        if isinstance(cause, EventHandlerError):  # raised in a sub-workflow's run
            error = cause
        elif (isinstance(cause, LoopLimitExceeded)
              and cause.origin == (self, self.plan.graph.index[first])):
            cause.failures.update((k, v) for k, v in self.failures.items() if k != first)
            error = cause
        else:
            error = StepFailed(first, self.failures, self.items.get(first))
            error.__cause__ = cause
        if self.callback_error is not None:  # on_event raised on WorkflowFailed itself
            self.callback_error.__context__ = error
            raise self.callback_error
        raise error

    def callback_failed(self, event: ev.Event, error: Exception) -> None:
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

    # -- deciding released steps ----------------------------------------------------

    def collect(self, released: list[int], now: float) -> list[Request]:
        """Decide each released step: skip it (and decide what that releases, in turn)
        or ready it.  Returns the slot requests of the steps to run, sub-workflows'
        first steps included."""
        plan = self.plan
        schedule = self.schedule
        emit = self.emit
        state = self.state
        requests: list[Request] = []
        work = released
        i = 0
        while i < len(work):
            if self.halt.halted:
                return requests
            position = work[i]
            i += 1
            if plan.simple[position]:  # no guard, join or race: run it if it can
                for name in plan.required[position]:
                    if name not in state:
                        break
                else:
                    emit.step_ready(time=now, step=self.names[position])
                    requests.append((self.priority[position], self, position))
                    continue
            maps = self.maps
            if maps is not None and position in maps:  # started early, fed elementwise
                if plan.joined[position]:
                    self.emit_join(position, now)
                maps[position].release(now)
                continue
            if plan.joined[position]:
                self.emit_join(position, now)
            if plan.plain[position]:
                reason = self.missing_input(position)
            else:
                try:
                    reason = self.skip_reason(position)
                except ReducerError as error:  # folding what a Join.ANY guard reads:
                    self.fail(plan.graph.index[error.step], error, holds_slot=False)
                    return requests  # blame the writer, not the join step
                except Exception as error:
                    self.fail(position, error, holds_slot=False)
                    return requests
            if reason is not None:
                work.extend(self.skip(position, now, reason))
                continue
            emit.step_ready(time=now, step=self.names[position])
            if plan.graph.maps[position]:
                self.begin_map(position, now)
            elif plan.begun_at_once[position] and self.depth < MAX_DEPTH_BEGUN_AT_ONCE:
                requests.extend(self.begin_child(position, now))
            elif plan.is_body[position]:
                self.spawn(functools.partial(self.run_step, position))  # it takes no slot
            else:
                requests.append((self.priority[position], self, position))
        if not schedule.pending:
            self.end()
        return requests

    def skip_reason(self, position: int) -> str | None:
        """Why a released step will not run (guard, missing input, dead race), if so."""
        guard = self.plan.actions[position].guard
        if guard is not None and not guard_holds(guard, guard_view(self, position)):
            return "its when= guard does not hold"
        return self.missing_input(position)

    def missing_input(self, position: int) -> str | None:
        """Why a released step cannot run for want of an input, if so."""
        state = self.state
        for name in self.plan.required[position]:
            if name not in state:
                return (f"required input '{name}' was never written: every step that "
                        "writes it was skipped")
        if self.schedule.all_tips_skipped(position):
            return "every branch of its Join.ANY was skipped"
        return None

    def submit(self, requests: list[Request]) -> None:
        """Ask for a slot for each step, highest priority first (which matters only when
        some may have to wait)."""
        if len(requests) > 1 and self.slots.limit is not None:
            requests.sort(key=lambda r: -r[0])
        request = self.slots.request
        for priority, run, position in requests:
            request(priority, run, position)

    def skip(self, position: int, now: float, reason: str) -> list[int]:
        """A step will not run: it writes nothing; returns what its skip releases."""
        self.emit.step_skipped(time=now, step=self.names[position], reason=reason)
        for key in self.plan.keys[position]:
            self.resolve_unwritten(key, position)
        return self.schedule.skip(position)

    def resolve_unwritten(self, key: str, position: int) -> None:
        """``position`` will not write ``key``: let its fold move past it."""
        fold = self.folds.get(key)
        if fold is not None and fold.resolve(position) and fold.has_value():
            self.state[key] = fold.value

    def emit_join(self, position: int, now: float) -> None:
        """Say which upstreams had arrived when a fan-in step was released."""
        names = self.names
        arrived, pending, skipped = self.schedule.upstreams(position)
        self.emit.join_released(
            time=now, step=names[position], join=self.plan.graph.joins[position],
            arrived=tuple(names[p] for p in arrived), pending=tuple(names[p] for p in pending),
            skipped=tuple(names[p] for p in skipped),
        )

    # -- starting steps -------------------------------------------------------------

    def start(self, position: int) -> bool:
        """Start a step in the slot it was given (the :class:`Slots` callback): hand it
        to the task that is finishing a step, or give it a task."""
        if self.halt.halted:
            return False
        if self.plan.inline[position] and self.slots.handing_over:
            self.slots.handover.append((self, position))
        else:
            self.spawn(functools.partial(self.run_step, position))
        return True

    def spawn_step(self, position: int) -> None:
        """Give a step that holds a slot a task of its own."""
        self.spawn(functools.partial(self.run_step, position))

    def continue_later(self, positions: list[int]) -> None:
        """Give steps that hold slots one new task, which runs them as a finishing task
        runs the steps it released."""
        self.spawn(functools.partial(run_handed_over, self, positions))

    def spawn(self, task: functools.partial[Coroutine[Any, Any, None]]) -> None:
        """Start a task in the run's nursery, or once it opens."""
        if self.nursery is None:
            self.early.append(task)
        else:
            self.nursery.start_soon(task)

    def begin_child(self, position: int, now: float) -> list[Request]:
        """Begin a plain sub-workflow step now: its run's first steps ask for slots with
        the steps released in this instant; a task waits for the rest of it."""
        try:
            inputs = bind(self, position)
        except ReducerError as error:
            self.fail(self.plan.graph.index[error.step], error, holds_slot=False)
            return []
        body = self.plan.actions[position].body
        assert body is not None
        name = self.names[position]
        self.emit.step_started(time=now, step=name, in_flight=self.slots.in_flight)

        def ended(child: Run) -> None:  # in the instant its last step finished
            self.report(position, child.state, now, holds_slot=False)

        child = type(self)(body, inputs, self.slots, self.emit.on_event,
                           (*self.emit.scope, name), self.emit.log, self.halt,
                           self.after(position, body), ended, self.depth + 1)
        requests = child.begin(now)
        self.spawn(functools.partial(self.await_child, position, child))
        return requests

    async def await_child(self, position: int, child: Run) -> None:
        """Wait for a sub-workflow begun at once (its end was reported as it happened);
        report its failure or cancellation as the outer step's."""
        try:
            await child.complete()
        except BaseException as error:
            if self.call_failed(position, error, holds_slot=False):
                raise

    def after(self, position: int, body: Plan) -> int:
        """The length of the outer path after a sub-workflow step (for priorities)."""
        return self.priority[position] - max(body.graph.priority, default=0)

    # -- mapped steps ---------------------------------------------------------------

    def begin_map(self, position: int, now: float) -> None:
        """A mapped step was released: take its lists and start its calls."""
        try:
            kwargs = bind(self, position)
        except ReducerError as error:
            self.fail(self.plan.graph.index[error.step], error, holds_slot=False)
            return
        try:
            columns = mapped_lists(self.names[position], self.plan.graph.maps[position],
                                   kwargs)
        except Exception as error:  # no list, or zipped lists of different lengths
            self.fail(position, error, holds_slot=False)
            return
        self.open_map(position, kwargs, columns, now, None)

    def open_map(
        self, position: int, kwargs: dict[str, Any], columns: list[list[Any]], now: float,
        upstream: MappedStep | None,
    ) -> None:
        """Make a mapped step's calls (fed by ``upstream`` elementwise, if given)."""
        mapped = MappedStep(self, position, kwargs, now)
        if self.maps is None:
            self.maps = {}
        self.maps[position] = mapped
        graph = self.plan.graph
        mapped.candidates = [d for d in graph.successors[position]
                             if graph.maps[d] and pipelined(self, d) == position]
        mapped.begin(columns, now, upstream)
        if mapped.candidates and position in self.maps:
            start_pipelined(self, mapped, now)

    def item_ready(self, mapped: MappedStep, item: int, value: Any, now: float) -> None:
        """Element ``item`` of ``mapped`` returned ``value``: hand it on to the steps fed
        by it elementwise (a durable run first commits the element's record), and start
        those whose other inputs are ready."""
        mapped.fed[item] = 1
        for downstream in mapped.downstream:
            downstream.feed(item, value, now)
        if mapped.candidates:
            start_pipelined(self, mapped, now)

    # -- one step -------------------------------------------------------------------

    async def run_step(
        self, position: int, call: Awaitable[Any] | None = None, started: float = 0.0,
        holds_slot: bool = True,
    ) -> None:
        """A step's task: run it (or await ``call``, a step already started) and report
        how it ended; then run the steps handed over to this task (see :mod:`._inline`),
        and await the one that blocked, until none is left.  (One coroutine frame
        between trio and the step.)"""
        run = self
        if call is None:
            holds_slot = not self.plan.is_body[position]
            started = self.now()
            call = self.prepare(position, holds_slot, started)
            if call is None:
                return
        while True:
            try:
                value = await call
            except BaseException as error:
                if run.call_failed(position, error, holds_slot):
                    raise
                return
            slots = run.slots
            slots.handing_over = True
            run.report(position, value, started, holds_slot)
            if not slots.handover:  # it released nothing that runs inline
                slots.handing_over = False
                return
            adopted = drain(slots)
            if adopted is None:
                return
            run, position, call, started = adopted
            holds_slot = True

    def prepare(self, position: int, holds_slot: bool, now: float) -> Awaitable[Any] | None:
        """Start a step given a task: log it and return its call; None when it never
        starts (the run halted, or folding its arguments failed)."""
        if self.halt.halted:  # queued when the run halted: it never starts
            if holds_slot:
                self.slots.release()
            return None
        kwargs = self.arguments(position, holds_slot)
        if kwargs is None:
            return None
        self.emit.step_started(time=now, step=self.names[position],
                               in_flight=self.slots.in_flight)
        plan = self.plan
        if not plan.inline[position]:
            return invoke(self, position, kwargs)
        try:  # a plain async def: its coroutine, awaited directly
            call: Awaitable[Any] = plan.fns[position](**kwargs)  # type: ignore[misc]
        except Exception as error:
            self.fail(position, error, holds_slot)
            return None
        return call

    def arguments(self, position: int, holds_slot: bool) -> dict[str, Any] | None:
        """A step's keyword arguments; None (and the writer failed) when folding what a
        ``Join.ANY`` step reads raised."""
        try:
            return bind(self, position)
        except ReducerError as error:
            self.fail(self.plan.graph.index[error.step], error, holds_slot)
            return None

    def call_failed(
        self, position: int, error: BaseException, holds_slot: bool,
        item: int | None = None,
    ) -> bool:
        """A step's call raised ``error``: report it (failed, or cancelled); True when
        the error must propagate (a cancellation, a KeyboardInterrupt).  ``item``: the
        element, for one call of a mapped step."""
        if isinstance(error, trio.Cancelled):
            self.cancelled(position, holds_slot, item)
            return True
        if isinstance(error, BaseExceptionGroup):
            if error.split(trio.Cancelled)[1] is None:  # only cancellations, from a
                self.cancelled(position, holds_slot, item)  # sub-workflow or a nursery
                return True
            if not isinstance(error, Exception):  # a KeyboardInterrupt among them
                return True
            self.fail(position, error, holds_slot, item)  # the step's own nursery failed
            return False
        if isinstance(error, Exception):
            self.fail(position, error, holds_slot, item)
            return False
        return True

    def report(self, position: int, value: Any, started: float, holds_slot: bool) -> None:
        """A step returned ``value``: finish it, or fail it if its write cannot be made."""
        try:
            self.finish(position, value, started, holds_slot)
        except ReducerError as error:  # blame the step whose write could not be folded
            self.fail(self.plan.graph.index[error.step], error, holds_slot)
        except Exception as error:  # a multi-key result without exactly its keys
            self.fail(position, error, holds_slot)

    def cancelled(self, position: int, holds_slot: bool, item: int | None = None) -> None:
        """The run (or one around it) is being cancelled while this step ran: start no
        other step anywhere, then give the slot back."""
        self.halt.halted = True
        self.emit.step_cancelled(time=self.now(), step=self.names[position], item=item)
        if holds_slot:
            self.slots.release()

    def finish(self, position: int, value: Any, started: float, holds_slot: bool) -> None:
        """Write a step's result, release its successors, then free its slot."""
        now = self.now()
        name = self.names[position]
        write_result(self, position, value, now)
        self.emit.step_finished(time=now, step=name, duration=now - started, value=value)
        # Its slot is free from now on ([start, finish)); the steps it releases ask for
        # theirs, then the free slots go out by priority.
        if holds_slot:
            self.slots.vacate()
        released = self.schedule.done(position)
        if self.maps:  # a step a mapped step's successor waited for may be done
            for mapped in list(self.maps.values()):
                if mapped.candidates:
                    start_pipelined(self, mapped, now)
        if released:
            self.submit(self.collect(released, now))
        elif not self.schedule.pending:
            self.end()
        if holds_slot:
            self.slots.fill()

    def fail(
        self, position: int, error: BaseException, holds_slot: bool = True,
        item: int | None = None,
    ) -> None:
        """A step raised: remember it (and the element, for a call of a mapped step),
        stop starting steps and cancel the rest."""
        name = self.names[position]
        if item is None:
            self.failures[name] = error
        elif name not in self.failures:  # the first element of a mapped step to fail
            self.failures[name] = error
            self.items[name] = item
        self.emit.step_error(time=self.now(), step=name, error=error, item=item)
        self.stop()
        if holds_slot:
            self.slots.release()
