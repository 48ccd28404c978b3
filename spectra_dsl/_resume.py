"""Starting and resuming durable runs: what ``plan.run(..., store=...)`` and
``plan.resume(...)`` do around the runner.

Starting: the run is created in the store (``RunExistsError`` if its id is taken) with
its inputs and the plan's fingerprints, which takes its lease; the run is driven by a
:class:`DurableRun`; its status (``finished``, ``failed`` or ``interrupted``) is
committed with the last records; the lease is released in every case.

Resuming: the lease is taken (``ResumeError`` naming a live owner), a changed plan is
refused before anything runs (or its changed steps rerun, or kept), ``rerun=`` steps
and their descendants lose their records, the answers are checked against the asks
pending, then the run is driven again from its stored inputs with its records.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import trio

from ._durable_run import AskWithoutAnswer, DurableRun
from ._errors import StepFailed
from ._journal import DurableHalt, Journal, OnAsk, ask_key, ask_steps, send
from ._result import RunResult
from ._resumed_run import ResumedRun
from ._slots import Slots
from ._store_base import Store
from ._store_errors import ResumeError
from ._store_fingerprint import plan_fingerprint, step_fingerprints
from ._store_records import Pairs, new_run_id, pairs
from .events import RunResumed

if TYPE_CHECKING:
    from ._emit import OnEvent
    from ._plan import Plan

#: What ``on_code_change=`` accepts.
CODE_CHANGE_CHOICES = ("error", "rerun", "keep")


#: Fingerprints already computed, by plan (id, a weak reference to tell reuse of an id).
_PRINTS: dict[int, tuple[weakref.ref[Plan], tuple[str, dict[str, str], Pairs]]] = {}


def fingerprints(plan: Plan) -> tuple[str, dict[str, str]]:
    """The plan's fingerprint and its steps' (sub-workflow steps as ``"sub/inner"``),
    computed once per plan (what a step closes over is read when first computed)."""
    found = _fingerprints_of(plan)
    return found[0], found[1]


def _fingerprints_of(plan: Plan) -> tuple[str, dict[str, str], Pairs]:
    """:func:`fingerprints`, with the steps' as a run record holds them (sorted once)."""
    found = _PRINTS.get(id(plan))
    if found is not None and found[0]() is plan:
        return found[1]
    plan_print, step_prints = _fingerprints(plan)
    made = (plan_print, step_prints, pairs(step_prints))
    _PRINTS[id(plan)] = (weakref.ref(plan, lambda _: _PRINTS.pop(id(plan), None)), made)
    return made


#: The ask steps of each plan seen (as for fingerprints).
_ASKS: dict[int, tuple[weakref.ref[Plan], tuple[str, ...]]] = {}


def asks_of(plan: Plan) -> tuple[str, ...]:
    """The ask steps of ``plan`` and its sub-workflows, found once per plan: a plan
    with some always runs journaled (a store or ``on_ask`` takes its questions)."""
    found = _ASKS.get(id(plan))
    if found is not None and found[0]() is plan:
        return found[1]
    asks = tuple(ask_steps(plan))
    _ASKS[id(plan)] = (weakref.ref(plan, lambda _: _ASKS.pop(id(plan), None)), asks)
    return asks


def _fingerprints(plan: Plan) -> tuple[str, dict[str, str]]:
    prints = step_fingerprints(_sources(plan))
    graph = plan.graph
    shape = (graph.names, graph.predecessors, graph.joins, plan.keys,
             sorted((key, info.name) for key, info in plan.reducers.items()))
    return plan_fingerprint(prints, shape), prints


def _sources(plan: Plan) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, action in zip(plan.names, plan.actions, strict=True):
        if action.body is not None:
            found[name] = _sources(action.body)
        elif action.fn is not None:
            found[name] = action.fn
        else:  # pragma: no cover - every step has a function or a body
            found[name] = ""
    return found


def check_asks(plan: Plan, store: Store | None, on_ask: OnAsk | None) -> None:
    """Refuse, before any step runs, a run whose asks nothing could answer."""
    if on_ask is not None and not callable(on_ask):
        raise TypeError(f"on_ask must be an async function (step, payload) -> answer, "
                        f"not {on_ask!r}")
    asks = asks_of(plan)
    if not asks:
        return
    if store is None and on_ask is None:
        raise AskWithoutAnswer(plan.graph.name, list(asks))


def descendants(plan: Plan, names: Iterable[str]) -> list[int]:
    """The positions of ``names`` and of every step after them, in plan order."""
    index = plan.graph.index
    successors = plan.schedule.successors
    seen: set[int] = set()
    work = [index[n] for n in names]
    while work:
        position = work.pop()
        if position in seen:
            continue
        seen.add(position)
        work.extend(successors[position])
    return sorted(seen)


async def start(
    plan: Plan, inputs: dict[str, Any], *, store: Store | None, run_id: str | None,
    on_ask: OnAsk | None, on_event: OnEvent | None, limit: int | None,
    outputs: tuple[str, ...] | None = None,
) -> RunResult:
    """Run ``plan`` journaled to ``store`` (and/or answering asks with ``on_ask``);
    ``outputs``: what ``plan`` was cut down to (recorded, so that a resume runs the
    same part of the workflow)."""
    check_asks(plan, store, on_ask)
    if store is None:
        if run_id is not None:
            raise TypeError("run_id= names a run in a store: give store= as well")
        return await drive(plan, inputs, Journal(None, None, on_ask=on_ask), limit, on_event)
    if not isinstance(store, Store):
        raise TypeError(f"store= takes a Store (SqliteStore, MemoryStore), not "
                        f"{type(store).__name__}; run_sync() also takes a path")
    run_id = new_run_id() if run_id is None else run_id
    plan_print, _, step_prints = _fingerprints_of(plan)
    store.create_run(run_id, workflow=plan.graph.name, inputs=inputs,
                     plan_fingerprint=plan_print, step_fingerprints=step_prints,
                     outputs=outputs)
    try:
        return await drive(plan, inputs, Journal(store, run_id, on_ask=on_ask), limit,
                           on_event)
    finally:
        if not store.closed:
            store.release(run_id)


