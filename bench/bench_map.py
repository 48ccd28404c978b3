"""Mapped-step benchmarks: per-element overhead and memory, side by side in one run.

Run it with ``python bench/bench_map.py`` (``--quick`` for a smoke run, ``--json`` for
machine-readable figures).  Measured in one process, on this machine:

1. per-element time of a mapped step over 10,000 trivial ``async def`` elements (the
   whole run, divided by the element count) against a hand-written trio map over the
   same elements calling the same function: one nursery, a task per element and a
   ``trio.CapacityLimiter`` (``math.inf`` for no limit), results stored by index; with
   no limit and with a limit of 64; and a bare nursery with no limiter (whose
   ``async with limiter`` costs two checkpoints per element);
2. for 100,000 elements under ``max_concurrency=64``: the peak of Python memory
   (``tracemalloc``) and the most trio tasks alive at once (an instrument counting
   spawned and exited tasks), for the runner and the hand-written map.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import tracemalloc
from typing import Any

import trio

from spectra_dsl import Plan, Workflow


async def bump(x: int) -> int:
    """The trivial element function both sides call."""
    return x + 1


def mapped_plan(count: int) -> Plan:
    """A workflow: a list of ``count`` numbers, then a step mapped over it."""
    wf = Workflow("bench_map")

    @wf.step
    async def numbers() -> list[int]:
        return list(range(count))

    @wf.step(map="numbers")
    async def bumped(numbers: int) -> int:
        return await bump(numbers)

    return wf.compile()


async def hand_map(count: int, limit: float) -> list[Any]:
    """The hand-written floor: a nursery, a task per element, a CapacityLimiter."""
    items = list(range(count))
    results: list[Any] = [None] * count
    limiter = trio.CapacityLimiter(limit)

    async def one(i: int, x: int) -> None:
        async with limiter:
            results[i] = await bump(x)

    async with trio.open_nursery() as nursery:
        for i, x in enumerate(items):
            nursery.start_soon(one, i, x)
    return results


async def bare_map(count: int) -> list[Any]:
    """A floor with no limiter at all: a nursery and a task per element."""
    results: list[Any] = [None] * count

    async def one(i: int, x: int) -> None:
        results[i] = await bump(x)

    async with trio.open_nursery() as nursery:
        for i in range(count):
            nursery.start_soon(one, i, i)
    return results


def timed(fn: Any, repeat: int) -> float:
    """The best of ``repeat`` wall-clock timings of ``fn()``, in seconds."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def overhead(count: int, repeat: int) -> dict[str, float]:
    """Per-element µs of the runner and the floor, with no limit and a limit of 64."""
    plan = mapped_plan(count)
    figures: dict[str, float] = {}
    for label, limit in (("unlimited", None), ("limit64", 64)):
        runner = timed(lambda limit=limit: plan.run_sync(max_concurrency=limit), repeat)
        floor = timed(lambda limit=limit: trio.run(
            hand_map, count, math.inf if limit is None else limit), repeat)
        figures[f"{label}_runner_us"] = runner / count * 1e6
        figures[f"{label}_floor_us"] = floor / count * 1e6
        figures[f"{label}_ratio"] = runner / floor
    bare = timed(lambda: trio.run(bare_map, count), repeat)
    figures["bare_floor_us"] = bare / count * 1e6
    figures["unlimited_ratio_to_bare"] = figures["unlimited_runner_us"] / figures["bare_floor_us"]
    return figures


class TaskCounter(trio.abc.Instrument):
    """Counts trio tasks alive and keeps the peak."""

    def __init__(self) -> None:
        self.alive = 0
        self.peak = 0

    def task_spawned(self, task: trio.lowlevel.Task) -> None:
        self.alive += 1
        self.peak = max(self.peak, self.alive)

    def task_exited(self, task: trio.lowlevel.Task) -> None:
        self.alive -= 1


def memory(count: int) -> dict[str, float]:
    """Peak traced memory (MiB) and peak tasks alive, runner against the floor."""
    plan = mapped_plan(count)
    figures: dict[str, float] = {}
    for label, main in (
        ("runner", lambda: plan.run(max_concurrency=64)),
        ("floor", lambda: hand_map(count, 64)),
    ):
        counter = TaskCounter()
        tracemalloc.start()
        trio.run(main, instruments=[counter])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures[f"{label}_peak_mib"] = peak / 2**20
        figures[f"{label}_peak_tasks"] = counter.peak
    return figures


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    count, repeat, big = (1_000, 2, 5_000) if args.quick else (10_000, 7, 100_000)
    figures = overhead(count, repeat)
    figures.update(memory(big))
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"per element, {count:,} trivial elements (best of {repeat}):")
        for label in ("unlimited", "limit64"):
            print(f"  {label:9}  runner {figures[f'{label}_runner_us']:6.2f} µs   "
                  f"hand-written {figures[f'{label}_floor_us']:6.2f} µs   "
                  f"ratio {figures[f'{label}_ratio']:.2f}x")
        print(f"  (a nursery with no limiter at all: {figures['bare_floor_us']:.2f} µs, "
              f"runner unlimited {figures['unlimited_ratio_to_bare']:.2f}x that)")
        print(f"{big:,} elements, max_concurrency=64:")
        for label in ("runner", "floor"):
            print(f"  {label:6}  peak memory {figures[f'{label}_peak_mib']:7.1f} MiB   "
                  f"peak tasks {figures[f'{label}_peak_tasks']:,.0f}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
