"""``ExecutionGraph.needed(outputs)`` and ``restrict(positions)``: the steps a run of only
some outputs needs, and the smaller graph that runs them."""

from __future__ import annotations

import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import ExecutionGraph
from spectra_dsl import Join, Workflow, match, reducers
from spectra_dsl._plan import Plan
from tests.strategies import RandomDag, Recorder, build, name, random_dags, sequential_state


def workflow() -> Workflow:
    wf = Workflow("report", inputs=("topic", "mode", "style", "unused"),
                  reducers={"notes": reducers.append})

    @wf.step
    async def urls(topic: str) -> list[str]:
        return [topic]

    @wf.step
    async def flag(mode: str) -> str:
        return mode

    @wf.step(when=match(flag="full"), join=Join.ALL)
    async def pages(urls: list[str], style: str = "plain") -> list[str]:
        return urls

    @wf.step(after=("pages",))
    async def cleanup() -> str:
        return "clean"

    @wf.step(writes="notes")
    async def side(unused: str) -> str:
        return unused

    @wf.step(writes="notes")
    async def more_notes(pages: list[str]) -> str:
        return "more"

    return wf


def graph() -> ExecutionGraph:
    return workflow().compile().graph


def names(g: ExecutionGraph, positions: tuple[int, ...]) -> set[str]:
    return {g.names[p] for p in positions}


def test_a_step_needs_its_upstreams_guard_keys_and_after_steps() -> None:
    g = graph()
    found = g.needed(("cleanup",))
    assert names(g, found.positions) == {"cleanup", "pages", "urls", "flag"}
    assert found.required_inputs == {"topic": ("urls",), "mode": ("flag",)}
    assert found.unknown == () and found.error is None
    assert list(found.positions) == sorted(found.positions)


def test_a_key_needs_every_writer_and_an_input_needs_nothing() -> None:
    g = graph()
    found = g.needed(["notes", "topic"])
    assert names(g, found.positions) == {"side", "more_notes", "pages", "urls", "flag"}
    assert set(found.required_inputs) == {"topic", "mode", "unused"}
    assert g.needed(("topic",)).positions == ()


def test_unknown_names_are_reported_with_the_closest_known_one() -> None:
    found = graph().needed(("cleanup", "clenup", "nothing_at_all", 3))  # type: ignore[arg-type]
    assert found.unknown == ("clenup", "nothing_at_all", "3")
    assert found.error is not None
    assert "'clenup' (did you mean 'cleanup'?)" in found.error
    assert "'nothing_at_all'" in found.error and "workflow 'report'" in found.error


def test_restrict_reindexes_every_table() -> None:
    g = graph()
    small = g.restrict(g.needed(("cleanup",)).positions)
    assert small.names == ("urls", "flag", "pages", "cleanup")
    at = small.index
    assert small.predecessors[at["pages"]] == (at["urls"], at["flag"])
    assert small.successors[at["urls"]] == (at["pages"],)
    assert small.order_only[at["cleanup"]] == {at["pages"]}
    assert small.writers == {"urls": (0,), "flag": (1,), "pages": (2,), "cleanup": (3,)}
    assert small.required_inputs == {"topic": ("urls",), "mode": ("flag",)}
    assert small.optional_inputs == {"style": ("pages",)}
    assert small.priority == (3, 3, 2, 1) and small.roots == (0, 1)
    assert small.maps == ((),) * 4 and small.concurrency == (None,) * 4
    assert len(small.bodies) == 4 and small.waits == (0, 0, 2, 1)
    assert g.restrict(range(len(g))) == g


def test_a_restricted_plan_runs_only_what_it_holds() -> None:
    wf = workflow()
    plan = wf.compile()
    needed = plan.graph.needed(("cleanup",))
    small = Plan(graph=plan.graph.restrict(needed.positions),
                 actions=tuple(plan.actions[p] for p in needed.positions),
                 reducers=plan.reducers, max_concurrency=None, diagnostics=())
    result = small.run_sync({"topic": "t", "mode": "full"})
    assert result["cleanup"] == "clean" and result["pages"] == ["t"]
    assert "notes" not in result.state


@settings(max_examples=60, deadline=None)
@given(random_dags(max_steps=10), st.data())
def test_a_restricted_random_dag_gives_the_outputs_of_the_whole_run(
    dag: RandomDag, data: st.DataObject,
) -> None:
    wf = build(dag, Recorder())
    plan = wf.compile()
    g = plan.graph
    outputs = data.draw(st.lists(st.sampled_from([*g.names, *g.writers]), min_size=1,
                                 max_size=3))
    needed = g.needed(outputs)
    chosen = set(needed.positions)
    for position in chosen:  # closed under predecessors
        assert chosen.issuperset(g.predecessors[position])
    for out in outputs:
        assert chosen.issuperset(g.writers.get(out, (g.index.get(out, -1),)))
    small = Plan(graph=g.restrict(needed.positions),
                 actions=tuple(plan.actions[p] for p in needed.positions),
                 reducers=plan.reducers, max_concurrency=None, diagnostics=())
    result = trio.run(small.run, None, clock=trio.testing.MockClock(autojump_threshold=0))
    expected = sequential_state(dag, g.names)
    for i in needed.positions:
        step = g.names[i]
        assert result[step] == expected[step]
    assert set(result.state) - {"log"} == {g.names[i] for i in needed.positions}
    assert not any(name(i) in result.state for i in range(dag.size)
                   if name(i) not in {g.names[p] for p in needed.positions})
