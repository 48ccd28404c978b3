"""The workflow the crash tests kill and resume: a root, 40 parallel branches, a join, a
loop and a mapped step.  Every call appends its ``current_step().key`` to the file named
by ``$SPECTRA_SIDE_FILE`` (when set): an append-only count of real calls."""

from __future__ import annotations

import os
from typing import Any

import trio

from spectra_dsl import Join, Repeat, Workflow, current_step, reducers

BRANCHES = 40


def touch() -> None:
    """Count one real call of the running step."""
    path = os.environ.get("SPECTRA_SIDE_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as side:
            side.write(current_step().key + "\n")


def _branch(i: int) -> Any:
    async def branch(root: int) -> int:
        touch()
        await trio.sleep(1 + i % 4)
        return root + i

    branch.__name__ = f"b{i:02d}"
    return branch


def build() -> Workflow:
    """The workflow: root -> 40 branches -> join -> loop (3 passes) -> mapped -> end."""
    body = Workflow("count-up")

    @body.step
    async def step_up(n: int) -> int:
        touch()
        await trio.sleep(1)
        return n + 1

    wf = Workflow("crashy", reducers={"total": reducers.add})

    @wf.step
    async def root(seed: int) -> int:
        touch()
        await trio.sleep(1)
        return seed * 10

    for i in range(BRANCHES):
        wf.step(writes="total")(_branch(i))

    @wf.step(join=Join.ALL)
    async def joined(total: int) -> int:
        touch()
        return total

    wf.add(body, name="loop", writes=("step_up",),
           repeat=Repeat(until=lambda step_up: step_up >= 3, max_iterations=5,
                         carry={"step_up": "n"}))

    @wf.step
    async def n(joined: int) -> int:
        touch()
        return 0

    @wf.step
    async def pieces(step_up: int, joined: int) -> list[int]:
        touch()
        return [joined + k for k in range(step_up + 2)]

    @wf.step(map="pieces")
    async def doubled(pieces: int) -> int:
        touch()
        await trio.sleep(pieces % 2)
        return pieces * 2

    @wf.step
    async def end(doubled: list[int], step_up: int) -> dict[str, Any]:
        touch()
        return {"sum": sum(doubled), "passes": step_up}

    return wf
