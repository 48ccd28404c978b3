"""A :class:`Run` that journals its steps to a store, restores recorded ones on resume,
and asks a person (see :mod:`._journal` for what is recorded when)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, cast

from ._ask import CURRENT, Ask
from ._emit import EventLog, OnEvent
from ._errors import ReducerError, SpectraError
from ._inline import run_handed_over
from ._journal import DurableHalt, ask_key, send, values_of
from ._map import MappedStep
from ._runner import Halt, Request, Run
from ._slots import Slots
from .events import StepAsked

if TYPE_CHECKING:
    from ._plan import Plan


class DurableRun(Run):
    """A :class:`Run` that journals its steps to a store, restores recorded ones, and
    asks a person.  Every run of the tree shares the :class:`Journal` held by its
    :class:`DurableHalt`."""

    __slots__ = ("answered", "asked", "asks", "currents", "durable", "elements", "journal",
                 "journaled", "live", "outer", "parked", "raced", "restore", "single",
                 "started_args", "starting")

    def __init__(
        self, plan: Plan, state: dict[str, Any], slots: Slots, on_event: OnEvent | None,
        scope: tuple[str, ...] = (), log: EventLog | None = None, halt: Halt | None = None,
        priority_offset: int = 0, on_end: Callable[[Run], None] | None = None,
        depth: int = 0,
    ) -> None:
        if not isinstance(halt, DurableHalt):
            raise TypeError("a DurableRun is made with the DurableHalt of its journal")
        super().__init__(plan, state, slots, on_event, scope, log, halt, priority_offset,
                         on_end, depth)
        journal = halt.journal
        self.journal = journal
        flags = journal.flags(plan)
        self.durable, self.asks, self.single = flags.durable, flags.asks, flags.single
        #: The steps whose record this run writes when they return.
        self.journaled = flags.recorded if journal.store is not None else flags.none
        #: Join.ANY steps, whose first arguments are recorded.
        self.raced = plan.schedule.tips
        #: Recorded steps to restore: their values as they returned them.
        self.restore: dict[int, Any] = {}
        #: ``Join.ANY`` steps that had started: the arguments of their first call.
        self.started_args: dict[int, dict[str, Any]] = {}
        #: Ask steps whose question is stored and unanswered: their payloads.
        self.asked: dict[int, Any] = {}
        #: Ask steps answered by this resume: (answer, payload).
        self.answered: dict[int, tuple[Any, Any]] = {}
        #: Elements of mapped steps recorded (the step itself not): their values.
        self.elements: dict[int, dict[int, Any]] = {}
        #: Ask steps waiting for their answer in this run.
        self.parked: set[int] = set()
        #: Sub-workflow steps of this run: how many of their runs are under way.
        self.live: dict[int, int] = {}
        #: The run (and its step) this one is a sub-workflow run of, if any.
        self.outer: tuple[DurableRun, int] | None = None
        #: What current_step() tells in each step's call, made when it first starts.
        self.currents: list[tuple[str | None, tuple[str, ...], str, None] | None] = (
            [None] * len(self.names))
        #: The step whose call is being made (its current_step()).
        self.starting: tuple[str | None, tuple[str, ...], str, None] | None = None
        traced = self.emit.enter_step
        self.emit.enter_step = self.enter_step if traced is None else functools.partial(
            _both, self.enter_step, traced)
        journal.enter(self)

    # -- deciding released steps ----------------------------------------------------

    def collect(self, released: list[int], now: float) -> list[Request]:
        """As :meth:`Run.collect`; the run may now wait only for answers."""
        requests = Run.collect(self, released, now)
        if self.journal.pending:
            self.journal.check_quiet()
        return requests

    # -- starting steps -------------------------------------------------------------

    def arguments(self, position: int, holds_slot: bool) -> dict[str, Any] | None:
        """As :meth:`Run.arguments`, and: tell the call who it is (``current_step()``);
        a ``Join.ANY`` step gets the arguments of its first call, and records them
        before its first call."""
        self.starting = self.current(position)  # told by enter_step or prepare
        if self.started_args:
            first = self.started_args.pop(position, None)
            if first is not None:
                return first
        kwargs = Run.arguments(self, position, holds_slot)
        if not self.raced[position] or kwargs is None:
            return kwargs
        name = self.names[position]
        journal = self.journal
        store = journal.store
        if store is not None and journal.run_id is not None and self.durable[position]:
            try:
                write = store.record(name, "started", scope=self.emit.scope, values=kwargs)
            except Exception as error:
                self.fail(position, error, holds_slot)
                return None
            store.commit(journal.run_id, [write])
        return kwargs

    def current(self, position: int) -> tuple[str | None, tuple[str, ...], str, None]:
        """What :func:`current_step` tells in a call of step ``position``."""
        current = self.currents[position]
        if current is None:
            current = self.currents[position] = (
                self.journal.run_id, self.emit.scope, self.names[position], None)
        return current

    def prepare(self, position: int, holds_slot: bool, now: float) -> Awaitable[Any] | None:
        """As :meth:`Run.prepare`, in the step's own task: tell it who it is."""
        CURRENT.set(self.current(position))
        return Run.prepare(self, position, holds_slot, now)

    def enter_step(self) -> None:
        """In the context of a step started inline (see :mod:`._inline`): tell it who
        it is (the step :meth:`arguments` was last called for)."""
        CURRENT.set(self.starting)

    def item_ready(self, mapped: MappedStep, item: int, value: Any, now: float) -> None:
        """As :meth:`Run.item_ready`, once the element's record is committed (the steps
        fed by it elementwise never start on a value the journal could lose)."""
        if not self.journaled[mapped.position]:
            Run.item_ready(self, mapped, item, value, now)
            return
        journal = self.journal
        journal.handing.append((self, mapped, item, value))
        if not journal.scheduled:
            journal.schedule()

    def continue_later(self, positions: list[int]) -> None:
        """As :meth:`Run.continue_later`; the journal's group commit waits for the
        task to have run (its steps finish in the same instant as their peers')."""
        self.journal.continuing += 1
        self.spawn(functools.partial(self.continue_handed_over, positions))

    async def continue_handed_over(self, positions: list[int]) -> None:
        """Run the steps handed over to this task (see :func:`run_handed_over`)."""
        self.journal.continuing -= 1
        await run_handed_over(self, positions)

    def spawn(self, task: functools.partial[Coroutine[Any, Any, None]]) -> None:
        """As :meth:`Run.spawn`; each call of a mapped step is told who it is
        (``current_step()`` with its ``item``) and recorded when it returns; an element
        recorded before is restored instead of called."""
        bound = task.func
        if getattr(bound, "__func__", None) is MappedStep.call:
            mapped = cast(MappedStep, bound.__self__)  # type: ignore[attr-defined]
            item: int = task.args[0]
            done = self.elements.get(mapped.position)
            if done and item in done:
                task = functools.partial(self.restore_item, mapped, item, done.pop(item))
            else:
                task = functools.partial(self.call_item, mapped, item)
        super().spawn(task)

    async def call_item(self, mapped: MappedStep, item: int) -> None:
        """Call one element of a mapped step (as its task), then record what it
        returned (the mapped step's own record, once all returned, holds the list)."""
        journal = self.journal
        CURRENT.set((journal.run_id, self.emit.scope, mapped.name, item))
        await mapped.call(item)
        store = journal.store
        if (store is not None and mapped.finished_items[item]
                and self.durable[mapped.position]):
            try:
                write = store.record(mapped.name, "finished", scope=self.emit.scope,
                                     item=item, values={"value": mapped.results[item]})
            except Exception:  # the whole list's record fails the step, naming it
                write = None
            if write is not None:
                journal.add(write)
        if journal.pending:  # the elements left may all wait for answers now
            journal.check_quiet()

    async def restore_item(self, mapped: MappedStep, item: int, value: Any) -> None:
        """An element recorded before: report its value without calling the step."""
        if self.halt.halted:
            if mapped.takes_slot:
                self.slots.release()
            return
        now = self.now()
        self.journal.restored_event(self, mapped.name, "finished", item)
        self.emit.step_started(time=now, step=mapped.name, in_flight=self.slots.in_flight,
                               item=item)
        mapped.returned(item, value, now)

    # -- finishing steps ------------------------------------------------------------

    def finish(self, position: int, value: Any, started: float, holds_slot: bool) -> None:
        """A step returned: record it (its successors wait for the commit), or, for an
        ask, take its question."""
        if not self.journaled[position]:
            if self.asks[position]:
                self.take_question(position, value, started, holds_slot)
                return
            Run.finish(self, position, value, started, holds_slot)
            if self.journal.pending:
                self.journal.check_quiet()
            return
        # Encoded and recorded by the commit (Journal.flush), with its peers'.
        journal = self.journal
        journal.waiting.append((self, position, value, started, holds_slot, True))
        if self.slots.in_flight <= holds_slot:  # nothing else in flight: no peer to wait
            # for; the run's very last step is committed with the run's end status
            journal.flush(last=self is journal.top and self.schedule.pending == 1)
        elif not journal.scheduled:
            journal.schedule()

    def committed(self, position: int, value: Any, started: float, holds_slot: bool) -> None:
        """The record of a finished step is committed: write its value, release its
        successors (as :meth:`Run.report`)."""
        try:
            Run.finish(self, position, value, started, holds_slot)
        except ReducerError as error:
            self.fail(self.plan.graph.index[error.step], error, holds_slot)
        except Exception as error:
            self.fail(position, error, holds_slot)
        if self.journal.pending:
            self.journal.check_quiet()

    def fail(self, position: int, error: BaseException, holds_slot: bool = True,
             *rest: Any) -> None:
        """As :meth:`Run.fail`, and record the failure (it runs again on resume, with a
        fresh retry budget)."""
        super().fail(position, error, holds_slot, *rest)
        journal = self.journal
        if journal.store is not None and self.durable[position]:
            text = f"{type(error).__name__}: {error}"
            try:
                write = journal.store.record(self.names[position], "failed",
                                             scope=self.emit.scope, error=text)
            except Exception:  # pragma: no cover - a record of plain text
                return
            journal.writes.append(write)

    # -- asking ---------------------------------------------------------------------

    def take_question(self, position: int, value: Any, started: float, holds_slot: bool
                      ) -> None:
        """An ask step returned: have its question answered in process, or store it and
        let its readers wait."""
        name = self.names[position]
        if not isinstance(value, Ask):
            raise TypeError(
                f"step '{name}' is an ask step (ask=True) so it must return "
                f"Ask(payload), not {type(value).__name__}")
        journal = self.journal
        payload = value.payload
        if journal.on_ask is not None:
            send(self, StepAsked(time=self.now(), step=name, payload=payload,
                                 scope=self.emit.scope))
            if holds_slot:  # a person answering holds no slot
                self.slots.release()
            self.spawn(functools.partial(self.ask_in_process, position, payload, started))
            return
        store = journal.store
        assert store is not None
        write = store.record(name, "asked", scope=self.emit.scope, payload=payload)
        send(self, StepAsked(time=self.now(), step=name, payload=payload,
                             scope=self.emit.scope))
        journal.add(write)
        if holds_slot:
            self.slots.release()
        self.park(position, payload)

    async def ask_in_process(self, position: int, payload: Any, started: float) -> None:
        """Await ``on_ask`` for an ask step's answer, then finish the step with it."""
        on_ask = self.journal.on_ask
        assert on_ask is not None
        try:
            answer = await on_ask(ask_key(self.emit.scope, self.names[position]), payload)
        except BaseException as error:
            if self.call_failed(position, error, holds_slot=False):
                raise
            return
        self.report_answer(position, answer, payload, started)

    def report_answer(self, position: int, answer: Any, payload: Any, started: float) -> None:
        """An ask was answered: record the answer; its readers get it once committed."""
        journal = self.journal
        store = journal.store
        if store is None:
            self.committed(position, answer, started, False)
            return
        values = values_of(self.plan, position, answer)
        if values is None:
            self.committed(position, answer, started, False)  # raises the keys' error
            return
        try:
            write = store.record(self.names[position], "answered", scope=self.emit.scope,
                                 values=values, payload=payload)
        except Exception as error:
            self.fail(position, error, holds_slot=False)
            return
        journal.hold(write, self, position, answer, started, False)

    def park(self, position: int, payload: Any) -> None:
        """An ask waits for its answer: its readers wait; the run goes on with the rest."""
        self.parked.add(position)
        self.journal.pending[ask_key(self.emit.scope, self.names[position])] = payload
        self.journal.check_quiet()

    def idle(self) -> bool:
        """Whether this run can go on only through an answer: every step released and
        not done is a parked ask, or a sub-workflow step whose runs are under way (they
        are judged on their own).  A run whose steps are all done is not idle: it is
        about to end and report."""
        schedule = self.schedule
        if not schedule.pending:
            return False
        remaining = schedule._remaining  # released: waiting for no report
        finished = schedule.finished
        skipped = schedule.skipped
        parked = self.parked
        live = self.live
        for position in range(len(remaining)):
            if (remaining[position] or finished[position] or skipped[position]
                    or position in parked):
                continue
            if not live.get(position):
                return False  # still running (or about to)
            if self.maps and position in self.maps and not self.map_idle(position):
                return False
        return True

    def map_idle(self, position: int) -> bool:
        """A mapped sub-workflow step with runs under way: idle when each element in
        flight has its run (all judged on their own) and no other element may start
        (all started, or as many in flight as it may have: a parked element keeps its
        place)."""
        assert self.maps is not None
        mapped = self.maps[position]
        if self.live[position] < mapped.in_flight:
            return False  # an element's run is about to begin
        if mapped.in_flight >= mapped.window:
            return True
        if mapped.ready is None:
            return mapped.next >= mapped.count
        return not mapped.ready

    async def complete(self) -> dict[str, Any]:
        """As :meth:`Run.complete`; the run stops counting among the runs under way of
        its journal (what tells whether every run waits for an answer) when it ends."""
        try:
            return await Run.complete(self)
        finally:
            self.journal.leave(self)

    async def execute(self) -> None:
        """As :meth:`Run.execute`; a sub-workflow run stopped by the run's interruption
        raises :class:`Interrupted` (its outer step neither finishes nor fails)."""
        await Run.execute(self)
        if self.journal.interrupted and self.schedule.pending and self is not self.journal.top:
            raise Interrupted

    def call_failed(self, position: int, error: BaseException, holds_slot: bool,
                    item: int | None = None) -> bool:
        """As :meth:`Run.call_failed`; a sub-workflow step whose run was interrupted
        just stops (it runs again on resume)."""
        if isinstance(error, Interrupted):
            if holds_slot:
                self.slots.release()
            return False
        return Run.call_failed(self, position, error, holds_slot, item)

    def end(self) -> None:
        """As :meth:`Run.end`; an interrupted run ends without finishing."""
        if self.journal.interrupted and self.schedule.pending:
            self.all_done.set()
            return
        super().end()


def _both(first: Callable[[], object], second: Callable[[], object]) -> None:
    first()
    second()


class Interrupted(BaseException):
    """Raised out of a sub-workflow run's ``execute`` when the run it is part of was
    interrupted (every run waits for an answer): the outer step stops, unreported."""


class AskWithoutAnswer(SpectraError):
    """A workflow with ask steps was run with neither a store nor ``on_ask``: nothing
    could take the question.  Raised before any step runs."""

    def __init__(self, workflow: str, steps: list[str]) -> None:
        self.workflow = workflow
        self.steps = tuple(steps)
        names = ", ".join(f"'{s}'" for s in steps)
        super().__init__(
            f"workflow '{workflow}' has ask steps ({names}) but the run has neither a "
            "store (store=..., to stop and resume with answers=...) nor on_ask= (an "
            "async function (step, payload) -> answer); give one of them")
