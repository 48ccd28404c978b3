"""Mapped steps: one call per element of a list known only at run time.

A mapped step (``@step(map="p")``) is one step of the plan, decided like any other
when it is released; then, instead of one call, it makes one call per element.  Its
:class:`MappedStep` takes the mapped values as lists (zipped, so their lengths must
agree), asks the run's :class:`Slots` for one slot per call, and writes the list of
results, in element order, once, when the last call returned.

Bounded: the step asks for at most ``window`` slots at a time (the smaller of its own
``concurrency=`` and the run's limit; every element at once when there is neither),
and asks for the next one as a call returns: 100,000 elements under a limit of 64
never hold more than 64 tasks.  An element waiting for its step's own cap holds no run
slot.  A sub-workflow run per element takes no slot itself (its steps do).

A mapped step that maps over the value of another mapped step is fed elementwise
(:meth:`MappedStep.feed`): item i starts as soon as item i upstream returned and the
step's other upstreams have finished, with no barrier between the two steps (see
:func:`pipelined` and :func:`start_pipelined`).  Its map opens with its upstream's (the
count is known then), and its list is written once it is released and every call
returned.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._call import invoke
from ._values import bind

if TYPE_CHECKING:
    from ._runner import Run


class MapLengthError(ValueError):
    """The lists a step maps over together (``map=("a", "b")``) differ in length."""


def mapped_lists(
    step: str, names: Sequence[str], kwargs: dict[str, Any]
) -> list[list[Any]]:
    """The values mapped over, each taken as a list; raise when one is no iterable or
    when zipped lists differ in length (naming the step and the lengths)."""
    columns: list[list[Any]] = []
    for name in names:
        if name not in kwargs:
            raise TypeError(
                f"step '{step}' maps over '{name}', which was never written (every step "
                f"that writes it was skipped) and a mapped parameter's default is no "
                f"list: drop the default of '{name}' so that the step is skipped too"
            )
        value = kwargs[name]
        try:
            columns.append(list(value))
        except TypeError:
            raise TypeError(
                f"step '{step}' maps over '{name}', so '{name}' must be a list (or any "
                f"iterable), but it is a {type(value).__name__}: {value!r:.80}"
            ) from None
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        described = ", ".join(f"'{n}' has {len(c)}" for n, c in zip(names, columns, strict=True))
        raise MapLengthError(
            f"step '{step}' maps over {', '.join(repr(n) for n in names)} together, so "
            f"they must have as many elements each, but {described}"
        )
    return columns


def window_of(run: Run, position: int, count: int) -> int:
    """How many calls of a mapped step may be asked for at once."""
    own = run.plan.graph.concurrency[position]
    limit = run.slots.limit
    window = count
    if own is not None:
        window = min(window, own)
    if limit is not None:
        window = min(window, limit)
    return max(window, 1)


def pipelined(run: Run, position: int) -> int | None:
    """The mapped step ``position`` is fed elementwise by, if any: the one mapped
    upstream whose value (a plain key nothing folds) is the one list it maps over."""
    plan = run.plan
    graph = plan.graph
    names = graph.maps[position]
    if len(names) != 1 or plan.actions[position].guard is not None:
        return None
    writers = graph.writers.get(names[0], ())
    if len(writers) != 1:
        return None
    upstream = writers[0]
    if not graph.maps[upstream] or plan.simple_key[upstream] != names[0]:
        return None
    if upstream in graph.order_only[position] or plan.graph.tips[position]:
        return None
    return upstream


class MappedStep:
    """One run of a mapped step: its calls, their results, and who feeds it."""

    __slots__ = ("base", "candidates", "columns", "complete", "count", "direct", "done",
                 "downstream", "fed", "finished_items", "fn", "in_flight", "name", "names",
                 "next", "position", "ready", "released", "results", "run", "started",
                 "takes_slot", "window")

    def __init__(self, run: Run, position: int, kwargs: dict[str, Any], now: float) -> None:
        self.run = run
        self.position = position
        self.name = run.names[position]
        self.names = run.plan.graph.maps[position]
        self.base = kwargs
        self.columns: list[list[Any]] = []
        self.count = 0
        self.results: list[Any] = []
        self.finished_items = bytearray()
        #: The elements whose value was handed on to the steps fed elementwise.
        self.fed = bytearray()
        self.next = 0
        self.done = 0
        self.in_flight = 0
        #: Fed elementwise: the elements whose upstream item returned, not yet asked for.
        self.ready: collections.deque[int] | None = None
        self.window = 1
        self.started = now
        #: Released by the schedule (False while started early, fed elementwise).
        self.released = True
        #: Every call returned (its list is written once it is also released).
        self.complete = False
        #: Steps fed elementwise by this one, and those that may be, once ready.
        self.downstream: list[MappedStep] = []
        self.candidates: list[int] = []
        action = run.plan.actions[position]
        #: Sub-workflow runs take no slot themselves: their steps do.
        self.takes_slot = action.body is None
        self.fn = action.fn
        self.direct = (action.fn is not None and action.retry is None
                       and action.timeout is None and run.plan.is_async[position])

    # -- beginning ----------------------------------------------------------------

    def begin(self, columns: list[list[Any]], now: float,
              upstream: MappedStep | None = None) -> None:
        """Start the map over ``columns``; fed elementwise by ``upstream`` (still
        running) when given: its items that returned start now, the others as they
        return."""
        run = self.run
        self.columns = columns
        self.count = count = len(columns[0]) if columns else 0
        self.results = [None] * count
        self.finished_items = bytearray(count)
        self.fed = bytearray(count)
        self.window = window_of(run, self.position, count)
        self.started = now
        run.emit.map_started(time=now, step=self.name, count=count)
        if upstream is not None:
            self.released = False
            self.ready = collections.deque()
            upstream.downstream.append(self)
            column = columns[0]
            for item, value in enumerate(upstream.results):
                if upstream.fed[item]:
                    column[item] = value
                    self.ready.append(item)
            self.complete = not count
        elif not count:
            self.finish(now)
            return
        self.request_more(now)

    def feed(self, item: int, value: Any, now: float) -> None:
        """Item ``item`` upstream returned ``value``: this step's item ``item`` may
        start."""
        self.columns[0][item] = value
        assert self.ready is not None
        self.ready.append(item)
        self.request_more(now)

    def release(self, now: float) -> None:
        """The schedule released this step, started early: write its list once every
        call returned."""
        self.released = True
        if self.complete:
            self.finish(now)

    # -- calls ----------------------------------------------------------------------

    def request_more(self, now: float) -> None:
        """Ask for slots for the next elements, up to the window."""
        run = self.run
        if run.halt.halted:
            return
        priority = run.priority[self.position]
        slots = run.slots
        ready = self.ready
        while self.in_flight < self.window:
            if ready is None:
                if self.next >= self.count:
                    break
                item = self.next
                self.next += 1
            elif ready:
                item = ready.popleft()
            else:
                break
            self.in_flight += 1
            run.emit.step_ready(time=now, step=self.name, item=item)
            if not self.takes_slot:
                self.start(item)
            elif slots.limit is None:  # no limit: start it now
                slots.in_flight += 1
                if slots.in_flight > slots.peak:
                    slots.peak = slots.in_flight
                run.spawn(functools.partial(self.call, item))
            else:
                slots.request(priority, self, item)

    def start(self, position: int) -> bool:
        """Start element ``position`` in the slot it was given (the Slots callback)."""
        run = self.run
        if run.halt.halted:
            return False
        run.spawn(functools.partial(self.call, position))
        return True

    async def call(self, item: int) -> None:
        """One element's task: call the step with the element bound, report it."""
        run = self.run
        if run.halt.halted:  # queued when the run halted: it never starts
            if self.takes_slot:
                run.slots.release()
            return
        kwargs = self.base.copy()
        for name, column in zip(self.names, self.columns, strict=True):
            kwargs[name] = column[item]
        started = run.now()
        run.emit.step_started(time=started, step=self.name, in_flight=run.slots.in_flight,
                              item=item)
        try:
            if self.direct:
                value = await self.fn(**kwargs)  # type: ignore[misc]
            else:
                value = await invoke(run, self.position, kwargs, item)
        except BaseException as error:
            if run.call_failed(self.position, error, self.takes_slot, item):
                raise
            return
        self.returned(item, value, started)

    def returned(self, item: int, value: Any, started: float) -> None:
        """Element ``item`` returned ``value``: log it, feed the steps pipelined on this
        one, ask for the next element's slot; after the last, write the list."""
        run = self.run
        now = run.now()
        self.results[item] = value
        run.emit.step_finished(time=now, step=self.name, duration=now - started,
                               value=value, item=item)
        self.done += 1
        self.in_flight -= 1
        slots = run.slots
        if self.takes_slot:
            slots.vacate()
        self.finished_items[item] = 1
        run.item_ready(self, item, value, now)
        if self.done == self.count:
            self.complete = True
            if self.released:
                self.finish(now)
        else:
            self.request_more(now)
        if self.takes_slot:
            slots.fill()

    def finish(self, now: float) -> None:
        """Every call returned: log the map's end and write the list, once."""
        run = self.run
        run.emit.map_finished(time=now, step=self.name, count=self.count,
                              duration=now - self.started)
        if run.maps is not None:
            run.maps.pop(self.position, None)
        run.report(self.position, self.results, self.started, holds_slot=False)


def start_pipelined(run: Run, upstream: MappedStep, now: float) -> None:
    """Start the steps of ``run`` fed elementwise by ``upstream`` whose other upstreams
    have all finished (their join as usual): no barrier between the two steps."""
    if run.halt.halted or not upstream.count:
        return
    state = run.state
    plan = run.plan
    for position in list(upstream.candidates):
        if run.schedule.remaining(position) != 1:
            continue
        mapped = plan.graph.maps[position][0]
        if any(name not in state for name in plan.required[position] if name != mapped):
            continue
        upstream.candidates.remove(position)
        kwargs = bind(run, position)
        kwargs.pop(mapped, None)
        run.emit.step_ready(time=now, step=run.names[position])
        run.open_map(position, kwargs, [[None] * upstream.count], now, upstream)
