"""Asks inside sub-workflows: the run stops once every run in it (outer, inner, a
loop's pass) can go on only through an answer; the question is named by its path
(``"review/approval"``); a resume answers it there and the inner run goes on from its
records, each step called once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from spectra_dsl import Ask, Join, Repeat, SpectraError, Workflow
from spectra_dsl.store import MemoryStore, SqliteStore, Store
from tests.durable.test_ask import Calls
from tests.helpers import virtual


def inner_review(calls: Calls) -> Workflow:
    review = Workflow("review")

    @review.step
    async def draft(topic: str) -> str:
        calls.names.append("draft")
        await trio.sleep(1)
        return f"all about {topic}"

    @review.step(ask=True)
    async def approval(draft: str) -> Ask[bool]:
        calls.names.append("approval")
        return Ask({"draft": draft})

    @review.step
    async def verdict(draft: str, approval: bool) -> str:
        calls.names.append("verdict")
        return f"{draft}: {'yes' if approval else 'no'}"

    return review


def outer(calls: Calls) -> Workflow:
    wf = Workflow("publishing")

    @wf.step
    async def topic(subject: str) -> str:
        calls.names.append("topic")
        return subject

    wf.add(inner_review(calls), name="review", writes=("verdict",))

    @wf.step
    async def index(topic: str) -> str:  # independent of the ask: runs to its end
        calls.names.append("index")
        await trio.sleep(5)
        return topic.upper()

    @wf.step(join=Join.ALL)
    async def publish(verdict: str, index: str) -> str:
        calls.names.append("publish")
        return f"{verdict} [{index}]"

    return wf


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "memory":
        return MemoryStore()
    return SqliteStore(tmp_path / "runs.sqlite")


def test_an_ask_in_a_sub_workflow_stops_the_run_and_a_resume_answers_it(
        store: Store) -> None:
    calls = Calls()
    plan = outer(calls).compile()
    first = virtual(lambda: plan.run({"subject": "owls"}, store=store, run_id="r"))
    assert first.status == "interrupted"
    assert first.pending == {"review/approval": {"draft": "all about owls"}}
    assert first["index"] == "OWLS" and first.duration == 5.0
    assert "verdict" not in first and "publish" not in first
    assert store.run("r").status == "interrupted"
    with pytest.raises(ValueError, match="asks waiting: 'review/approval'"):
        virtual(lambda: plan.resume("r", store=store, answers={"approval": True}))
    done = virtual(lambda: plan.resume("r", store=store, answers={"review/approval": True}))
    assert done.status == "finished"
    assert done["publish"] == "all about owls: yes [OWLS]"
    assert sorted(calls.names) == ["approval", "draft", "index", "publish", "topic",
                                   "verdict"]


def test_on_ask_answers_an_inner_ask_in_process_named_by_its_path() -> None:
    calls = Calls()
    plan = outer(calls).compile()
    asked: list[str] = []

    async def on_ask(step: str, payload: Any) -> Any:
        asked.append(step)
        await trio.sleep(2)
        return False

    result = virtual(lambda: plan.run({"subject": "owls"}, on_ask=on_ask))
    assert result.status == "finished" and asked == ["review/approval"]
    assert result["publish"] == "all about owls: no [OWLS]"
    assert result.duration == 5.0  # index [0, 5); draft [0, 1), the person [1, 3)


def test_without_store_or_on_ask_an_inner_ask_is_named_before_any_step_runs() -> None:
    calls = Calls()
    with pytest.raises(SpectraError, match=r"'review/approval'"):
        virtual(lambda: outer(calls).compile().run({"subject": "owls"}))
    assert calls.names == []


def test_an_ask_in_a_loop_pass_is_asked_again_each_pass_by_its_pass(store: Store) -> None:
    calls = Calls()
    body = Workflow("round")

    @body.step(ask=True)
    async def approve(n: int) -> Ask[int]:
        calls.names.append(f"approve {n}")
        return Ask(f"keep going after {n}?")

    @body.step
    async def step_up(n: int, approve: int) -> int:
        calls.names.append(f"step_up {n}")
        return n + approve

    wf = Workflow("loop")
    wf.add(body, name="rounds", writes=("step_up",),
           repeat=Repeat(until=lambda step_up: step_up >= 3, max_iterations=5,
                         carry={"step_up": "n"}))
    plan = wf.compile()
    first = virtual(lambda: plan.run({"n": 0}, store=store, run_id="r"))
    assert first.pending == {"rounds#1/approve": "keep going after 0?"}
    second = virtual(lambda: plan.resume("r", store=store, answers={"rounds#1/approve": 2}))
    assert second.pending == {"rounds#2/approve": "keep going after 2?"}
    third = virtual(lambda: plan.resume("r", store=store, answers={"rounds#2/approve": 5}))
    assert third.status == "finished" and third["step_up"] == 7
    assert calls.names == ["approve 0", "step_up 0", "approve 2", "step_up 2"]


def test_two_inner_asks_on_parallel_branches_are_answered_in_separate_resumes(
        store: Store) -> None:
    calls = Calls()
    wf = Workflow("two")

    @wf.step
    async def topic(subject: str) -> str:
        return subject

    wf.add(inner_review(calls), name="left", writes={"verdict": "left"})
    wf.add(inner_review(calls), name="right", writes={"verdict": "right"})

    @wf.step(join=Join.ALL)
    async def both(left: str, right: str) -> str:
        return f"{left} | {right}"

    plan = wf.compile()
    first = virtual(lambda: plan.run({"subject": "owls"}, store=store, run_id="r"))
    assert set(first.pending) == {"left/approval", "right/approval"}
    second = virtual(lambda: plan.resume("r", store=store, answers={"right/approval": False}))
    assert list(second.pending) == ["left/approval"]
    done = virtual(lambda: plan.resume("r", store=store, answers={"left/approval": True}))
    assert done["both"] == "all about owls: yes | all about owls: no"
    assert sorted(calls.names) == sorted(["draft", "approval", "verdict"] * 2)


def test_an_ask_in_a_mapped_sub_workflow_is_asked_per_element(store: Store) -> None:
    calls = Calls()
    body = Workflow("one")

    @body.step(ask=True)
    async def approve(doc: str) -> Ask[bool]:
        calls.names.append(f"approve {doc}")
        return Ask(f"publish {doc}?")

    @body.step
    async def result(doc: str, approve: bool) -> str:
        return doc if approve else "-"

    wf = Workflow("each")

    @wf.step
    async def doc(names: str) -> list[str]:  # one run of the body per element
        return names.split(",")

    wf.add(body, name="check", map="doc", writes={"result": "checked"})

    @wf.step
    async def shown(checked: list[str]) -> str:
        return " ".join(checked)

    plan = wf.compile()
    first = virtual(lambda: plan.run({"names": "a,b,c"}, store=store, run_id="r"))
    assert first.pending == {"check[0]/approve": "publish a?", "check[1]/approve": "publish b?",
                             "check[2]/approve": "publish c?"}
    second = virtual(lambda: plan.resume("r", store=store, answers={"check[1]/approve": False}))
    assert set(second.pending) == {"check[0]/approve", "check[2]/approve"}
    done = virtual(lambda: plan.resume(
        "r", store=store, answers={"check[0]/approve": True, "check[2]/approve": True}))
    assert done["shown"] == "a - c"
    assert sorted(calls.names) == ["approve a", "approve b", "approve c"]
