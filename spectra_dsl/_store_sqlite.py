"""The SQLite store: one file, WAL journal, one connection (one writer) per store object.

Durability: the journal is WAL.  ``synchronous="NORMAL"`` (the default) makes every
commit durable against the death of the process, ``kill -9`` included, and costs no
fsync per commit; after a power loss or an OS crash the last commits may be lost
(never half of one: the file stays consistent).  ``synchronous="FULL"`` fsyncs every
commit and survives power loss too, at the price of a disk flush per commit.

Concurrency: every write is a short ``BEGIN IMMEDIATE`` transaction, so writers queue
for the lock (``timeout`` seconds at most) instead of failing with "database is
locked"; readers never wait for writers.  Calls are synchronous and run in the calling
thread: no thread hop, no await, so ``MockClock`` virtual times are never disturbed.

The schema and its upgrades: :mod:`._store_sqlite_schema`; where step records are
kept (single rows, or batches for large group commits): :mod:`._store_sqlite_records`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

import attrs

from ._store_base import RecordKey, Store
from ._store_codec import Codec
from ._store_errors import ResumeError, RunExistsError, StoreError
from ._store_records import Finished, Lease, RunRecord, StepRecord, StepWrite, pairs
from ._store_sqlite_records import RecordRows, list_records
from ._store_sqlite_schema import (
    APPLICATION_ID,
    DROP_UNUSED_PLANS,
    MIGRATIONS,
    RUN_INSERT,
    RUN_SELECT,
    SCHEMA,
    SCHEMA_VERSION,
    lease_row,
    plan_id,
    run_record,
)

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION", "SqliteStore", "open_store"]

Synchronous = Literal["NORMAL", "FULL"]

_UNLEASE = ("UPDATE runs SET lease_pid = NULL, lease_host = NULL, lease_token = NULL, "
            "lease_since = NULL, lease_started = NULL WHERE run_id = ? AND lease_token = ?")


class SqliteStore(Store):
    """A :class:`Store` in an SQLite file (standard library ``sqlite3``).

    ``SqliteStore.open("runs.sqlite")`` (or ``SqliteStore(path)``) opens or creates
    the file; use it with ``async with``/``with``, or call :meth:`close`.

    - ``codec``: how values are stored (:class:`PickleCodec` by default, or
      :class:`JsonCodec`).  A pickle store has the trust of your code: never open one
      from an untrusted source.
    - ``synchronous``: ``"NORMAL"`` (durable against process death, ``kill -9``
      included) or ``"FULL"`` (also against power loss; an fsync per commit).
    - ``timeout``: seconds a write waits for another process's transaction before
      :class:`StoreError` (it never fails with "database is locked" before that).
    - ``host``: the host name leases record (default: this machine's); ``clock``: the
      wall clock records are stamped with (default ``time.time``).

    A file of a newer schema is refused with :class:`StoreError`; one of an older
    schema is upgraded when this version knows how, refused clearly otherwise.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, codec: Codec | None = None,
        synchronous: Synchronous = "NORMAL", timeout: float = 30.0,
        host: str | None = None, clock: Callable[[], float] | None = None,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous= must be 'NORMAL' or 'FULL', not {synchronous!r}")
        if not timeout >= 0:
            raise ValueError(f"timeout= must be seconds >= 0, not {timeout!r}")
        #: The store's file.
        self.path = os.fspath(path)
        super().__init__(codec=codec, host=host, clock=clock, where=repr(self.path))
        self.timeout = timeout
        self._rows = RecordRows()
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                       check_same_thread=False)
        except sqlite3.Error as error:
            raise StoreError(self.path, f"cannot open the store file {self.path!r}: {error} "
                                        "(does its directory exist and is it writable?)"
                             ) from error
        try:
            with self._sql():
                self._prepare(synchronous)
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, codec: Codec | None = None,
        synchronous: Synchronous = "NORMAL", timeout: float = 30.0,
        host: str | None = None, clock: Callable[[], float] | None = None,
    ) -> SqliteStore:
        """Open (or create) the store at ``path``; the same as calling the class, and
        usable as ``async with SqliteStore.open(path) as store:``."""
        return cls(path, codec=codec, synchronous=synchronous, timeout=timeout, host=host,
                   clock=clock)

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r}, codec={self.codec.name!r})"

    # -- opening --------------------------------------------------------------------

    def _prepare(self, synchronous: str) -> None:
        db = self._db
        try:
            db.execute("PRAGMA application_id").fetchone()
        except sqlite3.DatabaseError as error:
            raise StoreError(self.path, f"{self.path!r} is not an SQLite database ({error}); "
                                        "give the path of a store file or a new file"
                             ) from error
        if db.execute("PRAGMA user_version").fetchone()[0] == 0:
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only before the first table
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal" and self.path != ":memory:":
            raise StoreError(self.path, f"the store file {self.path!r} cannot use a WAL "
                                        f"journal (got {mode!r}): is it on a network file "
                                        "system? Put it on a local disk")
        db.execute(f"PRAGMA synchronous = {synchronous}")
        with self._transaction():
            app = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if app == 0 and version == 0 and tables == 0:
                for statement in SCHEMA:
                    db.execute(statement)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                return
            if app != APPLICATION_ID:
                raise StoreError(self.path, f"{self.path!r} is an SQLite database of another "
                                            "application, not a spectra-dsl store; give a "
                                            "new file or a store's path")
            if version > SCHEMA_VERSION:
                raise StoreError(self.path, f"the store {self.path!r} has schema version "
                                            f"{version}, newer than this spectra-dsl's "
                                            f"({SCHEMA_VERSION}): upgrade spectra-dsl to "
                                            "open it")
            while version < SCHEMA_VERSION:
                steps = MIGRATIONS.get(version)
                if steps is None:
                    raise StoreError(self.path, f"the store {self.path!r} has schema version "
                                                f"{version}, which this spectra-dsl cannot "
                                                f"upgrade to {SCHEMA_VERSION}; open it with "
                                                "the version that wrote it, or start a new "
                                                "file")
                for statement in steps:
                    db.execute(statement)
                version += 1
                db.execute(f"PRAGMA user_version = {version}")

    @contextlib.contextmanager
    def _sql(self) -> Iterator[None]:
        """Turn SQLite's errors into clear ones (a lock held too long, a broken file)."""
        try:
            yield
        except sqlite3.Error as error:
            raise self._failure(error) from error

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception, SQLite's
        errors made clear (as :meth:`_sql`)."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise self._failure(error) from error

    def _failure(self, error: sqlite3.Error) -> StoreError:
        text = str(error)
        if isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return StoreError(self.path, f"the store {self.path!r} stayed locked by another "
                                         f"connection for more than {self.timeout:g} s (its "
                                         "timeout=); is a process stuck inside a transaction?")
        return StoreError(self.path, f"the store {self.path!r} failed: {text}")

    # -- primitives -----------------------------------------------------------------

    def _insert_run(self, record: RunRecord) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT status FROM runs WHERE run_id = ?",
                             (record.run_id,)).fetchone()
            if row is not None:
                raise RunExistsError(record.run_id, row[0])
            db.execute(RUN_INSERT, (
                record.run_id, record.workflow, record.status, record.created,
                record.updated, record.codec, record.inputs, record.plan_fingerprint,
                record.error, *lease_row(record.lease),
                plan_id(db, record.step_fingerprints),
                None if record.outputs is None else json.dumps(list(record.outputs))))
            self._rows.new_run(record.run_id)

    def _lease(self, run_id: str, take: Callable[[RunRecord], Lease]) -> RunRecord | None:
        with self._transaction() as db:
            record = self._read_run(run_id)
            if record is None:
                return None
            lease = take(record)
            db.execute("UPDATE runs SET lease_pid = ?, lease_host = ?, lease_token = ?, "
                       "lease_since = ?, lease_started = ? WHERE run_id = ?",
                       (*lease_row(lease), run_id))
            self._rows.forget(run_id)  # another process may have written since
            return attrs.evolve(record, lease=lease)

    def _unlease(self, run_ids: Sequence[str], token: str) -> None:
        with self._transaction() as db:
            db.executemany(_UNLEASE, [(r, token) for r in run_ids])
        for run_id in run_ids:  # read again by the next holder
            self._rows.forget(run_id)

    def _write(
        self, run_id: str, token: str, records: Sequence[StepWrite], *,
        status: str | None, error: str | None, drop: Sequence[RecordKey],
        fingerprints: tuple[str, dict[str, str]] | None, now: float,
        release: bool = False, finished: Finished | None = None,
    ) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT rid, lease_token FROM runs WHERE run_id = ?",
                             (run_id,)).fetchone()
            if row is None or row[1] != token:
                now_held = self._read_run(run_id)
                raise ResumeError.lost(run_id, None if now_held is None else now_held.lease)
            rid = row[0]
            if drop or records or finished:
                self._rows.write(db, run_id, rid, records, drop, now, finished)
            sets: list[str] = []
            args: list[Any] = []
            if status is not None or error is not None:
                sets.append("error = ?")
                args.append(error)
            if status is not None:
                sets.append("status = ?")
                args.append(status)
            if fingerprints is not None:
                sets += ["plan_fingerprint = ?", "step_fingerprints = ''", "prints = ?"]
                args += [fingerprints[0], plan_id(db, pairs(fingerprints[1]))]
            if sets:  # records alone leave the run's row (one page less to write)
                db.execute(f"UPDATE runs SET updated = ?, {', '.join(sets)} WHERE rid = ?",
                           (now, *args, rid))
            if release:
                db.execute(_UNLEASE, (run_id, token))
        if release:
            self._rows.forget(run_id)

    def _get_run(self, run_id: str) -> RunRecord | None:
        with self._sql():
            return self._read_run(run_id)

    def _read_run(self, run_id: str) -> RunRecord | None:
        row = self._db.execute(f"SELECT {RUN_SELECT} FROM runs WHERE run_id = ?",
                               (run_id,)).fetchone()
        return None if row is None else run_record(row)

    def _list_runs(self) -> list[RunRecord]:
        with self._sql():
            rows = self._db.execute(f"SELECT {RUN_SELECT} FROM runs ORDER BY rid").fetchall()
        return [run_record(row) for row in rows]

    def _list_steps(self, run_id: str) -> list[StepRecord]:
        with self._sql():
            return list_records(self._db, run_id)

    def _remove(self, run_ids: Sequence[str], check: Callable[[RunRecord], bool]) -> list[str]:
        removed: list[str] = []
        with self._transaction() as db:
            for run_id in run_ids:
                row = db.execute(f"SELECT rid, {RUN_SELECT} FROM runs WHERE run_id = ?",
                                 (run_id,)).fetchone()
                if row is None or not check(run_record(row[1:])):
                    continue
                db.execute("DELETE FROM steps WHERE rid = ?", (row[0],))
                db.execute("DELETE FROM batches WHERE rid = ?", (row[0],))
                db.execute("DELETE FROM runs WHERE rid = ?", (row[0],))
                removed.append(run_id)
            if removed:
                db.execute(DROP_UNUSED_PLANS)
        for run_id in removed:
            self._rows.forget(run_id)
        return removed

    def _compact(self) -> None:
        with self._sql():
            self._db.executescript("PRAGMA incremental_vacuum;")  # execute() frees one page

    def _shut(self) -> None:
        self._db.close()


@contextlib.contextmanager
def open_store(store: Store | str | os.PathLike[str], **options: Any) -> Iterator[Store]:
    """Use ``store`` as given (a :class:`Store`: left open) or open the SQLite file at
    that path for the ``with`` block (``options`` as for :class:`SqliteStore`) and
    close it after: what ``run_sync(..., store="runs.sqlite")`` does with a path."""
    if isinstance(store, Store):
        if options:
            raise TypeError("store options apply to a path, not to an open store: "
                            + ", ".join(sorted(options)))
        yield store
        return
    if not isinstance(store, (str, os.PathLike)):
        raise TypeError(f"store= takes a Store or the path of an SQLite file, not "
                        f"{type(store).__name__}")
    with SqliteStore(store, **options) as opened:
        yield opened
