"""``Workflow``: collects steps and reducers, and compiles them into a :class:`Plan`."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, overload

import attrs

from compiler import (
    Compilation,
    Diagnostic,
    ExecutionGraph,
    ReducerSpec,
    RepeatSpec,
    SourceLocation,
    StepKind,
    StepSpec,
    WorkflowSpec,
    compile_workflow,
)

from ._control import Guard, Repeat, Retry, guard_reads
from ._errors import CompileError, SpectraWarning
from ._frontend import call_site, read_guard, read_step
from ._plan import Plan, StepAction, check_limit
from ._state import NOTHING, Reducer, ReducerInfo
from ._step import (
    AfterArg,
    JoinArg,
    MapArg,
    StepOptions,
    WritesArg,
    make_options,
    mark,
    normalize_writes,
    options_of,
)
from .reducers import DEFAULT_INITIAL

F = TypeVar("F", bound=Callable[..., Any])


@attrs.frozen
class _Registered:
    fn: Any
    options: StepOptions


@attrs.frozen
class _Added:
    """A sub-workflow added as a step with :meth:`Workflow.add`."""

    body: Workflow
    name: str
    writes: tuple[tuple[str, str], ...] | None
    repeat: Repeat | None
    when: object
    location: SourceLocation | None
    map: tuple[object, ...] | None = None
    concurrency: object = None
    after: tuple[object, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.name,) if self.writes is None else tuple(o for _, o in self.writes)


@attrs.frozen
class _RegisteredReducer:
    key: str
    info: ReducerInfo
    location: SourceLocation | None


class Workflow:
    """A named set of steps, compiled into a checked :class:`Plan` by :meth:`compile`.

    ``steps`` collects functions marked with ``@step`` (``@wf.step`` marks and registers
    in one go).  ``inputs``, when given, declares every workflow input: a parameter that
    is neither a step's output, a state key nor a declared input is then an error.
    ``reducers`` maps keys to ``fn(acc, value)``; ``max_concurrency`` bounds how many
    steps run at once (a run can override it).
    """

    def __init__(
        self,
        name: str,
        *,
        steps: Iterable[Callable[..., Any]] = (),
        inputs: Iterable[str] | None = None,
        reducers: Mapping[str, Reducer] | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"Workflow name must be a non-empty string, not {name!r}")
        self.name = name
        self.inputs = _names_of(inputs, "inputs")
        self.max_concurrency = check_limit(max_concurrency)
        self._location = call_site(1)
        if isinstance(steps, str) or not isinstance(steps, Iterable):
            raise TypeError(
                f"steps= takes a list of step functions, such as steps=[fetch, merge], not "
                f"{steps!r}"
            )
        self._steps: list[_Registered | _Added] = [
            _Registered(fn, options_of(fn)) for fn in steps
        ]
        if reducers is not None and not isinstance(reducers, Mapping):
            raise TypeError(
                f"reducers= takes a mapping of keys to reducers, such as "
                f"{{'scores': reducers.append}}, not {reducers!r}"
            )
        self._reducers: list[_RegisteredReducer] = []
        for key, fn in (reducers or {}).items():
            self._add_reducer(key, fn, NOTHING, self._location)

    def __repr__(self) -> str:
        return f"<Workflow {self.name!r} with {len(self._steps)} steps>"

    @overload
    def step(self, fn: F, /) -> F: ...

    @overload
    def step(
        self,
        /,
        *,
        name: str | None = None,
        join: JoinArg = None,
        writes: WritesArg = None,
        when: object = None,
        retry: object = None,
        timeout: float | None = None,
        map: MapArg = None,
        concurrency: int | None = None,
        after: AfterArg = (),
        ask: bool = False,
        durable: bool = True,
        executor: str | None = None,
    ) -> Callable[[F], F]: ...

    def step(
        self,
        fn: F | None = None,
        /,
        *,
        name: str | None = None,
        join: JoinArg = None,
        writes: WritesArg = None,
        when: object = None,
        retry: object = None,
        timeout: float | None = None,
        map: MapArg = None,
        concurrency: int | None = None,
        after: AfterArg = (),
        ask: bool = False,
        durable: bool = True,
        executor: str | None = None,
    ) -> F | Callable[[F], F]:
        """Mark a function as a step (like :func:`step`) and add it to this workflow."""
        options = make_options(name, join, writes, when, retry, timeout, map, concurrency,
                               after, ask, durable, executor)
        if fn is not None and options == StepOptions():
            options = options_of(fn)  # a bare @wf.step keeps what @step recorded

        def register(f: F) -> F:
            self._steps.append(_Registered(f, options))
            return mark(f, options)

        return register(fn) if fn is not None else register

    def add(
        self,
        sub: Workflow,
        *,
        name: str,
        writes: str | Iterable[str] | Mapping[str, str] | None = None,
        repeat: Repeat | None = None,
        when: Guard | None = None,
        map: MapArg = None,
        concurrency: int | None = None,
        after: AfterArg = (),
    ) -> None:
        """Use the workflow ``sub`` as one step, named ``name``.

        Its inputs resolve by name in this workflow, like parameters.  ``writes``
        copies its final keys out: ``("a", "b")`` to the same names here, a mapping
        ``{"inner": "outer"}`` renaming them; without it the key ``name`` gets a
        mapping of its whole final state.  ``repeat=Repeat(...)`` runs it as a loop;
        ``when=`` guards it like any step.
        """
        if not isinstance(sub, Workflow):
            raise TypeError(f"add() takes a Workflow, not {sub!r}; use step() for functions")
        if not isinstance(name, str):
            raise TypeError(f"add() needs name= as a string, not {name!r}")
        if sub is self or self in sub._nested():
            raise ValueError(
                f"adding workflow '{sub.name}' to '{self.name}' would make '{self.name}' "
                "contain itself; to run a workflow again and again, use "
                "repeat=Repeat(...)"
            )
        if repeat is not None and not isinstance(repeat, Repeat):
            raise TypeError(f"repeat= takes Repeat(until=..., max_iterations=...), not {repeat!r}")
        make_options(name, None, None, when, None, None)  # checks when=
        if repeat is not None and repeat.until is not None:
            make_options(name, None, None, repeat.until, None, None)  # the same for until=
        mapping: tuple[tuple[str, str], ...] | None
        if writes is None:
            mapping = None
        elif isinstance(writes, str):
            mapping = ((writes, writes),)
        elif isinstance(writes, Mapping):
            mapping = tuple((str(k), str(v)) for k, v in writes.items())
        elif isinstance(writes, Iterable):
            mapping = tuple((k, k) for k in writes)
        else:
            raise TypeError(
                f"add(writes=...) takes a key, a sequence of keys, or a mapping "
                f"{{'inner': 'outer'}}, not {writes!r}"
            )
        self._steps.append(_Added(sub, name, mapping, repeat, when, call_site(1),
                                  normalize_writes(map), concurrency,
                                  normalize_writes(after) or ()))

    def _nested(self) -> set[Workflow]:
        """Every workflow added to this one, at any depth."""
        found: set[Workflow] = set()
        todo = [e.body for e in self._steps if isinstance(e, _Added)]
        while todo:
            body = todo.pop()
            if body not in found:
                found.add(body)
                todo.extend(e.body for e in body._steps if isinstance(e, _Added))
        return found

    def reducer(self, key: str, fn: Reducer, *, initial: Any = NOTHING) -> None:
        """Fold every write to ``key`` with ``fn(acc, value)``, in plan order.

        The fold starts from ``initial`` when given (the built-in ``append``,
        ``extend`` and ``merge`` start from an empty list or dict), else from the first
        write in plan order.
        """
        self._add_reducer(key, fn, initial, call_site(1))

    def _add_reducer(
        self, key: str, fn: Reducer, initial: Any, location: SourceLocation | None
    ) -> None:
        if not isinstance(key, str):
            raise TypeError(f"a reducer's key must be a string naming a state key, not {key!r}")
        if not callable(fn):
            raise TypeError(f"the reducer for key {key!r} must be callable, not {fn!r}")
        if initial is NOTHING and fn in DEFAULT_INITIAL:
            initial = DEFAULT_INITIAL[fn]()
        name = getattr(fn, "__name__", repr(fn))
        self._reducers = [r for r in self._reducers if r.key != key]
        self._reducers.append(_RegisteredReducer(key, ReducerInfo(fn, name, initial), location))

    def spec(self) -> WorkflowSpec:
        """This workflow in the compiler's IR (what ``spectra-lint`` reads from source)."""
        built: dict[int, WorkflowSpec] = {}
        for workflow in self._innermost_first():  # no recursion: any nesting depth
            built[id(workflow)] = workflow._own_spec(built)
        return built[id(self)]

    def _innermost_first(self) -> list[Workflow]:
        """This workflow and every one added to it, each once, bodies before holders."""
        order: list[Workflow] = []
        entered: set[int] = set()  # a body is entered once; its bodies are done before it
        stack: list[tuple[Workflow, bool]] = [(self, False)]
        while stack:
            current, bodies_done = stack.pop()
            if bodies_done:
                order.append(current)
                continue
            if id(current) in entered:  # reached again by another way: done already
                continue
            entered.add(id(current))
            stack.append((current, True))
            for entry in current._steps:
                if isinstance(entry, _Added) and id(entry.body) not in entered:
                    stack.append((entry.body, False))
        return order

    def _own_spec(self, bodies: Mapping[int, WorkflowSpec]) -> WorkflowSpec:
        """This workflow's spec, its sub-workflows' specs taken from ``bodies``."""
        return WorkflowSpec(
            name=self.name,
            steps=tuple(
                read_step(r.fn, r.options) if isinstance(r, _Registered)
                else _added_spec(r, bodies[id(r.body)])
                for r in self._steps
            ),
            inputs=self.inputs,
            reducers=tuple(
                ReducerSpec(r.key, r.info.name, r.info.has_initial, None, r.location)
                for r in self._reducers
            ),
            location=self._location,
        )

    def _compile(self) -> Compilation:
        return compile_workflow(self.spec())

    def check(self) -> tuple[Diagnostic, ...]:
        """Every finding (errors and warnings) without raising, in source order."""
        return self._compile().diagnostics

    def compile(self) -> Plan:
        """Check the workflow and return a runnable :class:`Plan`.

        Raises :class:`CompileError` listing every error (and warning) found.  The
        warnings of a workflow that compiles are on ``plan.diagnostics`` and are issued
        through :mod:`warnings` as :class:`SpectraWarning`, pointing at this call (so
        pytest shows them, and ``-W error`` makes them fatal).
        """
        # Reading the steps and building the plans only allocate objects that live on:
        # a collection mid-compile would walk the whole heap and free nothing.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            compilation = self._compile()
            plan = None if compilation.graph is None else build_plans(self, compilation.graph)
        finally:
            if was_enabled:
                gc.enable()
        if plan is None:
            raise CompileError(self.name, compilation.diagnostics)
        for diagnostic in compilation.warnings:
            warnings.warn(SpectraWarning(diagnostic), stacklevel=2)
        return plan


