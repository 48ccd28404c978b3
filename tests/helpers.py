"""Small helpers shared by the tests: run on a mock clock, read the events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio
import trio.testing

from spectra_dsl import RunResult, Workflow, events

#: Virtual seconds after which a run that should have ended counts as hung.
HANG = 1000


def virtual(main: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``main`` on a fresh MockClock, failing fast (``TooSlowError`` after
    :data:`HANG` virtual seconds) instead of hanging."""

    async def guarded() -> Any:
        with trio.fail_after(HANG):
            return await main()

    return trio.run(guarded, clock=trio.testing.MockClock(autojump_threshold=0))


def run_virtual(wf: Workflow, inputs: dict[str, Any] | None = None, **options: Any) -> RunResult:
    """Compile ``wf`` and run it on a fresh ``MockClock`` (exact virtual times), failing
    fast with ``TooSlowError`` instead of hanging."""
    plan = wf.compile()

    async def main() -> RunResult:
        with trio.fail_after(HANG):
            return await plan.run(inputs, **options)

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def skipped_steps(result: RunResult) -> dict[str, str]:
    """Each skipped top-level step and the reason it was skipped."""
    return {e.step: e.reason for e in result.events_of(events.StepSkipped) if not e.scope}
