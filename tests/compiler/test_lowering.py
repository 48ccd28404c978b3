"""Lowering once: every sub-workflow is compiled once, with its holder, at any depth."""

from __future__ import annotations

from typing import Any

import pytest

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
