"""Failure, cancellation and interruption: nothing left running, nothing lost."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from spectra_dsl import (
    EventHandlerError,
    Join,
    ReducerError,
    Repeat,
    StepFailed,
    Workflow,
    events,
)


def failing_diamond(cleanups: list[str], started: list[str]) -> Workflow:
    wf = Workflow("failing")

    @wf.step
    async def fetch() -> str:
        return "doc"

    @wf.step
    async def broken(fetch: str) -> int:
        await trio.sleep(1)
        raise ValueError("model returned garbage")

    @wf.step
    async def slow(fetch: str) -> int:
        try:
            await trio.sleep(10)
        finally:
            cleanups.append(f"slow@{trio.current_time()}")
        return 1  # pragma: no cover

    @wf.step(join=Join.ALL)
    async def merge(broken: int, slow: int) -> int:
        started.append("merge")  # pragma: no cover
        return broken + slow  # pragma: no cover

    return wf


async def test_a_failing_branch_cancels_its_sibling_and_names_the_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    cleanups: list[str] = []
    started: list[str] = []
    seen: list[events.Event] = []
    plan = failing_diamond(cleanups, started).compile()
    with pytest.raises(StepFailed) as info:
        await plan.run(on_event=seen.append)
    error = info.value
    assert type(error) is StepFailed  # never an ExceptionGroup
    assert error.step == "broken"
    assert isinstance(error.__cause__, ValueError)
    assert list(error.failures) == ["broken"]
    assert str(error) == "step 'broken' failed: ValueError: model returned garbage"
    assert cleanups == ["slow@1.0"]  # cancelled at once, its cleanup ran
    assert started == []  # no downstream step started
    kinds = {(type(e).__name__, getattr(e, "step", None)) for e in seen}
    assert ("StepError", "broken") in kinds
    assert ("StepCancelled", "slow") in kinds
    assert ("WorkflowFailed", "broken") in kinds
    assert not any(isinstance(e, events.StepStarted) and e.step == "merge" for e in seen)


async def test_every_concurrent_failure_is_reported(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("two-failures")
    go = trio.Event()

    @wf.step
    async def starter() -> None:
        await trio.sleep(1)
        go.set()  # wakes both branches in the same scheduling batch

    @wf.step
    async def left() -> int:
        await go.wait()
        raise KeyError("left key")

    @wf.step
    async def right() -> int:
        await go.wait()
        raise RuntimeError("right broke")

    @wf.step(join=Join.ALL)
    async def both(left: int, right: int) -> int:
        return left + right  # pragma: no cover

    with pytest.raises(StepFailed) as info:
        await wf.compile().run()
    failures = info.value.failures
    assert set(failures) == {"left", "right"}
    assert isinstance(failures["left"], KeyError)
    assert isinstance(failures["right"], RuntimeError)
    assert info.value.step in failures
    assert "also failed" in str(info.value)


async def test_a_failing_sync_step_is_reported_like_an_async_one() -> None:
    wf = Workflow("sync-failure")

    @wf.step
    def parse(text: str) -> int:
        return int(text)

    with pytest.raises(StepFailed) as info:
        await wf.compile().run({"text": "twelve"})
    assert info.value.step == "parse"
    assert isinstance(info.value.__cause__, ValueError)
    assert "invalid literal" in str(info.value)


async def test_queued_steps_never_start_after_a_failure(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("queued")
    started: list[str] = []

    def make(i: int) -> None:
        @wf.step(name=f"w{i}")
        async def work() -> int:
            started.append(f"w{i}")
            await trio.sleep(1 if i == 0 else 2)
            if i == 0:
                raise ValueError("first one fails")
            return i

    for i in range(5):
        make(i)
    with pytest.raises(StepFailed):
        await wf.compile().run(max_concurrency=2)
    # w0 fails at t=1 while w1 still runs: w2, w3, w4 never start.
    assert sorted(started) == ["w0", "w1"]


async def test_outer_cancellation_leaves_no_step_running(
    autojump_clock: trio.testing.MockClock,
) -> None:
    cleanups: list[str] = []
    seen: list[events.Event] = []
    wf = Workflow("cancelled")

    @wf.step
    async def long_a() -> int:
        try:
            await trio.sleep(100)
        finally:
            cleanups.append("a")
        return 1  # pragma: no cover

    @wf.step
    async def long_b() -> int:
        try:
            await trio.sleep(100)
        finally:
            cleanups.append("b")
        return 1  # pragma: no cover

    with trio.move_on_after(3) as scope:
        await wf.compile().run(on_event=seen.append)
    assert scope.cancelled_caught
    assert sorted(cleanups) == ["a", "b"]
    cancelled = sorted(e.step for e in seen if isinstance(e, events.StepCancelled))
    assert cancelled == ["long_a", "long_b"]
    assert trio.current_time() == 3


async def test_keyboard_interrupt_in_a_step_propagates_and_cancels_the_rest(
    autojump_clock: trio.testing.MockClock,
) -> None:
    cleanups: list[str] = []
    wf = Workflow("interrupted")

    @wf.step
    async def interrupted() -> int:
        await trio.sleep(1)
        raise KeyboardInterrupt

    @wf.step
    async def other() -> int:
        try:
            await trio.sleep(100)
        finally:
            cleanups.append("other")
        return 1  # pragma: no cover

    with pytest.raises(KeyboardInterrupt):
        await wf.compile().run()
    assert cleanups == ["other"]


async def test_a_reducer_that_raises_fails_the_run_naming_the_key_and_reducer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def concat(acc: str, value: str) -> str:
        return acc + value

    wf = Workflow("bad-reducer", reducers={"parts": concat})

    @wf.step(writes="parts")
    async def text() -> str:
        return "a"

    @wf.step(writes="parts")
    async def number() -> int:
        await trio.sleep(1)
        return 1

    with pytest.raises(StepFailed) as info:
        await wf.compile().run()
    cause = info.value.__cause__
    assert isinstance(cause, ReducerError)
    assert (cause.key, cause.reducer) == ("parts", "concat")
    assert info.value.step == "number"
    assert "reducer concat of key 'parts' raised TypeError" in str(info.value)


async def test_inputs_must_be_a_mapping() -> None:
    wf = Workflow("inputs")

    @wf.step
    async def echo(text: str) -> str:
        return text

    with pytest.raises(TypeError, match="inputs must be a mapping"):
        await wf.compile().run(["text"])  # type: ignore[arg-type]


def test_an_async_guard_is_refused_at_once() -> None:
    async def ready(x: int) -> bool:
        return x > 0

    wf = Workflow("guards")
    with pytest.raises(TypeError, match="plain \\(sync\\) function"):
        wf.step(when=ready)
    with pytest.raises(TypeError, match="when= takes match"):
        wf.step(when=42)


async def test_a_raising_event_callback_stops_the_run_and_is_not_blamed_on_a_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    cleanups: list[str] = []
    wf = Workflow("callback")

    @wf.step
    async def quick() -> int:
        await trio.sleep(1)  # slow has started (a step whose task had not begun never runs)
        return 1

    @wf.step
    async def slow() -> int:
        try:
            await trio.sleep(10)
        finally:
            cleanups.append("slow")
        return 2  # pragma: no cover

    def on_event(event: events.Event) -> None:
        if isinstance(event, events.StepFinished):
            raise RuntimeError("dashboard is down")

    with pytest.raises(EventHandlerError) as info:
        await wf.compile().run(on_event=on_event)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert isinstance(info.value.event, events.StepFinished)
    assert "on_event callback raised RuntimeError: dashboard is down" in str(info.value)
    assert cleanups == ["slow"]
    with pytest.raises(TypeError, match="on_event must be a function"):
        await wf.compile().run(on_event=1)  # type: ignore[arg-type]


async def test_a_plain_def_step_returning_a_coroutine_is_told_to_be_async() -> None:
    wf = Workflow("sync-coroutine")

    @wf.step
    def wait(x: int) -> object:
        return trio.sleep(x)

    with pytest.raises(StepFailed) as info:
        await wf.compile().run({"x": 0})
    assert "step 'wait' is a plain def but returned an awaitable; make it 'async def'" in str(
        info.value
    )


def test_bad_workflow_arguments_get_clear_type_errors() -> None:
    async def fetch(url: str) -> str:
        return url

    with pytest.raises(TypeError, match="steps= takes a list of step functions"):
        Workflow("w", steps=fetch)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reducers= takes a mapping"):
        Workflow("w", reducers=["x"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="inputs= takes a sequence of names"):
        Workflow("w", inputs=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="inputs= takes names"):
        Workflow("w", inputs=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="a reducer's key must be a string"):
        Workflow("w", reducers={1: max})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"Repeat\(carry=\.\.\.\) maps a key"):
        Repeat(max_iterations=3, carry=1)


def test_the_result_is_read_only_and_says_which_steps_ran() -> None:
    wf = Workflow("ro")

    @wf.step
    def one() -> int:
        return 1

    result = wf.compile().run_sync()
    with pytest.raises(TypeError):
        result.state["one"] = 2  # type: ignore[index]
    with pytest.raises(KeyError, match="step 'two' did not run"):
        result.ran_together("two")
    assert repr(wf.compile()) == "<Plan 'ro': 1 steps>"


def test_add_refuses_writes_that_name_no_keys() -> None:
    wf = Workflow("outer")
    with pytest.raises(TypeError, match=r"add\(writes=\.\.\.\) takes a key"):
        wf.add(Workflow("inner"), name="sub", writes=5)  # type: ignore[arg-type]
