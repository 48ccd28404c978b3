"""Deleting runs and pruning old ones: exactly what the arguments say, never a live run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectra_dsl.store import MemoryStore, RunStatus, SqliteStore, Store

from .conftest import MakeStore, WallClock

DAY = 86400.0


def _ended(store: Store, clock: WallClock, run_id: str, status: RunStatus, at: float) -> None:
    clock.now = at
    store.create_run(run_id, workflow="wf", inputs={"n": run_id})
    store.commit(run_id, [store.record("a", "finished", values={"a": run_id})],
                 status=status)
    store.release(run_id)


def test_delete_removes_the_run_and_its_records_only(store: Store, clock: WallClock) -> None:
    _ended(store, clock, "a", "finished", 1.0)
    _ended(store, clock, "b", "failed", 2.0)
    store.delete("a")
    assert [r.run_id for r in store.runs()] == ["b"]
    assert [r.step for r in store.steps("b")] == ["a"]
    store.create_run("a", workflow="wf")  # the id is free again
    assert store.steps("a") == []


def test_prune_older_than_deletes_what_ended_before_and_keeps_running_runs(
    store: Store, clock: WallClock,
) -> None:
    _ended(store, clock, "old-ok", "finished", 0.0)
    _ended(store, clock, "old-bad", "failed", 1.0)
    _ended(store, clock, "old-ask", "interrupted", 2.0)
    clock.now = 3.0
    store.create_run("old-running", workflow="wf")
    store.release("old-running")  # a crashed run waiting for resume
    _ended(store, clock, "new", "finished", 10 * DAY)
    clock.now = 10 * DAY + 1
    assert store.prune(older_than=7 * DAY) == ["old-ok", "old-bad", "old-ask"]
    assert [r.run_id for r in store.runs()] == ["old-running", "new"]
    assert store.prune(older_than=0, status="running") == ["old-running"]


def test_prune_keep_keeps_the_newest_of_a_status(store: Store, clock: WallClock) -> None:
    for i in range(5):
        _ended(store, clock, f"ok{i}", "finished", float(i))
        _ended(store, clock, f"bad{i}", "failed", i + 0.5)
    assert store.prune(keep=2, status="failed") == ["bad0", "bad1", "bad2"]
    assert store.prune(keep=3, older_than=3.2) == ["ok0", "ok1"]
    assert sorted(r.run_id for r in store.runs()) == ["bad3", "bad4", "ok2", "ok3", "ok4"]


def test_prune_never_deletes_a_run_a_live_owner_holds(store: Store, clock: WallClock) -> None:
    store.create_run("mine", workflow="wf")
    store.commit("mine", status="finished")
    assert store.prune(keep=0, status=["finished", "running"]) == []
    store.release("mine")
    assert store.prune(keep=0) == ["mine"]


def test_prune_needs_a_limit_and_checks_its_arguments(store: Store) -> None:
    with pytest.raises(TypeError, match="needs older_than="):
        store.prune()
    with pytest.raises(ValueError, match="keep= must be an int >= 0"):
        store.prune(keep=-1)
    with pytest.raises(ValueError, match="older_than= must be seconds >= 0"):
        store.prune(older_than=float("nan"))
    with pytest.raises(ValueError, match="status= must be one of"):
        store.prune(keep=1, status="done")  # type: ignore[arg-type]


def test_runs_filters_by_status_and_workflow(store: Store, clock: WallClock) -> None:
    _ended(store, clock, "a", "finished", 1.0)
    _ended(store, clock, "b", "failed", 2.0)
    assert [r.run_id for r in store.runs(status="failed")] == ["b"]
    assert [r.run_id for r in store.runs(status=("failed", "finished"))] == ["a", "b"]
    assert store.runs(workflow="other") == []


def test_pruning_gives_the_space_back(tmp_path: Path, clock: WallClock) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path, clock=clock) as store:
        store.create_run("big", workflow="wf")
        store.commit("big", [store.record("s", "finished", item=i,
                                          values={"s": bytes(2000)}) for i in range(500)],
                     status="finished")
        store.release("big")
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        full = path.stat().st_size
        assert store.prune(keep=0) == ["big"]
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert path.stat().st_size < full / 4


# -- property: prune keeps exactly what it says ----------------------------------------

STATUSES: list[RunStatus] = ["running", "finished", "failed", "interrupted"]


@pytest.fixture(scope="module")
def prune_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    clock = WallClock()
    path = tmp_path_factory.mktemp("prune") / "runs.sqlite"
    with SqliteStore(path, clock=clock) as sqlite, MemoryStore(clock=clock) as memory:
        yield {"clock": clock, "stores": (sqlite, memory)}


@settings(max_examples=30)
@given(runs=st.lists(st.tuples(st.sampled_from(STATUSES), st.integers(0, 20)), max_size=8),
       older_than=st.none() | st.integers(0, 20), keep=st.none() | st.integers(0, 5),
       status=st.none() | st.sets(st.sampled_from(STATUSES), min_size=1))
def test_prune_deletes_exactly_the_runs_its_arguments_name(
    prune_stores: dict[str, Any], runs: list[tuple[RunStatus, int]],
    older_than: int | None, keep: int | None, status: set[RunStatus] | None,
) -> None:
    if older_than is None and keep is None:
        keep = 0
    clock: WallClock = prune_stores["clock"]
    for store in prune_stores["stores"]:
        for record in store.runs():
            store.delete(record.run_id, force=True)
        for i, (run_status, at) in enumerate(runs):
            clock.now = float(at)
            store.create_run(f"r{i}", workflow="wf")
            store.commit(f"r{i}", status=run_status)
            store.release(f"r{i}")
        clock.now = 20.0
        deleted = store.prune(older_than=older_than, keep=keep, status=status)
        wanted = status or {"finished", "failed", "interrupted"}
        matching = sorted((at, i) for i, (s, at) in enumerate(runs) if s in wanted)
        kept_newest = matching[max(0, len(matching) - keep):] if keep else []
        expected = [f"r{i}" for at, i in matching if (at, i) not in kept_newest
                    and (older_than is None or at < 20 - older_than)]
        assert deleted == expected
        assert {r.run_id for r in store.runs()} == {f"r{i}" for i in range(len(runs))} - set(
            expected)


def test_older_than_counts_from_the_last_update(make_store: MakeStore,
                                               clock: WallClock) -> None:
    store = make_store()
    _ended(store, clock, "x", "finished", 5.0)
    assert store.prune(older_than=0) == []  # updated this very second
    clock.now = 5.5
    assert store.prune(older_than=1) == []
    assert store.prune(older_than=0) == ["x"]
    assert store.runs() == []
