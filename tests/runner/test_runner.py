"""The runner on a mock clock: exact virtual times, joins, limits and priority."""

from __future__ import annotations

import threading

import pytest
import trio
import trio.testing

from spectra_dsl import InputError, Join, RunResult, StepOutputError, Workflow, events, reducers


def seed_diamond(sentiment_s: float = 3, entities_s: float = 5) -> Workflow:
    wf = Workflow("parallel-analysis")

    @wf.step
    async def fetch(url: str) -> str:
        await trio.sleep(1)
        return f"<{url}>"

    @wf.step
    async def sentiment(fetch: str) -> float:
        await trio.sleep(sentiment_s)
        return 0.8

    @wf.step
    async def entities(fetch: str) -> list[str]:
        await trio.sleep(entities_s)
        return ["Ada"]

    @wf.step(join=Join.ALL)
    async def merge(sentiment: float, entities: list[str]) -> dict[str, object]:
        await trio.sleep(0.5)
        return {"sentiment": sentiment, "entities": entities}

    return wf


async def test_seed_diamond_finishes_at_fetch_plus_slowest_branch_plus_merge(
    autojump_clock: trio.testing.MockClock,
) -> None:
    result = await seed_diamond().compile().run({"url": "example.org"})
    assert result["merge"] == {"sentiment": 0.8, "entities": ["Ada"]}
    spans = result.intervals()
    assert spans["sentiment"] == (1, 4)
    assert spans["entities"] == (1, 6)
    assert spans["merge"] == (6, 6.5)
    assert result.duration == 1 + 5 + 0.5
    assert result.ran_together("sentiment") == ["entities"]


