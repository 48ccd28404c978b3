"""Adversarial tests of the runner: cancellation, slots, priorities, sub-workflows,
loops, retries, timeouts and events.  Strict xfails pin down bugs still open; the
other tests pin down tricky cases that work.  Every run is on a MockClock and bounded
by ``trio.fail_after``, so a hang fails fast instead of stalling the suite."""

from __future__ import annotations

import collections
import sys
import threading
from typing import Any, ClassVar

import attrs
import pytest
import trio
import trio.testing

import spectra_dsl._plan
from spectra_dsl import (
    EventHandlerError,
    Join,
    LoopLimitExceeded,
    Repeat,
    Retry,
    RunResult,
    StepFailed,
    StepTimeout,
    Workflow,
    events,
    reducers,
)
from spectra_dsl._result import event_scope
from spectra_dsl._slots import Slots
from tests.helpers import HANG
from tests.helpers import run_virtual as run

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import ExceptionGroup

#: Virtual seconds after which a run counts as hung.


class SpySlots(Slots):
    """Slots that remember themselves, so a test can read ``in_flight`` after a run."""

    made: ClassVar[list[SpySlots]] = []

    def __init__(self, limit: int | None) -> None:
        super().__init__(limit)
        SpySlots.made.append(self)


@pytest.fixture
def slots(monkeypatch: pytest.MonkeyPatch) -> list[SpySlots]:
    """Every :class:`Slots` made by ``plan.run`` during the test."""
    made: list[SpySlots] = []
    monkeypatch.setattr(SpySlots, "made", made)
    monkeypatch.setattr(spectra_dsl._plan, "Slots", SpySlots)
    return made


def sleeper(wf: Workflow, name: str, reads: tuple[str, ...], seconds: float = 1.0) -> None:
    """Add an async step ``name`` reading ``reads`` that sleeps, then returns 1."""
    async def fn(**kwargs: int) -> int:
        await trio.sleep(seconds)
        return 1

    params = ", ".join(f"{r}: int" for r in reads)
    namespace: dict[str, Any] = {"fn": fn}
    exec(f"async def {name}({params}) -> int:\n    return await fn()", namespace)
    wf.step(namespace[name])


def started_at(result: RunResult, scope: tuple[str, ...] | None = None) -> dict[str, float]:
    return {e.step: e.time for e in result.events_of(events.StepStarted)
            if scope is None or e.scope == scope}


# -- bugs -------------------------------------------------------------------------------


def test_a_step_raising_an_exception_group_fails_the_run_with_step_failed(
    slots: list[SpySlots],
) -> None:
    wf = Workflow("group")

    @wf.step
    async def fans_out(x: int) -> int:
        async def broken() -> None:
            await trio.sleep(1)
            raise ValueError("inner task broke")

        async with trio.open_nursery() as nursery:  # strict groups: raises ExceptionGroup
            nursery.start_soon(broken)
        return x  # pragma: no cover

    @wf.step
    async def other(x: int) -> int:
        await trio.sleep(5)
        return x  # pragma: no cover

    seen: list[events.Event] = []
    with pytest.raises(StepFailed) as info:
        run(wf, {"x": 1}, max_concurrency=2, on_event=seen.append)
    assert info.value.step == "fans_out"
    assert isinstance(info.value.__cause__, ExceptionGroup)
    assert [e.step for e in seen if isinstance(e, events.StepError)] == ["fans_out"]
    assert slots[0].in_flight == 0


def test_a_cancelled_step_with_its_own_nursery_gives_back_its_slot(
    slots: list[SpySlots],
) -> None:
    wf = Workflow("nursery-step")

    @wf.step
    async def pair(x: int) -> int:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.sleep, 10)
            nursery.start_soon(trio.sleep, 10)
        return x  # pragma: no cover

    @wf.step
    async def boom(x: int) -> int:
        await trio.sleep(1)
        raise ValueError("boom")

    with pytest.raises(StepFailed) as info:
        run(wf, {"x": 1}, max_concurrency=3)
    assert info.value.step == "boom"
    assert slots[0].in_flight == 0


