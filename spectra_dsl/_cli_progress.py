"""The live progress display of ``spectra run``: steps done, running and waiting, and a
bar per mapped step.

:class:`Progress` is the model: a plain ``on_event`` function that counts what the
events say (no rich, no trio), cheap enough to be called for every event of a run.
:func:`render` draws it with rich and :func:`shown` refreshes it ten times a second in a
trio task while the run goes on; rich is imported only there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Literal, TypeVar

import trio

from . import events as ev

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

T = TypeVar("T")
Status = Literal["waiting", "running", "done", "skipped", "failed", "cancelled", "asked"]

#: The statuses the summary names only when some step has them.
SETTLED: tuple[Status, ...] = ("asked", "skipped", "failed", "cancelled")

#: The most mapped steps given a bar at once.
MAX_BARS = 8

#: How often the display is redrawn, in seconds.
REFRESH = 0.1


class Progress:
    """What a run has done so far, from its events (only the top level's steps are
    counted; a sub-workflow counts as one step)."""

    def __init__(self, workflow: str, steps: Sequence[str]) -> None:
        self.workflow = workflow
        self.status: dict[str, Status] = dict.fromkeys(steps, "waiting")
        #: Mapped steps that started: step -> [calls finished, element count].
        self.maps: dict[str, list[int]] = {}
        self.started: float | None = None
        self.now: float | None = None

    def __call__(self, event: ev.Event) -> None:
        """Take one event of the run (this is the run's ``on_event``)."""
        self.now = event.time
        if self.started is None:
            self.started = event.time
        if getattr(event, "scope", ()):
            return  # inside a sub-workflow: its step counts as one
        kind = type(event)
        if kind is ev.StepFinished:
            assert isinstance(event, ev.StepFinished)
            if event.item is None:
                self._set(event.step, "done")
            elif event.step in self.maps:
                self.maps[event.step][0] += 1
        elif kind is ev.StepStarted:
            assert isinstance(event, ev.StepStarted)
            if event.item is None:
                self._set(event.step, "running")
        elif kind is ev.MapStarted:
            assert isinstance(event, ev.MapStarted)
            self.maps[event.step] = [0, event.count]
            self._set(event.step, "running")
        elif kind is ev.StepSkipped:
            assert isinstance(event, ev.StepSkipped)
            self._set(event.step, "skipped")
        elif kind is ev.StepError:
            assert isinstance(event, ev.StepError)
            self._set(event.step, "failed")
        elif kind is ev.StepCancelled:
            assert isinstance(event, ev.StepCancelled)
            if self.status.get(event.step) == "running":
                self._set(event.step, "cancelled")
        elif kind.__name__ == "StepRestored":  # durable runs: recorded, not run again
            step = getattr(event, "step", None)
            if isinstance(step, str) and getattr(event, "item", None) is None:
                asked = getattr(event, "status", None) == "asked"  # still no answer
                self._set(step, "asked" if asked else "done")
        elif kind.__name__ == "StepAsked":  # an ask step waits for a person's answer
            step = getattr(event, "step", None)
            if isinstance(step, str):
                self._set(step, "asked")

    def _set(self, step: str, status: Status) -> None:
        if step in self.status:
            self.status[step] = status

    def count(self, status: Status) -> int:
        """How many steps are in ``status``."""
        return sum(1 for s in self.status.values() if s == status)

    def named(self, status: Status) -> list[str]:
        """The steps in ``status``, in plan order."""
        return [step for step, s in self.status.items() if s == status]

    @property
    def elapsed(self) -> float:
        """Seconds of the run so far (from its first event to its latest)."""
        if self.started is None or self.now is None:
            return 0.0
        return self.now - self.started

    def summary(self) -> str:
        """One line: ``3 done, 1 running, 2 waiting`` (and skipped or failed, if any)."""
        parts = [f"{self.count('done')}/{len(self.status)} done",
                 f"{self.count('running')} running", f"{self.count('waiting')} waiting"]
        parts += [f"{n} {status}" for status in SETTLED
                  if (n := self.count(status))]
        return ", ".join(parts)


def render(progress: Progress, elapsed: float) -> RenderableType:
    """The display: a line of counts, the steps running, a bar per mapped step."""
    from rich.console import Group
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    head = Text.assemble(
        ("spectra ", "bold"), (progress.workflow, "bold cyan"),
        f"  {progress.summary()}  ", (f"{elapsed:.1f}s", "dim"),
    )
    rows: list[RenderableType] = [head]
    running = progress.named("running")
    if running:
        rows.append(Text.assemble(("running: ", "yellow"), ", ".join(running)))
    if progress.maps:
        # The bars of mapped steps under way first, then the latest finished ones.
        maps = list(progress.maps.items())
        listed = ([m for m in maps if m[1][0] < m[1][1]]
                  + [m for m in reversed(maps) if m[1][0] >= m[1][1]])[:MAX_BARS]
        bars = Table.grid(padding=(0, 1))
        for step, (done, count) in listed:
            bar = ProgressBar(total=max(count, 1), completed=done if count else 1, width=30)
            bars.add_row(Text(step), bar, Text(f"{done}/{count}", style="dim"))
        rows.append(bars)
        if len(maps) > len(listed):
            rows.append(Text(f"... and {len(maps) - len(listed)} more mapped steps", "dim"))
    failed = progress.named("failed")
    if failed:
        rows.append(Text.assemble(("failed: ", "bold red"), ", ".join(failed)))
    return Group(*rows)


async def shown(progress: Progress, console: Console,
                run: Callable[[], Awaitable[T]]) -> T:
    """Await ``run()`` while ``progress`` is redrawn on ``console`` every
    :data:`REFRESH` seconds; the display is cleared at the end (what follows prints the
    outcome).  The run's exception is raised as it is, never in an exception group."""
    from rich.live import Live

    started = trio.current_time()
    result: list[T] = []
    error: list[Exception] = []
    with Live(render(progress, 0.0), console=console, auto_refresh=False,
              transient=True) as display:

        async def redraw() -> None:
            while True:
                display.update(render(progress, trio.current_time() - started), refresh=True)
                await trio.sleep(REFRESH)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(redraw)
            try:
                result.append(await run())
            except Exception as failed:  # raised below, outside the nursery
                error.append(failed)
            finally:
                nursery.cancel_scope.cancel()
    if error:
        raise error[0]
    return result[0]
