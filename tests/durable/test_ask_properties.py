"""Property: a random workflow with asks at any depth (outer steps, sub-workflows,
loop passes, mapped sub-workflows, under any concurrency limit) run with a store
never hangs: it stops ``interrupted`` with its questions, and resuming with their
answers (in parts) ends in the state of a run answered in process by ``on_ask``."""

from __future__ import annotations

import functools
from typing import Any

import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spectra_dsl import Ask, Join, Repeat, Workflow
from spectra_dsl.store import MemoryStore
from tests.helpers import virtual


def answer(key: str, payload: Any) -> int:
    """The answer a person gives to the question ``key`` (the same in every test)."""
    return len(key) + len(str(payload))


def body(index: int, sleep: int, mapped: bool = False) -> Workflow:
    """A sub-workflow: ``prep`` (sleeps), then an ask, then ``out``; ``prep`` reads
    ``seed`` (or, mapped, one element of ``seeds``)."""
    wf = Workflow(f"body{index}")
    namespace: dict[str, Any] = {"trio": trio, "sleep": sleep}
    source = "seeds" if mapped else "seed"
    exec(f"async def prep({source}):\n    await trio.sleep(sleep)\n"
         f"    return {source} + {index}\n", namespace)
    wf.step(namespace["prep"])

    @wf.step(ask=True)
    async def question(prep: int) -> Ask[int]:
        return Ask(prep)

    @wf.step
    async def out(prep: int, question: int) -> int:
        return prep * 100 + question

    return wf


branch_kinds = st.sampled_from(["plain", "ask", "sub", "loop", "mapped"])


@st.composite
def shapes(draw: st.DrawFn) -> tuple[list[tuple[str, int]], int | None]:
    branches = draw(st.lists(st.tuples(branch_kinds, st.integers(0, 3)), min_size=1,
                             max_size=4))
    limit = draw(st.none() | st.integers(1, 3))
    return branches, limit


def build(branches: list[tuple[str, int]]) -> Workflow:
    wf = Workflow("random")

    @wf.step
    async def seed(start: int) -> int:
        return start

    @wf.step
    async def seeds(seed: int) -> list[int]:
        return [seed, seed + 1, seed + 2]

    outputs: list[str] = []
    for i, (kind, sleep) in enumerate(branches):
        name = f"b{i}"
        outputs.append(name)
        if kind == "plain":
            namespace: dict[str, Any] = {"trio": trio, "sleep": sleep}
            exec(f"async def {name}(seed):\n    await trio.sleep(sleep)\n"
                 f"    return seed * 7 + {i}\n", namespace)
            wf.step(namespace[name])
        elif kind == "ask":
            namespace = {"Ask": Ask}
            exec(f"async def {name}(seed):\n    return Ask(seed + {i})\n", namespace)
            wf.step(ask=True)(namespace[name])
        elif kind == "sub":
            wf.add(body(i, sleep), name=name, writes={"out": name})
        elif kind == "loop":
            wf.add(body(i, sleep), name=name, writes={"out": name},
                   repeat=Repeat(until=lambda out: out % 2 == 0, max_iterations=3,
                                 carry={"out": "seed"}))
        else:
            wf.add(body(i, sleep, mapped=True), name=name, map="seeds",
                   writes={"out": name})

    namespace = {}
    params = ", ".join(outputs)
    exec(f"async def total({params}):\n    return repr(({params},))\n", namespace)
    if len(outputs) > 1:
        wf.step(join=Join.ALL)(namespace["total"])
    else:
        wf.step(namespace["total"])
    return wf


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(shape=shapes())
def test_random_asks_at_any_depth_stop_and_resume_to_the_answered_state(
        shape: tuple[list[tuple[str, int]], int | None]) -> None:
    branches, limit = shape
    plan = build(branches).compile()

    async def on_ask(key: str, payload: Any) -> Any:
        await trio.sleep(1)
        return answer(key, payload)

    expected = virtual(lambda: plan.run({"start": 3}, on_ask=on_ask, max_concurrency=limit))
    store = MemoryStore()
    result = virtual(lambda: plan.run({"start": 3}, store=store, run_id="r",
                                      max_concurrency=limit))
    rounds = 0
    while result.status == "interrupted":
        rounds += 1
        assert rounds < 20, result.pending
        assert result.pending, "interrupted with no question"
        # answer half of them (at least one) each time: answers may come in parts
        keys = sorted(result.pending)[: max(1, len(result.pending) // 2)]
        answers = {key: answer(key, result.pending[key]) for key in keys}
        result = virtual(functools.partial(plan.resume, "r", store=store, answers=answers,
                                           max_concurrency=limit))
    assert result.status == "finished"
    assert result["total"] == expected["total"]
