"""Runner benchmarks: overhead against a hand-written floor, makespans.

Run it with ``python bench/bench_runner.py`` (``--quick`` for a smoke run of a few
seconds, ``--json`` for machine-readable figures).  Everything is measured in one
process, on this machine:

1. runner overhead per step (µs) for a 1,000-step chain, a 1,000-way fan-out into a
   ``Join.ALL`` sink and a 1,000-way fan-out into independent exits, with no-op async
   steps, against a minimal hand-written trio scheduler (one nursery, in-degree
   counters, a task started per step the moment its last dependency finishes) calling
   the same functions; and a chain and an exits fan-out of steps that each yield to
   trio once (``await trio.lowlevel.checkpoint()``), which no runner can finish
   without a task;
2. makespan of the uneven diamond and of a seeded random DAG with ``trio.sleep`` steps,
   against the critical path (real time);
3. makespan under ``max_concurrency=k`` against max(critical path, total work / k).

Compile time is measured by ``bench/bench_compile.py``.

The step functions are generated as source text and written to a temporary file, so
their parameter names (the dependencies) are real and ``inspect`` finds their ``def``
lines just as it does for hand-written steps.
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs
import trio

from spectra_dsl import Join, Plan, Workflow, step

AsyncFn = Callable[..., Awaitable[Any]]
Figures = dict[str, float]


# -- graphs -----------------------------------------------------------------------


@attrs.frozen
class Dag:
    """A DAG in declaration order (every predecessor comes before its step)."""

    preds: tuple[tuple[int, ...], ...]
    durations: tuple[float, ...] = ()

    def __len__(self) -> int:
        return len(self.preds)

    def successors(self) -> list[list[int]]:
        """Each step's successors."""
        succs: list[list[int]] = [[] for _ in self.preds]
        for node, preds in enumerate(self.preds):
            for pred in preds:
                succs[pred].append(node)
        return succs

    def fan_ins(self) -> list[bool]:
        """Which steps join independent branches (and so need ``join=``).

        Same rule as the compiler: the steps are in plan order, so two consecutive
        upstreams (by position) where the earlier is no ancestor of the later settle it.
        """
        ancestors = [0] * len(self.preds)
        fan_in = [False] * len(self.preds)
        for node, preds in enumerate(self.preds):
            mask = 0
            for pred in preds:
                mask |= ancestors[pred] | (1 << pred)
            ancestors[node] = mask
            ordered = sorted(preds)
            fan_in[node] = any(
                not (ancestors[later] >> earlier) & 1
                for earlier, later in itertools.pairwise(ordered)
            )
        return fan_in

    def depth(self) -> int:
        """The number of steps on the longest path (by step count)."""
        level = [0] * len(self.preds)
        for node, preds in enumerate(self.preds):
            level[node] = max((level[p] for p in preds), default=0) + 1
        return max(level, default=0)

    def critical_path(self) -> float:
        """The longest path, weighted by the step durations."""
        finish = [0.0] * len(self.preds)
        for node, preds in enumerate(self.preds):
            finish[node] = max((finish[p] for p in preds), default=0.0) + self.durations[node]
        return max(finish, default=0.0)


def chain(n: int) -> Dag:
    """``s0 -> s1 -> ... -> s{n-1}``."""
    return Dag(tuple(() if i == 0 else (i - 1,) for i in range(n)))


def fan_out(width: int, *, sink: bool) -> Dag:
    """A source, ``width`` branches, and (with ``sink``) one step joining them all."""
    preds: list[tuple[int, ...]] = [()] + [(0,)] * width
    if sink:
        preds.append(tuple(range(1, width + 1)))
    return Dag(tuple(preds))


def random_dag(
    n: int, seed: int, *, window: int = 100, max_preds: int = 3,
    durations: tuple[float, float] | None = None,
) -> Dag:
    """A seeded random DAG: each step reads 0 to ``max_preds`` of the ``window`` steps
    declared just before it; with ``durations``, each sleeps a random time in that range."""
    rng = random.Random(seed)
    preds: list[tuple[int, ...]] = []
    for node in range(n):
        lo = max(0, node - window)
        k = min(node - lo, rng.randint(0 if node < 3 else 1, max_preds))
        preds.append(tuple(sorted(rng.sample(range(lo, node), k))))
    times = tuple(rng.uniform(*durations) for _ in range(n)) if durations else ()
    return Dag(tuple(preds), times)


