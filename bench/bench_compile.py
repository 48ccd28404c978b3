"""Compiler benchmarks: compile time against graphlib, memory, nesting depth.

Run it with ``python bench/bench_compile.py`` (``--quick`` for a smoke run of a few
seconds, ``--json`` for machine-readable figures).  Everything is measured side by side
in one process, on this machine:

1. build + compile a random DAG of 10,000 steps (each step reads 1 to 3 random earlier
   steps; ``join=Join.ALL`` on every step with several upstreams), every check on,
   against two references on the same graph, timed in turn in each round: (a)
   ``graphlib.TopologicalSorter(graph).static_order()`` on a prebuilt dict, and (b)
   "signatures + graphlib": the dict read from the same live functions
   (``inspect.signature(fn).parameters``), then ``static_order``, which is what code
   without this library must do to get the graph from the functions; the compile is
   also split into the runtime front end (``Workflow.spec()``) and the passes
   (``compiler.compile_workflow`` on the prebuilt spec);
2. peak memory (``tracemalloc``) of compiling a 100,000-step chain against a
   100,000-step fan-out (one source, every other step reading it);
3. compile time of sub-workflows nested 10, 100 and 300 deep, per nesting level (the
   cost must not grow with the depth).

The step functions are generated as source text and written to a temporary file, so
their parameter names (the dependencies) are real and ``inspect`` finds their ``def``
lines just as it does for hand-written steps.
"""

from __future__ import annotations

import argparse
import gc
import graphlib
import inspect
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from compiler import compile_workflow
from spectra_dsl import Join, SpectraWarning, Workflow, step

Figures = dict[str, float]
Preds = list[tuple[int, ...]]


def random_dag(n: int, seed: int) -> Preds:
    """Each step after the first reads 1 to 3 distinct random earlier steps."""
    rng = random.Random(seed)
    preds: Preds = [()]
    for node in range(1, n):
        preds.append(tuple(sorted(rng.sample(range(node), min(node, rng.randint(1, 3))))))
    return preds


def chain(n: int) -> Preds:
    """``s0 -> s1 -> ... -> s{n-1}``."""
    return [() if i == 0 else (i - 1,) for i in range(n)]


def fan_out(n: int) -> Preds:
    """One source read by each of the ``n - 1`` other steps."""
    return [()] + [(0,)] * (n - 1)


def generate_steps(preds: Preds, directory: str, tag: str) -> list[Callable[..., Any]]:
    """Async steps ``s0 ... s{n-1}`` whose parameters name their predecessors;
    ``join=Join.ALL`` on every step with several."""
    lines = ["from __future__ import annotations", ""]
    for node, ps in enumerate(preds):
        params = ", ".join(f"s{p}: int" for p in ps)
        lines += [f"async def s{node}({params}) -> int:", f"    return {node}", ""]
    path = os.path.join(directory, f"steps_{tag}.py")
    source = "\n".join(lines)
    with open(path, "w", encoding="utf-8") as file:
        file.write(source)
    namespace: dict[str, Any] = {}
    exec(compile(source, path, "exec", dont_inherit=True), namespace)
    return [step(join=Join.ALL)(namespace[f"s{node}"]) if len(ps) > 1
            else step(namespace[f"s{node}"]) for node, ps in enumerate(preds)]


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and minimum seconds of ``repeat`` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def _rounds(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, float]]:
    """Median and minimum seconds of each function, timed in turn in each of ``repeat``
    rounds (after one warm-up round), so that all of them see the same load."""
    times: dict[str, list[float]] = {label: [] for label in fns}
    for round_ in range(repeat + 1):
        for label, fn in fns.items():
            start = time.perf_counter()
            fn()
            if round_:
                times[label].append(time.perf_counter() - start)
    return {label: (statistics.median(t), min(t)) for label, t in times.items()}


def against_graphlib(n: int, directory: str, repeat: int) -> Figures:
    """ms to build + compile the random DAG, graphlib's static_order on a prebuilt dict
    of it, and the same dict read from the functions' signatures then static_order."""
    preds = random_dag(n, seed=1)
    functions = generate_steps(preds, directory, f"random{n}")
    graph = {f"s{node}": [f"s{p}" for p in ps] for node, ps in enumerate(preds)}

    def build_and_compile() -> object:
        return Workflow("random", steps=functions).compile()

    def topo() -> object:
        return list(graphlib.TopologicalSorter(graph).static_order())

    def signatures_topo() -> object:
        read = {fn.__name__: list(inspect.signature(fn).parameters) for fn in functions}
        return list(graphlib.TopologicalSorter(read).static_order())

    assert signatures_topo() and len(graph) == n  # the same graph, read from signatures
    wf = Workflow("random", steps=functions)
    spec = wf.spec()
    timed = _rounds({"compile": build_and_compile, "graphlib": topo,
                     "signatures": signatures_topo}, repeat)
    (whole, whole_min), (floor, floor_min) = timed["compile"], timed["graphlib"]
    sigs, sigs_min = timed["signatures"]
    def front_end() -> object:  # with the collector paused, as Workflow.compile() runs it
        gc.disable()
        try:
            return wf.spec()
        finally:
            gc.enable()

    front, _ = _best(front_end, repeat)
    passes, passes_min = _best(lambda: compile_workflow(spec), repeat)
    return {"steps": float(n), "compile_ms": whole * 1e3, "compile_min_ms": whole_min * 1e3,
            "graphlib_ms": floor * 1e3, "graphlib_min_ms": floor_min * 1e3,
            "ratio": whole / floor, "ratio_min": whole_min / floor_min,
            "signatures_ms": sigs * 1e3, "signatures_min_ms": sigs_min * 1e3,
            "ratio_signatures": whole / sigs, "ratio_signatures_min": whole_min / sigs_min,
            "front_end_ms": front * 1e3, "passes_ms": passes * 1e3,
            "passes_min_ms": passes_min * 1e3}


