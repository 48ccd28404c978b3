"""Calling one step: the one place a step's function (or sub-workflow) is called.

A plain ``async def`` step is awaited; a ``def`` step runs in a worker thread; a step
with ``retry=`` or ``timeout=`` is called under them; a sub-workflow step run in a task
of its own (a loop) runs pass after pass.  (Steps started inline by a finishing task
are called by :func:`._inline.eager`; plain sub-workflows are begun by
:meth:`Run.begin_child`.)
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any

import trio

from ._errors import LoopLimitExceeded
from ._loop import run_loop
from ._retry import call_with_retries

if TYPE_CHECKING:
    from ._plan import Plan
    from ._runner import Run


def _boxed(fn: Any, kwargs: dict[str, Any]) -> tuple[Any]:
    """Call a sync step in its worker thread; the box keeps trio from judging the value."""
    return (fn(**kwargs),)


async def invoke(
    run: Run, position: int, kwargs: dict[str, Any], item: int | None = None
) -> Any:
    """Call step ``position`` of ``run`` with ``kwargs``: plainly, or under its timeout
    and retries (``item``: the element, for one call of a mapped step)."""
    plan = run.plan
    if plan.plain[position] and plan.is_async[position]:
        return await plan.fns[position](**kwargs)  # type: ignore[misc]
    if plan.plain[position]:
        return await call_once(run, position, kwargs)
    action = plan.actions[position]
    return await call_with_retries(
        functools.partial(call_once, run, position, kwargs, item), step=plan.names[position],
        retry=action.retry, timeout=action.timeout, emit=run.emit, item=item,
    )


async def call_once(
    run: Run, position: int, kwargs: dict[str, Any], item: int | None = None
) -> Any:
    """One attempt: await the function, run it in a thread, or run the body."""
    action = run.plan.actions[position]
    if action.body is not None:
        return await run_body(run, position, kwargs, item)
    fn = action.fn
    assert fn is not None
    if run.plan.is_async[position]:
        return await fn(**kwargs)
    remote = run.halt.remote
    session = remote.get(fn) if remote else None
    if session is not None:  # executor=: a thread pool, worker processes, a cluster
        value = await session.call(fn, kwargs, step=run.plan.names[position],
                                   abandon=action.timeout is not None)
    else:
        (value,) = await trio.to_thread.run_sync(
            functools.partial(_boxed, fn, kwargs), limiter=run.thread_limiter,
            abandon_on_cancel=action.timeout is not None,
        )
    # A thread is not cancelled while it runs: if the run was cancelled meanwhile, this
    # step's result is dropped and nothing after it starts.
    await trio.lowlevel.checkpoint_if_cancelled()
    if inspect.isawaitable(value):
        close = getattr(value, "close", None)
        if close is not None:
            close()  # never awaited: say so here, not in a RuntimeWarning
        raise TypeError(
            f"step '{run.plan.names[position]}' is a plain def but returned an awaitable; "
            "make it 'async def' so that it runs in the event loop"
        )
    return value


async def run_body(
    run: Run, position: int, inputs: dict[str, Any], item: int | None = None
) -> dict[str, Any]:
    """Run a sub-workflow step in this task (once, or as a loop); return its final state.
    One run of a mapped sub-workflow is scoped ``name[item]``."""
    action = run.plan.actions[position]
    body = action.body
    assert body is not None
    name = run.plan.names[position]
    if item is not None:
        name = f"{name}[{item}]"
    after = run.after(position, body)
    if action.repeat is None:
        return await run_pass(run, body, inputs, (*run.emit.scope, name), after)

    async def one_pass(pass_inputs: dict[str, Any], iteration: int) -> dict[str, Any]:
        scope = (*run.emit.scope, f"{name}#{iteration}")
        return await run_pass(run, body, pass_inputs, scope, after)

    try:
        return await run_loop(one_pass, step=name, repeat=action.repeat, inputs=inputs,
                              emit=run.emit)
    except LoopLimitExceeded as error:
        if error.origin is None:  # this loop's own limit, not one inside its body
            error.origin = (run, position)
        raise


async def run_pass(
    run: Run, body: Plan, inputs: dict[str, Any], scope: tuple[str, ...], after: int
) -> dict[str, Any]:
    """Run one pass of a body in ``run``'s limit, its events nested under ``scope``;
    ``after`` is the length of the outer path that follows it (for priorities)."""
    inner = type(run)(body, dict(inputs), run.slots, run.emit.on_event, scope, run.emit.log,
                      run.halt, after)
    await inner.execute()
    return inner.state
