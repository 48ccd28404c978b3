"""Conditions, skips, sub-workflows, loops, retries and timeouts, on a mock clock.

The join-correctness suite: for each shape the join step runs exactly once (or is
skipped, where that is right), never early, and the run ends.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio
import trio.testing

from spectra_dsl import (
    CompileError,
    Join,
    LoopLimitExceeded,
    Repeat,
    Retry,
    RunResult,
    StepFailed,
    StepTimeout,
    Workflow,
    events,
    match,
    reducers,
)
from tests.helpers import skipped_steps


def ran(result: RunResult) -> list[str]:
    return sorted(e.step for e in result.events_of(events.StepFinished) if not e.scope)


def router(calls: list[tuple[str, float]]) -> Workflow:
    wf = Workflow("router")

    @wf.step
    async def classify(ticket: str) -> str:
        await trio.sleep(1)
        return "urgent" if ticket.endswith("!") else "normal"

    @wf.step(when=match(classify="urgent"))
    async def page(ticket: str) -> str:
        await trio.sleep(2)
        return "paged"

    @wf.step(when=match(classify="normal"))
    async def page_later(ticket: str) -> str:
        await trio.sleep(7)
        return "queued"

    @wf.step(join=Join.ALL)
    async def notify(page: str | None = None, page_later: str | None = None) -> str:
        calls.append(("notify", trio.current_time()))
        return page or page_later or "nothing"

    return wf


@pytest.mark.parametrize(
    ("ticket", "outcome", "at", "skips"),
    [("down!", "paged", 3, "page_later"), ("question", "queued", 8, "page")],
)
async def test_a_router_choosing_one_of_two_branches_before_join_all(
    autojump_clock: trio.testing.MockClock, ticket: str, outcome: str, at: float, skips: str
) -> None:
    calls: list[tuple[str, float]] = []
    result = await router(calls).compile().run({"ticket": ticket})
    assert calls == [("notify", at)]
    assert result["notify"] == outcome
    assert set(skipped_steps(result)) == {skips}
    assert skipped_steps(result)[skips] == "its when= guard does not hold"
    (released,) = result.events_of(events.JoinReleased)
    assert released.skipped == (skips,) and released.pending == ()


async def test_exclusive_writers_of_one_key_need_no_reducer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("one-of-three")

    @wf.step
    async def route(n: int) -> str:
        return ["a", "b", "c"][n]

    for label, delay in (("a", 1), ("b", 2), ("c", 3)):
        def make(label: str = label, delay: int = delay) -> None:
            @wf.step(name=f"handle_{label}", writes="answer", when=match(route=label))
            async def handle() -> str:
                await trio.sleep(delay)
                return label.upper()
        make()

    @wf.step(join=Join.ALL)
    async def reply(answer: str) -> str:
        return f"answer {answer}"

    plan = wf.compile()  # no SPX201: the three writers exclude one another
    assert plan.diagnostics == ()
    for n, expected in enumerate(["answer A", "answer B", "answer C"]):
        result = await plan.run({"n": n})
        assert result["reply"] == expected
        assert result.duration == n + 1
        assert len(skipped_steps(result)) == 2


async def test_nested_conditions(autojump_clock: trio.testing.MockClock) -> None:
    wf = Workflow("nested")

    @wf.step
    async def kind(order: dict[str, object]) -> str:
        return str(order["kind"])

    @wf.step(when=match(kind="physical"))
    async def region(order: dict[str, object]) -> str:
        return str(order["region"])

    @wf.step(when=match(region="eu"))
    async def vat(order: dict[str, object]) -> float:
        await trio.sleep(1)
        return 0.2

    @wf.step(join=Join.ALL)
    async def total(order: dict[str, object], vat: float = 0.0,
                    region: str = "digital") -> str:
        return f"{region}:{float(order['price']) * (1 + vat):g}"  # type: ignore[arg-type]

    plan = wf.compile()
    eu = await plan.run({"order": {"kind": "physical", "region": "eu", "price": 10}})
    assert eu["total"] == "eu:12"
    us = await plan.run({"order": {"kind": "physical", "region": "us", "price": 10}})
    assert us["total"] == "us:10" and set(skipped_steps(us)) == {"vat"}
    digital = await plan.run({"order": {"kind": "ebook", "price": 10}})
    assert digital["total"] == "digital:10"
    # 'vat' is skipped because the key its guard reads was never written.
    assert set(skipped_steps(digital)) == {"region", "vat"}


async def test_a_skipped_branch_of_depth_three_before_a_join(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("deep-skip")
    calls: list[float] = []

    @wf.step
    async def start(flag: bool) -> bool:
        return flag

    @wf.step(when=lambda start: start)
    async def d1(start: bool) -> int:
        await trio.sleep(1)
        return 1

    @wf.step
    async def d2(d1: int) -> int:
        await trio.sleep(1)
        return d1 + 1

    @wf.step
    async def d3(d2: int) -> int:
        await trio.sleep(1)
        return d2 + 1

    @wf.step
    async def other(start: bool) -> int:
        await trio.sleep(5)
        return 10

    @wf.step(join=Join.ALL)
    async def join(other: int, d3: int = 0) -> int:
        calls.append(trio.current_time())
        return other + d3

    plan = wf.compile()
    off = await plan.run({"flag": False})
    assert calls == [5] and off["join"] == 10 and off.duration == 5
    reasons = skipped_steps(off)
    assert reasons["d1"] == "its when= guard does not hold"
    assert reasons["d2"].startswith("required input 'd1' was never written")
    assert reasons["d3"].startswith("required input 'd2' was never written")
    on = await plan.run({"flag": True})
    assert calls == [5, 10] and on["join"] == 13 and on.intervals()["join"] == (10, 10)


async def test_a_fan_out_whose_every_branch_is_skipped_steps(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("all-skipped", reducers={"found": reducers.append})

    @wf.step
    async def items(count: int) -> int:
        return count

    def more_than(i: int) -> Callable[[int], bool]:
        return lambda items: items > i

    for i in range(3):
        def make(i: int = i) -> None:
            @wf.step(name=f"check{i}", writes="found", when=more_than(i))
            async def check() -> int:
                await trio.sleep(i + 1)
                return i
        make()

    @wf.step(join=Join.ALL)
    async def summary(found: list[int] | None = None) -> str:
        return f"{found} at {trio.current_time():g}"

    @wf.step(join=Join.ALL)
    async def needs_one(found: list[int]) -> str:
        return "ran"

    @wf.step(join=Join.ANY)
    async def first(found: list[int] | None = None) -> str:
        return f"first {found}"

    plan = wf.compile()
    none = await plan.run({"count": 0})
    assert none["summary"] == "None at 0"  # runs once, at once, with its default
    assert {"needs_one", "first"} <= set(skipped_steps(none))
    assert skipped_steps(none)["first"] == "every branch of its Join.ANY was skipped"
    assert "needs_one" not in none and "first" not in none
    two = await plan.run({"count": 2})
    assert two["summary"] == "[0, 1] at 2"  # after the slower branch, 2 s later
    assert two["needs_one"] == "ran"
    assert two["first"] == "first [0]"


async def test_a_guard_reading_an_unwritten_key_does_not_hold(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("unwritten")

    @wf.step(when=match(go=True))
    async def maybe(x: int) -> int:
        return x

    @wf.step(when=lambda maybe: maybe > 0)
    async def after(maybe: int = 0) -> str:
        return "after"

    result = await wf.compile().run({"x": 1, "go": False})
    assert set(skipped_steps(result)) == {"maybe", "after"}


def body_with_join(passes: list[float]) -> Workflow:
    body = Workflow("body")

    @body.step
    async def left(value: int) -> int:
        await trio.sleep(1)
        return value + 1

    @body.step
    async def right(value: int) -> int:
        await trio.sleep(2)
        return value + 2

    @body.step(join=Join.ALL)
    async def combine(left: int, right: int) -> int:
        passes.append(trio.current_time())
        return left + right

    return body


async def test_a_join_inside_a_loop_body_fires_once_per_pass(
    autojump_clock: trio.testing.MockClock,
) -> None:
    passes: list[float] = []
    wf = Workflow("loop")
    wf.add(body_with_join(passes), name="grow", writes={"combine": "result"},
           repeat=Repeat(until=lambda combine: combine > 20, max_iterations=10,
                         carry={"combine": "value"}))
    result = await wf.compile().run({"value": 1})
    # 1 -> 5 -> 13 -> 29: three passes of two seconds each.
    assert passes == [2, 4, 6]
    assert result["result"] == 29
    iterations = [e.iteration for e in result.events_of(events.LoopIteration)]
    assert iterations == [1, 2, 3]
    scopes = {e.scope for e in result.events_of(events.JoinReleased)}
    assert scopes == {("grow#1",), ("grow#2",), ("grow#3",)}


async def test_a_sub_workflow_inside_a_skipped_branch_never_runs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    passes: list[float] = []
    wf = Workflow("skip-sub")

    @wf.step
    async def decide(enabled: bool) -> bool:
        return enabled

    wf.add(body_with_join(passes), name="inner", writes={"combine": "value_out"},
           when=match(decide=True))

    @wf.step(join=Join.ALL)
    async def report(decide: bool, value_out: int = -1) -> int:
        return value_out

    plan = wf.compile()
    off = await plan.run({"enabled": False, "value": 1})
    assert off["report"] == -1 and passes == []
    assert set(skipped_steps(off)) == {"inner"}
    on = await plan.run({"enabled": True, "value": 1})
    assert on["report"] == 5 and passes == [2]


async def test_a_sub_workflow_runs_under_the_outer_limit_with_nested_events(
    autojump_clock: trio.testing.MockClock,
) -> None:
    inner = Workflow("inner")
    for i in range(4):
        def make(i: int = i) -> None:
            @inner.step(name=f"job{i}")
            async def job(seed: int) -> int:
                await trio.sleep(1)
                return seed + i
        make()
    outer = Workflow("outer")

    @outer.step
    async def seed() -> int:
        return 10

    outer.add(inner, name="jobs")

    @outer.step
    async def side() -> int:
        await trio.sleep(1)
        return 0

    result = await outer.compile().run(max_concurrency=2)
    # Five one-second steps, two at a time: the sub-workflow shares the limit.
    assert result.duration == 3
    assert result.peak_concurrency == 2
    assert result["jobs"] == {"seed": 10, "job0": 10, "job1": 11, "job2": 12, "job3": 13}
    nested = {e.step for e in result.events_of(events.StepFinished) if e.scope == ("jobs",)}
    assert nested == {"job0", "job1", "job2", "job3"}


def test_a_mistake_inside_a_sub_workflow_is_reported_with_its_location() -> None:
    inner = Workflow("inner")

    @inner.step
    async def a() -> int:
        return 1

    @inner.step
    async def b() -> int:
        return 2

    @inner.step
    async def both(a: int, b: int) -> int:
        return a + b

    outer = Workflow("outer")
    outer.add(inner, name="sub")
    with pytest.raises(CompileError) as info:
        outer.compile()
    (error,) = info.value.errors
    assert error.code == "SPX101"
    assert error.message.startswith("in sub-workflow 'sub': step 'both'")
    assert error.location is not None
    assert error.location.line == both.__code__.co_firstlineno + 1  # the def, not @


def refine_loop(limit: int, until_score: int, on_limit: str = "raise") -> Workflow:
    body = Workflow("refine")

    @body.step
    async def revise(draft: str) -> str:
        await trio.sleep(1)
        return draft + "+"

    @body.step
    def score(revise: str) -> int:
        return revise.count("+")

    wf = Workflow("writer")

    @wf.step
    async def draft(topic: str) -> str:
        return topic

    wf.add(body, name="improve", writes={"revise": "final", "score": "final_score"},
           repeat=Repeat(until=lambda score: score >= until_score, max_iterations=limit,
                         carry={"revise": "draft"}, on_limit=on_limit))  # type: ignore[arg-type]
    return wf


async def test_a_refine_until_good_loop_ends_at_the_right_pass(
    autojump_clock: trio.testing.MockClock,
) -> None:
    result = await refine_loop(limit=10, until_score=3).compile().run({"topic": "t"})
    assert result["final"] == "t+++"  # carried from pass to pass
    assert result["final_score"] == 3
    assert result.duration == 3
    assert len(result.events_of(events.LoopIteration)) == 3


async def test_a_loop_that_never_satisfies_until_stops_at_its_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with pytest.raises(LoopLimitExceeded) as info:
        await refine_loop(limit=4, until_score=99).compile().run({"topic": "t"})
    error = info.value
    assert isinstance(error, StepFailed)
    assert error.step == "improve" and error.iterations == 4
    assert error.last_state["revise"] == "t++++"
    assert "max_iterations" in str(error)
    assert trio.current_time() == 4


async def test_on_limit_stop_returns_the_last_pass(
    autojump_clock: trio.testing.MockClock,
) -> None:
    result = await refine_loop(limit=4, until_score=99, on_limit="stop").compile().run(
        {"topic": "t"}
    )
    assert result["final"] == "t++++"


async def test_a_step_failing_twice_then_succeeding_takes_exactly_the_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("retry")
    attempts: list[float] = []

    @wf.step(retry=Retry(attempts=3, backoff=1.5, factor=2.0))
    async def call(x: int) -> int:
        attempts.append(trio.current_time())
        await trio.sleep(0.25)
        if len(attempts) < 3:
            raise ConnectionError("service down")
        return x

    result = await wf.compile().run({"x": 7})
    # Tries at 0, then after 0.25 s of work and 1.5 s, then 0.25 s and 3 s.
    assert attempts == [0, 1.75, 5.0]
    assert result["call"] == 7 and result.duration == 5.25
    waits = [(e.attempt, e.delay) for e in result.events_of(events.RetryAttempt)]
    assert waits == [(2, 1.5), (3, 3.0)]


async def test_an_exception_not_in_on_is_not_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("no-retry")
    attempts: list[float] = []

    @wf.step(retry=Retry(attempts=5, on=(ConnectionError,)))
    async def call() -> int:
        attempts.append(trio.current_time())
        raise ValueError("bad request")

    with pytest.raises(StepFailed) as info:
        await wf.compile().run()
    assert attempts == [0]
    assert isinstance(info.value.__cause__, ValueError)


async def test_a_timeout_is_retried_then_fails_naming_the_step_and_the_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("timeout")
    attempts: list[float] = []

    @wf.step(retry=Retry(attempts=2, backoff=1), timeout=3)
    async def hang() -> int:
        attempts.append(trio.current_time())
        await trio.sleep(100)
        return 1  # pragma: no cover

    seen: list[events.Event] = []
    with pytest.raises(StepFailed) as info:
        await wf.compile().run(on_event=seen.append)
    assert attempts == [0, 4]
    assert trio.current_time() == 7
    assert info.value.step == "hang"
    cause = info.value.__cause__
    assert isinstance(cause, StepTimeout) and cause.timeout == 3 and cause.attempt == 2
    assert "step 'hang' failed: StepTimeout: step 'hang' attempt 2 took longer" in str(info.value)
    assert [e.attempt for e in seen if isinstance(e, events.StepTimedOut)] == [1, 2]


async def test_a_cancelled_run_never_retries(autojump_clock: trio.testing.MockClock) -> None:
    wf = Workflow("cancel")
    attempts: list[float] = []

    @wf.step(retry=Retry(attempts=5, backoff=0))
    async def slow() -> int:
        attempts.append(trio.current_time())
        await trio.sleep(10)
        return 1  # pragma: no cover

    with trio.move_on_after(2):
        await wf.compile().run()
    assert attempts == [0]


def test_control_flow_diagnostics() -> None:
    body = Workflow("body")

    @body.step
    async def work(x: int) -> int:
        return x

    wf = Workflow("bad")

    @wf.step
    async def route() -> str:
        return "a"

    @wf.step(when=match(route="a"))
    async def left() -> int:
        return 1

    @wf.step(when=match(route="b"))
    async def right() -> int:
        return 2

    @wf.step(join=Join.ALL)
    async def both(left: int, right: int) -> int:
        return left + right

    @wf.step(retry=Retry(attempts=0, backoff=-1), timeout=0)
    async def flaky() -> int:
        return 1

    wf.add(body, name="unbounded", writes={"work": "w1"}, repeat=Repeat(until=lambda work: True))
    wf.add(body, name="never", writes={"work": "w2"},
           repeat=Repeat(until=lambda missing: True, max_iterations=3))
    codes = sorted((d.code, d.steps[0]) for d in wf.check())
    assert codes == [
        ("SPX104", "both"),
        ("SPX401", "unbounded"),
        ("SPX402", "never"),
        ("SPX403", "flaky"),
        ("SPX403", "flaky"),
        ("SPX403", "flaky"),
    ]


def test_a_cycle_written_with_parameter_names_points_to_repeat() -> None:
    wf = Workflow("cyclic")

    @wf.step
    async def draft(critique: str = "") -> str:
        return "d"

    @wf.step
    async def critique(draft: str) -> str:
        return "c"

    with pytest.raises(CompileError) as info:
        wf.compile()
    (error,) = info.value.errors
    assert error.code == "SPX002"
    assert "Repeat" in error.message and "draft -> critique -> draft" in error.message


async def test_a_failure_inside_a_sub_workflow_names_both_steps(
    autojump_clock: trio.testing.MockClock,
) -> None:
    inner = Workflow("inner")
    cleanups: list[str] = []

    @inner.step
    async def boom(x: int) -> int:
        await trio.sleep(1)
        raise ValueError("inner broke")

    @inner.step
    async def slow(x: int) -> int:
        try:
            await trio.sleep(10)
        finally:
            cleanups.append("slow")
        return x  # pragma: no cover

    outer = Workflow("outer")

    @outer.step
    async def x() -> int:
        return 1

    outer.add(inner, name="sub")

    @outer.step
    async def sibling() -> int:
        try:
            await trio.sleep(10)
        finally:
            cleanups.append("sibling")
        return 0  # pragma: no cover

    with pytest.raises(StepFailed) as info:
        await outer.compile().run()
    assert info.value.step == "sub"
    inner_failure = info.value.__cause__
    assert isinstance(inner_failure, StepFailed) and inner_failure.step == "boom"
    assert isinstance(inner_failure.__cause__, ValueError)
    assert str(info.value) == (
        "step 'sub' failed: StepFailed: step 'boom' failed: ValueError: inner broke"
    )
    assert sorted(cleanups) == ["sibling", "slow"]
    assert trio.current_time() == 1


def test_a_workflow_cannot_contain_itself() -> None:
    a = Workflow("a")
    b = Workflow("b")

    @b.step
    async def work(x: int) -> int:
        return x

    a.add(b, name="inner")
    with pytest.raises(ValueError, match="would make 'b' contain itself"):
        b.add(a, name="outer")
    with pytest.raises(ValueError, match="use repeat=Repeat"):
        a.add(a, name="again")
