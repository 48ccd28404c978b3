"""The SQLite file itself: its schema version, what it refuses to open, two processes
on one file, and group commits that are all-or-nothing across a kill -9."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from spectra_dsl._store_batch import BATCH_MIN
from spectra_dsl.store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    SqliteStore,
    StoreError,
    open_store,
)

CHILD = Path(__file__).with_name("_child.py")


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_a_new_file_is_a_versioned_wal_store(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    SqliteStore(path).close()
    db = _raw(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


@pytest.mark.parametrize(("synchronous", "level"), [("NORMAL", 1), ("FULL", 2)])
def test_synchronous_is_chosen_per_store(tmp_path: Path, synchronous: str,
                                          level: int) -> None:
    with SqliteStore(tmp_path / "runs.sqlite", synchronous=synchronous) as store:  # type: ignore[arg-type]
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == level
    with pytest.raises(ValueError, match="synchronous= must be"):
        SqliteStore(tmp_path / "x.sqlite", synchronous="OFF")  # type: ignore[arg-type]


def test_a_store_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    SqliteStore(path).close()
    db = _raw(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError) as caught:
        SqliteStore(path)
    assert f"has schema version {SCHEMA_VERSION + 1}, newer than" in str(caught.value)
    assert "upgrade spectra-dsl" in str(caught.value) and caught.value.path == str(path)


def test_a_store_of_an_older_schema_with_no_upgrade_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    db = _raw(path)
    db.execute("CREATE TABLE runs (x)")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.close()
    with pytest.raises(StoreError, match="schema version 0, which this spectra-dsl cannot "
                                         "upgrade"):
        SqliteStore(path)


def test_another_applications_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    db = _raw(path)
    db.execute("CREATE TABLE users (name)")
    db.close()
    with pytest.raises(StoreError, match="of another application, not a spectra-dsl store"):
        SqliteStore(path)
    db = _raw(path)
    assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("users",)]
    db.close()


def test_a_file_that_is_no_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a database at all, just text " * 20)
    with pytest.raises(StoreError, match="is not an SQLite database"):
        SqliteStore(path)


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"cannot open the store file .*does its directory"):
        SqliteStore(tmp_path / "nowhere" / "runs.sqlite")


def test_a_lock_held_longer_than_the_timeout_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path, timeout=0.05) as store:
        store.create_run("r", workflow="wf")
        blocker = _raw(path)
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError) as caught:
            store.commit("r", [store.record("a", "finished")])
        assert "stayed locked by another connection for more than 0.05 s" in str(
            caught.value)
        assert "database is locked" not in str(caught.value).split("(")[0]
        blocker.execute("ROLLBACK")
        blocker.close()
        store.commit("r", [store.record("a", "finished")])  # usable again
        assert [r.step for r in store.steps("r")] == ["a"]


def test_open_store_opens_a_path_for_the_block_and_leaves_a_store_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "runs.sqlite"
    with open_store(str(path)) as opened:
        assert isinstance(opened, SqliteStore) and opened.path == str(path)
        opened.create_run("r", workflow="wf")
    assert opened.closed
    with SqliteStore(path) as mine:
        with open_store(mine) as same:
            assert same is mine
        assert not mine.closed
        assert mine.run("r").lease is None  # closing released it
    with pytest.raises(TypeError, match="store= takes a Store or the path"), \
            open_store(3):  # type: ignore[arg-type]
        pass


# -- two processes, one file ---------------------------------------------------------


def test_two_processes_write_one_file_at_once_without_a_lock_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path) as store:
        for run_id in ("a", "b"):
            store.create_run(run_id, workflow="wf")
            store.release(run_id)
    writers = [subprocess.Popen([sys.executable, str(CHILD), "write", str(path), run_id,
                                 "150"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
               for run_id in ("a", "b")]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    outputs = [w.communicate("go\n") for w in writers]
    assert [w.returncode for w in writers] == [0, 0], outputs
    assert [out.strip() for out, _ in outputs] == ["done", "done"]
    with SqliteStore(path) as store:
        for run_id in ("a", "b"):
            records = store.steps(run_id)
            assert [r.item for r in records] == list(range(150))
            assert [r.seq for r in records] == list(range(1, 151))


# -- a kill -9 during a group commit -------------------------------------------------


@pytest.mark.parametrize(("n", "size", "fraction", "survive"), [
    # a commit of single rows (fewer than BATCH_MIN records), killed between two rows
    (BATCH_MIN - 1, 160_000, 0.5, False), (BATCH_MIN - 1, 160_000, 0.9, False),
    (BATCH_MIN - 1, 160_000, 1.0, True),
    # a group commit stored as one batch row, killed once it is written, before COMMIT
    (2000, 1200, -1.0, False), (2000, 1200, 1.0, True),
])
def test_a_group_commit_killed_midway_leaves_none_of_it(
    tmp_path: Path, n: int, size: int, fraction: float, survive: bool,
) -> None:
    path = tmp_path / "runs.sqlite"
    with SqliteStore(path) as store:
        store.create_run("r", workflow="wf")
        store.commit("r", [store.record("root", "finished", values={"root": 1})])
        store.release("r")
    done = subprocess.run([sys.executable, str(CHILD), "commit-and-die", str(path), "r",
                           str(n), str(size), str(fraction)], capture_output=True, text=True)
    assert done.returncode == -9, done.stderr
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > n * size * abs(fraction) / 2  # it was writing when killed
    seen = subprocess.run([sys.executable, str(CHILD), "count", str(path), "r", "fan"],
                          capture_output=True, text=True, check=True)
    assert int(seen.stdout) == (n if survive else 0)  # a fresh process sees all or none
    with SqliteStore(path) as fresh:
        steps = fresh.steps("r")
        assert [r.step for r in steps][:1] == ["root"]
        fanned = [r for r in steps if r.step == "fan"]
        assert len(fanned) == (n if survive else 0)
        if survive:
            assert fresh.values(fanned[-1]) == {"fan": (b"%06d" % (n - 1)) * (size // 6)}
        assert fresh.acquire("r").lease is not None  # the dead writer's lease is free
