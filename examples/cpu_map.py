"""A CPU-heavy mapped step run in threads, in worker processes and on a Dask cluster.

Counting the primes below a limit, chunk by chunk, is pure Python work: in threads the
GIL lets one chunk run at a time, in processes (or on Dask workers) the chunks run in
parallel.  The workflow is the same in all three runs; only the binding of the
executor name ``"cpu"`` changes::

    python -m examples.cpu_map                 # limit 400,000 in 16 chunks
    python -m examples.cpu_map --limit 100000 --chunks 8 --workers 2

It prints the three wall times (each after one warm-up run, so starting worker
processes or the cluster is not counted) and checks that the three totals agree.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence

from spectra_dsl import Workflow, step
from spectra_dsl.executors import DaskExecutor, Executor, ProcessExecutor, ThreadExecutor


@step
def chunks(limit: int, pieces: int) -> list[tuple[int, int]]:
    """Split [0, limit) into ``pieces`` ranges of about the same size."""
    size = -(-limit // pieces)
    return [(lo, min(lo + size, limit)) for lo in range(0, limit, size)]


@step(map="chunks", executor="cpu")
def primes(chunks: tuple[int, int]) -> int:
    """How many primes lie in one range (trial division: deliberately CPU-bound)."""
    start, stop = chunks
    found = 0
    for n in range(max(start, 2), stop):
        d = 2
        while d * d <= n:
            if n % d == 0:
                break
            d += 1
        else:
            found += 1
    return found


@step
def total(primes: list[int]) -> int:
    """The primes of every range, added up."""
    return sum(primes)


wf = Workflow("cpu-map", steps=[chunks, primes, total])


def timed(executor: Executor, inputs: Mapping[str, int]) -> tuple[float, int]:
    """One warm-up run, then one timed run on ``executor``: (seconds, total)."""
    plan = wf.compile()
    small = {"limit": 1000, "pieces": int(inputs["pieces"])}
    plan.run_sync(small, executors={"cpu": executor})  # start the workers
    began = time.perf_counter()
    result = plan.run_sync(inputs, executors={"cpu": executor})
    return time.perf_counter() - began, int(result["total"])


def compare(
    executors: Mapping[str, Executor], inputs: Mapping[str, int]
) -> dict[str, tuple[float, int]]:
    """The wall time and total of the workflow on each executor, by label."""
    return {label: timed(executor, inputs) for label, executor in executors.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=400_000)
    parser.add_argument("--chunks", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    inputs = {"limit": args.limit, "pieces": args.chunks}

    from distributed import LocalCluster

    with ProcessExecutor(args.workers) as processes, LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True,
        dashboard_address=None, silence_logs=40,
    ) as cluster:  # type: ignore[no-untyped-call]
        results = compare({
            "threads": ThreadExecutor(),
            "processes": processes,
            "dask": DaskExecutor(cluster),
        }, inputs)
    print(f"primes below {args.limit:,} in {args.chunks} chunks, {args.workers} workers "
          f"({os.cpu_count()} CPUs):")
    for label, (seconds, found) in results.items():
        print(f"  {label:<10} {seconds:7.3f} s   {found:,} primes")
    totals = {found for _, found in results.values()}
    if len(totals) != 1:
        print(f"the totals differ: {totals}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
