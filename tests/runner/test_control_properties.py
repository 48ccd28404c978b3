"""Property test: random DAGs with random match guards and router outputs.

The run always ends; every step either ran once or was skipped; a step ran only if its
guard held and its required inputs existed; and the final state equals that of a plain
sequential interpreter over the same choices.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import trio
import trio.testing
from hypothesis import given, settings

from spectra_dsl import Join, Workflow, events, match
from tests.strategies import GuardedDag, guarded_dags, limits, name

MISSING = "-"


def output(dag: GuardedDag, i: int, inputs: dict[str, Any]) -> Any:
    route = dag.routes[i]
    if route is not None:
        return route
    return f"{name(i)}({','.join(f'{k}={inputs.get(k, MISSING)}' for k in sorted(inputs))})"


def make_step(dag: GuardedDag, i: int, calls: list[str]) -> Callable[..., Awaitable[Any]]:
    async def body(**inputs: Any) -> Any:
        for d in dag.deps[i]:
            inputs.setdefault(name(d), MISSING)  # what the parameter's default would be
        calls.append(name(i))
        await trio.sleep(dag.durations[i])
        return output(dag, i, inputs)

    body.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(name(d), inspect.Parameter.KEYWORD_ONLY,
                          default=MISSING if has_default else inspect.Parameter.empty)
        for d, has_default in zip(dag.deps[i], dag.defaults[i], strict=True)
    ])
    return body


def build(dag: GuardedDag, calls: list[str]) -> Workflow:
    wf = Workflow("guarded")
    for i in range(dag.size):
        guard = dag.guards[i]
        upstreams = set(dag.deps[i]) | ({guard[0]} if guard else set())
        wf.step(
            name=name(i),
            join=Join.ALL if len(upstreams) > 1 else None,
            when=None if guard is None else match(**{name(guard[0]): guard[1]}),
        )(make_step(dag, i, calls))
    return wf


def reference(dag: GuardedDag, order: tuple[str, ...]) -> tuple[dict[str, Any], set[str]]:
    """Run the steps one by one in plan order, plainly: the meaning of the workflow."""
    state: dict[str, Any] = {}
    ran: set[str] = set()
    for step_name in order:
        i = int(step_name[1:])
        guard = dag.guards[i]
        if guard is not None and state.get(name(guard[0])) != guard[1]:
            continue
        inputs: dict[str, Any] = {}
        runnable = True
        for d, has_default in zip(dag.deps[i], dag.defaults[i], strict=True):
            if name(d) in state:
                inputs[name(d)] = state[name(d)]
            elif has_default:
                inputs[name(d)] = MISSING
            else:
                runnable = False
        if runnable:
            state[step_name] = output(dag, i, inputs)
            ran.add(step_name)
    return state, ran


@settings(max_examples=600, deadline=None)
@given(guarded_dags(max_steps=14), limits())
def test_guarded_runs_match_a_sequential_reference(dag: GuardedDag, limit: int | None) -> None:
    calls: list[str] = []
    plan = build(dag, calls).compile()
    result = trio.run(
        lambda: plan.run(max_concurrency=limit),
        clock=trio.testing.MockClock(autojump_threshold=0),
    )
    expected_state, expected_ran = reference(dag, plan.steps)
    assert dict(result.state) == expected_state
    assert sorted(calls) == sorted(expected_ran)  # each ran step ran exactly once
    skipped = [e.step for e in result.events_of(events.StepSkipped)]
    assert sorted(skipped) == sorted(set(plan.steps) - expected_ran)  # the rest skipped once
    if limit is not None:
        assert result.peak_concurrency <= limit
