"""Binding ``executor=`` names for one run: every check before any step runs, then one
session per bound executor for the length of the run.

:func:`open_executors` gives the runner a mapping from each step function bound to an
executor to that executor's session; a step not in it runs as it always did.
"""

from __future__ import annotations

import contextvars
import inspect
import pickle
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import (
    AbstractAsyncContextManager,
    AsyncExitStack,
    asynccontextmanager,
    contextmanager,
)
from typing import TYPE_CHECKING, Any, TypeVar

from ._executor_base import Executor, ExecutorError, Session
from ._step import executor_named, options_of

if TYPE_CHECKING:
    from ._plan import Plan

#: What a run binds: each step function sent elsewhere, and its executor's session.
Remote = dict[Callable[..., Any], Session]

#: The ``executors=`` of the run being started (``plan.run`` sets it for its length; the
#: top :class:`Run` of the tree opens them, whatever kind of run it is).
EXECUTORS: contextvars.ContextVar[Mapping[str, Executor] | None] = contextvars.ContextVar(
    "spectra_executors", default=None)

T = TypeVar("T")


def executors_wanted() -> bool:
    """Whether a run must bind executors: some were given, or a step names one."""
    return EXECUTORS.get() is not None or executor_named()


@contextmanager
def given_executors(executors: Mapping[str, Executor] | None) -> Iterator[None]:
    """Make ``executors`` the ones of the runs started in this context."""
    token = EXECUTORS.set(executors)
    try:
        yield
    finally:
        EXECUTORS.reset(token)


@asynccontextmanager
async def streaming_with(
    executors: Mapping[str, Executor] | None, inner: AbstractAsyncContextManager[T]
) -> AsyncIterator[T]:
    """``inner`` (a stream of a run) entered with ``executors`` given."""
    with given_executors(executors):
        async with inner as value:
            yield value


def check_bound(plan: Plan, executors: Mapping[str, Executor] | None) -> None:
    """Raise :class:`ExecutorError` now if ``plan`` cannot bind its executors."""
    if executors is not None or executor_named():
        check_executors(plan, executors)


def executor_name(fn: object) -> str | None:
    """The ``executor=`` name given to a step function, if any."""
    name = getattr(options_of(fn), "executor", None)
    return name if isinstance(name, str) else None


def bound_steps(plan: Plan, path: str = "") -> Iterator[tuple[str, Callable[..., Any], str]]:
    """(step path, function, executor name) of every step of ``plan`` and of its
    sub-workflows that names an executor."""
    for name, action in zip(plan.names, plan.actions, strict=True):
        if action.body is not None:
            yield from bound_steps(action.body, f"{path}{name}/")
        elif action.fn is not None and (executor := executor_name(action.fn)) is not None:
            yield f"{path}{name}", action.fn, executor


def shipping_problem(fn: Callable[..., Any]) -> str | None:
    """Why a step function cannot be sent to another process by reference, if so."""
    qualname = getattr(fn, "__qualname__", "")
    if getattr(fn, "__name__", "") == "<lambda>":
        return "it is a lambda; executors call steps by reference: define it with def " \
               "at module level"
    if "<locals>" in qualname:
        return "it is defined inside a function (a closure); executors call steps by " \
               "reference: define it at module level and pass what it closed over as " \
               "an input"
    try:
        pickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        return f"it cannot be pickled by reference ({error}); define it at module level"
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover (a step always has a signature)
        return None
    for parameter in parameters:
        if parameter.default is inspect.Parameter.empty:
            continue
        try:
            pickle.dumps(parameter.default, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            return (f"the default of its parameter '{parameter.name}' "
                    f"({type(parameter.default).__name__}) cannot be pickled: {error}")
    return None


def check_executors(
    plan: Plan, executors: Mapping[str, Executor] | None
) -> dict[Callable[..., Any], str]:
    """Every step function bound to an executor, with its executor's name; raise an
    :class:`ExecutorError` listing every unbound name and every step that cannot be
    shipped."""
    given = dict(executors or {})
    problems: list[str] = []
    for key, executor in given.items():
        if not isinstance(key, str) or not isinstance(executor, Executor):
            problems.append(
                f"executors={{{key!r}: {executor!r}}}: bind each name to an executor from "
                "spectra_dsl.executors (ThreadExecutor, ProcessExecutor, DaskExecutor)")
    bound: dict[Callable[..., Any], str] = {}
    for step, fn, name in bound_steps(plan):
        if name not in given:
            known = ", ".join(repr(k) for k in sorted(given, key=str)) or "none"
            problems.append(
                f"step '{step}' runs on executor '{name}', which this run does not bind "
                f"(bound: {known}); pass executors={{'{name}': ...}} to run()")
            continue
        if inspect.iscoroutinefunction(fn):
            problems.append(
                f"step '{step}' is an async def, and executor= takes plain def steps (an "
                "async step already runs in the event loop); make it def or drop "
                "executor=")
            continue
        executor = given[name]
        if isinstance(executor, Executor) and executor.ships:
            why = shipping_problem(fn)
            if why is not None:
                problems.append(f"step '{step}' cannot be sent to executor '{name}': {why}")
                continue
        bound[fn] = name
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        raise ExecutorError(
            f"workflow '{plan.graph.name}' cannot start: {len(problems)} executor {noun}:\n"
            + "\n".join(f"  - {p}" for p in problems), problems=tuple(problems))
    return bound


@asynccontextmanager
async def open_executors(
    plan: Plan, executors: Mapping[str, Executor] | None
) -> AsyncIterator[Remote]:
    """Check the bindings, open a session of each executor the plan uses (connecting to
    clusters), and give the step functions' sessions for the length of the run."""
    bound = check_executors(plan, executors)
    if not bound:
        yield {}
        return
    assert executors is not None
    async with AsyncExitStack() as stack:
        sessions: dict[str, Session] = {}
        for name in sorted(set(bound.values())):
            sessions[name] = await stack.enter_async_context(executors[name].session(name))
        yield {fn: sessions[name] for fn, name in bound.items()}