def _peak_mib(fn: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def memory(n: int, directory: str) -> Figures:
    """Peak MiB while compiling an ``n``-step chain and an ``n``-step fan-out."""
    figures: Figures = {"steps": float(n)}
    for label, preds in (("chain", chain(n)), ("fan_out", fan_out(n))):
        wf = Workflow(label, steps=generate_steps(preds, directory, f"{label}{n}"))
        figures[f"{label}_mib"] = _peak_mib(wf.compile)
    figures["ratio"] = figures["chain_mib"] / figures["fan_out_mib"]
    return figures


def nested(depth: int) -> Workflow:
    """``depth`` workflows, each holding the next as a sub-workflow step."""

    @step
    async def leaf(x: int) -> int:
        return x + 1

    inner = Workflow("level0", steps=[leaf])
    for level in range(1, depth):
        outer = Workflow(f"level{level}")
        outer.add(inner, name="inner", writes="leaf")
        inner = outer
    return inner


def nesting(depths: Sequence[int], repeat: int) -> Figures:
    """µs per nesting level to compile workflows nested ``depths`` deep."""
    figures: Figures = {}
    for depth in depths:
        wf = nested(depth)
        median, _ = _best(wf.compile, repeat)
        figures[f"depth_{depth}_us_per_level"] = median / depth * 1e6
    return figures


def collect(quick: bool = False) -> dict[str, Figures]:
    """Every figure, keyed by benchmark."""
    with tempfile.TemporaryDirectory() as directory:
        return {
            "random_dag": against_graphlib(1000 if quick else 10_000, directory,
                                           3 if quick else 7),
            "memory": memory(2000 if quick else 100_000, directory),
            "nesting": nesting((10, 50) if quick else (10, 100, 300), 3 if quick else 7),
        }


def machine() -> dict[str, str]:
    """Where the figures were measured."""
    return {
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


def report(figures: dict[str, Figures]) -> str:
    """The figures as a readable table."""
    f = figures["random_dag"]
    out = [f"machine: {machine()}", ""]
    out.append(f"build + Workflow.compile(), {int(f['steps'])}-step random DAG "
               "(ms, median; min in brackets)")
    out.append(f"  spectra-dsl               {f['compile_ms']:8.1f} ({f['compile_min_ms']:.1f})")
    out.append(f"  (a) graphlib static_order {f['graphlib_ms']:8.1f} "
               f"({f['graphlib_min_ms']:.1f})   on a prebuilt dict")
    out.append(f"  (b) signatures + graphlib {f['signatures_ms']:8.1f} "
               f"({f['signatures_min_ms']:.1f})   inspect.signature per function, "
               "then static_order")
    out.append(f"  ratio to (a)              {f['ratio']:8.2f} ({f['ratio_min']:.2f})")
    out.append(f"  ratio to (b)              {f['ratio_signatures']:8.2f} "
               f"({f['ratio_signatures_min']:.2f})   target <= 2 (like for like)")
    out.append(f"  front end (wf.spec())     {f['front_end_ms']:8.1f}")
    out.append(f"  passes (compile_workflow) {f['passes_ms']:8.1f} ({f['passes_min_ms']:.1f})")
    m = figures["memory"]
    out.append("")
    out.append(f"peak memory of Workflow.compile(), {int(m['steps'])} steps (MiB, tracemalloc)")
    out.append(f"  chain {m['chain_mib']:.1f}  fan-out {m['fan_out_mib']:.1f}  "
               f"ratio {m['ratio']:.2f}   target <= 2")
    out.append("")
    out.append("Workflow.compile() of nested sub-workflows (µs per level, median)")
    for label, value in figures["nesting"].items():
        depth = label.split("_")[1]
        out.append(f"  {depth:>4} deep  {value:8.1f}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repetitions")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with warnings.catch_warnings():  # the random DAG has needless joins (SPX103)
        warnings.simplefilter("ignore", SpectraWarning)
        figures = collect(quick=args.quick)
    if args.json:
        print(json.dumps({"machine": machine(), "figures": figures}, indent=2))
    else:
        print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