def test_an_outer_cancellation_never_starts_a_queued_step() -> None:
    ran: list[str] = []
    wf = Workflow("cancelled")

    @wf.step
    async def holder() -> int:
        await trio.sleep(10)
        return 1  # pragma: no cover

    @wf.step
    async def queued() -> int:
        ran.append("queued")  # a side effect before the first checkpoint
        await trio.sleep(1)
        return 1  # pragma: no cover

    seen: list[events.Event] = []
    plan = wf.compile()

    async def main() -> bool:
        with trio.move_on_after(3) as scope:
            await plan.run(max_concurrency=1, on_event=seen.append)
        return scope.cancelled_caught

    assert trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert ran == []
    assert [e.step for e in seen if isinstance(e, events.StepStarted)] == ["holder"]


def test_an_outer_cancellation_with_a_subworkflow_step_waiting_for_a_slot() -> None:
    ran: list[str] = []
    inner = Workflow("inner")

    @inner.step
    async def waiting(x: int) -> int:
        ran.append("waiting")
        await trio.sleep(1)
        return x  # pragma: no cover

    wf = Workflow("outer")

    @wf.step
    async def holder(x: int) -> int:
        await trio.sleep(10)
        return x  # pragma: no cover

    wf.add(inner, name="sub")
    plan = wf.compile()

    async def main() -> bool:
        with trio.move_on_after(3) as scope:
            await plan.run({"x": 1}, max_concurrency=1)
        return scope.cancelled_caught

    # Trio picks the order the two cancelled tasks run in at random: try both orders.
    outcomes: set[str] = set()
    for _ in range(12):
        ran.clear()
        try:
            caught = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
        except BaseException as error:  # what escaped is the finding
            outcomes.add(type(error).__name__)
        else:
            outcomes.add(f"caught={caught} ran={ran}")
    assert outcomes == {"caught=True ran=[]"}


def test_inner_steps_wait_by_their_whole_remaining_path() -> None:
    inner = Workflow("inner")
    sleeper(inner, "a", ("x",))
    wf = Workflow("priority")
    wf.add(inner, name="sub", writes=("a",))
    sleeper(wf, "s2", ("a",))
    sleeper(wf, "s3", ("s2",))  # a's remaining path: a, s2, s3
    sleeper(wf, "p1", ("x",))
    sleeper(wf, "p2", ("p1",))
    sleeper(wf, "r1", ("x",))
    sleeper(wf, "r2", ("r1",))  # r1's remaining path: r1, r2
    result = run(wf, {"x": 1}, max_concurrency=1)
    assert result.duration == 7.0
    started = started_at(result)
    # Today: p1 at 0, r1 at 1, a only at 2 (its priority is 1, r1's is 2).
    assert started["a"] < started["r1"]


def test_a_subworkflow_on_the_critical_path_gets_the_free_slot_first() -> None:
    inner = Workflow("inner")
    sleeper(inner, "a", ("g",))
    wf = Workflow("critical")
    sleeper(wf, "g", ())
    wf.add(inner, name="sub", writes=("a",))
    sleeper(wf, "s2", ("a",))
    sleeper(wf, "s3", ("s2",))
    for name in ("p1", "p2", "p3"):
        sleeper(wf, name, ("g",))
    result = run(wf, max_concurrency=2)
    # Longest remaining path first: g; a+p1; s2+p2; s3+p3.
    assert result.duration == 4.0


def test_an_inner_loop_limit_is_not_taken_for_an_outer_step_of_the_same_name() -> None:
    body = Workflow("body")

    @body.step
    async def inc(n: int) -> int:
        await trio.sleep(1)
        return n + 1

    mid = Workflow("mid")
    mid.add(body, name="refine", writes=("inc",),
            repeat=Repeat(until=lambda inc: inc > 100, max_iterations=2, carry={"inc": "n"}))
    wf = Workflow("outer")
    wf.add(mid, name="refine", writes=("inc",))  # no loop here: a plain sub-workflow

    with pytest.raises(StepFailed) as info:
        run(wf, {"n": 0})
    # As for any other name: StepFailed naming the outer step, caused by the inner loop's.
    assert type(info.value) is StepFailed
    assert info.value.step == "refine"
    assert isinstance(info.value.__cause__, LoopLimitExceeded)
    assert info.value.__cause__.iterations == 2


# -- tricky cases that work -------------------------------------------------------------


