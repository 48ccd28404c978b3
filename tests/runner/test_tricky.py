"""Adversarial tests: hard combinations of joins, skips, sub-workflows, loops, retries,
limits and reducers.  Several began as strict xfails for bugs found by a bug hunt (a
sub-workflow's nursery closing while its steps waited for a shared slot, stack depth on
long skip chains, steps started after a failure in a run sharing the slots, Join.ANY
guards and defaults, match exclusivity under Join.ANY, events of a cancelled
sub-workflow); they now pin the fixes down."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
import trio
import trio.testing

from spectra_dsl import (
    InputError,
    Join,
    Repeat,
    Retry,
    StepFailed,
    Workflow,
    events,
    match,
    reducers,
)
from tests.helpers import run_virtual as run
from tests.helpers import skipped_steps

# -- bugs -------------------------------------------------------------------------------


def one_step_sub(name: str = "inner") -> Workflow:
    inner = Workflow(name)

    @inner.step
    async def a(x: int) -> int:
        await trio.sleep(1)
        return x + 1

    return inner


def test_subworkflow_beside_a_running_step_under_max_concurrency_one() -> None:
    wf = Workflow("outer")

    @wf.step
    async def c(x: int) -> int:
        await trio.sleep(1)
        return x

    wf.add(one_step_sub(), name="sub", writes=("a",))
    result = run(wf, {"x": 1}, max_concurrency=1)
    assert dict(result.state) == {"x": 1, "c": 1, "a": 2}
    assert result.duration == 2.0  # two one-second steps, one slot
    assert result.peak_concurrency == 1


def test_nested_subworkflows_under_max_concurrency_one() -> None:
    leaf = Workflow("leaf")

    @leaf.step
    async def a(x: int) -> int:
        await trio.sleep(1)
        return x + 1

    @leaf.step
    async def b(x: int) -> int:
        await trio.sleep(1)
        return x + 2

    mid = Workflow("mid")
    mid.add(leaf, name="l1", writes={"a": "a1"})
    mid.add(leaf, name="l2", writes={"b": "b2"})
    top = Workflow("top")
    top.add(mid, name="m1", writes=("a1",))
    top.add(mid, name="m2", writes={"b2": "bb"})

    @top.step(join=Join.ALL)
    async def total(a1: int, bb: int) -> int:
        return a1 + bb

    unlimited = run(top, {"x": 1})
    assert unlimited["total"] == 5
    assert unlimited.duration == 1.0
    limited = run(top, {"x": 1}, max_concurrency=1)
    assert dict(limited.state) == dict(unlimited.state)
    assert limited.duration == 8.0  # eight one-second leaf steps, one at a time
    assert limited.peak_concurrency == 1


def skipped_chain(length: int) -> Workflow:
    """``s0`` (guarded) -> ``s1`` -> ... each step requiring the one before."""
    wf = Workflow("deep")

    @wf.step(name="s0", when=lambda flag: flag)
    async def s0(flag: bool) -> int:
        return 0

    for i in range(1, length):
        namespace: dict[str, Any] = {}
        exec(f"async def s{i}(s{i - 1}: int) -> int:\n    return s{i - 1} + 1", namespace)
        wf.step(namespace[f"s{i}"])
    return wf


def test_a_long_chain_of_skips_does_not_overflow_the_stack() -> None:
    result = run(skipped_chain(1000), {"flag": False})
    assert len(skipped_steps(result)) == 1000  # "through any depth" (docs/conditions.md)
    assert dict(result.state) == {"flag": False}


def test_no_waiting_step_starts_after_a_failure_inside_a_subworkflow() -> None:
    ran: list[str] = []
    inner = Workflow("inner")

    @inner.step
    async def p(x: int) -> int:
        await trio.sleep(1)
        raise ValueError("p broke")

    @inner.step
    async def q(x: int) -> int:
        await trio.sleep(10)
        return 1

    wf = Workflow("outer")
    wf.add(inner, name="sub")

    @wf.step
    async def gate(x: int) -> int:
        await trio.sleep(0.5)  # holds a slot until q takes it over; c then waits
        return x

    @wf.step
    def c(gate: int) -> int:
        ran.append("c")
        return 1

    with pytest.raises(StepFailed) as info:
        run(wf, {"x": 1}, max_concurrency=2)
    assert info.value.step == "sub"
    assert ran == []  # c waited for a slot when p failed: it must never start


def test_no_queued_subworkflow_step_starts_after_an_outer_failure() -> None:
    ran: list[str] = []
    inner = Workflow("inner")

    @inner.step
    async def p(x: int) -> int:
        await trio.sleep(10)
        return 1  # pragma: no cover

    @inner.step
    async def c(x: int) -> int:
        ran.append("c")  # a side effect before the first checkpoint
        await trio.sleep(0)
        return 1

    wf = Workflow("outer")

    @wf.step
    async def boom(x: int) -> int:
        await trio.sleep(1)
        raise ValueError("boom")

    wf.add(inner, name="sub")
    seen: list[events.Event] = []
    plan = wf.compile()
    with pytest.raises(StepFailed) as info:
        trio.run(lambda: plan.run({"x": 1}, max_concurrency=2, on_event=seen.append),
                 clock=trio.testing.MockClock(autojump_threshold=0))
    assert info.value.step == "boom"
    assert ran == []
    assert not any(isinstance(e, events.StepStarted) and e.step == "c" for e in seen)


def test_no_waiting_step_starts_after_a_failure_at_top_level() -> None:
    ran: list[str] = []
    wf = Workflow("flat")

    @wf.step
    async def p(x: int) -> int:
        await trio.sleep(1)
        raise ValueError("p broke")

    @wf.step
    async def q(x: int) -> int:
        await trio.sleep(10)
        return 1

    @wf.step
    def c(x: int) -> int:
        ran.append("c")  # pragma: no cover
        return 1  # pragma: no cover

    with pytest.raises(StepFailed) as info:
        run(wf, {"x": 1}, max_concurrency=2)
    assert info.value.step == "p"
    assert ran == []


def racing_scores(guard: Callable[..., bool] | None) -> Workflow:
    wf = Workflow("any-fold")
    wf.reducer("scores", reducers.append)

    @wf.step(writes="scores")
    async def slow() -> int:
        await trio.sleep(5)
        return 1

    @wf.step(writes="scores")
    async def fast() -> int:
        await trio.sleep(1)
        return 2

    @wf.step(join=Join.ANY, when=guard)
    async def first(scores: list[int] | None = None) -> tuple[float, list[int] | None]:
        return trio.current_time(), scores

    return wf


def test_join_any_reads_the_fold_of_arrived_writes_in_plan_order() -> None:
    result = run(racing_scores(None))
    assert result["first"] == (1.0, [2])  # slow (earlier in plan order) had not arrived
    assert result["scores"] == [1, 2]  # the final state folds in plan order


def test_join_any_guard_sees_the_key_its_winning_tip_wrote() -> None:
    result = run(racing_scores(lambda scores: len(scores) > 0))
    assert skipped_steps(result) == {}
    assert result["first"] == (1.0, [2])


def test_join_any_param_with_no_arrived_write_takes_its_default() -> None:
    wf = Workflow("any-initial")
    wf.reducer("total", reducers.add, initial=0)

    @wf.step
    async def quick() -> int:
        await trio.sleep(1)
        return 1

    @wf.step(writes="total")
    async def b() -> int:
        await trio.sleep(5)
        return 10

    @wf.step(writes="total")
    async def c() -> int:
        await trio.sleep(6)
        return 100

    @wf.step(join=Join.ANY)
    async def j(quick: int | None = None, total: int | None = None) -> object:
        return quick, total

    result = run(wf)
    assert result["total"] == 110
    assert result["j"] == (1, None)  # no write to 'total' had arrived: the default


def test_join_all_param_whose_reduced_writers_were_all_skipped_takes_its_default() -> None:
    wf = Workflow("exclusive-initial")
    wf.reducer("notes", reducers.add, initial=100)

    @wf.step(writes="notes", when=match(route="a"))
    async def note_a(x: int) -> int:
        return 1

    @wf.step(writes="notes", when=match(route="b"))
    async def note_b(x: int) -> int:
        return 2

    @wf.step(join=Join.ALL)
    async def read(notes: int = -1) -> int:
        return notes

    assert wf.compile().diagnostics == ()  # exclusive writers: no SPX201
    assert dict(run(wf, {"x": 0, "route": "b"}).state) == {
        "x": 0, "route": "b", "notes": 102, "read": 102}
    assert dict(run(wf, {"x": 0, "route": "z"}).state) == {"x": 0, "route": "z", "read": -1}


def two_slow_inner_steps_and_a_failing_sibling() -> Workflow:
    inner = Workflow("inner")

    @inner.step
    async def p(x: int) -> int:
        await trio.sleep(10)
        return 1  # pragma: no cover

    @inner.step
    async def q(x: int) -> int:
        await trio.sleep(10)
        return 1  # pragma: no cover

    wf = Workflow("outer")
    wf.add(inner, name="sub")

    @wf.step
    async def boom(x: int) -> int:
        await trio.sleep(1)
        raise ValueError("boom")

    return wf


def test_a_cancelled_subworkflow_step_reports_step_cancelled() -> None:
    seen: list[events.Event] = []
    plan = two_slow_inner_steps_and_a_failing_sibling().compile()
    with pytest.raises(StepFailed) as info:
        trio.run(lambda: plan.run({"x": 1}, on_event=seen.append),
                 clock=trio.testing.MockClock(autojump_threshold=0))
    assert info.value.step == "boom"
    cancelled = {(e.step, e.scope, e.time) for e in seen if isinstance(e, events.StepCancelled)}
    assert cancelled == {("p", ("sub",), 1.0), ("q", ("sub",), 1.0), ("sub", (), 1.0)}


def test_match_exclusive_writers_never_both_run() -> None:
    wf = Workflow("partial-route", reducers={"route": reducers.last_write_wins})
    ran: list[str] = []

    @wf.step(writes="route")
    async def early() -> str:
        await trio.sleep(1)
        return "a"

    @wf.step(writes="route")
    async def late() -> str:
        await trio.sleep(5)
        return "b"

    @wf.step(join=Join.ANY, when=match(route="a"), writes="k")
    async def on_a(route: str | None = None) -> str:
        ran.append("on_a")
        return "A"

    @wf.step(join=Join.ALL, when=match(route="b"), writes="k")
    async def on_b(route: str) -> str:
        ran.append("on_b")
        return "B"

    diagnostics = wf.check()
    if not any(d.code == "SPX201" for d in diagnostics):  # else the race is reported
        run(wf)
        assert len(ran) <= 1, f"both exclusive writers of 'k' ran: {ran}"


# -- tricky cases that work -------------------------------------------------------------


def test_join_released_events_say_arrived_pending_and_skipped() -> None:
    wf = Workflow("events")

    @wf.step
    async def src(x: int) -> int:
        await trio.sleep(1)
        return x

    @wf.step(when=lambda src: src > 100)
    async def never(src: int) -> int:
        return 0  # pragma: no cover

    @wf.step
    async def fast(src: int) -> int:
        await trio.sleep(2)
        return 2

    @wf.step
    async def slow(src: int) -> int:
        await trio.sleep(5)
        return 5

    @wf.step(join=Join.ANY)
    async def first(
        src: int, never: int = -1, fast: int = -1, slow: int = -1
    ) -> tuple[int, int, int, float]:
        return never, fast, slow, trio.current_time()

    @wf.step(join=Join.ALL)
    async def every(first: object, slow: int, never: int = -1) -> float:
        return trio.current_time()

    result = run(wf, {"x": 1})
    released = {e.step: e for e in result.events_of(events.JoinReleased)}
    assert (released["first"].time, released["first"].join) == (3.0, "any")
    assert released["first"].arrived == ("src", "fast")
    assert released["first"].pending == ("slow",)
    assert released["first"].skipped == ("never",)
    assert (released["every"].time, released["every"].arrived) == (6.0, ("slow", "first"))
    assert (released["every"].pending, released["every"].skipped) == ((), ("never",))
    assert result["first"] == (-1, 2, -1, 3.0)
    assert result["every"] == 6.0


def test_join_any_is_skipped_when_every_tip_is_skipped_though_its_source_ran() -> None:
    wf = Workflow("tips-skipped")

    @wf.step
    async def src(x: int) -> int:
        return x

    @wf.step(when=match(x=5))
    async def t1(src: int) -> int:
        return 1  # pragma: no cover

    @wf.step(when=match(x=6))
    async def t2(src: int) -> int:
        return 2  # pragma: no cover

    @wf.step(join=Join.ANY)
    async def j(src: int, t1: int = 0, t2: int = 0) -> int:
        return src  # pragma: no cover

    result = run(wf, {"x": 1})
    assert skipped_steps(result)["j"] == "every branch of its Join.ANY was skipped"
    assert dict(result.state) == {"x": 1, "src": 1}


def test_join_any_step_overwrites_a_key_its_losing_tip_writes_in_plan_order() -> None:
    wf = Workflow("any-overwrite")

    @wf.step(writes=("k", "slow"))
    async def slow() -> dict[str, str]:
        await trio.sleep(5)
        return {"k": "from slow", "slow": "done"}

    @wf.step
    async def fast() -> str:
        await trio.sleep(1)
        return "done"

    @wf.step(join=Join.ANY, writes="k")
    async def winner(slow: str | None = None, fast: str | None = None) -> str:
        return f"winner saw slow={slow}"

    result = run(wf)
    # winner finished at t=1, before slow; it is later in plan order, so its write wins.
    assert result["k"] == "winner saw slow=None"
    assert [e.step for e in result.events_of(events.StateWritten) if e.key == "k"] == [
        "winner", "slow"]


def random_writers(delays: list[float], skip: list[bool]) -> Workflow:
    wf = Workflow("determinism")
    wf.reducer("acc", reducers.append)
    wf.reducer("total", reducers.add, initial=0)

    def add_writer(index: int) -> None:
        async def writer(x: int) -> dict[str, int]:
            await trio.sleep(delays[index])
            return {"acc": index, "total": index * 10}

        wf.step(name=f"w{index}", writes=("acc", "total"),
                when=lambda x: not skip[index])(writer)

    for index in range(len(delays)):
        add_writer(index)

    @wf.step(join=Join.ALL)
    async def out(acc: list[int] | None = None, total: int = -1) -> object:
        return acc, total

    return wf


def test_final_state_with_reducers_and_skips_is_the_same_whatever_the_timing() -> None:
    rng = random.Random(20261127)
    skip = [False, True, False, False, True, False]
    finals: set[str] = set()
    for _ in range(25):
        delays = [rng.choice([0.0, 1.0, 2.0, 3.0]) for _ in skip]
        result = run(random_writers(delays, skip), {"x": 1},
                     max_concurrency=rng.choice([None, 1, 2]))
        assert result["out"] == ([0, 2, 3, 5], 100)
        finals.add(repr(sorted(result.state.items(), key=lambda item: item[0])))
    assert len(finals) == 1


def test_retry_and_timeout_inside_a_subworkflow_at_exact_times() -> None:
    calls: list[float] = []
    inner = Workflow("inner")

    @inner.step(retry=Retry(attempts=3, backoff=1.0, factor=2.0), timeout=2.0)
    async def flaky(x: int) -> int:
        calls.append(trio.current_time())
        if len(calls) < 3:
            await trio.sleep(10)
        return x

    wf = Workflow("outer")
    wf.add(inner, name="sub", writes="flaky")
    result = run(wf, {"x": 5})
    assert calls == [0.0, 3.0, 7.0]  # timeouts at 2 and 5, waits of 1 and 2
    assert result.duration == 7.0
    assert result["flaky"] == 5
    timed = [(e.time, e.attempt, e.scope) for e in result.events_of(events.StepTimedOut)]
    assert timed == [(2.0, 1, ("sub",)), (5.0, 2, ("sub",))]
    retried = [(e.time, e.attempt, e.delay) for e in result.events_of(events.RetryAttempt)]
    assert retried == [(2.0, 2, 1.0), (5.0, 3, 2.0)]


def test_a_loop_whose_body_has_a_join_any_waits_for_the_loser_each_pass() -> None:
    body = Workflow("body")

    @body.step
    async def fast(n: int) -> int:
        await trio.sleep(1)
        return n + 1

    @body.step
    async def slow(n: int) -> int:
        await trio.sleep(3)
        return n + 100

    @body.step(join=Join.ANY)
    async def pick(fast: int | None = None, slow: int | None = None) -> int:
        return -1 if fast is None else fast

    wf = Workflow("loop")
    wf.add(body, name="lp", writes=("pick",),
           repeat=Repeat(until=lambda pick: pick >= 3, max_iterations=5, carry={"pick": "n"}))
    result = run(wf, {"n": 0})
    assert result["pick"] == 3
    assert result.duration == 9.0  # three passes of three seconds: losers still run
    picks = [(e.time, e.scope) for e in result.events_of(events.StepFinished)
             if e.step == "pick"]
    assert picks == [(1.0, ("lp#1",)), (4.0, ("lp#2",)), (7.0, ("lp#3",))]


def test_skips_inside_a_loop_body_flow_down_in_each_pass() -> None:
    body = Workflow("body")

    @body.step(when=lambda n: n % 2 == 0)
    async def even(n: int) -> int:
        return n

    @body.step
    async def after(even: int) -> int:
        return even * 10

    @body.step(join=Join.ALL)
    async def nxt(n: int, after: int = -1) -> int:
        return n + 1

    wf = Workflow("loop")
    wf.add(body, name="lp", writes=("nxt",),
           repeat=Repeat(until=lambda nxt: nxt >= 3, max_iterations=5, carry={"nxt": "n"}))
    result = run(wf, {"n": 0})
    assert result["nxt"] == 3
    skipped = {(e.step, e.scope) for e in result.events_of(events.StepSkipped)}
    assert skipped == {("even", ("lp#2",)), ("after", ("lp#2",))}


def test_exclusive_subworkflows_may_write_one_key_without_a_reducer() -> None:
    first = Workflow("first")

    @first.step
    async def k(x: int) -> str:
        return "A"

    second = Workflow("second")

    @second.step(name="k")
    async def k_b(x: int) -> str:
        return "B"

    wf = Workflow("outer")
    wf.add(first, name="sa", writes=("k",), when=match(route="a"))
    wf.add(second, name="sb", writes=("k",), when=match(route="b"))

    @wf.step(join=Join.ALL)
    async def out(k: str) -> str:
        return k

    assert not any(d.is_error for d in wf.check())
    result = run(wf, {"x": 1, "route": "b"})
    assert result["out"] == "B"
    assert skipped_steps(result) == {"sa": "its when= guard does not hold"}


def test_duplicate_step_names_across_subworkflows_are_told_apart_by_scope() -> None:
    inner = Workflow("inner")

    @inner.step(name="work")
    async def inner_work(x: int) -> int:
        await trio.sleep(2)
        return x + 1

    wf = Workflow("outer")
    wf.add(inner, name="work", writes={"work": "inner_result"})

    @wf.step(name="other")
    async def work(inner_result: int) -> int:
        await trio.sleep(1)
        return inner_result * 2

    result = run(wf, {"x": 1})
    assert result["other"] == 4
    finished = [(e.step, e.scope, e.time) for e in result.events_of(events.StepFinished)]
    assert finished == [("work", ("work",), 2.0), ("work", (), 2.0), ("other", (), 3.0)]


def test_a_key_given_as_input_that_a_step_writes_is_refused_by_name() -> None:
    wf = Workflow("input-and-key")

    @wf.step
    async def a(x: int) -> int:
        return x  # pragma: no cover

    @wf.step
    async def b(a: int) -> int:
        return a  # pragma: no cover

    with pytest.raises(InputError) as info:
        run(wf, {"x": 1, "a": 5})
    assert "'a' is not an input: step 'a' writes it" in str(info.value)


def test_a_multi_key_writer_partly_read_with_one_key_reduced() -> None:
    wf = Workflow("partial", reducers={"log": reducers.append})

    @wf.step(writes=("value", "log"))
    async def produce(x: int) -> dict[str, object]:
        await trio.sleep(2)
        return {"value": x * 2, "log": "produce"}

    @wf.step(writes="log")
    async def other(x: int) -> str:
        await trio.sleep(1)
        return "other"

    @wf.step
    async def use(value: int) -> int:
        return value + 1

    result = run(wf, {"x": 3})
    assert result["use"] == 7
    assert result["log"] == ["produce", "other"]  # plan order, not completion order
    assert result.intervals()["use"] == (2.0, 2.0)


def test_a_retry_backoff_inside_a_subworkflow_is_cancelled_by_an_outer_failure() -> None:
    calls: list[float] = []
    inner = Workflow("inner")

    @inner.step(retry=Retry(attempts=5, backoff=5.0), timeout=3.0)
    async def flaky(x: int) -> int:
        calls.append(trio.current_time())
        await trio.sleep(1)
        raise ConnectionError("down")

    wf = Workflow("outer")
    wf.add(inner, name="sub", writes="flaky")

    @wf.step
    async def boom(x: int) -> int:
        await trio.sleep(2.5)
        raise ValueError("boom")

    seen: list[events.Event] = []
    plan = wf.compile()
    with pytest.raises(StepFailed) as info:
        trio.run(lambda: plan.run({"x": 1}, on_event=seen.append),
                 clock=trio.testing.MockClock(autojump_threshold=0))
    assert info.value.step == "boom"
    assert list(info.value.failures) == ["boom"]
    assert calls == [0.0]  # cancelled in its 5-second wait: never tried again
    retries = [(e.time, e.attempt) for e in seen if isinstance(e, events.RetryAttempt)]
    assert retries == [(1.0, 2)]
    cancelled = [(e.step, e.scope, e.time) for e in seen if isinstance(e, events.StepCancelled)]
    assert cancelled == [("flaky", ("sub",), 2.5), ("sub", (), 2.5)]
