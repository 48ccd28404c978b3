"""result.timeline(): the text Gantt chart of a run, and of a failed run so far."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from spectra_dsl import Retry, StepFailed, Workflow
from tests.helpers import run_virtual


def mapped() -> Workflow:
    wf = Workflow("mapped")

    @wf.step
    async def urls() -> list[str]:
        return ["a", "b", "c"]

    @wf.step(map="urls", concurrency=2)
    async def page(urls: str) -> str:
        await trio.sleep(1)
        return urls * 2

    @wf.step(when=lambda page: len(page) > 10)
    async def never(page: list[str]) -> int:
        return 1

    return wf


def test_mapped_items_the_map_and_skips_get_rows() -> None:
    result = run_virtual(mapped())
    rows = result.timeline(width=8).splitlines()
    labels = [row.split()[0] for row in rows]
    assert labels[:2] == ["urls", "page"]
    assert sorted(labels[2:5]) == ["page[0]", "page[1]", "page[2]"]
    assert labels[5] == "never"
    by_label = dict(zip(labels, rows, strict=True))
    assert by_label["page"] == "page    |════════|  0.00s ->  2.00s"  # the map as a whole
    assert by_label["page[2]"] == "page[2] |    ████|  1.00s ->  2.00s"
    assert by_label["page[0]"].endswith("ran together with: page[1]")
    assert by_label["never"] == (
        "never   |       ·|  2.00s            skipped: its when= guard does not hold"
    )


def test_sub_workflow_steps_are_labelled_with_their_path_and_ascii_draws_plainly() -> None:
    sub = Workflow("sub")

    @sub.step
    async def inner(n: int) -> int:
        await trio.sleep(2)
        return n

    wf = Workflow("outer")

    @wf.step(retry=Retry(attempts=2, backoff=0))
    async def n() -> int:
        if trio.current_time() == 0:
            await trio.sleep(1)
            raise ValueError("once")
        return 1

    wf.add(sub, name="review", writes=("inner",))
    text = run_virtual(wf).timeline(width=3, ascii=True)
    assert text.splitlines() == [
        "n            |#  |  0.00s ->  1.00s  2 attempts",
        "review       | ==|  1.00s ->  3.00s",
        "review/inner | ##|  1.00s ->  3.00s",
    ]


def test_a_failed_run_keeps_its_partial_timeline() -> None:
    wf = Workflow("fails")

    @wf.step
    async def a() -> int:
        await trio.sleep(1)
        return 1

    @wf.step
    async def boom(a: int) -> int:
        await trio.sleep(1)
        raise ValueError("no luck")

    @wf.step
    async def slow(a: int) -> int:
        await trio.sleep(5)
        return a

    plan = wf.compile()
    with pytest.raises(StepFailed) as caught:
        trio.run(plan.run, clock=trio.testing.MockClock(autojump_threshold=0))
    error = caught.value
    assert [type(e).__name__ for e in error.events][:2] == ["WorkflowStarted", "StepReady"]
    rows = dict((row.split()[0], row) for row in error.timeline(width=4).splitlines())
    assert rows["a"] == "a    |██  |  0.00s ->  1.00s"
    assert rows["boom"].startswith("boom |  █✗|  1.00s ->  2.00s  failed: ValueError: no luck")
    assert rows["slow"].startswith("slow |  ██|  1.00s ->  2.00s  cancelled")


def test_width_must_be_a_whole_number_of_characters() -> None:
    result = run_virtual(mapped())
    with pytest.raises(ValueError, match="width must be a whole number"):
        result.timeline(width=0)
