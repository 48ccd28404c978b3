"""Durable-run benchmark: what journaling costs a run, against the same run with no store.

Run it with ``python bench/bench_durable.py`` (``--quick`` for a smoke run, ``--json``
for machine-readable figures).  Everything runs in one process, on this machine, with
a real SQLite file (WAL, ``synchronous=NORMAL``, the default) in a temporary directory:

1. a chain of N steps (each step's record is committed before its successor starts:
   one commit per step), with a store and without;
2. a fan-out of N steps that finish together, then a join (their records go in one
   group commit), with a store and without.

Each figure is the median over repetitions of one whole run (``trio.run`` included), in
µs per step; ``extra_us`` is the journaling cost per step and ``ratio`` store / no
store (``ratio_best``: the same with each side's fastest run, which the noise of a
shared machine disturbs least).  ``memory_us`` is the same run journaled to a
:class:`MemoryStore` (no SQL): what the runner and the encoding cost, apart from
SQLite.  Targets: chain
``extra_us`` <= 300; fan-out ``ratio`` <= 1.5.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spectra_dsl import Join, Plan, Workflow
from spectra_dsl.store import MemoryStore, SqliteStore, Store

Figures = dict[str, float]


def chain(n: int) -> Plan:
    """s0 -> s1 -> ... -> s(n-1): each adds one."""
    wf = Workflow("chain")
    for i in range(n):
        namespace: dict[str, Any] = {}
        if i == 0:
            exec("async def s0(x):\n    return x + 1\n", namespace)
        else:
            exec(f"async def s{i}(s{i - 1}):\n    return s{i - 1} + 1\n", namespace)
        wf.step(namespace[f"s{i}"])
    return wf.compile()


def fan_out(n: int) -> Plan:
    """root -> n branches -> one join over a reduced key."""
    wf = Workflow("fan-out", reducers={"total": lambda a, b: a + b})

    @wf.step
    async def root(x: int) -> int:
        return x

    for i in range(n):
        namespace: dict[str, Any] = {}
        exec(f"async def b{i}(root):\n    return root + {i}\n", namespace)
        wf.step(writes="total")(namespace[f"b{i}"])

    @wf.step(join=Join.ALL)
    async def join(total: int) -> int:
        return total

    return wf.compile()


def timed(plan: Plan, store: Store | None, tag: str) -> float:
    """Seconds for one whole run (journaled to ``store`` as run ``tag`` when given)."""
    started = time.perf_counter()
    if store is None:
        plan.run_sync({"x": 1})
    else:
        plan.run_sync({"x": 1}, store=store, run_id=tag)
    return time.perf_counter() - started


def compare(plan: Plan, steps: int, repeat: int, directory: Path, label: str) -> Figures:
    """Median µs per step with and without a store, alternated run by run."""
    bare: list[float] = []
    stored: list[float] = []
    memory: list[float] = []
    in_memory = MemoryStore()
    with SqliteStore(directory / f"{label}.sqlite") as store:
        timed(plan, None, label)  # warm up both paths
        timed(plan, store, f"{label}-warm")
        for i in range(repeat):
            bare.append(timed(plan, None, label))
            stored.append(timed(plan, store, f"{label}-{i}"))
            memory.append(timed(plan, in_memory, f"{label}-{i}"))
    no_store = statistics.median(bare) / steps * 1e6
    store_us = statistics.median(stored) / steps * 1e6
    return {"no_store_us": no_store, "store_us": store_us, "extra_us": store_us - no_store,
            "ratio": store_us / no_store, "ratio_best": min(stored) / min(bare),
            "memory_us": statistics.median(memory) / steps * 1e6}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (small N)")
    parser.add_argument("--json", action="store_true", help="print figures as JSON")
    args = parser.parse_args(argv)
    n, repeat = (100, 3) if args.quick else (1000, 15)
    figures: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        figures["chain"] = compare(chain(n), n, repeat, directory, "chain")
        figures["fan_out"] = compare(fan_out(n), n + 2, repeat, directory, "fan")
    machine = {"nproc": os.cpu_count() or 1, "python": platform.python_version()}
    if args.json:
        print(json.dumps({"machine": machine, "steps": n, "figures": figures}))
        return 0
    print(f"durable runs, {n} steps, median of {repeat} (python {machine['python']}, "
          f"{machine['nproc']} cpus)")
    for label, target in (("chain", "extra <= 300 µs/step"), ("fan_out", "ratio <= 1.5")):
        f = figures[label]
        print(f"  {label:8} no store {f['no_store_us']:8.1f} µs/step   store "
              f"{f['store_us']:8.1f} µs/step   extra {f['extra_us']:8.1f}   ratio "
              f"{f['ratio']:5.2f} (best {f['ratio_best']:4.2f})   (target: {target})   "
              f"MemoryStore {f['memory_us']:8.1f} µs/step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
