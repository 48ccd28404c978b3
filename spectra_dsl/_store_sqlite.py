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

Schema (version :data:`SCHEMA_VERSION` in ``PRAGMA user_version``; ``PRAGMA
application_id`` marks the file as a spectra-dsl store)::

    runs(rid INTEGER PRIMARY KEY, run_id TEXT UNIQUE, workflow, status, created REAL,
         updated REAL, codec, inputs BLOB, plan_fingerprint, step_fingerprints (JSON
         object), error, lease_pid, lease_host, lease_token, lease_since, lease_started)
    steps(rid, scope ("a/b", "" at the top), step, item (-1: not mapped), status,
          attempt, error, payload BLOB, keys (JSON [[key, size], ...]), data BLOB (the
          values' encodings, concatenated in that order), seq, updated REAL;
          UNIQUE(rid, scope, step, item))

A step record is one row holding only the values it wrote: the file grows with the
values written, never with steps x state.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

import attrs

from ._store_base import RecordKey, Store
from ._store_codec import Codec
from ._store_errors import ResumeError, RunExistsError, StoreError
from ._store_records import Lease, RunRecord, StepRecord, StepWrite, scope_from_text, scope_text

#: The schema this version writes and reads (``PRAGMA user_version``).
SCHEMA_VERSION = 1
#: ``PRAGMA application_id`` of a spectra-dsl store ("SPXD").
APPLICATION_ID = 0x53505844

#: Upgrades from older schema versions: ``{version: statements to reach version+1}``.
MIGRATIONS: dict[int, tuple[str, ...]] = {}

_SCHEMA = (
    """CREATE TABLE runs (
        rid INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        workflow TEXT NOT NULL,
        status TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        codec TEXT NOT NULL,
        inputs BLOB NOT NULL,
        plan_fingerprint TEXT NOT NULL,
        step_fingerprints TEXT NOT NULL,
        error TEXT,
        lease_pid INTEGER,
        lease_host TEXT,
        lease_token TEXT,
        lease_since REAL,
        lease_started TEXT
    )""",
    """CREATE TABLE steps (
        rid INTEGER NOT NULL,
        scope TEXT NOT NULL,
        step TEXT NOT NULL,
        item INTEGER NOT NULL,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        error TEXT,
        payload BLOB,
        keys TEXT NOT NULL,
        data BLOB NOT NULL,
        seq INTEGER NOT NULL,
        updated REAL NOT NULL,
        UNIQUE (rid, scope, step, item)
    )""",
)

_RUN_COLUMNS = ("run_id, workflow, status, created, updated, codec, inputs, "
                "plan_fingerprint, step_fingerprints, error, lease_pid, lease_host, "
                "lease_token, lease_since, lease_started")
_STEP_COLUMNS = "scope, step, item, status, attempt, error, payload, keys, data, seq, updated"
_UPSERT = (f"INSERT OR REPLACE INTO steps (rid, {_STEP_COLUMNS}) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

Synchronous = Literal["NORMAL", "FULL"]


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
        self._seq: dict[str, int] = {}
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
                for statement in _SCHEMA:
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
            lease = record.lease
            db.execute(
                f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.run_id, record.workflow, record.status, record.created,
                 record.updated, record.codec, record.inputs, record.plan_fingerprint,
                 _fingerprints_json(record.step_fingerprints), record.error,
                 *_lease_row(lease)))
            self._seq[record.run_id] = 0

    def _lease(self, run_id: str, take: Callable[[RunRecord], Lease]) -> RunRecord | None:
        with self._transaction() as db:
            record = self._read_run(run_id)
            if record is None:
                return None
            lease = take(record)
            db.execute("UPDATE runs SET lease_pid = ?, lease_host = ?, lease_token = ?, "
                       "lease_since = ?, lease_started = ? WHERE run_id = ?",
                       (*_lease_row(lease), run_id))
            self._seq.pop(run_id, None)  # another process may have written since
            return attrs.evolve(record, lease=lease)

    def _unlease(self, run_ids: Sequence[str], token: str) -> None:
        with self._transaction() as db:
            db.executemany(
                "UPDATE runs SET lease_pid = NULL, lease_host = NULL, lease_token = NULL, "
                "lease_since = NULL, lease_started = NULL "
                "WHERE run_id = ? AND lease_token = ?", [(r, token) for r in run_ids])

    def _write(
        self, run_id: str, token: str, records: Sequence[StepWrite], *,
        status: str | None, error: str | None, drop: Sequence[RecordKey],
        fingerprints: tuple[str, dict[str, str]] | None, now: float,
    ) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT rid, lease_token FROM runs WHERE run_id = ?",
                             (run_id,)).fetchone()
            if row is None or row[1] != token:
                now_held = self._read_run(run_id)
                raise ResumeError.lost(run_id, None if now_held is None else now_held.lease)
            rid = row[0]
            if drop:
                db.executemany(
                    "DELETE FROM steps WHERE rid = ? AND scope = ? AND step = ? AND item = ?",
                    [(rid, scope_text(s), step, -1 if i is None else i) for s, step, i in drop])
            if records:
                seq = self._seq.get(run_id)
                if seq is None:
                    seq = db.execute("SELECT coalesce(max(seq), 0) FROM steps WHERE rid = ?",
                                     (rid,)).fetchone()[0]
                if len(records) == 1:
                    seq += 1
                    db.execute(_UPSERT, _step_row(rid, records[0], seq, now))
                else:
                    db.executemany(_UPSERT, [_step_row(rid, record, seq + i, now)
                                             for i, record in enumerate(records, 1)])
                    seq += len(records)
                self._seq[run_id] = seq
            sets: list[str] = []
            args: list[Any] = []
            if status is not None or error is not None:
                sets.append("error = ?")
                args.append(error)
            if status is not None:
                sets.append("status = ?")
                args.append(status)
            if fingerprints is not None:
                sets += ["plan_fingerprint = ?", "step_fingerprints = ?"]
                args += [fingerprints[0], json.dumps(fingerprints[1])]
            if sets:  # records alone leave the run's row (one page less to write)
                db.execute(f"UPDATE runs SET updated = ?, {', '.join(sets)} WHERE rid = ?",
                           (now, *args, rid))

    def _get_run(self, run_id: str) -> RunRecord | None:
        with self._sql():
            return self._read_run(run_id)

    def _read_run(self, run_id: str) -> RunRecord | None:
        row = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?",
                               (run_id,)).fetchone()
        return None if row is None else _run(row)

    def _list_runs(self) -> list[RunRecord]:
        with self._sql():
            rows = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY rid").fetchall()
        return [_run(row) for row in rows]

    def _list_steps(self, run_id: str) -> list[StepRecord]:
        with self._sql():
            rows = self._db.execute(
                f"SELECT {_STEP_COLUMNS} FROM steps WHERE rid = "
                "(SELECT rid FROM runs WHERE run_id = ?) ORDER BY seq", (run_id,)).fetchall()
        return [_step(run_id, row) for row in rows]

    def _remove(self, run_ids: Sequence[str], check: Callable[[RunRecord], bool]) -> list[str]:
        removed: list[str] = []
        with self._transaction() as db:
            for run_id in run_ids:
                row = db.execute(f"SELECT rid, {_RUN_COLUMNS} FROM runs WHERE run_id = ?",
                                 (run_id,)).fetchone()
                if row is None or not check(_run(row[1:])):
                    continue
                db.execute("DELETE FROM steps WHERE rid = ?", (row[0],))
                db.execute("DELETE FROM runs WHERE rid = ?", (row[0],))
                removed.append(run_id)
        for run_id in removed:
            self._seq.pop(run_id, None)
        return removed

    def _compact(self) -> None:
        with self._sql():
            self._db.executescript("PRAGMA incremental_vacuum;")  # execute() frees one page

    def _shut(self) -> None:
        self._db.close()


