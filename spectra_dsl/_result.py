"""What a run returns: the final state, the events, and questions about them."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs

from . import events as ev
from ._emit import KINDS
from ._timeline import calls, join_arrivals, render
from ._trace import chrome_trace, dumps, lanes

E = TypeVar("E", bound=ev.Event)


@attrs.frozen
class RunResult(Mapping[str, Any]):
    """The outcome of a run that finished.

    It is a read-only mapping of the final state (``result["merge"]``): inputs, step
    outputs and folded keys.  ``events`` lists everything that happened, in order.
    """

    workflow: str
    state: Mapping[str, Any]
    started: float
    finished: float
    #: The most slots of the run's limit held at once.  A slot is taken when a step is
    #: given it, which may be before the step that frees one in the same instant has
    #: logged its finish: see ``peak_concurrency`` for the calls that ran together.
    slot_peak: int
    _log: list[Any] = attrs.field(repr=False, eq=False)
    #: The run's id in its store (``None`` for a run with no store).
    run_id: str | None = None
    #: ``"finished"``, or ``"interrupted"``: waiting for a person's answers (``pending``).
    status: str = "finished"
    #: Each unanswered ask step's question (its ``Ask`` payload), by step name.
    pending: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def duration(self) -> float:
        """Seconds from the start of the run to its end (virtual under ``MockClock``)."""
        return self.finished - self.started

    @property
    def peak_concurrency(self) -> int:
        """The most step calls running at one instant, each counted over [start, finish)
        (a call that takes no time counts at its instant): a chain has 1, a diamond 2.
        It is the number of lanes of :meth:`to_chrome_trace`; never above the limit."""
        return max(lanes(calls(self.events, self.finished)).values(), default=0)

    @property
    def events(self) -> list[ev.Event]:
        """Every event of the run, in the order it happened."""
        log = self._log
        for i, entry in enumerate(log):
            if type(entry) is tuple:  # (kind, *fields), as the runner logs it
                log[i] = KINDS[entry[0]](*entry[1:])
        return list(log)

    def events_of(self, kind: type[E]) -> list[E]:
        """The events of one class, such as ``events.StepFinished``."""
        return [e for e in self.events if isinstance(e, kind)]

    def intervals(self) -> dict[str, tuple[float, float]]:
        """When each top-level step started and finished: ``{name: (start, end)}``.

        A mapped step has its own span (from its map's start to its last call's end)
        and one per call, named ``"name[i]"`` for element ``i``."""
        starts: dict[str, float] = {}
        spans: dict[str, tuple[float, float]] = {}
        for event in self.events:
            if event_scope(event):
                continue
            if isinstance(event, ev.StepStarted):
                starts[_call_name(event.step, event.item)] = event.time
            elif isinstance(event, ev.MapStarted):
                starts[event.step] = event.time
            elif isinstance(event, ev.StepFinished):
                name = _call_name(event.step, event.item)
                spans[name] = (starts[name], event.time)
        return spans

    def ran_together(self, step: str) -> list[str]:
        """The steps whose run overlapped ``step``'s (which steps ran together); the
        calls of a mapped step are named ``"name[i]"`` (see :meth:`intervals`)."""
        spans = self.intervals()
        if step not in spans:
            raise KeyError(
                f"step '{step}' did not run in this run (it was skipped, or the workflow "
                f"has no such step); the steps that ran: {', '.join(sorted(spans))}"
            )
        start, end = spans[step]
        return sorted(
            other for other, (s, e) in spans.items()
            if other != step and s < end and start < e
        )

    def timeline(self, *, width: int = 40, ascii: bool = False) -> str:
        """A text Gantt chart of the run: one row per step call (``step[i]`` for an
        element of a mapped step, ``sub/step`` inside a sub-workflow), a bar ``width``
        characters wide, its times from the start, what ran beside it; skipped and failed
        steps are marked.  ``ascii=True`` draws with ``#`` and ``=`` only."""
        events = self.events
        return render(calls(events, self.finished), self.started, self.finished,
                      width=width, ascii=ascii, joins=join_arrivals(events))

    def to_chrome_trace(self, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """The run as Trace Event JSON (open it in ui.perfetto.dev or chrome://tracing):
        one lane per slot used at once (``peak_concurrency`` lanes, nothing overlaps on
        a lane), sub-workflows and loop passes as nested slices.  Returns the document;
        with ``path``, also writes it there as JSON."""
        document = chrome_trace(calls(self.events, self.finished), self.workflow,
                                self.started, self.finished, "finished")
        if path is not None:
            Path(path).write_text(dumps(document), encoding="utf-8")
        return document

    def __getitem__(self, key: str) -> Any:
        return self.state[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.state)

    def __len__(self) -> int:
        return len(self.state)


def _call_name(step: str, item: int | None) -> str:
    return step if item is None else f"{step}[{item}]"


def event_scope(event: ev.Event) -> tuple[str, ...]:
    """The sub-workflow path an event happened in (empty at the top level)."""
    scope: tuple[str, ...] = getattr(event, "scope", ())
    return scope
