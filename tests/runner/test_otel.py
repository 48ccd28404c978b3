"""plan.run(..., tracer=tracer): one span per run and per step call, with the right
parents, the step's code inside its span, errors recorded, nothing left to detach."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import pytest
import trio
import trio.testing
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode

from spectra_dsl import Join, Retry, StepFailed, Workflow


def tracing() -> tuple[trace.Tracer, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("tests"), exporter


def run_traced(wf: Workflow, tracer: trace.Tracer, **options: Any) -> Any:
    plan = wf.compile()

    async def main() -> Any:
        with trio.fail_after(1000):
            return await plan.run(tracer=tracer, **options)

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {span.name: span for span in exporter.get_finished_spans()}


def attr(span: Any, key: str) -> Any:
    """One attribute of a span (or span event)."""
    return (span.attributes or {})[key]


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def chain_and_fan() -> tuple[Workflow, dict[str, Any]]:
    """a -> (b, c, e) -> d: b and c block, e returns at once (run inline by a's task);
    every step records the span current while its code runs."""
    wf = Workflow("traced")
    seen: dict[str, Any] = {}

    @wf.step
    async def a() -> int:
        seen["a"] = trace.get_current_span()
        await trio.sleep(1)
        return 1

    @wf.step
    async def b(a: int) -> int:
        await trio.sleep(2)
        seen["b"] = trace.get_current_span()  # after blocking: still its own
        return a

    @wf.step
    async def c(a: int) -> int:
        await trio.sleep(0)  # blocks once: adopted by a's task, or its own
        seen["c"] = trace.get_current_span()
        return a

    @wf.step
    async def e(a: int) -> int:
        seen["e"] = trace.get_current_span()
        return a

    @wf.step(join=Join.ALL)
    async def d(b: int, c: int, e: int) -> int:
        seen["d"] = trace.get_current_span()
        return b + c + e

    return wf, seen


def test_every_step_span_is_a_child_of_the_run_span_not_of_its_predecessor() -> None:
    tracer, exporter = tracing()
    wf, seen = chain_and_fan()
    with tracer.start_as_current_span("caller") as caller:
        run_traced(wf, tracer)
    spans = by_name(exporter)
    assert set(spans) == {"caller", "run traced", "a", "b", "c", "d", "e"}
    run = spans["run traced"]
    assert parent_of(run) == caller.get_span_context().span_id
    for step in "abcde":
        assert parent_of(spans[step]) == run.context.span_id, step
        assert spans[step].context.trace_id == run.context.trace_id
        assert attr(spans[step], "spectra.step") == step
        assert attr(spans[step], "spectra.attempt") == 1
        assert attr(spans[step], "spectra.status") == "finished"
        assert spans[step].status.status_code is StatusCode.OK
        # the step's own code ran with its span current
        assert seen[step].get_span_context().span_id == spans[step].context.span_id, step
    assert attr(run, "spectra.status") == "finished"


def test_a_plain_def_step_runs_in_its_span_in_its_worker_thread() -> None:
    tracer, exporter = tracing()
    wf = Workflow("threads")
    seen: dict[str, Any] = {}

    @wf.step
    def blocking() -> int:
        seen["blocking"] = trace.get_current_span()
        return 1

    @wf.step
    def after(blocking: int) -> int:
        seen["after"] = trace.get_current_span()
        return blocking

    wf.compile().run_sync(tracer=tracer)  # threads: on the real clock
    spans = by_name(exporter)
    for step in ("blocking", "after"):
        assert seen[step].get_span_context().span_id == spans[step].context.span_id
        assert parent_of(spans[step]) == spans["run threads"].context.span_id


def test_spans_a_step_makes_nest_under_its_span() -> None:
    tracer, exporter = tracing()
    wf = Workflow("nested")

    @wf.step
    async def fetch() -> int:
        with tracer.start_as_current_span("http get"):
            await trio.sleep(1)
        return 1

    @wf.step
    async def parse(fetch: int) -> int:
        with tracer.start_as_current_span("parse body"):
            return fetch

    run_traced(wf, tracer)
    spans = by_name(exporter)
    assert parent_of(spans["http get"]) == spans["fetch"].context.span_id
    assert parent_of(spans["parse body"]) == spans["parse"].context.span_id


def test_sub_workflows_and_mapped_elements() -> None:
    tracer, exporter = tracing()
    sub = Workflow("sub")

    @sub.step
    async def inner(start: int) -> int:
        await trio.sleep(1)
        return start

    wf = Workflow("outer")

    @wf.step
    async def start() -> int:
        return 1

    @wf.step
    async def items(start: int) -> list[int]:
        return [start, 2, 3]

    @wf.step(map="items", concurrency=2)
    async def work(items: int) -> int:
        await trio.sleep(items)
        return items

    wf.add(sub, name="review", writes=("inner",))
    run_traced(wf, tracer)
    finished = exporter.get_finished_spans()
    spans = by_name(exporter)
    run = spans["run outer"]
    assert parent_of(spans["review"]) == run.context.span_id
    assert parent_of(spans["inner"]) == spans["review"].context.span_id
    assert attr(spans["inner"], "spectra.scope") == "review"
    elements = sorted((s for s in finished if s.name.startswith("work[")),
                      key=lambda s: attr(s, "spectra.item"))
    assert [attr(s, "spectra.item") for s in elements] == [0, 1, 2]
    assert {parent_of(s) for s in elements} == {spans["work"].context.span_id}
    assert parent_of(spans["work"]) == run.context.span_id
    assert attr(spans["work"], "spectra.count") == 3


def test_a_failure_is_recorded_on_its_span_and_the_run_span() -> None:
    tracer, exporter = tracing()
    wf = Workflow("fails")
    tries = {"n": 0}

    @wf.step(retry=Retry(attempts=2, backoff=0))
    async def flaky() -> int:
        tries["n"] += 1
        await trio.sleep(1)
        raise ValueError(f"no luck {tries['n']}")

    @wf.step
    async def slow() -> int:
        await trio.sleep(10)
        return 1

    with pytest.raises(StepFailed):
        run_traced(wf, tracer)
    spans = by_name(exporter)
    failed = spans["flaky"]
    assert failed.status.status_code is StatusCode.ERROR
    assert attr(failed, "spectra.status") == "failed"
    assert attr(failed, "spectra.attempt") == 2
    assert [e.name for e in failed.events] == ["retry", "exception"]
    assert attr(failed.events[1], "exception.message") == "no luck 2"
    assert attr(spans["slow"], "spectra.status") == "cancelled"
    run = spans["run fails"]
    assert run.status.status_code is StatusCode.ERROR
    assert attr(run, "spectra.status") == "failed"


def test_a_cancelled_run_ends_every_span_and_detaches_nothing_wrongly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracer, exporter = tracing()
    wf, _ = chain_and_fan()
    plan = wf.compile()

    async def main() -> None:
        with trio.move_on_after(2):  # a finished, b and c running, d waiting
            await plan.run(tracer=tracer)

    with caplog.at_level(logging.DEBUG), warnings.catch_warnings():
        warnings.simplefilter("error")
        trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert not [r for r in caplog.records if "detach" in r.getMessage().lower()]
    spans = by_name(exporter)
    assert attr(spans["a"], "spectra.status") == "finished"
    assert attr(spans["b"], "spectra.status") == "cancelled"
    assert attr(spans["run traced"], "spectra.status") == "cancelled"
    assert "d" not in spans
    assert trace.get_current_span() is trace.INVALID_SPAN  # nothing left current


def test_without_a_tracer_no_span_is_made() -> None:
    _, exporter = tracing()
    wf, seen = chain_and_fan()
    wf.compile().run_sync()
    assert exporter.get_finished_spans() == ()
    assert seen["a"] is trace.INVALID_SPAN


def test_a_tracer_that_is_no_tracer_is_refused_before_any_step_runs() -> None:
    wf, seen = chain_and_fan()
    with pytest.raises(TypeError, match="tracer must be an OpenTelemetry Tracer"):
        wf.compile().run_sync(tracer="jaeger")
    assert seen == {}
