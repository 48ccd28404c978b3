"""Steps run inline by the task that released them (slot handover, eager start): what a
user can tell apart from a task per step, and what must stay the same."""

from __future__ import annotations

import contextvars
from typing import Any

import trio
import trio.testing

from spectra_dsl import Join, StepFailed, Workflow, events
from spectra_dsl._inline import INLINE_BUDGET
from tests.helpers import run_virtual

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def chain_of(n: int) -> Workflow:
    """Steps s0 -> s1 -> ... that return at once (their parameters name the step before)."""
    wf = Workflow(f"chain-{n}")
    for i in range(n):
        params = f"s{i - 1}: int" if i else ""
        wf.step(generated(f"async def s{i}({params}) -> int:\n    return {i}", f"s{i}"))
    return wf


def generated(source: str, name: str) -> Any:
    """The function ``name`` defined by ``source``."""
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    return namespace[name]


def test_peak_concurrency_counts_each_step_from_start_to_finish() -> None:
    assert run_virtual(chain_of(5)).peak_concurrency == 1

    diamond = Workflow("diamond")

    @diamond.step
    async def top() -> int:
        return 1

    @diamond.step
    async def left(top: int) -> int:
        await trio.sleep(1)
        return top

    @diamond.step
    async def right(top: int) -> int:
        return top

    @diamond.step(join=Join.ALL)
    async def bottom(left: int, right: int) -> int:
        return left + right

    result = run_virtual(diamond)
    assert result.peak_concurrency == 2
    assert result.duration == 1


def test_each_step_run_inline_sees_its_own_context() -> None:
    wf = Workflow("context")
    seen: dict[str, str] = {}

    @wf.step
    async def first() -> int:
        seen["first"] = request_id.get()
        request_id.set("set by first")  # must not leak into the next step
        return 1

    @wf.step
    async def second(first: int) -> int:
        seen["second"] = request_id.get()
        request_id.set("set by second")
        await trio.sleep(1)  # blocks: awaited by the task that ran first
        seen["second, after"] = request_id.get()
        return first

    @wf.step
    async def third(second: int) -> int:
        seen["third"] = request_id.get()
        return second

    plan = wf.compile()

    async def main() -> None:
        request_id.set("the caller's")
        await plan.run()

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert seen == {"first": "the caller's", "second": "the caller's",
                    "second, after": "set by second", "third": "the caller's"}


def test_a_long_chain_that_never_blocks_lets_other_tasks_run() -> None:
    n = INLINE_BUDGET * 8
    plan = chain_of(n).compile()
    ticks = 0

    async def main() -> int:
        nonlocal ticks
        done = False

        async def ticker() -> None:
            nonlocal ticks
            while not done:
                ticks += 1
                await trio.lowlevel.checkpoint()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ticker)
            await trio.lowlevel.checkpoint()
            result = await plan.run()
            done = True
        return int(result[f"s{n - 1}"])

    assert trio.run(main) == n - 1
    # The chain handed the rest to a new task at least every INLINE_BUDGET steps.
    assert ticks >= 6


def test_steps_released_with_a_failing_one_never_start_after_it_fails() -> None:
    wf = Workflow("fan")

    @wf.step
    async def root() -> int:
        return 1

    for i in range(6):
        wf.step(generated(f"async def ok{i}(root: int) -> int:\n    return root", f"ok{i}"))

        @wf.step(name=f"bad{i}")
        async def bad(root: int) -> int:
            raise ValueError("no")

    seen: list[events.Event] = []
    try:
        run_virtual(wf, on_event=seen.append)
    except StepFailed as error:
        assert error.step == "bad0"
    else:
        raise AssertionError("the run should have failed")
    first_error = next(i for i, e in enumerate(seen) if isinstance(e, events.StepError))
    assert not [e for e in seen[first_error:] if isinstance(e, events.StepStarted)]