def test_a_loop_limit_inside_a_subworkflow_names_both_steps(slots: list[SpySlots]) -> None:
    body = Workflow("body")

    @body.step
    async def inc(n: int) -> int:
        await trio.sleep(1)
        return n + 1

    mid = Workflow("mid")
    mid.add(body, name="lp", writes=("inc",),
            repeat=Repeat(until=lambda inc: inc > 100, max_iterations=3, carry={"inc": "n"}))
    wf = Workflow("outer")
    wf.add(mid, name="sub", writes=("inc",))
    seen: list[events.Event] = []
    with pytest.raises(StepFailed) as info:
        run(wf, {"n": 0}, max_concurrency=1, on_event=seen.append)
    assert type(info.value) is StepFailed
    assert info.value.step == "sub"
    cause = info.value.__cause__
    assert isinstance(cause, LoopLimitExceeded)
    assert (cause.step, cause.iterations, cause.last_state["inc"]) == ("lp", 3, 3)
    loops = [(e.time, e.iteration, e.scope) for e in seen if isinstance(e, events.LoopIteration)]
    assert loops == [(0.0, 1, ("sub",)), (1.0, 2, ("sub",)), (2.0, 3, ("sub",))]
    failed = [(e.step, e.scope, e.time) for e in seen if isinstance(e, events.WorkflowFailed)]
    assert failed == [("lp", ("sub",), 3.0), ("sub", (), 3.0)]
    assert slots[0].in_flight == 0


def test_on_event_raising_inside_a_subworkflow_stops_everything(
    slots: list[SpySlots],
) -> None:
    started: list[str] = []
    inner = Workflow("inner")

    @inner.step
    async def i1(x: int) -> int:
        await trio.sleep(1)
        return x

    @inner.step
    async def i2(i1: int) -> int:
        started.append("i2")  # pragma: no cover
        return i1  # pragma: no cover

    wf = Workflow("outer")
    wf.add(inner, name="sub")

    @wf.step
    async def busy(x: int) -> int:
        await trio.sleep(5)
        return x  # pragma: no cover

    def callback(event: events.Event) -> None:
        if isinstance(event, events.StepFinished) and event.scope == ("sub",):
            raise RuntimeError("callback broke")

    seen: list[events.Event] = []

    def record(event: events.Event) -> None:
        seen.append(event)
        callback(event)

    with pytest.raises(EventHandlerError) as info:
        run(wf, {"x": 1}, max_concurrency=2, on_event=record)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert isinstance(info.value.event, events.StepFinished)
    assert (info.value.event.step, info.value.event.scope) == ("i1", ("sub",))
    assert started == []
    cancelled = {(e.step, e.scope, e.time) for e in seen if isinstance(e, events.StepCancelled)}
    assert cancelled == {("busy", (), 1.0)}
    assert slots[0].in_flight == 0


def test_a_guard_raising_inside_a_subworkflow_while_the_outer_skips() -> None:
    inner = Workflow("inner")

    @inner.step
    async def i0(x: int) -> int:
        await trio.sleep(1)
        return x

    @inner.step(when=lambda i0: 1 / 0 > 0)
    async def i1(i0: int) -> int:
        return i0  # pragma: no cover

    wf = Workflow("outer")
    wf.add(inner, name="sub")

    @wf.step(when=lambda x: x > 5)
    async def never(x: int) -> int:
        return x  # pragma: no cover

    @wf.step
    async def after(never: int) -> int:
        return never  # pragma: no cover

    @wf.step
    async def slow(x: int) -> int:
        await trio.sleep(10)
        return x  # pragma: no cover

    seen: list[events.Event] = []
    with pytest.raises(StepFailed) as info:
        run(wf, {"x": 1}, max_concurrency=1, on_event=seen.append)
    assert info.value.step == "sub"
    inner_error = info.value.__cause__
    assert isinstance(inner_error, StepFailed) and inner_error.step == "i1"
    assert isinstance(inner_error.__cause__, ZeroDivisionError)
    skipped = [e.step for e in seen if isinstance(e, events.StepSkipped)]
    assert skipped == ["never", "after"]


