"""Pass 2: find every cycle (SPX002) and fix the plan order.

Plan order is Kahn's algorithm that always takes the earliest-declared step among those
whose upstreams are placed (in-degree counters, and a heap to pick the earliest).  When
some steps are never placed there is a cycle: ``graphlib.TopologicalSorter`` finds it,
it is reported and one of its edges set aside, so every cycle is reported at once and
the later passes still see an acyclic graph.
"""

from __future__ import annotations

import graphlib
import heapq
import itertools

import attrs

from . import _ir as ir
from ._diagnostics import Diagnostic
from ._reach import Reach

#: After this many cycles, stop looking for more: the message says so.
MAX_CYCLES = 25


@attrs.define
class Ordering:
    """Plan order (declaration indices), each step's plan position, reachability;
    ``cyclic`` names every step on a cycle."""

    order: list[int]
    position: list[int]
    reach: Reach
    diagnostics: list[Diagnostic]
    cyclic: frozenset[str] = frozenset()


def _kahn(predecessors: list[set[int]]) -> list[int] | None:
    """Plan order, the earliest-declared ready step first; ``None`` if a cycle leaves
    some steps never ready."""
    if all([not preds or max(preds) < node for node, preds in enumerate(predecessors)]):
        # Declared in dependency order (the usual case): the earliest-declared step
        # not yet placed always has its upstreams placed, so the order is as declared.
        return list(range(len(predecessors)))
    waiting = [len(preds) for preds in predecessors]
    successors: list[list[int]] = [[] for _ in predecessors]
    for node, preds in enumerate(predecessors):
        for pred in preds:
            successors[pred].append(node)
    ready = [node for node, count in enumerate(waiting) if not count]  # sorted: a heap
    order: list[int] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for succ in successors[node]:
            waiting[succ] -= 1
            if not waiting[succ]:
                heapq.heappush(ready, succ)
    return order if len(order) == len(predecessors) else None


def _a_cycle(predecessors: list[set[int]]) -> list[int]:
    """A cycle of a graph that has one, as ``graphlib`` reports it (first node last too)."""
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for node, preds in enumerate(predecessors):
        sorter.add(node, *preds)
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        cycle: list[int] = error.args[1]
        return cycle
    raise AssertionError("steps were left unplaced, but graphlib finds no cycle")


def _reads(step: ir.StepSpec) -> set[str]:
    return {p.name for p in step.params} | set(step.guard.reads if step.guard else ())


def _after_edge(steps: list[ir.StepSpec], upstream: int, downstream: int) -> bool:
    """True when ``downstream`` follows ``upstream`` only because of ``after=``."""
    up, down = steps[upstream], steps[downstream]
    return up.name in down.after and not _reads(down).intersection(up.keys_written)


def _cycle_message(steps: list[ir.StepSpec], cycle: list[int]) -> str:
    if len(cycle) == 2:
        step = steps[cycle[0]]
        if _after_edge(steps, cycle[0], cycle[0]):
            return (f"step '{step.name}' has after=('{step.name}',): a step cannot run "
                    "after itself; remove its own name from after=")
        keys = ", ".join(f"'{k}'" for k in step.keys_written if k in _reads(step))
        return (
            f"step '{step.name}' reads a key it writes itself ({keys}); give "
            "the new value its own key, or use Repeat(...) to run a step again"
        )
    path = steps[cycle[0]].name
    ordered = False
    for upstream, downstream in itertools.pairwise(cycle):
        if _after_edge(steps, upstream, downstream):
            ordered = True
            path += f" -> {steps[downstream].name} (after=)"
        else:
            path += f" -> {steps[downstream].name}"
    if ordered:
        return (
            f"cycle: {path}; each step runs after the one before it (it reads what that "
            "one writes, or names it in after=). Remove the after= that closes the "
            "loop, or write the loop with wf.add(..., repeat=Repeat(...))"
        )
    return (
        f"cycle: {path}; each step reads what the one before it writes. Break it by giving "
        "one value its own key, or write the loop with wf.add(..., repeat=Repeat(...))"
    )


def order_steps(steps: list[ir.StepSpec], predecessors: list[set[int]]) -> Ordering:
    """Order the steps, reporting every cycle; ``predecessors`` loses the edges set aside."""
    found: list[Diagnostic] = []
    cyclic: set[str] = set()
    while (order := _kahn(predecessors)) is None:
        cycle = _a_cycle(predecessors)
        cyclic.update(steps[i].name for i in cycle)
        if len(found) < MAX_CYCLES:
            first = steps[cycle[0]]
            found.append(
                Diagnostic(
                    "SPX002", _cycle_message(steps, cycle),
                    steps=tuple(steps[i].name for i in cycle[:-1]),
                    location=first.location,
                )
            )
        predecessors[cycle[1]].discard(cycle[0])
    position = [0] * len(steps)
    for pos, node in enumerate(order):
        position[node] = pos
    return Ordering(order, position, Reach(predecessors, order, position), found,
                    frozenset(cyclic))