def _names_of(names: object, what: str) -> tuple[str, ...] | None:
    """``inputs=`` as a tuple of names, or a clear ``TypeError``."""
    if names is None:
        return None
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise TypeError(
            f"{what}= takes a sequence of names, such as {what}=('url',), not {names!r}"
        )
    found = tuple(names)
    for item in found:
        if not isinstance(item, str):
            raise TypeError(f"{what}= takes names (strings), and {item!r} is not one")
    return found


def _name_of(entry: _Registered | _Added) -> str:
    if isinstance(entry, _Added):
        return entry.name
    return str(entry.options.name or getattr(entry.fn, "__name__", ""))


def _added_spec(entry: _Added, body: WorkflowSpec) -> StepSpec:
    repeat = entry.repeat
    return StepSpec(
        name=entry.name,
        writes=None if entry.writes is None else entry.keys,
        writes_mapping=entry.writes,
        kind=StepKind.SUBWORKFLOW,
        location=entry.location,
        guard=read_guard(entry.when),
        body=body,
        map=entry.map,  # type: ignore[arg-type]  # SPX501 checks the elements
        concurrency=entry.concurrency,
        after=entry.after,  # type: ignore[arg-type]  # SPX005 checks the elements
        repeat=None if repeat is None else RepeatSpec(
            until_reads=() if repeat.until is None else guard_reads(repeat.until),
            max_iterations=repeat.max_iterations,
            carry=tuple(repeat.carry.items()),
            on_limit=repeat.on_limit,
        ),
    )


