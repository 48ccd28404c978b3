"""A mapped step fed elementwise by another mapped step is pipelined in a durable run
too: element i of the second starts once element i of the first has returned and its
record is committed, in the same virtual time as without a store; a crash at any
commit resumes to the same state with every recorded element called once."""

from __future__ import annotations

import collections
import contextlib
import functools
import sys
from typing import ClassVar

import trio

from spectra_dsl import Workflow
from spectra_dsl.store import MemoryStore
from tests.durable.test_properties import Crash, CrashingStore
from tests.helpers import virtual

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup


class Calls:
    seen: ClassVar[collections.Counter[str]] = collections.Counter()


def pipeline() -> Workflow:
    wf = Workflow("pipe")

    @wf.step
    async def numbers(n: int) -> list[int]:
        return list(range(n))

    @wf.step(map="numbers")
    async def fetch(numbers: int) -> int:
        Calls.seen[f"fetch[{numbers}]"] += 1
        await trio.sleep(1 + 2 * numbers)  # 1, 3, 5, ...
        return numbers * 10

    @wf.step(map="fetch")
    async def parse(fetch: int) -> str:
        Calls.seen[f"parse[{fetch // 10}]"] += 1
        await trio.sleep(3 if fetch == 0 else 1)
        return f"<{fetch}>"

    @wf.step
    async def joined(parse: list[str]) -> str:
        return ",".join(parse)

    return wf


def test_a_durable_run_pipelines_at_the_same_virtual_times() -> None:
    plan = pipeline().compile()
    bare = virtual(lambda: plan.run({"n": 3}))
    stored = virtual(lambda: plan.run({"n": 3}, store=MemoryStore(), run_id="r"))
    assert stored["joined"] == bare["joined"] == "<0>,<10>,<20>"
    # parse[0] runs [1, 4) while fetch[1] and fetch[2] still run: no barrier
    assert stored.intervals()["parse[0]"] == bare.intervals()["parse[0]"] == (1.0, 4.0)
    assert stored.duration == bare.duration == 6.0


def test_a_crash_at_any_commit_resumes_the_pipeline_without_calling_recorded_elements(
) -> None:
    plan = pipeline().compile()
    reference = CrashingStore(0)
    expected = virtual(lambda: plan.run({"n": 3}, store=reference, run_id="r"))
    assert reference.commits >= 6  # numbers, elements as they return, fetch, parse, end
    for crash_at in range(1, reference.commits + 1):
        Calls.seen = collections.Counter()
        store = CrashingStore(crash_at)
        with contextlib.suppress(Crash, BaseExceptionGroup):
            virtual(functools.partial(plan.run, {"n": 3}, store=store, run_id="r"))
        recorded = {f"{r.step}[{r.item}]" for r in store.steps("r") if r.item is not None}
        first = collections.Counter(Calls.seen)
        store.crash_at = 0
        resumed = virtual(functools.partial(plan.resume, "r", store=store))
        assert dict(resumed) == dict(expected), crash_at
        again = {key: n for key, n in (Calls.seen - first).items() if key in recorded}
        assert again == {}, f"crash at {crash_at}: recorded elements called again: {again}"
        # an element of parse recorded means its fetch element was recorded first
        for key in recorded:
            if key.startswith("parse["):
                assert "fetch" + key[len("parse"):] in recorded, (crash_at, recorded)


def test_an_element_starts_only_once_its_upstream_element_is_committed() -> None:
    store = MemoryStore()
    seen: dict[int, set[int | None]] = {}
    wf = Workflow("pipe")

    @wf.step
    async def numbers(n: int) -> list[int]:
        return list(range(n))

    @wf.step(map="numbers")
    async def fetch(numbers: int) -> int:
        await trio.sleep(numbers)
        return numbers

    @wf.step(map="fetch")
    async def parse(fetch: int) -> int:  # what the journal holds of fetch as it starts
        seen[fetch] = {r.item for r in store.steps("r") if r.step == "fetch"}
        return fetch

    result = virtual(lambda: wf.compile().run({"n": 4}, store=store, run_id="r"))
    assert result["parse"] == [0, 1, 2, 3]
    # its own element's record, or the whole step's (which holds every element)
    assert all(item in seen[item] or None in seen[item] for item in range(4)), seen
    assert seen[0] == {0}  # and it did not wait for the others: pipelined
