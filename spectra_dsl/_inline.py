"""Running released steps in the task that released them: slot handover and eager start.

Spawning a trio task per step is most of a runner's cost.  The task that finishes a
step runs the steps it released itself: each plain ``async def`` step is started at once
with ``send(None)``, in a copy of the run's context.  A step that returns without
blocking never gets a task.  The first one that blocks is adopted: this task goes on
awaiting it (trio must see the task that registered the wait, and it is this one), and
every step released after that gets a task of its own, as do sync steps, retried ones
and sub-workflows.  After :data:`INLINE_BUDGET` steps run inline, the rest go to one
new task that goes on the same way: a long chain (or a wide fan-out) of steps that
never block yields to trio's scheduler every so often and starves no other task.
"""

from __future__ import annotations

import contextvars
from collections.abc import Coroutine, Generator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._runner import Run
    from ._slots import Slots

#: How many steps one task runs inline, at most, before it hands the rest to tasks.
INLINE_BUDGET = 256


class Resume:
    """Await a coroutine already started with ``send(None)`` that blocked on ``trap``:
    forward what trio sends to it, in its own context, until it returns."""

    __slots__ = ("context", "coro", "trap")

    def __init__(
        self, coro: Coroutine[Any, Any, Any], context: contextvars.Context, trap: object
    ) -> None:
        self.coro = coro
        self.context = context
        self.trap = trap

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, run = self.coro, self.context.run
        trap = self.trap
        while True:
            try:
                sent = yield trap
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as error:
                try:
                    trap = run(coro.throw, error)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    trap = run(coro.send, sent)
                except StopIteration as stop:
                    return stop.value


#: A step started inline that blocked: (run, position, the awaitable, when it started).
Adopted = tuple["Run", int, Resume, float]


def eager(run: Run, position: int) -> Adopted | None:
    """Start a plain ``async def`` step of ``run`` at once in this task, in a copy of the
    run's context: report it if it returned without blocking, else return it to await."""
    kwargs = run.arguments(position, True)
    if kwargs is None:
        return None
    started = run.now()
    run.emit.step_started(time=started, step=run.names[position],
                          in_flight=run.slots.in_flight)
    context = run.halt.context.copy()
    enter = run.emit.enter_step  # OpenTelemetry: the step runs with its span current
    if enter is not None:
        context.run(enter)
    try:
        coro = run.plan.fns[position](**kwargs)  # type: ignore[misc]
        trap = context.run(coro.send, None)
    except StopIteration as stop:
        run.report(position, stop.value, started, True)
        return None
    except Exception as error:
        run.fail(position, error)
        return None
    return run, position, Resume(coro, context, trap), started


async def run_handed_over(run: Run, positions: list[int]) -> None:
    """A task that starts steps of ``run`` handed over to it (when a finishing task ran
    out of budget), as a finishing task does."""
    slots = run.slots
    slots.handover.extend((run, position) for position in positions)
    slots.handing_over = True
    adopted = drain(slots)
    if adopted is not None:
        owner, position, call, started = adopted
        await owner.run_step(position, call, started)


def drain(slots: Slots) -> Adopted | None:
    """Run the steps handed over to this task (and those they release, in turn) until
    one blocks or the budget is spent; give the rest tasks.  Returns the step this task
    must go on awaiting, if any."""
    handover = slots.handover
    adopted: Adopted | None = None
    budget = INLINE_BUDGET
    later: dict[Run, list[int]] = {}
    i = 0
    try:
        while i < len(handover):
            run, position = handover[i]
            i += 1
            if run.halt.halted:  # it never starts
                slots.release()
            elif adopted is not None:
                run.spawn_step(position)
            elif not budget:
                later.setdefault(run, []).append(position)
            else:
                budget -= 1
                adopted = eager(run, position)
    finally:
        handover.clear()
        slots.handing_over = False
    for run, positions in later.items():
        run.continue_later(positions)
    return adopted
