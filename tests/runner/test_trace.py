"""result.to_chrome_trace(): Trace Event JSON with one lane per slot used at once."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from spectra_dsl import Join, Repeat, Workflow
from tests.helpers import run_virtual
from tests.strategies import RandomDag, Recorder, build, limits, random_dags


def diamond() -> Workflow:
    wf = Workflow("diamond")

    @wf.step
    async def top() -> int:
        await trio.sleep(1)
        return 1

    @wf.step
    async def left(top: int) -> int:
        await trio.sleep(2)
        return top

    @wf.step
    async def right(top: int) -> int:
        await trio.sleep(1)
        return top

    @wf.step(join=Join.ALL)
    async def bottom(left: int, right: int) -> int:
        await trio.sleep(0.5)
        return left + right

    return wf


def slices(document: dict[str, Any], pid: int = 1) -> list[tuple[str, int, float, float]]:
    """(name, lane, start, duration) of the complete events of one process."""
    return [(e["name"], e["tid"], e["ts"], e["dur"]) for e in document["traceEvents"]
            if e["ph"] == "X" and e["pid"] == pid]


def thread_names(document: dict[str, Any], pid: int) -> dict[int, str]:
    return {e["tid"]: e["args"]["name"] for e in document["traceEvents"]
            if e["ph"] == "M" and e["name"] == "thread_name" and e["pid"] == pid}


def test_golden_trace_of_a_diamond() -> None:
    result = run_virtual(diamond())
    document = result.to_chrome_trace()
    assert slices(document) == [
        ("top", 1, 0.0, 1_000_000.0),
        ("left", 1, 1_000_000.0, 2_000_000.0),
        ("right", 2, 1_000_000.0, 1_000_000.0),
        ("bottom", 1, 3_000_000.0, 500_000.0),
    ]
    assert thread_names(document, 1) == {1: "slot 1", 2: "slot 2"}
    assert result.peak_concurrency == 2
    assert slices(document, pid=2) == [("diamond", 1, 0.0, 3_500_000.0)]
    assert document["otherData"]["lanes"] == 2
    assert document["displayTimeUnit"] == "ms"
    json.dumps(document)  # plain JSON all through


def test_the_trace_is_written_to_a_file_as_json(tmp_path: Path) -> None:
    result = run_virtual(diamond())
    document = result.to_chrome_trace(tmp_path / "run.json")
    assert json.loads((tmp_path / "run.json").read_text("utf-8")) == document


def test_sub_workflows_and_loop_passes_are_nested_slices() -> None:
    body = Workflow("body")

    @body.step
    async def inc(n: int) -> int:
        await trio.sleep(1)
        return n + 1

    review = Workflow("review")

    @review.step
    async def check(start: int) -> int:
        await trio.sleep(2)
        return start

    wf = Workflow("outer")

    @wf.step
    async def start() -> int:
        return 0

    wf.add(review, name="rev", writes=("check",))
    wf.add(body, name="loop", writes=("inc",),
           repeat=Repeat(until=lambda inc: inc >= 2, max_iterations=5, carry={"inc": "n"}))
    result = run_virtual(wf, {"n": 0})
    document = result.to_chrome_trace()
    calls = {name: (ts, dur) for name, _, ts, dur in slices(document)}
    assert calls == {
        "start": (0.0, 0.0),
        "rev/check": (0.0, 2_000_000.0),
        "loop#1/inc": (0.0, 1_000_000.0),
        "loop#2/inc": (1_000_000.0, 1_000_000.0),
    }
    lane = {name: tid for name, tid, _, _ in slices(document)}
    assert lane["rev/check"] != lane["loop#1/inc"] == lane["loop#2/inc"]
    assert set(lane.values()) == {1, 2} and result.peak_concurrency == 2
    structure = slices(document, pid=2)
    assert structure[0] == ("outer", 1, 0.0, 2_000_000.0)
    # the loop, its passes and the sub-workflow nest inside the run's slice, on lanes
    # where nothing overlaps without nesting
    spans = {name: (ts, dur) for name, _, ts, dur in structure[1:]}
    assert spans == {"loop": (0.0, 2_000_000.0), "loop#1": (0.0, 1_000_000.0),
                     "loop#2": (1_000_000.0, 1_000_000.0), "rev": (0.0, 2_000_000.0)}
    lane = {name: tid for name, tid, _, _ in structure}
    assert lane["loop"] == lane["loop#1"] == lane["loop#2"] != lane["rev"]
    assert {lane["loop"], lane["rev"]} == {1, 2}  # two sub-workflows at once: two lanes
    assert_nested(document, pid=2)


def test_skipped_and_failed_steps_are_marked() -> None:
    wf = Workflow("marks")

    @wf.step
    async def a() -> int:
        await trio.sleep(1)
        return 1

    @wf.step(when=lambda a: a > 5)
    async def never(a: int) -> int:
        return a

    @wf.step
    async def boom(a: int) -> int:
        await trio.sleep(1)
        raise ValueError("no luck")

    @wf.step
    async def slow(a: int) -> int:
        await trio.sleep(5)
        return a

    plan = wf.compile()
    try:
        trio.run(plan.run, clock=trio.testing.MockClock(autojump_threshold=0))
    except Exception as error:
        document = error.to_chrome_trace()  # type: ignore[attr-defined]
    instants = {(e["name"], e["ts"]) for e in document["traceEvents"] if e["ph"] == "i"}
    assert instants == {("skipped: never", 1_000_000.0), ("failed: boom", 2_000_000.0),
                        ("cancelled: slow", 2_000_000.0)}
    statuses = {e["name"]: e["args"]["status"] for e in document["traceEvents"]
                if e["ph"] == "X" and e["pid"] == 1}
    assert statuses == {"a": "finished", "boom": "failed", "slow": "cancelled"}
    [run] = [e for e in document["traceEvents"] if e["ph"] == "X" and e["pid"] == 2]
    assert run["args"]["status"] == "failed"


def assert_nested(document: dict[str, Any], pid: int) -> None:
    """On each lane of ``pid``, two slices are apart or one holds the other."""
    by_lane: dict[int, list[tuple[float, float]]] = {}
    for _, lane, ts, dur in slices(document, pid):
        by_lane.setdefault(lane, []).append((ts, ts + dur))
    for spans in by_lane.values():
        for i, (s1, e1) in enumerate(spans):
            for s2, e2 in spans[i + 1:]:
                apart = e1 <= s2 or e2 <= s1
                inside = (s1 <= s2 and e2 <= e1) or (s2 <= s1 and e1 <= e2)
                assert apart or inside


@settings(max_examples=300, deadline=None)
@given(random_dags(max_steps=14), limits())
def test_no_two_calls_overlap_on_a_lane_and_lanes_equal_peak_concurrency(
    dag: RandomDag, limit: int | None
) -> None:
    plan = build(dag, Recorder()).compile()
    result = trio.run(lambda: plan.run(max_concurrency=limit),
                      clock=trio.testing.MockClock(autojump_threshold=0))
    document = result.to_chrome_trace()
    calls = slices(document)
    assert sorted(name for name, *_ in calls) == sorted(f"s{i}" for i in range(dag.size))
    lanes: dict[int, list[tuple[float, float]]] = {}
    for _, lane, ts, dur in calls:
        lanes.setdefault(lane, []).append((ts, ts + dur))
    for spans in lanes.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start
    assert sorted(lanes) == list(range(1, result.peak_concurrency + 1))
    assert set(thread_names(document, 1)) == set(lanes)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=8), st.integers(1, 4), limits())
def test_mapped_calls_and_sub_workflows_keep_to_their_lanes(
    durations: list[int], cap: int, limit: int | None
) -> None:
    wf = Workflow("mapped")

    @wf.step
    async def src() -> list[int]:
        return durations

    @wf.step(map="src", concurrency=cap)
    async def work(src: int) -> int:
        await trio.sleep(src)
        return src

    @wf.step(map="work")  # pipelined element by element
    async def more(work: int) -> int:
        await trio.sleep(work % 2)
        return work

    side = Workflow("side")

    @side.step
    async def inner(src: list[int]) -> int:
        await trio.sleep(1)
        return 1

    wf.add(side, name="aside", writes=("inner",))
    result = run_virtual(wf, max_concurrency=limit)
    document = result.to_chrome_trace()
    calls = slices(document)
    assert len(calls) == 2 + 2 * len(durations)  # src, aside/inner, every element twice
    lanes: dict[int, list[tuple[float, float]]] = {}
    for _, lane, ts, dur in calls:
        lanes.setdefault(lane, []).append((ts, ts + dur))
    for spans in lanes.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start
    assert sorted(lanes) == list(range(1, result.peak_concurrency + 1))
    assert limit is None or result.peak_concurrency <= limit
    assert_nested(document, pid=2)