async def resume(
    plan: Plan, run_id: str, *, store: Store, answers: Mapping[str, Any] | None,
    rerun: Iterable[str] | str, on_code_change: str, force: bool, on_ask: OnAsk | None,
    on_event: OnEvent | None, limit: int | None,
) -> RunResult:
    """Resume the stored run ``run_id`` of ``plan`` (see :meth:`Plan.resume`)."""
    if not isinstance(store, Store):
        raise TypeError(f"store= takes a Store (SqliteStore, MemoryStore), not "
                        f"{type(store).__name__}; resume_sync() also takes a path")
    if on_code_change not in CODE_CHANGE_CHOICES:
        choices = ", ".join(map(repr, CODE_CHANGE_CHOICES))
        raise ValueError(f"on_code_change= must be one of {choices}, not {on_code_change!r}")
    again = (rerun,) if isinstance(rerun, str) else tuple(rerun)
    if answers is not None and not isinstance(answers, Mapping):
        raise TypeError(f"answers= takes a mapping of ask step names to answers, not "
                        f"{type(answers).__name__}")
    record = store.run(run_id)
    if record.workflow != plan.graph.name:
        raise ResumeError(
            run_id, f"run '{run_id}' is a run of workflow '{record.workflow}', not of "
            f"'{plan.graph.name}'; resume it with that workflow's plan", reason="changed")
    if record.outputs is not None:  # the run was asked for some outputs only
        plan = plan.for_outputs(record.outputs)
    unknown = [n for n in again if n not in plan.graph.index]
    if unknown:
        raise ValueError(
            f"rerun= names no step of workflow '{plan.graph.name}'"
            + ("" if record.outputs is None else " (as run for outputs "
               + ", ".join(f"'{o}'" for o in record.outputs) + ")") + ": "
            + ", ".join(f"'{n}'" for n in unknown)
            + f" (its steps: {', '.join(plan.names)})")
    check_asks(plan, store, on_ask)
    record = store.acquire(run_id, force=force)
    try:
        plan_print, step_prints = fingerprints(plan)
        changes = store.changes(run_id, plan_print, step_prints)
        dropped = list(again)
        if changes:
            if on_code_change == "error":
                raise ResumeError.changed(run_id, changes)
            if on_code_change == "rerun":
                index = plan.graph.index
                dropped += [top for name in changes.steps
                            for top in [name.split("/", 1)[0]] if top in index]
            store.set_fingerprints(run_id, plan_print, step_prints)
        if dropped:
            doomed = descendants(plan, dropped)
            store.discard(run_id, [((), plan.names[p]) for p in doomed])
        records = store.steps(run_id)
        waiting = sorted(ask_key(r.scope, r.step) for r in records if r.status == "asked")
        given = dict(answers or {})
        stray = [name for name in given if name not in waiting]
        if stray:
            listing = ", ".join(f"'{n}'" for n in waiting) or "none"
            raise ValueError(
                f"answers= names no ask waiting in run '{run_id}': "
                + ", ".join(f"'{n}'" for n in stray) + f" (asks waiting: {listing})")
        inputs = store.inputs(run_id)
        journal = Journal(store, run_id, records=records, answers=given, on_ask=on_ask)
        restorable = sum(1 for r in records if r.status in ("finished", "answered"))
        if record.status != "running":
            store.commit(run_id, status="running")
        resumed = RunResumed(time=trio.current_time(), workflow=plan.graph.name,
                             run_id=run_id, restored=restorable,
                             rerun=tuple(plan.names[p] for p in descendants(plan, dropped)),
                             answers=tuple(sorted(given)))
        return await drive(plan, inputs, journal, limit, on_event, resumed)
    finally:
        if not store.closed:
            store.release(run_id)


async def drive(
    plan: Plan, inputs: dict[str, Any], journal: Journal, limit: int | None,
    on_event: OnEvent | None, resumed: RunResumed | None = None,
) -> RunResult:
    """Run ``plan`` as a :class:`DurableRun`; commit its end status with its last
    records."""
    slots = Slots(limit)
    kind = ResumedRun if journal.scopes else DurableRun  # (a fresh run restores nothing)
    run = kind(plan, dict(inputs), slots, on_event, (), None, DurableHalt(journal))
    journal.top = run
    if resumed is not None:
        send(run, resumed)
    started = trio.current_time()
    try:
        await run.execute()
    except StepFailed as error:
        error.run_id = journal.run_id
        error._log = run.emit.log
        _end(journal, "failed", str(error))
        raise
    except BaseException as error:
        _end(journal, "failed", f"{type(error).__name__}: {error}".rstrip(": "))
        raise
    status = "interrupted" if journal.interrupted else "finished"
    _end(journal, status)
    pending = dict(journal.pending) if journal.interrupted else {}
    state = dict(run.state)
    return RunResult(plan.graph.name, state, started, trio.current_time(), slots.peak,
                         run.emit.log, journal.run_id, status, pending)


def _end(journal: Journal, status: Any, error: str | None = None) -> None:
    """Commit the records still buffered and the run's status, and release its lease,
    in one transaction (a failure to do so while another error propagates is not
    raised over it)."""
    store = journal.store
    if store is None or journal.run_id is None or store.closed:
        return
    writes, journal.writes = journal.writes, []
    try:
        store._end_run(journal.run_id, writes, status=status, error=error)
    except Exception:
        if status == "failed":
            return
        raise
