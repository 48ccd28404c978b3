"""Store calls are synchronous and never wait on trio: on ``MockClock`` they take no
virtual time, so a run with a store keeps the exact times of a run without one."""

from __future__ import annotations

import trio
import trio.testing

from spectra_dsl.store import Store

from .conftest import MakeStore


async def _branches(store: Store | None, log: list[tuple[str, float]]) -> None:
    """Three parallel branches of 1, 2 and 3 virtual seconds, each journaled when it
    ends, the last two of them together in one group commit."""
    if store is not None:
        store.create_run("r", workflow="wf", inputs={"n": 3})

    async def branch(name: str, seconds: int) -> None:
        await trio.sleep(seconds)
        if store is not None:
            store.commit("r", [store.record(name, "finished", values={name: seconds})])
        log.append((name, trio.current_time()))

    async def pair() -> None:
        await trio.sleep(2)
        if store is not None:
            store.commit("r", [store.record(n, "finished", values={n: 2}) for n in "bc"])
        log.append(("bc", trio.current_time()))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(branch, "a", 1)
        nursery.start_soon(pair)
        nursery.start_soon(branch, "d", 3)
    if store is not None:
        store.commit("r", status="finished")
    log.append(("end", trio.current_time()))


def _virtual(store: Store | None) -> list[tuple[str, float]]:
    log: list[tuple[str, float]] = []
    trio.run(_branches, store, log, clock=trio.testing.MockClock(autojump_threshold=0))
    return log


def test_a_journaled_run_has_the_same_virtual_times_as_without_a_store(
    make_store: MakeStore,
) -> None:
    without = _virtual(None)
    assert sorted(without) == [("a", 1.0), ("bc", 2.0), ("d", 3.0), ("end", 3.0)]
    store = make_store()
    assert sorted(_virtual(store)) == sorted(without)
    assert [(r.step, store.values(r)) for r in store.steps("r")] == [
        ("a", {"a": 1}), ("b", {"b": 2}), ("c", {"c": 2}), ("d", {"d": 3})]
    assert store.run("r").status == "finished"


async def test_opening_a_store_with_async_with_takes_no_virtual_time(
    make_store: MakeStore, autojump_clock: trio.testing.MockClock,
) -> None:
    start = trio.current_time()
    async with make_store() as store:
        store.create_run("r", workflow="wf")
        await trio.sleep(5)
        store.commit("r", [store.record("a", "finished")])
        assert trio.current_time() == start + 5
    assert store.closed and trio.current_time() == start + 5
