"""OpenTelemetry spans of a run (``plan.run(..., tracer=tracer)``; extra ``[otel]``).

Imported only when a tracer is given.  One span for the run and one per step call (per
element of a mapped step), made from the run's events: a step span's parent is given
explicitly (the run span, or the sub-workflow, loop pass or mapped step it ran in),
never taken from the current context, because trio starts a released step from the
task of the step that released it and a naive propagation would nest each step under
its predecessor.  The step's own code runs with its span current, so spans it makes
(an HTTP client's) nest under it: the span is set in the step's own context (the task
it runs in, or the fresh context an inline step is started in, see
:meth:`Tracing.enter_step`) and never detached: that context ends with the step, so
there is nothing to detach, even when the run is cancelled.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from . import events as ev
from ._emit import OnEvent

R = TypeVar("R")
Key = tuple[tuple[str, ...], str, "int | None"]

_ELEMENT = re.compile(r"^(?P<step>.*)\[(?P<item>\d+)\]$")


class Tracing:
    """An ``on_event`` listener that turns a run's events into spans (and hands every
    event on to the user's own ``on_event``)."""

    def __init__(
        self, tracer: trace.Tracer, workflow: str, on_event: OnEvent | None,
        run_id: str | None = None,
    ) -> None:
        self.tracer = tracer
        self.workflow = workflow
        self.on_event = on_event
        self.run_id = run_id
        attributes: dict[str, Any] = {"spectra.workflow": workflow}
        if run_id is not None:
            attributes["spectra.run_id"] = run_id
        #: The run's span: a child of whatever span is current where the run starts.
        self.run_span = tracer.start_span(f"run {workflow}", attributes=attributes)
        self.run_context = trace.set_span_in_context(self.run_span)
        self.spans: dict[Key, Span] = {}
        #: The spans of loop passes, by the scope their steps run in.
        self.passes: dict[tuple[str, ...], Span] = {}
        #: The span of the step that started last (for :meth:`enter_step`).
        self.last: Span | None = None

    # -- the listener ---------------------------------------------------------------

    def __call__(self, event: ev.Event) -> object:
        self.handle(event)
        return None if self.on_event is None else self.on_event(event)

    def enter_step(self) -> None:
        """Make the span of the step that just started current, in the context its code
        is about to run in (called inside that context, right after its start)."""
        if self.last is not None:
            otel_context.attach(trace.set_span_in_context(self.last))

    def handle(self, event: ev.Event) -> None:
        """Start, annotate or end the span an event is about."""
        scope: tuple[str, ...] = getattr(event, "scope", ())
        if isinstance(event, ev.StepStarted):
            self.start(scope, event.step, event.item, {})
            # A step run in a task of its own runs in this very context.
            otel_context.attach(trace.set_span_in_context(self.spans[scope, event.step,
                                                                     event.item]))
        elif isinstance(event, ev.MapStarted):
            self.start(scope, event.step, None, {"spectra.count": event.count})
        elif isinstance(event, ev.StepFinished):
            self.end((scope, event.step, event.item), "finished")
        elif isinstance(event, ev.StepError):
            self.end((scope, event.step, event.item), "failed", event.error)
        elif isinstance(event, ev.StepCancelled):
            self.end((scope, event.step, event.item), "cancelled")
        elif isinstance(event, ev.RetryAttempt):
            span = self.spans.get((scope, event.step, event.item))
            if span is not None:
                span.set_attribute("spectra.attempt", event.attempt)
                span.add_event("retry", {"spectra.attempt": event.attempt,
                                         "spectra.delay": event.delay,
                                         "exception.type": type(event.error).__name__,
                                         "exception.message": str(event.error)})
        elif isinstance(event, ev.StepTimedOut):
            span = self.spans.get((scope, event.step, event.item))
            if span is not None:
                span.add_event("timeout", {"spectra.attempt": event.attempt,
                                           "spectra.timeout": event.timeout})
        elif isinstance(event, ev.StepSkipped):
            trace.get_current_span(self.parent(scope)).add_event(
                "skipped", {"spectra.step": event.step, "spectra.reason": event.reason})
        elif isinstance(event, ev.LoopIteration):
            parent = self.spans.get((scope, event.step, None))
            context = (trace.set_span_in_context(parent) if parent is not None
                       else self.parent(scope))
            span = self.tracer.start_span(
                f"{event.step}#{event.iteration}", context=context,
                attributes={**self.common(scope, event.step, None),
                            "spectra.iteration": event.iteration})
            inner = (*scope, f"{event.step}#{event.iteration}")
            self.passes[inner] = span
        elif isinstance(event, (ev.WorkflowFinished, ev.WorkflowFailed)):
            span = self.passes.pop(scope, None)
            if span is not None:
                if isinstance(event, ev.WorkflowFailed):
                    span.set_status(Status(StatusCode.ERROR, f"step '{event.step}' failed"))
                span.end()

    # -- spans ----------------------------------------------------------------------

    def common(self, scope: tuple[str, ...], step: str, item: int | None) -> dict[str, Any]:
        """The attributes every span of a step has."""
        attributes: dict[str, Any] = {"spectra.workflow": self.workflow, "spectra.step": step}
        if item is not None:
            attributes["spectra.item"] = item
        if scope:
            attributes["spectra.scope"] = "/".join(scope)
        if self.run_id is not None:
            attributes["spectra.run_id"] = self.run_id
        return attributes

    def start(self, scope: tuple[str, ...], step: str, item: int | None,
              extra: dict[str, Any]) -> None:
        """Start the span of a step call, a child of the scope it runs in."""
        mapped = self.spans.get((scope, step, None)) if item is not None else None
        context = (trace.set_span_in_context(mapped) if mapped is not None
                   else self.parent(scope))
        name = step if item is None else f"{step}[{item}]"
        span = self.tracer.start_span(
            name, context=context,
            attributes={**self.common(scope, step, item), "spectra.attempt": 1, **extra})
        self.spans[scope, step, item] = span
        self.last = span

    def end(self, key: Key, status: str, error: BaseException | None = None) -> None:
        """End a step call's span with its status (and its error, recorded)."""
        span = self.spans.pop(key, None)
        if span is None:  # its write failed after it finished: say so on the run
            if error is not None:
                self.run_span.record_exception(error, {"spectra.step": key[1]})
            return
        span.set_attribute("spectra.status", status)
        if error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        elif status == "finished":
            span.set_status(Status(StatusCode.OK))
        span.end()

    def parent(self, scope: tuple[str, ...]) -> otel_context.Context:
        """The context whose span holds the steps of ``scope``: a loop pass, a
        sub-workflow step (``name`` or ``name[item]``), or the run."""
        while scope:
            span = self.passes.get(scope)
            if span is None:
                last = scope[-1].partition("#")[0]
                found = _ELEMENT.match(last)
                key: Key = ((scope[:-1], found["step"], int(found["item"])) if found
                            else (scope[:-1], last, None))
                span = self.spans.get(key)
            if span is not None:
                return trace.set_span_in_context(span)
            scope = scope[:-1]
        return self.run_context

    def close(self, error: BaseException | None) -> None:
        """End every span still open, then the run's (with its error, if it failed)."""
        for key in list(self.spans):
            self.end(key, "cancelled")
        for span in self.passes.values():
            span.end()
        self.passes.clear()
        if error is None:
            self.run_span.set_attribute("spectra.status", "finished")
            self.run_span.set_status(Status(StatusCode.OK))
        else:
            cancelled = not isinstance(error, Exception)
            self.run_span.set_attribute("spectra.status",
                                        "cancelled" if cancelled else "failed")
            if not cancelled:
                self.run_span.record_exception(error)
                self.run_span.set_status(
                    Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        self.run_span.end()


async def run_traced(
    tracer: trace.Tracer, workflow: str, on_event: OnEvent | None,
    execute: Callable[[OnEvent], Awaitable[R]], run_id: str | None = None,
) -> R:
    """Run ``execute(listener)`` inside a run span: the listener makes the step spans."""
    if not isinstance(tracer, trace.Tracer) and not hasattr(tracer, "start_span"):
        raise TypeError(f"tracer must be an OpenTelemetry Tracer, not {tracer!r}")
    tracing = Tracing(tracer, workflow, on_event, run_id)
    token = otel_context.attach(tracing.run_context)
    try:
        result = await execute(tracing)
    except BaseException as error:
        tracing.close(error)
        raise
    finally:
        otel_context.detach(token)
    tracing.close(None)
    return result
