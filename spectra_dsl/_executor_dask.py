"""A Dask cluster as an executor (dask.distributed, ``pip install 'spectra-dsl[dask]'``).

Dask's client runs its own event loop in a thread of its own.  A call is submitted to
the cluster, and its result gathered, by a coroutine on that loop; when it completes,
the loop's thread only wakes the trio task (``TrioToken.run_sync_soon`` of an
``Event.set``), inside a ``try`` that swallows everything: nothing ever raises into a
Dask thread, even when the trio run has ended meanwhile.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import uuid
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

#: How long closing a connection made from an address may take after a run.
CLOSE_TIMEOUT = 10.0


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as error:  # pragma: no cover (the extra is in the test set)
        raise ImportError(
            "DaskExecutor needs dask.distributed: pip install 'spectra-dsl[dask]'"
        ) from error
    return distributed


class DaskExecutor(Executor):
    """A Dask cluster: each call of a bound step is one Dask task, on any worker.

    ``client_or_address`` is a ``distributed.Client`` (used as it is and left open), a
    scheduler address such as ``"tcp://10.0.0.5:8786"``, or a cluster object with a
    ``scheduler_address`` (such as ``LocalCluster``).  An address is connected to when
    a run starts, before any step runs (waiting at most ``timeout`` seconds: an
    unreachable scheduler is an :class:`ExecutorError` then), and the connection is
    closed when the run ends.  A mapped step's elements are separate tasks, spread over
    the workers by Dask's scheduler.

    Cancelling a run cancels its calls not yet started on the cluster.  A call already
    running on a worker cannot be stopped (Dask cannot interrupt a running task): it
    runs to its end there and its result is dropped, never written to the run's state.
    A worker that dies while running a call: the scheduler runs the call again on
    another worker (up to ``distributed.scheduler.allowed-failures`` times, then the
    step fails with an :class:`ExecutorError` saying so).
    """

    def __init__(self, client_or_address: object, *, timeout: float = 10.0) -> None:
        distributed = _distributed()
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.timeout = float(timeout)
        self.client: Any = None
        self.address: str | None = None
        if isinstance(client_or_address, distributed.Client):
            self.client = client_or_address
        elif isinstance(client_or_address, str):
            self.address = client_or_address
        elif isinstance(getattr(client_or_address, "scheduler_address", None), str):
            self.address = client_or_address.scheduler_address  # type: ignore[attr-defined]
        else:
            raise TypeError(
                f"DaskExecutor takes a distributed.Client, a scheduler address such as "
                f"'tcp://127.0.0.1:8786' or a cluster, not {client_or_address!r}"
            )

    def __repr__(self) -> str:
        where = self.address if self.address is not None else repr(self.client)
        return f"DaskExecutor({where!r})"

    @asynccontextmanager
    async def session(self, name: str) -> AsyncIterator[Session]:
        """Open for one run: connect to the scheduler first when given its address."""
        if self.client is not None:
            yield _DaskSession(self.client, name)
            return
        client = await trio.to_thread.run_sync(self._connect, name)
        try:
            yield _DaskSession(client, name)
        finally:
            with trio.move_on_after(CLOSE_TIMEOUT) as scope:
                scope.shield = True
                await trio.to_thread.run_sync(client.close, abandon_on_cancel=True)

    def _connect(self, name: str) -> Any:
        distributed = _distributed()
        try:
            return distributed.Client(self.address, timeout=self.timeout,
                                      set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise ExecutorError(
                f"executor '{name}' cannot reach the Dask scheduler at {self.address} "
                f"within {self.timeout:g} s ({error}); start one with `dask scheduler` "
                "and workers with `dask worker ADDRESS`, or check the address",
                executor=name,
            ) from error


@attrs.frozen
class _DaskSession(Session):
    client: Any
    name: str

    async def call(
        self, fn: Callable[..., Any], kwargs: dict[str, Any], *, step: str,
        abandon: bool = False,
    ) -> Any:
        payload = pack_call(fn, kwargs)
        if isinstance(payload, str):
            raise cannot_send(step, self.name, payload)
        client = self.client
        future = client.submit(remote_call, payload, key=f"{step}-{uuid.uuid4().hex}")
        loop = client.loop.asyncio_loop
        gathered = asyncio.run_coroutine_threadsafe(
            client.gather(future, asynchronous=True), loop)
        done = trio.Event()
        token = trio.lowlevel.current_trio_token()

        def wake(_: object) -> None:  # in Dask's loop thread: wake trio, never raise
            with contextlib.suppress(BaseException):  # the run may have ended
                token.run_sync_soon(done.set)

        gathered.add_done_callback(wake)
        try:
            await done.wait()
        except BaseException:  # cancelled: drop it from the cluster if not yet started
            # (the gathering task then ends by itself, its outcome ignored: cancelling
            # it too would leave an exception no one retrieves on Dask's loop)
            with contextlib.suppress(BaseException):
                asyncio.run_coroutine_threadsafe(
                    client.cancel([future], asynchronous=True), loop)
            raise
        try:
            data = gathered.result()
        except (concurrent.futures.CancelledError, asyncio.CancelledError) as error:
            raise ExecutorError(
                f"step '{step}' on executor '{self.name}': its Dask task was cancelled "
                "outside this run", step=step, executor=self.name) from error
        except Exception as error:
            raise _dask_failure(step, self.name, error) from error
        return outcome(check_outcome_type(data, step, self.name), step=step,
                       executor=self.name)


def _dask_failure(step: str, name: str, error: Exception) -> ExecutorError:
    distributed = _distributed()
    if isinstance(error, distributed.KilledWorker):
        return ExecutorError(
            f"step '{step}' on executor '{name}': the Dask workers running it died too "
            f"often ({error}); the scheduler gave up after "
            "distributed.scheduler.allowed-failures retries (does the step crash its "
            "worker, or run out of memory?)", step=step, executor=name)
    return ExecutorError(
        f"step '{step}' on executor '{name}': Dask could not run it: "
        f"{type(error).__name__}: {error}", step=step, executor=name)
