"""Durable runs in one process: what is recorded, what a resume restores and reruns,
who may resume, what a changed plan does, what cannot be stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from spectra_dsl import (
    Join,
    Repeat,
    ResumeError,
    Retry,
    RunExistsError,
    SerializationError,
    StepFailed,
    Workflow,
    current_step,
    events,
    step,
)
from spectra_dsl.store import JsonCodec, MemoryStore, SqliteStore, Store
from tests.helpers import virtual


class Flaky:
    """Steps that log their calls and fail while ``failing`` names them."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.failing: set[str] = set()

    def hit(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failing:
            raise RuntimeError(f"{name} is down")


def diamond(log: Flaky) -> Workflow:
    wf = Workflow("diamond")

    @wf.step
    async def fetch(url: str) -> str:
        log.hit("fetch")
        await trio.sleep(1)
        return url.upper()

    @wf.step
    async def left(fetch: str) -> int:
        log.hit("left")
        await trio.sleep(2)
        return len(fetch)

    @wf.step
    async def right(fetch: str) -> str:
        log.hit("right")
        await trio.sleep(1)
        return fetch[::-1]

    @wf.step(join=Join.ALL)
    async def merge(left: int, right: str) -> str:
        log.hit("merge")
        return f"{right}:{left}"

    return wf


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(
        tmp_path / "runs.sqlite")
    yield made
    made.close()


def test_resume_after_a_failure_restores_finished_steps_and_reruns_the_rest(
        store: Store) -> None:
    log = Flaky()
    plan = diamond(log).compile()
    log.failing.add("right")

    async def main() -> Any:
        with pytest.raises(StepFailed) as info:
            await plan.run({"url": "ab"}, store=store, run_id="o-42")
        assert info.value.run_id == "o-42"
        assert trio.current_time() == 1.0  # right failed as it started; left was cancelled
        log.failing.clear()
        log.calls.clear()
        return await plan.resume("o-42", store=store)

    result = virtual(main)
    assert sorted(log.calls) == ["left", "merge", "right"]  # fetch restored, not called
    assert result["merge"] == "BA:2"
    assert result.status == "finished" and result.run_id == "o-42"
    restored = result.events_of(events.StepRestored)
    assert [(e.step, e.status) for e in restored] == [("fetch", "finished")]
    (resumed,) = result.events_of(events.RunResumed)
    assert resumed.run_id == "o-42" and resumed.restored == 1
    assert store.run("o-42").status == "finished"
    assert {r.step: r.status for r in store.steps("o-42")} == {
        "fetch": "finished", "left": "finished", "right": "finished", "merge": "finished"}


def test_the_final_state_and_virtual_times_equal_a_run_without_a_store(store: Store) -> None:
    plan = diamond(Flaky()).compile()
    plain = virtual(lambda: plan.run({"url": "xyz"}))
    stored = virtual(lambda: plan.run({"url": "xyz"}, store=store))
    assert dict(stored) == dict(plain)
    assert stored.intervals() == plain.intervals()
    assert stored.duration == plain.duration == 3.0
    assert stored.run_id is not None and store.run(stored.run_id).status == "finished"


def test_a_taken_run_id_is_refused_and_a_finished_run_resumes_without_calling_anything(
        store: Store) -> None:
    log = Flaky()
    plan = diamond(log).compile()

    async def main() -> Any:
        first = await plan.run({"url": "ab"}, store=store, run_id="once")
        with pytest.raises(RunExistsError, match="resume"):
            await plan.run({"url": "ab"}, store=store, run_id="once")
        log.calls.clear()
        again = await plan.resume("once", store=store)
        assert dict(again) == dict(first)
        return again

    virtual(main)
    assert log.calls == []


def test_rerun_drops_a_step_and_its_descendants(store: Store) -> None:
    log = Flaky()
    plan = diamond(log).compile()

    async def main() -> Any:
        await plan.run({"url": "ab"}, store=store, run_id="r")
        log.calls.clear()
        return await plan.resume("r", store=store, rerun=("right",))

    result = virtual(main)
    assert log.calls == ["right", "merge"]
    assert result["merge"] == "BA:2"
    (resumed,) = result.events_of(events.RunResumed)
    assert resumed.rerun == ("right", "merge")
    with pytest.raises(ValueError, match="rerun= names no step of workflow 'diamond': 'nope'"):
        virtual(lambda: plan.resume("r", store=store, rerun=("nope",)))


def test_an_edited_or_renamed_step_is_refused_listing_it(store: Store) -> None:
    log = Flaky()
    wf = diamond(log)
    virtual(lambda: wf.compile().run({"url": "ab"}, store=store, run_id="r"))

    changed = Workflow("diamond")

    @changed.step
    async def fetch(url: str) -> str:
        return url.lower()  # edited

    @changed.step
    async def left(fetch: str) -> int:
        log.hit("left")
        await trio.sleep(2)
        return len(fetch)

    @changed.step(name="right_side", writes="right")  # renamed
    async def right(fetch: str) -> str:
        log.hit("right")
        await trio.sleep(1)
        return fetch[::-1]

    @changed.step(join=Join.ALL)
    async def merge(left: int, right: str) -> str:
        log.hit("merge")
        return f"{right}:{left}"

    plan = changed.compile()
    with pytest.raises(ResumeError) as info:
        virtual(lambda: plan.resume("r", store=store))
    assert info.value.reason == "changed"
    message = str(info.value)
    assert "step 'fetch' was edited" in message
    assert "step 'right' was renamed to 'right_side'" in message
    log.calls.clear()
    result = virtual(lambda: plan.resume("r", store=store, on_code_change="rerun"))
    assert result["merge"] == "ba:2"
    assert sorted(log.calls) == ["left", "merge", "right"]  # fetch's descendants, all


def test_a_second_resumer_is_told_who_owns_the_run(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    log = Flaky()
    plan = diamond(log).compile()
    log.failing.add("merge")
    with SqliteStore(path) as first:
        with pytest.raises(StepFailed):
            plan.run_sync({"url": "ab"}, store=first, run_id="r")
        log.failing.clear()
        first.acquire("r")  # a resume in progress, from another store object
        with SqliteStore(path) as second, pytest.raises(ResumeError) as info:
            plan.resume_sync("r", store=second)
        assert info.value.reason == "owned"
        assert "is owned by pid" in str(info.value)
        first.release("r")
    result = plan.resume_sync("r", store=path)  # a path: opened and closed around it
    assert result["merge"] == "BA:2"


def test_a_value_that_cannot_be_stored_fails_its_step_and_keeps_earlier_records(
        store: Store) -> None:
    wf = Workflow("bad")

    @wf.step
    async def good(x: int) -> int:
        return x + 1

    @wf.step
    async def bad(good: int) -> Any:
        return lambda: good  # a lambda cannot be pickled

    with pytest.raises(StepFailed) as info:
        virtual(lambda: wf.compile().run({"x": 1}, store=store, run_id="r"))
    assert info.value.step == "bad"
    cause = info.value.__cause__
    assert isinstance(cause, SerializationError)
    assert cause.step == "bad" and cause.key == "bad"
    assert "durable=False" in str(cause)
    assert {r.step: r.status for r in store.steps("r")} == {"good": "finished",
                                                            "bad": "failed"}
    assert store.run("r").status == "failed"
    assert store.run("r").lease is None  # released, though the run failed


def test_the_json_codec_refuses_what_is_not_json() -> None:
    wf = Workflow("j")

    @wf.step
    async def made(x: int) -> set[int]:
        return {x}

    with MemoryStore(codec=JsonCodec()) as store, pytest.raises(StepFailed) as info:
        virtual(lambda: wf.compile().run({"x": 1}, store=store))
    assert isinstance(info.value.__cause__, SerializationError)


def test_a_step_marked_durable_false_is_computed_again_on_resume(store: Store) -> None:
    log = Flaky()
    wf = Workflow("nd")

    @wf.step(durable=False)
    async def handle(path: str) -> Any:
        log.hit("handle")
        return lambda: path  # could not be stored

    @wf.step
    async def size(handle: Any) -> int:
        log.hit("size")
        return len(handle())

    @wf.step
    async def report(size: int) -> str:
        log.hit("report")
        return f"{size} bytes"

    plan = wf.compile()
    log.failing.add("report")
    with pytest.raises(StepFailed):
        virtual(lambda: plan.run({"path": "abc"}, store=store, run_id="r"))
    log.failing.clear()
    log.calls.clear()
    result = virtual(lambda: plan.resume("r", store=store))
    assert result["report"] == "3 bytes"
    assert log.calls == ["handle", "report"]  # size was restored
    assert "handle" not in {r.step for r in store.steps("r")}


def test_current_step_gives_a_key_stable_across_resumes(store: Store) -> None:
    keys = Flaky()  # (closing over a list would read as an edit of the steps)
    log = Flaky()
    log.failing.add("pay")
    wf = Workflow("keys")
    body = Workflow("body")

    @body.step
    async def charge(amount: int) -> int:
        keys.calls.append(current_step().key)
        return amount

    @wf.step
    async def pay(amount: int) -> int:
        step = current_step()
        keys.calls.append(step.key)
        assert (step.run_id, step.scope, step.step, step.item) == ("o-1", (), "pay", None)
        log.hit("pay")  # the payment service times out the first time
        return amount

    wf.add(body, name="billing", writes=("charge",))
    plan = wf.compile()
    with pytest.raises(StepFailed):
        virtual(lambda: plan.run({"amount": 5}, store=store, run_id="o-1"))
    log.failing.clear()
    virtual(lambda: plan.resume("o-1", store=store))
    assert sorted(keys.calls) == ["o-1/billing/charge", "o-1/pay", "o-1/pay"]


def test_a_join_any_step_that_had_started_is_called_again_with_its_first_arguments(
        store: Store) -> None:
    log = Flaky()
    log.failing.add("first")
    wf = Workflow("race")

    @wf.step
    async def fast(q: str) -> str:
        await trio.sleep(1)
        return "fast"

    @wf.step
    async def slow(q: str) -> str:
        await trio.sleep(3)
        return "slow"

    @wf.step(join=Join.ANY)
    async def first(fast: str = "-", slow: str = "-") -> str:
        await trio.sleep(5)  # slow arrives meanwhile
        log.hit("first")
        return fast + slow

    plan = wf.compile()
    with pytest.raises(StepFailed):
        virtual(lambda: plan.run({"q": "?"}, store=store, run_id="r"))
    assert {r.step: r.status for r in store.steps("r")} == {
        "fast": "finished", "slow": "finished", "first": "failed"}
    log.failing.clear()
    result = virtual(lambda: plan.resume("r", store=store))
    # 'first' failed after it started: it has no 'started' record left, so it is called
    # with both arrivals; a run killed while it ran keeps its first arguments (below).
    assert result["first"] == "fastslow"


def test_a_join_any_winner_survives_a_kill_while_the_join_ran(tmp_path: Path) -> None:
    log = Flaky()
    wf = Workflow("race")

    @wf.step
    async def fast(q: str) -> str:
        await trio.sleep(1)
        return "fast"

    @wf.step
    async def slow(q: str) -> str:
        await trio.sleep(3)
        return "slow"

    @wf.step(join=Join.ANY)
    async def first(fast: str = "-", slow: str = "-") -> str:
        log.hit(f"first({fast}, {slow})")
        await trio.sleep(5)
        return fast + slow

    plan = wf.compile()
    path = tmp_path / "runs.sqlite"

    async def killed() -> None:  # a kill at t=4: slow recorded, first in flight
        with SqliteStore(path) as store, trio.move_on_after(4):
            await plan.run({"q": "?"}, store=store, run_id="r")

    virtual(killed)
    with SqliteStore(path) as store:
        assert {r.step: r.status for r in store.steps("r")} == {
            "fast": "finished", "slow": "finished", "first": "started"}
        result = virtual(lambda: plan.resume("r", store=store))
    assert log.calls == ["first(fast, -)", "first(fast, -)"]
    assert result["first"] == "fast-"


def test_a_loop_resumes_at_its_first_unrecorded_pass(store: Store) -> None:
    log = Flaky()
    log.failing.add("inc 3")
    body = Workflow("body")

    @body.step
    async def inc(n: int) -> int:
        log.hit(f"inc {n}")
        return n + 1

    wf = Workflow("loop")
    wf.add(body, name="refine", writes=("inc",),
           repeat=Repeat(until=lambda inc: inc >= 5, max_iterations=10, carry={"inc": "n"}))
    plan = wf.compile()
    with pytest.raises(StepFailed):
        virtual(lambda: plan.run({"n": 0}, store=store, run_id="r"))
    assert log.calls == ["inc 0", "inc 1", "inc 2", "inc 3"]
    log.failing.clear()
    log.calls.clear()
    result = virtual(lambda: plan.resume("r", store=store))
    assert result["inc"] == 5
    assert log.calls == ["inc 3", "inc 4"]  # passes 1-3 restored from their records


def test_resuming_an_unknown_run_lists_the_runs_held(store: Store) -> None:
    plan = diamond(Flaky()).compile()
    virtual(lambda: plan.run({"url": "a"}, store=store, run_id="known"))
    with pytest.raises(ResumeError, match=r"no run 'nope' in the store .*'known'"):
        virtual(lambda: plan.resume("nope", store=store))


def test_a_mapped_step_resumes_at_its_unrecorded_elements(store: Store) -> None:
    log = Flaky()
    log.failing.add("page 2")
    wf = Workflow("pages")

    @wf.step
    async def urls(n: int) -> list[int]:
        return list(range(n))

    @wf.step(map="urls")
    async def page(urls: int) -> str:
        await trio.sleep(1 + urls)  # element i returns at i + 1 s
        log.hit(f"page {urls}")
        assert current_step().item == urls
        return f"<p{urls}>"

    plan = wf.compile()
    with pytest.raises(StepFailed) as info:
        virtual(lambda: plan.run({"n": 4}, store=store, run_id="r"))
    assert info.value.item == 2
    assert {(r.step, r.item) for r in store.steps("r") if r.status == "finished"} == {
        ("urls", None), ("page", 0), ("page", 1)}
    log.failing.clear()
    log.calls.clear()
    result = virtual(lambda: plan.resume("r", store=store))
    assert result["page"] == ["<p0>", "<p1>", "<p2>", "<p3>"]
    assert sorted(log.calls) == ["page 2", "page 3"]  # 0 and 1 restored
    assert sorted((e.step, e.item) for e in result.events_of(events.StepRestored)) == [
        ("page", 0), ("page", 1), ("urls", None)]
    assert result.duration == 4.0  # element 3 takes 4 s, from the start of the resume


def test_a_sub_workflow_resumes_inside_restoring_its_recorded_steps(store: Store) -> None:
    log = Flaky()
    log.failing.add("check")
    body = Workflow("review")

    @body.step
    async def read(doc: str) -> str:
        log.hit("read")
        await trio.sleep(1)
        return doc.title()

    @body.step
    async def check(read: str) -> bool:
        log.hit("check")
        return read.istitle()

    wf = Workflow("outer")
    wf.add(body, name="review", writes=("check",))

    @wf.step
    async def verdict(check: bool) -> str:
        return "ok" if check else "no"

    plan = wf.compile()
    with pytest.raises(StepFailed):
        virtual(lambda: plan.run({"doc": "a tale"}, store=store, run_id="r"))
    assert [(r.scope, r.step, r.status) for r in store.steps("r")] == [
        (("review",), "read", "finished"), (("review",), "check", "failed"),
        ((), "review", "failed")]
    log.failing.clear()
    log.calls.clear()
    result = virtual(lambda: plan.resume("r", store=store))
    assert result["verdict"] == "ok"
    assert log.calls == ["check"]
    assert [(e.scope, e.step) for e in result.events_of(events.StepRestored)] == [
        (("review",), "read")]


def test_a_recorded_step_released_by_a_skip_is_restored_under_a_tight_limit(
        store: Store) -> None:
    log = Flaky()
    log.failing.add("last")
    wf = Workflow("skips")

    @wf.step
    async def first(x: int) -> int:
        return x

    @wf.step(when=lambda first: first > 100)
    async def never(first: int) -> int:
        return first

    @wf.step(join=Join.ALL)
    async def middle(first: int, never: int = 0) -> int:
        log.hit("middle")
        return first + never

    @wf.step
    async def other(first: int) -> int:
        log.hit("other")
        await trio.sleep(1)
        return first

    @wf.step(join=Join.ALL)
    async def last(middle: int, other: int) -> int:
        log.hit("last")
        return middle + other

    plan = wf.compile()
    with pytest.raises(StepFailed):
        virtual(lambda: plan.run({"x": 1}, store=store, run_id="r", max_concurrency=1))
    log.failing.clear()
    log.calls.clear()
    result = virtual(lambda: plan.resume("r", store=store, max_concurrency=1))
    assert result["last"] == 2
    assert log.calls == ["last"]


def test_current_step_counts_the_attempts_of_a_retried_call(store: Store) -> None:
    seen: list[tuple[int, str]] = []

    @step(retry=Retry(attempts=3, backoff=1.0))
    async def charge(amount: int) -> int:
        now = current_step()
        seen.append((now.attempt, now.key))
        if now.attempt < 3:
            raise ConnectionError("the payment service is busy")
        return amount

    plan = Workflow("pay", steps=[charge]).compile()
    result = virtual(lambda: plan.run({"amount": 5}, store=store, run_id="o-2"))
    assert result["charge"] == 5
    assert seen == [(1, "o-2/charge"), (2, "o-2/charge"), (3, "o-2/charge")]