async def test_uneven_diamond_takes_the_longest_path_not_the_sum_of_rounds(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("uneven")

    @wf.step
    async def a1() -> int:
        await trio.sleep(0.100)
        return 1

    @wf.step
    async def a2(a1: int) -> int:
        await trio.sleep(0.010)
        return a1 + 1

    @wf.step
    async def b1() -> int:
        await trio.sleep(0.010)
        return 1

    @wf.step
    async def b2(b1: int) -> int:
        await trio.sleep(0.100)
        return b1 + 1

    @wf.step(join=Join.ALL)
    async def join(a2: int, b2: int) -> int:
        return a2 + b2

    result = await wf.compile().run()
    assert result["join"] == 4
    # Lock-step rounds would take 100 + 100 ms; greedy dataflow takes 110 ms.
    assert result.duration == pytest.approx(0.110, abs=1e-12)
    assert result.intervals()["b2"] == pytest.approx((0.010, 0.110))


def fan_out(width: int, seconds: float = 1) -> tuple[Workflow, dict[str, int]]:
    wf = Workflow("fan-out", reducers={"seen": reducers.append})
    peak = {"now": 0, "max": 0}

    @wf.step
    async def source() -> int:
        return width

    def branch(i: int) -> None:
        @wf.step(name=f"b{i}", writes="seen")
        async def run(source: int) -> int:
            peak["now"] += 1
            peak["max"] = max(peak["max"], peak["now"])
            await trio.sleep(seconds)
            peak["now"] -= 1
            return i

    for i in range(width):
        branch(i)
    return wf, peak


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8])
async def test_max_concurrency_is_never_exceeded(
    autojump_clock: trio.testing.MockClock, limit: int
) -> None:
    wf, peak = fan_out(8)
    result = await wf.compile().run(max_concurrency=limit)
    assert peak["max"] == limit
    assert result.peak_concurrency == limit
    # 8 one-second branches, `limit` at a time.
    assert result.duration == -(-8 // limit)
    # Folded in plan order (declaration order of the branches), not completion order.
    assert result["seen"] == list(range(8))


async def test_a_limit_of_one_serializes_exactly(autojump_clock: trio.testing.MockClock) -> None:
    result = await seed_diamond().compile().run({"url": "x"}, max_concurrency=1)
    assert result.duration == 1 + 3 + 5 + 0.5
    assert all(e.in_flight == 1 for e in result.events_of(events.StepStarted))


async def test_the_workflow_limit_applies_and_a_run_can_override_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf, _ = fan_out(4)
    wf.max_concurrency = 2
    plan = wf.compile()
    assert (await plan.run()).duration == 2
    assert (await plan.run(max_concurrency=4)).duration == 1


async def test_under_a_limit_the_longest_remaining_path_starts_first(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("priority")
    order: list[str] = []

    @wf.step
    async def short() -> int:
        order.append("short")
        await trio.sleep(1)
        return 1

    @wf.step
    async def long1() -> int:
        order.append("long1")
        await trio.sleep(1)
        return 1

    @wf.step
    async def long2(long1: int) -> int:
        order.append("long2")
        await trio.sleep(1)
        return 2

    @wf.step
    async def long3(long2: int) -> int:
        order.append("long3")
        await trio.sleep(1)
        return 3

    result = await wf.compile().run(max_concurrency=1)
    # 'short' is declared first, but 'long1' heads a path of three steps.
    assert order[0] == "long1"
    assert result.duration == 4
    two = await wf.compile().run(max_concurrency=2)
    assert two.duration == 3  # the critical path, not 4


async def test_join_all_waits_for_branches_of_different_depths_and_runs_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("depths")
    calls: list[float] = []

    @wf.step
    async def root() -> int:
        return 0

    @wf.step
    async def deep1(root: int) -> int:
        await trio.sleep(1)
        return 1

    @wf.step
    async def deep2(deep1: int) -> int:
        await trio.sleep(1)
        return 2

    @wf.step
    async def deep3(deep2: int) -> int:
        await trio.sleep(1)
        return 3

    @wf.step
    async def shallow(root: int) -> int:
        await trio.sleep(0.5)
        return 10

    @wf.step(join=Join.ALL)
    async def sink(deep3: int, shallow: int, root: int) -> int:
        calls.append(trio.current_time())
        return deep3 + shallow

    result = await wf.compile().run()
    assert calls == [3]
    assert result["sink"] == 13
    (released,) = result.events_of(events.JoinReleased)
    assert released.time == 3
    assert set(released.arrived) == {"deep3", "shallow", "root"}
    assert released.pending == ()


async def test_join_any_runs_once_on_the_first_arrival_with_defaults_for_the_rest(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("race")
    calls: list[tuple[float, str | None, str | None]] = []

    @wf.step
    async def prompt() -> str:
        return "q"

    @wf.step
    async def fast(prompt: str) -> str:
        await trio.sleep(1)
        return "fast answer"

    @wf.step
    async def slow(prompt: str) -> str:
        await trio.sleep(4)
        return "slow answer"

    @wf.step(join=Join.ANY)
    async def pick(prompt: str, fast: str | None = None, slow: str | None = None) -> str:
        calls.append((trio.current_time(), fast, slow))
        return fast or slow or ""

    result = await wf.compile().run()
    assert calls == [(1, "fast answer", None)]
    assert result["pick"] == "fast answer"
    # The later arrival is still written to state, and the run waits for it.
    assert result["slow"] == "slow answer"
    assert result.duration == 4
    (released,) = result.events_of(events.JoinReleased)
    assert released.join == "any"
    assert (released.arrived, released.pending) == (("prompt", "fast"), ("slow",))


async def test_join_any_waits_for_a_common_source_before_racing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("common-source")

    @wf.step
    async def slow_source() -> int:
        await trio.sleep(5)
        return 1

    @wf.step
    async def tip_a(slow_source: int) -> int:
        await trio.sleep(1)
        return 2

    @wf.step
    async def tip_b() -> int:
        await trio.sleep(1)
        return 3

    @wf.step(join=Join.ANY)
    async def first(slow_source: int, tip_a: int = 0, tip_b: int = 0) -> int:
        return slow_source * 100 + tip_a * 10 + tip_b

    result = await wf.compile().run()
    # slow_source is an ancestor of tip_a: it is waited for; tip_b has arrived by then.
    assert result["first"] == 103
    assert result.intervals()["first"] == (5, 5)


async def test_state_is_folded_in_plan_order_not_completion_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("fold", reducers={"text": lambda acc, v: acc + v})
    for i, delay in enumerate([3, 1, 2]):
        def make(i: int = i, delay: int = delay) -> None:
            @wf.step(name=f"w{i}", writes="text")
            async def write() -> str:
                await trio.sleep(delay)
                return str(i)
        make()

    @wf.step(join=Join.ALL)
    async def read(text: str) -> str:
        return text

    result = await wf.compile().run()
    assert result["text"] == result["read"] == "012"
    written = [e.step for e in result.events_of(events.StateWritten) if e.key == "text"]
    assert written == ["w1", "w2", "w0"]  # completion order, for the record


async def test_ordered_writers_overwrite_in_graph_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("overwrite")

    @wf.step(writes=("draft", "length"))
    async def write() -> dict[str, object]:
        await trio.sleep(2)
        return {"draft": "v1", "length": 2}

    @wf.step(writes="draft")
    async def pad(length: int) -> str:
        return "v2" + "!" * length

    @wf.step
    async def publish(draft: str) -> str:
        return draft.upper()

    plan = wf.compile()
    assert plan.diagnostics == ()
    result = await plan.run()
    # 'pad' runs after 'write' (it reads 'length'), so its write comes last.
    assert result["draft"] == "v2!!"
    assert result["publish"] == "V2!!"


async def test_sync_steps_run_in_worker_threads_and_overlap(
    autojump_clock: trio.testing.MockClock,
) -> None:
    wf = Workflow("threads")
    main = threading.current_thread()
    seen: list[bool] = []
    gate = threading.Barrier(2, timeout=10)

    @wf.step
    def left() -> str:
        seen.append(threading.current_thread() is main)
        gate.wait()  # both must be running at once to pass
        return "l"

    @wf.step
    def right() -> str:
        seen.append(threading.current_thread() is main)
        gate.wait()
        return "r"

    @wf.step(join=Join.ALL)
    async def both(left: str, right: str) -> str:
        return left + right

    result = await wf.compile().run()
    assert result["both"] == "lr"
    assert seen == [False, False]


async def test_missing_and_unknown_inputs_are_reported_before_any_step_starts() -> None:
    started: list[str] = []
    wf = Workflow("inputs")

    @wf.step
    async def greet(user: str, punctuation: str = "!") -> str:
        started.append("greet")
        return user + punctuation

    plan = wf.compile()
    with pytest.raises(InputError) as info:
        await plan.run({"usr": "ada"})
    assert info.value.missing == {"user": ("greet",)}
    assert info.value.unknown == ("usr",)
    assert "missing input 'user', needed by step 'greet'" in str(info.value)
    assert "unknown input 'usr'" in str(info.value)
    assert started == []
    ok = await plan.run({"user": "ada"})
    assert ok["greet"] == "ada!"


async def test_a_multi_key_writer_must_return_exactly_its_keys() -> None:
    wf = Workflow("multi")

    @wf.step(writes=("a", "b"))
    async def split() -> dict[str, int]:
        return {"a": 1, "c": 3}

    with pytest.raises(Exception) as info:
        await wf.compile().run()
    cause = info.value.__cause__
    assert isinstance(cause, StepOutputError)
    assert "step 'split'" in str(cause) and "'b'" in str(cause) and "'c'" in str(cause)


async def test_on_event_sees_every_event_as_it_happens(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[events.Event] = []
    result: RunResult = await seed_diamond().compile().run({"url": "u"}, on_event=seen.append)
    assert seen == result.events
    kinds = [type(e).__name__ for e in seen]
    assert kinds[0] == "WorkflowStarted" and kinds[-1] == "WorkflowFinished"
    finished = {e.step: e.time for e in seen if isinstance(e, events.StepFinished)}
    assert finished == {"fetch": 1, "sentiment": 4, "entities": 6, "merge": 6.5}


async def test_a_plan_runs_many_times_and_concurrently(
    autojump_clock: trio.testing.MockClock,
) -> None:
    plan = seed_diamond().compile()
    results: list[RunResult] = []

    async def one(url: str) -> None:
        results.append(await plan.run({"url": url}))

    async with trio.open_nursery() as nursery:
        for url in ("a", "b", "c"):
            nursery.start_soon(one, url)
    assert sorted(r["fetch"] for r in results) == ["<a>", "<b>", "<c>"]
    assert all(r.duration == 6.5 for r in results)


def test_run_sync_wraps_trio_run() -> None:
    wf = Workflow("sync")

    @wf.step
    def double(x: int) -> int:
        return 2 * x

    assert wf.compile().run_sync({"x": 21})["double"] == 42
