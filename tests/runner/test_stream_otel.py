"""plan.stream(..., tracer=tracer): the spans of a streamed run are those of plan.run,
the events streamed unchanged; a tracer that is none is refused before any step runs."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from spectra_dsl import StepFailed, Workflow
from tests.runner.test_otel import by_name, chain_and_fan, parent_of, run_traced, tracing


def stream_traced(wf: Workflow, tracer: Any) -> tuple[list[Any], Any]:
    plan = wf.compile()

    async def main() -> tuple[list[Any], Any]:
        with trio.fail_after(1000):
            async with plan.stream(tracer=tracer) as events:
                seen = [event async for event in events]
            return seen, events.result

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def shape(exporter: Any) -> dict[str, tuple[str | None, int | None, int | None]]:
    """Each span's parent's name and its start and end (nanoseconds)."""
    spans = by_name(exporter)
    names = {span.context.span_id: name for name, span in spans.items()}
    return {name: (names.get(parent_of(span)), span.start_time, span.end_time)
            for name, span in spans.items()}


def test_a_streamed_run_has_the_spans_of_a_run() -> None:
    wf, seen = chain_and_fan()
    tracer, streamed = tracing()
    events, result = stream_traced(wf, tracer)
    assert events == result.events  # the stream is unchanged by tracing
    assert seen["b"].get_span_context().span_id == by_name(streamed)["b"].context.span_id
    tracer, ran = tracing()
    run_traced(wf, tracer)
    run = {name: parent for name, (parent, _, _) in shape(ran).items()}
    assert {name: parent for name, (parent, _, _) in shape(streamed).items()} == run
    assert run["a"] == run["d"] == "run traced"  # every step a child of the run


def test_a_failure_is_recorded_on_the_spans_and_raised_by_the_async_for() -> None:
    wf = Workflow("failing")

    @wf.step
    async def boom() -> int:
        raise ValueError("no")

    tracer, exporter = tracing()
    with pytest.raises(StepFailed, match="step 'boom' failed"):
        stream_traced(wf, tracer)
    spans = by_name(exporter)
    assert spans["boom"].status.status_code.name == "ERROR"
    assert spans["run failing"].status.status_code.name == "ERROR"


def test_a_tracer_that_is_no_tracer_is_refused_before_any_step_runs() -> None:
    wf, seen = chain_and_fan()
    with pytest.raises(TypeError, match="tracer must be an OpenTelemetry Tracer"):
        stream_traced(wf, "jaeger")
    assert seen == {}
