"""The interface every executor offers the runner, and the error executors raise.

The runner stays in charge of a run (limits, priorities, retries, timeouts, events):
an executor only carries out one call.  Per run, the runner opens a *session* of each
executor it binds (``async with executor.session(name) as session``: connecting to a
cluster happens there, before any step runs) and awaits ``session.call(fn, kwargs,
step=...)`` for every call of a step bound to it.  Cancelling that await cancels the
call as far as the executor can (see each executor).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

import trio
from typing_extensions import Self

from ._errors import SpectraError
from ._executor_remote import BROKEN, RAISED, unpack_outcome


class ExecutorError(SpectraError):
    """An executor could not run a step: an unbound ``executor=`` name, a step that
    cannot be shipped, a cluster that cannot be reached, a value that cannot cross by
    pickle, or a worker that died.  ``step`` and ``executor`` (the bound name) say
    where, when one step is concerned; ``problems`` lists every problem found before a
    run (all of them, never just the first)."""

    def __init__(
        self, message: str, *, step: str | None = None, executor: str | None = None,
        problems: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.step = step
        self.executor = executor
        self.problems = problems or (message,)


class Session(abc.ABC):
    """One run's use of an executor: what the runner awaits for each call."""

    @abc.abstractmethod
    async def call(
        self, fn: Callable[..., Any], kwargs: dict[str, Any], *, step: str,
        abandon: bool = False,
    ) -> Any:
        """Call ``fn(**kwargs)`` for step ``step`` and return its value (or raise its
        exception).  ``abandon``: a cancelled call that cannot be stopped may be left
        running, its result dropped, instead of being waited for."""


class Executor(abc.ABC):
    """Where the calls of steps bound to it run; keeps its workers across runs until
    closed (``with``, ``async with`` or :meth:`close`)."""

    #: Whether arguments and results cross by pickle (steps must be importable).
    ships: bool = True

    @abc.abstractmethod
    def session(self, name: str) -> AbstractAsyncContextManager[Session]:
        """Open this executor for one run, in which it is bound to ``name``."""

    def close(self) -> None:  # noqa: B027 (nothing to close by default)
        """Stop the workers this executor keeps (idempotent)."""

    async def aclose(self) -> None:
        """Stop the workers without blocking the event loop (idempotent)."""
        await trio.to_thread.run_sync(self.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with trio.CancelScope(shield=True):
            await self.aclose()


def outcome(data: bytes, *, step: str, executor: str) -> Any:
    """The value of a packed outcome, or raise the step's exception (or an
    :class:`ExecutorError` naming the step when the outcome says it broke)."""
    tag, payload = unpack_outcome(data)
    if tag == RAISED:
        raise payload
    if tag == BROKEN:
        raise ExecutorError(f"step '{step}' on executor '{executor}': {payload}",
                            step=step, executor=executor)
    return payload


def cannot_send(step: str, executor: str, why: str) -> ExecutorError:
    """The error for a call whose arguments cannot be pickled."""
    return ExecutorError(
        f"step '{step}' cannot be sent to executor '{executor}': {why}; arguments and "
        "results cross by pickle", step=step, executor=executor,
    )


def check_outcome_type(data: object, step: str, executor: str) -> bytes:
    """The bytes of an outcome, or an :class:`ExecutorError` if the worker sent none."""
    if not isinstance(data, bytes):
        raise ExecutorError(
            f"step '{step}' on executor '{executor}': the worker sent back "
            f"{type(data).__name__}, not a packed outcome", step=step, executor=executor,
        )
    return data
