"""Logging a run's events: one typed method per event class.

Without an ``on_event`` callback an event is logged as a flat tuple ``(kind, *fields)``
(cheap, and made into the event object only when :class:`RunResult` is read); with one
it is built at once, by keyword, and handed to the callback.  Each method takes the
event's fields by keyword, so mypy checks every field; the tuple's order is the event
class's field order (a test builds both ways and compares).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from . import events as ev

EventLog = list[Any]

#: The event classes, by the number a logged tuple starts with.  (A number, not the
#: class: a tuple of numbers, strings and floats is untracked by the garbage collector,
#: which then need not walk a long run's log again and again.)
KINDS: tuple[type[ev.Event], ...] = (
    ev.WorkflowStarted,
    ev.WorkflowFinished,
    ev.WorkflowFailed,
    ev.StepReady,
    ev.StepStarted,
    ev.StepFinished,
    ev.StepError,
    ev.StepCancelled,
    ev.StepSkipped,
    ev.JoinReleased,
    ev.StateWritten,
    ev.LoopIteration,
    ev.RetryAttempt,
    ev.StepTimedOut,
    ev.MapStarted,
    ev.MapFinished,
)
OnEvent = Callable[[ev.Event], object]
#: Told when the callback raised: ``on_error(event, error)``.
OnError = Callable[[ev.Event, Exception], None]


class Emitter:
    """Logs the events of one run (its ``scope``) into a log it may share with others."""

    __slots__ = ("enter_step", "log", "on_error", "on_event", "scope")

    def __init__(
        self, log: EventLog, scope: tuple[str, ...], on_event: OnEvent | None,
        on_error: OnError,
    ) -> None:
        self.log = log
        self.scope = scope
        self.on_event = on_event
        self.on_error = on_error
        #: Called in a step's own context just before it starts inline, when the
        #: callback has such a hook (OpenTelemetry's tracing listener makes the step's
        #: span current there); looked up once per run, not per step.
        self.enter_step: Callable[[], object] | None = getattr(on_event, "enter_step", None)

    def send(self, event: ev.Event) -> None:
        """Log ``event`` and hand it to the callback; tell ``on_error`` if it raises
        (or returns an awaitable: ``on_event`` is called, never awaited)."""
        self.log.append(event)
        assert self.on_event is not None
        try:
            returned = self.on_event(event)
            if inspect.isawaitable(returned):
                close = getattr(returned, "close", None)
                if close is not None:
                    close()  # never awaited: say so here, not in a RuntimeWarning
                raise TypeError(
                    "on_event returned an awaitable; it must be a plain function (it is "
                    "called, never awaited): send the event to a trio memory channel "
                    "with send_nowait if the handling has to await"
                )
        except Exception as error:
            self.on_error(event, error)

    # -- one method per event class, fields by keyword ------------------------------

    def workflow_started(self, *, time: float, workflow: str, inputs: tuple[str, ...]) -> None:
        """Log :class:`events.WorkflowStarted`."""
        if self.on_event is None:
            self.log.append((0, time, workflow, inputs, self.scope))
        else:
            self.send(ev.WorkflowStarted(time=time, workflow=workflow, inputs=inputs,
                                         scope=self.scope))

    def workflow_finished(self, *, time: float, workflow: str, duration: float) -> None:
        """Log :class:`events.WorkflowFinished`."""
        if self.on_event is None:
            self.log.append((1, time, workflow, duration, self.scope))
        else:
            self.send(ev.WorkflowFinished(time=time, workflow=workflow, duration=duration,
                                          scope=self.scope))

    def workflow_failed(
        self, *, time: float, workflow: str, step: str, error: BaseException
    ) -> None:
        """Log :class:`events.WorkflowFailed`."""
        if self.on_event is None:
            self.log.append((2, time, workflow, step, error, self.scope))
        else:
            self.send(ev.WorkflowFailed(time=time, workflow=workflow, step=step, error=error,
                                        scope=self.scope))

    def step_ready(self, *, time: float, step: str, item: int | None = None) -> None:
        """Log :class:`events.StepReady`."""
        if self.on_event is None:
            self.log.append((3, time, step, self.scope, item))
        else:
            self.send(ev.StepReady(time=time, step=step, scope=self.scope, item=item))

    def step_started(
        self, *, time: float, step: str, in_flight: int, item: int | None = None
    ) -> None:
        """Log :class:`events.StepStarted`."""
        if self.on_event is None:
            self.log.append((4, time, step, in_flight, self.scope, item))
        else:
            self.send(ev.StepStarted(time=time, step=step, in_flight=in_flight,
                                     scope=self.scope, item=item))

    def step_finished(
        self, *, time: float, step: str, duration: float, value: object,
        item: int | None = None,
    ) -> None:
        """Log :class:`events.StepFinished`."""
        if self.on_event is None:
            self.log.append((5, time, step, duration, self.scope, value, item))
        else:
            self.send(ev.StepFinished(time=time, step=step, duration=duration,
                                      scope=self.scope, value=value, item=item))

    def step_error(
        self, *, time: float, step: str, error: BaseException, item: int | None = None
    ) -> None:
        """Log :class:`events.StepError`."""
        if self.on_event is None:
            self.log.append((6, time, step, error, self.scope, item))
        else:
            self.send(ev.StepError(time=time, step=step, error=error, scope=self.scope,
                                   item=item))

    def step_cancelled(self, *, time: float, step: str, item: int | None = None) -> None:
        """Log :class:`events.StepCancelled`."""
        if self.on_event is None:
            self.log.append((7, time, step, self.scope, item))
        else:
            self.send(ev.StepCancelled(time=time, step=step, scope=self.scope, item=item))

    def step_skipped(self, *, time: float, step: str, reason: str) -> None:
        """Log :class:`events.StepSkipped`."""
        if self.on_event is None:
            self.log.append((8, time, step, reason, self.scope))
        else:
            self.send(ev.StepSkipped(time=time, step=step, reason=reason, scope=self.scope))

    def join_released(
        self, *, time: float, step: str, join: str, arrived: tuple[str, ...],
        pending: tuple[str, ...], skipped: tuple[str, ...],
    ) -> None:
        """Log :class:`events.JoinReleased`."""
        if self.on_event is None:
            self.log.append((9, time, step, join, arrived, pending, skipped,
                             self.scope))
        else:
            self.send(ev.JoinReleased(time=time, step=step, join=join, arrived=arrived,
                                      pending=pending, skipped=skipped, scope=self.scope))

    def state_written(self, *, time: float, key: str, step: str, reducer: str | None) -> None:
        """Log :class:`events.StateWritten`."""
        if self.on_event is None:
            self.log.append((10, time, key, step, reducer, self.scope))
        else:
            self.send(ev.StateWritten(time=time, key=key, step=step, reducer=reducer,
                                      scope=self.scope))

    def loop_iteration(self, *, time: float, step: str, iteration: int) -> None:
        """Log :class:`events.LoopIteration`."""
        if self.on_event is None:
            self.log.append((11, time, step, iteration, self.scope))
        else:
            self.send(ev.LoopIteration(time=time, step=step, iteration=iteration,
                                       scope=self.scope))

    def retry_attempt(
        self, *, time: float, step: str, attempt: int, delay: float, error: BaseException,
        item: int | None = None,
    ) -> None:
        """Log :class:`events.RetryAttempt`."""
        if self.on_event is None:
            self.log.append((12, time, step, attempt, delay, error, self.scope, item))
        else:
            self.send(ev.RetryAttempt(time=time, step=step, attempt=attempt, delay=delay,
                                      error=error, scope=self.scope, item=item))

    def step_timed_out(
        self, *, time: float, step: str, attempt: int, timeout: float,
        item: int | None = None,
    ) -> None:
        """Log :class:`events.StepTimedOut`."""
        if self.on_event is None:
            self.log.append((13, time, step, attempt, timeout, self.scope, item))
        else:
            self.send(ev.StepTimedOut(time=time, step=step, attempt=attempt, timeout=timeout,
                                      scope=self.scope, item=item))

    def map_started(self, *, time: float, step: str, count: int) -> None:
        """Log :class:`events.MapStarted`."""
        if self.on_event is None:
            self.log.append((14, time, step, count, self.scope))
        else:
            self.send(ev.MapStarted(time=time, step=step, count=count, scope=self.scope))

    def map_finished(self, *, time: float, step: str, count: int, duration: float) -> None:
        """Log :class:`events.MapFinished`."""
        if self.on_event is None:
            self.log.append((15, time, step, count, duration, self.scope))
        else:
            self.send(ev.MapFinished(time=time, step=step, count=count, duration=duration,
                                     scope=self.scope))