def test_keyboard_interrupt_deep_inside_a_loop_propagates_bare(
    slots: list[SpySlots],
) -> None:
    body = Workflow("body")

    @body.step
    async def work(n: int) -> int:
        await trio.sleep(1)
        if n == 2:
            raise KeyboardInterrupt
        return n + 1

    @body.step
    async def side(n: int) -> int:
        await trio.sleep(5)
        return n

    mid = Workflow("mid")
    mid.add(body, name="lp", writes=("work",),
            repeat=Repeat(until=lambda work: work > 10, max_iterations=5, carry={"work": "n"}))
    wf = Workflow("outer")
    wf.add(mid, name="sub")
    with pytest.raises(KeyboardInterrupt):
        run(wf, {"n": 0}, max_concurrency=2)


def test_a_sync_step_abandoned_by_timeouts_keeps_one_slot_and_retries_exactly(
    slots: list[SpySlots],
) -> None:
    release = threading.Event()
    calls: list[int] = []
    wf = Workflow("blocking")

    @wf.step(timeout=1, retry=Retry(attempts=3, backoff=1.0, factor=2.0))
    def blocker(x: int) -> int:
        calls.append(x)
        release.wait(10)
        return x

    @wf.step
    async def waiting(x: int) -> int:
        return x  # pragma: no cover

    seen: list[events.Event] = []
    try:
        with pytest.raises(StepFailed) as info:
            run(wf, {"x": 1}, max_concurrency=1, on_event=seen.append)
    finally:
        release.set()
    assert isinstance(info.value.__cause__, StepTimeout)
    assert info.value.__cause__.attempt == 3
    # How many attempts reached the function is up to the threads: on a mock clock
    # that jumps as soon as trio waits, an attempt can time out before its thread runs.
    assert 1 <= len(calls) <= 3
    timed = [e.time for e in seen if isinstance(e, events.StepTimedOut)]
    assert timed == [1.0, 3.0, 6.0]  # attempts at 0, 2 and 5
    assert [e.step for e in seen if isinstance(e, events.StepStarted)] == ["blocker"]
    assert (slots[0].in_flight, slots[0].peak) == (0, 1)


def test_timeouts_and_retries_of_a_step_inside_a_loop_restart_each_pass() -> None:
    attempts: collections.Counter[int] = collections.Counter()
    body = Workflow("body")

    @body.step(timeout=2.0, retry=Retry(attempts=2, backoff=1.0))
    async def work(n: int) -> int:
        attempts[n] += 1
        if attempts[n] == 1:
            await trio.sleep(5)  # the first attempt of each pass times out
        await trio.sleep(1)
        return n + 1

    wf = Workflow("loop")
    wf.add(body, name="lp", writes=("work",),
           repeat=Repeat(until=lambda work: work >= 2, max_iterations=3, carry={"work": "n"}))
    result = run(wf, {"n": 0}, max_concurrency=1)
    assert result["work"] == 2
    assert result.duration == 8.0  # per pass: 2 s timeout, 1 s wait, 1 s attempt
    timed = [(e.time, e.scope) for e in result.events_of(events.StepTimedOut)]
    assert timed == [(2.0, ("lp#1",)), (6.0, ("lp#2",))]
    retried = [(e.time, e.attempt, e.scope) for e in result.events_of(events.RetryAttempt)]
    assert retried == [(2.0, 2, ("lp#1",)), (6.0, 2, ("lp#2",))]


