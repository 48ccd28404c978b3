"""plan.run(..., outputs=(...)): only the steps those outputs need run, only their
inputs are required, and a name that is no step or key is an error before anything
runs."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from spectra_dsl import InputError, Join, SpectraError, Workflow, events, match, reducers
from tests.helpers import run_virtual
from tests.strategies import RandomDag, Recorder, build, limits, name, random_dags


def report(calls: list[str]) -> Workflow:
    """text -> words -> (count, longest) -> summary; stats(numbers) on the side."""
    wf = Workflow("report")

    @wf.step
    async def words(text: str) -> list[str]:
        calls.append("words")
        await trio.sleep(1)
        return text.split()

    @wf.step
    async def count(words: list[str]) -> int:
        calls.append("count")
        await trio.sleep(2)
        return len(words)

    @wf.step
    async def longest(words: list[str]) -> str:
        calls.append("longest")
        await trio.sleep(5)
        return max(words, key=len)

    @wf.step(join=Join.ALL)
    async def summary(count: int, longest: str) -> str:
        calls.append("summary")
        return f"{count} words, longest '{longest}'"

    @wf.step
    async def stats(numbers: list[int]) -> int:
        calls.append("stats")
        return sum(numbers)

    return wf


def started(result: Any) -> list[str]:
    return [e.step for e in result.events_of(events.StepStarted)]


def test_only_the_steps_an_output_needs_run() -> None:
    calls: list[str] = []
    result = run_virtual(report(calls), {"text": "a tiny example"}, outputs=("count",))
    assert calls == ["words", "count"] and started(result) == ["words", "count"]
    assert dict(result) == {"text": "a tiny example", "words": ["a", "tiny", "example"],
                            "count": 3}
    assert result.duration == 3.0  # 'longest' (5 s) was not waited for


def test_only_the_inputs_of_those_steps_are_required() -> None:
    calls: list[str] = []
    plan = report(calls).compile()
    with pytest.raises(InputError, match="missing input 'numbers'"):
        plan.run_sync({"text": "a b"})  # the whole plan needs both inputs
    assert plan.run_sync({"text": "a b"}, outputs=("summary",))["summary"] == (
        "2 words, longest 'a'")
    assert plan.run_sync({"numbers": [1, 2]}, outputs=("stats",))["stats"] == 3
    with pytest.raises(InputError, match="missing input 'text', needed by step 'words'"):
        plan.run_sync({"numbers": [1]}, outputs=("summary",))
    assert "summary" in calls and calls.count("stats") == 1


def test_an_input_the_workflow_takes_is_accepted_even_when_not_needed() -> None:
    plan = report([]).compile()
    result = plan.run_sync({"text": "a", "numbers": [1]}, outputs=("stats",))
    assert result["stats"] == 1 and "words" not in result
    with pytest.raises(InputError, match=r"unknown input 'nubmers'.*did you mean 'numbers'"):
        plan.run_sync({"nubmers": [1]}, outputs=("stats",))


def test_an_input_asked_for_as_an_output_must_be_given() -> None:
    plan = report([]).compile()
    result = plan.run_sync({"text": "a b"}, outputs=("text", "count"))
    assert dict(result) == {"text": "a b", "words": ["a", "b"], "count": 2}
    assert started(plan.run_sync({"text": "a b"}, outputs="text")) == []
    with pytest.raises(InputError, match="missing input 'numbers', needed by step 'stats'"):
        plan.run_sync({"text": "a b"}, outputs=("numbers",))


def test_an_unknown_output_is_an_error_naming_it_before_any_step_runs() -> None:
    calls: list[str] = []
    plan = report(calls).compile()
    with pytest.raises(SpectraError) as caught:
        plan.run_sync({"text": "a", "numbers": []}, outputs=("sumary", "count", "nothing"))
    message = str(caught.value)
    assert "'sumary'" in message and "did you mean 'summary'" in message
    assert "'nothing'" in message and "'count'" not in message.split("names", 1)[1][:30]
    assert isinstance(caught.value, ValueError)
    assert calls == []


def test_outputs_is_a_tuple_of_names_or_one_name() -> None:
    plan = report([]).compile()
    assert plan.run_sync({"text": "a b"}, outputs="count")["count"] == 2
    assert plan.run_sync({"text": "a b"}, outputs=["count", "words"])["count"] == 2
    with pytest.raises(ValueError, match="names no output"):
        plan.run_sync({"text": "a b"}, outputs=())
    with pytest.raises(TypeError, match="step or key names"):
        plan.run_sync({"text": "a b"}, outputs=(1,))  # type: ignore[arg-type]


def test_the_plan_of_some_outputs_is_built_once() -> None:
    plan = report([]).compile()
    some = plan.for_outputs(("summary",))
    assert plan.for_outputs(("summary",)) is some
    assert some.steps == ("words", "count", "longest", "summary")
    assert plan.for_outputs("stats").steps == ("stats",)


def test_a_key_asks_for_every_writer_and_guards_and_after_steps_come_along() -> None:
    wf = Workflow("routes", reducers={"notes": reducers.append})
    ran: list[str] = []

    @wf.step(writes="route")
    def classify(question: str) -> str:
        ran.append("classify")
        return "math"

    @wf.step
    def cleanup(question: str) -> None:
        ran.append("cleanup")

    @wf.step(when=match(route="math"), writes="notes", after=("cleanup",), join=Join.ALL)
    def calculator(question: str) -> str:
        ran.append("calculator")
        return "4"

    @wf.step(writes="notes")
    def chat(question: str) -> str:
        ran.append("chat")
        return "hello"

    @wf.step
    def unrelated(question: str) -> str:
        ran.append("unrelated")
        return "!"

    result = wf.compile().run_sync({"question": "2+2"}, outputs=("notes",))
    assert sorted(ran) == ["calculator", "chat", "classify", "cleanup"]
    assert result["notes"] == ["4", "hello"]  # both writers, folded in plan order


@settings(max_examples=80, deadline=None)
@given(random_dags(max_steps=10), limits(), st.data())
def test_some_outputs_run_exactly_their_ancestors_with_the_same_values(
    dag: RandomDag, limit: int | None, data: st.DataObject
) -> None:
    wanted = data.draw(st.sets(st.integers(0, dag.size - 1), min_size=1), label="outputs")
    needed = set(wanted)
    for i in range(dag.size - 1, -1, -1):
        if i in needed:
            needed.update(dag.deps[i])
    rec = Recorder()
    plan = build(dag, rec).compile()
    clock = trio.testing.MockClock(autojump_threshold=0)
    full = trio.run(lambda: plan.run(max_concurrency=limit), clock=clock)
    rec.calls.clear()
    outputs = [name(i) for i in sorted(wanted)]
    part = trio.run(lambda: plan.run(outputs=outputs, max_concurrency=limit), clock=clock)
    assert rec.calls == {name(i): 1 for i in needed}
    assert {k: v for k, v in part.items() if k != "log"} == {
        name(i): full[name(i)] for i in needed}
