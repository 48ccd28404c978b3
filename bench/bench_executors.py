"""Executor benchmarks: one CPU-bound map in threads, processes and Dask, side by side.

Run it with ``python bench/bench_executors.py`` (``--quick`` for a smoke run, ``--json``
for machine-readable figures).  Measured in one process, on this machine:

1. the same 1,000-element CPU-bound map (pure Python trial division, a few ms per
   element) bound to a ``ThreadExecutor``, a ``ProcessExecutor`` with one worker per
   CPU, and a ``DaskExecutor`` on a ``LocalCluster`` with one single-threaded worker
   process per CPU: wall time of each, and the speed-up against threads;
2. overhead per call: a 1,000-element map of a step that does nothing, on each
   executor (µs per call, wall time / elements), and beside it what the engine costs
   alone for the same calls with no workflow around them: ``trio_parallel`` calls
   under the same limiter, and Dask's ``client.map`` + ``gather`` (one batch: the best
   Dask does; the workflow submits each element as it becomes ready).

Every executor is warmed up first (workers started, modules imported), so the figures
are steady-state costs, not start-up.  The workflow is the one of
``examples/cpu_map.py`` (workers import steps by name, so they come from a module):
the "step that does nothing" is its ``primes`` step on ranges of one number.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import trio

Figures = dict[str, float]

ROOT = Path(__file__).resolve().parent.parent


def load_example() -> ModuleType:
    """examples/cpu_map.py, imported by its module name (worker processes, which
    inherit ``sys.path``, import its steps by that name)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("examples.cpu_map")


def wall(fn: Callable[[], Any], repeat: int) -> float:
    """The median wall time of ``fn()`` over ``repeat`` calls (seconds)."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def collect(
    quick: bool = False, client: Any = None, processes: Any = None
) -> dict[str, Figures]:
    """Every figure, keyed by benchmark; on a new local cluster and new worker
    processes (one per CPU) unless ``client`` and ``processes`` are given."""
    from distributed import Client, LocalCluster

    from spectra_dsl.executors import ProcessExecutor

    example = load_example()
    cpus = os.cpu_count() or 1
    with contextlib.ExitStack() as stack:
        if processes is None:
            processes = stack.enter_context(ProcessExecutor(cpus))
        if client is None:
            cluster = stack.enter_context(LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=cpus, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, silence_logs=40,
                scheduler_kwargs={"dashboard_address": ":0"},
            ))
            client = stack.enter_context(
                Client(cluster, set_as_default=False))  # type: ignore[no-untyped-call]
        return _measure(example, quick, client, processes, cpus)
    raise AssertionError("unreachable")  # pragma: no cover


def _measure(
    example: ModuleType, quick: bool, client: Any, processes: Any, cpus: int
) -> dict[str, Figures]:
    """The figures, on the executors given."""
    from spectra_dsl.executors import DaskExecutor, ThreadExecutor

    elements = 24 if quick else 1000
    width = 100 if quick else 1000  # numbers per element: a few ms of trial division
    repeat = 1 if quick else 3
    plan = example.wf.compile()
    heavy = {"limit": elements * width, "pieces": elements}
    light = {"limit": elements, "pieces": elements}  # one number per call
    executors = {"threads": ThreadExecutor(), "processes": processes,
                 "dask": DaskExecutor(client)}
    cpu: Figures = {}
    per_call: Figures = {}
    for label, executor in executors.items():
        bound = {"cpu": executor}
        plan.run_sync({"limit": cpus * 2, "pieces": cpus * 2}, executors=bound)  # warm up
        cpu[f"{label}_s"] = wall(functools.partial(plan.run_sync, heavy, executors=bound),
                                 repeat)
        per_call[f"{label}_us"] = wall(
            functools.partial(plan.run_sync, light, executors=bound), repeat) / elements * 1e6
    cpu["processes_speedup"] = cpu["threads_s"] / cpu["processes_s"]
    cpu["dask_speedup"] = cpu["threads_s"] / cpu["dask_s"]
    ones = [(i, i + 1) for i in range(elements)]
    trio.run(_trio_parallel_floor, example.primes, ones[:cpus * 2], cpus)  # warm up
    per_call["trio_parallel_us"] = wall(
        lambda: trio.run(_trio_parallel_floor, example.primes, ones, cpus),
        repeat) / elements * 1e6
    per_call["dask_batch_us"] = wall(
        lambda: client.gather(client.map(example.primes, ones, pure=False)),
        repeat) / elements * 1e6
    return {"cpu_map": cpu, "per_call": per_call}


async def _trio_parallel_floor(fn: Callable[[Any], int], items: list[Any], cpus: int) -> None:
    """The same calls straight to trio-parallel, under a limiter of ``cpus``."""
    import trio_parallel  # type: ignore[import-untyped]

    limiter = trio.CapacityLimiter(cpus)
    async with trio.open_nursery() as nursery:
        for x in items:
            nursery.start_soon(functools.partial(trio_parallel.run_sync, fn, x,
                                                 limiter=limiter))


def _machine() -> dict[str, object]:
    return {"nproc": os.cpu_count() or 1, "python": platform.python_version(),
            "platform": platform.platform()}


def report(figures: dict[str, Figures]) -> str:
    """The figures as text, one line each."""
    cpu, calls = figures["cpu_map"], figures["per_call"]
    return "\n".join([
        f"CPU-bound map ({os.cpu_count()} CPUs), wall time:",
        f"  threads    {cpu['threads_s']:8.3f} s",
        f"  processes  {cpu['processes_s']:8.3f} s   {cpu['processes_speedup']:.2f}x threads",
        f"  dask       {cpu['dask_s']:8.3f} s   {cpu['dask_speedup']:.2f}x threads",
        "overhead per call of a step that does nothing (µs):",
        f"  threads    {calls['threads_us']:8.1f}",
        f"  processes  {calls['processes_us']:8.1f}   "
        f"(trio-parallel alone: {calls['trio_parallel_us']:.1f})",
        f"  dask       {calls['dask_us']:8.1f}   "
        f"(client.map + gather in one batch: {calls['dask_batch_us']:.1f})",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="executor benchmarks")
    parser.add_argument("--quick", action="store_true", help="a smoke run of seconds")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = collect(quick=args.quick)
    if args.json:
        print(json.dumps({"machine": _machine(), "figures": figures}, indent=2))
    else:
        print(report(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
