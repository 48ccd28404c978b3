"""A run's step calls read back from its events, and the text Gantt chart of them.

:func:`calls` turns the events into one :class:`Call` per step call (per element of a
mapped step), sub-workflow, loop pass and skipped step, in the order they began;
:func:`render` draws them one row each (``RunResult.timeline()``).  The Chrome trace
(:mod:`._trace`) reads the same calls.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import attrs

from . import events as ev

#: What a row is: a step call that held a slot of the run's limit, a sub-workflow (or
#: loop) step, one pass of a loop, a mapped step as a whole, or an instant: a skipped
#: step, or one that failed before it started.
Kind = Literal["step", "workflow", "pass", "map", "instant"]
#: How it ended ("running": it had not ended when the events were read).
Status = Literal["finished", "failed", "cancelled", "skipped", "running"]

#: The characters of a bar: (a step call, a sub-workflow, loop pass or mapped step).
BARS = {False: ("█", "═"), True: ("#", "=")}


@attrs.frozen
class Call:
    """One row of a timeline: a step call, a sub-workflow or loop pass, or a skip.

    ``start`` and ``end`` are clock times (``end`` is ``start`` for a skip); ``order``
    is the position of its first event in the log (ties in time break by it).
    """

    scope: tuple[str, ...]
    step: str
    item: int | None
    kind: Kind
    start: float
    end: float
    status: Status
    order: int
    note: str = ""
    attempts: int = 1
    #: The position of its last event in the log (after every other for a running call).
    end_order: float = 0.0

    @property
    def path(self) -> tuple[str, ...]:
        """The sub-workflow path and ``step`` (``step[item]`` for an element)."""
        return (*self.scope, self.step if self.item is None else f"{self.step}[{self.item}]")

    @property
    def label(self) -> str:
        """``step``, ``step[item]``, with the sub-workflow path in front: ``sub/step``."""
        return "/".join(self.path)

    @property
    def holds_slot(self) -> bool:
        """True for a call of a function step: it took one slot of the run's limit."""
        return self.kind == "step"


def calls(events: Sequence[ev.Event], end: float | None = None) -> list[Call]:
    """Every step call, sub-workflow, loop pass, mapped step and skip of a run, in the
    order they began.  A call with no end among the events ends at ``end`` (default:
    the last event's time) with status ``running``."""
    if end is None:
        end = events[-1].time if events else 0.0
    runs = {_scope(e) for e in events if isinstance(e, ev.WorkflowStarted)}
    bodies = {(*scope[:-1], scope[-1].partition("#")[0]) for scope in runs if scope}
    mapped = {(e.scope, e.step) for e in events if isinstance(e, ev.MapStarted)}
    attempts: dict[tuple[tuple[str, ...], str, int | None], int] = {}
    open_: dict[tuple[tuple[str, ...], str, int | None], tuple[float, int]] = {}
    passes: dict[tuple[str, ...], tuple[float, int]] = {}
    done: list[Call] = []

    def kind_of(scope: tuple[str, ...], step: str, item: int | None) -> Kind:
        if (*scope, step if item is None else f"{step}[{item}]") in bodies:
            return "workflow"
        if item is None and (scope, step) in mapped:
            return "map"
        return "step"

    def close(key: tuple[tuple[str, ...], str, int | None], time: float,
              status: Status, order: int, note: str = "") -> None:
        scope, step, item = key
        if key not in open_:  # it failed after it finished (its write), or never started
            for i in range(len(done) - 1, -1, -1):
                row = done[i]
                if (row.scope, row.step, row.item) == key and row.kind != "instant":
                    done[i] = attrs.evolve(row, status=status, note=note,
                                           end_order=max(row.end_order, order))
                    return
            done.append(Call(scope, step, item, "instant", time, time, status, order, note,
                             end_order=order))
            return
        start, first = open_.pop(key)
        done.append(Call(scope, step, item, kind_of(scope, step, item), start, time, status,
                         first, note, attempts.get(key, 1),
                         order if status != "running" else float("inf")))

    for order, event in enumerate(events):
        scope = _scope(event)
        if isinstance(event, ev.StepStarted):
            open_[scope, event.step, _item(event)] = (event.time, order)
        elif isinstance(event, ev.MapStarted):  # the mapped step as a whole
            open_[scope, event.step, None] = (event.time, order)
        elif isinstance(event, ev.StepFinished):
            close((scope, event.step, _item(event)), event.time, "finished", order)
        elif isinstance(event, ev.StepError):
            close((scope, event.step, _item(event)), event.time, "failed", order,
                  f"failed: {_describe(event.error)}")
        elif isinstance(event, ev.StepCancelled):
            close((scope, event.step, _item(event)), event.time, "cancelled", order,
                  "cancelled")
        elif isinstance(event, ev.StepSkipped):
            done.append(Call(scope, event.step, None, "instant", event.time, event.time,
                             "skipped", order, f"skipped: {event.reason}", end_order=order))
        elif isinstance(event, ev.RetryAttempt):
            attempts[scope, event.step, _item(event)] = event.attempt
        elif isinstance(event, ev.WorkflowStarted) and scope and "#" in scope[-1]:
            passes[scope] = (event.time, order)
        elif isinstance(event, (ev.WorkflowFinished, ev.WorkflowFailed)) and scope in passes:
            start, first = passes.pop(scope)
            step, _, number = scope[-1].partition("#")
            status: Status = "finished" if isinstance(event, ev.WorkflowFinished) else "failed"
            done.append(Call(scope[:-1], f"{step}#{number}", None, "pass", start, event.time,
                             status, first, end_order=order))
    for key in list(open_):
        close(key, end, "running", open_[key][1], "still running")
    for scope, (start, first) in passes.items():
        step, _, number = scope[-1].partition("#")
        done.append(Call(scope[:-1], f"{step}#{number}", None, "pass", start, end,
                         "running", first, end_order=float("inf")))
    done.sort(key=lambda c: c.order)
    return done


