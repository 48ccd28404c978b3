"""Executors on this machine: worker threads, and worker processes (trio-parallel)."""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio

from ._executor_base import (
    Executor,
    ExecutorError,
    Session,
    cannot_send,
    check_outcome_type,
    outcome,
)
from ._executor_remote import pack_call, remote_call


def check_workers(workers: object, what: str) -> int | None:
    """``None`` or a whole number of at least 1."""
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError(f"{what} must be an int or None, not {workers!r}")
    if workers < 1:
        raise ValueError(f"{what} must be at least 1, not {workers}")
    return workers


def _boxed(fn: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[Any]:
    return (fn(**kwargs),)


class _RunLimiter:
    """A :class:`trio.CapacityLimiter` per trio run (a limiter belongs to one run), so
    every run in one program shares the executor's bound."""

    def __init__(self, total: float) -> None:
        self.total = total
        self.var: trio.lowlevel.RunVar[trio.CapacityLimiter] = trio.lowlevel.RunVar(
            f"spectra-executor-{id(self)}")

    def get(self) -> trio.CapacityLimiter:
        try:
            return self.var.get()
        except LookupError:
            limiter = trio.CapacityLimiter(self.total)
            self.var.set(limiter)
            return limiter


class ThreadExecutor(Executor):
    """Worker threads of this process, like a plain ``def`` step with no ``executor=``.

    ``max_workers`` bounds this executor's calls in flight (``None``: trio's default
    thread limiter, as for a plain ``def`` step).  Nothing crosses by pickle, so a
    workflow bound here in a unit test runs the same on a :class:`ProcessExecutor` or a
    :class:`DaskExecutor` if its steps are importable and its values picklable.  A
    cancelled call's thread cannot be stopped: the run waits for it (or, under a
    ``timeout=``, leaves it and drops its result).
    """

    ships = False

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = check_workers(max_workers, "max_workers")
        self._limiter = None if max_workers is None else _RunLimiter(max_workers)

    def __repr__(self) -> str:
        return f"ThreadExecutor(max_workers={self.max_workers})"

    @asynccontextmanager
    async def session(self, name: str) -> AsyncIterator[Session]:
        """Open for one run (nothing to connect)."""
        yield _ThreadSession(trio.to_thread.current_default_thread_limiter()
                             if self._limiter is None else self._limiter.get())


@attrs.frozen
class _ThreadSession(Session):
    limiter: trio.CapacityLimiter

    async def call(
        self, fn: Callable[..., Any], kwargs: dict[str, Any], *, step: str,
        abandon: bool = False,
    ) -> Any:
        (value,) = await trio.to_thread.run_sync(
            functools.partial(_boxed, fn, kwargs), limiter=self.limiter,
            abandon_on_cancel=abandon,
        )
        return value


@attrs.frozen
class ProcessStatistics:
    """How many of a :class:`ProcessExecutor`'s worker processes are idle and running."""

    idle_workers: int
    running_workers: int


class ProcessExecutor(Executor):
    """Worker processes on this machine, from trio-parallel (``pip install
    'spectra-dsl[process]'``): CPU-bound ``def`` steps run in parallel, free of the GIL.

    At most ``workers`` calls run at once (default: the number of CPUs).  Workers are
    started when first needed and kept between calls and between runs until
    :meth:`close` (or the end of a ``with`` / ``async with`` block), or until idle for
    ``idle_timeout`` seconds.  A step is sent by reference (a module-level function) and
    its arguments and result by pickle.  Cancelling a run (or a step's ``timeout=``)
    kills the worker processes running its calls; calls not started never start.
    """

    def __init__(
        self, workers: int | None = None, *, idle_timeout: float = 600.0,
        grace_period: float = 5.0,
    ) -> None:
        workers = check_workers(workers, "workers")
        try:
            import trio_parallel  # type: ignore[import-untyped]
        except ImportError as error:  # pragma: no cover (the extra is in the test set)
            raise ImportError(
                "ProcessExecutor needs trio-parallel: pip install 'spectra-dsl[process]'"
            ) from error
        self.workers = workers or os.cpu_count() or 1
        self.idle_timeout = idle_timeout
        self.grace_period = grace_period
        # trio-parallel's own constructor of the context that its run_sync uses by
        # default: unlike open_worker_context(), it outlives one trio run.
        self._context = trio_parallel.WorkerContext._create(
            idle_timeout=idle_timeout, grace_period=grace_period,
        )
        self._limiter = _RunLimiter(self.workers)
        self.closed = False

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.workers})"

    def statistics(self) -> ProcessStatistics:
        """The worker processes now idle and now running a call."""
        stats = self._context.statistics()
        return ProcessStatistics(stats.idle_workers, stats.running_workers)

    def close(self) -> None:
        """Stop the worker processes (they finish their call, or are killed after
        ``grace_period`` seconds)."""
        if not self.closed:
            self.closed = True
            self._context._worker_cache.shutdown(self.grace_period)

    @asynccontextmanager
    async def session(self, name: str) -> AsyncIterator[Session]:
        """Open for one run (workers start when first needed)."""
        if self.closed:
            raise ExecutorError(f"executor '{name}' ({self!r}) is closed",
                                executor=name)
        yield _ProcessSession(self, name, self._limiter.get())


@attrs.frozen
class _ProcessSession(Session):
    executor: ProcessExecutor
    name: str
    limiter: trio.CapacityLimiter

    async def call(
        self, fn: Callable[..., Any], kwargs: dict[str, Any], *, step: str,
        abandon: bool = False,
    ) -> Any:
        import trio_parallel

        payload = pack_call(fn, kwargs)
        if isinstance(payload, str):
            raise cannot_send(step, self.name, payload)
        try:
            data = await self.executor._context.run_sync(
                remote_call, payload, kill_on_cancel=True, limiter=self.limiter,
            )
        except trio_parallel.BrokenWorkerError as error:
            process = error.args[-1] if error.args else None
            code = getattr(process, "exitcode", None)
            raise ExecutorError(
                f"step '{step}' on executor '{self.name}': its worker process died while "
                f"running it (exit code {code})", step=step, executor=self.name,
            ) from error
        return outcome(check_outcome_type(data, step, self.name), step=step,
                       executor=self.name)
