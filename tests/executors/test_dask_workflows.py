"""Workflows on a Dask cluster: the same results as in threads, elements spread."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import trio

from spectra_dsl import StepFailed, events
from spectra_dsl.executors import DaskExecutor, ExecutorError, ThreadExecutor

from . import flows

distributed = pytest.importorskip("distributed")


def test_a_mapped_step_of_200_elements_gives_the_threaded_runs_state(client: Any) -> None:
    plan = flows.mapped_squares().compile()
    threaded = plan.run_sync({"n": 200}, executors={"cpu": ThreadExecutor()})
    on_dask = plan.run_sync({"n": 200}, executors={"cpu": DaskExecutor(client)})
    assert on_dask["squares"] == [i * i for i in range(200)]
    assert dict(on_dask.state) == dict(threaded.state)
    started = [e for e in on_dask.events_of(events.StepStarted) if e.step == "squares"]
    assert len(started) == 200  # each element is one call, one task


def test_the_elements_spread_over_the_workers(client: Any) -> None:
    result = flows.placed_squares().compile().run_sync(
        {"n": 200}, executors={"cpu": DaskExecutor(client)})
    assert [square for square, _ in result["placed"]] == [i * i for i in range(200)]
    assert len({pid for _, pid in result["placed"]}) == 2


def test_an_address_is_connected_to_for_the_run(cluster: Any) -> None:
    plan = flows.diamond().compile()
    executor = DaskExecutor(cluster.scheduler_address, timeout=20)
    assert plan.run_sync({"x": 3}, executors={"cpu": executor})["both"] == 10
    assert plan.run_sync({"x": 4}, executors={"cpu": executor})["both"] == 13


def test_an_unreachable_scheduler_is_an_error_before_any_step_runs() -> None:
    seen: list[events.Event] = []
    plan = flows.diamond().compile()
    with pytest.raises(ExecutorError, match=r"executor 'cpu' cannot reach the Dask "
                                            r"scheduler at tcp://127.0.0.1:9 within 0.5 s"):
        plan.run_sync({"x": 1}, on_event=seen.append,
                      executors={"cpu": DaskExecutor("tcp://127.0.0.1:9", timeout=0.5)})
    assert seen == []


def test_a_call_running_when_the_run_fails_never_reaches_state(
    client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[events.Event] = []
    plan = flows.slow_and_fail().compile()

    async def main() -> None:
        with pytest.raises(StepFailed) as caught:
            await plan.run({"marker": str(tmp_path)}, on_event=seen.append,
                           executors={"cluster": DaskExecutor(client)})
        assert caught.value.step == "fails_when_started"
        with trio.fail_after(60):
            while not (tmp_path / "done").exists():
                await trio.sleep(0.02)  # the call ran to its end on its worker...
        await trio.sleep(0.3)  # ...and its result had every chance to come back

    trio.run(main)
    slow = [e for e in seen if getattr(e, "step", None) == "slow_remote"]
    assert [type(e) for e in slow] == [events.StepReady, events.StepStarted,
                                       events.StepCancelled]
    assert not [e for e in seen if isinstance(e, events.StateWritten)
                and e.key == "slow_remote"]
    # Nothing was raised into Dask's threads (they log what their callbacks raise).
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
