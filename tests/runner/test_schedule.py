"""The scheduling core without an event loop: random DAGs, random completion orders and
skips; every step is released exactly once, exactly when DESIGN.md says."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from spectra_dsl._schedule import Schedule, ScheduleTable


@st.composite
def dags_with_races(draw: st.DrawFn, max_steps: int = 14) -> ScheduleTable:
    """A random DAG in plan order; some fan-ins are ``Join.ANY`` races between their
    branch tips (the upstreams that are no ancestor of another upstream)."""
    n = draw(st.integers(1, max_steps))
    preds: list[tuple[int, ...]] = []
    ancestors: list[set[int]] = []
    tips: list[frozenset[int]] = []
    for node in range(n):
        ups = tuple(sorted(draw(st.sets(st.integers(0, node - 1), max_size=4)))) if node else ()
        preds.append(ups)
        ancestors.append(set(ups).union(*(ancestors[u] for u in ups)))
        branch_tips = frozenset(u for u in ups if not any(u in ancestors[o] for o in ups))
        race = len(branch_tips) > 1 and draw(st.booleans())
        tips.append(branch_tips if race else frozenset())
    return ScheduleTable.build(preds, tips)


def eligible(table: ScheduleTable, position: int, finished: set[int], skipped: set[int]) -> bool:
    """DESIGN.md's rule: Join.ALL after every upstream; Join.ANY after its non-tip
    upstreams and the first tip to finish (or every tip skipped)."""
    done = finished | skipped
    tips = table.tips[position]
    if not all(up in done for up in table.predecessors[position] if up not in tips):
        return False
    return not tips or bool(tips & finished) or tips <= skipped


@settings(max_examples=300)
@given(dags_with_races(), st.randoms(use_true_random=False), st.floats(0, 1))
def test_every_step_is_released_once_exactly_when_its_join_allows(
    table: ScheduleTable, rng: random.Random, skip_rate: float
) -> None:
    schedule = Schedule(table)
    ready = schedule.roots()
    released = set(ready)
    finished: set[int] = set()
    skipped: set[int] = set()
    while ready:
        position = ready.pop(rng.randrange(len(ready)))
        # A Join.ANY whose tips were all skipped must be skipped; anything may be.
        if schedule.all_tips_skipped(position) or rng.random() < skip_rate:
            skipped.add(position)
            new = schedule.skip(position)
        else:
            finished.add(position)
            new = schedule.done(position)
        assert not released & set(new), "a step was released twice"
        # Released exactly when eligible: never early, never late.
        assert all(eligible(table, p, finished, skipped) for p in new)
        released.update(new)
        ready.extend(new)
        assert {p for p in range(len(table.waits))
                if eligible(table, p, finished, skipped)} <= released
    assert released == set(range(len(table.waits)))
    assert schedule.pending == 0
    assert {p for p in released if schedule.finished[p]} == finished


def test_a_race_is_released_by_its_first_finished_tip() -> None:
    # 0 -> 1, 0 -> 2, (1 | 2) -> 3 racing.
    schedule = Schedule(ScheduleTable.build([(), (0,), (0,), (1, 2)],
                                            [frozenset()] * 3 + [frozenset({1, 2})]))
    assert schedule.roots() == [0]
    assert schedule.done(0) == [1, 2]
    assert schedule.done(2) == [3]
    assert schedule.done(1) == []  # a later arrival releases nothing again
    assert schedule.upstreams(3) == ([1, 2], [], [])


def test_a_race_whose_tips_are_all_skipped_is_released_by_the_last_skip() -> None:
    schedule = Schedule(ScheduleTable.build([(), (), (0, 1)],
                                            [frozenset(), frozenset(), frozenset({0, 1})]))
    assert schedule.skip(0) == []
    assert schedule.skip(1) == [2]
    assert schedule.all_tips_skipped(2)
