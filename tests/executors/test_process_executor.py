"""ProcessExecutor: step calls in trio-parallel worker processes."""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest
import trio

from spectra_dsl.executors import ExecutorError, ProcessExecutor, ThreadExecutor

from . import steps


async def call(executor: ProcessExecutor | ThreadExecutor, fn: Any, **kwargs: Any) -> Any:
    async with executor.session("cpu") as session:
        return await session.call(fn, kwargs, step=fn.__name__)


async def test_a_call_runs_in_another_process_and_its_value_comes_back(
    processes: ProcessExecutor,
) -> None:
    value, pid = await call(processes, steps.whoami, x=7)
    assert value == 7
    assert pid != os.getpid()


async def test_workers_are_kept_between_runs(processes: ProcessExecutor) -> None:
    first = await call(processes, steps.whoami, x=1)
    second = await call(processes, steps.whoami, x=2)
    assert first[1] == second[1]
    assert processes.statistics().idle_workers >= 1


async def test_the_steps_own_exception_comes_back_as_itself(
    processes: ProcessExecutor,
) -> None:
    with pytest.raises(steps.Refused, match="no 3") as caught:
        await call(processes, steps.refuse, x=3)
    notes = getattr(caught.value, "__notes__", None)
    if notes is not None:  # Python 3.11+: the worker's traceback
        assert "raised in the worker process" in notes[0]
        assert "def refuse" in notes[0] or "refuse" in notes[0]


async def test_an_argument_that_cannot_be_pickled_fails_the_call_naming_it(
    processes: ProcessExecutor,
) -> None:
    lock = threading.Lock()
    with pytest.raises(ExecutorError, match=r"step 'square' cannot be sent to executor "
                                            r"'cpu': its argument 'x' \(lock\)"):
        await call(processes, steps.square, x=lock)


async def test_a_result_that_cannot_be_pickled_fails_the_call_saying_so(
    processes: ProcessExecutor,
) -> None:
    with pytest.raises(ExecutorError, match=r"step 'give_lock' on executor 'cpu': its "
                                            r"result \(lock\) cannot be pickled back"):
        await call(processes, steps.give_lock, x=1)


async def test_a_worker_that_dies_fails_the_call_with_a_clear_error(
    processes: ProcessExecutor,
) -> None:
    with pytest.raises(ExecutorError, match=r"step 'die' on executor 'cpu': its worker "
                                            r"process died while running it"):
        await call(processes, steps.die, x=1)
    assert await call(processes, steps.square, x=4) == 16  # the executor goes on


def alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


async def test_cancelling_kills_the_workers_running_calls(tmp_path: Path) -> None:
    executor = ProcessExecutor(2)
    try:
        async with executor.session("cpu") as session, trio.open_nursery() as nursery:
            for x in range(3):  # two run, the third waits for a worker
                nursery.start_soon(functools.partial(
                    session.call, steps.spin, {"marker": str(tmp_path), "x": x}, step="spin"))
            with trio.fail_after(60):
                while len(list(tmp_path.glob("*.pid"))) < 2:
                    await trio.sleep(0.02)  # the workers start and write their pids
            nursery.cancel_scope.cancel()
        pids = [int(p.read_text()) for p in tmp_path.glob("*.pid")]
        assert len(pids) == 2  # the call not yet started never started
        assert not [pid for pid in pids if alive(pid)]
    finally:
        executor.close()
    workers = [p for p in psutil.Process().children(recursive=True) if p.is_running()
               and p.status() != psutil.STATUS_ZOMBIE and "trio-parallel" in " ".join(
                   p.cmdline())]
    assert workers == [] or all(not alive(p.pid) for p in workers)


async def test_a_closed_executor_is_refused_before_any_call() -> None:
    executor = ProcessExecutor(1)
    executor.close()
    with pytest.raises(ExecutorError, match="is closed"):
        async with executor.session("cpu"):
            pass


def test_workers_must_be_a_whole_number() -> None:
    with pytest.raises(ValueError, match="workers must be at least 1, not 0"):
        ProcessExecutor(0)
    with pytest.raises(TypeError, match="workers must be an int"):
        ProcessExecutor(1.5)  # type: ignore[arg-type]


async def test_thread_executor_calls_in_this_process() -> None:
    value, pid = await call(ThreadExecutor(2), steps.whoami, x=5)
    assert (value, pid) == (5, os.getpid())
