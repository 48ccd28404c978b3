"""Batches: the records of one group commit stored as one row of the SQLite store.

A fan-out's branches finish together and their records are committed together; a
thousand of them written as a thousand rows cost SQLite more than the steps
themselves cost the runner.  A commit of :data:`BATCH_MIN` records or more is stored
as ONE row of the ``batches`` table instead:

- ``records``: a JSON object of columns, one entry per record in commit order:
  ``step``; ``keys``
  (the values' keys, record after record), or ``key`` when every record has one
  value of that key, or neither when every record has one value keyed by its step's
  name; and, only where some record differs from the usual, ``scope`` (else the
  ``""`` of the top level, or one text for all), ``item`` (-1: not mapped), ``status``
  (else all ``"finished"``), ``counts`` (values per record, else 1 each), ``attempt``,
  ``error`` and ``payload`` (the payload's size, or null);
- ``sizes``: the encoded size of each value, record after record, as unsigned 64-bit
  little-endian integers (cheaper to write than JSON numbers);
- ``data``: the values' encodings, record after record, then the payloads'.

The record at index ``i`` has ``seq = first + i``.  Logically nothing changes: a record
is still keyed by (run, scope, step, item), :meth:`Store.steps` lists batched and
single records together by ``seq``, and a record lives in exactly one place (writing a
key again, or discarding it, moves the rest of its batch to single rows).
"""

from __future__ import annotations

import json
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ._store_records import Finished, StepWrite, scope_from_text, scope_text

#: Commits of at least this many records are stored as one batch row.
BATCH_MIN = 16

#: ``(seq, write)``: a record unpacked from a batch, with its place in commit order.
Unpacked = tuple[int, StepWrite]


def pack(records: Sequence[StepWrite]) -> tuple[str, bytes, bytes]:
    """The ``records``, ``sizes`` and ``data`` columns of a batch holding ``records``."""
    columns_in = zip(*records, strict=True)
    scopes, steps, items, statuses, attempts, valueses, errors, payloads = columns_in
    values = [pair for pairs in valueses for pair in pairs]
    columns: dict[str, Any] = {"step": steps}
    keys = [key for key, _ in values]
    sizes = [len(blob) for _, blob in values]
    blobs = [blob for _, blob in values]
    count = len(steps)
    if scopes.count(()) != count:
        texts = [scope_text(scope) for scope in scopes]
        columns["scope"] = texts[0] if texts.count(texts[0]) == count else texts
    if items.count(None) != count:
        columns["item"] = [-1 if item is None else item for item in items]
    if statuses.count("finished") != count:
        columns["status"] = statuses
    if len(values) != count or any(len(pairs) != 1 for pairs in valueses):
        columns["counts"] = [len(pairs) for pairs in valueses]
        columns["keys"] = keys
    elif keys != list(steps):
        columns["keys"] = keys
    if attempts.count(1) != count:
        columns["attempt"] = attempts
    if errors.count(None) != count:
        columns["error"] = errors
    if payloads.count(None) != count:
        columns["payload"] = [None if p is None else len(p) for p in payloads]
        blobs += [p for p in payloads if p is not None]
    return _dumps(columns), _sizes(sizes), b"".join(blobs)


def pack_finished(finished: Finished) -> tuple[str, bytes, bytes]:
    """:func:`pack` for the records of ``finished`` (all of ``finished.scope``)."""
    counts, steps, keys = finished.counts, finished.steps, finished.keys
    columns: dict[str, Any] = {"step": steps}
    if counts is not None and counts.count(1) != len(counts):
        columns["counts"] = counts
        columns["keys"] = keys
    elif keys != steps:  # (equal: each step wrote its own name, the usual case)
        key = keys[0]
        if keys.count(key) == len(keys):  # a fan-out into one reduced key
            columns["key"] = key
        else:
            columns["keys"] = keys
    scope = finished.scope
    if scope:
        columns["scope"] = scope_text(scope)
    blobs = finished.blobs
    return _dumps(columns), _sizes(map(len, blobs)), b"".join(blobs)


def unpack(first: int, records: str, sizes: bytes, data: bytes) -> Iterator[Unpacked]:
    """The records of one batch row with their seqs, in commit order."""
    columns = json.loads(records)
    steps = columns["step"]
    count = len(steps)
    scope = columns.get("scope", "")
    scopes = [scope] * count if isinstance(scope, str) else scope
    items = columns.get("item") or [-1] * count
    statuses = columns.get("status") or ["finished"] * count
    counts = columns.get("counts") or [1] * count
    attempts = columns.get("attempt") or [1] * count
    errors = columns.get("error") or [None] * count
    payloads = columns.get("payload") or [None] * count
    lengths = array("Q", bytes(sizes))
    if _BIG_ENDIAN:
        lengths.byteswap()
    keys = columns.get("keys")
    if keys is None:  # one value each, keyed by "key", else by the step's name
        keys = [columns["key"]] * count if "key" in columns else steps
    data = bytes(data)
    offset = 0
    pair = 0
    blobs: list[tuple[tuple[str, bytes], ...]] = []
    for n in counts:
        values = []
        for key, size in zip(keys[pair:pair + n], lengths[pair:pair + n], strict=True):
            values.append((key, data[offset:offset + size]))
            offset += size
        pair += n
        blobs.append(tuple(values))
    for index in range(count):
        size = payloads[index]
        payload = None
        if size is not None:
            payload = data[offset:offset + size]
            offset += size
        item = items[index]
        yield first + index, StepWrite(
            scope_from_text(scopes[index]), steps[index], None if item < 0 else item,
            statuses[index], attempts[index], blobs[index], errors[index], payload)


_BIG_ENDIAN = sys.byteorder == "big"


def _sizes(sizes: Iterable[int]) -> bytes:
    """Sizes as the ``sizes`` column holds them."""
    lengths = array("Q", sizes)
    if _BIG_ENDIAN:
        lengths.byteswap()
    return lengths.tobytes()


#: Compact JSON, non-ASCII kept as is.
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
