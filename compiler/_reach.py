"""Exact reachability ("is step a an ancestor of step b?") in memory linear in the graph.

One ancestor bitset per step answers in O(1) but costs n² bits: 1.2 GB for a
100,000-step chain.  :class:`Reach` builds the bitsets only when a query is asked and
the graph is small enough that n²/8 bytes stays under :data:`BITSET_LIMIT`; otherwise it
answers by a backward search from ``b`` pruned to the steps placed after ``a`` in plan
order (a step placed before ``a`` cannot have ``a`` as an ancestor).  Either way the
answer is exact.  Chains and fan-outs ask no query at all, so they build nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: Above this many steps, no bitsets: n²/8 bytes would pass ~50 MB.
BITSET_LIMIT = 20_000


class Reach:
    """Ancestry over ``predecessors`` (declaration indices), ``position`` the plan order."""

    __slots__ = ("_bits", "_order", "_position", "_predecessors")

    def __init__(self, predecessors: Sequence[set[int]], order: Sequence[int],
                 position: Sequence[int]) -> None:
        self._predecessors = predecessors
        self._order = order
        self._position = position
        self._bits: list[int] | None = None

    def _bitsets(self) -> list[int] | None:
        if self._bits is None and len(self._position) <= BITSET_LIMIT:
            predecessors = self._predecessors
            bits = [0] * len(predecessors)
            for node in self._order:
                mask = 0
                for pred in predecessors[node]:
                    mask |= bits[pred] | (1 << pred)
                bits[node] = mask
            self._bits = bits
        return self._bits

    def bitsets(self) -> list[int] | None:
        """Each step's ancestors as a bitset (bit ``a`` of entry ``b`` set when ``a``
        precedes ``b``), built on first use; ``None`` for graphs over
        :data:`BITSET_LIMIT` steps."""
        return self._bits if self._bits is not None else self._bitsets()

    def precedes(self, a: int, b: int) -> bool:
        """True when ``a`` is an ancestor of ``b`` (every run runs ``a`` first)."""
        position = self._position
        if position[a] >= position[b]:
            return False
        predecessors = self._predecessors
        if a in predecessors[b]:
            return True
        bits = self._bits if self._bits is not None else self._bitsets()
        if bits is not None:
            return bool((bits[b] >> a) & 1)
        floor = position[a]
        seen = {b}
        stack = [b]
        while stack:
            for pred in predecessors[stack.pop()]:
                if pred == a:
                    return True
                if pred not in seen and position[pred] > floor:
                    seen.add(pred)
                    stack.append(pred)
        return False

    def covered(self, nodes: Iterable[int]) -> set[int] | int:
        """Every ancestor of any of ``nodes``: ``x in`` it (or bit ``x`` set) when ``x``
        precedes one of them.  Use :func:`is_covered` to read it."""
        bits = self._bitsets()
        if bits is not None:
            mask = 0
            for node in nodes:
                mask |= bits[node]
            return mask
        predecessors = self._predecessors
        seen: set[int] = set()
        stack = [p for node in nodes for p in predecessors[node]]
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(predecessors[node])
        return seen


def is_covered(covered: set[int] | int, node: int) -> bool:
    """Whether ``node`` is in a :meth:`Reach.covered` result."""
    if isinstance(covered, int):
        return bool((covered >> node) & 1)
    return node in covered
