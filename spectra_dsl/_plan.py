"""A compiled workflow: the checked graph plus the live functions, ready to run."""

from __future__ import annotations

import difflib
import inspect
import os
import types
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import attrs
import trio

from compiler import Diagnostic, ExecutionGraph

from ._control import Repeat, Retry
from ._emit import OnEvent
from ._errors import InputError, StepFailed
from ._executor_base import Executor
from ._executor_bind import EXECUTORS, check_bound, given_executors, streaming_with
from ._journal import OnAsk
from ._outputs import graph_for, output_names
from ._result import RunResult
from ._resume import asks_of, check_asks, start
from ._runner import Run
from ._schedule import ScheduleTable
from ._slots import Slots
from ._state import ReducerInfo
from ._store_base import Store
from ._stream import EventStream, open_stream


def check_limit(max_concurrency: object, what: str = "max_concurrency") -> int | None:
    """Validate a concurrency limit: ``None`` or an int of at least 1."""
    if max_concurrency is None:
        return None
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise TypeError(f"{what} must be an int or None, not {max_concurrency!r}")
    if max_concurrency < 1:
        raise ValueError(f"{what} must be at least 1, not {max_concurrency}")
    return max_concurrency


@attrs.frozen
class StepAction:
    """What runs one step: a function, or a sub-workflow's plan (maybe as a loop), with
    its guard, retry policy and timeout."""

    fn: Callable[..., Any] | None
    guard: object = None
    retry: Retry | None = None
    timeout: float | None = None
    body: Plan | None = None
    repeat: Repeat | None = None
    writes_mapping: tuple[tuple[str, str], ...] | None = None