def generate_steps(
    dag: Dag, directory: str, tag: str, blocking: bool = False
) -> list[AsyncFn]:
    """Async step functions ``s0 ... s{n-1}`` whose parameters name their predecessors.

    With durations, step ``i`` sleeps ``dag.durations[i]`` seconds; else it is a no-op
    (with ``blocking``, one that yields to trio once: it cannot finish without a task).
    Fan-in steps are marked ``join=Join.ALL``.  The source goes to a file in
    ``directory`` so each ``def`` has a real location.
    """
    # String annotations, as in a module with ``from __future__ import annotations``.
    lines = ["from __future__ import annotations", "", "import trio", ""]
    for node, preds in enumerate(dag.preds):
        params = ", ".join(f"s{p}: int" for p in preds)
        lines.append(f"async def s{node}({params}) -> int:")
        if dag.durations:
            lines.append(f"    await trio.sleep(_durations[{node}])")
        elif blocking:
            lines.append("    await trio.lowlevel.checkpoint()")
        lines.append(f"    return {node}")
        lines.append("")
    path = os.path.join(directory, f"steps_{tag}.py")
    source = "\n".join(lines)
    with open(path, "w", encoding="utf-8") as file:
        file.write(source)
    namespace: dict[str, Any] = {"_durations": dag.durations}
    exec(compile(source, path, "exec", dont_inherit=True), namespace)
    functions: list[AsyncFn] = []
    for node, fan_in in enumerate(dag.fan_ins()):
        fn: AsyncFn = namespace[f"s{node}"]
        functions.append(step(join=Join.ALL)(fn) if fan_in else step(fn))
    return functions


def workflow(dag: Dag, directory: str, tag: str) -> Workflow:
    """A workflow of the generated steps of ``dag``."""
    return Workflow(tag, steps=generate_steps(dag, directory, tag))


# -- the floor: a minimal hand-written scheduler ------------------------------------


class Floor:
    """The floor: a minimal hand-written scheduler for ``functions`` over ``dag``.

    One nursery and in-degree counters: a task per step, started the moment its last
    dependency finishes.  Its tables are built once, as a plan's are at compile time.
    """

    def __init__(self, functions: Sequence[AsyncFn], dag: Dag) -> None:
        self.functions = functions
        self.preds = dag.preds
        # The functions' own (interned) names, as the runner uses: keyword arguments
        # whose names are equal but not identical strings make a call with many of them
        # quadratic.
        self.names = [fn.__name__ for fn in functions]
        self.params = [tuple(inspect.signature(fn).parameters) for fn in functions]
        self.succs = dag.successors()

    async def run(self) -> dict[str, Any]:
        """Run every step once; return their results by name."""
        functions, names, params, succs = self.functions, self.names, self.params, self.succs
        remaining = [len(p) for p in self.preds]
        results: dict[str, Any] = {}

        async with trio.open_nursery() as nursery:

            async def run_one(node: int) -> None:
                kwargs = {name: results[name] for name in params[node]}
                results[names[node]] = await functions[node](**kwargs)
                for succ in succs[node]:
                    remaining[succ] -= 1
                    if remaining[succ] == 0:
                        nursery.start_soon(run_one, succ)

            for node, preds in enumerate(self.preds):
                if not preds:
                    nursery.start_soon(run_one, node)
        return results


# -- measurements -----------------------------------------------------------------


