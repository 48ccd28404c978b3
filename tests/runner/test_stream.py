"""plan.stream(...): every event as it happens, a slow reader never slows the run, a
failure surfaces from the ``async for``, and leaving early cancels the run."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given, settings

from spectra_dsl import (
    InputError,
    Join,
    Repeat,
    RunResult,
    SpectraError,
    StepFailed,
    Workflow,
    events,
)
from tests.helpers import virtual
from tests.strategies import RandomDag, Recorder, build, limits, random_dags


def analysis() -> Workflow:
    """fetch (1 s) -> sentiment (2 s) and entities (3 s) -> merge."""
    wf = Workflow("analysis")

    @wf.step
    async def fetch(url: str) -> str:
        await trio.sleep(1)
        return f"page at {url}"

    @wf.step
    async def sentiment(fetch: str) -> float:
        await trio.sleep(2)
        return 0.5

    @wf.step
    async def entities(fetch: str) -> list[str]:
        await trio.sleep(3)
        return ["trio"]

    @wf.step(join=Join.ALL)
    async def merge(sentiment: float, entities: list[str]) -> str:
        return f"{sentiment} {entities}"

    return wf


def test_the_events_streamed_are_exactly_the_results_events_in_order() -> None:
    plan = analysis().compile()

    async def main() -> tuple[list[tuple[float, events.Event]], RunResult]:
        seen = []
        async with plan.stream({"url": "u"}) as stream:
            async for event in stream:
                seen.append((trio.current_time(), event))
        return seen, stream.result

    seen, result = virtual(main)
    assert [e for _, e in seen] == result.events
    assert result["merge"] == "0.5 ['trio']"
    # Each event reaches the reader in the instant it happens, not at the end.
    assert all(now == event.time for now, event in seen)
    assert {e.time for _, e in seen} == {0.0, 1.0, 3.0, 4.0}


def test_a_slow_reader_never_slows_the_run() -> None:
    plan = analysis().compile()

    async def alone() -> RunResult:
        return await plan.run({"url": "u"})

    async def slow_reader() -> tuple[RunResult, float, int]:
        count = 0
        async with plan.stream({"url": "u"}) as stream:
            async for _ in stream:
                count += 1
                await trio.sleep(10)  # a reader far slower than the steps
        return stream.result, trio.current_time(), count

    reference = virtual(alone)
    result, read_until, count = virtual(slow_reader)
    assert (result.started, result.finished) == (reference.started, reference.finished)
    assert (result.started, result.finished) == (0.0, 4.0)
    assert result.intervals() == reference.intervals()
    assert read_until == 10.0 * count  # the reader took its time; the run did not wait
    assert count == len(result.events)


def test_step_finished_carries_the_value_as_it_happens() -> None:
    plan = analysis().compile()

    async def main() -> dict[str, Any]:
        async with plan.stream({"url": "u"}) as stream:
            return {e.step: e.value async for e in stream
                    if isinstance(e, events.StepFinished)}

    assert virtual(main) == {"fetch": "page at u", "sentiment": 0.5,
                             "entities": ["trio"], "merge": "0.5 ['trio']"}


def test_a_mapped_step_streams_each_calls_value_then_the_list() -> None:
    wf = Workflow("jokes", max_concurrency=2)

    @wf.step
    async def subjects(topic: str) -> list[str]:
        return [f"{topic} {kind}" for kind in ("owners", "toys", "naps")]

    @wf.step(map="subjects")
    async def joke(subjects: str) -> str:
        await trio.sleep(3 if subjects.endswith("owners") else 1)
        return f"a joke about {subjects}"

    async def main() -> list[tuple[float, int | None, Any]]:
        async with wf.compile().stream({"topic": "cats"}) as stream:
            return [(e.time, e.item, e.value) async for e in stream
                    if isinstance(e, events.StepFinished) and e.step == "joke"]

    per_item = virtual(main)
    # Two at a time: 'toys' ends at 1, then 'naps' runs 1..2; 'owners' takes 3 s.
    assert per_item == [(1.0, 1, "a joke about cats toys"),
                        (2.0, 2, "a joke about cats naps"),
                        (3.0, 0, "a joke about cats owners"),
                        (3.0, None, ["a joke about cats owners", "a joke about cats toys",
                                     "a joke about cats naps"])]


def test_sub_workflows_and_loops_stream_their_own_events_in_place() -> None:
    body = Workflow("count-up")

    @body.step
    async def n(m: int) -> int:
        await trio.sleep(1)
        return m + 1

    per_doc = Workflow("per-doc")

    @per_doc.step
    async def score(docs: str) -> int:
        await trio.sleep(2)
        return len(docs)

    wf = Workflow("outer")

    @wf.step
    async def docs(m: int) -> list[str]:
        return ["a", "bb"]

    wf.add(body, name="loop", writes=("n",),
           repeat=Repeat(until=lambda n: n >= 3, max_iterations=5, carry={"n": "m"}))
    wf.add(per_doc, name="scores", map="docs", writes=("score",))

    async def main() -> tuple[list[events.Event], RunResult]:
        async with wf.compile().stream({"m": 0}) as stream:
            seen = [e async for e in stream]
        return seen, stream.result

    seen, result = virtual(main)
    assert seen == result.events
    assert result["n"] == 3 and result["score"] == [1, 2] and result.duration == 3.0
    inner = {e.scope[0].split("#")[0].split("[")[0] for e in seen if e.scope}
    assert inner == {"loop", "scores"}  # (a pass or element is marked after the name)


def failing() -> Workflow:
    wf = Workflow("failing")

    @wf.step
    async def slow(x: int) -> int:
        await trio.sleep(5)
        return x

    @wf.step
    async def broken(x: int) -> int:
        await trio.sleep(1)
        raise KeyError("no such record")

    return wf


def test_a_failure_surfaces_from_the_async_for_as_step_failed() -> None:
    plan = failing().compile()

    async def main() -> tuple[list[events.Event], Any, float]:
        seen: list[events.Event] = []
        async with plan.stream({"x": 1}) as stream:
            with pytest.raises(StepFailed) as caught:
                async for event in stream:
                    seen.append(event)
        return seen, caught.value, trio.current_time()

    seen, error, now = virtual(main)
    assert type(error) is StepFailed  # the StepFailed itself, no ExceptionGroup
    assert error.step == "broken" and isinstance(error.__cause__, KeyError)
    assert now == 1.0  # 'slow' was cancelled, not waited for
    # Every event of the failed run was read before the failure was raised.
    kinds = [type(e).__name__ for e in seen]
    assert kinds[-3:] == ["StepError", "StepCancelled", "WorkflowFailed"]
    assert [e.step for e in seen if isinstance(e, events.StepCancelled)] == ["slow"]


def test_a_failure_leaves_the_async_with_as_step_failed_too() -> None:
    plan = failing().compile()

    async def main() -> None:
        async with plan.stream({"x": 1}) as stream:
            async for _ in stream:
                pass

    with pytest.raises(StepFailed, match="broken"):
        virtual(main)


def test_the_result_of_a_failed_or_unfinished_run_is_an_error_that_says_why() -> None:
    async def main() -> None:
        async with failing().compile().stream({"x": 1}) as stream:
            with pytest.raises(SpectraError, match="has not finished"):
                assert stream.result
            with pytest.raises(StepFailed):
                async for _ in stream:
                    pass
            with pytest.raises(SpectraError, match="the run failed"):
                assert stream.result

    virtual(main)


def chain(started: list[str]) -> Workflow:
    """a (1 s) -> b (1 s) -> c (1 s), each saying when it starts."""
    wf = Workflow("chain")

    @wf.step
    async def a(x: int) -> int:
        started.append("a")
        await trio.sleep(1)
        return x

    @wf.step
    async def b(a: int) -> int:
        started.append("b")
        await trio.sleep(1)
        return a

    @wf.step
    async def c(b: int) -> int:
        started.append("c")
        await trio.sleep(1)
        return b

    return wf


def test_leaving_the_async_with_early_cancels_the_run_at_once() -> None:
    started: list[str] = []
    plan = chain(started).compile()

    async def main() -> tuple[list[events.Event], float]:
        seen: list[events.Event] = []
        async with plan.stream({"x": 1}) as stream:
            async for event in stream:
                seen.append(event)
                if isinstance(event, events.StepFinished) and event.step == "a":
                    break
        left = trio.current_time()
        await trio.sleep(100)  # nothing of the run goes on behind our back
        return seen, left

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seen, left = virtual(main)
    assert left == 1.0  # the context exited in the instant we broke out
    assert "c" not in started  # steps after never start
    assert [e.step for e in seen if isinstance(e, events.StepFinished)] == ["a"]


def test_an_error_in_the_readers_loop_is_raised_as_itself_and_cancels_the_run() -> None:
    started: list[str] = []
    plan = chain(started).compile()

    async def main() -> float:
        with pytest.raises(LookupError, match="reader"):
            async with plan.stream({"x": 1}) as stream:
                async for _ in stream:
                    await trio.sleep(1.5)
                    raise LookupError("the reader's own bug")
        return trio.current_time()

    assert virtual(main) == 1.5
    assert started == ["a", "b"]  # b was running and is cancelled; c never starts


def test_a_cancelled_reader_cancels_the_run_cleanly() -> None:
    started: list[str] = []
    plan = chain(started).compile()

    async def main() -> float:
        with trio.move_on_after(1.5):
            async with plan.stream({"x": 1}) as stream:
                async for _ in stream:
                    pass
        await trio.sleep(100)
        return trio.current_time()

    assert virtual(main) == 101.5
    assert started == ["a", "b"]


def test_inputs_and_outputs_are_checked_before_the_stream_opens() -> None:
    plan = analysis().compile()
    with pytest.raises(InputError, match="missing input 'url'"):
        plan.stream({})
    with pytest.raises(SpectraError, match="'mrege'"):
        plan.stream({"url": "u"}, outputs=("mrege",))


def test_a_stream_of_some_outputs_has_only_their_events() -> None:
    plan = analysis().compile()

    async def main() -> tuple[set[str], RunResult]:
        async with plan.stream({"url": "u"}, outputs=("sentiment",)) as stream:
            ran = {e.step async for e in stream if isinstance(e, events.StepStarted)}
        return ran, stream.result

    ran, result = virtual(main)
    assert ran == {"fetch", "sentiment"}
    assert result.duration == 3.0 and "entities" not in result


def test_sync_steps_and_a_limit_stream_the_same_way() -> None:
    wf = Workflow("sync", max_concurrency=1)

    @wf.step
    def double(x: int) -> int:
        return 2 * x

    @wf.step
    def square(x: int) -> int:
        return x * x

    @wf.step(join=Join.ALL)
    def total(double: int, square: int) -> int:
        return double + square

    async def main() -> tuple[list[events.Event], RunResult]:
        async with wf.compile().stream({"x": 3}) as stream:
            seen = [e async for e in stream]
        return seen, stream.result

    seen, result = trio.run(main)
    assert seen == result.events and result["total"] == 15
    assert result.peak_concurrency == 1


@settings(max_examples=60, deadline=None)
@given(random_dags(max_steps=10), limits())
def test_streamed_events_equal_the_results_on_random_dags(
    dag: RandomDag, limit: int | None
) -> None:
    plan = build(dag, Recorder()).compile()

    async def main() -> tuple[list[events.Event], RunResult]:
        async with plan.stream(max_concurrency=limit) as stream:
            seen = [e async for e in stream]
        return seen, stream.result

    seen, result = virtual(main)
    assert seen == result.events
    # The final state is the promise; under a limit, steps that finish in the same
    # instant release their successors in trio's (random) order, so the makespan of two
    # runs may differ and is not compared.
    reference = virtual(lambda: plan.run(max_concurrency=limit))
    assert dict(result) == dict(reference)