@attrs.frozen(repr=False)
class Plan:
    """A workflow that compiled: run it with :meth:`run` (in trio) or :meth:`run_sync`.

    ``diagnostics`` holds the warnings found while compiling; ``graph`` the checked,
    lowered graph (steps in plan order, with integer-indexed tables).
    """

    graph: ExecutionGraph
    actions: tuple[StepAction, ...]
    reducers: Mapping[str, ReducerInfo]
    max_concurrency: int | None
    diagnostics: tuple[Diagnostic, ...]
    names: tuple[str, ...] = attrs.field(init=False)
    params: tuple[tuple[str, ...], ...] = attrs.field(init=False)
    required: tuple[tuple[str, ...], ...] = attrs.field(init=False)
    keys: tuple[tuple[str, ...], ...] = attrs.field(init=False)
    multi_key: tuple[bool, ...] = attrs.field(init=False)
    is_async: tuple[bool, ...] = attrs.field(init=False)
    plain: tuple[bool, ...] = attrs.field(init=False)
    folded: Mapping[str, ReducerInfo] = attrs.field(init=False)
    # The tables the runner reads, built once per plan (not per run):
    schedule: ScheduleTable = attrs.field(init=False)
    fns: tuple[Callable[..., Any] | None, ...] = attrs.field(init=False)
    #: The one key a step writes when nothing folds it: a plain assignment.
    simple_key: tuple[str | None, ...] = attrs.field(init=False)
    is_body: tuple[bool, ...] = attrs.field(init=False)
    #: Plain sub-workflow steps, begun in the instant they are released.
    begun_at_once: tuple[bool, ...] = attrs.field(init=False)
    joined: tuple[bool, ...] = attrs.field(init=False)
    inline: tuple[bool, ...] = attrs.field(init=False)
    #: Plain function steps with no join and no race: ready unless an input is missing.
    simple: tuple[bool, ...] = attrs.field(init=False)
    #: The plans that give only some outputs, by the names asked for (see for_outputs).
    subsets: dict[tuple[str, ...], Plan] = attrs.field(init=False, factory=dict, eq=False)

    def __attrs_post_init__(self) -> None:
        graph = self.graph
        steps = graph.steps
        setter = object.__setattr__
        # The per-step tables the compiler worked out once, with the graph.
        setter(self, "names", graph.names)
        setter(self, "params", graph.params)
        setter(self, "required", graph.required)
        setter(self, "keys", graph.keys)
        setter(self, "multi_key", graph.multi_key)
        setter(self, "is_async", graph.is_async)
        setter(self, "plain", tuple(  # (a mapped step is never plain: see _map)
            a.fn is not None and a.guard is None and a.retry is None and a.timeout is None
            and not m for a, m in zip(self.actions, graph.maps, strict=True)
        ))
        folded = dict(self.reducers)
        for key, writers in self.graph.writers.items():
            if len(writers) > 1 and key not in folded:
                # Writers ordered by the graph (or exclusive): each overwrites the last.
                folded[key] = ReducerInfo(_overwrite, "overwrite")
        setter(self, "folded", {k: v for k, v in folded.items() if k in self.graph.writers})
        actions = self.actions
        setter(self, "schedule", ScheduleTable(
            successors=graph.successors, predecessors=graph.predecessors, tips=graph.tips,
            waits=graph.waits, roots=graph.roots,
        ))
        setter(self, "fns", tuple(a.fn for a in actions))
        setter(self, "simple_key", tuple(
            keys[0] if (len(keys) == 1 and not multi and a.writes_mapping is None
                        and keys[0] not in self.folded) else None
            for keys, multi, a in zip(self.keys, self.multi_key, actions, strict=True)
        ))
        setter(self, "is_body", tuple(a.body is not None for a in actions))
        setter(self, "begun_at_once", tuple(
            a.body is not None and a.repeat is None and a.retry is None and a.timeout is None
            and not m for a, m in zip(actions, graph.maps, strict=True)
        ))
        setter(self, "joined", tuple(s.join is not None for s in steps))
        setter(self, "simple", tuple(
            p and not j and not t
            for p, j, t in zip(self.plain, self.joined, graph.tips, strict=True)
        ))
        #: Plain async steps, which a finishing task may run itself (see _inline).
        setter(self, "inline", tuple(
            p and a and not b for p, a, b in zip(self.plain, self.is_async, self.is_body,
                                                 strict=True)
        ))

    def __repr__(self) -> str:
        return f"<Plan {self.graph.name!r}: {len(self.names)} steps>"

    def to_mermaid(self) -> str:
        """This workflow as a Mermaid flowchart (joins, guards, mapped steps, reducer keys,
        ``after=`` edges, sub-workflows and loops as subgraphs); the same text as
        ``spectra-lint --graph mermaid`` draws from the source."""
        from compiler import draw_mermaid
        return draw_mermaid(self.graph, {k: r.name for k, r in self.reducers.items()})

    def to_dot(self) -> str:
        """This workflow as a Graphviz DOT digraph (``dot -Tsvg``); the same text as
        ``spectra-lint --graph dot`` draws from the source."""
        from compiler import draw_dot
        return draw_dot(self.graph, {k: r.name for k, r in self.reducers.items()})

    @property
    def steps(self) -> tuple[str, ...]:
        """The step names in plan order."""
        return self.names

    def check_inputs(
        self, inputs: Mapping[str, Any], accepting: Plan | None = None,
        asked: tuple[str, ...] = (),
    ) -> None:
        """Raise :class:`InputError` naming every missing and every unknown input.

        ``accepting`` is the plan whose inputs are known (the whole plan, when this one
        runs only some outputs: an input it takes is no error, even if unused here);
        ``asked`` the names given to ``outputs=``, of which an input must be given.
        """
        graph = self.graph
        missing = {k: v for k, v in graph.required_inputs.items() if k not in inputs}
        whole = self if accepting is None else accepting
        accepted = whole.accepted_inputs()
        for name in asked:
            if name in accepted and name not in inputs and name not in missing:
                full = whole.graph
                missing[name] = (full.required_inputs.get(name)
                                 or full.optional_inputs.get(name) or ())
        unknown = [k for k in inputs if k not in accepted]
        if missing or unknown:
            written = {k: tuple(whole.names[w] for w in whole.graph.writers[k])
                       for k in unknown if k in whole.graph.writers}
            near = {k: close for k in unknown if k not in written
                     for close in [whole.near_miss(k, accepted)] if close is not None}
            raise InputError(graph.name, missing, unknown, sorted(accepted), written, near)

    def accepted_inputs(self) -> set[str]:
        """The names a run of this plan accepts as inputs."""
        graph = self.graph
        accepted = set(graph.required_inputs) | set(graph.optional_inputs)
        if graph.declared_inputs is not None:
            accepted |= graph.declared_inputs
        return accepted

    def for_outputs(self, outputs: Iterable[str] | str) -> Plan:
        """The plan that gives only ``outputs`` (step names or keys): those steps and
        every step they need, nothing else.  Built once per tuple of names.

        Raises a :class:`SpectraError` naming every name that is no step, key or input
        of the workflow (with the name it is a near miss of).
        """
        names = output_names(outputs)
        cached = self.subsets.get(names)
        if cached is not None:
            return cached
        graph = graph_for(self.graph, names)
        index = self.graph.index
        plan = Plan(graph, tuple(self.actions[index[n]] for n in graph.names),
                    self.reducers, self.max_concurrency, self.diagnostics)
        self.subsets[names] = plan
        return plan

    def near_miss(self, name: str, accepted: set[str]) -> tuple[str, str] | None:
        """The input, key or step ``name`` is a near miss of, and what that is."""
        graph = self.graph
        candidates = sorted(accepted | set(graph.writers) | set(self.names))
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
        if not close:
            return None
        match = close[0]

        def steps(names: tuple[str, ...]) -> str:
            return ", ".join(f"'{n}'" for n in names)

        if match in accepted:
            readers = graph.required_inputs.get(match) or graph.optional_inputs.get(match)
            what = f"an input of step {steps(readers)}" if readers else "a declared input"
        elif match in graph.writers:
            what = (f"a key written by step "
                    f"{steps(tuple(self.names[w] for w in graph.writers[match]))}, not an input")
        else:
            what = "a step, not an input"
        return match, what

    async def run(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        outputs: Iterable[str] | None = None,
        max_concurrency: int | None = None,
        on_event: OnEvent | None = None,
        tracer: Any = None,
        store: Store | None = None,
        run_id: str | None = None,
        on_ask: OnAsk | None = None,
        executors: Mapping[str, Executor] | None = None,
    ) -> RunResult:
        """Run the workflow inside a trio program and return its final state and events.

        Every step starts the moment its inputs are ready; at most ``max_concurrency``
        (this call's, else the workflow's) run at once.  With ``outputs=("digest",)``
        only the steps those outputs (step names or keys) need are run, and only their
        inputs are required.  Raises :class:`InputError` before any step starts if
        inputs are missing or unknown, and :class:`StepFailed` if a step raises (the
        other running steps are cancelled).  With ``tracer`` (an OpenTelemetry
        ``Tracer``; extra ``spectra-dsl[otel]``) the run and each step call get a span.

        With ``store`` (see docs/durable.md) the run is journaled under ``run_id`` (a
        fresh id when not given: ``result.run_id``) and can be resumed with
        :meth:`resume` after a failure or a crash.  Ask steps (``@step(ask=True)``) are
        answered by ``on_ask`` (an async ``(step, payload) -> answer``), or, with a
        store, the run ends ``result.status == "interrupted"`` with ``result.pending``.
        ``executors`` binds the names steps give with ``executor=`` (see
        docs/executors.md); an unbound name is an ``ExecutorError`` before any step runs.
        """
        if EXECUTORS.get() is not executors:  # bound for the length of this run
            with given_executors(executors):
                return await self.run(
                    inputs, outputs=outputs, max_concurrency=max_concurrency,
                    on_event=on_event, tracer=tracer, store=store, run_id=run_id,
                    on_ask=on_ask, executors=executors)
        plan, given, limit = self._prepare(inputs, outputs, max_concurrency, on_event)
        if store is not None or run_id is not None or on_ask is not None or asks_of(plan):
            asked = None if outputs is None else output_names(outputs)

            def journaled(listener: OnEvent | None) -> Awaitable[RunResult]:
                return start(plan, given, store=store, run_id=run_id, on_ask=on_ask,
                             on_event=listener, limit=limit, outputs=asked)

            if tracer is not None:
                from ._otel import run_traced
                return await run_traced(tracer, plan.graph.name, on_event, journaled)
            return await journaled(on_event)
        if tracer is not None:
            from ._otel import run_traced
            return await run_traced(tracer, plan.graph.name, on_event,
                                    lambda listener: plan._execute(given, limit, listener))
        return await plan._execute(given, limit, on_event)

    def _prepare(
        self, inputs: Mapping[str, Any] | None, outputs: Iterable[str] | None,
        max_concurrency: int | None, on_event: OnEvent | None,
    ) -> tuple[Plan, dict[str, Any], int | None]:
        """Check a run's options before it starts: the plan to run (this one, or the
        part ``outputs`` need), its inputs and its concurrency limit."""
        check_on_event(on_event)
        if inputs is not None and not isinstance(inputs, Mapping):
            raise TypeError(
                f"inputs must be a mapping of input names to values, such as "
                f"{{'url': ...}}, not {type(inputs).__name__}"
            )
        asked = () if outputs is None else output_names(outputs)
        plan = self if outputs is None else self.for_outputs(asked)
        given = dict(inputs or {})
        plan.check_inputs(given, self, asked)
        limit = check_limit(max_concurrency if max_concurrency is not None
                            else self.max_concurrency)
        return plan, given, limit

    async def _execute(
        self, given: dict[str, Any], limit: int | None, on_event: OnEvent | None
    ) -> RunResult:
        """Run this plan on inputs already checked."""
        slots = Slots(limit)
        run = Run(self, given, slots, on_event)
        started = trio.current_time()
        try:
            await run.execute()
        except StepFailed as error:  # its events so far: error.events, error.timeline()
            error._log = run.emit.log
            raise
        state = types.MappingProxyType(run.state)
        return RunResult(self.graph.name, state, started, trio.current_time(), slots.peak,
                         run.emit.log)

    def run_sync(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        outputs: Iterable[str] | None = None,
        max_concurrency: int | None = None,
        on_event: OnEvent | None = None,
        tracer: Any = None,
        store: Store | str | os.PathLike[str] | None = None,
        run_id: str | None = None,
        on_ask: OnAsk | None = None,
        executors: Mapping[str, Executor] | None = None,
    ) -> RunResult:
        """Run the workflow in a new trio event loop (``trio.run``) and return the result;
        ``store`` may be the path of an SQLite file (opened for the run, closed after)."""
        if store is None or isinstance(store, Store):
            given = store
            return trio.run(lambda: self.run(
                inputs, outputs=outputs, max_concurrency=max_concurrency, on_event=on_event,
                tracer=tracer, store=given, run_id=run_id, on_ask=on_ask,
                executors=executors))
        from .store import open_store

        with open_store(store) as opened:
            return trio.run(lambda: self.run(
                inputs, outputs=outputs, max_concurrency=max_concurrency, on_event=on_event,
                tracer=tracer, store=opened, run_id=run_id, on_ask=on_ask,
                executors=executors))

    async def resume(
        self,
        run_id: str,
        *,
        store: Store,
        answers: Mapping[str, Any] | None = None,
        rerun: Iterable[str] | str = (),
        on_code_change: str = "error",
        force: bool = False,
        on_ask: OnAsk | None = None,
        max_concurrency: int | None = None,
        on_event: OnEvent | None = None,
        tracer: Any = None,
        executors: Mapping[str, Executor] | None = None,
    ) -> RunResult:
        """Resume the run ``run_id`` journaled in ``store`` (see docs/durable.md).

        The inputs come from the store; steps with a record are restored (never called
        again), steps that were in flight, failed or never started run.  ``answers``
        gives asks their answers (in parts if need be); ``rerun`` drops those steps'
        records and their descendants'.  A plan whose steps changed since the run
        started raises :class:`ResumeError` listing them before anything runs, unless
        ``on_code_change="rerun"`` (run them again) or ``"keep"`` (restore them); a run
        owned by another live process raises :class:`ResumeError` naming it
        (``force=True`` takes over an owner that cannot be checked).  With ``tracer``
        (an OpenTelemetry ``Tracer``) the resume gets a run span and each step call
        made a span, as :meth:`run` does (restored steps are not called: no span).
        """
        from ._resume import resume

        if EXECUTORS.get() is not executors:  # bound for the length of this resume
            with given_executors(executors):
                return await self.resume(
                    run_id, store=store, answers=answers, rerun=rerun,
                    on_code_change=on_code_change, force=force, on_ask=on_ask,
                    max_concurrency=max_concurrency, on_event=on_event, tracer=tracer,
                    executors=executors)
        check_on_event(on_event)
        limit = check_limit(max_concurrency if max_concurrency is not None
                            else self.max_concurrency)

        def resumed(listener: OnEvent | None) -> Awaitable[RunResult]:
            return resume(self, run_id, store=store, answers=answers, rerun=rerun,
                          on_code_change=on_code_change, force=force, on_ask=on_ask,
                          on_event=listener, limit=limit)

        if tracer is not None:
            from ._otel import run_traced
            return await run_traced(tracer, self.graph.name, on_event, resumed, run_id)
        return await resumed(on_event)

    def resume_sync(
        self, run_id: str, *, store: Store | str | os.PathLike[str], **options: Any
    ) -> RunResult:
        """:meth:`resume` in a new trio event loop; ``store`` may be a path (opened for
        the resume and closed after)."""
        from .store import open_store

        with open_store(store) as opened:
            return trio.run(lambda: self.resume(run_id, store=opened, **options))

    def stream(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        outputs: Iterable[str] | None = None,
        max_concurrency: int | None = None,
        tracer: Any = None,
        executors: Mapping[str, Executor] | None = None,
    ) -> AbstractAsyncContextManager[EventStream]:
        """Run the workflow and read its events as they happen::

            async def main() -> None:
                async with plan.stream({"url": "https://example.org"}) as events:
                    async for event in events:
                        print(event)
                print(events.result["merge"])

            trio.run(main)

        The events are exactly ``result.events``, in order; the run never waits for
        the reader.  A failing step raises :class:`StepFailed` from the ``async for``;
        leaving the ``async with`` before the end cancels the run.  Options as for
        :meth:`run` (inputs and ``outputs`` are checked here, before anything runs).
        """
        plan, given, limit = self._prepare(inputs, outputs, max_concurrency, None)
        if asks_of(plan):  # a stream has no store and no on_ask to take the questions
            check_asks(plan, None, None)
        check_bound(plan, executors)  # an unbound executor name: before anything runs
        return streaming_with(executors, open_stream(plan, given, limit, tracer))

def check_on_event(on_event: object) -> None:
    """Refuse an ``on_event`` that is no plain function of one event (an ``async def``
    would be called and never awaited: its events would be lost)."""
    if on_event is None:
        return
    if not callable(on_event):
        raise TypeError(f"on_event must be a function taking one event, not {on_event!r}")
    if inspect.iscoroutinefunction(on_event) or inspect.iscoroutinefunction(
        getattr(on_event, "__call__", None)  # noqa: B004 (an instance's async __call__)
    ):
        raise TypeError(
            f"on_event must be a plain function, not the async function {on_event!r}: it "
            "is called, never awaited, in the middle of the run; send each event to a "
            "trio memory channel (send_nowait) and handle it in a task of your own"
        )


def _overwrite(acc: object, value: object) -> object:
    return value
