"""Running a sub-workflow as a bounded, structured loop (``Repeat``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import trio

from ._control import Repeat, guard_holds
from ._errors import LoopLimitExceeded

if TYPE_CHECKING:
    from ._emit import Emitter

#: Runs one pass: ``run_pass(inputs, iteration) -> final state``.
RunPass = Callable[[dict[str, Any], int], Awaitable[dict[str, Any]]]


async def run_loop(
    run_pass: RunPass, *, step: str, repeat: Repeat, inputs: dict[str, Any],
    emit: Emitter,
) -> dict[str, Any]:
    """Run passes until ``repeat.until`` holds over a pass's final state.

    ``carry`` feeds a pass's keys to the next pass's inputs.  Reaching
    ``max_iterations`` raises :class:`LoopLimitExceeded`, or with ``on_limit="stop"``
    returns the last pass's state.
    """
    assert repeat.max_iterations is not None  # the compiler refuses a loop without one
    state: dict[str, Any] = {}
    for iteration in range(1, repeat.max_iterations + 1):
        emit.loop_iteration(time=trio.current_time(), step=step, iteration=iteration)
        state = await run_pass(inputs, iteration)
        if repeat.until is not None and guard_holds(repeat.until, state):
            return state
        inputs = {**inputs}
        for out_key, in_name in repeat.carry.items():
            if out_key in state:
                inputs[in_name] = state[out_key]
    if repeat.on_limit == "stop":
        return state
    raise LoopLimitExceeded(step, repeat.max_iterations, state)
