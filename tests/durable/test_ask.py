"""Asking a person: a run stops with its questions pending and goes on when resumed with
their answers (in parts, in any order), or has them answered in process by on_ask."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from spectra_dsl import Ask, Join, SpectraError, StepFailed, Workflow, events
from spectra_dsl.store import MemoryStore
from tests.helpers import virtual


class Calls:
    def __init__(self) -> None:
        self.names: list[str] = []


def review(calls: Calls) -> Workflow:
    wf = Workflow("review")

    @wf.step
    async def draft(topic: str) -> str:
        calls.names.append("draft")
        await trio.sleep(1)
        return f"all about {topic}"

    @wf.step(ask=True)
    async def approval(draft: str) -> Ask[bool]:
        calls.names.append("approval")
        return Ask({"draft": draft, "question": "Publish?"})

    @wf.step(ask=True)
    async def legal(draft: str) -> Ask[str]:
        calls.names.append("legal")
        return Ask("Any legal concern?")

    @wf.step
    async def index(topic: str) -> str:  # independent of the asks
        calls.names.append("index")
        await trio.sleep(7)
        return topic.upper()

    @wf.step(join=Join.ALL)
    async def publish(draft: str, approval: bool, legal: str) -> str:
        calls.names.append("publish")
        return f"{draft} ({'yes' if approval else 'no'}, {legal})"

    return wf


def test_a_run_stops_with_its_questions_and_resumes_with_answers_in_parts() -> None:
    calls = Calls()
    plan = review(calls).compile()
    store = MemoryStore()

    first = virtual(lambda: plan.run({"topic": "owls"}, store=store, run_id="r"))
    assert first.status == "interrupted"
    assert first.pending == {"approval": {"draft": "all about owls", "question": "Publish?"},
                             "legal": "Any legal concern?"}
    assert first["index"] == "OWLS"  # the independent branch ran to its end first
    assert first.duration == 7.0
    assert "publish" not in first
    assert store.run("r").status == "interrupted"
    assert [e.step for e in first.events_of(events.StepAsked)] == ["approval", "legal"]

    second = virtual(lambda: plan.resume("r", store=store, answers={"legal": "none"}))
    assert second.status == "interrupted"
    assert list(second.pending) == ["approval"]
    assert second["legal"] == "none"

    third = virtual(lambda: plan.resume("r", store=store, answers={"approval": True}))
    assert third.status == "finished" and third.pending == {}
    assert third["publish"] == "all about owls (yes, none)"
    assert store.run("r").status == "finished"
    assert sorted(calls.names) == ["approval", "draft", "index", "legal", "publish"]


def test_answers_may_come_in_any_order_and_all_at_once() -> None:
    calls = Calls()
    plan = review(calls).compile()
    store = MemoryStore()
    virtual(lambda: plan.run({"topic": "owls"}, store=store, run_id="r"))
    virtual(lambda: plan.resume("r", store=store, answers={"approval": False}))
    done = virtual(lambda: plan.resume("r", store=store, answers={"legal": "ok"}))
    assert done["publish"] == "all about owls (no, ok)"
    store2 = MemoryStore()
    virtual(lambda: plan.run({"topic": "owls"}, store=store2, run_id="r"))
    both = virtual(lambda: plan.resume("r", store=store2,
                                       answers={"legal": "ok", "approval": False}))
    assert dict(both) == dict(done)


def test_an_answer_for_no_waiting_ask_is_refused_naming_the_waiting_ones() -> None:
    plan = review(Calls()).compile()
    store = MemoryStore()
    virtual(lambda: plan.run({"topic": "owls"}, store=store, run_id="r"))
    with pytest.raises(ValueError, match=r"'aproval'.*asks waiting: 'approval', 'legal'"):
        virtual(lambda: plan.resume("r", store=store, answers={"aproval": True}))


def test_on_ask_answers_in_process_and_a_person_holds_no_slot() -> None:
    calls = Calls()
    plan = review(calls).compile()
    asked: list[tuple[str, Any]] = []

    async def on_ask(step: str, payload: Any) -> Any:
        asked.append((step, payload))
        await trio.sleep(10)  # a person thinking
        return True if step == "approval" else "fine"

    result = virtual(lambda: plan.run({"topic": "owls"}, on_ask=on_ask, max_concurrency=1))
    assert result.status == "finished" and result.run_id is None
    assert result["publish"] == "all about owls (yes, fine)"
    assert sorted(s for s, _ in asked) == ["approval", "legal"]
    # draft [0, 1), index [1, 8) in the one slot while both questions wait [1, 11).
    assert result.duration == 11.0


def test_asks_with_neither_a_store_nor_on_ask_fail_before_any_step_runs() -> None:
    calls = Calls()
    plan = review(calls).compile()
    with pytest.raises(SpectraError, match=r"ask steps .*'approval', 'legal'.*on_ask="):
        virtual(lambda: plan.run({"topic": "owls"}))
    assert calls.names == []


def test_an_ask_step_must_return_an_ask() -> None:
    wf = Workflow("bad")

    @wf.step(ask=True)
    async def approval(x: int) -> Any:
        return True

    with pytest.raises(StepFailed) as info:
        virtual(lambda: wf.compile().run({"x": 1}, store=MemoryStore()))
    assert isinstance(info.value.__cause__, TypeError)
    assert "must return Ask(payload)" in str(info.value)
