"""``plan.stream(...)``: a run whose events are read as they happen.

The run is a task of a nursery opened by the ``async with``; its ``on_event`` appends
each event to an unbounded buffer (so a slow reader never holds the run up) and wakes
the reader if it waits; the ``async for`` hands out the buffered events.  The run's
failure is kept and raised by the ``async for`` once the events before it were read,
as the :class:`StepFailed` itself, never wrapped in an ``ExceptionGroup``.  Leaving
the ``async with`` cancels the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import trio

from . import events as ev
from ._errors import SpectraError
from ._result import RunResult

if TYPE_CHECKING:
    from ._plan import Plan


class EventStream:
    """The events of a run, as they happen: ``async for event in events``.

    After the loop, ``result`` is the run's :class:`RunResult`.  A failure is raised
    by the ``async for`` once every event before it was read.
    """

    __slots__ = ("_buffer", "_done", "_error", "_result", "_wakeup")

    def __init__(self) -> None:
        #: The events not read yet: unbounded, so the run never waits for the reader.
        self._buffer: deque[ev.Event] = deque()
        self._wakeup: trio.Event | None = None  # set while the reader waits
        self._done = False
        self._result: RunResult | None = None
        self._error: BaseException | None = None

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> ev.Event:
        buffer = self._buffer
        while not buffer:  # (events already there are handed out without a checkpoint)
            if self._done:
                if self._error is not None:
                    raise self._error from self._error.__cause__
                raise StopAsyncIteration
            self._wakeup = wakeup = trio.Event()
            await wakeup.wait()
        return buffer.popleft()

    @property
    def result(self) -> RunResult:
        """The run's final state and events, once every event was read."""
        if self._result is None:
            if self._error is not None:
                raise SpectraError(
                    "the run failed, so it has no result; its error was raised by the "
                    f"async for: {self._error!r}"
                ) from self._error
            raise SpectraError(
                "the run has not finished: read every event (async for event in events) "
                "before asking for events.result"
            )
        return self._result

    def _push(self, event: ev.Event) -> None:
        """The run's ``on_event``: keep the event and wake the reader if it waits."""
        self._buffer.append(event)
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            wakeup.set()

    async def _drive(self, plan: Plan, given: dict[str, Any], limit: int | None,
                     tracer: Any = None) -> None:
        """The run's task: run the plan (with spans, given an OpenTelemetry ``tracer``),
        keep its result or its failure, then end the ``async for``."""
        try:
            if tracer is None:
                self._result = await plan._execute(given, limit, self._push)
            else:
                from ._otel import run_traced
                self._result = await run_traced(
                    tracer, plan.graph.name, self._push,
                    lambda listener: plan._execute(given, limit, listener))
        except Exception as error:  # kept for the reader; cancellation propagates
            self._error = error
        finally:
            self._done = True
            wakeup = self._wakeup
            if wakeup is not None:
                self._wakeup = None
                wakeup.set()


@asynccontextmanager
async def open_stream(
    plan: Plan, given: dict[str, Any], limit: int | None, tracer: Any = None
) -> AsyncIterator[EventStream]:
    """Run ``plan`` in a task while the caller reads its events (inputs checked); with
    ``tracer``, the run and its step calls get OpenTelemetry spans as ``run`` makes."""
    if tracer is not None:
        from opentelemetry import trace  # (extra [otel]; as run_traced checks it)

        if not isinstance(tracer, trace.Tracer) and not hasattr(tracer, "start_span"):
            raise TypeError(f"tracer must be an OpenTelemetry Tracer, not {tracer!r}")
    events = EventStream()
    raised: BaseException | None = None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(events._drive, plan, given, limit, tracer)
        try:
            yield events
        except BaseException as error:  # raised outside the nursery, unwrapped
            raised = error
        finally:
            nursery.cancel_scope.cancel()  # the run ends with the async with
    if raised is not None:
        raise raised
