"""What a run returns: the final state, the events, and questions about them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import attrs

from . import events as ev
from ._emit import KINDS

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
    peak_concurrency: int
    _log: list[Any] = attrs.field(repr=False, eq=False)

    @property
    def duration(self) -> float:
        """Seconds from the start of the run to its end (virtual under ``MockClock``)."""
        return self.finished - self.started

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
