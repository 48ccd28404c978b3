"""plan.resume(..., tracer=): the resume gets a run span (with the run id) and a span
per step call it makes; restored steps are not called, so they get none."""

from __future__ import annotations

import pytest
import trio
import trio.testing
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from spectra_dsl import StepFailed, Workflow
from spectra_dsl.store import MemoryStore


class Flaky:
    failing = True


def test_a_traced_resume_has_spans_for_the_calls_it_makes_only() -> None:
    wf = Workflow("traced")

    @wf.step
    async def fetch(x: int) -> int:
        return x + 1

    @wf.step
    async def charge(fetch: int) -> int:
        if Flaky.failing:
            raise ConnectionError("the payment service timed out")
        return fetch * 2

    plan = wf.compile()
    store = MemoryStore()
    clock = trio.testing.MockClock(autojump_threshold=0)
    with pytest.raises(StepFailed):
        trio.run(lambda: plan.run({"x": 1}, store=store, run_id="o-1"), clock=clock)
    Flaky.failing = False
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    result = trio.run(lambda: plan.resume("o-1", store=store,
                                          tracer=provider.get_tracer("tests")),
                      clock=trio.testing.MockClock(autojump_threshold=0))
    assert result["charge"] == 4
    spans = exporter.get_finished_spans()
    names = sorted(span.name for span in spans)
    assert len(names) == 2 and any(n.endswith("charge") for n in names)
    assert not any(n.endswith("fetch") for n in names)  # restored, not called
    (run_span,) = [s for s in spans if s.parent is None]
    assert (run_span.attributes or {})["spectra.run_id"] == "o-1"
    (step_span,) = [s for s in spans if s.parent is not None]
    assert step_span.parent is not None
    assert step_span.parent.span_id == run_span.context.span_id
