"""A run as Trace Event JSON, the format Perfetto (ui.perfetto.dev) and chrome://tracing
open (``RunResult.to_chrome_trace()``).

Two processes: "steps" has one lane (thread) per slot the run used at once, and every
step call is a complete event ("ph": "X") on a lane; no two overlap on a lane, and
there are exactly as many lanes as calls ever ran together.  Lanes are given greedily
in the order the calls started (a call takes the lowest free lane; a finished call
frees its lane), the interval-graph colouring that uses the fewest lanes.  "workflow"
holds the run itself with its sub-workflows, loop passes and mapped steps nested
inside it as slices.  Skipped steps and failures are instant events ("ph": "i"); every
slice says its status in ``args``.  Times are microseconds from the run's start.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Sequence
from typing import Any

from ._timeline import Call
from .events import WorkflowStarted

#: The process ids of the two groups of lanes.
STEPS, WORKFLOW = 1, 2


def lanes(rows: Sequence[Call]) -> dict[int, int]:
    """The lane (from 1) of each step call that held a slot, by its index in ``rows``:
    greedy in the order the calls started, the lowest free lane; a lane is free again
    once its call has finished (calls ending and starting in the same instant follow the
    order the run logged them, so an instant call also takes a lane)."""
    marks: list[tuple[float, int, int]] = []  # (log position, 0 end / 1 start, row)
    for index, row in enumerate(rows):
        if row.holds_slot:
            marks.append((row.order, 1, index))
            marks.append((row.end_order, 0, index))
    marks.sort()
    free: list[int] = []
    used = 0
    lane: dict[int, int] = {}
    for _, starts, index in marks:
        if starts:
            if free:
                lane[index] = heapq.heappop(free)
            else:
                used += 1
                lane[index] = used
        else:
            heapq.heappush(free, lane[index])
    return lane


def nesting(
    spans: Sequence[tuple[float, float]], parents: Sequence[frozenset[int]]
) -> list[int]:
    """A lane (from 1) for each ``(start, end)`` such that two spans on a lane are either
    apart or one inside the other and one of its ``parents`` (indices), so that they draw
    as nested slices only where one really holds the other."""
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], -spans[i][1], i))
    stacks: list[list[tuple[float, int]]] = []
    result = [0] * len(spans)
    for i in order:
        start, end = spans[i]
        for number, stack in enumerate(stacks, 1):
            while stack and stack[-1][0] <= start and not (stack[-1][0] == start == end):
                stack.pop()
            if not stack or (end <= stack[-1][0] and stack[-1][1] in parents[i]):
                stack.append((end, i))
                result[i] = number
                break
        else:
            stacks.append([(end, i)])
            result[i] = len(stacks)
    return result


def _holders(path: tuple[str, ...]) -> set[tuple[str, ...]]:
    """The paths of the sub-workflows, loops and loop passes around ``path``."""
    holders = set()
    for size in range(1, len(path) + 1):
        prefix = path[:size]
        if size < len(path):
            holders.add(prefix)
        base, hash_, _ = prefix[-1].partition("#")
        if hash_:
            holders.add((*prefix[:-1], base))
    return holders


def chrome_trace(
    rows: Sequence[Call], workflow: str, started: float, finished: float, status: str,
) -> dict[str, Any]:
    """The Trace Event document of one run (a dict; ``json.dumps`` it to save it)."""

    def us(time: float) -> float:
        return round((time - started) * 1e6, 3)

    trace: list[dict[str, Any]] = [
        _meta("process_name", STEPS, 0, {"name": f"{workflow}: steps"}),
        _meta("process_sort_index", STEPS, 0, {"sort_index": 1}),
        _meta("process_name", WORKFLOW, 0, {"name": f"{workflow}: workflow"}),
        _meta("process_sort_index", WORKFLOW, 0, {"sort_index": 0}),
    ]
    slot = lanes(rows)
    count = max(slot.values(), default=0)
    for number in range(1, count + 1):
        trace.append(_meta("thread_name", STEPS, number, {"name": f"slot {number}"}))
        trace.append(_meta("thread_sort_index", STEPS, number, {"sort_index": number}))
    ends: dict[int, float] = {}
    for index, number in sorted(slot.items(), key=lambda pair: rows[pair[0]].order):
        row = rows[index]
        ts = max(us(row.start), ends.get(number, 0.0))  # never before the lane is free
        end = max(ts, us(row.end))
        ends[number] = end
        trace.append(_slice(row, STEPS, number, ts, end - ts))
        if row.status in ("failed", "cancelled"):
            trace.append(_instant(row, STEPS, number, end))

    outer = [i for i, row in enumerate(rows) if row.kind in ("workflow", "pass", "map")]
    spans = [(started, finished)] + [(rows[i].start, rows[i].end) for i in outer]
    where = {rows[i].path: number for number, i in enumerate(outer, 1)}
    parents: list[frozenset[int]] = [frozenset()] + [
        frozenset({0} | {where[p] for p in _holders(rows[i].path) if p in where})
        for i in outer
    ]
    placed = nesting(spans, parents)
    for number in range(1, max(placed) + 1):
        name = "run" if number == 1 else f"run, lane {number}"
        trace.append(_meta("thread_name", WORKFLOW, number, {"name": name}))
    trace.append({
        "name": workflow, "cat": "workflow", "ph": "X", "pid": WORKFLOW, "tid": placed[0],
        "ts": 0.0, "dur": us(finished), "args": {"status": status, "lanes": count},
    })
    for index, number in zip(outer, placed[1:], strict=True):
        row = rows[index]
        trace.append(_slice(row, WORKFLOW, number, us(row.start), us(row.end) - us(row.start)))
        if row.status in ("failed", "cancelled"):
            trace.append(_instant(row, WORKFLOW, number, us(row.end)))
    for row in rows:
        if row.kind == "instant":
            trace.append(_instant(row, WORKFLOW, 1, us(row.start)))
    return {
        "traceEvents": trace,
        "displayTimeUnit": "ms",
        "otherData": {"workflow": workflow, "status": status, "lanes": count,
                      "duration_seconds": finished - started},
    }


def failed_trace(log: list[Any], workflow: str | None = None) -> dict[str, Any]:
    """The trace of a run that failed, from its first event to its last."""
    from ._timeline import built, calls

    events = built(log)
    start = events[0].time if events else 0.0
    end = events[-1].time if events else 0.0
    if workflow is None:
        workflow = next((e.workflow for e in events if isinstance(e, WorkflowStarted)), "run")
    return chrome_trace(calls(events, end), workflow, start, end, "failed")


def dumps(document: dict[str, Any]) -> str:
    """The document as JSON text (what a ``.json`` trace file holds)."""
    return json.dumps(document, default=str)


def _args(row: Call) -> dict[str, Any]:
    args: dict[str, Any] = {"step": row.step, "status": row.status}
    if row.scope:
        args["scope"] = "/".join(row.scope)
    if row.item is not None:
        args["item"] = row.item
    if row.attempts > 1:
        args["attempts"] = row.attempts
    if row.note:
        args["note"] = row.note
    return args


def _slice(row: Call, pid: int, tid: int, ts: float, dur: float) -> dict[str, Any]:
    return {"name": row.label, "cat": row.kind, "ph": "X", "pid": pid, "tid": tid,
            "ts": ts, "dur": dur, "args": _args(row)}


def _instant(row: Call, pid: int, tid: int, ts: float) -> dict[str, Any]:
    what = row.status if row.status != "finished" else row.kind
    return {"name": f"{what}: {row.label}", "cat": row.status, "ph": "i", "s": "t",
            "pid": pid, "tid": tid, "ts": ts, "args": _args(row)}


def _meta(name: str, pid: int, tid: int, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "ph": "M", "pid": pid, "tid": tid, "args": args}