def build_plans(workflow: Workflow, graph: ExecutionGraph) -> Plan:
    """The plan of ``workflow``, lowered to ``graph``, and of every sub-workflow in it.

    Each sub-workflow's plan wraps the graph the compiler already lowered for it
    (``graph.bodies``): nothing is compiled again, and any nesting depth is built
    without recursion, innermost first.
    """
    # Each graph once, paired with the workflow it was lowered from.
    pairs: list[tuple[Workflow, ExecutionGraph]] = [(workflow, graph)]
    seen = {id(graph)}
    entries_of: dict[int, dict[str, _Registered | _Added]] = {}
    for holder, holder_graph in pairs:  # grows while it is walked
        entries = entries_of.get(id(holder))
        if entries is None:
            entries = entries_of[id(holder)] = _entries_by_name(holder)
        for position, body_graph in enumerate(holder_graph.bodies):
            if body_graph is not None and id(body_graph) not in seen:
                entry = entries[holder_graph.steps[position].name]
                assert isinstance(entry, _Added)
                seen.add(id(body_graph))
                pairs.append((entry.body, body_graph))
    holder_of = {id(g): w for w, g in pairs}
    plans: dict[int, Plan] = {}
    for holder_graph in _bodies_first(graph):
        holder = holder_of[id(holder_graph)]
        entries = entries_of[id(holder)]
        plans[id(holder_graph)] = build_plan(
            holder_graph,
            [entries[name] for name in holder_graph.names],
            reducers={r.key: r.info for r in holder._reducers},
            max_concurrency=holder.max_concurrency,
            diagnostics=holder_graph.diagnostics,
            bodies=plans,
        )
    return plans[id(graph)]


