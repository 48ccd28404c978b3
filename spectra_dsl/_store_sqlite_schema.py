"""The SQLite store's schema, its upgrades, and the conversions between rows and records.

Schema (version :data:`SCHEMA_VERSION` in ``PRAGMA user_version``; ``PRAGMA
application_id`` marks the file as a spectra-dsl store)::

    runs(rid INTEGER PRIMARY KEY, run_id TEXT UNIQUE, workflow, status, created REAL,
         updated REAL, codec, inputs BLOB, plan_fingerprint, step_fingerprints (JSON
         object; "" when ``prints`` names them), error, lease_pid, lease_host,
         lease_token, lease_since, lease_started, prints (a ``plans`` id),
         seq_floor (the last seq given when records were last deleted), outputs (JSON
         list of the outputs= the run was asked for, or NULL))
    plans(id INTEGER PRIMARY KEY, digest TEXT UNIQUE (sha256 of steps), steps (JSON
          object: the step fingerprints of a plan, stored once for all its runs))
    steps(rid, scope ("a/b", "" at the top), step, item (-1: not mapped), status,
          attempt, error, payload BLOB, keys (JSON [[key, size], ...]), data BLOB (the
          values' encodings, concatenated in that order), seq, updated REAL;
          UNIQUE(rid, scope, step, item))
    batches(rid, seq (of its first record), count, updated REAL, records (JSON
            columns), sizes BLOB (uint64 LE each), data BLOB; PRIMARY KEY(rid, seq))

A step record is one row of ``steps`` holding only the values it wrote, or, when it was
committed with many others (a fan-out's branches finishing together), one entry of a
``batches`` row (see :mod:`._store_batch`): the file grows with the values written,
never with steps x state, and a plan's step fingerprints are stored once, not once per
run.  Version 1 files (no ``plans``, ``batches`` or ``prints``) are upgraded on
opening; their runs keep their fingerprints inline.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from ._store_records import (
    Lease,
    RunRecord,
    StepRecord,
    StepWrite,
    scope_from_text,
    scope_text,
)

#: The schema this version writes and reads (``PRAGMA user_version``).
SCHEMA_VERSION = 2
#: ``PRAGMA application_id`` of a spectra-dsl store ("SPXD").
APPLICATION_ID = 0x53505844

_PLANS = """CREATE TABLE plans (
        id INTEGER PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        steps TEXT NOT NULL
    )"""

_BATCHES = """CREATE TABLE batches (
        rid INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        count INTEGER NOT NULL,
        updated REAL NOT NULL,
        records TEXT NOT NULL,
        sizes BLOB NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (rid, seq)
    ) WITHOUT ROWID"""

#: Upgrades from older schema versions: ``{version: statements to reach version+1}``.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE runs ADD COLUMN prints INTEGER",
        "ALTER TABLE runs ADD COLUMN seq_floor INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE runs ADD COLUMN outputs TEXT", _PLANS, _BATCHES),
}

SCHEMA = (
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
        lease_started TEXT,
        prints INTEGER,
        seq_floor INTEGER NOT NULL DEFAULT 0,
        outputs TEXT
    )""",
    _PLANS,
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
    _BATCHES,
)

#: A run's columns as :func:`run_record` reads them (fingerprints from ``plans``).
RUN_SELECT = ("run_id, workflow, status, created, updated, codec, inputs, plan_fingerprint, "
              "coalesce((SELECT steps FROM plans WHERE plans.id = runs.prints), "
              "step_fingerprints), error, lease_pid, lease_host, lease_token, lease_since, "
              "lease_started, outputs")
RUN_INSERT = ("INSERT INTO runs (run_id, workflow, status, created, updated, codec, inputs, "
              "plan_fingerprint, step_fingerprints, error, lease_pid, lease_host, "
              "lease_token, lease_since, lease_started, prints, outputs) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?)")
STEP_COLUMNS = "scope, step, item, status, attempt, error, payload, keys, data, seq, updated"
UPSERT = (f"INSERT OR REPLACE INTO steps (rid, {STEP_COLUMNS}) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
DELETE_STEP = "DELETE FROM steps WHERE rid = ? AND scope = ? AND step = ? AND item = ?"
#: Forget the plans no run uses any more.
DROP_UNUSED_PLANS = ("DELETE FROM plans WHERE id NOT IN "
                     "(SELECT prints FROM runs WHERE prints IS NOT NULL)")


def lease_row(lease: Lease | None) -> tuple[Any, ...]:
    """A lease as the five ``lease_*`` columns."""
    if lease is None:
        return (None, None, None, None, None)
    return (lease.pid, lease.host, lease.token, lease.since, lease.started)


def run_record(row: Sequence[Any]) -> RunRecord:
    """A :data:`RUN_SELECT` row as a :class:`RunRecord`."""
    (run_id, workflow, status, created, updated, codec, inputs, plan_print, step_prints,
     error, pid, host, token, since, started, outputs) = row
    lease = None if token is None else Lease(pid=pid, host=host, token=token, since=since,
                                              started=started)
    return RunRecord(run_id=run_id, workflow=workflow, status=status, created=created,
                     updated=updated, inputs=bytes(inputs), codec=codec,
                     plan_fingerprint=plan_print, step_fingerprints=json.loads(step_prints),
                     lease=lease, error=error,
                     outputs=None if outputs is None else tuple(json.loads(outputs)))


def plan_id(db: sqlite3.Connection, prints: tuple[tuple[str, str], ...]) -> int:
    """The ``plans`` row holding ``prints`` (made when new), inside a transaction."""
    text, digest = _prints_text(prints)
    row = db.execute("SELECT id FROM plans WHERE digest = ?", (digest,)).fetchone()
    if row is not None:
        return int(row[0])
    cursor = db.execute("INSERT INTO plans (digest, steps) VALUES (?, ?)", (digest, text))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


#: The text and digest of the step fingerprints of the last plans seen, by identity.
_TEXTS: dict[int, tuple[tuple[tuple[str, str], ...], str, str]] = {}


def _prints_text(prints: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    found = _TEXTS.get(id(prints))
    if found is None or found[0] is not prints:
        text = json.dumps(dict(prints))
        found = (prints, text, hashlib.sha256(text.encode()).hexdigest())
        if len(_TEXTS) >= 16:
            _TEXTS.clear()
        _TEXTS[id(prints)] = found
    return found[1], found[2]


def step_row(rid: int, record: StepWrite, seq: int, now: float) -> tuple[Any, ...]:
    """A record as an :data:`UPSERT` row."""
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


def delete_row(rid: int, key: tuple[tuple[str, ...], str, int | None]) -> tuple[Any, ...]:
    """The :data:`DELETE_STEP` arguments of one record's key."""
    scope, step, item = key
    return (rid, _scope_text(scope), step, -1 if item is None else item)


def step_record(run_id: str, row: Sequence[Any]) -> StepRecord:
    """A ``steps`` row (:data:`STEP_COLUMNS`) as a :class:`StepRecord`."""
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


@functools.lru_cache(maxsize=4096)
def _key_json(key: str) -> str:
    return json.dumps(key)


@functools.lru_cache(maxsize=4096)
def _scope_text(scope: tuple[str, ...]) -> str:
    return scope_text(scope)
