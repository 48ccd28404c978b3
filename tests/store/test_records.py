"""Runs and step records go in and come back exactly, on both stores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectra_dsl import ResumeError, RunExistsError
from spectra_dsl.store import (
    MemoryStore,
    RunRecord,
    SqliteStore,
    StepRecord,
    StepWrite,
    Store,
    call_key,
    new_run_id,
)

from .conftest import MakeStore, WallClock


def test_a_new_run_is_running_owned_by_this_process_with_its_inputs(
    store: Store, clock: WallClock,
) -> None:
    record = store.create_run(
        "o-42", workflow="orders", inputs={"order_id": "o-42", "n": 3},
        plan_fingerprint="p1", step_fingerprints={"charge": "c1", "ship": "s1"})
    assert record.status == "running"
    assert record.created == record.updated == clock.now
    assert record.lease is not None and record.lease.pid == os.getpid()
    assert store.run("o-42") == record
    assert store.runs() == [record]
    assert store.inputs("o-42") == {"order_id": "o-42", "n": 3}
    assert dict(record.step_fingerprints) == {"charge": "c1", "ship": "s1"}
    assert store.held == {"o-42"}


def test_every_kind_of_step_record_round_trips(store: Store, clock: WallClock) -> None:
    store.create_run("r", workflow="wf")
    clock.now += 5
    records = [
        store.record("fetch", "finished", values={"fetch": {"a": [1, 2]}}),
        store.record("split", "finished", values={"left": 1, "right": (2, 3)}),
        store.record("page", "finished", item=0, scope=("review", "loop#2"),
                     attempt=3, values={"page": "p0"}),
        store.record("page", "started", item=1, scope=("review", "loop#2")),
        store.record("winner", "started", values={"a": 1}),
        store.record("boom", "failed", attempt=2, error="ValueError: no"),
        store.record("approve", "asked", payload={"question": "Publish?"}),
        store.record("sign", "answered", payload="Sign?", values={"sign": True}),
    ]
    store.commit("r", records)
    got = store.steps("r")
    assert [(r.scope, r.step, r.item, r.status, r.attempt, r.error) for r in got] == [
        ((), "fetch", None, "finished", 1, None),
        ((), "split", None, "finished", 1, None),
        (("review", "loop#2"), "page", 0, "finished", 3, None),
        (("review", "loop#2"), "page", 1, "started", 1, None),
        ((), "winner", None, "started", 1, None),
        ((), "boom", None, "failed", 2, "ValueError: no"),
        ((), "approve", None, "asked", 1, None),
        ((), "sign", None, "answered", 1, None),
    ]
    assert [r.seq for r in got] == list(range(1, 9))
    assert all(r.updated == clock.now for r in got)
    assert [r.as_write() for r in got] == records
    assert [store.values(r) for r in got] == [
        {"fetch": {"a": [1, 2]}}, {"left": 1, "right": (2, 3)}, {"page": "p0"}, {},
        {"a": 1}, {}, {}, {"sign": True},
    ]
    assert [store.payload(r) for r in got[5:]] == [None, {"question": "Publish?"}, "Sign?"]
    assert store.run("r").updated == clock.now - 5  # records leave the run's row alone
    store.commit("r", status="finished")
    assert store.run("r").updated == clock.now


def test_a_record_replaces_the_one_of_the_same_call_and_moves_to_the_end(
    store: Store,
) -> None:
    store.create_run("r", workflow="wf")
    store.commit("r", [store.record("a", "started", values={"x": 1}),
                       store.record("b", "finished", values={"b": 2})])
    store.commit("r", [store.record("a", "finished", attempt=2, values={"a": 9})])
    got = store.steps("r")
    assert [(r.step, r.status, r.attempt, r.seq) for r in got] == [
        ("b", "finished", 1, 2), ("a", "finished", 2, 3)]
    assert store.values(got[1]) == {"a": 9}  # the old key 'x' is gone


def test_records_of_mapped_items_and_scopes_are_separate_calls(store: Store) -> None:
    store.create_run("r", workflow="wf")
    store.commit("r", [store.record("s", "finished", item=i, values={"s": i})
                       for i in range(3)])
    store.commit("r", [store.record("s", "finished", scope=("sub",), values={"s": -1}),
                       store.record("s", "finished", values={"s": None})])
    assert sorted((r.scope, -1 if r.item is None else r.item) for r in store.steps("r")) == [
        ((), -1), ((), 0), ((), 1), ((), 2), (("sub",), -1)]
    assert [r.step for r in store.steps("r", scope=("sub",))] == ["s"]


def test_the_run_status_and_error_commit_with_the_records(store: Store) -> None:
    store.create_run("r", workflow="wf")
    store.commit("r", [store.record("a", "failed", error="boom")], status="failed",
                 error="step 'a' failed: boom")
    record = store.run("r")
    assert (record.status, record.error) == ("failed", "step 'a' failed: boom")
    store.commit("r", status="running")
    assert (store.run("r").status, store.run("r").error) == ("running", None)


def test_fingerprints_can_be_replaced_by_the_owner(store: Store) -> None:
    store.create_run("r", workflow="wf", plan_fingerprint="p1", step_fingerprints={"a": "1"})
    store.set_fingerprints("r", "p2", {"a": "2", "b": "3"})
    record = store.run("r")
    assert record.plan_fingerprint == "p2"
    assert dict(record.step_fingerprints) == {"a": "2", "b": "3"}


def test_discard_drops_a_step_every_item_and_the_scopes_it_opened(store: Store) -> None:
    store.create_run("r", workflow="wf")
    keep = [store.record("fetch", "finished"),
            store.record("inner", "finished", scope=("other",)),
            store.record("subx", "finished")]
    drop = [store.record("sub", "finished"),
            store.record("inner", "finished", scope=("sub",)),
            store.record("inner", "finished", scope=("sub#2", "deeper")),
            store.record("inner", "finished", scope=("sub[3]",)),
            store.record("m", "finished", item=0),
            store.record("m", "finished", item=1)]
    store.commit("r", keep + drop)
    assert store.discard("r", [((), "sub"), ((), "m")]) == len(drop)
    assert [r.key for r in store.steps("r")] == [r.key for r in keep]
    assert store.discard("r", [((), "fetch")], nested=False) == 1


def test_a_run_id_is_taken_once_whatever_its_status(store: Store) -> None:
    store.create_run("o-42", workflow="wf")
    store.commit("o-42", status="finished")
    store.release("o-42")
    with pytest.raises(RunExistsError) as caught:
        store.create_run("o-42", workflow="wf")
    assert caught.value.run_id == "o-42" and caught.value.status == "finished"
    assert "plan.resume('o-42', store=store)" in str(caught.value)


def test_an_unknown_run_is_named_with_the_runs_the_store_has(store: Store) -> None:
    store.create_run("alpha", workflow="wf")
    for call in (lambda: store.run("beta"), lambda: store.steps("beta"),
                 lambda: store.acquire("beta"), lambda: store.delete("beta")):
        with pytest.raises(ResumeError) as caught:
            call()
        assert caught.value.reason == "unknown"
        assert "no run 'beta'" in str(caught.value) and "'alpha'" in str(caught.value)


@pytest.mark.parametrize("bad", ["", " x", 3])
def test_a_bad_run_id_is_refused(store: Store, bad: Any) -> None:
    with pytest.raises(ValueError, match="run_id must be"):
        store.create_run(bad, workflow="wf")


def test_records_that_cannot_be_keyed_exactly_are_refused(store: Store) -> None:
    store.create_run("r", workflow="wf")
    with pytest.raises(ValueError, match="status must be one of"):
        store.record("a", "done")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scope names must be non-empty"):
        store.record("a", "finished", scope=("a/b",))
    with pytest.raises(ValueError, match="element index"):
        store.record("a", "finished", item=-1)
    with pytest.raises(ValueError, match="attempt"):
        store.record("a", "finished", attempt=0)
    other = StepRecord(run_id="q", scope=(), step="a", item=None, status="finished")
    with pytest.raises(ValueError, match="a record of run 'q'"):
        store.commit("r", [other])
    with pytest.raises(ValueError, match="a run's status"):
        store.commit("r", status="done")  # type: ignore[arg-type]
    assert store.steps("r") == []


def test_new_run_ids_are_unique_and_sort_by_start() -> None:
    ids = {new_run_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 24 and i[8] == "T" and i[15] == "-" for i in ids)


def test_a_closed_store_says_so(make_store: MakeStore) -> None:
    store = make_store()
    store.close()
    store.close()  # idempotent
    assert store.closed
    with pytest.raises(Exception, match="is closed"):
        store.runs()


def test_the_sqlite_store_keeps_everything_after_reopening(tmp_path: Any) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore.open(path) as store:
        store.create_run("r", workflow="wf", inputs={"a": 1})
        store.commit("r", [store.record("a", "finished", values={"a": [1]})],
                     status="finished")
        runs, steps = store.runs(), store.steps("r")
    with SqliteStore.open(path) as again:
        assert [attrs.evolve(r, lease=None) for r in runs] == again.runs()
        assert again.steps("r") == steps
        assert again.values(steps[0]) == {"a": [1]}
        assert again.inputs("r") == {"a": 1}


# -- property: random records round-trip ---------------------------------------------

names = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True)
plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=3),
    max_leaves=8)

scope_names = st.tuples(names, st.sampled_from(["", "#1", "[2]"])).map("".join)


@st.composite
def step_records(draw: st.DrawFn) -> dict[str, Any]:
    status = draw(st.sampled_from(["started", "finished", "failed", "asked", "answered"]))
    return {
        "step": draw(names),
        "status": status,
        "scope": tuple(draw(st.lists(scope_names, max_size=2))),
        "item": draw(st.none() | st.integers(0, 5)),
        "attempt": draw(st.integers(1, 4)),
        "values": draw(st.dictionaries(names, plain, max_size=3)),
        "error": draw(st.none() | st.text(max_size=20)),
    }


@pytest.fixture(scope="module")
def both_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Store]]:
    path = tmp_path_factory.mktemp("prop") / "runs.sqlite"
    with SqliteStore(path) as sqlite, MemoryStore() as memory:
        yield sqlite, memory


@settings(max_examples=40)
@given(batches=st.lists(st.lists(step_records(), max_size=6), max_size=4))
def test_random_records_round_trip_on_both_stores(
    both_stores: tuple[Store, Store], batches: list[list[dict[str, Any]]],
) -> None:
    run_id = new_run_id()
    seen: list[list[StepRecord]] = []
    for store in both_stores:
        store.create_run(run_id, workflow="wf")
        expected: dict[Any, tuple[StepWrite, dict[str, Any]]] = {}
        for batch in batches:
            records = [store.record(**fields) for fields in batch]
            store.commit(run_id, records)
            for record, fields in zip(records, batch, strict=True):
                expected.pop(record.key, None)
                expected[record.key] = (record, fields["values"])
        got = store.steps(run_id)
        assert [r.as_write() for r in got] == [r for r, _ in expected.values()]
        assert all(r.run_id == run_id for r in got)
        assert [store.values(r) for r in got] == [v for _, v in expected.values()]
        seen.append(got)
    assert [attrs.evolve(r, updated=0.0) for r in seen[0]] == [
        attrs.evolve(r, updated=0.0) for r in seen[1]]


def test_run_records_are_frozen() -> None:
    record = RunRecord(run_id="r", workflow="w", status="running", created=1, updated=1)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        record.status = "failed"  # type: ignore[misc]


def test_a_call_key_is_stable_and_names_the_call() -> None:
    assert call_key("o-42", (), "charge", None) == "o-42/charge"
    assert call_key("o-42", ("review", "loop#2"), "page", 3) == "o-42/review/loop#2/page[3]"


def test_the_store_says_what_changed_since_a_run_started(store: Store) -> None:
    store.create_run("r", workflow="wf", plan_fingerprint="p1",
                     step_fingerprints={"fetch": "f1", "old": "o1"})
    assert not store.changes("r", "p1", {"fetch": "f1", "old": "o1"})
    changes = store.changes("r", "p2", {"fetch": "f2", "new": "o1"})
    assert changes.edited == ("fetch",) and changes.renamed == (("old", "new"),)
    assert changes.plan_changed


def test_records_read_from_one_store_can_be_committed_to_another(
    store: Store, tmp_path: Any,
) -> None:
    store.create_run("r", workflow="wf", inputs={"a": 1})
    store.commit("r", [store.record("a", "finished", values={"a": [1]}),
                       store.record("m", "finished", item=2, scope=("sub",), values={"m": 2})])
    with SqliteStore(tmp_path / "copy.sqlite") as copy:
        copy.create_run("r", workflow="wf", inputs=store.inputs("r"))
        copy.commit("r", store.steps("r"))
        assert [r.as_write() for r in copy.steps("r")] == [
            r.as_write() for r in store.steps("r")]
        with pytest.raises(TypeError, match=r"commit\(\) takes what store\.record"):
            copy.commit("r", [("a", "finished")])  # type: ignore[list-item]
