"""Workflows with steps bound to executors: the runner stays in charge."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest
import trio

from spectra_dsl import StepFailed, Workflow, events, step
from spectra_dsl.executors import ExecutorError, ProcessExecutor, ThreadExecutor

from . import flows, steps


def alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


# -- binding, before any step runs ----------------------------------------------------


def test_an_unbound_executor_name_is_an_error_before_any_step_runs() -> None:
    seen: list[events.Event] = []
    plan = flows.diamond().compile()
    with pytest.raises(ExecutorError) as caught:
        plan.run_sync({"x": 1}, on_event=seen.append, executors={"gpu": ThreadExecutor()})
    message = str(caught.value)
    assert "step 'left' runs on executor 'cpu', which this run does not bind" in message
    assert "step 'right' runs on executor 'cpu'" in message  # every problem, at once
    assert "(bound: 'gpu')" in message
    assert seen == []
    with pytest.raises(ExecutorError, match="bound: none"):
        plan.run_sync({"x": 1})


def test_steps_that_cannot_be_shipped_are_named_before_any_step_runs() -> None:
    def local(x: int) -> int:
        return x

    @step(executor="cpu")
    def closure(x: int) -> int:
        return local(x)

    wf = Workflow("unshippable", steps=[closure, flows.with_lock,
                                        step(name="lam", executor="cpu")(lambda x: x)])
    seen: list[events.Event] = []
    with ProcessExecutor(1) as executor, pytest.raises(ExecutorError) as caught:
        wf.compile().run_sync({"x": 1}, on_event=seen.append, executors={"cpu": executor})
    problems = caught.value.problems
    assert len(problems) == 3
    assert "step 'closure' cannot be sent to executor 'cpu': it is defined inside a " \
           "function (a closure)" in problems[0]
    assert "step 'with_lock' cannot be sent to executor 'cpu': the default of its " \
           "parameter 'lock' (lock) cannot be pickled" in problems[1]
    assert "step 'lam' cannot be sent to executor 'cpu': it is a lambda" in problems[2]
    assert seen == []
    assert executor.statistics().idle_workers == 0  # no worker was even started


def test_a_thread_executor_takes_closures() -> None:
    def local(x: int) -> int:
        return x + 1

    @step(executor="cpu")
    def closure(x: int) -> int:
        return local(x)

    result = Workflow("closure", steps=[closure]).compile().run_sync(
        {"x": 1}, executors={"cpu": ThreadExecutor()})
    assert result["closure"] == 2


def test_executor_takes_a_name() -> None:
    with pytest.raises(TypeError, match="executor= takes the name of an executor"):
        step(executor=3)  # type: ignore[call-overload]


def test_an_async_step_cannot_name_an_executor() -> None:
    @step(executor="cpu")
    async def fetch(x: int) -> int:
        return x

    with pytest.raises(ExecutorError, match=r"step 'fetch' is an async def, and "
                                            r"executor= takes plain def steps"):
        Workflow("async", steps=[fetch]).compile().run_sync(
            {"x": 1}, executors={"cpu": ThreadExecutor()})


def test_steps_of_sub_workflows_are_bound_too(processes: ProcessExecutor) -> None:
    plan = flows.nested().compile()
    with pytest.raises(ExecutorError, match=r"step 'inner/left' runs on executor 'cpu'"):
        plan.run_sync({"x": 3})
    assert plan.run_sync({"x": 3}, executors={"cpu": processes})["both"] == 10


# -- processes --------------------------------------------------------------------


def test_the_same_workflow_gives_the_same_state_on_threads_and_processes(
    processes: ProcessExecutor,
) -> None:
    plan = flows.prime_count().compile()
    inputs = {"limit": 5000, "pieces": 7}
    threaded = plan.run_sync(inputs, executors={"cpu": ThreadExecutor()})
    in_processes = plan.run_sync(inputs, executors={"cpu": processes})
    assert dict(in_processes.state) == dict(threaded.state)
    assert in_processes["total"] == 669


def spare_parallelism(chunks: list[tuple[int, int]]) -> float:
    """How much faster two plain ``multiprocessing`` workers count ``chunks`` than one
    loop here: what this machine can give right now (other programs may be using
    its CPUs)."""
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(steps.count_primes, chunks[:2])  # started
        began = time.perf_counter()
        pool.map(steps.count_primes, chunks)
        parallel = time.perf_counter() - began
    began = time.perf_counter()
    for chunk in chunks:
        steps.count_primes(chunk)
    return (time.perf_counter() - began) / parallel


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs at least 2 CPUs")
def test_cpu_bound_steps_run_clearly_faster_in_processes_than_in_threads(
    processes: ProcessExecutor,
) -> None:
    plan = flows.prime_count().compile()
    inputs = {"limit": 240_000, "pieces": 8}
    plan.run_sync({"limit": 100, "pieces": 2}, executors={"cpu": processes})  # warm up

    def wall(executor: Any) -> float:
        began = time.perf_counter()
        plan.run_sync(inputs, executors={"cpu": executor})
        return time.perf_counter() - began

    # Other programs may be using the CPUs for a while: up to three rounds, each timing
    # threads, processes and what plain multiprocessing gets from the machine now.
    chunks = flows.ranges(240_000, 8)
    rounds = []
    for _ in range(3):
        threads, in_processes = wall(ThreadExecutor()), wall(processes)
        if threads / in_processes >= 1.4:
            return
        rounds.append((threads / in_processes, spare_parallelism(chunks)))
    if all(spare < 1.8 for _, spare in rounds):
        pytest.skip(f"two CPUs were never free: (ratio, multiprocessing's) {rounds}")
    raise AssertionError(f"processes not 1.4x faster than threads: (ratio, "
                         f"multiprocessing's) {rounds}")


def test_a_failing_step_kills_the_workers_still_computing(tmp_path: Path) -> None:
    plan = flows.spin_and_fail().compile()
    with ProcessExecutor(2) as executor:
        with pytest.raises(StepFailed) as caught:
            plan.run_sync({"marker": str(tmp_path)}, executors={"cpu": executor})
        assert caught.value.step == "fails_soon"
        pids = [int(p.read_text()) for p in tmp_path.glob("*.pid")]
        assert len(pids) == 1
        assert not alive(pids[0])  # killed, not left computing
        assert executor.statistics().running_workers == 0


def test_a_timeout_really_stops_a_process_step(tmp_path: Path) -> None:
    plan = flows.timed_out().compile()
    with ProcessExecutor(1) as executor:
        flows.diamond().compile().run_sync({"x": 1}, executors={"cpu": executor})  # warm
        with pytest.raises(StepFailed) as caught:
            plan.run_sync({"marker": str(tmp_path)}, executors={"cpu": executor})
        assert isinstance(caught.value.__cause__, TimeoutError)
        (pid_file,) = tmp_path.glob("*.pid")
        assert not alive(int(pid_file.read_text()))


def test_retries_see_the_steps_own_exceptions(
    processes: ProcessExecutor, tmp_path: Path
) -> None:
    result = flows.retried().compile().run_sync(
        {"marker": str(tmp_path)}, executors={"cpu": processes})
    assert result["flaky"] == "ok after 3 tries"
    assert len(result.events_of(events.RetryAttempt)) == 2


def test_an_argument_that_cannot_be_pickled_fails_that_step(
    processes: ProcessExecutor,
) -> None:
    plan = flows.unpicklable_argument().compile()
    with pytest.raises(StepFailed) as caught:
        plan.run_sync({"x": 1}, executors={"cpu": processes})
    assert caught.value.step == "takes_lock"
    assert isinstance(caught.value.__cause__, ExecutorError)
    assert "its argument 'lock_maker' (lock) cannot be pickled" in str(caught.value)


def test_limits_hold_for_calls_on_an_executor(processes: ProcessExecutor) -> None:
    plan = flows.mapped_squares().compile()
    result = plan.run_sync({"n": 12}, max_concurrency=2, executors={"cpu": processes})
    assert result["squares_sum"] == sum(i * i for i in range(12))
    assert result.peak_concurrency <= 2


# -- every way of running binds them ------------------------------------------------


async def test_a_stream_binds_executors(processes: ProcessExecutor) -> None:
    plan = flows.diamond().compile()
    async with plan.stream({"x": 3}, executors={"cpu": processes}) as stream:
        async for _ in stream:
            pass
    assert stream.result["both"] == 10
    with pytest.raises(ExecutorError, match="step 'left' runs on executor 'cpu'"):
        plan.stream({"x": 3})  # before anything runs


def test_a_durable_run_and_its_resume_bind_executors(
    processes: ProcessExecutor, tmp_path: Path
) -> None:
    from spectra_dsl.store import MemoryStore

    plan = flows.retried().compile()
    with MemoryStore() as store:
        result = trio.run(lambda: plan.run({"marker": str(tmp_path)}, store=store,
                                           executors={"cpu": processes}))
        assert result["flaky"] == "ok after 3 tries"
        run_id = result.run_id
        assert run_id is not None
        again = trio.run(lambda: plan.resume(run_id, store=store,
                                             executors={"cpu": processes}))
        assert again["flaky"] == "ok after 3 tries"
