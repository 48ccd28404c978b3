"""Property tests over random DAGs, durations and limits (all on a mock clock)."""

from __future__ import annotations

import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from spectra_dsl import RunResult
from tests.strategies import RandomDag, Recorder, build, limits, name, random_dags, sequential_state


def run_dag(dag: RandomDag, limit: int | None) -> tuple[RunResult, Recorder]:
    rec = Recorder()
    plan = build(dag, rec).compile()
    result = trio.run(
        lambda: plan.run(max_concurrency=limit),
        clock=trio.testing.MockClock(autojump_threshold=0),
    )
    return result, rec


def greedy_times(dag: RandomDag) -> dict[str, tuple[int, int]]:
    """Start and finish of each step when every step starts the moment it is ready.

    A Join.ANY fan-in is ready when its upstreams that feed other upstreams (a common
    source) have finished and the first of the others (the branch tips) has.
    """
    times: dict[str, tuple[int, int]] = {}
    ancestors: list[set[int]] = []
    for i in range(dag.size):
        deps = dag.deps[i]
        ancestors.append(set(deps).union(*(ancestors[d] for d in deps)))
        ends = {d: times[name(d)][1] for d in deps}
        covered = set().union(*(ancestors[d] for d in deps))
        tips = [d for d in deps if d not in covered]
        if dag.joins_any(i) and len(tips) > 1:
            start = max([ends[d] for d in deps if d not in tips] + [min(ends[t] for t in tips)])
        else:
            start = max(ends.values(), default=0)
        times[name(i)] = (start, start + dag.durations[i])
    return times


@settings(max_examples=600, deadline=None)
@given(random_dags(max_steps=16, with_any=True))
def test_unlimited_run_is_greedy_dataflow(dag: RandomDag) -> None:
    """Each step starts exactly when it is ready: a Join.ALL step when its last upstream
    finished, a Join.ANY step when its first branch did; no rounds, no barriers, and
    every step runs exactly once."""
    result, rec = run_dag(dag, None)
    expected = greedy_times(dag)
    assert rec.calls == {name(i): 1 for i in range(dag.size)}
    assert {k: (rec.starts[k], rec.ends[k]) for k in rec.starts} == expected
    assert result.duration == max(end for _, end in expected.values())


@settings(max_examples=500, deadline=None)
@given(random_dags(max_steps=16), limits())
def test_every_step_runs_once_after_its_upstreams_within_the_limit(
    dag: RandomDag, limit: int | None
) -> None:
    result, rec = run_dag(dag, limit)
    assert rec.calls == {name(i): 1 for i in range(dag.size)}
    for i in range(dag.size):
        for d in dag.deps[i]:
            assert rec.starts[name(i)] >= rec.ends[name(d)]
    if limit is not None:
        assert rec.peak <= limit
        assert result.peak_concurrency <= limit
    if limit == 1:
        assert result.duration == sum(dag.durations)


@settings(max_examples=300, deadline=None)
@given(random_dags(), limits())
def test_final_state_equals_a_sequential_run_in_plan_order(
    dag: RandomDag, limit: int | None
) -> None:
    """The determinism promise: whatever the timing, state is folded in plan order."""
    result, _ = run_dag(dag, limit)
    plan_order = build(dag, Recorder()).compile().steps
    assert dict(result.state) == sequential_state(dag, plan_order)


@settings(max_examples=60, deadline=None)
@given(random_dags(max_steps=8), st.data())
def test_state_is_the_same_under_many_timings(dag: RandomDag, data: st.DataObject) -> None:
    """Reshuffled durations change completion order, never the final state."""
    first, _ = run_dag(dag, None)
    for _ in range(3):
        durations = tuple(
            data.draw(st.lists(st.integers(0, 7), min_size=dag.size, max_size=dag.size))
        )
        limit = data.draw(limits())
        other, _ = run_dag(RandomDag(dag.deps, durations, dag.logs), limit)
        assert dict(other.state) == dict(first.state)