def test_events_are_the_same_with_and_without_on_event() -> None:
    def build() -> Workflow:
        tries: collections.Counter[int] = collections.Counter()
        body = Workflow("body")

        @body.step(retry=Retry(attempts=2, backoff=0.5), timeout=1.5)
        async def work(n: int) -> int:
            tries[n] += 1
            if tries[n] == 1:
                await trio.sleep(3)
            await trio.sleep(1)
            return n + 1

        @body.step(when=lambda work: work % 2 == 0)
        async def even(work: int) -> int:
            return work

        @body.step(join=Join.ALL)
        async def nxt(work: int, even: int = -1) -> int:
            return work

        wf = Workflow("outer", reducers={"log": reducers.append})
        wf.add(body, name="lp", writes=("nxt",),
               repeat=Repeat(until=lambda nxt: nxt >= 3, max_iterations=5, carry={"nxt": "n"}))

        @wf.step(writes="log")
        async def side(n: int) -> str:
            await trio.sleep(2)
            return "side"

        @wf.step(join=Join.ANY)
        async def first(nxt: int | None = None, log: list[str] | None = None) -> object:
            return nxt, log

        @wf.step(join=Join.ALL)
        async def last(first: object, nxt: int, log: list[str]) -> object:
            return first, nxt, log

        return wf

    quiet = run(build(), {"n": 0}, max_concurrency=2)
    seen: list[events.Event] = []
    loud = run(build(), {"n": 0}, max_concurrency=2, on_event=seen.append)
    assert loud.events == seen
    assert quiet.events == quiet.events  # materialised once, in place, stable
    # Trio may order tasks woken at one instant either way (and so what in_flight a
    # StepStarted reads): compare as multisets, in_flight left out.
    def key(event: events.Event) -> str:
        if isinstance(event, events.StepStarted):
            event = attrs.evolve(event, in_flight=0)
        return repr(event)

    assert collections.Counter(map(key, quiet.events)) == collections.Counter(
        map(key, loud.events))
    assert dict(quiet.state) == dict(loud.state)
    assert quiet.duration == loud.duration == 9.0


def test_one_plan_run_concurrently_keeps_each_run_apart() -> None:
    body = Workflow("body")

    @body.step
    async def inc(n: int) -> int:
        await trio.sleep(1)
        return n + 1

    wf = Workflow("shared", reducers={"log": reducers.append})
    wf.add(body, name="lp", writes=("inc",),
           repeat=Repeat(until=lambda inc: inc >= 3, max_iterations=5, carry={"inc": "n"}))

    @wf.step(writes="log")
    async def one(n: int) -> int:
        await trio.sleep(2)
        return n

    @wf.step(writes="log")
    async def two(n: int) -> int:
        await trio.sleep(1)
        return n * 10

    @wf.step(join=Join.ALL)
    async def out(inc: int, log: list[int]) -> tuple[int, list[int], float]:
        return inc, log, trio.current_time()

    plan = wf.compile()
    results: dict[int, RunResult] = {}

    async def one_run(n: int, limit: int | None) -> None:
        results[n] = await plan.run({"n": n}, max_concurrency=limit)

    async def main() -> None:
        with trio.fail_after(HANG):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(one_run, 0, 1)
                nursery.start_soon(one_run, 1, None)
                nursery.start_soon(one_run, 5, 2)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert results[0]["out"] == (3, [0, 0], 6.0)  # one slot: 3 passes + 2 s + 1 s
    assert results[1]["out"] == (3, [1, 10], 2.0)
    assert results[5]["out"] == (6, [5, 50], 2.0)
    assert [r.peak_concurrency for r in (results[0], results[1], results[5])] == [1, 3, 2]
    for result in results.values():
        assert {event_scope(e) for e in result.events} <= {(), ("lp#1",), ("lp#2",), ("lp#3",)}


def test_a_failure_in_one_sub_run_halts_its_sibling_sub_run(
    slots: list[SpySlots],
) -> None:
    started: list[tuple[str, tuple[str, ...]]] = []

    def sub(name: str, fail: bool) -> Workflow:
        inner = Workflow(name)

        @inner.step
        async def first(x: int) -> int:
            started.append(("first", (name,)))
            await trio.sleep(1 if fail else 2)
            if fail:
                raise ValueError(f"{name} broke")
            return x

        @inner.step
        async def second(first: int) -> int:
            started.append(("second", (name,)))  # pragma: no cover
            return first  # pragma: no cover

        return inner

    wf = Workflow("siblings")
    wf.add(sub("bad", True), name="bad")
    wf.add(sub("good", False), name="good")
    with pytest.raises(StepFailed) as info:
        run(wf, {"x": 1}, max_concurrency=2)
    assert info.value.step == "bad"
    assert sorted(started) == [("first", ("bad",)), ("first", ("good",))]
    assert slots[0].in_flight == 0


