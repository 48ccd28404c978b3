"""``Workflow``: collects steps and reducers, and compiles them into a :class:`Plan`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, overload

import attrs

from compiler import (
    Compilation,
    Diagnostic,
    ReducerSpec,
    SourceLocation,
    WorkflowSpec,
    compile_workflow,
)

from ._errors import CompileError
from ._frontend import call_site, read_step
from ._plan import Plan, check_limit
from ._state import NOTHING, Reducer, ReducerInfo
from ._step import JoinArg, StepOptions, WritesArg, make_options, mark, options_of
from .reducers import DEFAULT_INITIAL

F = TypeVar("F", bound=Callable[..., Any])


@attrs.frozen
class _Registered:
    fn: Any
    options: StepOptions


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
        if isinstance(inputs, str):
            raise TypeError(
                f"inputs= must be a sequence of names, not the string {inputs!r}; "
                f"write inputs=({inputs!r},)"
            )
        self.name = name
        self.inputs: tuple[str, ...] | None = None if inputs is None else tuple(inputs)
        self.max_concurrency = check_limit(max_concurrency)
        self._location = call_site(1)
        self._steps: list[_Registered] = [_Registered(fn, options_of(fn)) for fn in steps]
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
    ) -> F | Callable[[F], F]:
        """Mark a function as a step (like :func:`step`) and add it to this workflow."""
        options = make_options(name, join, writes, when, retry, timeout)

        def register(f: F) -> F:
            self._steps.append(_Registered(f, options))
            return mark(f, options)

        return register(fn) if fn is not None else register

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
        if not callable(fn):
            raise TypeError(f"the reducer for key {key!r} must be callable, not {fn!r}")
        if initial is NOTHING and fn in DEFAULT_INITIAL:
            initial = DEFAULT_INITIAL[fn]()
        name = getattr(fn, "__name__", repr(fn))
        self._reducers = [r for r in self._reducers if r.key != key]
        self._reducers.append(_RegisteredReducer(key, ReducerInfo(fn, name, initial), location))

    def spec(self) -> WorkflowSpec:
        """This workflow in the compiler's IR (what ``spectra-lint`` reads from source)."""
        return WorkflowSpec(
            name=self.name,
            steps=tuple(read_step(r.fn, r.options) for r in self._steps),
            inputs=self.inputs,
            reducers=tuple(
                ReducerSpec(r.key, r.info.name, r.info.has_initial, None, r.location)
                for r in self._reducers
            ),
            location=self._location,
        )

    def _compile(self) -> tuple[Compilation, WorkflowSpec]:
        spec = self.spec()
        return compile_workflow(spec), spec

    def check(self) -> tuple[Diagnostic, ...]:
        """Every finding (errors and warnings) without raising, in source order."""
        return self._compile()[0].diagnostics

    def compile(self) -> Plan:
        """Check the workflow and return a runnable :class:`Plan`.

        Raises :class:`CompileError` listing every error (and warning) found; the
        warnings of a workflow that compiles are on ``plan.diagnostics``.
        """
        compilation, _ = self._compile()
        if compilation.graph is None:
            raise CompileError(self.name, compilation.diagnostics)
        graph = compilation.graph
        by_name: dict[str, Any] = {}
        for registered in self._steps:
            name = str(registered.options.name or getattr(registered.fn, "__name__", ""))
            by_name.setdefault(name, registered.fn)
        return Plan(
            graph=graph,
            functions=tuple(by_name[s.name] for s in graph.steps),
            reducers={r.key: r.info for r in self._reducers},
            max_concurrency=self.max_concurrency,
            diagnostics=compilation.diagnostics,
        )
