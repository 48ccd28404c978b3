"""Where the SQLite store keeps a run's step records: one ``steps`` row each, or one
entry of a ``batches`` row for the records of a large group commit (see
:mod:`._store_batch`), each key in exactly one place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ._store_batch import BATCH_MIN, pack, unpack
from ._store_records import StepRecord, StepWrite, scope_from_text
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


class RecordRows:
    """The step records of the runs one store object writes.  Only a run's lease
    holder writes it, so what is cached here (the last ``seq``, where each key lives)
    holds until the lease changes hands: :meth:`forget` it then."""

    def __init__(self) -> None:
        self._seq: dict[str, int] = {}
        self._where: dict[str, dict[Key, int]] = {}

    def new_run(self, run_id: str) -> None:
        """A run just created: no record yet."""
        self._seq[run_id] = 0
        self._where[run_id] = {}

    def forget(self, run_id: str) -> None:
        """Drop what is cached of ``run_id`` (read again when next written)."""
        self._seq.pop(run_id, None)
        self._where.pop(run_id, None)

    def write(self, db: sqlite3.Connection, run_id: str, rid: int,
              records: Sequence[StepWrite], drop: Sequence[Key], now: float) -> None:
        """Inside a transaction: delete ``drop`` and write ``records`` (next seqs; as
        one batch row when there are :data:`BATCH_MIN` or more)."""
        where = self._where_keys(db, run_id, rid)
        keys = [(r[0], r[1], r[2]) for r in records]  # record.key, without the call
        # (a commit naming a key twice is written row by row: the last one replaces)
        batched = len(keys) >= BATCH_MIN and len(set(keys)) == len(keys)
        moved = [k for k in (*drop, *keys) if k in where] if where else []
        if moved:
            self._unplace(db, rid, where, moved, batched)
        if drop:
            db.executemany(DELETE_STEP, [delete_row(rid, key) for key in drop])
            for key in drop:
                where.pop(key, None)
        if not records:
            return
        seq = self._seq.get(run_id)
        if seq is None:
            seq = db.execute(
                "SELECT max(coalesce((SELECT max(seq) FROM steps WHERE rid = ?1), 0), "
                "coalesce((SELECT max(seq + count - 1) FROM batches WHERE rid = ?1), 0))",
                (rid,)).fetchone()[0]
        if batched:
            header, data = pack(records)
            db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?)",
                       (rid, seq + 1, len(records), now, header, data))
            where.update(dict.fromkeys(keys, seq + 1))
        elif len(records) == 1:
            db.execute(UPSERT, step_row(rid, records[0], seq + 1, now))
            where[keys[0]] = 0
        else:
            db.executemany(UPSERT, [step_row(rid, record, seq + i, now)
                                    for i, record in enumerate(records, 1)])
            where.update(dict.fromkeys(keys, 0))
        self._seq[run_id] = seq + len(records)

    def _where_keys(self, db: sqlite3.Connection, run_id: str, rid: int) -> dict[Key, int]:
        """Where each record of the run lives: 0 in ``steps``, else the ``seq`` of its
        batch."""
        where = self._where.get(run_id)
        if where is None:
            where = {}
            for scope, step, item in db.execute(
                    "SELECT scope, step, item FROM steps WHERE rid = ?", (rid,)):
                where[(scope_from_text(scope), step, None if item < 0 else item)] = 0
            for first, records, data in db.execute(
                    "SELECT seq, records, data FROM batches WHERE rid = ?", (rid,)):
                for _, write in unpack(first, records, data):
                    where[write.key] = first
            self._where[run_id] = where
        return where

    def _unplace(self, db: sqlite3.Connection, rid: int, where: dict[Key, int],
                 keys: Sequence[Key], batched: bool) -> None:
        """Take ``keys`` out of their batches (the rest of each batch becomes single
        rows, seqs kept), and out of ``steps`` when they are about to be batched."""
        if batched:
            db.executemany(DELETE_STEP, [delete_row(rid, k) for k in keys if not where[k]])
        gone = set(keys)
        for first in sorted({where[k] for k in keys if where[k]}):
            records, data, updated = db.execute(
                "SELECT records, data, updated FROM batches WHERE rid = ? AND seq = ?",
                (rid, first)).fetchone()
            kept = [(seq, write) for seq, write in unpack(first, records, data)
                    if write.key not in gone]
            db.execute("DELETE FROM batches WHERE rid = ? AND seq = ?", (rid, first))
            db.executemany(UPSERT, [step_row(rid, write, seq, updated) for seq, write in kept])
            for _, write in kept:
                where[write.key] = 0
        for key in keys:
            where.pop(key, None)


def list_records(db: sqlite3.Connection, run_id: str) -> list[StepRecord]:
    """Every step record of ``run_id`` by ``seq`` (one read transaction)."""
    db.execute("BEGIN")  # one snapshot for both tables
    try:
        rows = db.execute(
            f"SELECT {STEP_COLUMNS} FROM steps WHERE rid = "
            "(SELECT rid FROM runs WHERE run_id = ?) ORDER BY seq", (run_id,)).fetchall()
        batches = db.execute(
            "SELECT seq, updated, records, data FROM batches WHERE rid = "
            "(SELECT rid FROM runs WHERE run_id = ?)", (run_id,)).fetchall()
    finally:
        db.execute("COMMIT")
    found = [step_record(run_id, row) for row in rows]
    if batches:
        for first, updated, records, data in batches:
            found.extend(StepRecord(run_id, *write, seq, updated)
                         for seq, write in unpack(first, records, data))
        found.sort(key=lambda record: record.seq)
    return found
