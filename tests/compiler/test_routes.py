"""Routes with a fallback (match value sets, ``~match``) and ordering-only edges: what the
compiler proves exclusive, what holds at run time, and that the two agree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis.strategies as st
import pytest
import trio
from hypothesis import given, settings

from spectra_dsl import Join, Workflow, match, reducers
from spectra_dsl._control import guard_holds
from tests.helpers import run_virtual, skipped_steps
from tests.strategies import (
    RandomDag,
    Recorder,
    make_step,
    name,
    random_dags,
    sequential_state,
)


def test_a_set_holds_when_the_value_is_in_it() -> None:
    guard = match(kind={"billing", "refund"})
    assert guard.holds({"kind": "refund"}) and not guard.holds({"kind": "tech"})
    assert not guard.holds({"kind": ["billing"]})       # unhashable: in no set
    assert match(kind=("a", "b")).holds({"kind": ("a", "b")})  # a tuple is a value
    assert match(kind=frozenset({1})).holds({"kind": 1})


def test_a_negated_match_holds_when_the_match_does_not() -> None:
    other = ~match(kind={"billing", "tech"})
    assert other.holds({"kind": "sales"}) and not other.holds({"kind": "tech"})
    assert not other.holds({}), "a key never written: no guard holds, negated or not"
    assert not guard_holds(other, {"unrelated": 1})
    assert (~other).holds({"kind": "tech"}) and ~other == match(kind={"billing", "tech"})
    assert repr(other) == "~match(kind=frozenset({'billing', 'tech'}))" or repr(
        other) == "~match(kind=frozenset({'tech', 'billing'}))"
    both = ~match(a=1, b=2)
    assert both.holds({"a": 1, "b": 3}) and not both.holds({"a": 1, "b": 2})


def router(fallback: Any, *, reducer: bool = False) -> Workflow:
    wf = Workflow("router", reducers={"reply": lambda a, b: a + b} if reducer else None)

    @wf.step
    async def classify(text: str) -> str:
        return text.split(":")[0]

    @wf.step(when=match(classify="billing"), writes="reply")
    async def billing(text: str) -> str:
        return "billing team"

    @wf.step(when=match(classify="tech"), writes="reply")
    async def tech(text: str) -> str:
        return "tech team"

    @wf.step(when=fallback, writes="reply")
    async def otherwise(text: str) -> str:
        return "front desk"

    @wf.step(join=Join.ALL)
    async def send(reply: str) -> str:
        return reply

    return wf


def test_a_catch_all_route_writes_the_key_of_the_named_routes_without_a_reducer() -> None:
    wf = router(~match(classify={"billing", "tech"}))
    assert wf.check() == ()
    for text, team, ran in [("billing: x", "billing team", "billing"),
                            ("tech: y", "tech team", "tech"),
                            ("sales: z", "front desk", "otherwise")]:
        result = run_virtual(wf, {"text": text})
        assert result["send"] == team
        assert set(skipped_steps(result)) == {"billing", "tech", "otherwise"} - {ran}


@pytest.mark.parametrize("fallback", [
    ~match(classify={"billing"}),            # tech and otherwise may both run
    ~match(classify="tech", text="t"),       # several keys: nothing proven
    lambda classify: classify not in ("billing", "tech"),
])
def test_a_fallback_that_overlaps_a_route_races(fallback: Any) -> None:
    found = router(fallback).check()
    assert [d.code for d in found] == ["SPX201"]
    says = ("some value can make both guards hold" if not callable(fallback)
            or hasattr(fallback, "pairs") else "cannot be proven exclusive")
    assert says in found[0].message


def test_sets_on_one_key_are_exclusive_only_when_disjoint() -> None:
    wf = Workflow("sets")

    @wf.step
    async def kind(text: str) -> str:
        return text

    @wf.step(when=match(kind={"a", "b"}), writes="out")
    async def ab(text: str) -> str:
        return "ab"

    @wf.step(when=match(kind={"c"}), writes="out")
    async def c(text: str) -> str:
        return "c"

    assert wf.check() == ()

    @wf.step(when=match(kind={"b", "c"}), writes="out")
    async def bc(text: str) -> str:
        return "bc"

    assert [d.code for d in wf.check()] == ["SPX201"]


def test_exclusion_flows_downstream_from_a_fallback() -> None:
    wf = Workflow("downstream")

    @wf.step
    async def kind(text: str) -> str:
        return text

    @wf.step(when=match(kind="tech"))
    async def tech(text: str) -> str:
        return "tech"

    @wf.step(when=~match(kind={"tech", "billing"}))
    async def otherwise(text: str) -> str:
        return "other"

    @wf.step(join=Join.ALL)
    async def audit(otherwise: str, tech: str) -> str:   # never both: SPX104
        return otherwise + tech

    assert [d.code for d in wf.check()] == ["SPX104"]


# -- the compiler's exclusivity agrees with the run time ---------------------------------

VALUES = (0, 1, 2, 3)
guards = st.builds(
    lambda values, negated, single: (
        (frozenset(values) if not single else next(iter(values))), negated),
    st.sets(st.sampled_from(VALUES), min_size=1, max_size=3), st.booleans(), st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.lists(guards, min_size=2, max_size=4))
def test_routes_proven_exclusive_never_both_hold(routes: list[tuple[Any, bool]]) -> None:
    """Writers of one key pass the race check exactly when, for every value the key can
    take, at most one of their guards holds."""
    wf = Workflow("routes")

    @wf.step
    async def kind(x: int) -> int:
        return x

    built = []
    for number, (value, negated) in enumerate(routes):
        guard = match(kind=value)
        if negated:
            guard = ~guard
        built.append(guard)

        async def route(x: int) -> int:
            return x

        route.__name__ = f"route{number}"
        wf.step(when=guard, writes="out")(route)
    raced = any(d.code == "SPX201" for d in wf.check())
    domain = (*VALUES, 99)  # 99: a value no guard names
    overlap = any(sum(g.holds({"kind": v}) for g in built) > 1 for v in domain)
    assert raced == overlap


# -- ordering-only edges at run time -----------------------------------------------------

def test_after_orders_without_reading_and_runs_after_a_skipped_step() -> None:
    wf = Workflow("after")
    seen: list[str] = []

    @wf.step(when=match(mode="write"))
    async def write(mode: str) -> str:
        await trio.sleep(2)
        seen.append("write")
        return "done"

    @wf.step(after=("write",))
    async def cleanup(mode: str) -> str:
        seen.append("cleanup")
        return f"cleaned at {trio.current_time():g}"

    assert run_virtual(wf, {"mode": "write"})["cleanup"] == "cleaned at 2"
    assert seen == ["write", "cleanup"]
    result = run_virtual(wf, {"mode": "read"})
    assert result["cleanup"] == "cleaned at 0" and skipped_steps(result) == {
        "write": skipped_steps(result)["write"]}


@settings(max_examples=40, deadline=None)
@given(random_dags(max_steps=8), st.data())
def test_after_edges_on_random_dags_order_the_run(dag: RandomDag, data: st.DataObject) -> None:
    """Random ordering-only edges (each to an earlier step): every step starts after
    the steps it names have finished, and the values are those of the plain DAG."""
    rec = Recorder()
    after = [data.draw(st.sets(st.integers(0, i - 1), max_size=2)) if i else set()
             for i in range(dag.size)]
    wf = Workflow("after-dag")
    if any(dag.logs):
        wf.reducer("log", reducers.append)
    for i in range(dag.size):
        upstreams = set(dag.deps[i]) | after[i]
        wf.step(name=name(i), join=Join.ALL if len(upstreams) > 1 else None,
                writes=(name(i), "log") if dag.logs[i] else None,
                after=tuple(name(a) for a in sorted(after[i])))(make_step(i, dag, rec))
    plan = wf.compile()
    result = run_virtual(wf)
    for i in range(dag.size):
        for a in after[i]:
            assert rec.starts[name(i)] >= rec.ends[name(a)]
            assert plan.graph.index[name(a)] in plan.graph.predecessors[plan.graph.index[name(i)]]
    expected = sequential_state(dag, plan.graph.names)
    assert {k: result[k] for k in expected} == expected  # 'log' folded in plan order


@pytest.mark.parametrize("make", [lambda: match(), lambda: match(kind=set()),
                                  lambda: match(kind=frozenset())])
def test_a_match_that_could_never_hold_is_refused_at_once(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="match"):
        make()