def test_a_subworkflow_that_never_writes_a_mapped_key_skips_its_readers() -> None:
    inner = Workflow("inner")

    @inner.step(when=lambda x: x > 10)
    async def maybe(x: int) -> int:
        return x  # pragma: no cover

    @inner.step
    async def always(x: int) -> int:
        await trio.sleep(1)
        return x

    wf = Workflow("outer")
    wf.add(inner, name="sub", writes={"maybe": "got", "always": "done"})

    @wf.step
    async def needs(got: int) -> int:
        return got  # pragma: no cover

    @wf.step(join=Join.ALL)
    async def joins(done: int, needs: int = -1) -> tuple[int, int]:
        return done, needs

    result = run(wf, {"x": 1})
    assert result["joins"] == (1, -1)
    assert "got" not in result
    reasons = {e.step: e.reason for e in result.events_of(events.StepSkipped) if not e.scope}
    assert list(reasons) == ["needs"]
    assert "'got' was never written" in reasons["needs"]
    assert result.duration == 1.0


def test_nested_subworkflow_and_loop_scopes_and_event_order() -> None:
    leaf = Workflow("leaf")

    @leaf.step
    async def step_(n: int) -> int:
        await trio.sleep(1)
        return n + 1

    body = Workflow("body")
    body.add(leaf, name="inner", writes={"step_": "m"})
    wf = Workflow("top")
    wf.add(body, name="lp", writes=("m",),
           repeat=Repeat(until=lambda m: m >= 2, max_iterations=3, carry={"m": "n"}))
    result = run(wf, {"n": 0})
    assert result["m"] == 2
    trail = [(type(e).__name__, e.time, getattr(e, "scope", ())) for e in result.events
             if isinstance(e, events.WorkflowStarted | events.WorkflowFinished
                           | events.LoopIteration)]
    assert trail == [
        ("WorkflowStarted", 0.0, ()),
        ("LoopIteration", 0.0, ()),
        ("WorkflowStarted", 0.0, ("lp#1",)),
        ("WorkflowStarted", 0.0, ("lp#1", "inner")),
        ("WorkflowFinished", 1.0, ("lp#1", "inner")),
        ("WorkflowFinished", 1.0, ("lp#1",)),
        ("LoopIteration", 1.0, ()),
        ("WorkflowStarted", 1.0, ("lp#2",)),
        ("WorkflowStarted", 1.0, ("lp#2", "inner")),
        ("WorkflowFinished", 2.0, ("lp#2", "inner")),
        ("WorkflowFinished", 2.0, ("lp#2",)),
        ("WorkflowFinished", 2.0, ()),
    ]
    assert result.intervals() == {"lp": (0.0, 2.0)}


def test_retry_is_not_offered_on_add_and_a_workflow_is_no_step() -> None:
    inner = Workflow("inner")

    @inner.step
    async def a(x: int) -> int:
        return x  # pragma: no cover

    add: Any = Workflow("outer").add
    with pytest.raises(TypeError, match="retry"):
        add(inner, name="s", retry=Retry())
    wf = Workflow("outer")
    wf.step(inner)  # type: ignore[call-overload]
    codes = [d.code for d in wf.check()]
    assert codes == ["SPX001"]


def test_a_failure_during_a_retry_backoff_in_a_loop_pass_leaves_no_slot_taken(
    slots: list[SpySlots],
) -> None:
    body = Workflow("body")

    @body.step(retry=Retry(attempts=4, backoff=2.0), timeout=1.0)
    async def flaky(n: int) -> int:
        await trio.sleep(5)
        return n  # pragma: no cover

    @body.step
    async def queued(n: int) -> int:
        return n  # pragma: no cover

    wf = Workflow("outer")
    wf.add(body, name="lp", writes=("flaky",),
           repeat=Repeat(until=lambda flaky: True, max_iterations=2, carry={"flaky": "n"}))

    @wf.step
    async def boom(n: int) -> int:
        await trio.sleep(2)
        raise ValueError("boom")

    seen: list[events.Event] = []
    with pytest.raises(StepFailed) as info:
        run(wf, {"n": 0}, max_concurrency=2, on_event=seen.append)
    assert info.value.step == "boom"
    assert list(info.value.failures) == ["boom"]
    assert not any(isinstance(e, events.StepStarted) and e.step == "queued" for e in seen)
    cancelled = [(e.step, e.scope, e.time) for e in seen if isinstance(e, events.StepCancelled)]
    assert cancelled == [("flaky", ("lp#1",), 2.0), ("lp", (), 2.0)]
    assert slots[0].in_flight == 0
