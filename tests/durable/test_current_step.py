"""current_step() names the call that asks, whichever way the runner started it:
inline in another step's task (returning at once, or blocking and adopted), in a task
of its own, in a worker thread (a sync step), on a retry; with OpenTelemetry tracing
on as well, each call still runs in its own span."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import trio
import trio.testing
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import get_current_span

from spectra_dsl import Join, Retry, Workflow, current_step, step
from spectra_dsl.store import SqliteStore


class Seen:
    """What each call saw (a class, so that the steps close over no list)."""

    keys: ClassVar[dict[str, str]] = {}
    spans: ClassVar[dict[str, str]] = {}


def seen(name: str) -> None:
    Seen.keys[name] = current_step().key
    Seen.spans[name] = getattr(get_current_span(), "name", "")


@step
async def root(x: int) -> int:
    seen("root")
    return x


@step
async def quick(root: int) -> int:  # returns at once: run inline by root's task
    seen("quick")
    return root + 1


@step
async def slow(root: int) -> int:  # blocks: adopted by a task, seen again after
    await trio.sleep(1)
    seen("slow")
    return root + 2


@step
def threaded(root: int) -> int:  # a sync step: runs in a worker thread
    seen("threaded")
    return root + 3


class Flaky:
    tries = 0


@step(retry=Retry(attempts=2, backoff=0))
async def retried(root: int) -> int:
    Flaky.tries += 1
    seen("retried")
    if Flaky.tries == 1:
        raise ConnectionError("first try")
    return root + 4


@step(join=Join.ALL)
async def last(quick: int, slow: int, threaded: int, retried: int) -> int:
    seen("last")
    return quick + slow + threaded + retried


def test_every_call_is_told_who_it_is_and_keeps_its_span(tmp_path: Path) -> None:
    wf = Workflow("who")
    for fn in (root, quick, slow, threaded, retried, last):
        wf.step(fn)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    plan = wf.compile()
    with SqliteStore(tmp_path / "runs.sqlite") as store:
        result = trio.run(
            lambda: plan.run({"x": 1}, store=store, run_id="r",
                             tracer=provider.get_tracer("tests")),
            clock=trio.testing.MockClock(autojump_threshold=0))
    assert result["last"] == 2 + 3 + 4 + 5
    names = ("root", "quick", "slow", "threaded", "retried", "last")
    assert Seen.keys == {name: f"r/{name}" for name in names}
    assert set(Seen.spans) == set(names)
    assert all(Seen.spans[name].endswith(name) for name in names), Seen.spans
    assert Flaky.tries == 2


def test_current_step_outside_a_durable_step_says_how_to_use_it() -> None:
    import pytest

    with pytest.raises(LookupError, match="outside a step of a durable run"):
        current_step()

    wf = Workflow("plain")

    @wf.step
    async def alone(x: int) -> Any:
        return current_step()

    with pytest.raises(Exception, match="outside a step of a durable run"):
        wf.compile().run_sync({"x": 1})
