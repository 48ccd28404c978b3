"""DaskExecutor: step calls as tasks on a real LocalCluster of two worker processes."""

from __future__ import annotations

import os
import signal
import threading
import types
from pathlib import Path
from typing import Any

import pytest
import trio

from spectra_dsl.executors import DaskExecutor, ExecutorError

from . import steps

distributed = pytest.importorskip("distributed")


async def call(executor: DaskExecutor, fn: Any, **kwargs: Any) -> Any:
    async with executor.session("cluster") as session:
        return await session.call(fn, kwargs, step=fn.__name__)


async def test_a_call_runs_on_a_worker_process(client: Any) -> None:
    value, pid = await call(DaskExecutor(client), steps.whoami, x=7)
    assert value == 7
    assert pid != os.getpid()


async def test_an_address_is_connected_to_for_the_run_and_closed_after(cluster: Any) -> None:
    executor = DaskExecutor(cluster.scheduler_address, timeout=20)
    async with executor.session("cluster") as session:
        client = session.client  # type: ignore[attr-defined]
        assert await session.call(steps.square, {"x": 3}, step="square") == 9
    assert client.status == "closed"


async def test_the_steps_own_exception_comes_back_as_itself(client: Any) -> None:
    with pytest.raises(steps.Refused, match="no 2"):
        await call(DaskExecutor(client), steps.refuse, x=2)


async def test_values_that_cannot_cross_fail_the_call_naming_the_step(client: Any) -> None:
    executor = DaskExecutor(client)
    with pytest.raises(ExecutorError, match=r"step 'square' cannot be sent to executor "
                                            r"'cluster': its argument 'x' \(lock\)"):
        await call(executor, steps.square, x=threading.Lock())
    with pytest.raises(ExecutorError, match=r"its result \(lock\) cannot be pickled back"):
        await call(executor, steps.give_lock, x=1)


async def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    executor = DaskExecutor("tcp://127.0.0.1:9", timeout=0.5)
    with pytest.raises(ExecutorError, match=r"executor 'cluster' cannot reach the Dask "
                                            r"scheduler at tcp://127.0.0.1:9 within 0.5 s"):
        async with executor.session("cluster"):
            pytest.fail("the session opened")


async def test_a_cancelled_call_is_dropped_and_its_late_result_never_arrives(
    client: Any, tmp_path: Path
) -> None:
    executor = DaskExecutor(client)
    arrived: list[object] = []
    async with executor.session("cluster") as session:
        with trio.CancelScope() as scope:
            async def run() -> None:
                arrived.append(await session.call(
                    steps.slow_then_mark, {"marker": str(tmp_path), "seconds": 1.0},
                    step="slow"))

            async with trio.open_nursery() as nursery:
                nursery.start_soon(run)
                with trio.fail_after(60):
                    while not (tmp_path / "started").exists():
                        await trio.sleep(0.02)  # running on a worker now
                scope.cancel()
        with trio.fail_after(60):
            while not (tmp_path / "done").exists():
                await trio.sleep(0.02)  # it ran to its end on the worker...
        await trio.sleep(0.3)  # ...and its result had every chance to come back
    assert arrived == []


def test_the_executor_takes_a_client_an_address_or_a_cluster(
    client: Any, cluster: Any
) -> None:
    assert DaskExecutor(client).client is client
    assert DaskExecutor(cluster).address == cluster.scheduler_address
    with pytest.raises(TypeError, match=r"DaskExecutor takes a distributed\.Client"):
        DaskExecutor(42)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        DaskExecutor(client, timeout=0)


async def test_a_worker_killed_mid_call_is_rescheduled_by_the_cluster(
    client: Any, tmp_path: Path
) -> None:
    executor = DaskExecutor(client)
    async with executor.session("cluster") as session, trio.open_nursery() as nursery:
        results: list[int] = []

        async def run() -> None:
            results.append(await session.call(
                steps.killed_once, {"marker": str(tmp_path), "x": 4}, step="killed_once"))

        nursery.start_soon(run)
        first = tmp_path / "first.pid"
        with trio.fail_after(60):
            while not first.exists() or not first.read_text():
                await trio.sleep(0.02)
        os.kill(int(first.read_text()), signal.SIGKILL)
    assert results == [40]  # run again on a worker, which found the call already begun
    with trio.fail_after(60):
        while len(client.scheduler_info()["workers"]) < 2:
            await trio.sleep(0.1)  # the nanny restarts the killed worker


def test_a_call_that_kills_its_workers_too_often_fails_saying_so() -> None:
    from spectra_dsl._executor_dask import _dask_failure

    error = _dask_failure("embed", "cluster", distributed.KilledWorker(
        "embed-1", types.SimpleNamespace(address="tcp://127.0.0.1:4711"), 3))
    assert error.step == "embed"
    assert str(error).startswith("step 'embed' on executor 'cluster': the Dask workers "
                                 "running it died too often")
    assert "distributed.scheduler.allowed-failures" in str(error)
