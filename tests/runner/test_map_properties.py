"""Property: random graphs of mapped steps give what a sequential interpreter gives,
with every call made exactly once, whatever the lengths, durations and limits."""

from __future__ import annotations

from collections import Counter
from typing import Any

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from spectra_dsl import Join, Workflow
from tests.helpers import run_virtual


@st.composite
def mapped_graphs(draw: st.DrawFn) -> dict[str, Any]:
    """A source list, then mapped steps each over the source or an earlier mapped step,
    each adding its own number; random durations per element; random limits."""
    length = draw(st.integers(0, 5))
    count = draw(st.integers(1, 4))
    steps = []
    for i in range(count):
        over = draw(st.integers(-1, i - 1))  # -1: the source
        steps.append({
            "over": "source" if over < 0 else f"m{over}",
            "add": draw(st.integers(1, 9)),
            "durations": draw(st.lists(st.sampled_from([0, 1, 2, 3]), min_size=length,
                                       max_size=length)),
            "concurrency": draw(st.sampled_from([None, 1, 2])),
            "zip_source": draw(st.booleans()) and over >= 0,
        })
    limit = draw(st.sampled_from([None, 1, 2, 3]))
    return {"source": list(range(length)), "steps": steps, "limit": limit}


def _expected(case: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = {"source": case["source"]}
    for i, spec in enumerate(case["steps"]):
        state[f"m{i}"] = [v + spec["add"] + (s if spec["zip_source"] else 0)
                          for v, s in zip(state[spec["over"]], state["source"], strict=True)]
    state["total"] = sum(sum(state[f"m{i}"]) for i in range(len(case["steps"])))
    return state


def _build(case: dict[str, Any], calls: Counter[tuple[str, int]]) -> Workflow:
    wf = Workflow("random_map")

    @wf.step
    async def source() -> list[int]:
        return list(case["source"])

    for i, spec in enumerate(case["steps"]):
        name, over = f"m{i}", spec["over"]
        mapped = (over, "source") if spec["zip_source"] else (over,)

        async def call(_spec: dict[str, Any] = spec, _name: str = name,
                       **kwargs: Any) -> int:
            value = kwargs[_spec["over"]]
            index = kwargs["source"] if _spec["zip_source"] else None
            calls[(_name, value if index is None else index)] += 1
            durations = _spec["durations"]
            await trio.sleep(durations[(value if index is None else index) % len(durations)])
            return int(value) + int(_spec["add"]) + (index or 0)

        unique = list(dict.fromkeys(mapped))
        keywords = ", ".join(f"{p!r}: {p}" for p in unique)
        namespace: dict[str, Any] = {"call": call}
        exec(  # a step with the right parameter names
            f"async def {name}({', '.join(unique)}):\n"
            f"    return await call(**{{{keywords}}})\n",
            namespace,
        )
        fn = namespace[name]
        fn.__annotations__ = dict.fromkeys(unique, "int") | {"return": "int"}
        join = Join.ALL if len(unique) > 1 else None
        wf.step(map=unique, join=join, concurrency=spec["concurrency"])(fn)

    names = [f"m{i}" for i in range(len(case["steps"]))]
    namespace = {}
    exec(f"async def total({', '.join(names)}):\n"
         f"    return sum(sum(x) for x in ({', '.join(names)},))\n", namespace)
    total = namespace["total"]
    total.__annotations__ = dict.fromkeys(names, "list[int]") | {"return": "int"}
    wf.step(join=Join.ALL if len(names) > 1 else None)(total)
    return wf


@settings(max_examples=60, deadline=None)
@given(mapped_graphs())
def test_random_mapped_graphs_match_a_sequential_interpreter(case: dict[str, Any]) -> None:
    calls: Counter[tuple[str, int]] = Counter()
    result = run_virtual(_build(case, calls), max_concurrency=case["limit"])
    assert dict(result) == _expected(case)
    assert all(n == 1 for n in calls.values())
    assert sum(calls.values()) == len(case["source"]) * len(case["steps"])
    if case["limit"] is not None:
        assert result.peak_concurrency <= case["limit"]
