"""Store benchmarks: what journaling a step costs, against bare ``sqlite3`` in one process.

Run it with ``python bench/bench_store.py`` (``--quick`` for a smoke run of a second or
two, ``--json`` for machine-readable figures).  Everything is measured in one process,
on this machine, on real files in a temporary directory:

1. one record per commit (a chain: each step's record committed before its successor
   starts): ``store.record(...)`` + ``store.commit(run_id, [record])`` per step, against
   a bare ``sqlite3`` loop of one ``INSERT`` and one ``COMMIT`` per row into a table of
   the same shape, on a connection with the same settings (WAL, ``synchronous``);
2. a group commit of 1,000 records (a fan-out whose branches finish together):
   1,000 ``store.record(...)`` and one ``store.commit``, per record, against one bare
   ``executemany`` of the same 1,000 rows in one transaction;
3. the same two on ``MemoryStore`` (the codec and bookkeeping alone).

Each figure is the median over repetitions (the best in brackets), in µs per record.
The targets for the runner that will use this store are <= 300 µs per step on a chain
and a fan-out within 1.5x of no store; the store's share of them is printed alongside.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from spectra_dsl.store import MemoryStore, SqliteStore, Store

Figures = dict[str, float]

_BARE_TABLE = """CREATE TABLE steps (
    rid INTEGER NOT NULL, scope TEXT NOT NULL, step TEXT NOT NULL, item INTEGER NOT NULL,
    status TEXT NOT NULL, attempt INTEGER NOT NULL, error TEXT, payload BLOB,
    keys TEXT NOT NULL, data BLOB NOT NULL, seq INTEGER NOT NULL, updated REAL NOT NULL,
    UNIQUE (rid, scope, step, item))"""
_BARE_INSERT = "INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _value(i: int) -> dict[str, object]:
    """What a typical step writes: a small dict."""
    return {"id": i, "name": f"item-{i}", "score": i * 0.5}


def _bare(path: Path, synchronous: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    db.execute(_BARE_TABLE)
    return db


def _bare_single(directory: Path, n: int, synchronous: str, tag: str) -> float:
    """Seconds for ``n`` rows, one INSERT + COMMIT each: the same row the store writes,
    the value pickled as the store does (both sides pay for encoding)."""
    import pickle

    db = _bare(directory / f"bare-single-{tag}.sqlite", synchronous)
    start = time.perf_counter()
    for i in range(n):
        data = pickle.dumps(_value(i), protocol=5)
        db.execute("BEGIN IMMEDIATE")
        db.execute(_BARE_INSERT, (1, "", f"s{i}", -1, "finished", 1, None, None,
                                  f'[["s{i}", {len(data)}]]', data, i, time.time()))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def _bare_group(directory: Path, n: int, synchronous: str, tag: str) -> float:
    """Seconds for ``n`` rows in one transaction (one executemany)."""
    import pickle

    db = _bare(directory / f"bare-group-{tag}.sqlite", synchronous)
    start = time.perf_counter()
    now = time.time()
    rows = []
    for i in range(n):
        data = pickle.dumps(_value(i), protocol=5)
        rows.append((1, "", "fan", i, "finished", 1, None, None, f'[["fan", {len(data)}]]',
                     data, i, now))
    db.execute("BEGIN IMMEDIATE")
    db.executemany(_BARE_INSERT, rows)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def _store_single(store: Store, n: int, run_id: str) -> float:
    """Seconds for ``n`` steps journaled one commit each, as on a chain."""
    store.create_run(run_id, workflow="bench")
    start = time.perf_counter()
    for i in range(n):
        store.commit(run_id, [store.record(f"s{i}", "finished",
                                           values={f"s{i}": _value(i)})])
    return time.perf_counter() - start


def _store_group(store: Store, n: int, run_id: str) -> float:
    """Seconds for ``n`` records encoded and committed in one group commit."""
    store.create_run(run_id, workflow="bench")
    start = time.perf_counter()
    records = [store.record("fan", "finished", item=i, values={"fan": _value(i)})
               for i in range(n)]
    store.commit(run_id, records)
    return time.perf_counter() - start


def _per_record(times: list[float], per: int) -> tuple[float, float]:
    """Median and best µs per record."""
    us = [t * 1e6 / per for t in times]
    return statistics.median(us), min(us)


def compare(directory: Path, *, n: int, group: int, repeat: int,
            synchronous: str) -> dict[str, Figures]:
    """Store against bare sqlite3, single-record and group commits, interleaved so that
    both sides see the same load on a shared machine."""
    times: dict[str, list[float]] = {"single": [], "bare_single": [], "group": [],
                                     "bare_group": []}
    sync = synchronous.lower()
    with SqliteStore(directory / f"store-{sync}.sqlite",
                     synchronous=synchronous) as store:  # type: ignore[arg-type]
        for k in range(repeat):
            times["single"].append(_store_single(store, n, f"single-{k}"))
            times["bare_single"].append(_bare_single(directory, n, synchronous, f"{sync}{k}"))
            times["group"].append(_store_group(store, group, f"group-{k}"))
            times["bare_group"].append(_bare_group(directory, group, synchronous,
                                                   f"{sync}{k}"))
    figures: dict[str, Figures] = {}
    for label, per in [("single", n), ("group", group)]:
        mine = _per_record(times[label], per)
        bare = _per_record(times[f"bare_{label}"], per)
        figures[f"{label}_{sync}"] = {
            "store_us": mine[0], "store_min_us": mine[1],
            "bare_us": bare[0], "bare_min_us": bare[1],
            "ratio": mine[0] / bare[0], "ratio_min": mine[1] / bare[1],
        }
    return figures


def memory(*, n: int, group: int, repeat: int) -> dict[str, Figures]:
    """The same on MemoryStore: the codec and the bookkeeping, no disk."""
    with MemoryStore() as store:
        single = _per_record([_store_single(store, n, f"s{k}") for k in range(repeat)], n)
        grouped = _per_record([_store_group(store, group, f"g{k}") for k in range(repeat)],
                              group)
    return {"memory": {"single_us": single[0], "single_min_us": single[1],
                       "group_us": grouped[0], "group_min_us": grouped[1]}}


def collect(quick: bool = False) -> dict[str, Figures]:
    """Every figure, keyed by benchmark."""
    n = 200 if quick else 2000
    group = 1000
    repeat = 3 if quick else 9
    figures: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        figures.update(compare(directory, n=n, group=group, repeat=repeat,
                               synchronous="NORMAL"))
        if not quick:
            figures.update(compare(directory, n=n // 10, group=group, repeat=repeat,
                                   synchronous="FULL"))
    figures.update(memory(n=n, group=group, repeat=repeat))
    return figures


def machine() -> dict[str, str]:
    """Where the figures were measured."""
    return {
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def report(figures: dict[str, Figures]) -> str:
    """The figures as a readable table."""
    out = [f"machine: {machine()}", ""]
    out.append("journaling cost per record (µs; median, best in brackets) against bare "
               "sqlite3 on the same settings")
    for label, what in [("single_normal", "one record per commit, synchronous=NORMAL"),
                        ("group_normal", "1,000-record group commit, synchronous=NORMAL"),
                        ("single_full", "one record per commit, synchronous=FULL"),
                        ("group_full", "1,000-record group commit, synchronous=FULL")]:
        if label not in figures:
            continue
        f = figures[label]
        out.append(f"  {what:<48} store {f['store_us']:8.2f} ({f['store_min_us']:8.2f})  "
                   f"bare {f['bare_us']:8.2f} ({f['bare_min_us']:8.2f})  "
                   f"ratio {f['ratio']:.2f} ({f['ratio_min']:.2f})")
    m = figures["memory"]
    out.append(f"  MemoryStore: one record per commit {m['single_us']:.2f} µs, in a group "
               f"commit {m['group_us']:.2f} µs per record")
    chain = figures["single_normal"]["store_us"]
    out.append("")
    out.append(f"  a chain step's journaling: {chain:.0f} µs of the 300 µs budget per step")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repetitions")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = collect(quick=args.quick)
    if args.json:
        print(json.dumps({"machine": machine(), "figures": figures}, indent=2))
    else:
        print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
