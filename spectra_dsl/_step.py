"""The ``@step`` marker: records a step's options on the function and returns it unchanged."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar, overload

import attrs

from ._control import Match, Retry
from ._join import Join

F = TypeVar("F", bound=Callable[..., Any])

#: What ``join=`` accepts.
JoinArg = Join | Literal["all", "any"] | None
#: What ``writes=`` accepts: one key or several.
WritesArg = str | Sequence[str] | None
#: What ``map=`` accepts: one parameter name, or several zipped together.
MapArg = str | Sequence[str] | None
#: What ``after=`` accepts: the names of steps to run after, without reading them.
AfterArg = str | Sequence[str]

_MARK = "__spectra_step__"

#: Whether a step has named an executor yet: until one has, runs bind no executors.
_executor_named = False


def executor_named() -> bool:
    """Whether any step made so far names an executor (``executor=``)."""
    return _executor_named


@attrs.frozen
class StepOptions:
    """The options given to ``@step(...)``, exactly as given (the compiler judges them)."""

    name: str | None = None
    join: object = None
    writes: tuple[object, ...] | None = None
    when: object = None
    retry: object = None
    timeout: object = None
    map: tuple[object, ...] | None = None
    concurrency: object = None
    after: tuple[object, ...] = ()
    ask: object = False
    durable: object = True
    executor: str | None = None


def normalize_writes(writes: object) -> tuple[object, ...] | None:
    """``"k"`` becomes ``("k",)``; a sequence becomes a tuple; ``None`` stays ``None``."""
    if writes is None:
        return None
    if isinstance(writes, str) or not isinstance(writes, Sequence | set | frozenset):
        return (writes,)
    return tuple(writes)


def make_options(
    name: str | None, join: object, writes: object, when: object, retry: object,
    timeout: object, map: object = None, concurrency: object = None, after: object = (),
    ask: object = False, durable: object = True, executor: object = None,
) -> StepOptions:
    """Build :class:`StepOptions`, turning ``Join`` members into their string values.

    Raises ``TypeError`` at once for a ``when=`` that is no guard or a ``retry=`` that
    is no ``Retry``: these are mistakes of type, not of the workflow's shape."""
    if when is not None and not (isinstance(when, Match) or callable(when)):
        raise TypeError(
            f"when= takes match(key=value, ...) or a function of state keys returning a "
            f"bool, not {when!r}"
        )
    if inspect.iscoroutinefunction(when):
        raise TypeError(
            f"when= takes a plain (sync) function, and {when!r} is async; a guard must "
            "decide at once from state keys"
        )
    if retry is not None and not isinstance(retry, Retry):
        raise TypeError(f"retry= takes Retry(attempts=..., backoff=...), not {retry!r}")
    for option, flag in (("ask", ask), ("durable", durable)):
        if not isinstance(flag, bool):
            raise TypeError(f"{option}= takes True or False, not {flag!r}")
    if executor is not None:
        if not isinstance(executor, str) or not executor:
            raise TypeError(
                f"executor= takes the name of an executor (a str bound by "
                f"run(..., executors={{name: ...}})), not {executor!r}"
            )
        global _executor_named
        _executor_named = True
    return StepOptions(
        name=name,
        join=join.value if isinstance(join, Join) else join,
        writes=normalize_writes(writes),
        when=when,
        retry=retry,
        timeout=timeout,
        map=normalize_writes(map),
        concurrency=concurrency,
        after=normalize_writes(after) or (),
        ask=ask,
        durable=durable,
        executor=executor,
    )


def mark(fn: F, options: StepOptions) -> F:
    """Record ``options`` on ``fn`` (when it can hold attributes) and return ``fn``."""
    with contextlib.suppress(AttributeError, TypeError):  # SPX001 reports non-functions
        setattr(fn, _MARK, options)
    return fn


def options_of(fn: object) -> StepOptions:
    """The options ``@step`` recorded on ``fn``, or the defaults for an unmarked function."""
    found = getattr(fn, _MARK, None)
    return found if isinstance(found, StepOptions) else StepOptions()


@overload
def step(fn: F, /) -> F: ...


@overload
def step(
    *,
    name: str | None = None,
    join: JoinArg = None,
    writes: WritesArg = None,
    when: object = None,
    retry: object = None,
    timeout: float | None = None,
    map: MapArg = None,
    concurrency: int | None = None,
    after: AfterArg = (),
    ask: bool = False,
    durable: bool = True,
    executor: str | None = None,
) -> Callable[[F], F]: ...


def step(
    fn: F | None = None,
    /,
    *,
    name: str | None = None,
    join: JoinArg = None,
    writes: WritesArg = None,
    when: object = None,
    retry: object = None,
    timeout: float | None = None,
    map: MapArg = None,
    concurrency: int | None = None,
    after: AfterArg = (),
    ask: bool = False,
    durable: bool = True,
    executor: str | None = None,
) -> F | Callable[[F], F]:
    """Mark a function as a workflow step and return the same function.

    Use it bare (``@step``) or with options (``@step(join=Join.ALL)``).  Each parameter
    name says what the step reads: another step's output, a state key, or a workflow
    input.

    - ``name``: the step's name (default: the function's name).
    - ``join``: ``Join.ALL`` or ``Join.ANY``, required on a fan-in step.
    - ``writes``: the key (or keys) the return value goes to (default: the step's name).
      With several keys the step returns a mapping with exactly those keys.
    - ``when``: a guard; the step runs only if it holds, and is skipped otherwise.
    - ``retry``: a :class:`Retry` policy; ``timeout``: seconds allowed per attempt.
    - ``map``: a parameter name (or several, zipped): the step is called once per
      element of the value read for it, and its value is the list of the results.
    - ``concurrency``: at most this many calls of this step in flight at once.
    - ``after``: names of steps this one runs after, without reading their values.
    - ``ask``: the step asks a person: it returns ``Ask(payload)`` and its readers get
      the answer (from ``on_ask=``, or ``plan.resume(..., answers=...)``).
    - ``durable``: ``False`` keeps the step out of a durable run's journal: it is
      computed again on resume (cheap steps, values that cannot be stored).
    - ``executor``: the name of the executor a plain ``def`` step runs on, bound per
      run by ``run(..., executors={name: ...})`` (see :mod:`spectra_dsl.executors`).
    """
    options = make_options(name, join, writes, when, retry, timeout, map, concurrency, after,
                           ask, durable, executor)
    if fn is not None:
        return mark(fn, options)

    def decorate(f: F) -> F:
        return mark(f, options)

    return decorate
