"""Lowering once: every sub-workflow is compiled once, with its holder, at any depth."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

import compiler._lower
from spectra_dsl import Workflow, step
from tests.helpers import run_virtual


def nested(depth: int) -> Workflow:
    """``depth`` workflows, each holding the next as its one step."""

    @step
    async def leaf(x: int) -> int:
        return x + 1

    inner = Workflow("level0", steps=[leaf])
    for level in range(1, depth):
        outer = Workflow(f"level{level}")
        outer.add(inner, name="inner", writes="leaf")
        inner = outer
    return inner


def count_compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the workflows compiled from now on, one entry per compile."""
    compiled: list[str] = []
    original = compiler._lower._compile

    def counting(spec: Any, done: Any) -> Any:
        compiled.append(spec.name)
        return original(spec, done)

    monkeypatch.setattr(compiler._lower, "_compile", counting)
    return compiled


@pytest.mark.parametrize("depth", [1, 2, 5, 30])
def test_each_level_of_nesting_is_compiled_once(
    monkeypatch: pytest.MonkeyPatch, depth: int
) -> None:
    wf = nested(depth)
    compiled = count_compiles(monkeypatch)
    wf.compile()
    assert sorted(compiled) == sorted(f"level{i}" for i in range(depth))


def test_a_body_added_at_two_places_is_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    @step
    async def double(x: int) -> int:
        return 2 * x

    body = Workflow("body", steps=[double])
    wf = Workflow("outer")
    wf.add(body, name="first", writes={"double": "a"})
    wf.add(body, name="second", writes={"double": "b"})
    compiled = count_compiles(monkeypatch)
    plan = wf.compile()
    assert compiled.count("body") == 1
    first, second = (plan.actions[plan.graph.index[n]].body for n in ("first", "second"))
    assert first is second
    assert run_virtual(wf, {"x": 3}).state == {"x": 3, "a": 6, "b": 6}


def test_a_sub_plan_wraps_the_graph_the_compiler_lowered_for_it() -> None:
    plan = nested(3).compile()
    inner = plan.actions[0].body
    assert inner is not None
    assert inner.graph is plan.graph.bodies[0]
    assert plan.graph.bodies[0] is not None
    assert plan.graph.bodies[0].name == "level1"


def test_300_deep_nesting_compiles_and_runs() -> None:
    wf = nested(300)
    assert not wf.check()
    assert run_virtual(wf, {"x": 41})["leaf"] == 42


def test_an_error_deep_inside_is_reported_once_naming_the_way_in() -> None:
    @step
    async def leaf(x: int) -> int:
        return x

    @step
    async def also(x: int) -> int:
        return x

    inner = Workflow("inner", steps=[leaf, also])
    inner.reducer("nothing", lambda acc, value: acc)
    middle = Workflow("middle")
    middle.add(inner, name="a", writes="leaf")
    outer = Workflow("outer")
    outer.add(middle, name="b", writes="leaf")
    (finding,) = [d for d in outer.check() if d.code == "SPX202"]
    assert finding.message.startswith("in sub-workflow 'b': in sub-workflow 'a': reducer")


@st.composite
def workflow_dags(draw: st.DrawFn) -> list[list[int]]:
    """For each workflow, the earlier workflows it holds as sub-workflow steps (a body
    may be held by several workflows, and at several depths)."""
    n = draw(st.integers(1, 8))
    return [sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else []
            for i in range(n)]


@settings(max_examples=30)
@given(holds=workflow_dags())
def test_any_sharing_of_bodies_compiles_each_workflow_once_and_runs(
    holds: list[list[int]],
) -> None:
    workflows: list[Workflow] = []
    for index, held in enumerate(holds):
        @step
        async def leaf(x: int) -> int:
            return x + 1

        wf = Workflow(f"w{index}", steps=[leaf])
        for body in held:
            wf.add(workflows[body], name=f"sub{body}")
        workflows.append(wf)
    top = workflows[-1]
    with pytest.MonkeyPatch.context() as patch:
        compiled = count_compiles(patch)
        assert top.check() == ()
    reachable = {len(holds) - 1}
    todo = [len(holds) - 1]
    while todo:
        for body in holds[todo.pop()]:
            if body not in reachable:
                reachable.add(body)
                todo.append(body)
    assert sorted(compiled) == sorted(f"w{i}" for i in reachable)

    def check(state: Mapping[str, Any], index: int) -> None:
        assert state["leaf"] == 2
        for body in holds[index]:
            check(state[f"sub{body}"], body)

    check(run_virtual(top, {"x": 1}).state, len(holds) - 1)