def _lease_row(lease: Lease | None) -> tuple[Any, ...]:
    if lease is None:
        return (None, None, None, None, None)
    return (lease.pid, lease.host, lease.token, lease.since, lease.started)


def _run(row: Sequence[Any]) -> RunRecord:
    (run_id, workflow, status, created, updated, codec, inputs, plan_print, step_prints,
     error, pid, host, token, since, started) = row
    lease = None if token is None else Lease(pid=pid, host=host, token=token, since=since,
                                              started=started)
    return RunRecord(run_id=run_id, workflow=workflow, status=status, created=created,
                     updated=updated, inputs=bytes(inputs), codec=codec,
                     plan_fingerprint=plan_print, step_fingerprints=json.loads(step_prints),
                     lease=lease, error=error)


def _step_row(rid: int, record: StepWrite, seq: int, now: float) -> tuple[Any, ...]:
    values = record.values
    if len(values) == 1:
        key, data = values[0]
        keys = f"[[{_key_json(key)},{len(data)}]]"
    else:
        keys = "[" + ",".join(f"[{_key_json(k)},{len(b)}]" for k, b in values) + "]"
        data = b"".join(blob for _, blob in values)
    return (rid, _scope_text(record.scope), record.step,
            -1 if record.item is None else record.item, record.status, record.attempt,
            record.error, record.payload, keys, data, seq, now)


@functools.lru_cache(maxsize=16)
def _fingerprints_json(pairs: tuple[tuple[str, str], ...]) -> str:
    """A run's step fingerprints as stored (the same plan's, run after run, once)."""
    return json.dumps(dict(pairs))


@functools.lru_cache(maxsize=4096)
def _key_json(key: str) -> str:
    return json.dumps(key)


@functools.lru_cache(maxsize=4096)
def _scope_text(scope: tuple[str, ...]) -> str:
    return scope_text(scope)


def _step(run_id: str, row: Sequence[Any]) -> StepRecord:
    scope, step, item, status, attempt, error, payload, keys, data, seq, updated = row
    values = []
    offset = 0
    data = bytes(data)
    for key, size in json.loads(keys):
        values.append((key, data[offset:offset + size]))
        offset += size
    return StepRecord(run_id=run_id, scope=scope_from_text(scope), step=step,
                      item=None if item < 0 else item, status=status, attempt=attempt,
                      values=tuple(values), error=error,
                      payload=None if payload is None else bytes(payload), seq=seq,
                      updated=updated)


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
