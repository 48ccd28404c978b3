"""Regression tests for the runtime defects found by hostile testing (issue 7)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from spectra_dsl import (
    EventHandlerError,
    InputError,
    Join,
    LoopLimitExceeded,
    ReducerError,
    Repeat,
    Retry,
    StepFailed,
    Workflow,
    events,
)
from tests.helpers import run_virtual


def test_cancelling_a_run_while_a_plain_def_step_runs_starts_nothing_after_it() -> None:
    ran: list[str] = []
    wf = Workflow("cancel-sync", max_concurrency=1)

    @wf.step
    def slow(scope: Any) -> int:
        ran.append("slow")
        trio.from_thread.run_sync(scope.cancel)  # the run is cancelled while it runs
        return 1

    @wf.step
    async def after(slow: int) -> int:  # its successor
        ran.append("after")
        return slow

    @wf.step
    async def queued(scope: Any) -> int:  # waits for the slot behind slow
        ran.append("queued")
        return 2

    plan = wf.compile()

    async def main() -> bool:
        with trio.CancelScope() as scope:
            await plan.run({"scope": scope})
        return scope.cancelled_caught

    assert trio.run(main)
    assert ran == ["slow"]


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message for you")


def test_an_exception_whose_str_raises_still_names_the_failure() -> None:
    wf = Workflow("unprintable")

    @wf.step
    async def boom() -> int:
        raise Unprintable

    with pytest.raises(StepFailed) as info:
        run_virtual(wf)
    assert info.value.step == "boom"
    assert isinstance(info.value.__cause__, Unprintable)
    assert "step 'boom' failed: Unprintable (its message could not be read" in str(info.value)


def one_step() -> Workflow:
    wf = Workflow("one")

    @wf.step
    async def only() -> int:
        return 1

    return wf


def test_an_async_on_event_is_refused_before_the_run() -> None:
    async def on_event(event: events.Event) -> None:
        pass  # pragma: no cover

    class Handler:
        async def __call__(self, event: events.Event) -> None:
            pass  # pragma: no cover

    for handler in (on_event, Handler()):
        with pytest.raises(TypeError, match="on_event must be a plain function") as info:
            one_step().compile().run_sync(on_event=handler)
        assert "never awaited" in str(info.value)


def test_an_on_event_returning_an_awaitable_stops_the_run() -> None:
    async def later(event: events.Event) -> None:
        pass  # pragma: no cover

    with pytest.raises(EventHandlerError) as info:
        one_step().compile().run_sync(on_event=lambda event: later(event))
    assert isinstance(info.value.__cause__, TypeError)
    assert "on_event returned an awaitable" in str(info.value)


def test_an_on_event_error_on_the_failure_event_is_raised() -> None:
    wf = Workflow("fails")

    @wf.step
    async def boom() -> int:
        raise ValueError("bad")

    def on_event(event: events.Event) -> None:
        if isinstance(event, events.WorkflowFailed):
            raise RuntimeError("dashboard is down")

    with pytest.raises(EventHandlerError) as info:
        run_virtual(wf, on_event=on_event)
    assert isinstance(info.value.event, events.WorkflowFailed)
    assert isinstance(info.value.__cause__, RuntimeError)
    # The step's failure is not lost: it is what was being raised.
    assert isinstance(info.value.__context__, StepFailed)
    assert info.value.__context__.step == "boom"


def test_many_zero_backoff_attempts_do_not_overflow() -> None:
    wf = Workflow("patient")
    tries = [0]

    @wf.step(retry=Retry(attempts=2000, backoff=0.0, factor=2.0))
    async def flaky() -> int:
        tries[0] += 1
        if tries[0] < 2000:
            raise ValueError("not yet")
        return tries[0]

    result = run_virtual(wf)
    assert result["flaky"] == 2000
    assert result.duration == 0


def test_a_reducer_error_under_a_guarded_join_any_is_blamed_on_the_writer() -> None:
    wf = Workflow("race")
    wf.reducer("score", lambda acc, value: acc + value)

    @wf.step(writes="score")
    async def slow() -> int:  # the first writer in plan order: a gap in the fold
        await trio.sleep(5)
        return 1

    @wf.step(writes=("score", "a"))
    async def good() -> dict[str, int]:
        return {"score": 1, "a": 1}

    @wf.step(writes=("score", "b"))
    async def broken() -> dict[str, Any]:
        return {"score": "x", "b": 1}  # 1 + "x": the reducer raises

    @wf.step(join=Join.ALL)
    async def gate(a: int, b: int) -> int:
        return a + b

    # Races slow against gate; good and broken (gate's upstreams) are waited for.
    @wf.step(join=Join.ANY, when=lambda score: score > 0)
    async def judge(score: int = 0, gate: int = 0) -> int:
        return score  # pragma: no cover

    with pytest.raises(StepFailed) as info:
        run_virtual(wf)
    assert isinstance(info.value.__cause__, ReducerError)
    assert info.value.__cause__.step == "broken"
    assert info.value.step == "broken"


def test_an_unknown_input_that_is_a_near_miss_says_what_was_meant() -> None:
    wf = Workflow("filtering")

    @wf.step
    async def keep(threshold: float, rows: list[int]) -> list[int]:
        return [r for r in rows if r > threshold]  # pragma: no cover

    with pytest.raises(InputError) as info:
        wf.compile().run_sync({"threshhold": 0.5, "rows": [1]})
    message = str(info.value)
    assert "unknown input 'threshhold': no step reads it; did you mean 'threshold'? " \
           "(an input of step 'keep')" in message
    assert "missing input 'threshold', needed by step 'keep' (was it given as " \
           "'threshhold'?)" in message
    assert info.value.near == {"threshhold": ("threshold", "an input of step 'keep'")}

    with pytest.raises(InputError, match=r"did you mean 'keep'\? \(a key written by step "
                                         r"'keep', not an input\)"):
        wf.compile().run_sync({"threshold": 1, "rows": [], "kep": 1})


def test_a_loop_limit_message_has_no_exception_type_in_front() -> None:
    body = Workflow("body")

    @body.step
    async def inc(n: int) -> int:
        return n + 1

    wf = Workflow("outer")
    wf.add(body, name="grow", writes=("inc",),
           repeat=Repeat(until=lambda inc: inc > 10, max_iterations=2, carry={"inc": "n"}))
    with pytest.raises(LoopLimitExceeded) as info:
        run_virtual(wf, {"n": 0})
    assert str(info.value).startswith("loop 'grow' ran 2 passes")
    assert "RuntimeError" not in str(info.value)
    assert info.value.failures == {"grow": info.value}