async def _time_runs(run: Callable[[], Awaitable[object]], repeat: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        await run()
    times: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        await run()
        times.append(time.perf_counter() - start)
    return times


def overhead(dag: Dag, functions: Sequence[AsyncFn], plan: Plan, repeat: int) -> Figures:
    """µs per step of the runner and of the floor (median and min over ``repeat`` runs,
    interleaved so that both see the same machine state)."""
    n = len(dag)
    hand_written = Floor(functions, dag)

    async def main() -> tuple[list[float], list[float]]:
        runner: list[float] = []
        floor: list[float] = []
        for _ in range(repeat):
            runner += await _time_runs(plan.run, 1, 1 if not runner else 0)
            floor += await _time_runs(hand_written.run, 1, 1 if not floor else 0)
        return runner, floor

    runner, floor = trio.run(main)
    us = 1e6 / n
    figures = {
        "runner_us": statistics.median(runner) * us,
        "runner_min_us": min(runner) * us,
        "floor_us": statistics.median(floor) * us,
        "floor_min_us": min(floor) * us,
    }
    figures["ratio"] = figures["runner_us"] / figures["floor_us"]
    figures["ratio_min"] = figures["runner_min_us"] / figures["floor_min_us"]
    return figures


def makespan(plan: Plan, bound: float, repeat: int, limit: int | None = None) -> Figures:
    """Real-time makespan of ``plan`` (median of ``repeat`` runs) against ``bound``."""

    async def main() -> list[float]:
        return await _time_runs(lambda: plan.run(max_concurrency=limit), repeat, 1)

    times = trio.run(main)
    median = statistics.median(times)
    return {"makespan_ms": median * 1e3, "bound_ms": bound * 1e3, "ratio": median / bound,
            "ratio_min": min(times) / bound}


def uneven_diamond() -> Dag:
    """a1 100 ms -> a2 10 ms, b1 10 ms -> b2 100 ms, both -> join: 110 ms at best.

    (Generated as ``s0 -> s1``, ``s2 -> s3``, ``s1, s3 -> s4``.)
    """
    return Dag(((), (0,), (), (2,), (1, 3)), (0.100, 0.010, 0.010, 0.100, 0.0))


def floor_makespan(functions: Sequence[AsyncFn], dag: Dag, repeat: int) -> float:
    """The hand-written scheduler's median makespan over ``dag``, against its critical
    path: what trio's timers alone cost, with no runner."""

    async def main() -> list[float]:
        return await _time_runs(Floor(functions, dag).run, repeat, 1)

    return statistics.median(trio.run(main)) / dag.critical_path()


def collect(quick: bool = False) -> dict[str, Figures]:
    """Every figure, keyed by benchmark."""
    size = 200 if quick else 1000
    repeat = 5 if quick else 41
    sleep_repeat = 1 if quick else 7
    figures: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory() as directory:
        for label, dag, blocking in [
            ("chain", chain(size), False),
            ("fan_out_join", fan_out(size, sink=True), False),
            ("fan_out_exits", fan_out(size, sink=False), False),
            ("chain_blocking", chain(size), True),
            ("fan_out_blocking", fan_out(size, sink=False), True),
        ]:
            functions = generate_steps(dag, directory, label, blocking)
            plan = Workflow(label, steps=functions).compile()
            figures[f"overhead_{label}"] = overhead(dag, functions, plan, repeat)

        diamond = uneven_diamond()
        functions = generate_steps(diamond, directory, "diamond")
        plan = Workflow("uneven-diamond", steps=functions).compile()
        figures["makespan_uneven_diamond"] = makespan(plan, diamond.critical_path(),
                                                      sleep_repeat * 3)
        figures["makespan_uneven_diamond"]["floor_ratio"] = floor_makespan(
            functions, diamond, sleep_repeat * 3)

        sleepy = random_dag(40, seed=7, window=8, durations=(0.001, 0.020))
        functions = generate_steps(sleepy, directory, "sleepy")
        plan = Workflow("sleepy", steps=functions).compile()
        figures["makespan_random_dag"] = makespan(plan, sleepy.critical_path(), sleep_repeat)
        figures["makespan_random_dag"]["floor_ratio"] = floor_makespan(
            functions, sleepy, sleep_repeat)
        depth = sleepy.depth()
        figures["makespan_random_dag"]["depth"] = float(depth)

        limit = 4
        bound = max(sleepy.critical_path(), sum(sleepy.durations) / limit)
        figures["makespan_limit_4"] = makespan(plan, bound, sleep_repeat, limit=limit)
        figures["makespan_limit_4"]["limit"] = float(limit)
    return figures


def machine() -> dict[str, str]:
    """Where the figures were measured."""
    return {
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "trio": trio.__version__,
        "platform": platform.platform(),
    }


def report(figures: dict[str, Figures]) -> str:
    """The figures as a readable table."""
    out = [f"machine: {machine()}", ""]
    out.append("runner overhead per step (µs; median of runs, min in brackets)")
    for label in ("chain", "fan_out_join", "fan_out_exits", "chain_blocking",
                  "fan_out_blocking"):
        f = figures[f"overhead_{label}"]
        out.append(
            f"  {label:<16} runner {f['runner_us']:6.2f} ({f['runner_min_us']:6.2f})  "
            f"floor {f['floor_us']:6.2f} ({f['floor_min_us']:6.2f})  "
            f"ratio {f['ratio']:.2f} ({f['ratio_min']:.2f})   target <= 1.2"
        )
    out.append("")
    out.append("makespan against its lower bound (real time, median of runs)")
    for label, what in [
        ("makespan_uneven_diamond", "uneven diamond vs critical path (target <= 1.02)"),
        ("makespan_random_dag", "random DAG, 40 steps, 1-20 ms each, vs critical path"),
        ("makespan_limit_4", "random DAG, max_concurrency=4, vs max(cp, work/4)"),
    ]:
        f = figures[label]
        out.append(
            f"  {f['makespan_ms']:8.2f} ms / {f['bound_ms']:8.2f} ms = {f['ratio']:.3f} "
            f"(best {f['ratio_min']:.3f})  {what}"
        )
        if "floor_ratio" in f:
            out.append(f"  {'':>30} hand-written floor on the same graph: "
                       f"{f['floor_ratio']:.3f}")
    depth = int(figures["makespan_random_dag"]["depth"])
    out.append(f"  (the random DAG's critical path is {depth} steps deep; each sleep on it "
               "overshoots by up to 1 ms, the resolution of epoll timeouts)")
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