def _bodies_first(graph: ExecutionGraph) -> list[ExecutionGraph]:
    """``graph`` and every body graph in it, each once, every body before its holders."""
    order: list[ExecutionGraph] = []
    entered: set[int] = set()
    stack: list[tuple[ExecutionGraph, bool]] = [(graph, False)]
    while stack:
        current, bodies_done = stack.pop()
        if bodies_done:
            order.append(current)
            continue
        if id(current) in entered:
            continue
        entered.add(id(current))
        stack.append((current, True))
        stack.extend((body, False) for body in current.bodies
                     if body is not None and id(body) not in entered)
    return order


def _entries_by_name(workflow: Workflow) -> dict[str, _Registered | _Added]:
    entries: dict[str, _Registered | _Added] = {}
    for registered in workflow._steps:
        entries.setdefault(_name_of(registered), registered)
    return entries


def build_plan(
    graph: ExecutionGraph,
    entries: list[_Registered | _Added],
    *,
    reducers: Mapping[str, ReducerInfo],
    max_concurrency: int | None,
    diagnostics: tuple[Diagnostic, ...],
    bodies: Mapping[int, Plan],
) -> Plan:
    """Pair each step of the lowered graph with what runs it; ``bodies`` holds the plans
    of its sub-workflows, by ``id`` of their graphs."""
    actions: list[StepAction] = []
    for entry, body_graph in zip(entries, graph.bodies, strict=True):
        if isinstance(entry, _Added):
            assert body_graph is not None
            actions.append(StepAction(
                fn=None, guard=entry.when, body=bodies[id(body_graph)],
                repeat=entry.repeat, writes_mapping=entry.writes,
            ))
        else:
            options = entry.options
            if options.when is None and options.retry is None and options.timeout is None:
                actions.append(StepAction(entry.fn))  # the common case: only a function
                continue
            retry = options.retry if isinstance(options.retry, Retry) else None
            timeout = options.timeout
            actions.append(StepAction(
                fn=entry.fn, guard=options.when, retry=retry,
                timeout=None if timeout is None else float(timeout),  # type: ignore[arg-type]
            ))
    return Plan(
        graph=graph,
        actions=tuple(actions),
        reducers=reducers,
        max_concurrency=max_concurrency,
        diagnostics=diagnostics,
    )
