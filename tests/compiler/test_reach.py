"""Reachability is exact whether it is answered from bitsets or by a pruned search."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from compiler import _reach
from compiler._reach import Reach, is_covered


@st.composite
def dags(draw: st.DrawFn) -> list[set[int]]:
    """Predecessor sets of a DAG whose declaration order is a topological order."""
    n = draw(st.integers(1, 25))
    return [set(draw(st.lists(st.integers(0, node - 1), max_size=3))) if node else set()
            for node in range(n)]


def brute_ancestors(preds: list[set[int]]) -> list[set[int]]:
    found: list[set[int]] = []
    for ps in preds:
        found.append(set(ps).union(*(found[p] for p in ps)))
    return found


@pytest.mark.parametrize("limit", [0, _reach.BITSET_LIMIT])
@settings(max_examples=60)
@given(preds=dags(), data=st.data())
def test_precedes_and_covered_match_the_ancestor_sets(
    limit: int, preds: list[set[int]], data: st.DataObject
) -> None:
    n = len(preds)
    order = list(range(n))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_reach, "BITSET_LIMIT", limit)
        reach = Reach(preds, order, order)
        ancestors = brute_ancestors(preds)
        for a in range(n):
            for b in range(n):
                assert reach.precedes(a, b) == (a in ancestors[b])
        nodes = data.draw(st.lists(st.integers(0, n - 1), max_size=4))
        covered = reach.covered(nodes)
        expected = set().union(*(ancestors[x] for x in nodes))
        assert {x for x in range(n) if is_covered(covered, x)} == expected
