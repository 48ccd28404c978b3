"""Large group commits are stored as one batch row in SQLite; nothing else changes:
the same records, seqs and values as single rows (and as the MemoryStore) give, each
key in exactly one place, after replacing, discarding, releasing and reopening.
Also: a version 1 file is upgraded, and a plan's fingerprints are stored once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectra_dsl._store_batch import BATCH_MIN, pack, pack_finished, unpack
from spectra_dsl._store_records import Finished
from spectra_dsl.store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    MemoryStore,
    SqliteStore,
    StepWrite,
    Store,
    new_run_id,
)


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def fan(store: Store, n: int, *, step: str = "b", status: Any = "finished",
        scope: tuple[str, ...] = ()) -> list[Any]:
    return [store.record(step, status, item=i, scope=scope, values={step: i * 10})
            for i in range(n)]


def test_a_large_group_commit_is_one_row_and_reads_back_as_its_records(
        tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path) as store:
        store.create_run("r", workflow="wf")
        store.commit("r", [store.record("root", "finished", values={"root": 1})])
        store.commit("r", fan(store, 100))
        got = store.steps("r")
        assert [(r.step, r.item, r.seq) for r in got] == [("root", None, 1)] + [
            ("b", i, i + 2) for i in range(100)]
        assert [store.values(r) for r in got[1:]] == [{"b": i * 10} for i in range(100)]
    db = raw(path)
    assert db.execute("SELECT count(*) FROM steps").fetchone() == (1,)
    assert db.execute("SELECT seq, count FROM batches").fetchall() == [(2, 100)]
    db.close()


def test_a_commit_smaller_than_a_batch_stays_single_rows(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path) as store:
        store.create_run("r", workflow="wf")
        store.commit("r", fan(store, BATCH_MIN - 1))
    db = raw(path)
    assert db.execute("SELECT count(*) FROM steps").fetchone() == (BATCH_MIN - 1,)
    assert db.execute("SELECT count(*) FROM batches").fetchone() == (0,)
    db.close()


def test_every_kind_of_record_round_trips_through_a_batch(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "runs.sqlite") as store:
        store.create_run("r", workflow="wf")
        odd = [
            store.record("split", "finished", values={"left": 1, "right": (2, 3)}),
            store.record("page", "finished", item=0, scope=("review", "loop#2"),
                         attempt=3, values={"page": "p0"}),
            store.record("winner", "started", values={"a": 1}),
            store.record("boom", "failed", attempt=2, error="ValueError: no é"),
            store.record("approve", "asked", payload={"question": "Publish?"}),
            store.record("sign", "answered", payload="Sign?", values={"sign": True}),
            store.record("nothing", "finished"),
        ]
        records = odd + fan(store, BATCH_MIN)
        store.commit("r", records)
        got = store.steps("r")
        assert [r.as_write() for r in got] == records
        assert store.payload(got[4]) == {"question": "Publish?"}
        assert store.values(got[0]) == {"left": 1, "right": (2, 3)}


def test_writing_a_batched_key_again_moves_it_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path) as store:
        store.create_run("r", workflow="wf")
        store.commit("r", fan(store, 20))
        store.commit("r", [store.record("b", "failed", item=3, error="again")])
        got = store.steps("r")
        assert [(r.item, r.seq) for r in got] == [(i, i + 1) for i in range(20) if i != 3] + [
            (3, 21)]
        assert got[-1].status == "failed"
        # a batch replacing single rows (and a batch) leaves no copy behind
        store.commit("r", fan(store, 20, status="finished"))
        again = store.steps("r")
        assert [(r.item, r.seq, r.status) for r in again] == [
            (i, 22 + i, "finished") for i in range(20)]
    db = raw(path)
    assert db.execute("SELECT count(*) FROM steps").fetchone() == (0,)
    assert db.execute("SELECT seq, count FROM batches").fetchall() == [(22, 20)]
    db.close()


def test_discarding_a_batched_step_deletes_its_records_only(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "runs.sqlite") as store:
        store.create_run("r", workflow="wf")
        store.commit("r", fan(store, 10, step="a") + fan(store, 10, step="b"))
        assert store.discard("r", [((), "a")]) == 10
        assert [(r.step, r.item, r.seq) for r in store.steps("r")] == [
            ("b", i, 11 + i) for i in range(10)]


def test_one_commit_naming_a_key_twice_keeps_its_last_record(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "runs.sqlite") as store:
        store.create_run("r", workflow="wf")
        first = fan(store, BATCH_MIN)
        store.commit("r", [*first, store.record("b", "failed", item=0, error="x")])
        got = store.steps("r")
        assert [(r.item, r.seq) for r in got] == [(i, i + 1) for i in range(1, BATCH_MIN)] + [
            (0, BATCH_MIN + 1)]
        assert got[-1].status == "failed"


# -- property: batches change nothing a reader sees ------------------------------------

keys = st.tuples(st.sampled_from([(), ("sub",), ("sub", "loop#2")]),
                 st.sampled_from(["a", "b", "c"]), st.none() | st.integers(0, 12))


@st.composite
def actions(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["commit", "commit", "commit", "discard", "reopen"]))
    if kind == "commit":
        size = draw(st.sampled_from([1, 3, BATCH_MIN - 1, BATCH_MIN, 30]))
        chosen = draw(st.lists(keys, min_size=size, max_size=size))
        statuses = draw(st.lists(st.sampled_from(["finished", "failed", "started"]),
                                 min_size=size, max_size=size))
        return kind, list(zip(chosen, statuses, strict=True))
    if kind == "discard":
        return kind, draw(st.tuples(st.sampled_from([(), ("sub",)]),
                                    st.sampled_from(["a", "b", "c", "sub"])))
    return kind, None


@pytest.fixture(scope="module")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("batches") / "runs.sqlite"


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(actions(), max_size=8))
def test_random_commits_discards_and_reopens_read_the_same_on_both_stores(
    sqlite_path: Path, steps: list[tuple[str, Any]],
) -> None:
    run_id = new_run_id()
    memory = MemoryStore()
    sqlite = SqliteStore(sqlite_path)
    try:
        for store in (memory, sqlite):
            store.create_run(run_id, workflow="wf")
        for kind, what in steps:
            if kind == "reopen":  # another store object takes over: nothing is cached
                sqlite.close()
                sqlite = SqliteStore(sqlite_path)
                sqlite.acquire(run_id)
                continue
            for store in (memory, sqlite):
                if kind == "discard":
                    store.discard(run_id, [what])
                else:
                    store.commit(run_id, [
                        store.record(step, status, scope=scope, item=item,
                                     values={step: [step, item, n]},
                                     error="e" if status == "failed" else None)
                        for n, ((scope, step, item), status) in enumerate(what)])
        expected = [attrs.evolve(r, updated=0.0) for r in memory.steps(run_id)]
        got = sqlite.steps(run_id)
        assert [attrs.evolve(r, updated=0.0) for r in got] == expected
        assert [sqlite.values(r) for r in got] == [memory.values(r) for r in expected]
        assert len({r.key for r in got}) == len(got)
        db = raw(sqlite_path)
        singles = db.execute("SELECT count(*) FROM steps WHERE rid = (SELECT rid FROM runs "
                             "WHERE run_id = ?)", (run_id,)).fetchone()[0]
        batched = db.execute("SELECT coalesce(sum(count), 0) FROM batches WHERE rid = "
                             "(SELECT rid FROM runs WHERE run_id = ?)", (run_id,)).fetchone()[0]
        db.close()
        assert singles + batched == len(got)  # each record stored once, nothing dead
    finally:
        sqlite.close()
        memory.close()


# -- the schema: version 1 files, fingerprints stored once ----------------------------

V1 = (
    """CREATE TABLE runs (rid INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE,
        workflow TEXT NOT NULL, status TEXT NOT NULL, created REAL NOT NULL,
        updated REAL NOT NULL, codec TEXT NOT NULL, inputs BLOB NOT NULL,
        plan_fingerprint TEXT NOT NULL, step_fingerprints TEXT NOT NULL, error TEXT,
        lease_pid INTEGER, lease_host TEXT, lease_token TEXT, lease_since REAL,
        lease_started TEXT)""",
    """CREATE TABLE steps (rid INTEGER NOT NULL, scope TEXT NOT NULL, step TEXT NOT NULL,
        item INTEGER NOT NULL, status TEXT NOT NULL, attempt INTEGER NOT NULL, error TEXT,
        payload BLOB, keys TEXT NOT NULL, data BLOB NOT NULL, seq INTEGER NOT NULL,
        updated REAL NOT NULL, UNIQUE (rid, scope, step, item))""",
)


def test_a_version_1_store_is_upgraded_and_its_runs_resume(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "old.sqlite"
    db = raw(path)
    for statement in V1:
        db.execute(statement)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO runs VALUES (1, 'old', 'wf', 'running', 1.0, 1.0, 'pickle', ?, "
               "'p1', '{\"a\": \"fa\", \"b\": \"fb\"}', NULL, NULL, NULL, NULL, NULL, NULL)",
               (pickle.dumps({"x": 1}, protocol=5),))
    db.execute("INSERT INTO steps VALUES (1, '', 'a', -1, 'finished', 1, NULL, NULL, "
               "'[[\"a\", 5]]', ?, 1, 1.0)", (pickle.dumps(7, protocol=5),))
    db.close()
    with SqliteStore(path) as store:
        record = store.acquire("old")
        assert dict(record.step_fingerprints) == {"a": "fa", "b": "fb"}
        assert store.inputs("old") == {"x": 1}
        store.commit("old", fan(store, 20), status="finished")
        got = store.steps("old")
        assert [(r.step, r.seq) for r in got] == [("a", 1)] + [("b", 2 + i) for i in range(20)]
        assert store.values(got[0]) == {"a": 7}
    db = raw(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    db.close()


def test_the_fingerprints_of_a_plan_are_stored_once_for_all_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    prints = {f"s{i}": f"f{i}" for i in range(50)}
    with SqliteStore(path) as store:
        for run_id in ("a", "b", "c"):
            store.create_run(run_id, workflow="wf", plan_fingerprint="p",
                             step_fingerprints=prints)
        store.create_run("d", workflow="wf", step_fingerprints={"other": "x"})
        assert all(dict(r.step_fingerprints) == prints for r in store.runs()[:3])
        store.set_fingerprints("c", "p2", {"s0": "changed"})
        assert dict(store.run("c").step_fingerprints) == {"s0": "changed"}
        db = raw(path)
        assert db.execute("SELECT count(*) FROM plans").fetchone() == (3,)
        for run_id in ("a", "b", "c", "d"):
            store.release(run_id)
            store.delete(run_id)
        assert db.execute("SELECT count(*) FROM plans").fetchone() == (0,)
        db.close()


def test_a_run_that_ends_commits_its_last_record_status_and_lease_at_once(
        tmp_path: Path) -> None:
    from spectra_dsl import Workflow

    wf = Workflow("w")

    @wf.step
    async def a(x: int) -> int:
        return x + 1

    @wf.step
    async def b(a: int) -> int:
        return a * 2

    path = tmp_path / "runs.sqlite"
    with SqliteStore(path) as store:
        seen: list[str] = []
        store._db.set_trace_callback(seen.append)
        wf.compile().run_sync({"x": 1}, store=store, run_id="r")
        store._db.set_trace_callback(None)
        assert store.run("r").status == "finished" and store.run("r").lease is None
        assert store.held == frozenset()
        assert [(r.step, store.values(r)) for r in store.steps("r")] == [
            ("a", {"a": 2}), ("b", {"b": 4})]
    # the run's creation, a's record (b waits for it), then b's record with the run's
    # status and the lease's release: three transactions
    assert seen.count("COMMIT") == 3, seen


# -- the batch format itself --------------------------------------------------------

blobs = st.binary(max_size=6)
writes = st.builds(
    StepWrite,
    scope=st.sampled_from([(), ("sub",), ("sub", "loop#2"), ("é[3]",)]),
    step=st.sampled_from(["a", "b", "c", "é"]),
    item=st.none() | st.integers(0, 3),
    status=st.sampled_from(["started", "finished", "failed", "asked", "answered"]),
    attempt=st.integers(1, 3),
    values=st.lists(st.tuples(st.sampled_from(["a", "b", "total"]), blobs),
                    max_size=3).map(tuple),
    error=st.none() | st.text(max_size=5),
    payload=st.none() | blobs,
)


@settings(max_examples=200)
@given(records=st.lists(writes, min_size=1, max_size=8), first=st.integers(1, 99))
def test_any_records_pack_into_a_batch_and_unpack_equal_in_order(
        records: list[StepWrite], first: int) -> None:
    header, sizes, data = pack(records)
    assert list(unpack(first, header, sizes, data)) == list(
        enumerate(records, start=first))


@given(steps=st.lists(st.sampled_from(["a", "b", "é", "total"]), min_size=1, max_size=6),
       scope=st.sampled_from([(), ("sub", "loop#2")]), shared=st.booleans(),
       wide=st.booleans())
def test_finished_columns_pack_as_their_records_do(
        steps: list[str], scope: tuple[str, ...], shared: bool, wide: bool) -> None:
    finished = Finished()
    finished.scope = scope
    for i, step in enumerate(steps):
        finished.steps.append(step)
        names = ["total"] if shared else [step]
        if wide and i % 2:
            names.append("extra")
            if finished.counts is None:
                finished.counts = [1] * i
        if finished.counts is not None:
            finished.counts.append(len(names))
        finished.keys += names
        finished.blobs += [bytes([i, j]) for j in range(len(names))]
    header, sizes, data = pack_finished(finished)
    assert [w for _, w in unpack(1, header, sizes, data)] == finished.writes()
