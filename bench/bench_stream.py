"""Streaming and ``outputs=`` benchmarks, side by side in one run.

Run it with ``python bench/bench_stream.py`` (``--quick`` for a smoke run, ``--json``
for machine-readable figures).  Measured in one process, on this machine:

1. the cost per event of reading a run as a stream: one run of a step mapped over
   10,000 trivial elements (three events per element), as ``plan.run`` with no
   callback, with ``on_event=list.append``, and as ``plan.stream`` read by an
   ``async for`` that does nothing; the whole run divided by its number of events;
2. ``outputs=``: a plan of 200 independent chains of 10 steps; the time of a run that
   asks for the end of one chain, the first time (the smaller plan is built) and again
   (it is cached), against a run of the whole plan.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from spectra_dsl import Plan, RunResult, Workflow, events


def mapped_plan(count: int) -> Plan:
    """A list of ``count`` numbers, then a step mapped over it."""
    wf = Workflow("bench_stream")

    @wf.step
    async def numbers() -> list[int]:
        return list(range(count))

    @wf.step(map="numbers")
    async def bumped(numbers: int) -> int:
        return numbers + 1

    return wf.compile()


def chains_workflow(chains: int, length: int) -> Workflow:
    """``chains`` independent chains of ``length`` trivial steps."""
    wf = Workflow("bench_chains")
    for c in range(chains):
        for i in range(length):
            upstream = f"c{c}_{i - 1}" if i else "x"

            async def link(**kwargs: Any) -> int:
                return 1

            link.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
                [inspect.Parameter(upstream, inspect.Parameter.KEYWORD_ONLY)])
            wf.step(name=f"c{c}_{i}")(link)
    return wf


def best_of(repeat: int, main: Callable[[], Awaitable[Any]]) -> float:
    """The fastest of ``repeat`` runs of ``trio.run(main)``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        trio.run(main)
        best = min(best, time.perf_counter() - start)
    return best


def stream_figures(count: int, repeat: int) -> dict[str, float]:
    plan = mapped_plan(count)
    counted: list[int] = []

    async def plain() -> RunResult:
        result = await plan.run()
        counted[:] = [len(result.events)]
        return result

    async def callback() -> RunResult:
        seen: list[events.Event] = []
        return await plan.run(on_event=seen.append)

    async def streamed() -> RunResult:
        async with plan.stream() as stream:
            async for _ in stream:
                pass
        return stream.result

    times: dict[str, float] = {}
    for _ in range(2):  # interleaved, best of both rounds
        for label, main in (("run", plain), ("on_event", callback), ("stream", streamed)):
            took = best_of(repeat, main)
            times[label] = min(times.get(label, took), took)
    per_event = {k: v / counted[0] * 1e6 for k, v in times.items()}
    return {
        "events": float(counted[0]),
        "run_us_per_event": per_event["run"],
        "on_event_us_per_event": per_event["on_event"],
        "stream_us_per_event": per_event["stream"],
        "stream_vs_on_event": times["stream"] / times["on_event"],
        "stream_vs_run": times["stream"] / times["run"],
    }


def outputs_figures(chains: int, length: int, repeat: int) -> dict[str, float]:
    wf = chains_workflow(chains, length)
    plan = wf.compile()
    last = f"c0_{length - 1}"

    async def whole() -> RunResult:
        return await plan.run({"x": 1})

    async def one_chain() -> RunResult:
        return await plan.run({"x": 1}, outputs=(last,))

    fresh = wf.compile()
    start = time.perf_counter()
    trio.run(lambda: fresh.run({"x": 1}, outputs=(last,)))
    first = time.perf_counter() - start
    full = best_of(repeat, whole)
    cached = best_of(repeat, one_chain)
    return {
        "whole_ms": full * 1e3,
        "one_chain_first_ms": first * 1e3,
        "one_chain_cached_ms": cached * 1e3,
        "cached_vs_whole": cached / full,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    count, repeat, chains = (500, 1, 20) if args.quick else (10_000, 5, 200)
    figures = {
        "stream": stream_figures(count, repeat),
        "outputs": outputs_figures(chains, 10, repeat),
    }
    if args.json:
        print(json.dumps({"machine": {"python": sys.version.split()[0]},
                          "figures": figures}, indent=2))
        return 0
    s, o = figures["stream"], figures["outputs"]
    print(f"stream: {count} mapped elements, {s['events']:.0f} events")
    print(f"  per event: run {s['run_us_per_event']:.2f} us, on_event "
          f"{s['on_event_us_per_event']:.2f} us, stream {s['stream_us_per_event']:.2f} us")
    print(f"  stream / on_event {s['stream_vs_on_event']:.2f}x, stream / run "
          f"{s['stream_vs_run']:.2f}x")
    print(f"outputs=: {chains} chains of 10 steps")
    print(f"  whole plan {o['whole_ms']:.2f} ms; one chain: first {o['one_chain_first_ms']:.2f}"
          f" ms (builds the smaller plan), cached {o['one_chain_cached_ms']:.2f} ms "
          f"({o['cached_vs_whole']:.3f}x the whole)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
