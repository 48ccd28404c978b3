"""Pass 2: find every cycle (SPX002) and fix the plan order.

Plan order is Kahn's algorithm that always takes the earliest-declared step among those
whose upstreams are placed; ``graphlib.TopologicalSorter`` gives the ready sets and a
heap picks the earliest.  Each cycle found is reported and one of its edges set aside,
so every cycle is reported at once and the later passes still see an acyclic graph.
"""

from __future__ import annotations

import graphlib
import heapq

import attrs

from . import _ir as ir
from ._diagnostics import Diagnostic

#: After this many cycles, stop looking for more: the message says so.
MAX_CYCLES = 25


@attrs.define
class Ordering:
    """Plan order (declaration indices), each step's plan position and ancestor bitset."""

    order: list[int]
    position: list[int]
    ancestors: list[int]
    diagnostics: list[Diagnostic]


def _sort(predecessors: list[set[int]]) -> list[int]:
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for node, preds in enumerate(predecessors):
        sorter.add(node, *preds)
    sorter.prepare()
    ready = list(sorter.get_ready())
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        sorter.done(node)
        for nxt in sorter.get_ready():
            heapq.heappush(ready, nxt)
    return order


def _cycle_message(steps: list[ir.StepSpec], cycle: list[int]) -> str:
    if len(cycle) == 2:
        step = steps[cycle[0]]
        read = {p.name for p in step.params} | set(step.guard.reads if step.guard else ())
        keys = ", ".join(f"'{k}'" for k in step.keys_written if k in read)
        return (
            f"step '{step.name}' reads a key it writes itself ({keys}); give "
            "the new value its own key, or use Repeat(...) to run a step again"
        )
    path = " -> ".join(steps[i].name for i in cycle)
    return (
        f"cycle: {path}; each step reads what the one before it writes. Break it by giving "
        "one value its own key, or write the loop with wf.add(..., repeat=Repeat(...))"
    )


def order_steps(steps: list[ir.StepSpec], predecessors: list[set[int]]) -> Ordering:
    """Order the steps, reporting every cycle; ``predecessors`` loses the edges set aside."""
    found: list[Diagnostic] = []
    while True:
        try:
            order = _sort(predecessors)
            break
        except graphlib.CycleError as error:
            cycle: list[int] = error.args[1]
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
    ancestors = [0] * len(steps)
    for node in order:
        mask = 0
        for pred in predecessors[node]:
            mask |= ancestors[pred] | (1 << pred)
        ancestors[node] = mask
    return Ordering(order, position, ancestors, found)
