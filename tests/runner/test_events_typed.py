"""Events logged lazily (no callback) and built at once (a callback) are the same."""

from __future__ import annotations

import attrs
import trio

from spectra_dsl import Join, Repeat, Retry, Workflow, events
from tests.helpers import run_virtual


def every_kind_of_event() -> Workflow:
    body = Workflow("body")

    @body.step
    async def inc(n: int) -> int:
        await trio.sleep(1)
        return n + 1

    wf = Workflow("all-events")
    tries = {"n": 0}

    @wf.step(retry=Retry(attempts=2, backoff=1.0), timeout=5)
    async def flaky() -> int:
        tries["n"] += 1
        if tries["n"] == 1:
            await trio.sleep(10)  # times out
        return 1

    @wf.step(when=lambda flaky: flaky > 5)
    async def never(flaky: int) -> int:
        return flaky

    @wf.step
    async def other() -> int:
        return 2

    @wf.step(join=Join.ALL)
    async def both(flaky: int, other: int) -> int:
        return flaky + other

    wf.add(body, name="loop", writes=("inc",),
           repeat=Repeat(until=lambda inc: inc >= 2, max_iterations=3, carry={"inc": "n"}))

    @wf.step
    async def letters() -> list[str]:
        return ["a", "b"]

    @wf.step(map="letters", retry=Retry(attempts=2, backoff=1.0))
    async def shout(letters: str) -> str:
        tries[letters] = tries.get(letters, 0) + 1
        if letters == "b" and tries[letters] == 1:
            raise ValueError("once")
        return letters.upper()

    return wf


def test_lazy_and_eager_events_are_equal() -> None:
    seen: list[events.Event] = []
    lazy = run_virtual(every_kind_of_event(), {"n": 0})
    eager = run_virtual(every_kind_of_event(), {"n": 0}, on_event=seen.append)
    assert eager.events == seen
    # Trio starts tasks released together in any order: compare the sorted events.
    assert sorted(map(fields, lazy.events)) == sorted(map(fields, eager.events))
    kinds = {type(e) for e in lazy.events}
    assert {events.StepTimedOut, events.RetryAttempt, events.StepSkipped,
            events.JoinReleased, events.LoopIteration, events.StateWritten,
            events.MapStarted, events.MapFinished} <= kinds
    assert {e.item for e in lazy.events_of(events.RetryAttempt)} == {None, 1}


def fields(event: events.Event) -> str:
    """An event as text, its exceptions by type and message (not identity), without
    ``in_flight`` (which counts the tasks trio happened to start first)."""
    if isinstance(event, events.StepStarted):
        event = attrs.evolve(event, in_flight=0)
    return repr((type(event).__name__, *(
        repr(v) if isinstance(v, BaseException) else v for v in attrs.astuple(event)
    )))
