"""Where the SQLite store keeps a run's step records: one ``steps`` row each, or one
entry of a ``batches`` row for the records of a large group commit (see
:mod:`._store_batch`), each key in exactly one place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ._store_batch import BATCH_MIN, pack, pack_finished, unpack
from ._store_records import Finished, StepRecord, StepWrite, scope_from_text
from ._store_sqlite_schema import (
    DELETE_STEP,
    STEP_COLUMNS,
    UPSERT,
    delete_row,
    step_record,
    step_row,
)

#: A record's key within its run: ``(scope, step, item)``.
Key = tuple[tuple[str, ...], str, int | None]
#: A record's key within its scope: its step, or ``(step, item)`` for an element.
Name = str | tuple[str, int]


def _split(key: Key) -> tuple[tuple[str, ...], Name]:
    scope, step, item = key
    return scope, step if item is None else (step, item)


class RecordRows:
    """The step records of the runs one store object writes.  Only a run's lease
    holder writes it, so what is cached here (the last ``seq``, where each record
    lives) holds until the lease changes hands: :meth:`forget` it then.

    Where a record lives is kept by scope, then by step name (or ``(step, item)``):
    0 for a ``steps`` row, else the ``seq`` of its batch."""

    def __init__(self) -> None:
        self._seq: dict[str, int] = {}
        self._where: dict[str, dict[tuple[str, ...], dict[Name, int]]] = {}

    def new_run(self, run_id: str) -> None:
        """A run just created: no record yet."""
        self._seq[run_id] = 0
        self._where[run_id] = {}

    def forget(self, run_id: str) -> None:
        """Drop what is cached of ``run_id`` (read again when next written)."""
        self._seq.pop(run_id, None)
        self._where.pop(run_id, None)

    def write(self, db: sqlite3.Connection, run_id: str, rid: int,
              records: Sequence[StepWrite], drop: Sequence[Key], now: float,
              finished: Finished | None = None) -> None:
        """Inside a transaction: delete ``drop``, write ``records`` then ``finished``
        (next seqs; as one batch row when there are :data:`BATCH_MIN` or more)."""
        seq = self._seq.get(run_id)
        if seq is None:  # (read before anything of the run is deleted)
            seq = self._seq[run_id] = db.execute(_LAST_SEQ, (rid,)).fetchone()[0]
        where = self._where_of(db, run_id, rid)
        if finished and not (self._batchable(where, finished)
                             and not _overlap(records, finished)):
            records = [*records, *finished.writes()]
            finished = None
        keys = [(r[0], r[1], r[2]) for r in records]  # record.key, without the call
        # (a commit naming a key twice is written row by row: the last one replaces)
        batched = len(keys) >= BATCH_MIN and len(set(keys)) == len(keys)
        moved = [k for k in (*drop, *keys) if _has(where, k)] if where else []
        if moved:
            self._unplace(db, rid, where, moved, batched)
        if drop:
            db.executemany(DELETE_STEP, [delete_row(rid, key) for key in drop])
            for key in drop:
                _take(where, key)
            # seqs are never given twice, not even those of records deleted
            db.execute("UPDATE runs SET seq_floor = ? WHERE rid = ?", (seq, rid))
        if not records and not finished:
            return
        if batched:
            db.execute(_INSERT_BATCH, (rid, seq + 1, len(records), now, *pack(records)))
            for key in keys:
                _put(where, key, seq + 1)
        elif len(records) == 1:
            db.execute(UPSERT, step_row(rid, records[0], seq + 1, now))
            _put(where, keys[0], 0)
        elif records:
            db.executemany(UPSERT, [step_row(rid, record, seq + i, now)
                                    for i, record in enumerate(records, 1)])
            for key in keys:
                _put(where, key, 0)
        seq += len(records)
        if finished:
            db.execute(_INSERT_BATCH,
                       (rid, seq + 1, len(finished), now, *pack_finished(finished)))
            where.setdefault(finished.scope, {}).update(
                dict.fromkeys(finished.steps, seq + 1))
            seq += len(finished)
        self._seq[run_id] = seq

    @staticmethod
    def _batchable(where: dict[tuple[str, ...], dict[Name, int]],
                   finished: Finished) -> bool:
        """Whether ``finished`` goes in one batch as it is: many records, all of one
        scope, each step once, none recorded before."""
        count = len(finished)
        if count < BATCH_MIN:
            return False
        if finished.scopes is not None:
            return False
        scope = finished.scope
        steps = finished.steps
        if len(set(steps)) != count:
            return False
        known = where.get(scope)
        return not known or known.keys().isdisjoint(steps)

    def _where_of(self, db: sqlite3.Connection, run_id: str, rid: int
                  ) -> dict[tuple[str, ...], dict[Name, int]]:
        """Where each record of the run lives (read from the file once per lease)."""
        where = self._where.get(run_id)
        if where is None:
            where = {}
            for scope, step, item in db.execute(
                    "SELECT scope, step, item FROM steps WHERE rid = ?", (rid,)):
                _put(where, (scope_from_text(scope), step, None if item < 0 else item), 0)
            for first, records, sizes, data in db.execute(
                    "SELECT seq, records, sizes, data FROM batches WHERE rid = ?", (rid,)):
                for _, write in unpack(first, records, sizes, data):
                    _put(where, write.key, first)
            self._where[run_id] = where
        return where

    def _unplace(self, db: sqlite3.Connection, rid: int,
                 where: dict[tuple[str, ...], dict[Name, int]], keys: Sequence[Key],
                 batched: bool) -> None:
        """Take ``keys`` out of their batches (the rest of each batch becomes single
        rows, seqs kept), and out of ``steps`` when they are about to be batched."""
        found = {key: _get(where, key) for key in keys}
        if batched:
            db.executemany(DELETE_STEP, [delete_row(rid, k) for k, at in found.items()
                                         if not at])
        for first in sorted({at for at in found.values() if at}):
            records, sizes, data, updated = db.execute(
                "SELECT records, sizes, data, updated FROM batches WHERE rid = ? AND seq = ?",
                (rid, first)).fetchone()
            kept = [(seq, write) for seq, write in unpack(first, records, sizes, data)
                    if write.key not in found]
            db.execute("DELETE FROM batches WHERE rid = ? AND seq = ?", (rid, first))
            db.executemany(UPSERT, [step_row(rid, write, seq, updated) for seq, write in kept])
            for _, write in kept:
                _put(where, write.key, 0)
        for key in keys:
            _take(where, key)


#: The last seq given in a run: of its records, or of those deleted since.
_LAST_SEQ = ("SELECT max(coalesce((SELECT max(seq) FROM steps WHERE rid = ?1), 0), "
             "coalesce((SELECT max(seq + count - 1) FROM batches WHERE rid = ?1), 0), "
             "(SELECT seq_floor FROM runs WHERE rid = ?1))")

_INSERT_BATCH = ("INSERT INTO batches (rid, seq, count, updated, records, sizes, data) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)")


def _overlap(records: Sequence[StepWrite], finished: Finished) -> bool:
    """Whether a record of ``records`` has the key of one of ``finished``."""
    if not records:
        return False
    scope = finished.scope
    steps = set(finished.steps)
    return any(r.item is None and r.scope == scope and r.step in steps for r in records)


def _has(where: dict[tuple[str, ...], dict[Name, int]], key: Key) -> bool:
    scope, name = _split(key)
    known = where.get(scope)
    return known is not None and name in known


def _get(where: dict[tuple[str, ...], dict[Name, int]], key: Key) -> int:
    scope, name = _split(key)
    return where[scope][name]


def _put(where: dict[tuple[str, ...], dict[Name, int]], key: Key, at: int) -> None:
    scope, name = _split(key)
    where.setdefault(scope, {})[name] = at


def _take(where: dict[tuple[str, ...], dict[Name, int]], key: Key) -> None:
    scope, name = _split(key)
    known = where.get(scope)
    if known is not None:
        known.pop(name, None)


def list_records(db: sqlite3.Connection, run_id: str) -> list[StepRecord]:
    """Every step record of ``run_id`` by ``seq`` (one read transaction)."""
    db.execute("BEGIN")  # one snapshot for both tables
    try:
        rows = db.execute(
            f"SELECT {STEP_COLUMNS} FROM steps WHERE rid = "
            "(SELECT rid FROM runs WHERE run_id = ?) ORDER BY seq", (run_id,)).fetchall()
        batches = db.execute(
            "SELECT seq, updated, records, sizes, data FROM batches WHERE rid = "
            "(SELECT rid FROM runs WHERE run_id = ?)", (run_id,)).fetchall()
    finally:
        db.execute("COMMIT")
    found = [step_record(run_id, row) for row in rows]
    if batches:
        for first, updated, records, sizes, data in batches:
            found.extend(StepRecord(run_id, *write, seq, updated)
                         for seq, write in unpack(first, records, sizes, data))
        found.sort(key=lambda record: record.seq)
    return found