def render(
    rows: Iterable[Call], started: float, finished: float, *, width: int = 40,
    ascii: bool = False, joins: dict[str, tuple[str, ...]] | None = None,
) -> str:
    """Draw ``rows`` as a text Gantt chart: one line per row, a bar ``width`` characters
    wide for the run's span, the times from its start, and what ran beside it."""
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a whole number of characters >= 1, not {width!r}")
    rows = list(rows)
    if not rows:
        return "(no step ran)"
    full, hollow = BARS[ascii]
    span = finished - started
    label_width = max(len(c.label) for c in rows)
    beside = _beside(rows)
    lines = []
    for index, row in enumerate(rows):
        bar = [" "] * width
        first, last = _cells(row.start - started, row.end - started, span, width)
        if row.kind == "instant":
            bar[first] = ("·" if row.status == "skipped" else "✗") if not ascii else (
                "." if row.status == "skipped" else "X")
        else:
            for i in range(first, last):
                bar[i] = full if row.holds_slot else hollow
            if row.status == "failed":
                bar[last - 1] = "✗" if not ascii else "X"
        times = (f"{row.start - started:5.2f}s{'':10}" if row.kind == "instant" else
                 f"{row.start - started:5.2f}s -> {row.end - started:5.2f}s")
        notes = []
        if row.note:
            notes.append(row.note)
        if row.attempts > 1:
            notes.append(f"{row.attempts} attempts")
        if index in beside:
            names, count = beside[index]
            more = f" and {count - len(names)} more" if count > len(names) else ""
            notes.append(f"ran together with: {', '.join(names)}{more}")
        if joins and not row.scope and row.item is None and row.step in joins:
            notes.append(f"joined after: {', '.join(joins[row.step])}")
        tail = "  " + "  ".join(notes) if notes else ""
        lines.append(f"{row.label:<{label_width}} |{''.join(bar)}| {times}{tail}")
    return "\n".join(lines)


def _beside(rows: Sequence[Call], shown: int = 3) -> dict[int, tuple[list[str], int]]:
    """For each step call that ran beside others: up to ``shown`` of their labels (in
    start order) and how many there were, counted over [start, finish) (in n log n: a
    fan-out of thousands of calls is drawn in moments)."""
    calls = sorted((i for i, row in enumerate(rows) if row.holds_slot),
                   key=lambda i: (rows[i].start, rows[i].order))
    starts = [rows[i].start for i in calls]
    ends = sorted(rows[i].end for i in calls)
    instants = Counter(rows[i].start for i in calls if rows[i].start == rows[i].end)
    result: dict[int, tuple[list[str], int]] = {}
    for i in calls:
        row = rows[i]
        before = bisect.bisect_left(starts, row.end)  # calls that started before its end
        if row.start < row.end:
            count = before - bisect.bisect_right(ends, row.start) - 1
        else:  # an instant call: those that started before it and end after it
            count = (before - bisect.bisect_right(ends, row.start)
                     + instants[row.start])
        if count <= 0:
            continue
        names: list[tuple[float, int, str]] = []
        for k in range(before - 1, max(-1, before - 1 - 256), -1):
            other = rows[calls[k]]
            if other is not row and other.start < row.end and row.start < other.end:
                names.append((other.start, other.order, other.label))
                if len(names) == shown:
                    break
        result[i] = ([label for _, _, label in sorted(names)], count)
    return result


def _cells(start: float, end: float, span: float, width: int) -> tuple[int, int]:
    """The bar cells ``[first, last)`` that cover ``[start, end)`` (at least one)."""
    if span <= 0:
        return 0, 1
    first = min(width - 1, max(0, int(start / span * width)))
    last = min(width, max(first + 1, round(end / span * width)))
    return first, last


def join_arrivals(events: Iterable[ev.Event]) -> dict[str, tuple[str, ...]]:
    """Which upstreams had arrived when each top-level fan-in step was released."""
    return {e.step: e.arrived for e in events
            if isinstance(e, ev.JoinReleased) and not e.scope}


def _scope(event: ev.Event) -> tuple[str, ...]:
    scope: tuple[str, ...] = getattr(event, "scope", ())
    return scope


def _item(event: ev.Event) -> int | None:
    item: int | None = getattr(event, "item", None)
    return item


def _describe(error: BaseException) -> str:
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def built(log: list[Any]) -> list[ev.Event]:
    """The events of a run's log (the runner logs cheap tuples; built here, in place)."""
    from ._emit import KINDS

    for i, entry in enumerate(log):
        if type(entry) is tuple:  # (kind, *fields), as the runner logs it
            log[i] = KINDS[entry[0]](*entry[1:])
    return list(log)


def failed_timeline(log: list[Any], *, width: int, ascii: bool) -> str:
    """The timeline of a run that failed, from its first event to its last."""
    events = built(log)
    if not events:
        return "(no step ran)"
    start, end = events[0].time, events[-1].time
    return render(calls(events, end), start, end, width=width, ascii=ascii,
                  joins=join_arrivals(events))
